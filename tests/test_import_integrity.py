"""Issue 13, item 1: no silent corruption or loss on import. Each test is one reported case.

Every case ends one of two ways: the row is imported with the value the file meant, or it is in
`rejects` with its line, column and a reason that names the real problem; or the whole file is
refused with a message naming the lines, and nothing is written.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from hardtech.errors import SourceError
from hardtech.sources.mapping import parse_mapping
from hardtech.store.importer import import_file

ORG_HEADER = ["org_id", "kind", "name_en", "name_zh", "country"]


def write_csv(path: Path, header, rows, encoding="utf-8") -> Path:
    with open(path, "w", newline="", encoding=encoding) as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


def rejects(store) -> dict[int, tuple[str, str]]:
    return {line: (col, reason) for line, col, reason in
            store.con.execute("SELECT line, column_name, reason FROM rejects ORDER BY line").fetchall()}


def one_org(store, tmp_path, org_id="a1"):
    import_file(store, "organizations", write_csv(tmp_path / "o.csv", ["org_id", "kind"], [[org_id, "company"]]))


# -- encodings ----------------------------------------------------------------------------------

def test_a_file_mixing_utf8_and_gbk_lines_is_refused_with_the_lines_named(store, tmp_path):
    f = tmp_path / "mixed.csv"
    with open(f, "wb") as out:
        out.write(b"org_id,kind,name_en,name_zh,country\n")
        out.write("a1,company,A,华为技术,CN\n".encode("utf-8"))
        out.write("a2,company,B,中兴通讯,CN\n".encode("gbk"))
        out.write("a3,company,C,比亚迪,CN\n".encode("utf-8"))
    with pytest.raises(SourceError) as exc:
        import_file(store, "organizations", f)
    msg = str(exc.value)
    assert "mixes encodings" in msg and "lines 2, 4 are UTF-8" in msg and "line 3 is GBK" in msg
    assert store.count("organizations") == 0


def test_a_gbk_file_is_still_read_and_an_explicit_encoding_is_verified_per_line(store, tmp_path):
    f = write_csv(tmp_path / "gbk.csv", ORG_HEADER, [["a1", "company", "A", "华为技术", "中国"]], encoding="gbk")
    r = import_file(store, "organizations", f)
    assert r.encoding == "gb18030" and store.con.execute("SELECT name_zh FROM organizations").fetchone()[0] == "华为技术"
    with pytest.raises(SourceError, match="line 2 cannot be decoded as utf-8"):
        import_file(store, "organizations", f, encoding="utf-8")


def test_neither_utf8_nor_gbk_is_refused_not_guessed(store, tmp_path):
    f = tmp_path / "latin.csv"
    f.write_bytes(b"org_id,kind,name_en\nx1,company,Caf\xe9\xff\n")
    with pytest.raises(SourceError, match="line 2 is neither UTF-8 nor GBK"):
        import_file(store, "organizations", f)
    r = import_file(store, "organizations", f, encoding="latin-1")
    assert r.rejected == 0 and store.con.execute("SELECT name_en FROM organizations").fetchone()[0] == "Café\xff"


# -- numbers -------------------------------------------------------------------------------------

def test_special_floats_are_rejected_with_their_own_reason(store, tmp_path):
    one_org(store, tmp_path)
    rows = [["a1", 2020, "CNY", "1e309", 1], ["a1", 2019, "CNY", "NaN", 1], ["a1", 2018, "CNY", "inf", 1],
            ["a1", 2017, "CNY", "-Infinity", 1], ["a1", 2016, "CNY", 100, "NaN"], ["a1", 2015, "CNY", 100, 1]]
    f = write_csv(tmp_path / "f.csv", ["org_id", "fiscal_year", "currency", "revenue", "rd_expense"], rows)
    r = import_file(store, "financials", f)
    assert r.rejected == 5 and store.count("financials") == 1
    got = rejects(store)
    assert "too large" in got[2][1] and got[2][0] == "revenue"
    assert "not a number" in got[3][1] and "infinite" in got[4][1] and "infinite" in got[5][1]
    assert got[6][0] == "rd_expense" and "not a number" in got[6][1] and "100×" not in got[6][1]


def test_decimal_comma_is_refused_by_default_and_read_when_asked(store, tmp_path):
    one_org(store, tmp_path)
    header = ["org_id", "fiscal_year", "currency", "revenue", "employees"]
    f = write_csv(tmp_path / "f.csv", header, [["a1", 2020, "EUR", "1.234,5", "1.200"],
                                               ["a1", 2019, "EUR", "1,234.5", "1,200"],
                                               ["a1", 2018, "EUR", "1 234 567", "12"]])
    r = import_file(store, "financials", f)
    assert r.rejected == 1 and "decimal comma" in rejects(store)[2][1] and "--decimal comma" in rejects(store)[2][1]
    vals = dict(store.con.execute("SELECT fiscal_year, revenue FROM financials").fetchall())
    assert vals == {2019: 1234.5, 2018: 1234567.0}  # never 1.2345
    g = write_csv(tmp_path / "g.csv", header, [["a1", 2017, "EUR", "1.234,5", "1.200"],
                                               ["a1", 2016, "EUR", "1,234.5", "7"]])
    r = import_file(store, "financials", g, decimal="comma")
    assert r.rejected == 1  # 1,234.5 is now the foreign notation
    row = store.con.execute("SELECT revenue, employees FROM financials WHERE fiscal_year = 2017").fetchone()
    assert row == (1234.5, 1200)


def test_about_one_hundred_million_is_kept_as_approximate(store, tmp_path):
    one_org(store, tmp_path)
    f = write_csv(tmp_path / "r.csv", ["round_id", "org_id", "date", "stage", "amount"],
                  [["r1", "a1", "2021-01-05", "A轮", "约1亿元"], ["r2", "a1", "2022-01-05", "B轮", "2亿元"]])
    assert import_file(store, "funding_rounds", f).rejected == 0
    got = {r[0]: r[1:] for r in store.con.execute(
        "SELECT round_id, amount, amount_approx, amount_text FROM funding_rounds").fetchall()}
    assert got == {"r1": (1e8, True, "约1亿元"), "r2": (2e8, False, "2亿元")}
    # a column with no place for "about" refuses it rather than storing an exact-looking figure
    g = write_csv(tmp_path / "f.csv", ["org_id", "fiscal_year", "currency", "revenue"], [["a1", 2020, "CNY", "约1亿"]])
    r = import_file(store, "financials", g)
    assert r.rejected == 1 and "approximate" in r.rejects[0]["reason"]


# -- re-import through a mapping -----------------------------------------------------------------

def test_reimport_through_a_mapping_never_blanks_a_column_the_file_does_not_carry(store, tmp_path):
    import_file(store, "organizations", write_csv(tmp_path / "o.csv", ["org_id", "kind", "name_en", "aliases"],
                                                  [["c1", "company", "Huawei", "HW|Huawei Tech"]]))
    zh = parse_mapping({"name": "zh", "targets": {"organizations": {"columns": {
        "org_id": "id", "name_zh": "中文名", "name_en": "英文名", "aliases": "别名"}}}})
    f = write_csv(tmp_path / "zh.csv", ["id", "中文名", "英文名", "别名"], [["c1", "华为", "", ""]])
    r = import_file(store, "organizations", f, mapping=zh)
    assert r.targets[0].updated == 1
    row = store.con.execute("SELECT kind, name_en, name_zh, aliases FROM organizations").fetchone()
    assert row == ("company", "Huawei", "华为", ["HW", "Huawei Tech"])
    assert import_file(store, "organizations", f, mapping=zh).targets[0].unchanged == 1  # and it is idempotent


def test_a_new_currency_replaces_every_money_column_of_the_row(store, tmp_path):
    one_org(store, tmp_path)
    h = ["org_id", "fiscal_year", "currency", "revenue", "rd_expense"]
    import_file(store, "financials", write_csv(tmp_path / "a.csv", h, [["a1", 2020, "CNY", 700, 70]]), source="s")
    import_file(store, "financials", write_csv(tmp_path / "b.csv", h[:4], [["a1", 2020, "USD", 100]]), source="s")
    assert store.con.execute("SELECT currency, revenue, rd_expense FROM financials").fetchone() == ("USD", 100, None)


# -- countries, characters, ids ------------------------------------------------------------------

def test_countries_must_be_iso_3166(store, tmp_path):
    rows = [["z1", "company", "Z", "", "ZZZ"], ["z2", "company", "A", "", "Atlantis"], ["z3", "company", "Q", "", "zz"],
            ["ok1", "company", "U", "", "USA"], ["ok2", "company", "D", "", "DEU"], ["ok3", "company", "K", "", "Kenya"],
            ["ok4", "company", "C", "", "中国"], ["ok5", "company", "M", "", "Minnesota"], ["ok6", "company", "b", "", "br"]]
    r = import_file(store, "organizations", write_csv(tmp_path / "c.csv", ORG_HEADER, rows))
    got = rejects(store)
    assert sorted(got) == [2, 3, 4] and all(c == "country" and "ISO 3166" in why for c, why in got.values())
    assert dict(store.con.execute("SELECT org_id, country FROM organizations").fetchall()) == {
        "ok1": "US", "ok2": "DE", "ok3": "KE", "ok4": "CN", "ok5": "US", "ok6": "BR"}
    assert r.rejected == 3


def test_every_shipped_country_alias_is_an_iso_code():
    from hardtech.sources.countries import country_aliases, iso_codes

    assert len(iso_codes()) == 249
    assert {code for _, code in country_aliases()} <= iso_codes()


@pytest.mark.parametrize("bad,named", [("Evil\x1b[31mRed", "U+001B"), ("RLO\u202eabc", "U+202E"), ("nul\x00byte", "U+0000"),
                                       ("line\nbreak", "U+000A"), ("c1\x85ctl", "U+0085"), ("iso\u2066late", "U+2066")])
def test_control_characters_are_rejected_naming_the_character(store, tmp_path, bad, named):
    f = write_csv(tmp_path / "c.csv", ["org_id", "kind", "name_en", "description_en"],
                  [["x1", "company", bad, "fine"], ["x2", "company", "Good", "two\nlines are fine in prose"]])
    r = import_file(store, "organizations", f)
    assert r.rejected == 1 and r.rejects[0]["line"] == 2 and r.rejects[0]["column_name"] == "name_en"
    assert named in r.rejects[0]["reason"]
    assert store.con.execute("SELECT org_id FROM organizations").fetchall() == [("x2",)]


def test_rejected_control_characters_never_reach_the_terminal(tmp_path, db):
    from typer.testing import CliRunner

    from hardtech.presentation.cli.app import app

    f = write_csv(tmp_path / "c.csv", ["org_id", "kind", "name_en"], [["x1", "company", "Evil\x1b[31mRed\u202e"]])
    runner = CliRunner()
    res = runner.invoke(app, ["import", "organizations", str(f), "--db", str(db)])
    assert res.exit_code == 1 and "\x1b" not in res.output and "\u202e" not in res.output
    res = runner.invoke(app, ["rejects", "--db", str(db)])
    assert res.exit_code == 0 and "\x1b" not in res.output and "\u202e" not in res.output
    assert "\\x1b" in res.output  # shown visibly, not dropped


def test_an_id_of_100000_characters_is_rejected_with_the_limit(store, tmp_path):
    f = write_csv(tmp_path / "i.csv", ["org_id", "kind"], [["x" * 100_000, "company"], ["ok", "company"]])
    r = import_file(store, "organizations", f)
    assert r.rejected == 1 and "100,000 characters" in r.rejects[0]["reason"] and "200" in r.rejects[0]["reason"]
    assert len(r.rejects[0]["value"]) < 2_100  # the value is shown cut, the whole row is in row_json
    assert store.con.execute("SELECT org_id FROM organizations").fetchall() == [("ok",)]


# -- crashes and hangs (item 2) ------------------------------------------------------------------

def test_a_cell_over_128_kib_is_a_message_not_a_traceback(store, tmp_path):
    f = write_csv(tmp_path / "big.csv", ["org_id", "kind", "name_en", "description_en"],
                  [["x1", "company", "a" * 140_000, "d"], ["x2", "company", "ok", "b" * 140_000]])
    r = import_file(store, "organizations", f)
    assert r.rejected == 2
    reasons = {x["column_name"]: x["reason"] for x in r.rejects}
    assert "140,000 characters" in reasons["name_en"] and "2,000" in reasons["name_en"]
    assert "100,000" in reasons["description_en"]


def test_a_100000_column_header_is_refused_at_once(store, tmp_path):
    import time

    f = tmp_path / "wide.csv"
    f.write_text(",".join(f"c{i}" for i in range(100_000)) + "\n" + ",".join("1" for _ in range(100_000)) + "\n")
    t = time.perf_counter()
    with pytest.raises(SourceError, match="100,000 columns; the limit is 2,000"):
        import_file(store, "organizations", f)
    assert time.perf_counter() - t < 5


def test_ragged_rows_are_rejected_with_their_line_and_the_rest_imported(store, tmp_path):
    f = tmp_path / "r.csv"
    f.write_text('org_id,kind,name_en\na,company,A\nb,company\nc,company,C,extra\nd,company,"two\nlines"\n'
                 'e,company,E\n', encoding="utf-8")
    r = import_file(store, "organizations", f)
    got = rejects(store)
    assert sorted(got) == [3, 4, 5] and "fewer cells" in got[3][1] and "more cells" in got[4][1]
    assert "U+000A" in got[5][1]  # a line break inside a name
    assert [x[0] for x in store.con.execute("SELECT org_id, source_line FROM organizations ORDER BY 1").fetchall()] \
        == ["a", "e"]
    assert store.con.execute("SELECT source_line FROM organizations WHERE org_id = 'e'").fetchone()[0] == 6
    assert r.targets[0].rows_read == 5


def test_parquet_with_a_nested_column_is_one_line_message(tmp_path):
    """A Parquet column Arrow cannot turn into text (a struct) was a raw ArrowNotImplementedError."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from hardtech.sources.readers import read_table

    path = tmp_path / "nested.parquet"
    pq.write_table(pa.table({"org_id": ["a1"], "extra": pa.array([{"x": 1}])}), path)
    with pytest.raises(SourceError, match=r"nested.parquet: cannot read as parquet: Unsupported cast") as info:
        read_table(path)
    assert "\n" not in str(info.value)


