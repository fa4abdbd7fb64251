"""The white paper: self-contained, reproducible, every sampled number equal to the CLI's answer, honest when data is missing."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hardtech.demo import build_demo_store, default_shared, summary_tables
from hardtech.errors import UsageError
from hardtech.presentation.cli.app import app
from hardtech.presentation.report.i18n import Translator
from hardtech.presentation.report.paper import write_report
from hardtech.store.connection import Store

EPOCH = "1700000000"
T = Translator("en")


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory, demo_base):
    db = tmp_path_factory.mktemp("report-demo") / "hardtech.duckdb"
    build_demo_store(db, default_shared(), base=demo_base)
    return db


@pytest.fixture(scope="module")
def en_report(demo_db, tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("SOURCE_DATE_EPOCH", EPOCH)
    try:
        r = write_report(demo_db, tmp_path_factory.mktemp("en"), "en", pdf=True)
    finally:
        mp.undo()
    r["text"] = Path(r["html"]).read_text(encoding="utf-8")
    return r


def cli_json(*args):
    res = CliRunner().invoke(app, [*args, "--format", "json"])
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def test_html_is_self_contained(en_report):
    html = en_report["text"]
    assert "<svg" in html and "<style>" in html
    for pattern in (r'src\s*=\s*["\']?https?:', r'href\s*=\s*["\']?https?:', r'url\(\s*["\']?https?:', r"@import",
                    r"<script", r"<link\b"):
        assert not re.search(pattern, html, re.I), pattern
    ids = [c["id"] for c in en_report["chapters"]]
    assert ids == ["summary", "landscape", "ranking", "hardness", "flows", "regions", "guidelines", "method",
                   "appendix"]


def test_same_store_same_report_but_the_generated_line(demo_db, en_report, tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    again = write_report(demo_db, tmp_path / "a", "en", pdf=True)
    assert Path(again["html"]).read_bytes() == Path(en_report["html"]).read_bytes()
    assert Path(again["pdf"]).read_bytes() == Path(en_report["pdf"]).read_bytes()
    monkeypatch.delenv("SOURCE_DATE_EPOCH")
    now = Path(write_report(demo_db, tmp_path / "b", "en")["html"]).read_text(encoding="utf-8").splitlines()
    before = en_report["text"].splitlines()
    assert len(now) == len(before)
    diff = [(a, b) for a, b in zip(before, now) if a != b]
    assert len(diff) == 1 and diff[0][0].startswith('<p class="meta">Generated at'), diff


def test_numbers_equal_the_cli(demo_db, en_report):
    html, fig = en_report["text"], en_report["figures"]
    year = fig["rank_year"]
    top = cli_json("rank", "--year", str(year), "--top", "3", "--db", str(demo_db))
    assert [r["org_id"] for r in fig["rank"][:3]] == [r["org_id"] for r in top]
    assert f">{T.money(top[0]['value'], 'EUR')}<" in html and f">{top[0]['name']}<" in html
    # companies per field: the landscape the demo prints
    by_field = {r["field"]: r["organisations"] for r in summary_tables(demo_db)["by_field"]}
    assert {r["field"]: r["organisations"] for r in fig["by_field"]} == by_field
    ai = by_field["ai"]
    assert re.search(rf"<td>Artificial intelligence</td><td class=\"num\">{ai}</td>", html)
    # hardness leader: `hardtech score --no-save`
    latest = {}
    for r in cli_json("score", "--no-save", "--db", str(demo_db)):  # each organisation's latest scored year
        if r["org_id"] not in latest or r["year"] > latest[r["org_id"]]["year"]:
            latest[r["org_id"]] = r
    best = max(latest.values(), key=lambda r: (r["score"], r["org_id"]))
    assert fig["scores"][0]["org_id"] == best["org_id"] and f"{best['score']:.1f}" in html
    # STAR verdicts: `hardtech star --all`
    star = cli_json("star", "--all", "--db", str(demo_db))
    assert sorted((r["org_id"], r["verdict"]) for r in star) == sorted((r["org_id"], r["verdict"]) for r in fig["star"])
    # regions: organisations of the leading city
    regions = cli_json("regions", "list", "--db", str(demo_db))
    lead = max(regions, key=lambda r: (r["organizations"], r["region"]))
    assert fig["regions"][0]["organizations"] == lead["organizations"]
    # every decade total equals `hardtech decade ORG --from --to`
    for d in fig["decade"]:
        # (in the decade's currency: a company whose years mix currencies, as Intel's panel EUR and 10-K USD
        # figures do, is shown converted, as `--currency` converts it)
        cli = cli_json("decade", d["org_id"], "--from", str(d["start"]), "--to", str(d["end"]),
                       "--currency", d["currency"], "--db", str(demo_db))
        assert cli[0]["total"] == pytest.approx(d["total"]) and T.money(d["total"], d["currency"]) in html


def test_huawei_decade_2013_2022_and_regions_scorecard(demo_db, tmp_path):
    r = write_report(demo_db, tmp_path, "en", scopes=["year:2022"])
    hw = [d for d in r["figures"]["decade"] if d["org_id"] == "huawei"]
    assert hw and (hw[0]["start"], hw[0]["end"]) == (2013, 2022)
    assert hw[0]["total"] == pytest.approx(977.317e9)
    cli = cli_json("decade", "huawei", "--from", "2013", "--to", "2022", "--db", str(demo_db))
    assert cli[0]["total"] == pytest.approx(hw[0]["total"])
    assert "CNY 977.32 bn" in Path(r["html"]).read_text(encoding="utf-8")


def test_xian_vs_hangzhou_scorecard_via_cli(demo_db, tmp_path):
    res = CliRunner().invoke(app, ["report", "--out", str(tmp_path), "--scope", "region:西安", "--scope",
                                   "region:Hangzhou", "--db", str(demo_db), "--format", "json"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)
    html = Path(next(r["file"] for r in rows if r["kind"] == "html")).read_text(encoding="utf-8")
    cli = cli_json("regions", "compare", "西安", "杭州", "--db", str(demo_db))[0]
    xian, hz = cli["regions"]["西安"], cli["regions"]["杭州"]
    assert xian["organizations"] > 0 and hz["organizations"] > 0
    for factor in ("basic_research", "industrial_base"):
        a, b = xian["factors"][factor]["value"], hz["factors"][factor]["value"]
        label = T.L("factor", factor)  # the factor's name from data/i18n/labels.toml
        assert re.search(rf"<td>{re.escape(label)}</td><td class=\"num\">{a:,}</td><td class=\"num\">{b:,}</td>",
                         html.replace("&amp;", "&")), factor
    assert "Scorecard: Xi&#39;an · Hangzhou" in html


def test_chinese_report_and_pdf(demo_db, tmp_path):
    r = write_report(demo_db, tmp_path, "zh", pdf=True)
    html = Path(r["html"]).read_text(encoding="utf-8")
    for text in ("投资指引", "人工智能", "摘要", "规则"):
        assert text in html
    assert "Artificial intelligence" not in html  # names of fields in Chinese only (issue 15)
    fonts = subprocess.run(["pdffonts", str(r["pdf"])], capture_output=True, text=True).stdout
    assert "CJK" in fonts
    text = subprocess.run(["pdftotext", str(r["pdf"]), "-"], capture_output=True, text=True).stdout
    assert "投资指引" in text


def test_chinese_without_a_cjk_font_fails_loudly(demo_db, tmp_path, monkeypatch):
    from hardtech.presentation.report import fonts

    monkeypatch.setattr(fonts, "cjk_fonts", lambda: [])
    with pytest.raises(fonts.FontMissing, match="fonts-noto-cjk"):
        write_report(demo_db, tmp_path, "zh")
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("scope, message", [("field:quantum", "unknown field"), ("region:Atlantis", "unknown region"),
                                            ("year:20x8", "four-digit year"), ("city:Xi'an", "unknown scope")])
def test_bad_scopes_are_clear_errors(demo_db, tmp_path, scope, message):
    with pytest.raises(UsageError, match=message):
        write_report(demo_db, tmp_path, "en", scopes=[scope])
    res = CliRunner().invoke(app, ["report", "--out", str(tmp_path), "--scope", scope, "--db", str(demo_db)])
    assert res.exit_code == 2 and message in res.output


def test_empty_store_gives_a_short_report(tmp_path):
    db = tmp_path / "empty.duckdb"
    Store(db).close()
    r = write_report(db, tmp_path / "out", "en", pdf=True)
    html = Path(r["html"]).read_text(encoding="utf-8")
    assert "<svg" not in html and "holds no organisations" in html
    assert r["missing"] and Path(r["pdf"]).stat().st_size > 0


def test_scope_without_data_says_so(demo_db, tmp_path):
    r = write_report(demo_db, tmp_path, "en", scopes=["field:aerospace", "region:Ningde"])
    html = Path(r["html"]).read_text(encoding="utf-8")
    assert "<svg" not in html and "No organisation in the store matches the scope" in html


def test_without_funding_rounds_the_capital_chapter_says_so(demo_db, tmp_path):
    db = tmp_path / "norounds.duckdb"
    shutil.copy(demo_db, db)
    with Store(db) as s:
        s.con.execute("DELETE FROM funding_rounds")
    r = write_report(db, tmp_path / "out", "en")
    html = Path(r["html"]).read_text(encoding="utf-8")
    assert "no funding rounds in the store (table funding_rounds)" in html
    assert "the capital guidelines need them" in html
    gl = {g["id"]: g for g in r["figures"]["guidelines"]}
    assert gl["tech_shift"]["status"] == "insufficient" and gl["rd_without_capital"]["status"] == "insufficient"


def test_guidelines_show_rule_and_figures(en_report):
    for g in en_report["figures"]["guidelines"]:
        assert g["rule"] and g["finding"], g["id"]
        assert g["status"] in ("match", "no_match", "insufficient")
        if g["status"] == "match":
            assert g["rows"], g["id"]
    html = en_report["text"]
    assert html.count('class="guideline') == len(en_report["figures"]["guidelines"])


def test_synthetic_data_is_flagged_on_every_page(tmp_path):
    db = tmp_path / "synth.duckdb"
    res = CliRunner().invoke(app, ["synth", "--orgs", "2000", "--out", str(tmp_path / "u"), "--load", "--db", str(db)])
    assert res.exit_code == 0, res.output
    r = write_report(db, tmp_path / "out", "en", pdf=True)
    html = Path(r["html"]).read_text(encoding="utf-8")
    assert set(r["synthetic"]) >= {"summary", "ranking", "hardness", "flows", "regions"}
    assert html.count('<p class="synthetic">SYNTHETIC DATA') == len(r["synthetic"])
    pages = subprocess.run(["pdftotext", "-layout", str(r["pdf"]), "-"], capture_output=True,
                           text=True).stdout.split("\f")
    pages = [p for p in pages if p.strip()]
    assert len(pages) > 3 and all("Contains synthetic data" in p for p in pages)


def test_a_company_reporting_in_two_currencies_does_not_break_the_decade_view(tmp_path):
    """A company that switched reporting currency: its decade is shown converted, not a crash."""
    db = tmp_path / "two.duckdb"
    (tmp_path / "o.csv").write_text("org_id,name_en,kind,country,city\nsw,Switcher,company,CN,Xi'an\n",
                                    encoding="utf-8")
    (tmp_path / "f.csv").write_text("org_id,fiscal_year,currency,revenue,rd_expense\n"
                                    "sw,2016,CNY,1000000000,100000000\nsw,2017,CNY,1100000000,120000000\n"
                                    "sw,2018,USD,180000000,20000000\n", encoding="utf-8")
    for table, f in (("organizations", "o.csv"), ("financials", "f.csv")):
        assert CliRunner().invoke(app, ["import", table, str(tmp_path / f), "--db", str(db)]).exit_code == 0
    with pytest.raises(UsageError, match="reports R&D in CNY, USD"):
        from hardtech.services.scoring import decade_rows
        decade_rows(db, "sw", 2016, 2018)
    r = write_report(db, tmp_path / "out", "en", scopes=("year:2018",))
    eur = cli_json("decade", "sw", "--from", "2016", "--to", "2018", "--currency", "EUR", "--db", str(db))[0]
    assert [d["total"] for d in r["figures"]["decade"]] == [eur["total"]]
