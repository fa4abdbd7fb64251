"""rank, decade and star through the CLI: the thin layer over the ranking and STAR analytics."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from hardtech.presentation.cli.app import app

runner = CliRunner()


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory, demo_base):
    from hardtech.demo import build_demo_store

    db = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    build_demo_store(db, shared=None, base=demo_base)
    return db


def test_decade_reproduces_huawei_total(demo_db):
    res = runner.invoke(app, ["decade", "Huawei", "--from", "2013", "--to", "2022", "--db", str(demo_db), "-f", "json"])
    assert res.exit_code == 0, res.output
    d = json.loads(res.stdout)[0]
    assert d["total"] == pytest.approx(977_317e6) and d["currency"] == "CNY"


def test_unknown_org_is_named(demo_db):
    res = runner.invoke(app, ["star", "Nonexistent Widgets", "--db", str(demo_db)])
    assert res.exit_code == 2 and "Nonexistent Widgets" in res.output


def test_star_all_four_met(tmp_path):
    db = tmp_path / "s.duckdb"
    o = tmp_path / "o.csv"
    o.write_text("org_id,name_en,kind\nacme,Acme Photonics,company\n", encoding="utf-8")
    f = tmp_path / "f.csv"
    f.write_text("org_id,fiscal_year,currency,revenue,rd_expense,rd_staff,employees,invention_patents\n"
                 "acme,2021,CNY,100000000,10000000,20,100,8\n"
                 "acme,2022,CNY,130000000,10000000,25,110,9\n"
                 "acme,2023,CNY,170000000,12000000,30,120,10\n", encoding="utf-8")
    for table, path in (("organizations", o), ("financials", f)):
        assert runner.invoke(app, ["import", table, str(path), "--db", str(db)]).exit_code == 0
    res = runner.invoke(app, ["star", "acme", "--db", str(db), "-f", "json"])
    r = json.loads(res.stdout)[0]
    assert r["verdict"] == "sci-tech" and r["year"] == 2023 and "all" in r["decided_by"]
    res = runner.invoke(app, ["star", "acme", "--version", "2024-04-30", "--year", "2023", "--db", str(db), "-f", "json"])
    assert json.loads(res.stdout)[0]["version"] == "2024-04-30"
    res = runner.invoke(app, ["star", "--all", "--db", str(db), "-f", "json"])
    assert json.loads(res.stdout)[0]["org_id"] == "acme"


def test_rank_reproduces_panel_top(tmp_path, shared):
    import pandas as pd

    f = shared("jrc_oecd_rd_top2000_2015_2018.csv")
    db = tmp_path / "r.duckdb"
    assert runner.invoke(app, ["import", "auto", str(f), "--mapping", "jrc_oecd", "--db", str(db)]).exit_code == 0
    res = runner.invoke(app, ["rank", "--year", "2018", "--top", "10", "--db", str(db), "-f", "json"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)
    raw = pd.read_csv(f)
    want = raw[(raw.year == 2018) & (raw.worldrank <= 10)].sort_values("worldrank").company_name.tolist()
    assert [r["name"] for r in rows][:10] == want
    res = runner.invoke(app, ["rank", "--year", "2018", "--scope", "country:CN", "--top", "3", "--db", str(db),
                              "--currency", "CNY", "-f", "json"])
    rows = json.loads(res.stdout)
    assert all(r["country"] == "CN" for r in rows) and rows[0]["currency"] == "CNY"


def test_score_and_explain(demo_db):
    res = runner.invoke(app, ["score", "--db", str(demo_db), "-f", "json"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)
    assert rows and all(0 <= r["score"] <= 100 and 0 < r["confidence"] <= 1 for r in rows if r["score"] is not None)
    # a panel row with no figure at all (some 2015 rows of the bundled JRC panel) has no score, and says so
    assert all(r["confidence"] == 0 for r in rows if r["score"] is None)
    res = runner.invoke(app, ["score", "huawei", "--explain", "--year", "2022", "--db", str(demo_db), "-f", "json"])
    d = json.loads(res.stdout)[0]
    total = sum(p["contribution"] or 0 for p in d["parts"])
    assert d["year"] == 2022 and total == pytest.approx(d["score"], abs=1e-6)
    assert any(p["missing"] for p in d["parts"])  # Huawei's series has no revenue: shown as missing, not zero
    kind = {e["evidence"]: e for e in d["kind_evidence"]}  # the evidence of kind, each with its source
    assert kind["OECD R&D-intensity group of the ISIC/NACE code"]["value"] == "high"
    assert "concordances/nace_isic.csv row '26'" in kind["OECD R&D-intensity group of the ISIC/NACE code"]["source"]
    assert "isic:26 → hard_core" in kind["typology prior of the industry codes and the organisation kind"]["source"]
    assert kind["classifier's typology (from the description)"]["source"].startswith("classifications, model ")
    res = runner.invoke(app, ["score", "huawei", "--explain", "--db", str(demo_db)])
    assert res.exit_code == 0 and "evidence of kind" in res.output
    res = runner.invoke(app, ["sql", "SELECT count(*) AS n FROM scores", "--db", str(demo_db), "-f", "json"])
    assert json.loads(res.stdout)[0]["n"] == len(rows)
