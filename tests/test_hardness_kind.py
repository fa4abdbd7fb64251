"""Evidence of kind in the hardness score: every source read and named, none re-weighted away, unknown kind not neutral."""

from __future__ import annotations

import csv
import json
import math
from importlib import resources
from pathlib import Path

import pytest

from hardtech.analytics import hardness as h
from hardtech.analytics import kind_evidence as ke
from hardtech.errors import SourceError

from test_hardness import T0, W, _copy_weights, fin, org, put, row, verdict


# ------------------------------------------------------------------------------ the concordance columns


def test_every_row_of_the_three_concordances_says_activity_and_kind():
    kinds = ke.load_code_kinds()
    assert kinds, "no rows read"
    blank = sorted(k for k, v in kinds.items() if v[0] is None or v[1] is None)
    assert blank == [("cn_industry", "综合类")]  # conglomerates of unknown mix: documented as saying nothing
    root = Path(str(resources.files("hardtech.data"))) / "concordances"
    for name in ke.FILES:
        with (root / name).open(encoding="utf-8") as f:
            header = next(csv.reader(f))
        assert header[-2:] == ["activity", "kind_prior"], name  # appended: older row layouts still load


@pytest.mark.parametrize("scheme, code, activity, prior, group, rule", [
    ("nace", "2610", "manufacturing", "hard_core", "high", "261"),   # Huawei in the panel: class → group 261
    ("nace", "3030", "manufacturing", "hard_core", "high", "303"),   # Boeing
    ("nace", "6420", "services", "finance", "low", "64"),            # HSBC
    ("nace", "4791", "services", "model_innovation", "low", "4791"),  # Alibaba, eBay: retail via internet
    ("isic", "7211", "services", "deep", "high", "72"),              # ISIC has no 7211 row: falls back to 72
    ("isic", "62-63", "services", "high", "medium_high", "62-63"),
    ("gics", "Diversified Banks", "services", "finance", None, "Diversified Banks"),
    ("gics", "semiconductors", "manufacturing", "hard_core", None, "Semiconductors"),
    ("gics", "Interactive Media & Services", "services", "model_innovation", None, "Interactive Media & Services"),
    ("cn_industry", "互联网", "services", "model_innovation", None, "互联网"),
    ("cn_industry", "航空", "manufacturing", "hard_core", None, "航空"),
])
def test_a_code_says_what_kind_of_business_and_which_row_says_it(scheme, code, activity, prior, group, rule):
    c = ke.code_kind(scheme, code)
    assert (c.activity, c.kind_prior, c.oecd_group, c.rule) == (activity, prior, group, rule)
    assert c.source.startswith(f"concordances/{c.file} row {rule!r}: ")


def test_unknown_and_malformed_codes_are_no_evidence_and_said_so():
    assert ke.code_kind("gics", "Widgets") is None
    assert ke.code_kind("nace", "not a code") is None
    ev = ke.sector_kind(["gics:Widgets", "isic:26"], "company")
    assert ev.unknown_codes == ("gics:Widgets",) and ev.sector.rule == "26"
    assert ev.org_prior is None  # a company could be anything
    assert ke.sector_kind([], "university").priors() == [("research", "organisation kind university → research")]


def test_a_bad_or_inconsistent_value_is_refused_naming_file_and_line(tmp_path):
    root = Path(str(resources.files("hardtech.data"))) / "concordances"
    for name in ke.FILES:
        (tmp_path / name).write_text((root / name).read_text(encoding="utf-8"), encoding="utf-8")
    with (tmp_path / "gics.csv").open("a", encoding="utf-8") as f:
        f.write("Widgets,none,0,tertiary,,widgets,services,very_hard\n")
    with pytest.raises(SourceError, match=r"gics\.csv: line \d+: kind_prior 'very_hard'"):
        ke.load_code_kinds(str(tmp_path))
    (tmp_path / "gics.csv").write_text((root / "gics.csv").read_text(encoding="utf-8")
                                       + "Semiconductors,ai,0.1,secondary,,chips,services,hard_core\n", encoding="utf-8")
    with pytest.raises(SourceError, match="activity/kind_prior of 'Semiconductors' differ"):
        ke.load_code_kinds(str(tmp_path))


# ------------------------------------------------------------------------------ the kind block in the score


