"""The demo store: our organisations, the Huawei series with sources, panel figures where linked."""

from __future__ import annotations

import pandas as pd
import pytest

from hardtech.demo import build_demo_store, demo_dir, summary_tables
from hardtech.store.connection import Store


def test_demo_data_meets_the_brief():
    orgs = pd.read_csv(demo_dir() / "organizations.csv", dtype=str, keep_default_na=False)
    assert len(orgs) >= 150 and orgs.org_id.is_unique
    for city in ("Xi'an", "Hangzhou", "Shenzhen", "Beijing", "Shanghai"):
        assert (orgs.city == city).sum() >= 10, city
    assert (orgs.country != "CN").sum() >= 20
    assert {"university", "institute", "investor"} <= set(orgs.kind)
    fields = {f for cell in orgs.expected_fields for f in cell.split("|")}
    assert {"ai", "aerospace", "photonics_chips", "biotech", "it", "new_materials", "new_energy",
            "intelligent_manufacturing"} <= fields
    assert (orgs.expected_typology == "model_innovation").sum() >= 10
    cn = orgs[orgs.country == "CN"]
    assert (cn.description_zh.str.len() > 0).all()
    # no figures without a source: descriptions carry no money amounts
    assert not orgs.description_en.str.contains(r"\$\s?\d|\d+\s?(?:billion|million)", regex=True).any()


def test_huawei_decade_and_sources(tmp_path, demo_base):
    db = tmp_path / "demo.duckdb"
    build_demo_store(db, shared=None, base=demo_base)
    with Store(db, read_only=True) as s:
        total = s.con.execute("SELECT sum(rd_expense) FROM financials WHERE org_id='huawei' "
                              "AND fiscal_year BETWEEN 2013 AND 2022").fetchall()[0][0]
        assert total == pytest.approx(977.3e9, rel=1e-4)  # the seeds' "977 billion yuan"
        y2022 = s.con.execute("SELECT rd_expense, currency, note FROM financials WHERE org_id='huawei' "
                              "AND fiscal_year = 2022").fetchall()[0]
        assert y2022[0] > 160e9 and y2022[1] == "CNY" and "annual report 2022" in y2022[2]
        assert s.con.execute("SELECT count(*) FROM financials WHERE source_name IS NULL OR note IS NULL").fetchall()[0][0] == 0
        assert s.con.execute("SELECT count(*) FROM organizations WHERE synthetic").fetchall()[0][0] == 0


def test_demo_with_panel_figures_and_summary(tmp_path, shared, demo_base):
    data = shared("jrc_oecd_rd_top2000_2015_2018.csv").parent
    db = tmp_path / "demo.duckdb"
    info = build_demo_store(db, shared=data, base=demo_base)
    assert info["counts"]["organizations"] >= 150 and info["counts"]["financials"] > 100
    from hardtech.demo import panel_year

    t = summary_tables(db, year=panel_year(db))
    assert t["year"] == 2018
    names = [r["org_id"] for r in t["top_rd"]]
    assert names[0] == "alphabet" and "huawei" in names[:5]
    assert all(r["source"] for r in t["top_rd"])
    cities = {r["city"]: r for r in t["by_city"]}  # places resolved: 西安市 (MOE list) and Xi'an are one city
    assert cities["Xi'an"]["organisations"] >= 25 and cities["Xi'an"]["universities"] >= 60
    assert "西安市" not in cities and cities["Hangzhou"]["organisations"] >= 25


@pytest.mark.slow
def test_demo_command_writes_the_white_paper(tmp_path):
    """`hardtech demo` ends with the white paper, HTML and PDF, and says where it is."""
    from typer.testing import CliRunner

    from hardtech.presentation.cli.app import app
    from hardtech.presentation.report.fonts import cjk_fonts

    res = CliRunner().invoke(app, ["demo", "--dir", str(tmp_path)])
    assert res.exit_code == 0, res.output
    langs = ["en", "zh"] if cjk_fonts() else ["en"]
    for lang in langs:
        html, pdf = tmp_path / "report" / f"report-{lang}.html", tmp_path / "report" / f"report-{lang}.pdf"
        assert html.stat().st_size > 10_000 and pdf.read_bytes()[:5] == b"%PDF-"
        assert f"white paper ({lang})" in res.output
