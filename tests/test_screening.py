"""Screening applicants: ranking makes sense, missing data lowers confidence not score, files are safe."""

from __future__ import annotations

import csv
import html
import textwrap

import pandas as pd
import pytest

from hardtech.analytics.screening import NOT_CHECKED, load_rubric, screen
from hardtech.errors import SourceError, UsageError

HOSTILE = "<script>alert(1)</script>"
FORMULA = '=HYPERLINK("http://x")'

APPLICANTS = textwrap.dedent('''\
    name,description,codes,revenue_2022,revenue_2023,revenue_2024,rd_2022,rd_2023,rd_2024,rd_staff,employees,invention_patents,city,founded
    QuantaLith Photonics,"Designs silicon photonics chips and optical transceivers for data centres; lithography-grade wafer process, tape-out of our first chip completed, pilot production line running.",,100000000,140000000,200000000,12000000,16000000,22000000,60,300,12,Wuhan,2016
    星辰液体火箭,我们研发可重复使用的液体火箭发动机和运载火箭，已完成发动机热试车，正在建设总装测试基地。,,,,,,,,,,,Beijing,2019
    Helix Gene Therapeutics,"Develops AAV gene therapies for rare inherited retinal diseases; preclinical studies done, phase I clinical trial application filed.",,,,,,,,,,,Suzhou,2020
    固态锂电新材料,专注固态电解质和高镍正极材料的研发，中试线已投产，与电池厂联合验证。,,,,,,,,,,,Ningbo,2018
    Fastbite Delivery,"A food delivery app connecting restaurants and diners, with coupons, a loyalty programme and fast courier dispatch in our city.",,,,,,,,,,,Shanghai,2021
    Empty Co,,,,,,,,,,,,Shenzhen,2022
    RoboWeld Automation,"Industrial robots with machine vision for automated welding in automotive plants; our controllers and servo drives are developed in house.",,,,,,,,,,,Hefei,2015
    "=HYPERLINK(""http://x"")","An e-commerce marketplace for second-hand clothes with a social feed.",,,,,,,,,,,@Town,2022
    <script>alert(1)</script>,"An online platform for booking hair salons with ratings and discounts.",,,,,,,,,,,-Nowhere,2023
    ''')
HARD = {"QuantaLith Photonics", "星辰液体火箭", "Helix Gene Therapeutics", "固态锂电新材料", "RoboWeld Automation"}


@pytest.fixture(scope="module")
def applicants(tmp_path_factory):
    p = tmp_path_factory.mktemp("screen") / "applicants.csv"
    p.write_text(APPLICANTS, encoding="utf-8")
    return p


@pytest.fixture(scope="module")
def result(applicants):
    return screen(applicants)


def by_name(res):
    return {r["name"]: r for r in res.rows}


def test_every_row_kept_and_ranked(result):
    assert len(result.rows) == 9
    assert [r["rank"] for r in result.rows] == list(range(1, 10))


def test_hard_tech_first_delivery_app_last_among_scored(result):
    scored = [r["name"] for r in result.rows if r["score"] is not None]
    assert set(scored[:5]) == HARD
    assert scored.index("Fastbite Delivery") > max(scored.index(n) for n in HARD)
    rows = by_name(result)
    assert rows["Fastbite Delivery"]["score"] < 30
    assert rows["Fastbite Delivery"]["typology"] == "model_innovation"
    assert all(rows[n]["score"] >= 60 for n in HARD)
    assert all(rows[n]["shortlisted"] for n in HARD)
    assert not rows["Fastbite Delivery"]["shortlisted"]


def test_empty_description_kept_flagged_low_confidence(result):
    r = by_name(result)["Empty Co"]
    assert r["insufficient"] is True
    assert "empty description" in r["warnings"]
    assert r["confidence"] == 0 and r["score"] is None
    assert r["rank"] == len(result.rows)
    assert not r["shortlisted"]
    assert any("insufficient evidence" in s for s in r["reasons"])


def test_star_checked_only_with_financials(result):
    rows = by_name(result)
    q = rows["QuantaLith Photonics"]
    assert q["star_verdict"] == "sci-tech"
    assert "indicators met" in q["star_decided_by"]
    assert q["rd_intensity"] == pytest.approx(0.11)
    assert q["confidence"] == pytest.approx(1.0)
    assert any(s.startswith("STAR test") and "sci-tech" in s for s in q["reasons"])
    assert rows["星辰液体火箭"]["star_verdict"] == NOT_CHECKED
    assert "financials" in rows["星辰液体火箭"]["missing"]


def test_missing_data_lowers_confidence_not_score(result):
    rows = by_name(result)
    rocket = rows["星辰液体火箭"]
    assert rocket["confidence"] < rows["QuantaLith Photonics"]["confidence"]
    # a weighted mean over present criteria only: missing ones neither add nor subtract
    crit = rocket["criteria"]
    w = result.rubric.weights
    expect = 100 * sum(crit[c] * w[c] for c in crit) / sum(w[c] for c in crit)
    assert rocket["score"] == pytest.approx(expect, abs=0.05)
    assert rocket["score"] > 80


def test_reasons_name_field_and_missing(result):
    r = by_name(result)["Helix Gene Therapeutics"]
    assert any("biotech" in s and "probability" in s for s in r["reasons"])
    assert any(s.startswith("Missing:") and "financials" in s for s in r["reasons"])