def _twins(store, codes: dict[str, list[str]], kinds: dict[str, str] | None = None):
    """Organisations with identical R&D figures (3 years, 8% of revenue) that differ only in what says their kind."""
    put(store, "organizations", [org(o, industry_codes=c, kind=(kinds or {}).get(o, "company"))
                                 for o, c in codes.items()])
    put(store, "financials", [fin(o, y, 8.0 * (1 + (y - 2018) / 10), 100.0 * (1 + (y - 2018) / 10), capex=10)
                              for o in codes for y in (2018, 2019, 2020)])


def test_the_same_r_and_d_scores_by_what_kind_of_business_it_is(store):
    _twins(store, {"fab": ["nace:2611"], "bank": ["nace:6419"], "shop": ["gics:Broadline Retail"],
                   "ashare": ["cn_industry:半导体"], "nothing": [], "uni": []}, kinds={"uni": "university"})
    df = h.score(store, year=2020)
    s = {o: row(df, o).score for o in ("fab", "bank", "shop", "ashare", "nothing", "uni")}
    assert s["fab"] > s["uni"] > s["nothing"] > max(s["shop"], s["bank"])
    assert s["ashare"] > s["nothing"]  # an A-share industry is evidence too
    # the absolute R&D parts are the same numbers for all: only the kind differs ...
    for i in ("rd_depth", "capital_intensity", "rd_persistence", "rd_cumulative"):
        assert len({round(row(df, o)[f"value_{i}"], 12) for o in s}) == 1, i
    # ... and "leader within its sector" stays one part: 8% is far above a bank's norm, below a chip maker's
    assert row(df, "bank").value_rd_intensity > row(df, "fab").value_rd_intensity
    # no kind evidence: lower confidence, and the stand-in is below neutral, so not scored as if neutral
    nothing, bank = row(df, "nothing"), row(df, "bank")
    assert nothing.confidence < bank.confidence
    assert nothing.value_kind_prior == W.kind.unknown < 0.5


def test_the_kind_block_keeps_its_weight_and_shares_it_among_the_evidence_present(store):
    _twins(store, {"only_gics": ["gics:Semiconductors"], "only_text": [], "both": ["gics:Semiconductors"]})
    put(store, "classifications", [verdict("only_text"), verdict("both")])
    df = h.score(store, year=2020)
    kind_total = sum(W.weight(i) for i in W.kind.indicators)
    for o in ("only_gics", "only_text", "both"):
        r = row(df, o)
        parts = sum(r[f"part_{i}"] for i in W.kind.indicators if not math.isnan(r[f"part_{i}"]))
        others = [i for i in h.INDICATORS if i not in W.kind.indicators and not math.isnan(r[f"value_{i}"])]
        denom = sum(W.weight(i) for i in others) + kind_total
        values = {i: r[f"value_{i}"] for i in W.kind.indicators if not math.isnan(r[f"value_{i}"])}
        seen = sum(W.weight(i) for i in values)
        mean = sum(W.weight(i) * v for i, v in values.items()) / seen
        assert parts == pytest.approx(kind_total * mean / denom * 100)  # the block's whole weight, at its mean
        assert r.score == pytest.approx(sum(r[f"part_{i}"] for i in h.INDICATORS if not math.isnan(r[f"part_{i}"])))
    gics, text = row(df, "only_gics"), row(df, "only_text")
    assert math.isnan(gics.value_hardness_of_kind) and math.isnan(text.value_kind_prior)  # each missing the other
    assert row(df, "both").confidence > gics.confidence


