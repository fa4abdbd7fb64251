"""The importer's promises: bad rows kept aside with line and reason, idempotent, atomic, encodings."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from hardtech.errors import MappingError, SourceError, UsageError
from hardtech.sources.mapping import parse_mapping
from hardtech.store.connection import Store
from hardtech.store.importer import import_file

ORG_HEADER = ["org_id", "kind", "name_en", "name_zh", "country", "city", "founded"]


def write_csv(path: Path, header, rows, encoding="utf-8"):
    with open(path, "w", newline="", encoding=encoding) as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


def orgs_file(tmp_path, n=100):
    rows = [[f"org{i}", "company", f"Org {i}", f"机构{i}", "CN", "Xi'an", 2000 + i % 20] for i in range(n)]
    return write_csv(tmp_path / "orgs.csv", ORG_HEADER, rows)


def fin_file(tmp_path, rows, name="fin.csv"):
    header = ["org_id", "fiscal_year", "currency", "revenue", "rd_expense", "employees", "rd_staff"]
    return write_csv(tmp_path / name, header, rows)


def test_organizations_import_and_reimport_adds_nothing(store, tmp_path):
    f = orgs_file(tmp_path)
    r1 = import_file(store, "organizations", f)
    assert r1.targets[0].inserted == 100 and r1.rejected == 0
    r2 = import_file(store, "organizations", f)
    assert r2.targets[0].inserted == 0 and r2.targets[0].unchanged == 100
    assert store.count("organizations") == 100
    row = store.con.execute("SELECT name_zh, founded, source_name, synthetic, content_hash FROM organizations "
                            "WHERE org_id='org7'").fetchone()
    assert row[0] == "机构7" and row[1] == 2007 and row[2] == "orgs.csv" and row[3] is False and len(row[4]) == 16


def test_changed_row_is_updated_not_duplicated(store, tmp_path):
    import_file(store, "organizations", orgs_file(tmp_path, 3))
    write_csv(tmp_path / "orgs2.csv", ORG_HEADER, [["org1", "company", "Org One Renamed", "", "CN", "Xi'an", 2001]])
    r = import_file(store, "organizations", tmp_path / "orgs2.csv")
    assert (r.targets[0].updated, r.targets[0].inserted) == (1, 0)
    assert store.count("organizations") == 3
    assert store.con.execute("SELECT name_en FROM organizations WHERE org_id='org1'").fetchone()[0] == "Org One Renamed"


def test_five_bad_rows_among_100(store, tmp_path):
    import_file(store, "organizations", orgs_file(tmp_path))
    rows = [[f"org{i}", 2020, "CNY", 1000.0 + i, 100.0, 50, 10] for i in range(100)]
    rows[10][4] = -5  # negative R&D
    rows[20][3] = 0.5  # revenue below R&D by 100×
    rows[30][1] = 2999  # a year in the future
    rows[40][3] = "lots"  # not a number
    rows[50][0] = "nobody"  # unknown organisation
    f = fin_file(tmp_path, rows)
    r = import_file(store, "financials", f)
    assert r.targets[0].inserted == 95
    assert r.rejected == 5
    assert store.count("financials") == 95
    rej = store.con.execute("SELECT line, column_name, value, reason FROM rejects ORDER BY line").fetchall()
    assert [x[0] for x in rej] == [12, 22, 32, 42, 52]  # header is line 1
    cols = [x[1] for x in rej]
    assert cols == ["rd_expense", "revenue", "fiscal_year", "revenue", "org_id"]
    reasons = " | ".join(x[3] for x in rej)
    assert "negative" in reasons and "100×" in reasons and "future" in reasons and "unknown organisation" in reasons
    # the full source row is kept for fixing
    assert store.con.execute("SELECT row_json FROM rejects WHERE line = 42").fetchone()[0].count("lots") == 1
    # re-running the same import neither duplicates good rows nor rejects
    import_file(store, "financials", f)
    assert store.count("financials") == 95 and store.count("rejects") == 5


def test_cli_names_rejects_and_exits_1(tmp_path, db):
    from typer.testing import CliRunner

    from hardtech.presentation.cli.app import app

    runner = CliRunner()
    f = orgs_file(tmp_path, 10)
    res = runner.invoke(app, ["import", "organizations", str(f), "--db", str(db)])
    assert res.exit_code == 0, res.output
    rows = [[f"org{i}", 2020, "CNY", 1000.0, 10.0, 5, 1] for i in range(10)]
    rows[3][4] = -1
    res = runner.invoke(app, ["import", "financials", str(fin_file(tmp_path, rows)), "--db", str(db)])
    assert res.exit_code == 1
    assert "line 5" in res.output and "rd_expense" in res.output
    res = runner.invoke(app, ["import", "financials", str(fin_file(tmp_path, rows, "f2.csv")), "--db", str(db),
                              "--allow-rejects"])
    assert res.exit_code == 0


def test_duplicate_keys_in_file_are_rejected(store, tmp_path):
    rows = [["a", "company", "A", "", "CN", "", ""], ["b", "company", "B", "", "CN", "", ""],
            ["a", "company", "A again", "", "CN", "", ""]]
    r = import_file(store, "organizations", write_csv(tmp_path / "d.csv", ORG_HEADER, rows))
    assert r.targets[0].inserted == 2 and r.rejected == 1
    assert "also on line 2" in r.rejects[0]["reason"]


def test_gbk_file_imports_with_right_characters(store, tmp_path):
    rows = [["xian-optics", "institute", "", "中国科学院西安光学精密机械研究所", "中国", "西安", "1962"],
            ["longi", "company", "LONGi", "隆基绿能科技股份有限公司", "中国", "西安", "2000"]]
    f = write_csv(tmp_path / "gbk.csv", ORG_HEADER, rows, encoding="gbk")
    with pytest.raises(UnicodeDecodeError):
        f.read_text(encoding="utf-8")
    r = import_file(store, "organizations", f)
    assert r.encoding == "gb18030" and r.targets[0].inserted == 2
    got = dict(store.con.execute("SELECT org_id, name_zh FROM organizations").fetchall())
    assert got["xian-optics"] == "中国科学院西安光学精密机械研究所"
    assert store.con.execute("SELECT country FROM organizations WHERE org_id='longi'").fetchone()[0] == "CN"


def test_utf8_bom_and_tsv(store, tmp_path):
    f = tmp_path / "bom.tsv"
    f.write_text("org_id\tname_en\tkind\nx1\tAlpha\tcompany\n", encoding="utf-8-sig")
    r = import_file(store, "organizations", f)
    assert r.targets[0].inserted == 1
    assert store.con.execute("SELECT name_en FROM organizations").fetchone()[0] == "Alpha"


def test_parquet_jsonl_and_excel(store, tmp_path):
    import pandas as pd

    df = pd.DataFrame({"org_id": ["p1", "p2"], "name_en": ["P One", "P Two"], "kind": ["company", "startup"],
                       "aliases": ["P1|PO", ""]})
    df.to_parquet(tmp_path / "o.parquet")
    df.to_json(tmp_path / "o.jsonl", orient="records", lines=True, force_ascii=False)
    df.assign(org_id=["x1", "x2"]).to_excel(tmp_path / "o.xlsx", index=False)
    for name in ("o.parquet", "o.jsonl", "o.xlsx"):
        r = import_file(store, "organizations", tmp_path / name)
        assert r.rejected == 0, (name, r.rejects)
    assert store.count("organizations") == 4
    assert store.con.execute("SELECT aliases FROM organizations WHERE org_id='p1'").fetchone()[0] == ["P1", "PO"]


def test_mapping_units_fill_down_and_chinese_money(store, tmp_path):
    import_file(store, "organizations", write_csv(tmp_path / "o.csv", ["org_id", "name_zh"],
                                                  [["uni", "宇树科技"], ["ds", "深度求索"]]))
    mapping = parse_mapping({
        "name": "cn_rounds", "targets": {"funding_rounds": {"columns": {
            "org_name": {"column": "公司", "fill_down": True},
            "date": "日期", "stage": "轮次", "amount": "金额", "investors": {"column": "投资方", "split": "、"},
        }}}})
    f = write_csv(tmp_path / "rounds.csv", ["公司", "日期", "轮次", "金额", "投资方"], [
        ["宇树科技", "2016年5月", "天使轮", "1.2亿元", "红杉中国、经纬"],
        ["", "2020-12", "B轮", "数千万美元", "红杉中国"],
        ["", "20210315", "C轮", "未透露", ""],
        ["深度求索", "2023年7月", "战略投资", "$3.5M", "Sequoia Capital China"],
    ])
    r = import_file(store, "funding_rounds", f, mapping=mapping)
    assert r.rejected == 0, r.rejects
    got = store.con.execute("SELECT org_id, date, date_precision, stage, amount, amount_low, amount_high, currency, "
                            "disclosed, investors FROM funding_rounds ORDER BY date").fetchall()
    assert [g[0] for g in got] == ["uni", "uni", "uni", "ds"]  # filled down and resolved by Chinese name
    first, range_row, undisclosed, usd = got
    assert first[1].isoformat() == "2016-05-01" and first[2] == "month" and first[3] == "angel"
    assert first[4] == pytest.approx(1.2e8) and first[7] == "CNY" and first[9] == ["红杉中国", "经纬"]
    assert range_row[4] is None and range_row[5] < range_row[6] and range_row[7] == "USD"  # a range, no point value
    assert undisclosed[4] is None and undisclosed[8] is False and undisclosed[3] == "c"
    assert usd[4] == pytest.approx(3.5e6) and usd[7] == "USD"


def test_eur_million_unit_and_fx_recorded(store, tmp_path):
    import_file(store, "organizations", write_csv(tmp_path / "o.csv", ["org_id"], [["x"]]))
    mapping = parse_mapping({"name": "m", "targets": {"financials": {"columns": {
        "org_id": "id", "fiscal_year": "year", "rd_expense": {"column": "rd", "unit": "EUR million"},
        "revenue": {"column": "ns", "unit": "EUR million"}}}}})
    f = write_csv(tmp_path / "f.csv", ["id", "year", "rd", "ns"], [["x", "2018", "12.5", "100"]])
    r = import_file(store, "financials", f, mapping=mapping)
    assert r.rejected == 0, r.rejects
    assert store.con.execute("SELECT rd_expense, revenue, currency FROM financials").fetchone() == (12.5e6, 100e6, "EUR")


def test_missing_column_in_mapping_is_a_clear_error(store, tmp_path):
    f = orgs_file(tmp_path, 2)
    mapping = parse_mapping({"name": "m", "targets": {"organizations": {"columns": {"org_id": "identifier"}}}})
    with pytest.raises(MappingError, match="no column 'identifier'"):
        import_file(store, "organizations", f, mapping=mapping)
    with pytest.raises(UsageError):
        import_file(store, "nonsense", f)
    with pytest.raises(SourceError, match="no such file"):
        import_file(store, "organizations", tmp_path / "absent.csv")
    assert store.count("organizations") == 0


def test_kill_during_import_leaves_store_as_it_was(tmp_path):
    db = tmp_path / "k.duckdb"
    with Store(db) as s:
        import_file(s, "organizations", orgs_file(tmp_path, 50))
    big = write_csv(tmp_path / "big.csv", ORG_HEADER,
                    [[f"big{i}", "company", f"Big {i}", "", "US", "", ""] for i in range(200_000)])
    code = ("import sys; from hardtech.store.connection import Store; from hardtech.store.importer import import_file;"
            f"s = Store({str(db)!r}); import_file(s, 'organizations', {str(big)!r}); print('finished')")
    env = dict(os.environ, HARDTECH_FAULT_SLEEP="30")
    proc = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # wait until every row is written inside the (uncommitted) transaction, then kill
    line = proc.stderr.readline().decode()
    assert "not committed" in line, line + proc.stderr.read().decode()
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    with Store(db, read_only=True) as s:
        assert s.count("organizations") == 50
        assert s.count("imports") == 1


def test_rounds_of_unknown_organisations_are_rejected_not_crashed(store, tmp_path):
    """Every row valid but its organisation missing: the rejects name line, column and value."""
    f = tmp_path / "rounds.csv"
    f.write_text("round_id,org_id,date,stage,amount,currency\n"
                 "r1,o1,2020-03-01,A,10000000,USD\nr2,o2,2021-05-01,B,5000000,USD\n", encoding="utf-8")
    r = import_file(store, "funding_rounds", f)
    assert r.targets[0].rejected == 2 and r.targets[0].inserted == 0
    rows = store.con.execute("SELECT line, column_name, value FROM rejects ORDER BY line").fetchall()
    assert rows == [(2, "org_id", "o1"), (3, "org_id", "o2")]
