"""Import reading (`sources/readers.py`) and merging (`store/importer.py`): every file format gives the same
rows, every record the reader cannot take is refused with its line and the real reason, and a file that
cannot be read as a whole names why.

Written from the mutation run of `import` (docs/testing.md): each test states one promise over every
format, line position or case it applies to, not one example.
"""

from __future__ import annotations

import hashlib
import json

import pytest

from hardtech.errors import SourceError
from hardtech.sources.readers import file_sha256, json_objects, read_table

# ------------------------------------------------------------------------------------------ JSON Lines


def test_json_lines_give_every_object_with_its_own_line_number_and_skip_blank_lines():
    lines = ['{"a": 1}', "", "   ", '{"b": "x"}', '{"a": null}']
    assert list(json_objects(lines, "f.jsonl")) == [(1, {"a": 1}), (4, {"b": "x"}), (5, {"a": None})]


@pytest.mark.parametrize("bad, why", [("[1, 2]", "is not a JSON object"), ('"text"', "is not a JSON object"),
                                      ("{oops", "is not valid JSON (Expecting property name enclosed in double "
                                                "quotes)"), ("{} {}", "is not valid JSON (Extra data)")])
@pytest.mark.parametrize("at", [1, 2, 4])
def test_a_json_line_that_is_no_object_is_refused_naming_its_line(bad, why, at):
    lines = ['{"a": 1}'] * 5
    lines[at - 1] = bad
    with pytest.raises(SourceError) as e:
        list(json_objects(lines, "f.jsonl"))
    assert str(e.value) == f"f.jsonl: line {at} {why}"


def test_a_json_line_over_the_limit_is_refused_at_the_limit_not_before():
    assert list(json_objects(['{"a": "xx"}'], "f.jsonl", max_bytes=11)) == [(1, {"a": "xx"})]
    with pytest.raises(SourceError) as e:
        list(json_objects(['{}', '{"a": "xxx"}'], "f.jsonl", max_bytes=11))
    assert str(e.value) == "f.jsonl: line 2 is longer than the 11 bytes limit for a row"
    assert list(json_objects(['{"a": "' + "x" * 10_000 + '"}'], "f.jsonl")) != []  # no limit given: none


def test_a_json_lines_file_reads_every_key_in_first_seen_order_as_text(tmp_path):
    f = tmp_path / "o.jsonl"
    rows = [{"org_id": "a", "founded": 2001}, {}, {"org_id": "b", "tags": ["x", 2], "ok": True},
            {"tags": "solo", "org_id": "c", "founded": None}]
    f.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    t = read_table(f).table
    assert t.column_names == ["org_id", "founded", "tags", "ok", "__line"]
    got = t.to_pylist()
    assert [r["org_id"] for r in got] == ["a", "", "b", "c"]  # a missing or null scalar is an empty cell
    assert [r["founded"] for r in got] == ["2001", "", "", ""]
    assert [r["tags"] for r in got] == [None, None, ["x", "2"], ["solo"]]  # lists of text; a scalar beside lists
    assert [r["ok"] for r in got] == ["", "", "True", ""]
    assert [r["__line"] for r in got] == [2, 3, 4, 5]


def test_an_empty_json_lines_file_of_blank_lines_has_no_columns(tmp_path):
    f = tmp_path / "blank.jsonl"
    f.write_text("\n\n  \n", encoding="utf-8")
    assert read_table(f).table.column_names == ["__line"]


# ------------------------------------------------------------------------------------------ whole files


