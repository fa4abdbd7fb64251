"""Hardness score: parts add up, missing data never counts as zero, every rule of docs/hardness.md pinned."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from hardtech.analytics import hardness as h
from hardtech.errors import NotFound, SourceError, UsageError
from hardtech.store.connection import Store
from hardtech.schema import TABLES

T0 = dt.datetime(2024, 1, 1, 12, 0, 0)
W = h.load_weights()
PROBS = json.dumps({"hard_core": 0.6, "deep": 0.2, "black": 0.05, "high": 0.1, "model_innovation": 0.05})


def put(store, table, rows, source="test", at=T0):
    """Insert rows as written (provenance filled in), so each test states exactly what the store holds."""
    df = pd.DataFrame(rows)
    if TABLES[table].provenance:
        df["source_name"], df["imported_at"], df["synthetic"] = source, at, False
    store.con.register("_rows", pa.Table.from_pandas(df, preserve_index=False))
    store.con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _rows")
    store.con.unregister("_rows")


def org(oid, **kw):
    return {"org_id": oid, "kind": "company", "name_en": kw.pop("name", oid.upper()), **kw}


def fin(oid, year, rd=None, revenue=None, currency="CNY", **kw):
    return {"org_id": oid, "fiscal_year": year, "currency": currency, "rd_expense": rd, "revenue": revenue, **kw}


def patent(pn, oid, filed, cites=0, family=1, npl=0, cpc=("G06N3/08",)):
    return {"publication_number": pn, "applicant_org_id": oid, "filing_date": filed, "forward_citations": cites,
            "family_size": family, "npl_citations": npl, "cpc_codes": list(cpc), "patent_type": "invention"}


def verdict(oid, top_field="ai", probs=PROBS, version="m1", at=T0):
    return {"entity_type": "organization", "entity_id": oid, "model_version": version, "top_field": top_field,
            "typology_probabilities": probs, "classified_at": at}


def load_synthetic(store, orgs: int, seed: int, years: tuple[int, int]) -> dict:
    """A small synthetic universe written straight into the store (organisations, financials, patents, rounds)."""
    from hardtech.tools.synthetic import SynthConfig, generate

    tables = generate(SynthConfig(orgs=orgs, seed=seed, years=years))
    for name in ("organizations", "financials", "patents", "funding_rounds"):
        t = tables[name]
        t = t.append_column("source_name", pa.array(["synth"] * t.num_rows)).append_column(
            "imported_at", pa.array([T0] * t.num_rows, pa.timestamp("us")))
        store.con.register("_t", t)
        store.con.execute(f"INSERT INTO {name} BY NAME SELECT * FROM _t")
        store.con.unregister("_t")
    return tables


def row(df, oid, year=None):
    sel = df[(df.org_id == oid) & ((df.year == year) if year is not None else True)]
    assert len(sel) == 1, f"{oid} {year}: {len(sel)} rows"
    return sel.iloc[0]


@pytest.fixture
def full_store(store):
    """`full` has every indicator in 2020; `thin` has one year of R&D and revenue and nothing else."""
    put(store, "organizations", [
        org("full", name="Full Co", city="Xi'an", country="CN", founded=2015, industry_codes=["isic:2620"]),
        org("thin", name="Thin Co"),
        org("xjtu", kind="university", city="Xi'an", country="CN"),
    ])
    rows = []
    for y, rev, rd in [(2015, 0, 10), (2016, 0, 20), (2017, 0, 30), (2018, 100, 40), (2019, 200, 50), (2020, 400, 60)]:
        filings = {} if y < 2017 else {"patent_filings_cn": y - 2015, "patent_filings_us": 1 if y >= 2019 else None}
        rows.append(fin("full", y, rd, rev, rd_staff=30, employees=100, capex=20, invention_patents=y - 2014, **filings))
    rows.append(fin("thin", 2020, 60, 400))
    put(store, "financials", rows)
    put(store, "funding_rounds", [
        {"round_id": "r1", "org_id": "full", "date": dt.date(2016, 5, 1), "amount_usd": 1e6, "stage": "a"},
        {"round_id": "r2", "org_id": "full", "date": dt.date(2019, 5, 1), "amount_usd": 5e6, "stage": "b"},
    ])
    put(store, "patents", [
        patent("P1", "full", dt.date(2019, 3, 1), cites=1, family=2, npl=4, cpc=("G06N3/08", "H01L21/00")),
        patent("P2", "full", dt.date(2019, 6, 1), cites=3, family=4, npl=0, cpc=("G06N3/04",)),
    ])
    put(store, "classifications", [verdict("full")])
    return store


# ------------------------------------------------------------------------------ weights file


def test_packaged_weights_add_up_to_one_and_list_every_indicator():
    assert set(W.indicators) == set(h.INDICATORS)
    assert math.isclose(sum(s.weight for s in W.indicators.values()), 1.0, abs_tol=1e-12)
    assert W.version


def _copy_weights(tmp_path, edit) -> Path:
    text = Path(W.path).read_text(encoding="utf-8")
    p = tmp_path / "my_weights.toml"
    p.write_text(edit(text), encoding="utf-8")
    return p


def test_weights_that_do_not_add_up_to_one_are_refused_naming_the_file(tmp_path):
    p = _copy_weights(tmp_path, lambda s: s.replace("weight = 0.09", "weight = 0.19", 1))
    with pytest.raises(SourceError) as err:
        h.load_weights(p)
    assert str(p) in str(err.value) and "add up to 1.1" in str(err.value)


def test_weights_file_must_name_every_indicator_and_no_unknown_one(tmp_path):
    p = _copy_weights(tmp_path, lambda s: s.replace("[indicators.rd_volatility]", "[indicators.rd_volatilty]"))
    with pytest.raises(SourceError, match="unknown indicator.*rd_volatilty"):
        h.load_weights(p)
    with pytest.raises(SourceError, match="cannot read hardness weights"):
        h.load_weights(tmp_path / "absent.toml")
    p = _copy_weights(tmp_path, lambda s: s.replace('transform = "linear"', 'transform = "cubic"', 1))
    with pytest.raises(SourceError, match="transform must be one of"):
        h.load_weights(p)


# ------------------------------------------------------------------------------ the score


def test_parts_add_up_to_the_score(full_store):
    df = h.score(full_store)
    assert len(df) == 7  # six years of `full`, one of `thin`
    parts = df[[f"part_{i}" for i in h.INDICATORS]]
    assert (parts.sum(axis=1, skipna=True) - df.score).abs().max() < 1e-9
    assert df.score.between(0, 100).all() and df.confidence.between(0, 1).all()
    assert (df.weights_version == W.version).all()


def test_missing_indicators_lower_confidence_and_never_count_as_zero(full_store):
    df = h.score(full_store, year=2020)
    full, thin = row(df, "full"), row(df, "thin")
    assert full.confidence == pytest.approx(1.0)  # every indicator present
    assert all(not math.isnan(full[f"value_{i}"]) for i in h.INDICATORS)
    present = [i for i in h.INDICATORS if not math.isnan(thin[f"value_{i}"])]
    # one year of R&D and revenue, no industry code, not classified: the R&D figures, and the stand-in for kind
    assert present == ["rd_intensity", "rd_depth", "rd_cumulative", "kind_prior"]
    assert thin.value_kind_prior == W.kind.unknown
    real = ["rd_intensity", "rd_depth", "rd_cumulative"]
    weight = sum(W.weight(i) for i in real)
    assert thin.confidence == pytest.approx(weight)  # the stand-in does not count as evidence
    kind = sum(W.weight(i) for i in W.kind.indicators)
    expected = (sum(W.weight(i) * thin[f"value_{i}"] for i in real) + kind * W.kind.unknown) / (weight + kind) * 100
    assert thin.score == pytest.approx(expected)  # R&D re-normalised over what is there, kind never re-weighted
    assert thin.score > sum(W.weight(i) * thin[f"value_{i}"] for i in real) * 100 * 1.5  # far above zero-filling
    assert thin.part_kind_prior == pytest.approx(kind * W.kind.unknown / (weight + kind) * 100)
    for i in h.INDICATORS:
        if i not in present:
            assert math.isnan(thin[f"part_{i}"]), i  # a missing part is missing, not 0


def test_indicator_values_of_a_known_company(full_store):
    r = row(h.indicators(full_store, year=2020), "full")
    assert r.raw_rd_intensity == pytest.approx(60 / 400)
    assert r.raw_rd_depth == pytest.approx((40 + 50 + 60) / (100 + 200 + 400))  # the years with revenue > 0
    assert r.rd_revenue_years == 3
    assert r.oecd_group == "high" and r.reference_intensity == pytest.approx(0.10)
    # isic:2620 → rule 262 of nace_isic.csv: high OECD group, manufacturing, a hard & core candidate
    assert r.raw_sector_rd_group == 1.0 and r.raw_sector_activity == 1.0 and r.raw_kind_prior == 1.0
    assert "nace_isic.csv row '262'" in r.sector_rule and "isic:2620 → hard_core" in r.kind_sources
    assert r.intensity_standing == pytest.approx(1.5)
    assert r.value_rd_intensity == pytest.approx(1.5 / 2.5)  # saturating, half = 1
    assert r.raw_rd_staff_share == pytest.approx(0.3)
    assert r.raw_capital_intensity == pytest.approx(20 / 400)
    assert r.raw_rd_persistence == 1.0 and r.rd_years_reported == 5  # 2016–2020
    assert r.raw_rd_cumulative == pytest.approx(20 + 30 + 40 + 50 + 60)
    assert r.raw_rd_growth == pytest.approx((60 / 20) ** 0.25 - 1)
    vals = [20, 30, 40, 50, 60]
    m = sum(vals) / 5
    assert r.raw_rd_volatility == pytest.approx((sum((v - m) ** 2 for v in vals) / 5) ** 0.5 / m)
    assert r.raw_rd_cycle == 3 and not r.cycle_censored  # founded 2015, zero revenue until 2018
    assert r.raw_pre_revenue_funding == pytest.approx(1e6)  # the 2019 round came after revenue
    assert r.raw_invention_patents == 6
    assert r.raw_invention_patent_growth == pytest.approx((math.log(7) - math.log(3)) / 4)
    # filings per year over the window (2017 2, 2018 3, 2019 4 + 1, 2020 5 + 1; none before 2017): mean 4
    assert r.raw_patent_filings == pytest.approx(4.0)
    assert r.raw_institutions_nearby == 1  # the university in the same city
    assert r.raw_hardness_of_kind == pytest.approx(0.8) and r.raw_physical_product == pytest.approx(0.95)
    assert r.field == "ai"


def test_a_pre_revenue_year_counts_funding_so_far_and_a_censored_cycle(full_store):
    r = row(h.indicators(full_store, year=2017), "full")
    assert r.raw_rd_cycle == 3 and r.cycle_censored  # at least 2015..2017 without revenue
    assert r.raw_pre_revenue_funding == pytest.approx(1e6)
    assert math.isnan(r.raw_rd_intensity) and r.missing_rd_intensity == "revenue is 0: intensity undefined"


def test_revenue_zero_leaves_intensity_missing_with_a_reason(store):
    put(store, "organizations", [org("z")])
    put(store, "financials", [fin("z", 2020, rd=50, revenue=0, capex=5)])
    r = row(h.indicators(store, year=2020), "z")
    assert math.isnan(r.raw_rd_intensity) and math.isnan(r.value_rd_intensity)  # never inf
    assert r.missing_rd_intensity == "revenue is 0: intensity undefined"
    assert r.missing_capital_intensity == "revenue is 0: capital intensity undefined"
    assert math.isnan(r.part_rd_intensity)


def test_patent_filings_count_as_filings_against_the_year_s_filers(store):
    """Filings at the IP offices (the JRC-OECD panel's counts) are their own indicator, scaled by the median
    filer of the year; zero filings is a value (0), no count at all is missing with its reason, and they never
    stand in for invention patents held (weights version 3, docs/hardness.md)."""
    put(store, "organizations", [org("a"), org("b"), org("c"), org("none")])
    put(store, "financials", [
        fin("a", 2018, 10, 100, patent_filings_cn=30, patent_filings_us=10),  # 40 in 2018
        fin("a", 2017, 10, 100, patent_filings_ep=20),                          # 20 in 2017: mean 30
        fin("b", 2018, 10, 100, patent_filings_kr=10),
        fin("c", 2018, 10, 100, patent_filings_jp=0, patent_filings_cn=0),
        fin("none", 2018, 10, 100),
    ])
    df = h.indicators(store, year=2018)
    a, b, c, none = (row(df, k) for k in ("a", "b", "c", "none"))
    assert a.raw_patent_filings == pytest.approx(30.0) and b.raw_patent_filings == pytest.approx(10.0)
    assert c.raw_patent_filings == 0 and c.value_patent_filings == 0 and not isinstance(c.missing_patent_filings, str)
    # the median of the year's positive filers (30, 10) is 20: a -> 30 / 50, b -> 10 / 30
    assert a.value_patent_filings == pytest.approx(0.6) and b.value_patent_filings == pytest.approx(1 / 3)
    assert math.isnan(none.raw_patent_filings) and "patent filing count" in none.missing_patent_filings
    assert math.isnan(a.raw_invention_patents)  # filings are not patents held
    w = h.load_weights()
    assert c.confidence - none.confidence == pytest.approx(w.weight("patent_filings"))


def test_negative_and_absurd_values_are_warnings_not_crashes(store):
    put(store, "organizations", [org("neg"), org("odd")])
    put(store, "financials", [fin("neg", 2020, rd=-5, revenue=-100, rd_staff=50, employees=10),
                              fin("odd", 2020, rd=1e12, revenue=1.0)])
    df = h.indicators(store, year=2020)
    neg, odd = row(df, "neg"), row(df, "odd")
    assert "negative R&D expense ignored" in neg.warnings and "negative revenue ignored" in neg.warnings
    assert "R&D staff exceed employees" in neg.warnings and math.isnan(neg.raw_rd_staff_share)
    assert math.isnan(neg.raw_rd_intensity) and math.isnan(neg.raw_rd_cumulative)
    assert math.isnan(odd.raw_rd_intensity) and "x revenue: intensity ignored" in odd.warnings


def test_a_custom_weights_file_changes_scores_and_the_version_saved(full_store, tmp_path):
    def only_intensity(text):
        import re

        text = re.sub(r"(?m)^weight = [0-9.]+", "weight = 0.0", text)
        text = re.sub(r"\{ weight = [0-9.]+,", "{ weight = 0.0,", text)  # the criteria
        text = text.replace("high_entry_threshold   = { weight = 0.0,", "high_entry_threshold = { weight = 1.0,")
        text = text.replace('criterion = "high_entry_threshold"\nweight = 0.0\ntransform = "saturating"   # applied',
                            'criterion = "high_entry_threshold"\nweight = 1.0\ntransform = "saturating"   # applied')
        return text.replace(f'version = "{W.version}"', 'version = "intensity-only"')

    p = _copy_weights(tmp_path, only_intensity)
    custom = h.load_weights(p)
    assert custom.weight("rd_intensity") == 1.0 and custom.version == "intensity-only"
    a, b = h.score(full_store, year=2020), h.score(full_store, year=2020, weights=p)
    full_b = row(b, "full")
    assert full_b.score == pytest.approx(100 * full_b.value_rd_intensity)
    assert full_b.score != pytest.approx(row(a, "full").score)
    assert h.save_scores(full_store, a) == 2 and h.save_scores(full_store, b) == 2
    assert h.save_scores(full_store, b) == 2  # the same version again replaces, never duplicates
    saved = full_store.con.execute(
        "SELECT weights_version, count(*) FROM scores GROUP BY 1 ORDER BY 1").fetchall()
    assert saved == [(W.version, 2), ("intensity-only", 2)]
    parts = json.loads(full_store.con.execute(
        "SELECT parts FROM scores WHERE org_id = 'full' AND weights_version = 'intensity-only'").fetchone()[0])
    assert parts["rd_intensity"]["weight"] == 1.0
    assert parts["rd_intensity"]["contribution"] == pytest.approx(full_b.score)
    assert parts["rd_cumulative"]["contribution"] == 0.0


def test_percentile_within_field_and_year(store):
    put(store, "organizations", [org(f"o{i}") for i in range(8)])
    put(store, "financials", [fin(f"o{i}", 2020, rd=10 * (i + 1), revenue=1000) for i in range(7)]
        + [fin("o7", 2019, rd=5, revenue=1000)])
    put(store, "classifications", [verdict(f"o{i}", top_field="ai") for i in (0, 1, 2, 3, 4, 7)]
        + [verdict("o5", top_field="biotech")])  # o6 is not classified
    df = h.score(store)
    y20 = df[df.year == 2020]
    ai = y20[y20.field == "ai"].sort_values("score")
    assert list(ai.percentile_in_field_year) == pytest.approx([20.0, 40.0, 60.0, 80.0, 100.0])
    assert list(ai.org_id) == ["o0", "o1", "o2", "o3", "o4"]  # more R&D on the same revenue: harder
    assert row(df, "o6", 2020).field == "unclassified"


def test_no_percentile_from_a_group_too_small_to_rank(store):
    """Issue 15: a lone organisation of its field and year got percentile 100; below 5 there is none, and
    --explain says why."""
    put(store, "organizations", [org(f"o{i}") for i in range(3)])
    put(store, "financials", [fin("o0", 2020, rd=10, revenue=1000), fin("o1", 2020, rd=20, revenue=1000),
                              fin("o2", 2019, rd=5, revenue=1000)])
    put(store, "classifications", [verdict("o0", top_field="biotech"), verdict("o1", top_field="biotech"),
                                   verdict("o2", top_field="ai")])
    df = h.score(store)
    assert h.MIN_PERCENTILE_COHORT == 5
    assert math.isnan(row(df, "o2", 2019).percentile_in_field_year)  # alone in ai × 2019
    assert math.isnan(row(df, "o1", 2020).percentile_in_field_year)  # 2 of biotech × 2020
    d = h.explain(store, "o2")
    assert d["percentile_in_field_year"] is None and "No percentile: fewer than 5 organisations" in d["note"]


def test_patent_indicators_are_normalised_within_field_and_filing_year(store):
    put(store, "organizations", [org("a"), org("b")])
    put(store, "financials", [fin("a", y, 10, 100) for y in (2019, 2020, 2021)] + [fin("b", 2020, 10, 100)])
    put(store, "patents", [
        patent("A1", "a", dt.date(2019, 1, 5), cites=1, family=1, npl=2, cpc=("G06N3/08",)),
        patent("A2", "a", dt.date(2019, 9, 5), cites=3, family=3, npl=6, cpc=("G06F9/00", "H04L9/00")),
        patent("A3", "a", dt.date(2021, 2, 1), cites=8, family=2, npl=1, cpc=("B33Y10/00",)),
        patent("B1", "b", dt.date(2020, 4, 1), cites=10, family=5, npl=0, cpc=("G06N20/00",)),
    ])
    df = h.indicators(store)
    a19, a21, b20 = row(df, "a", 2019), row(df, "a", 2021), row(df, "b", 2020)
    # A1 and A2 share the cohort G06 × 2019 (mean citations 2): 0.5 and 1.5, averaging 1.0
    assert a19.raw_patent_citations == pytest.approx(1.0) and a19.value_patent_citations == pytest.approx(0.5)
    assert a19.forward_citations_mean == pytest.approx(2.0) and a19.patents_counted == 2
    assert a19.raw_patent_family == pytest.approx(1.0)  # (1/2 + 3/2) / 2
    assert a19.raw_patent_scope == pytest.approx((1 / 1.5 + 2 / 1.5) / 2)  # 1 and 2 subclasses, mean 1.5
    assert a19.raw_science_linkage == pytest.approx(1.0)
    assert b20.raw_patent_citations == pytest.approx(1.0)  # alone in G06 × 2020: at its cohort's mean
    assert row(df, "a", 2020).patents_counted == 2  # the 2021 patent does not count before 2021
    assert a21.patents_counted == 3 and a21.raw_patent_citations == pytest.approx((0.5 + 1.5 + 1.0) / 3)
    assert math.isnan(row(df, "b", 2020).raw_rd_growth)


def test_several_sources_take_each_figure_from_the_newest_row_that_has_it(store):
    put(store, "organizations", [org("m")])
    put(store, "financials", [fin("m", 2020, rd=10, revenue=100)], source="old", at=T0)
    put(store, "financials", [fin("m", 2020, rd=20, revenue=None)], source="new", at=T0 + dt.timedelta(days=1))
    r = row(h.indicators(store, year=2020), "m")
    assert r.rd_expense == 20 and r.revenue == 100 and r.raw_rd_intensity == pytest.approx(0.2)


def test_the_latest_verdict_decides_field_and_typology(store):
    put(store, "organizations", [org("c")])
    put(store, "financials", [fin("c", 2020, 10, 100)])
    put(store, "classifications", [
        verdict("c", top_field="ai", version="old", at=T0),
        verdict("c", top_field="biotech", version="new", at=T0 + dt.timedelta(days=1),
                probs=json.dumps({"hard_core": 0.1, "deep": 0.1, "model_innovation": 0.7})),
    ])
    r = row(h.indicators(store, year=2020), "c")
    assert r.field == "biotech" and r.model_version == "new"
    assert r.raw_physical_product == pytest.approx(0.3) and r.raw_hardness_of_kind == pytest.approx(0.2)


def test_unknown_organisation_and_year_are_clear_errors(full_store):
    with pytest.raises(NotFound, match="'nobody'"):
        h.explain(full_store, "nobody")
    with pytest.raises(NotFound, match="'ghost'"):
        h.score(full_store, org_ids=["full", "ghost"])
    # "in the store": missing data is said of the store, never as a fact about the company (issue 15)
    msg = r"full \(Full Co\) has no financial figures for 2012 in the store; years it has: 2015–2020"
    with pytest.raises(UsageError, match=msg):
        h.explain(full_store, "full", 2012)
    with pytest.raises(UsageError, match="no financial figures for 1999 in the store; years with figures: 2015–2020"):
        h.score(full_store, year=1999)
    with pytest.raises(UsageError, match=r"xjtu \(XJTU\) has no financial figures in the store, so no hardness score"):
        h.explain(full_store, "xjtu")
    with pytest.raises(UsageError, match="year must be a year"):
        h.score(full_store, year="last")


def test_explain_is_json_and_adds_up(full_store):
    e = h.explain(full_store, "thin")
    again = json.loads(json.dumps(e))
    assert again["year"] == 2020 and again["weights_version"] == W.version
    total = sum(p["contribution"] for p in again["parts"] if p["contribution"] is not None)
    assert total == pytest.approx(again["score"], abs=1e-9)
    stand_in = next(p for p in again["parts"] if p["indicator"] == "kind_prior")  # thin: nothing says its kind
    assert stand_in["missing"] and stand_in["contribution"] > 0 and "kind.unknown" in stand_in["stand_in"]
    assert again["missing"] == [p["indicator"] for p in again["parts"] if p["missing"]]
    intensity = next(p for p in again["parts"] if p["indicator"] == "rd_intensity")
    assert intensity["inputs"]["revenue"] == 400 and intensity["inputs"]["oecd_group"] == "unknown"
    staff = next(p for p in again["parts"] if p["indicator"] == "rd_staff_share")
    assert staff["missing"] and staff["contribution"] is None and staff["missing_reason"] == "no R&D staff figure in the store"
    assert "never counted as 0" in again["note"]
    full = h.explain(full_store, "full", 2020)
    assert full["missing"] == [] and full["confidence"] == pytest.approx(1.0)


def test_score_runs_on_a_mapping_of_ibis_tables_without_optional_tables(full_store):
    tables = {"financials": full_store.table("financials"), "organizations": full_store.table("organizations")}
    df = h.score(tables, year=2020)
    r = row(df, "full")
    assert math.isnan(r.value_patent_citations) and math.isnan(r.value_hardness_of_kind)
    assert r.field == "unclassified" and r.confidence < 1
    with pytest.raises(UsageError, match="needs the organizations"):
        h.score({"financials": full_store.table("financials")})


def test_synthetic_universe_scores_without_surprises(store):
    tables = load_synthetic(store, orgs=400, seed=3, years=(2016, 2020))
    df = h.score(store)
    assert len(df) == tables["financials"].num_rows
    parts = df[[f"part_{i}" for i in h.INDICATORS]].sum(axis=1)
    scored = df.score.notna()
    assert (parts[scored] - df.score[scored]).abs().max() < 1e-9
    assert df.percentile_in_field_year[scored].between(0, 100).all()


def test_percentile_and_cohort_median_transforms(store, tmp_path):
    put(store, "organizations", [org(f"p{i}") for i in range(4)])
    put(store, "financials", [fin("p0", 2020, 10, 100), fin("p1", 2020, 20, 100), fin("p2", 2020, 30, 100),
                              fin("p3", 2020, 30, 100, currency="EUR")])
    df = h.score(store, year=2020)
    # cohort_median (packaged default): CNY cohort median 20 -> 10/30, 20/40, 30/50; EUR alone -> 0.5
    assert [row(df, f"p{i}").value_rd_cumulative for i in range(4)] == pytest.approx([1 / 3, 0.5, 0.6, 0.5])
    p = _copy_weights(tmp_path, lambda s: s.replace(
        'transform = "cohort_median"\ncohort = ["currency"]', 'transform = "percentile"\ncohort = ["currency"]'))
    df = h.score(store, year=2020, weights=p)
    # mid-rank: below + half of the equal ones, over n
    assert [row(df, f"p{i}").value_rd_cumulative for i in range(4)] == pytest.approx([1 / 6, 3 / 6, 5 / 6, 0.5])


def test_patent_cohorts_can_use_percentiles_and_subclasses(store, tmp_path):
    put(store, "organizations", [org("a")])
    put(store, "financials", [fin("a", 2019, 10, 100)])
    put(store, "patents", [
        patent("A1", "a", dt.date(2019, 1, 5), cites=1, cpc=("G06N3/08",)),
        patent("A2", "a", dt.date(2019, 9, 5), cites=3, cpc=("G06N20/00",)),
        patent("A3", "a", dt.date(2019, 9, 9), cites=9, cpc=("G06F9/00",)),
    ])
    p = _copy_weights(tmp_path, lambda s: s.replace('normalise = "mean_ratio"', 'normalise = "percentile"'))
    r = row(h.indicators(store, weights=p), "a")
    assert r.raw_patent_citations == pytest.approx((1 / 6 + 3 / 6 + 5 / 6) / 3)  # mid-ranks within G06 × 2019
    p = _copy_weights(tmp_path, lambda s: s.replace('cohort_field = "class"', 'cohort_field = "subclass"'))
    r = row(h.indicators(store, weights=p), "a")
    assert r.raw_patent_citations == pytest.approx((0.5 + 1.5 + 1.0) / 3)  # G06N: mean 2; G06F alone


def test_cycle_and_pre_revenue_funding_stay_missing_when_the_history_cannot_tell(store):
    put(store, "organizations", [org("old", founded=2000), org("quiet", founded=2018)])
    put(store, "financials", [fin("old", 2018, 5, 100), fin("old", 2019, 6, 120), fin("quiet", 2020, 5, None)])
    put(store, "funding_rounds", [
        {"round_id": "o1", "org_id": "old", "date": dt.date(2005, 1, 1), "amount_usd": 1e6},
        {"round_id": "q1", "org_id": "quiet", "date": dt.date(2019, 1, 1), "amount_usd": 2e6},
    ])
    df = h.indicators(store)
    old, quiet = row(df, "old", 2019), row(df, "quiet", 2020)
    # figures start 18 years after founding with revenue already there: not an 18-year cycle
    assert math.isnan(old.raw_rd_cycle)
    assert old.missing_rd_cycle == "revenue history starts after founding: first revenue year unknown"
    assert math.isnan(old.raw_pre_revenue_funding) and old.missing_pre_revenue_funding == "first revenue year unknown"
    assert math.isnan(quiet.raw_pre_revenue_funding)
    assert quiet.missing_pre_revenue_funding == "no revenue figures in the store: cannot tell whether still pre-revenue"
    assert quiet.missing_rd_cycle == ("no positive revenue in the store up to this year, and no zero-revenue year on "
                                     "record to date the start")


def test_explaining_from_the_whole_cohort_table_gives_the_same_answer(store, tmp_path):
    """The service keeps the store's indicators per year; every explanation must equal the direct one,
    and the kept table must be dropped once the store changes."""
    from hardtech.services import scoring as svc

    load_synthetic(store, orgs=60, seed=5, years=(2018, 2020))
    ids = [r[0] for r in store.con.execute("SELECT DISTINCT org_id FROM financials ORDER BY 1 LIMIT 5").fetchall()]
    db = store.path
    store.close()
    svc._cohorts.clear()
    first = {}
    for oid in ids:
        with Store(db, read_only=True) as s:
            direct = h.explain(s, oid)
        first[oid] = svc.explain_score(db, oid)
        assert first[oid] == direct
    assert len(svc._cohorts) >= 1
    with Store(db) as s:  # a change to the store: the kept cohort no longer answers
        s.con.execute("UPDATE financials SET rd_expense = rd_expense * 2 WHERE org_id = ?", [ids[0]])
        s.con.execute("CHECKPOINT")
    with Store(db, read_only=True) as s:
        direct = h.explain(s, ids[0])
    assert direct != first[ids[0]]
    assert svc.explain_score(db, ids[0]) == direct


def test_scores_saved_from_the_engine_equal_the_collected_frame_saved(store):
    """`score_table` + `save_score_table` (what `hardtech score` runs: nothing collected) write the rows and
    parts that `save_scores(score())` writes; the scores table read back the same both ways."""
    load_synthetic(store, orgs=300, seed=5, years=(2017, 2020))
    query = ("SELECT org_id, year, score, confidence, percentile_in_field_year, field, weights_version, parts "
             "FROM scores ORDER BY org_id, year")
    df = h.score(store)
    assert h.save_scores(store, df) == len(df) > 0
    collected = store.con.execute(query).fetchall()
    store.con.execute("DELETE FROM scores")
    assert h.save_score_table(store, h.score_table(store), W) == len(df)
    from_engine = store.con.execute(query).fetchall()
    assert len(from_engine) == len(collected)
    for a, b in zip(collected, from_engine):
        assert a[:2] == b[:2] and a[5:7] == b[5:7]
        for x, y in zip(a[2:5], b[2:5]):
            assert (x is None and y is None) or x == pytest.approx(y, abs=1e-9)
        pa_, pb = json.loads(a[7]), json.loads(b[7])
        assert pa_.keys() == pb.keys()
        for i in pa_:
            for k in ("weight", "value", "contribution"):
                x, y = pa_[i][k], pb[i][k]
                assert (x is None and y is None) or x == pytest.approx(y, abs=1e-9), (a[0], i, k)
