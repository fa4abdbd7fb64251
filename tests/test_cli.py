"""The CLI: shared output options in every format, read-only SQL, taxonomy lookups, status, rejects."""

from __future__ import annotations

import csv
import io
import json

import pytest
from typer.testing import CliRunner

from hardtech.presentation.cli.app import app

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture
def loaded(tmp_path, db):
    f = tmp_path / "o.csv"
    f.write_text("org_id,name_en,kind,city\na,=HYPERLINK(\"x\"),company,Xi'an\nb,Beta,university,Hangzhou\n",
                 encoding="utf-8")
    res = invoke("import", "organizations", f, "--db", db)
    assert res.exit_code == 0, res.output
    return db


def test_sql_in_every_format(loaded, tmp_path):
    q = "SELECT org_id, name_en FROM organizations ORDER BY org_id"
    res = invoke("sql", q, "--db", loaded, "--format", "json")
    assert json.loads(res.stdout) == [{"org_id": "a", "name_en": '=HYPERLINK("x")'}, {"org_id": "b", "name_en": "Beta"}]
    res = invoke("sql", q, "--db", loaded, "--format", "jsonl")
    assert [json.loads(x)["org_id"] for x in res.stdout.splitlines()] == ["a", "b"]
    res = invoke("sql", q, "--db", loaded, "--format", "csv")
    rows = list(csv.reader(io.StringIO(res.stdout)))
    assert rows[0] == ["org_id", "name_en"] and rows[1][1].startswith("'=")  # formula neutralised
    res = invoke("sql", q, "--db", loaded, "--format", "table")
    assert "Beta" in res.stdout
    out = tmp_path / "x.parquet"
    res = invoke("sql", q, "--db", loaded, "--format", "parquet", "--output", out)
    import pyarrow.parquet as pq

    assert res.exit_code == 0 and pq.read_table(out).num_rows == 2
    res = invoke("sql", q, "--db", loaded, "--format", "parquet")
    assert res.exit_code == 2 and "needs --output" in res.output


def test_sql_is_read_only(loaded):
    res = invoke("sql", "DELETE FROM organizations", "--db", loaded)
    assert res.exit_code == 2 and "read-only" in res.output.lower()
    res = invoke("sql", "SELECT count(*) AS n FROM organizations", "--db", loaded, "-f", "json")
    assert json.loads(res.stdout) == [{"n": 2}]


def test_status_and_missing_store(loaded, tmp_path):
    res = invoke("status", "--db", loaded, "-f", "json")
    rows = {r["table"]: r for r in json.loads(res.stdout)}
    assert rows["organizations"]["rows"] == 2 and rows["organizations"]["schema_version"] >= 1
    res = invoke("status", "--db", tmp_path / "nothing.duckdb")
    assert res.exit_code == 2 and "no store" in res.output


def test_taxonomy_map_answers_with_field_and_reason(db):
    res = invoke("taxonomy", "map", "--scheme", "cpc", "G06N3/08", "--db", db, "-f", "json")
    rows = json.loads(res.stdout)
    assert res.exit_code == 0 and rows[0]["field"] == "ai" and rows[0]["reason"]
    res = invoke("taxonomy", "map", "gics:Semiconductors", "--db", db, "-f", "json")
    assert "photonics_chips" in {r["field"] for r in json.loads(res.stdout)}
    res = invoke("taxonomy", "--db", db, "-f", "json")
    assert len(json.loads(res.stdout)) == 8
    res = invoke("taxonomy", "map", "--scheme", "nonsense", "X1", "--db", db)
    assert res.exit_code == 2


def test_rejects_listing(tmp_path, db, loaded):
    f = tmp_path / "f.csv"
    f.write_text("org_id,fiscal_year,currency,rd_expense\na,2019,CNY,-3\nb,2019,CNY,5\n", encoding="utf-8")
    res = invoke("import", "financials", f, "--db", loaded)
    assert res.exit_code == 1 and "line 2" in res.output
    res = invoke("rejects", "--db", loaded, "-f", "json")
    rows = json.loads(res.stdout)
    assert len(rows) == 1 and rows[0]["column_name"] == "rd_expense" and rows[0]["line"] == 2


def test_mappings_listed(db):
    res = invoke("mappings", "--db", db, "-f", "json")
    names = {r["name"] for r in json.loads(res.stdout)}
    assert {"jrc_oecd", "unicorns_2022", "wips_patent_export"} <= names


def test_python_m_entry_point():
    import subprocess
    import sys

    res = subprocess.run([sys.executable, "-m", "hardtech", "--version"], capture_output=True, text=True)
    assert res.returncode == 0 and res.stdout.startswith("hardtech ")


def test_synth_writes_and_loads_a_flagged_universe(tmp_path, db):
    out = tmp_path / "u"
    res = invoke("synth", "--orgs", 500, "--seed", 3, "--out", out, "--load", "--db", db, "-f", "json")
    assert res.exit_code == 0, res.output
    files = {r["table"]: r for r in json.loads(res.stdout)}
    assert files["organizations"]["rows"] == 500 and (out / "manifest.json").exists()
    assert "synthetic" in (out / "manifest.json").read_text()
    res = invoke("status", "--db", db, "-f", "json")
    rows = {r["table"]: r for r in json.loads(res.stdout)}
    for t in ("organizations", "financials", "funding_rounds", "patents"):
        assert rows[t]["rows"] > 0 and rows[t]["synthetic_rows"] == rows[t]["rows"], t
    res = invoke("synth", "--orgs", 0, "--out", out, "--db", db)
    assert res.exit_code == 2