def test_the_file_hash_is_the_sha256_of_every_byte(tmp_path):
    for size in (1, (1 << 20) - 1, 1 << 20, (1 << 20) + 7, 3 << 20):
        f = tmp_path / f"b{size}"
        data = bytes(range(256)) * (size // 256) + b"z" * (size % 256)
        f.write_bytes(data)
        assert file_sha256(f) == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("first, second", [(b"\r\n", b"\n"), (b"\n", b"\r\n")])
def test_a_csv_mixing_line_endings_names_the_first_line_of_each(tmp_path, first, second):
    f = tmp_path / "mixed.csv"
    f.write_bytes(b"org_id,name_en" + first + b"a,A" + first + b"b,B" + second + b"c,C" + second)
    with pytest.raises(SourceError) as e:
        read_table(f)
    crlf, lf = (1, 3) if first == b"\r\n" else (3, 1)
    assert str(e.value) == (f"mixed.csv: the file mixes line endings: line {crlf} ends in CRLF, line {lf} in LF; "
                            "re-save it with one kind of line ending")


CR_FILES = {  # each holds a bare CR inside an unquoted cell on line 3 (and again on line 5)
    "lf": b"org_id,name_en\na,A\nb,B\rX\nc,C\nd,D\rY\n",
    "crlf, last line unterminated": b"org_id,name_en\r\na,A\r\nb,B\rX\r\nc,C\r\nd,D\rY\r\ne,E",
    "cr before a space": b"org_id,name_en\na,A\nb,B\r \nc,C\nd,D\r \n",
}


@pytest.mark.parametrize("case", CR_FILES)
def test_a_carriage_return_inside_an_unquoted_cell_names_its_first_line(tmp_path, case):
    f = tmp_path / "cr.csv"
    f.write_bytes(CR_FILES[case])
    with pytest.raises(SourceError) as e:
        read_table(f)
    assert str(e.value) == ("cr.csv: line 3 holds a carriage return (CR) outside quotes, which ends a line in CSV; "
                            "quote that cell; re-save it with one kind of line ending")


# ------------------------------------------------------------------------------------------ every format alike


def test_a_parquet_file_of_any_column_type_is_read_as_text(tmp_path):
    import datetime as dt

    import pyarrow as pa
    import pyarrow.parquet as pq

    t = pa.table({"s": pa.array(["x", None]), "i": pa.array([7, None], pa.int64()), "f": pa.array([1.5, 2.0]),
                  "b": pa.array([True, False]), "d": pa.array([dt.date(2020, 1, 2), None]),
                  "l": pa.array([[1, 2], None], pa.list_(pa.int64())),
                  "ll": pa.array([["a"], []], pa.large_list(pa.string()))})
    pq.write_table(t, tmp_path / "x.parquet")
    got = read_table(tmp_path / "x.parquet").table
    assert {f.name: f.type for f in got.schema} == {
        "s": pa.string(), "i": pa.string(), "f": pa.string(), "b": pa.string(), "d": pa.string(),
        "l": pa.list_(pa.string()), "ll": pa.list_(pa.string()), "__line": pa.int64()}
    assert got.drop(["__line"]).to_pylist() == [
        {"s": "x", "i": "7", "f": "1.5", "b": "true", "d": "2020-01-02", "l": ["1", "2"], "ll": ["a"]},
        {"s": None, "i": None, "f": "2", "b": "false", "d": None, "l": None, "ll": []}]


def test_an_excel_sheet_is_read_as_written_text_by_name_or_number(tmp_path):
    import pandas as pd

    f = tmp_path / "x.xlsx"
    with pd.ExcelWriter(f) as w:
        pd.DataFrame({"org_id": ["a"], "n": [1]}).to_excel(w, sheet_name="first", index=False)
        pd.DataFrame({"org_id": ["000720", "NA", None], "founded": [2016, None, 2001],
                      "name_en": ["n/a", "null", "Beta"]}).to_excel(w, sheet_name="orgs", index=False)
    assert read_table(f).table.drop(["__line"]).to_pylist() == [{"org_id": "a", "n": "1"}]
    for sheet in ("orgs", 1):
        got = read_table(f, sheet=sheet).table
        assert got.column_names == ["org_id", "founded", "name_en", "__line"]
        assert got.drop(["__line"]).to_pylist() == [  # NA and n/a stay words; an empty cell is empty
            {"org_id": "000720", "founded": "2016", "name_en": "n/a"},
            {"org_id": "NA", "founded": "", "name_en": "null"},
            {"org_id": "", "founded": "2001", "name_en": "Beta"}]


def test_a_json_lines_file_in_any_detected_encoding_reads_its_characters(tmp_path):
    for enc in ("utf-8", "gbk", "utf-16"):
        f = tmp_path / f"{enc}.jsonl"
        f.write_bytes('{"org_id": "z1", "name_zh": "中芯国际集成电路制造有限公司"}\n'.encode(enc))
        assert read_table(f).table.column("name_zh").to_pylist() == ["中芯国际集成电路制造有限公司"], enc


def test_a_json_lines_file_names_itself_and_the_row_limit_in_a_refusal(tmp_path):
    from hardtech.sources.limits import MAX_ROW_BYTES

    f = tmp_path / "bad.jsonl"
    f.write_text('{"a": 1}\n[2]\n', encoding="utf-8")
    with pytest.raises(SourceError, match=r"^bad\.jsonl: line 2 is not a JSON object$"):
        read_table(f)
    f.write_text('{"a": 1}\n{"a": "' + "x" * MAX_ROW_BYTES + '"}\n', encoding="utf-8")
    with pytest.raises(SourceError, match=r"^bad\.jsonl: line 2 is longer than the .* limit for a row$"):
        read_table(f)


def test_a_json_list_column_is_a_list_of_text_even_when_every_list_is_empty(tmp_path):
    import pyarrow as pa

    f = tmp_path / "l.jsonl"
    f.write_text('{"org_id": "a", "aliases": []}\n{"org_id": "b", "aliases": []}\n', encoding="utf-8")
    t = read_table(f).table
    assert t.schema.field("aliases").type == pa.list_(pa.string())
    assert t.schema.field("org_id").type == pa.string()


# ------------------------------------------------------------------------------------------ merging a re-import


def _csv(path, rows: list[dict]):
    import csv

    header = sorted({k for r in rows for k in r})
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, header)
        w.writeheader()
        w.writerows(rows)
    return path