def test_a_weights_file_that_misreads_the_criteria_or_the_kind_block_is_refused(tmp_path):
    p = _copy_weights(tmp_path, lambda s: s.replace("long_rd_cycle          = { weight = 0.06",
                                                    "long_rd_cycle          = { weight = 0.07"))
    with pytest.raises(SourceError, match="criteria.long_rd_cycle.weight is 0.07 but its indicators"):
        h.load_weights(p)
    p = _copy_weights(tmp_path, lambda s: s.replace('criterion = "long_rd_cycle"', 'criterion = "patience"', 1))
    with pytest.raises(SourceError, match="criterion 'patience' is not one of the criteria"):
        h.load_weights(p)
    p = _copy_weights(tmp_path, lambda s: s.replace('fallback = "kind_prior"', 'fallback = "rd_depth"'))
    with pytest.raises(SourceError, match="kind.fallback 'rd_depth' must be one of kind.indicators"):
        h.load_weights(p)
    p = _copy_weights(tmp_path, lambda s: s.replace("finance = 0.0", "finance = 0.0\nfintech = 0.1"))
    with pytest.raises(SourceError, match="kind.prior has unknown class"):
        h.load_weights(p)
    assert set(W.criteria) >= {"long_term_investment", "long_rd_cycle", "high_entry_threshold", "hard_to_imitate",
                               "basic_science", "product_industry_physical", "typology", "good_returns"}


def test_explain_names_every_source_of_kind_evidence(store):
    _twins(store, {"fab": ["nace:2611", "gics:Semiconductors"]})
    put(store, "classifications", [{"entity_type": "organization", "entity_id": "fab", "model_version": "m0",
                                    "top_field": "photonics_chips", "typology_probabilities": "{}",
                                    "classified_at": T0}])
    e = json.loads(json.dumps(h.explain(store, "fab", 2020)))
    ev = {x["evidence"]: x for x in e["kind_evidence"]}
    assert ev["OECD R&D-intensity group of the ISIC/NACE code"]["value"] == "high"
    assert "nace_isic.csv row '2611'" in ev["OECD R&D-intensity group of the ISIC/NACE code"]["source"]
    prior = ev["typology prior of the industry codes and the organisation kind"]["source"]
    assert "nace:2611 → hard_core" in prior and "gics:Semiconductors → hard_core" in prior
    assert "organisation kind company: says nothing" in prior
    cls = ev["classifier's typology (from the description)"]
    assert cls["value"] is None and cls["source"] == "classified, but too little text for a typology (no description)"
    crit = {c["criterion_id"]: c for c in e["criteria"]}
    assert sum(c["contribution"] or 0 for c in crit.values()) == pytest.approx(e["score"])
    assert crit["good_returns"]["weight"] == 0 and crit["good_returns"]["contribution"] is None


# ------------------------------------------------------------------------------ versions are never mixed


def test_readers_show_one_weights_version_the_latest_saved(store):
    import datetime as dt

    from hardtech.analytics.score_versions import one_version

    put(store, "organizations", [org("a"), org("b")])
    rows = [("a", 2020, 90.0, "1", T0), ("b", 2020, 80.0, "1", T0), ("a", 2020, 40.0, "2", T0 + dt.timedelta(hours=1))]
    for r in rows:
        store.con.execute("INSERT INTO scores (org_id, year, score, weights_version, scored_at) VALUES (?, ?, ?, ?, ?)",
                          list(r))
    got = one_version(store.table("scores")).select("org_id", "score", "weights_version").order_by("org_id")
    assert [tuple(r.values()) for r in got.to_pyarrow().to_pylist()] == [("a", 40.0, "2")]  # b's version-1 score is not ranked beside a's version-2 one
    # the search reads the same one version (analytics.score_versions, in Ibis): b is shown unscored
    from hardtech.services.search import Filters, search_orgs

    shown = {r["org_id"]: r["score"] for r in search_orgs(store, sort="org_id")["items"]}
    assert shown == {"a": 40.0, "b": None}
    assert search_orgs(store, Filters(score_min=50))["total"] == 0  # b's 80 (version 1) is not filtered on


def test_the_first_code_of_each_family_is_read_and_others_ignored(store):
    _twins(store, {"multi": ["cpc:H01L21/00", "nace:6419", "isic:26", "gics:Semiconductors", "gics:Diversified Banks",
                             "cn_industry:半导体"]})
    r = row(h.indicators(store, year=2020), "multi")
    assert r.sector_code == "nace:6419" and r.oecd_group == "low"  # the first ISIC/NACE code sets the sector
    assert "gics:Semiconductors → hard_core" in r.kind_sources and "Diversified Banks" not in r.kind_sources
    assert "cn_industry:半导体 → hard_core" in r.kind_sources and "cpc:" not in r.kind_sources
    # finance (0), hard_core (1), hard_core (1): the mean of the three sources
    assert r.raw_kind_prior == pytest.approx(2 / 3)