def test_patent_codes_at_any_level_are_kept_and_others_rejected(store, tmp_path):
    """A subclass alone (`B29C`, as WIPS exports give it) is an IPC symbol, not a fault; `B2` is none."""
    path = write_csv(tmp_path / "p.csv", ["publication_number", "ipc_codes"],
                     [["US1", "B29C|B33Y 10/00"], ["US2", "G06N0003|G06"], ["US3", "B2|G06N3/08"]])
    r = import_file(store, "patents", path)
    assert dict(store.con.execute("SELECT publication_number, ipc_codes FROM patents").fetchall()) == {
        "US1": ["B29C", "B33Y10/00"], "US2": ["G06N3", "G06"]}
    assert r.rejected == 1 and rejects(store)[4][0] == "ipc_codes" and "'B2'" in rejects(store)[4][1]


def test_encoding_and_decimal_are_refused_with_a_connector(tmp_path):
    """A connector reads its source's files as the source writes them: --encoding/--decimal would be ignored."""
    from hardtech.errors import UsageError
    from hardtech.services import import_file as service_import

    with pytest.raises(UsageError, match="--encoding and --decimal are for imports through a mapping"):
        service_import(tmp_path / "s.duckdb", "auto", tmp_path / "companyfacts.zip", mapping="sec_companyfacts",
                       encoding="gbk")