@pytest.fixture
def org_store(store, tmp_path):
    from hardtech.store.importer import import_file

    assert import_file(store, "organizations", _csv(tmp_path / "o.csv", [{"org_id": "o1", "kind": "startup"}])).rejected == 0
    return store


def _one(store, sql):
    cur = store.con.execute(sql)
    return dict(zip([d[0] for d in cur.description], cur.fetchone()))


def test_a_new_currency_replaces_only_the_money_columns_and_keeps_the_others(org_store, tmp_path):
    from hardtech.store.importer import import_file

    first = {"org_id": "o1", "fiscal_year": "2020", "currency": "CNY", "revenue": "700", "rd_expense": "70",
             "capex": "5", "employees": "50", "rd_staff": "9", "note": "kept"}
    import_file(org_store, "financials", _csv(tmp_path / "a.csv", [first]), source="s")
    again = {"org_id": "o1", "fiscal_year": "2020", "currency": "USD", "revenue": "100", "employees": "",
             "rd_staff": "", "note": ""}
    r = import_file(org_store, "financials", _csv(tmp_path / "b.csv", [again]), source="s")
    assert r.targets[0].updated == 1
    row = _one(org_store, "SELECT currency, revenue, rd_expense, capex, employees, rd_staff, note FROM financials")
    assert row == {"currency": "USD", "revenue": 100, "rd_expense": None, "capex": None, "employees": 50,
                   "rd_staff": 9, "note": "kept"}
    same = {"org_id": "o1", "fiscal_year": "2020", "currency": "USD", "revenue": "", "employees": "60"}
    import_file(org_store, "financials", _csv(tmp_path / "c.csv", [same]), source="s")
    row = _one(org_store, "SELECT currency, revenue, employees FROM financials")
    assert row == {"currency": "USD", "revenue": 100, "employees": 60}  # the same currency: an empty cell keeps


ROUND = {"round_id": "r1", "org_id": "o1", "date": "2020-05", "stage": "A轮", "amount": "1.5亿元",
         "investors": "红杉中国"}
AMOUNT_GROUP = ("amount", "amount_low", "amount_high", "disclosed", "amount_approx", "currency", "amount_usd",
                "fx_rate", "fx_rate_date")


def _round(store):
    return _one(store, "SELECT * EXCLUDE (source_name, source_licence, source_file, source_line, import_id, "
                       "imported_at, content_hash, synthetic) FROM funding_rounds WHERE round_id = 'r1'")


def test_a_rounds_columns_that_belong_together_are_replaced_together_or_kept_together(org_store, tmp_path):
    from hardtech.store.importer import import_file

    import_file(org_store, "funding_rounds", _csv(tmp_path / "a.csv", [ROUND]))
    before = _round(org_store)
    assert (before["amount"], before["currency"], before["date_precision"], before["stage"]) == (1.5e8, "CNY",
                                                                                                 "month", "a")
    # the key only, or a currency without an amount: every group is kept as it was
    for i, extra in enumerate([{}, {"currency": "EUR"}, {"amount_low": "", "fx_rate": ""}]):
        import_file(org_store, "funding_rounds", _csv(tmp_path / f"k{i}.csv", [{"round_id": "r1", "org_id": "o1"}
                                                                              | extra]))
        assert _round(org_store) == before, extra
    # a new amount replaces its whole group (the range and the conversion too), nothing else
    import_file(org_store, "funding_rounds", _csv(tmp_path / "b.csv", [{"round_id": "r1", "org_id": "o1",
                                                                        "amount": "$2-3M"}]))
    after = _round(org_store)
    assert (after["amount"], after["amount_low"], after["amount_high"], after["currency"]) == (None, 2e6, 3e6, "USD")
    assert after["amount_usd"] is None and after["fx_rate"] is None and after["fx_rate_date"] is None
    assert {k: after[k] for k in after if k not in AMOUNT_GROUP + ("amount_text",)} == \
        {k: before[k] for k in before if k not in AMOUNT_GROUP + ("amount_text",)}
    # a new date replaces its precision; a new stage text its stage
    import_file(org_store, "funding_rounds", _csv(tmp_path / "c.csv", [{"round_id": "r1", "org_id": "o1",
                                                                        "date": "2021-03-04", "stage": "B轮"}]))
    last = _round(org_store)
    assert (last["date"].isoformat(), last["date_precision"], last["stage"], last["stage_raw"]) == (
        "2021-03-04", "day", "b", "B轮")
    assert (last["amount_low"], last["currency"]) == (2e6, "USD")