def test_ties_broken_by_confidence_then_name():
    df = pd.DataFrame({"name": ["Beta", "Alpha"], "description": ["", ""]})
    assert [r["name"] for r in screen(df).rows] == ["Alpha", "Beta"]


def test_missing_columns_error(tmp_path):
    p = tmp_path / "bad.csv"
    p.write_text("company,about\nX,Y\n", encoding="utf-8")
    with pytest.raises(UsageError) as ei:
        screen(p)
    msg = str(ei.value)
    assert "name" in msg and "description" in msg and "company, about" in msg


def test_custom_rubric_changes_order(applicants, result, tmp_path):
    p = tmp_path / "money.toml"
    p.write_text(textwrap.dedent("""\
        version = "money-first"
        [weights]
        hard_tech_field = 0.0
        typology = 0.0
        star = 0.6
        r_and_d = 0.2
        patents = 0.2
        [thresholds]
        shortlist_top_n = 1
        shortlist_min_score = 100
        trl_full = 9
        rd_intensity_full = 0.1
        patents_full = 7
        default_currency = "CNY"
        [star_scores]
        "sci-tech" = 1.0
        """), encoding="utf-8")
    custom = screen(applicants, rubric=p)
    assert custom.rubric.version == "money-first"
    assert result.rows[0]["name"] != "QuantaLith Photonics"
    assert custom.rows[0]["name"] == "QuantaLith Photonics"
    assert [r["name"] for r in custom.rows if r["shortlisted"]] == ["QuantaLith Photonics"]
    # without financials nothing this rubric weighs can be judged: kept, unscored, after the scored
    assert all(r["score"] is None and r["confidence"] == 0 for r in custom.rows[1:])


def test_default_rubric_valid():
    r = load_rubric()
    assert sum(r.weights.values()) == pytest.approx(1.0)
    assert "insufficient data" not in r.star_scores


@pytest.mark.parametrize("body,needle", [
    ('version = "x"\n[weights]\nstar = 0.5\n', "sum to 1"),
    ('version = "x"\n[weights]\nluck = 1.0\n', "unknown criterion luck"),
    ('version = "x"\n[weights]\nstar = 1.0\n', "missing table [thresholds]"),
    ('[weights]\nstar = 1.0\n', "version"),
])
def test_bad_rubric_names_file(tmp_path, body, needle):
    p = tmp_path / "broken_rubric.toml"
    p.write_text(body, encoding="utf-8")
    with pytest.raises(SourceError) as ei:
        load_rubric(p)
    assert "broken_rubric.toml" in str(ei.value) and needle in str(ei.value)


def test_csv_round_trip_neutralised(result, tmp_path):
    p = result.to_csv(tmp_path / "out.csv")
    with p.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 9 and rows[0]["rank"] == "1"
    names = [r["name"] for r in rows]
    assert "'" + FORMULA in names and FORMULA not in names
    cities = {r["city"] for r in rows}
    assert "'@Town" in cities and "'-Nowhere" in cities
    assert not any(v.startswith(("=", "+", "-", "@")) for r in rows for v in r.values())


def test_excel_round_trip_neutralised(result, tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    p = result.to_excel(tmp_path / "out.xlsx")
    ws = openpyxl.load_workbook(p).active
    header = [c.value for c in ws[1]]
    assert header[:3] == ["rank", "name", "score"]
    assert all(c.font.bold for c in ws[1])
    values = [[c.value for c in row] for row in ws.iter_rows(min_row=2)]
    assert len(values) == 9
    names = [v[1] for v in values]
    assert "'" + FORMULA in names
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)
    assert values[0][2] == result.rows[0]["score"]


def test_html_escapes_hostile_name(result, tmp_path):
    p = result.to_html(tmp_path / "out.html")
    text = p.read_text(encoding="utf-8")
    assert HOSTILE not in text
    assert html.escape(HOSTILE) in text
    assert "<script" not in text.lower()
    assert "星辰液体火箭" in text and text.count("<tr") == 1 + 2 * 9


def test_screen_cli_writes_every_format(tmp_path):
    import json

    from typer.testing import CliRunner

    from hardtech.presentation.cli.app import app

    f = tmp_path / "apps.csv"
    f.write_text("name,description\nPhotonIQ,Designs silicon photonic transceiver chips; pilot line running\n"
                 "=SUM(A1),Food delivery app for office workers\n", encoding="utf-8")
    res = CliRunner().invoke(app, ["screen", str(f), "--csv", str(tmp_path / "o.csv"), "--excel",
                                   str(tmp_path / "o.xlsx"), "--html", str(tmp_path / "o.html"), "-f", "json"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)
    assert rows[0]["name"] == "PhotonIQ" and rows[0]["rank"] == 1
    assert (tmp_path / "o.csv").read_text(encoding="utf-8").count("'=SUM(A1)") == 1
    assert (tmp_path / "o.xlsx").exists() and "<html" in (tmp_path / "o.html").read_text(encoding="utf-8").lower()
    bad = tmp_path / "bad.csv"
    bad.write_text("company,text\nA,B\n", encoding="utf-8")
    res = CliRunner().invoke(app, ["screen", str(bad)])
    assert res.exit_code == 2 and "name" in res.output
