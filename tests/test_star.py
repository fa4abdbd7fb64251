"""The STAR Market sci-tech attribute test (hardtech.analytics.star) at every threshold edge of every version.

Financial series are hand-built so each ratio is exactly the threshold in decimal; amounts are in
CNY units (M = one million). Comparisons use the rules file's tolerance (1e-9 relative): edges
that are exact in decimal pass even when binary floating point lands a hair below them, and
values really below a threshold (4.99% vs 5%) fail.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from hardtech.analytics import star
from hardtech.analytics.star import (
    CURRENT_VERSION,
    StarResult,
    evaluate_star,
    evaluate_star_batch,
    load_star_rules,
    version_in_force,
)
from hardtech.analytics.taxonomy import load_taxonomy
from hardtech.errors import FXError, SourceError, UsageError
from hardtech.sources.fx import FXTable, load_fx

M = 1_000_000
V2020, V2021, V2024 = "2020-03-20", "2021-04-16", "2024-04-30"
ALL = (V2020, V2021, V2024)
RULES_FILE = Path(star.__file__).resolve().parents[2] / "data" / "rules" / "star_versions.toml"


def fin(revenue=(1000 * M, 1000 * M, 1000 * M), rd=(100 * M, 100 * M, 100 * M), rd_staff=30,
        employees=100, patents=10, currency="CNY", first_year=2021, org="acme"):
    """Three fiscal years of one organisation; the defaults pass every indicator of every version."""
    rows = []
    for i, (rev, r) in enumerate(zip(revenue, rd)):
        rows.append(dict(org_id=org, fiscal_year=first_year + i, currency=currency, revenue=rev,
                         rd_expense=r, rd_staff=rd_staff, employees=employees, invention_patents=patents))
    return pd.DataFrame(rows)


def failing(**over):
    """Fails every indicator (and exception 5) of every version."""
    args = dict(revenue=(100 * M, 100 * M, 100 * M), rd=(1 * M, 1 * M, 1 * M), rd_staff=1,
                employees=100, patents=1)
    args.update(over)
    return fin(**args)


def ind(result: StarResult, name: str):
    found = [i for i in result.indicators if i.name == name]
    assert found, f"{name} not among {[i.name for i in result.indicators]}"
    return found[0]


def exc(result: StarResult, number: int):
    return next(e for e in result.exceptions if e.number == number)


@pytest.fixture(scope="module")
def usd_fx(tmp_path_factory) -> FXTable:
    """A small table with direct USD→CNY rates; 31 Dec 2022 is a Saturday, so its rate is dated the 30th."""
    path = tmp_path_factory.mktemp("fx") / "usd_cny.csv"
    path.write_text(
        "date,base,quote,rate,source\n"
        "2020-12-31,USD,CNY,6.5,test table 2020\n"
        "2021-12-31,USD,CNY,6.4,test table 2021\n"
        "2022-12-30,USD,CNY,6.0,test table 2022\n",
        encoding="utf-8",
    )
    return FXTable.from_csv(path)


# =========================================================================== the rules file


def test_versions_and_current():
    rules = load_star_rules()
    assert list(rules) == [V2020, V2021, V2024]
    assert CURRENT_VERSION == V2024
    assert rules[V2024].in_force == dt.date(2024, 4, 30)
    assert evaluate_star("acme", fin()).version == V2024  # the default


@pytest.mark.parametrize(
    "version, ratio, cumulative, staff, patents, cagr, last_revenue",
    [
        (V2020, 0.05, 60 * M, None, 5, 0.20, 300 * M),
        (V2021, 0.05, 60 * M, 0.10, 5, 0.20, 300 * M),
        (V2024, 0.05, 80 * M, 0.10, 7, 0.25, 300 * M),
    ],
)
def test_thresholds_are_those_of_domain_md(version, ratio, cumulative, staff, patents, cagr, last_revenue):
    t = load_star_rules()[version].thresholds
    assert (t.rd_ratio_min, t.rd_cumulative_min_cny, t.rd_staff_share_min, t.invention_patents_min,
            t.revenue_cagr_min, t.revenue_last_year_min_cny) == (ratio, cumulative, staff, patents, cagr, last_revenue)


def test_version_structure():
    rules = load_star_rules()
    assert rules[V2020].indicators == ("rd_investment", "invention_patents", "revenue_growth")
    assert rules[V2024].indicators == ("rd_investment", "rd_staff_share", "invention_patents", "revenue_growth")
    assert rules[V2020].negative_list == ()
    for v in (V2021, V2024):
        levels = {c.id: c.level for c in rules[v].negative_list}
        assert levels == {"fintech": "restricted", "model_innovation": "restricted",
                          "real_estate": "prohibited", "finance_investment": "prohibited"}
    for v in ALL:
        r = rules[v]
        assert [e.number for e in r.exceptions] == [1, 2, 3, 4, 5]
        assert [e.flag for e in r.exceptions[:4]] == ["international_leading", "national_award",
                                                      "major_project", "import_substitution"]
        assert r.exceptions[4].min_invention_patents == 50
        assert {c.id: c.default for c in r.carve_outs} == {"software": True, "pre_revenue": True, "red_chip": True}
        assert r.carve_out("software").rd_ratio_min == 0.10
        assert r.tolerance_rel == 1e-9


def test_every_listed_code_is_known_to_the_taxonomy():
    """A typo in a code list would silently switch a rule off."""
    tax = load_taxonomy()
    rules = load_star_rules()
    codes = {c for v in rules.values() for cat in v.negative_list for c in cat.codes}
    codes |= {c for v in rules.values() for co in v.carve_outs for c in co.codes}
    assert len(codes) > 60
    unknown = [c for c in sorted(codes) if not tax.known(*[p.strip() for p in c.split(":", 1)])]
    assert unknown == []


def test_version_in_force():
    assert version_in_force("2020-03-20") == V2020
    assert version_in_force(dt.date(2021, 4, 15)) == V2020
    assert version_in_force("2021-04-16") == V2021
    assert version_in_force("2024-04-29") == V2021
    assert version_in_force("2025-01-01") == V2024
    with pytest.raises(UsageError, match="no STAR rules version"):
        version_in_force("2019-12-31")


def test_unknown_version_lists_the_versions():
    with pytest.raises(UsageError) as err:
        evaluate_star("acme", fin(), version="2023-01-01")
    msg = str(err.value)
    assert "2023-01-01" in msg and V2020 in msg and V2021 in msg and V2024 in msg


def _copy_rules(tmp_path: Path, old: str, new: str) -> Path:
    text = RULES_FILE.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "rules.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "old, new, message",
    [
        ("rd_ratio_min = 0.05\n", "\n", "versions.2020-03-20.thresholds"),
        ('current = "2024-04-30"', 'current = "2030-01-01"', "'current' is '2030-01-01'"),
        ('indicators = ["rd_investment", "invention_patents"', 'indicators = ["rd_power", "invention_patents"', "rd_power"),
        ('negative_list = ["fintech"', 'negative_list = ["fintek"', "fintek"),
        ("in_force = 2021-04-16", "in_force = 2021-04-17", "versions.2021-04-16.in_force"),
        ('level = "restricted"', 'level = "forbidden"', "negative_list_categories.fintech.level"),
        ("rd_staff_share_min = 0.10", 'rd_staff_share_min = "10%"', "rd_staff_share_min"),
        ("schema = 1", "schema = = 1", "malformed TOML"),
    ],
)
def test_bad_rules_file_names_file_and_key(tmp_path, old, new, message):
    path = _copy_rules(tmp_path, old, new)
    with pytest.raises(SourceError) as err:
        load_star_rules(path)
    assert message in str(err.value)
    assert str(path.name) in str(err.value)


def test_missing_rules_file(tmp_path):
    with pytest.raises(SourceError, match="not found"):
        load_star_rules(tmp_path / "nope.toml")


def test_thresholds_come_from_the_data(tmp_path):
    """Raising the ratio bar in a copy of the file flips the verdict: nothing is hard-coded."""
    data = fin(revenue=(100 * M,) * 3, rd=(5 * M,) * 3)
    assert ind(evaluate_star("acme", data), "rd_investment").passed is True
    path = _copy_rules(tmp_path, "[versions.\"2024-04-30\".thresholds]\nrd_ratio_min = 0.05",
                       "[versions.\"2024-04-30\".thresholds]\nrd_ratio_min = 0.06")
    res = evaluate_star("acme", data, rules=load_star_rules(path))
    assert ind(res, "rd_investment").passed is False
    assert "5% < 6%" in ind(res, "rd_investment").note


# =========================================================================== indicator 1: R&D investment


@pytest.mark.parametrize("version", ALL)
def test_rd_ratio_exactly_5_percent_passes(version):
    res = evaluate_star("acme", fin(revenue=(300 * M,) * 3, rd=(15 * M,) * 3), version=version)
    i = ind(res, "rd_investment")
    assert i.value == pytest.approx(0.05, rel=1e-12)
    assert "cumulative R&D RMB 45 m < RMB" in i.note  # the ratio alone carries it
    assert i.passed is True
    assert "R&D ratio 5% ≥ 5%" in i.note
    assert res.verdict == "sci-tech" and res.decided_by.startswith("all ")


def test_rd_ratio_is_sum_over_sum_not_mean_of_ratios():
    # yearly ratios 1%, 1%, 10% (mean 4%); sums 60.2 m / 1210 m = 4.975%: fails on the ratio
    res = evaluate_star("acme", fin(revenue=(600 * M, 600 * M, 10 * M), rd=(6 * M, 6 * M, 1 * M),
                                    patents=10), version=V2021)
    i = ind(res, "rd_investment")
    assert i.value == pytest.approx(13 / 1210)
    assert i.inputs["rd_sum_cny"] == 13 * M and i.inputs["revenue_sum_cny"] == 1210 * M


@pytest.mark.parametrize("version", ALL)
def test_rd_ratio_4_99_percent_fails_when_cumulative_is_short(version):
    res = evaluate_star("acme", fin(revenue=(300 * M,) * 3, rd=(14.97 * M,) * 3), version=version)
    i = ind(res, "rd_investment")
    assert i.value == pytest.approx(0.0499)
    assert i.passed is False
    assert "R&D ratio 4.99% < 5%" in i.note and "cumulative R&D RMB 44.91 m < RMB" in i.note
    assert res.verdict == "not sci-tech"
    assert res.decided_by.startswith("indicator 1 failed: R&D ratio 4.99% < 5%")


def test_rd_ratio_4_99_percent_passes_through_cumulative():
    res = evaluate_star("acme", fin(revenue=(1000 * M,) * 3, rd=(49.9 * M,) * 3), version=V2024)
    i = ind(res, "rd_investment")
    assert i.value == pytest.approx(0.0499) and i.passed is True
    assert "cumulative R&D RMB 149.7 m ≥ RMB 80 m" in i.note


def test_cumulative_60m_passes_2021_and_fails_2024():
    data = fin(revenue=(2000 * M,) * 3, rd=(20 * M,) * 3)  # ratio 1%, cumulative exactly 60 m
    r2021 = evaluate_star("acme", data, version=V2021)
    r2020 = evaluate_star("acme", data, version=V2020)
    r2024 = evaluate_star("acme", data, version=V2024)
    assert ind(r2021, "rd_investment").passed is True
    assert "cumulative R&D RMB 60 m ≥ RMB 60 m" in ind(r2021, "rd_investment").note
    assert ind(r2020, "rd_investment").passed is True
    assert ind(r2024, "rd_investment").passed is False
    assert "cumulative R&D RMB 60 m < RMB 80 m" in ind(r2024, "rd_investment").note
    assert (r2021.verdict, r2024.verdict) == ("sci-tech", "not sci-tech")


def test_cumulative_80m_passes_2024_and_just_below_fails():
    ok = evaluate_star("acme", fin(revenue=(3000 * M,) * 3, rd=(30 * M, 30 * M, 20 * M)))
    assert ind(ok, "rd_investment").passed is True
    short = evaluate_star("acme", fin(revenue=(3000 * M,) * 3, rd=(30 * M, 30 * M, 20 * M - 1)))
    assert ind(short, "rd_investment").passed is False
    assert "RMB 79.999999 m < RMB 80 m" in ind(short, "rd_investment").note


# =========================================================================== indicator 2: R&D staff share


@pytest.mark.parametrize("version", (V2021, V2024))
def test_staff_share_exactly_10_percent_passes(version):
    res = evaluate_star("acme", fin(rd_staff=10, employees=100), version=version)
    i = ind(res, "rd_staff_share")
    assert i.number == 2 and i.value == pytest.approx(0.10) and i.passed is True
    assert res.verdict == "sci-tech"


@pytest.mark.parametrize("version", (V2021, V2024))
def test_staff_share_below_10_percent_fails(version):
    res = evaluate_star("acme", fin(rd_staff=61, employees=1000), version=version)
    assert ind(res, "rd_staff_share").passed is False
    assert res.verdict == "not sci-tech"
    assert res.decided_by == "indicator 2 failed: R&D staff share 6.1% < 10%"


def test_staff_share_not_required_in_2020():
    data = fin(rd_staff=1, employees=100)
    res = evaluate_star("acme", data, version=V2020)
    assert "rd_staff_share" not in [i.name for i in res.indicators]
    assert res.verdict == "sci-tech" and res.decided_by == "all three indicators met"
    # nor is its data: missing staff figures do not make 2020 "insufficient"
    res = evaluate_star("acme", fin(rd_staff=None, employees=None), version=V2020)
    assert res.verdict == "sci-tech"
    assert evaluate_star("acme", data, version=V2021).verdict == "not sci-tech"


def test_staff_share_with_zero_employees_cannot_be_told():
    res = evaluate_star("acme", fin(employees=0))
    i = ind(res, "rd_staff_share")
    assert i.passed is None and "0 employees" in i.note
    assert res.verdict == "insufficient data"


# =========================================================================== indicator 3: invention patents


@pytest.mark.parametrize(
    "patents, version, passed",
    [(5, V2020, True), (5, V2021, True), (5, V2024, False), (7, V2021, True), (7, V2024, True),
     (4, V2021, False), (6, V2024, False)],
)
def test_invention_patent_edges(patents, version, passed):
    res = evaluate_star("acme", fin(patents=patents), version=version)
    i = ind(res, "invention_patents")
    assert i.value == patents and i.passed is passed
    assert res.verdict == ("sci-tech" if passed else "not sci-tech")


def test_patents_counted_in_the_latest_year():
    data = fin(patents=1)
    data.loc[data["fiscal_year"] == 2023, "invention_patents"] = 7
    assert ind(evaluate_star("acme", data), "invention_patents").passed is True
    data.loc[data["fiscal_year"] == 2023, "invention_patents"] = 6
    data.loc[data["fiscal_year"] == 2021, "invention_patents"] = 70
    assert ind(evaluate_star("acme", data), "invention_patents").passed is False


# =========================================================================== indicator 4: revenue


def test_cagr_exactly_20_percent_passes_2021_and_fails_2024():
    data = fin(revenue=(100 * M, 110 * M, 144 * M), rd=(10 * M,) * 3)
    r2021 = evaluate_star("acme", data, version=V2021)
    r2024 = evaluate_star("acme", data, version=V2024)
    i = ind(r2021, "revenue_growth")
    assert i.value == (144 / 100) ** 0.5 - 1
    assert i.value < 0.20  # binary floating point lands a hair below: the tolerance is what lets it pass
    assert i.value == pytest.approx(0.20, rel=1e-12)
    assert i.passed is True and "revenue CAGR 20% ≥ 20%" in i.note
    assert ind(r2024, "revenue_growth").passed is False
    assert r2024.decided_by == ("indicator 4 failed: revenue CAGR 20% < 25% and "
                                "last-year revenue RMB 144 m < RMB 300 m")


def test_cagr_exactly_25_percent_passes_2024():
    res = evaluate_star("acme", fin(revenue=(100 * M, 100 * M, 156.25 * M), rd=(10 * M,) * 3))
    i = ind(res, "revenue_growth")
    assert i.value == pytest.approx(0.25) and i.passed is True
    assert res.verdict == "sci-tech"


def test_cagr_uses_first_and_last_year_only():
    a = evaluate_star("acme", fin(revenue=(100 * M, 10 * M, 144 * M), rd=(10 * M,) * 3), version=V2021)
    b = evaluate_star("acme", fin(revenue=(100 * M, 500 * M, 144 * M), rd=(10 * M,) * 3), version=V2021)
    assert ind(a, "revenue_growth").value == ind(b, "revenue_growth").value


def test_cagr_a_hair_below_fails():
    res = evaluate_star("acme", fin(revenue=(100 * M, 100 * M, 143.99 * M), rd=(10 * M,) * 3), version=V2021)
    i = ind(res, "revenue_growth")
    assert i.passed is False and "< 20%" in i.note


def test_last_year_revenue_exactly_300m_is_the_alternative():
    data = fin(revenue=(300 * M, 300 * M, 300 * M), rd=(30 * M,) * 3)  # CAGR 0%
    for version in ALL:
        i = ind(evaluate_star("acme", data, version=version), "revenue_growth")
        assert i.value == 0.0 and i.passed is True
        assert "last-year revenue RMB 300 m ≥ RMB 300 m" in i.note
    short = fin(revenue=(300 * M, 300 * M, 300 * M - 10_000), rd=(30 * M,) * 3)
    assert ind(evaluate_star("acme", short), "revenue_growth").passed is False


def test_revenue_zero_makes_cagr_undefined_not_infinite():
    res = evaluate_star("acme", fin(revenue=(0, 50 * M, 100 * M), rd=(30 * M,) * 3))
    i = ind(res, "revenue_growth")
    assert i.value is None
    assert i.passed is False
    assert "revenue CAGR undefined: revenue in 2021 is RMB 0 m" in i.note
    assert "growth from zero is not infinite" in i.note and "inf%" not in i.note
    assert res.verdict == "not sci-tech" and "CAGR undefined" in res.decided_by
    assert json.dumps(res.to_dict(), ensure_ascii=False)  # no inf/nan smuggled into the result


def test_revenue_zero_start_still_passes_with_300m_last_year():
    res = evaluate_star("acme", fin(revenue=(0, 50 * M, 300 * M), rd=(30 * M,) * 3))
    assert ind(res, "revenue_growth").passed is True


# =========================================================================== exceptions


@pytest.mark.parametrize("number, flag", [(1, "international_leading"), (2, "national_award"),
                                          (3, "major_project"), (4, "import_substitution")])
@pytest.mark.parametrize("version", ALL)
def test_each_flag_exception_alone_makes_a_failing_company_sci_tech(version, number, flag):
    assert evaluate_star("acme", failing(), version=version).verdict == "not sci-tech"
    res = evaluate_star("acme", failing(), version=version, flags=[flag])
    assert res.verdict == "sci-tech"
    assert res.decided_by.startswith(f"exception {number}: {flag} flag")
    assert [e.number for e in res.exceptions if e.passed] == [number]
    assert all(i.passed is False for i in res.indicators)


@pytest.mark.parametrize("version", ALL)
def test_exception_5_fifty_patents(version):
    res = evaluate_star("acme", failing(patents=50), version=version)
    assert res.verdict == "sci-tech"
    assert res.decided_by == "exception 5: 50 invention patents ≥ 50"
    res = evaluate_star("acme", failing(patents=63), version=version)
    assert res.decided_by == "exception 5: 63 invention patents ≥ 50"
    res = evaluate_star("acme", failing(patents=49), version=version)
    assert res.verdict == "not sci-tech"
    assert exc(res, 5).passed is False and exc(res, 5).note == "49 invention patents < 50"


def test_flags_are_case_insensitive_and_accept_text():
    res = evaluate_star("acme", failing(), flags="other|National_Award")
    assert res.verdict == "sci-tech" and res.decided_by.startswith("exception 2")


# =========================================================================== carve-outs


def _software_company(rd_each: float, patents: int = 0, revenue_each: float = 1000 * M):
    return fin(revenue=(revenue_each,) * 3, rd=(rd_each,) * 3, patents=patents)


@pytest.mark.parametrize("version", ALL)
def test_software_carve_out_waives_patents_at_10_percent(version):
    data = _software_company(100 * M)  # ratio exactly 10%, no patents at all
    plain = evaluate_star("acme", data, version=version)
    assert plain.verdict == "not sci-tech" and "invention patents 0 <" in plain.decided_by
    res = evaluate_star("acme", data, version=version, industry_codes=["gics:Application Software"])
    assert res.verdict == "sci-tech"
    assert ind(res, "invention_patents").passed is True
    assert "waived by carve-out software" in ind(res, "invention_patents").threshold
    assert ind(res, "rd_investment").passed is True and "R&D ratio 10% ≥ 10%" in ind(res, "rd_investment").note
    assert res.carve_outs_applied and res.carve_outs_applied[0].startswith(
        "software (industry code gics:Application Software)")


def test_software_at_9_9_percent_fails_even_with_a_large_cumulative():
    res = evaluate_star("acme", _software_company(99 * M), industry_codes=["cn_industry:软件服务"])
    i = ind(res, "rd_investment")
    assert i.value == pytest.approx(0.099)
    assert i.passed is False  # 297 m cumulative would pass the ordinary rule
    assert "R&D ratio 9.9% < 10%" in i.note
    assert "cumulative alternative does not apply" in i.threshold
    assert res.verdict == "not sci-tech" and res.decided_by.startswith("indicator 1 failed: R&D ratio 9.9% < 10%")
    # the same company without the carve-out passes indicator 1 (5% bar) but fails on patents
    off = evaluate_star("acme", _software_company(99 * M), industry_codes=["cn_industry:软件服务"],
                        carve_outs={"software": False})
    assert ind(off, "rd_investment").passed is True
    assert ind(off, "invention_patents").passed is False
    assert off.carve_outs_applied == []
    assert any("carve-out software is switched off" in w for w in off.warnings)


@pytest.mark.parametrize("codes, flags, applies", [
    (["nace:J58.21"], [], True),  # ISIC/NACE class under the listed 582 group
    (["isic:6201"], [], True),
    (["crunchbase:category:Enterprise Software"], [], True),
    (["gics:Semiconductors"], [], False),
    ([], ["software"], True),
    (["gics:Systems Software"], ["not_software"], False),
])
def test_software_detection(codes, flags, applies):
    res = evaluate_star("acme", _software_company(100 * M), industry_codes=codes, flags=flags)
    assert bool(res.carve_outs_applied) is applies
    assert res.verdict == ("sci-tech" if applies else "not sci-tech")


def test_unknown_carve_out_is_a_usage_error():
    with pytest.raises(UsageError, match="pre_revenue"):
        evaluate_star("acme", fin(), carve_outs={"softwear": False})


@pytest.mark.parametrize("flag", ["listing_standard_5", "red_chip"])
def test_pre_revenue_and_red_chip_waive_the_revenue_indicator(flag):
    data = fin(revenue=(0, 0, 0), rd=(30 * M,) * 3)  # 90 m R&D, no revenue at all
    plain = evaluate_star("acme", data)
    assert plain.verdict == "not sci-tech"
    assert "R&D ratio undefined" in ind(plain, "rd_investment").note
    assert ind(plain, "rd_investment").passed is True  # cumulative 90 m ≥ 80 m
    assert "revenue CAGR undefined" in plain.decided_by
    res = evaluate_star("acme", data, flags=[flag])
    assert res.verdict == "sci-tech" and res.decided_by == "all four indicators met"
    i = ind(res, "revenue_growth")
    assert i.passed is True and "waived by carve-out" in i.threshold
    assert res.carve_outs_applied and f"flag {flag}" in res.carve_outs_applied[0]
    off = evaluate_star("acme", data, flags=[flag], carve_outs={"pre_revenue": False, "red_chip": False})
    assert off.verdict == "not sci-tech"


# =========================================================================== negative list


STRONG = dict(revenue=(1000 * M,) * 3, rd=(100 * M,) * 3)


@pytest.mark.parametrize("version", (V2021, V2024))
def test_model_innovation_typology_is_restricted(version):
    res = evaluate_star("acme", fin(**STRONG), version=version, typology="model_innovation")
    assert res.verdict == "restricted"
    assert res.decided_by == "negative list: business-model innovation (restricted)"
    assert res.negative_list == ["business-model innovation (restricted): typology model_innovation"]


def test_2020_version_has_no_negative_list():
    for kw in (dict(typology="model_innovation"), dict(industry_codes=["cn_industry:全国地产"]),
               dict(industry_codes=["unicorn_industry:Fintech"])):
        res = evaluate_star("acme", fin(**STRONG), version=V2020, **kw)
        assert res.verdict == "sci-tech" and res.negative_list == []
    res = evaluate_star("acme", fin(**STRONG), version=V2020, typology="model_innovation")
    assert any("has no negative list" in w for w in res.warnings)


@pytest.mark.parametrize("code, verdict, label", [
    ("unicorn_industry:Fintech", "restricted", "fintech"),
    ("crunchbase:category:mobile payments", "restricted", "fintech"),
    ("gics:Transaction & Payment Processing Services", "restricted", "fintech"),
    ("cn_industry:互联网", "restricted", "business-model innovation"),
    ("crunchbase:group:internet services", "restricted", "business-model innovation"),  # via the taxonomy hint
    ("cn_industry:全国地产", "prohibited", "real estate"),
    ("gics:Office REITs", "prohibited", "real estate"),
    ("isic:6810", "prohibited", "real estate"),
    ("crunchbase:real estate", "prohibited", "real estate"),
    ("cn_industry:银行", "prohibited", "mainly finance or investment"),
    ("gics:Diversified Banks", "prohibited", "mainly finance or investment"),
    ("nace:K64.19", "prohibited", "mainly finance or investment"),
])
def test_negative_list_from_industry_codes(code, verdict, label):
    res = evaluate_star("acme", fin(**STRONG), version=V2024, industry_codes=[code])
    assert res.verdict == verdict
    assert res.decided_by == f"negative list: {label} ({verdict})"


def test_explicit_listing_beats_typology_hint():
    """crunchbase 'real estate' is hinted model_innovation, but it is real estate: prohibited only."""
    res = evaluate_star("acme", fin(**STRONG), industry_codes=["crunchbase:real estate"])
    assert res.negative_list == ["real estate (prohibited): industry code crunchbase:real estate"]


def test_prohibited_wins_over_restricted_and_over_exceptions():
    res = evaluate_star("acme", fin(**STRONG), flags=["national_award"], typology="model_innovation",
                        industry_codes=["cn_industry:银行"])
    assert res.verdict == "prohibited"
    assert res.decided_by == "negative list: mainly finance or investment (prohibited)"
    assert len(res.negative_list) == 2 and res.negative_list[0].startswith("mainly finance")
    assert exc(res, 2).passed is True  # still reported, but the negative list decides


def test_patent_classes_do_not_trigger_the_hint():
    res = evaluate_star("acme", fin(**STRONG), industry_codes=["cpc:G06Q20/40", "gics:Semiconductors"])
    assert res.verdict == "sci-tech" and res.negative_list == []


# =========================================================================== FX


def test_usd_company_converted_at_each_year_end(usd_fx):
    # last-year revenue USD 50 m at 6.0 = exactly RMB 300 m
    data = fin(revenue=(40 * M, 45 * M, 50 * M), rd=(2 * M, 2 * M, 2 * M), currency="USD", first_year=2020)
    res = evaluate_star("acme", data, fx=usd_fx, version=V2021)
    assert res.fx == [
        "2020: 1 USD = 6.5 CNY, rate of 2020-12-31 (test table 2020; direct) for 2020-12-31",
        "2021: 1 USD = 6.4 CNY, rate of 2021-12-31 (test table 2021; direct) for 2021-12-31",
        "2022: 1 USD = 6 CNY, rate of 2022-12-30 (test table 2022; direct) for 2022-12-31",
    ]
    i = ind(res, "rd_investment")
    assert i.inputs["revenue_cny"] == {2020: 260 * M, 2021: 288 * M, 2022: 300 * M}
    assert i.inputs["fx_rates"] == {2020: 6.5, 2021: 6.4, 2022: 6.0}
    assert i.inputs["rd_sum_cny"] == pytest.approx(2 * M * (6.5 + 6.4 + 6.0))
    r = ind(res, "revenue_growth")
    assert r.passed is True and "last-year revenue RMB 300 m ≥ RMB 300 m" in r.note


def test_usd_company_with_the_packaged_table():
    table = load_fx()
    data = fin(currency="USD", first_year=2020)
    res = evaluate_star("acme", data, fx=table)
    want = table.rate("USD", "CNY", dt.date(2022, 12, 31))
    assert want.date == dt.date(2022, 12, 30)  # 31 Dec 2022 was a Saturday
    assert len(res.fx) == 3
    assert res.fx[2].startswith(f"2022: 1 USD = {want.value:.8g} CNY, rate of 2022-12-30 (")
    assert ind(res, "rd_investment").inputs["revenue_cny"][2022] == pytest.approx(1000 * M * want.value)


def test_cny_company_needs_no_rate():
    res = evaluate_star("acme", fin(), fx=None)
    assert res.fx == []


def test_currency_without_rate_names_org_and_year(usd_fx):
    data = fin(currency="USD", first_year=2022)  # the small table ends in 2022
    with pytest.raises(FXError) as err:
        evaluate_star("acme", data, fx=usd_fx)
    msg = str(err.value)
    assert "acme" in msg and "fiscal year 2023" in msg
    with pytest.raises(FXError, match="acme.*fiscal year 2021.*CHF"):
        evaluate_star("acme", fin(currency="CHF", first_year=2021), fx=usd_fx)


# =========================================================================== missing data


def test_missing_year_is_insufficient_data_naming_org_and_year():
    data = fin()
    data = data[data["fiscal_year"] != 2022]
    res = evaluate_star("acme", data)
    assert res.year == 2023
    i = ind(res, "rd_investment")
    assert i.passed is None and "org acme: no financials row in the store for fiscal year 2022" in i.note
    assert ind(res, "revenue_growth").passed is True  # CAGR needs 2021 and 2023 only
    assert res.verdict == "insufficient data"
    assert "acme" in res.decided_by and "2022" in res.decided_by


def test_missing_value_names_the_value_and_year():
    data = fin()
    data.loc[data["fiscal_year"] == 2021, "rd_expense"] = None
    res = evaluate_star("acme", data)
    i = ind(res, "rd_investment")
    assert i.passed is None and "org acme: R&D expense missing for fiscal year 2021" in i.note
    assert res.verdict == "insufficient data"


def test_a_definite_failure_beats_missing_data():
    data = fin(rd_staff=1)
    data.loc[data["fiscal_year"] == 2022, "revenue"] = None
    res = evaluate_star("acme", data)
    assert res.verdict == "not sci-tech" and res.decided_by.startswith("indicator 2 failed")


def test_missing_patents_leave_exception_5_open():
    res = evaluate_star("acme", failing(patents=None))
    assert exc(res, 5).passed is None
    assert res.verdict == "insufficient data"
    assert "exception 5 cannot be checked" in res.decided_by and "acme" in res.decided_by


def test_no_financials_at_all():
    empty = fin().iloc[0:0]
    res = evaluate_star("acme", empty)
    assert res.year is None and res.verdict == "insufficient data"
    assert "org acme: no financials in the store" in res.decided_by
    assert evaluate_star("acme", empty, flags=["major_project"]).verdict == "sci-tech"


def test_year_selects_the_window():
    data = pd.concat([fin(first_year=2018, patents=1), fin(first_year=2021)])
    assert evaluate_star("acme", data).year == 2023
    old = evaluate_star("acme", data, year=2020)
    assert old.year == 2020 and ind(old, "rd_investment").inputs["years"] == [2018, 2019, 2020]
    assert old.verdict == "not sci-tech"


def test_duplicate_rows_warn_and_use_the_most_complete():
    data = fin()
    extra = data[data["fiscal_year"] == 2023].assign(revenue=None, source_name="b")
    data = pd.concat([data.assign(source_name="a"), extra])
    res = evaluate_star("acme", data)
    assert res.verdict == "sci-tech"
    assert any("2 financials rows for fiscal year 2023" in w and "source a" in w for w in res.warnings)


def test_other_orgs_rows_are_ignored():
    data = pd.concat([failing(org="other"), fin()])
    assert evaluate_star("acme", data).verdict == "sci-tech"


# =========================================================================== batch and serialisation


def test_batch(usd_fx):
    orgs = pd.DataFrame([
        {"org_id": "good", "flags": None, "industry_codes": ["gics:Semiconductors"], "typology": None},
        {"org_id": "weak", "flags": "national_award", "industry_codes": None, "typology": float("nan")},
        {"org_id": "bank", "flags": [], "industry_codes": "cn_industry:银行", "typology": None},
        {"org_id": "ghost", "flags": None, "industry_codes": None, "typology": "model_innovation"},
        {"org_id": "usd", "flags": None, "industry_codes": None, "typology": None},
    ])
    financials = pd.concat([
        fin(org="good"), failing(org="weak"), fin(org="bank"),
        fin(org="usd", currency="USD", first_year=2020),
    ])
    results = evaluate_star_batch(orgs, financials, fx=usd_fx)
    got = {r.org_id: (r.verdict, r.version) for r in results}
    assert got == {
        "good": ("sci-tech", V2024), "weak": ("sci-tech", V2024), "bank": ("prohibited", V2024),
        "ghost": ("restricted", V2024), "usd": ("sci-tech", V2024),
    }
    assert len(next(r for r in results if r.org_id == "usd").fx) == 3
    older = evaluate_star_batch(orgs, financials, version=V2020, fx=usd_fx)
    assert {r.org_id: r.verdict for r in older}["ghost"] == "insufficient data"


def test_to_dict_is_json_ready():
    res = evaluate_star("acme", fin(), flags=["national_award"], industry_codes=["gics:Semiconductors"])
    d = res.to_dict()
    assert d["verdict"] == "sci-tech" and d["version"] == V2024 and d["year"] == 2023
    assert [i["name"] for i in d["indicators"]] == ["rd_investment", "rd_staff_share", "invention_patents",
                                                   "revenue_growth"]
    assert d["indicators"][0]["number"] == 1 and d["exceptions"][1]["passed"] is True
    json.dumps(d, ensure_ascii=False)


def test_rules_loaded_once(monkeypatch):
    """The file is read once while unchanged (evaluate_star is called per organisation in a batch)."""
    load_star_rules()
    before = star._parse_cached.cache_info().hits
    for _ in range(3):
        evaluate_star("acme", fin())
    assert star._parse_cached.cache_info().hits >= before + 3


def test_packaged_copy_is_what_loads(tmp_path):
    copy = tmp_path / "star_versions.toml"
    shutil.copy(RULES_FILE, copy)
    assert load_star_rules(copy) == load_star_rules()


def test_batch_keeps_going_when_one_organisation_has_no_fx_rate():
    """A batch over a real store meets years the FX table does not cover: that organisation cannot be told,
    the others are still judged."""
    orgs = pd.DataFrame({"org_id": ["old", "acme"], "flags": [[], []], "industry_codes": [[], []],
                         "typology": [None, None]})
    old = fin(org="old", currency="USD", first_year=1990)
    res = {r.org_id: r for r in evaluate_star_batch(orgs, pd.concat([old, fin()]))}
    assert res["old"].verdict == "insufficient data" and "USD" in res["old"].decided_by
    assert res["acme"].verdict == "sci-tech"


# =========================================================================== patent filings as a proxy


def filings(cn=(3, 4, 5), us=(1, 1, 1), **kw):
    """Like `fin` but with no granted count: patent filings at two offices instead (as the JRC–OECD panel)."""
    df = fin(patents=None, **kw)
    return df.assign(patent_filings_cn=list(cn), patent_filings_us=list(us))


def test_filings_stand_in_for_granted_patents_and_say_so():
    res = evaluate_star("acme", filings())  # largest office each year: 3 + 4 + 5 = 12 ≥ 7
    i = ind(res, "invention_patents")
    assert i.passed is True and i.value == 12 and "filings, not granted" in i.proxy
    assert i.note.startswith("on a proxy") and i.inputs["filing_years"] == [2021, 2022, 2023]
    assert res.verdict == "sci-tech" and "on a proxy" in res.decided_by and res.proxies


def test_too_few_filings_fail_on_the_proxy_and_say_so():
    res = evaluate_star("acme", filings(cn=(1, 2, 1), us=(2, 1, 1)))  # 2 + 2 + 1 = 5 < 7
    assert ind(res, "invention_patents").passed is False
    assert res.verdict == "not sci-tech" and "on a proxy" in res.decided_by


def test_a_granted_count_wins_over_filings():
    df = filings().assign(invention_patents=[1, 1, 1])
    res = evaluate_star("acme", df)
    i = ind(res, "invention_patents")
    assert i.value == 1 and i.passed is False and not i.proxy and not res.proxies


def test_exception_5_on_filings_passes_a_company_with_no_rd_staff():
    """The panel has no R&D staff: only an exception can pass such a company, and it says it is a proxy."""
    no_staff = filings(cn=(20, 20, 20), rd_staff=None)
    res = evaluate_star("acme", no_staff)
    assert ind(res, "rd_staff_share").passed is None
    assert res.verdict == "sci-tech" and res.decided_by.startswith("exception 5") and "on a proxy" in res.decided_by
    few = evaluate_star("acme", filings(rd_staff=None))  # every other indicator met: still cannot tell
    assert few.verdict == "insufficient data" and "R&D staff" in few.decided_by


def test_the_proxy_can_be_switched_off(tmp_path):
    path = tmp_path / "rules.toml"
    path.write_text(RULES_FILE.read_text(encoding="utf-8").replace("patent_filings_proxy = true",
                                                                   "patent_filings_proxy = false"), encoding="utf-8")
    res = evaluate_star("acme", filings(), rules=load_star_rules(path))
    assert ind(res, "invention_patents").passed is None and not res.proxies
    assert res.verdict == "insufficient data"