def test_a_round_in_usd_is_its_own_usd_amount_at_rate_one(org_store, tmp_path):
    from hardtech.store.importer import import_file

    rows = [{"round_id": "u1", "org_id": "o1", "date": "2020-05-03", "amount": "$5M"},
            {"round_id": "u2", "org_id": "o1", "date": "2020-05-03", "amount": "500万美元"}]
    import_file(org_store, "funding_rounds", _csv(tmp_path / "u.csv", rows))
    got = org_store.con.execute("SELECT round_id, amount, currency, amount_usd, fx_rate, fx_rate_date "
                                "FROM funding_rounds ORDER BY round_id").fetchall()
    assert [g[:5] for g in got] == [("u1", 5e6, "USD", 5e6, 1.0), ("u2", 5e6, "USD", 5e6, 1.0)]
    assert all(g[5] is not None for g in got)


def test_the_import_summary_counts_every_row_read_once_under_its_fate(store, tmp_path):
    from hardtech.sources.mapping import parse_mapping
    from hardtech.store.importer import import_file

    rows = [{"org_id": "a", "kind": "startup"}, {"org_id": "b", "kind": "nonsense"}, {"org_id": "c", "kind": "company"}]
    f = _csv(tmp_path / "o.csv", rows)
    first = import_file(store, "organizations", f).summary_rows()
    assert first == [{"table": "organizations", "read": 3, "inserted": 2, "updated": 0, "unchanged": 0, "merged": 0,
                      "rejected": 1}]
    rows[2]["kind"] = "university"
    again = import_file(store, "organizations", _csv(tmp_path / "o2.csv", rows)).summary_rows()
    assert again == [{"table": "organizations", "read": 3, "inserted": 0, "updated": 1, "unchanged": 1, "merged": 0,
                      "rejected": 1}]
    distinct = parse_mapping({"targets": {"organizations": {"columns": {"org_id": "org_id", "kind": "kind"},
                                                            "distinct": True}}})
    f = _csv(tmp_path / "d.csv", [{"org_id": "d", "kind": "startup"}, {"org_id": "d", "kind": "company"}])
    merged = import_file(store, "organizations", f, mapping=distinct).summary_rows()
    assert merged == [{"table": "organizations", "read": 2, "inserted": 1, "updated": 0, "unchanged": 0, "merged": 1,
                       "rejected": 0}]


def test_detect_encoding_decides_the_whole_file_and_verifies_a_given_encoding(tmp_path):
    from hardtech.sources.readers import detect_encoding

    gbk, utf8 = tmp_path / "g.csv", tmp_path / "u.csv"
    gbk.write_bytes("a,b\n中芯,国际\n".encode("gbk"))
    utf8.write_text("a,b\n中芯,国际\n", encoding="utf-8")
    assert (detect_encoding(utf8), detect_encoding(str(gbk))) == ("utf-8", "gb18030")  # a str path works too
    assert detect_encoding(gbk, "gb18030") == "gb18030"
    with pytest.raises(SourceError, match=r"^u\.csv: not gbk text: line 2 cannot be decoded as gbk$"):
        detect_encoding(utf8, "gbk")


def test_every_record_a_csv_reader_cannot_split_is_refused_with_its_line_and_why(tmp_path):
    f = tmp_path / "r.csv"
    f.write_text('a,b,c\n1,2,3\n1,2\n1,2,3,4\n5,6,7\n1\n"x,8,9\n', encoding="utf-8")
    for columns in (None, {"b"}, set()):  # reading fewer columns refuses the same records
        r = read_table(f, columns=columns)
        assert r.rejects == (
            (3, None, "1,2", "the row has fewer cells than the header (expected 3, found 2)"),
            (4, None, "1,2,3,4", "the row has more cells than the header (expected 3, found 4)"),
            (6, None, "1", "the row has fewer cells than the header (expected 3, found 1)"),
            (7, None, '"x,8,9\n', "a quote in the middle of an unquoted cell, or a quoted cell that is not closed "
                                  "(it then runs to the end of the file)")), columns
        assert r.table.column("__line").to_pylist() == [2, 5]
        assert r.header == ("a", "b", "c")
        want = ["a", "b", "c"] if columns is None else sorted(columns)
        assert r.table.column_names == want + ["__line"], columns


def test_a_refused_records_value_is_its_first_200_characters(tmp_path):
    f = tmp_path / "long.csv"
    long = "x" * 150 + "," + "y" * 150
    f.write_text(f"a,b,c\n{long}\n1,2,3\n", encoding="utf-8")
    (line, col, value, why), = read_table(f).rejects
    assert (line, col, value) == (2, None, long[:200])
    assert why == "the row has fewer cells than the header (expected 3, found 2)"
