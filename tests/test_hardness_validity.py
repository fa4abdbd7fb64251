"""Validity of the hardness score on real data: the JRC–OECD top-2000 R&D panel, as a user would build it.

The panel is imported with the shipped `jrc_oecd` mapping, the organisations classified, then
scored for 2018 (the figures of docs/hardness.md come from `evaluation/hardness_validity.py`, which
runs the same steps). The panel is read from ../shared/data, or from the copy bundled into the
package once there is one; absent both, the tests skip with a reason (and fail under CI=true).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import shared_file

pytestmark = [pytest.mark.slow, pytest.mark.shared]

PANEL = "jrc_oecd_rd_top2000_2015_2018.csv"


def _panel() -> Path:
    """The bundled copy (data/bundled/…parquet, once the data-bundling work is merged) or ../shared/data."""
    stem = PANEL.rsplit(".", 1)[0]
    bundled = sorted((Path(__file__).resolve().parents[1] / "src" / "hardtech" / "data").rglob(f"{stem}.*"))
    return bundled[0] if bundled else shared_file(PANEL)


@pytest.fixture(scope="module")
def panel_2018(tmp_path_factory):
    """One row per company of 2018: score, confidence, OECD group, ISIC division and aggregate, R&D intensity."""
    from hardtech.analytics import hardness
    from hardtech.analytics.hardness_validity import division
    from hardtech.services.classify import classify_store
    from hardtech.store.connection import Store
    from hardtech.store.importer import import_file

    path = _panel()
    db = tmp_path_factory.mktemp("panel") / "panel.duckdb"
    with Store(db) as store:
        import_file(store, "auto", path, mapping="jrc_oecd")
    classify_store(db, "organizations")
    with Store(db, read_only=True) as store:
        ind = hardness.indicators(store, year=2018)
        orgs = store.con.execute("SELECT org_id, industry_codes FROM organizations").df()
    orgs["division"] = orgs.industry_codes.map(division)
    df = ind[["org_id", "name", "score", "confidence", "oecd_group", "raw_rd_intensity"]].merge(orgs, on="org_id")
    return df.rename(columns={"raw_rd_intensity": "rd_intensity"})


def test_the_panel_is_scored_whole(panel_2018):
    assert len(panel_2018) == 2000 and panel_2018.score.notna().all()
    assert panel_2018.division.notna().all()  # every company has a NACE class in the panel


def test_mean_hardness_falls_with_the_oecd_r_and_d_intensity_group(panel_2018):
    from hardtech.analytics.hardness_validity import monotone_by_group

    ok, means = monotone_by_group(panel_2018)
    assert ok, f"mean score by OECD group is not high > medium-high > medium > medium-low > low: {means}"


def test_pharma_and_electronics_outscore_finance_trade_hospitality_and_advertising(panel_2018):
    from hardtech.analytics.hardness_validity import separation

    s = separation(panel_2018)
    assert s["n_hard"] > 400 and s["n_soft"] > 50
    assert s["auc"] >= 0.90, s


def test_banks_and_platforms_rank_below_chip_makers_and_aircraft_makers(panel_2018):
    score = panel_2018.set_index("name").score
    soft = ["HSBC", "ALIBABA GROUP HOLDING", "CTRIP.COM INTERNATIONAL", "EBAY"]
    hard = ["TAIWAN SEMICONDUCTOR", "HUAWEI INVESTEMENT & HOLDING CO", "ASML HOLDING", "BOEING"]
    assert score[soft].max() < score[hard].min(), score[soft + hard].round(1).to_dict()


def test_rank_correlation_with_r_and_d_intensity_across_all_companies_is_reported(panel_2018):
    """Reported in docs/hardness.md; asserted only to be positive: deeper R&D still ranks harder across sectors."""
    from hardtech.analytics.hardness_validity import spearman

    r, n = spearman(panel_2018.score, panel_2018.rd_intensity)
    assert n > 1900 and r is not None and 0 < r < 1
