"""STAR test: every indicator says what it measured, against what, and what the store lacks — in every version.

The promise: a verdict can be checked by reading it. For each indicator of each version in the shipped rules
file, and each way it can come out (met, failed, undefined, missing), the result carries

- `threshold`: the bound as the rules file gives it (written here from the file's numbers, not from the code's
  formatter), with the software carve-out's stricter form where it applies;
- `inputs`: the figures the indicator read, in CNY, under the keys the translations read
  (`presentation/star_text.py` builds the Chinese and English reasons from them alone);
- `note`: the value against the bound with the right comparison, or the missing item and its fiscal years;
- and the same figures or years in the reason a reader sees, in English and in Chinese.

Also stated here: a ratio is defined for any positive denominator however small (one yuan of revenue, one
employee) and undefined — failing, unless the cumulative alternative meets its bound — when the 3-year revenue
is zero or negative; a bound forgives float noise (a billionth, relative) and nothing more.
"""

from __future__ import annotations

import pandas as pd
import pytest

from hardtech.analytics.star import evaluate_star, load_star_rules
from hardtech.presentation.labels import Labels
from hardtech.presentation.star_text import detail

M = 1_000_000
YEARS = (2020, 2021, 2022)
RULES = load_star_rules()
VERSIONS = list(RULES)


def pct(x: float) -> str:
    return f"{x * 100:g}%"


def rmb(x: float) -> str:
    return f"RMB {x / M:g} m"


def frame(rows: dict[int, dict]) -> pd.DataFrame:
    """One row per fiscal year; a year absent from `rows` has no row."""
    base = {"org_id": "guard", "currency": "CNY"}
    return pd.DataFrame([{**base, "fiscal_year": y, **r} for y, r in sorted(rows.items())])


def company(revenue=(500 * M,) * 3, rd=(50 * M,) * 3, rd_staff=30, employees=100, patents=10) -> pd.DataFrame:
    rows = {}
    for i, y in enumerate(YEARS):
        rows[y] = {"revenue": revenue[i], "rd_expense": rd[i], "rd_staff": rd_staff if y == YEARS[-1] else None,
                   "employees": employees if y == YEARS[-1] else None,
                   "invention_patents": patents if y == YEARS[-1] else None}
    return frame(rows)


def indicator(result, name: str):
    return next(i for i in result.indicators if i.name == name)


def reason_of(result, name: str) -> dict:
    return next(r for r in result.reasons if r.get("item") == name)


def expected_threshold(version: str, name: str, software: bool = False) -> str:
    t = RULES[version].thresholds
    if name == "rd_investment":
        if software:
            strict = next(c for c in RULES[version].carve_outs if c.rd_ratio_min is not None)
            return f"R&D ratio ≥ {pct(strict.rd_ratio_min)} (carve-out {strict.id}; the cumulative alternative does not apply)"
        return f"R&D ratio ≥ {pct(t.rd_ratio_min)} or cumulative R&D ≥ {rmb(t.rd_cumulative_min_cny)}"
    if name == "rd_staff_share":
        return f"R&D staff share ≥ {pct(t.rd_staff_share_min)}"
    if name == "invention_patents":
        return f"invention patents ≥ {t.invention_patents_min}"
    return f"revenue CAGR over 3 years ≥ {pct(t.revenue_cagr_min)} or last-year revenue ≥ {rmb(t.revenue_last_year_min_cny)}"


# ---- thresholds and inputs ------------------------------------------------------------------------------------

CASES = {  # outcomes each indicator can reach, as companies
    "meets everything": dict(),
    "fails everything": dict(revenue=(100 * M,) * 3, rd=(1 * M,) * 3, rd_staff=1, employees=100, patents=1),
    "undefined ratios": dict(revenue=(0.0,) * 3, rd=(1 * M,) * 3, rd_staff=1, employees=0, patents=1),
    "missing figures": dict(revenue=(None, 200 * M, None), rd=(None, 5 * M, 5 * M), rd_staff=None, employees=None,
                            patents=None),
}


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("software", [False, True], ids=["plain", "software carve-out"])
def test_each_indicator_states_its_bound_from_the_rules_file_and_the_figures_it_read(version, case, software):
    args = CASES[case]
    res = evaluate_star("guard", company(**args), version=version, flags=["software"] if software else [])
    rev = dict(zip(YEARS, args.get("revenue", (500 * M,) * 3)))
    rd = dict(zip(YEARS, args.get("rd", (50 * M,) * 3)))
    for ind in res.indicators:
        if ind.name == "invention_patents" and software:
            assert "normally: " + expected_threshold(version, ind.name) in ind.threshold, ind.threshold
        else:
            assert ind.threshold == expected_threshold(version, ind.name, software), (ind.name, ind.threshold)
        inp = ind.inputs
        if ind.name == "rd_investment":
            assert inp["years"] == list(YEARS) and inp["rd_cny"] == rd and inp["revenue_cny"] == rev
            full = None not in rd.values()
            assert inp["rd_sum_cny"] == (sum(rd.values()) if full else None)
            assert inp["revenue_sum_cny"] == (sum(rev.values()) if None not in rev.values() else None)
            assert inp["fx_rates"] == {}
        elif ind.name == "rd_staff_share":
            assert inp == {"year": YEARS[-1], "rd_staff": args.get("rd_staff", 30), "employees": args.get("employees", 100)}
        elif ind.name == "invention_patents":
            assert inp["year"] == YEARS[-1] and inp["invention_patents"] == args.get("patents", 10)
        else:
            assert inp == {"first_year": YEARS[0], "last_year": YEARS[-1], "revenue_first_cny": rev[YEARS[0]],
                           "revenue_last_cny": rev[YEARS[-1]], "fx_rates": {}}


# ---- the notes and the reasons a reader sees -------------------------------------------------------------------

@pytest.mark.parametrize("version", VERSIONS)
def test_a_met_or_failed_indicator_says_its_value_against_its_bound(version):
    t = RULES[version].thresholds
    good = evaluate_star("guard", company(), version=version)
    bad = evaluate_star("guard", company(**CASES["fails everything"]), version=version)
    notes = {("good", i.name): i.note for i in good.indicators} | {("bad", i.name): i.note for i in bad.indicators}
    assert f"R&D ratio 10% ≥ {pct(t.rd_ratio_min)}" in notes["good", "rd_investment"]
    assert f"cumulative R&D RMB 150 m ≥ {rmb(t.rd_cumulative_min_cny)}" in notes["good", "rd_investment"]
    assert notes["bad", "rd_investment"] == (f"R&D ratio 1% < {pct(t.rd_ratio_min)} and cumulative R&D "
                                             f"RMB 3 m < {rmb(t.rd_cumulative_min_cny)}")
    assert notes["good", "invention_patents"] == f"invention patents 10 ≥ {t.invention_patents_min}"
    assert notes["bad", "invention_patents"] == f"invention patents 1 < {t.invention_patents_min}"
    if t.rd_staff_share_min is not None:
        assert notes["good", "rd_staff_share"] == f"R&D staff share 30% ≥ {pct(t.rd_staff_share_min)}"
        assert notes["bad", "rd_staff_share"] == f"R&D staff share 1% < {pct(t.rd_staff_share_min)}"
    assert f"last-year revenue RMB 500 m ≥ {rmb(t.revenue_last_year_min_cny)}" in notes["good", "revenue_growth"]
    for r in bad.reasons:  # the reader's reason gives the same figures, in both languages
        for lang in ("en", "zh"):
            text = detail(Labels(lang), r, bad.version)
            if r["item"] == "invention_patents":
                assert "1" in text and str(t.invention_patents_min) in text, (lang, text)
            if r["item"] == "rd_investment":
                assert "1%" in text and "5%" in text, (lang, text)
            if r["item"] == "rd_staff_share":
                assert "1%" in text and pct(t.rd_staff_share_min) in text, (lang, text)


@pytest.mark.parametrize("version", VERSIONS)
def test_a_missing_figure_is_named_with_its_fiscal_years_in_the_note_and_in_both_languages(version):
    res = evaluate_star("guard", company(**CASES["missing figures"]), version=version)
    rd_inv = indicator(res, "rd_investment")
    assert rd_inv.passed is None
    assert rd_inv.note == ("R&D ratio unknown: org guard: R&D expense missing for fiscal year 2020; "
                           "revenue missing for fiscal years 2020, 2022")
    pat = indicator(res, "invention_patents")
    assert pat.passed is None and pat.note == "invention patents unknown: org guard: invention patents missing for fiscal year 2022"
    if RULES[version].thresholds.rd_staff_share_min is not None:
        staff = indicator(res, "rd_staff_share")
        assert staff.passed is None
        assert staff.note == "R&D staff share unknown: org guard: R&D staff and employees missing for fiscal year 2022"
        one = evaluate_star("guard", company(employees=None), version=version)
        assert indicator(one, "rd_staff_share").note == ("R&D staff share unknown: org guard: employees missing for "
                                                        "fiscal year 2022")
    growth = indicator(res, "revenue_growth")
    assert growth.passed is None
    assert growth.note == "revenue CAGR unknown: org guard: revenue missing for fiscal years 2020, 2022"
    for r in res.reasons:
        if r["key"] != "indicator_unknown":
            continue
        want = {"rd_investment": ("2020", "2022"), "rd_staff_share": ("2022",), "invention_patents": ("2022",),
                "revenue_growth": ("2020", "2022")}[r["item"]]
        for lang in ("en", "zh"):
            text = detail(Labels(lang), r, res.version)
            assert all(y in text for y in want), (r["item"], lang, text)


@pytest.mark.parametrize("version", VERSIONS)
def test_a_year_without_a_row_is_said_to_have_no_row(version):
    rows = {2022: {"revenue": 400 * M, "rd_expense": 40 * M, "rd_staff": 30, "employees": 100, "invention_patents": 10}}
    res = evaluate_star("guard", frame(rows), version=version)
    assert indicator(res, "rd_investment").note == ("R&D ratio unknown: org guard: no financials row in the store for "
                                                   "fiscal years 2020, 2021")


# ---- where a ratio is defined ---------------------------------------------------------------------------------

@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("revenue", [0.0, -50 * M], ids=["zero", "negative"])
def test_a_non_positive_revenue_leaves_the_ratio_undefined_and_failing_unless_the_cumulative_bound_is_met(version, revenue):
    t = RULES[version].thresholds
    small = evaluate_star("guard", company(revenue=(revenue,) * 3, rd=(1 * M,) * 3), version=version)
    ind = indicator(small, "rd_investment")
    assert ind.value is None and ind.passed is False, ind.note
    assert ind.note.startswith(f"R&D ratio undefined: 3-year revenue is RMB {revenue * 3 / M:g} m (not positive) and ")
    big_rd = t.rd_cumulative_min_cny  # three years summing to well over the bound
    big = evaluate_star("guard", company(revenue=(revenue,) * 3, rd=(big_rd,) * 3), version=version)
    assert indicator(big, "rd_investment").passed is True
    soft = evaluate_star("guard", company(revenue=(revenue,) * 3, rd=(big_rd,) * 3), version=version, flags=["software"])
    assert indicator(soft, "rd_investment").passed is False  # the carve-out has no cumulative alternative


@pytest.mark.parametrize("version", VERSIONS)
def test_any_positive_denominator_defines_the_ratio_however_small(version):
    # one yuan of revenue over three years: the ratio is defined (and huge), not "undefined"
    res = evaluate_star("guard", company(revenue=(1.0, 0.0, 0.0), rd=(1 * M,) * 3, rd_staff=1, employees=1),
                        version=version)
    ind = indicator(res, "rd_investment")
    assert ind.value == pytest.approx(3 * M) and ind.passed is True
    if RULES[version].thresholds.rd_staff_share_min is not None:
        staff = indicator(res, "rd_staff_share")  # one employee, who does R&D
        assert staff.value == 1.0 and staff.passed is True and staff.note.startswith("R&D staff share 100% ≥ ")
    zero = evaluate_star("guard", company(employees=0), version=version)
    if RULES[version].thresholds.rd_staff_share_min is not None:
        staff = indicator(zero, "rd_staff_share")
        assert staff.value is None and staff.passed is None
        assert staff.note == "R&D staff share undefined: org guard reports 0 employees for 2022"


# ---- a bound forgives float noise, nothing more ---------------------------------------------------------------

@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("below, passes", [(1e-12, True), (1e-7, False)], ids=["noise", "a hair below"])
def test_a_bound_forgives_float_noise_and_nothing_more(version, below, passes):
    t = RULES[version].thresholds
    # cumulative R&D just under its bound, the ratio far below its own: only the cumulative bound can pass it
    per_year = t.rd_cumulative_min_cny * (1 - below) / 3
    res = evaluate_star("guard", company(revenue=(1e12,) * 3, rd=(per_year,) * 3), version=version)
    assert indicator(res, "rd_investment").passed is passes
    # the R&D ratio just under its bound, cumulative R&D far below its own
    rev = 1 * M
    res = evaluate_star("guard", company(revenue=(rev,) * 3, rd=(rev * t.rd_ratio_min * (1 - below),) * 3),
                        version=version)
    assert indicator(res, "rd_investment").passed is passes
    # patents: whole numbers, so the bound itself passes and one fewer fails
    at = evaluate_star("guard", company(patents=t.invention_patents_min), version=version)
    under = evaluate_star("guard", company(patents=t.invention_patents_min - 1), version=version)
    assert indicator(at, "invention_patents").passed is True and indicator(under, "invention_patents").passed is False


@pytest.mark.parametrize("version", VERSIONS)
def test_patent_filings_standing_in_are_named_with_their_count_and_years(version):
    df = company(patents=None).assign(patent_filings_cn=[3, 4, 5], patent_filings_us=[1, 9, 1])
    res = evaluate_star("guard", df, version=version)
    ind = indicator(res, "invention_patents")
    need = RULES[version].thresholds.invention_patents_min
    assert ind.value == 17 and ind.passed is (17 >= need)  # the largest office each year: 3 + 9 + 5
    assert ind.inputs == {"year": 2022, "invention_patents": None, "patent_filings": 17, "filing_years": list(YEARS)}
    assert ind.note.startswith(f"on a proxy: patent filings 17 {'≥' if ind.passed else '<'} {need} (patent filings, "
                               f"not granted invention patents: 17 filed (fiscal years 2020, 2021, 2022")
    low = evaluate_star("guard", company(patents=None).assign(patent_filings_cn=[1, 1, 1]), version=version)
    r = reason_of(low, "invention_patents")
    for lang in ("en", "zh"):
        text = detail(Labels(lang), r, low.version)
        assert "3" in text and str(need) in text and "2020" in text and "2022" in text, (lang, text)


# ---- a verdict's reasons carry what the reader's sentence needs ------------------------------------------------

@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("case", ["fails everything", "missing figures"])
def test_each_reason_names_its_indicator_by_number_and_item_with_its_figures(version, case):
    from hardtech.presentation.star_text import reason

    res = evaluate_star("guard", company(**CASES[case]), version=version)
    items = {("indicator", i.name): i for i in res.indicators} | {("exception", e.name): e for e in res.exceptions}
    assert res.reasons, res.decided_by
    for r in res.reasons:
        kind = r["key"].split("_")[0]
        ind = items[kind, r["item"]]
        assert r["key"] in ("indicator_failed", "indicator_unknown", "exception_unknown") and r["number"] == ind.number
        assert r["value"] == ind.value and r["inputs"] == ind.inputs and r["proxy"] is False
        words = {"indicator": (f"indicator {ind.number} ", f"指标 {ind.number}"),
                 "exception": (f"exception {ind.number} ", f"例外条款 {ind.number}")}[kind]
        for lang, word in zip(("en", "zh"), words):
            text = reason(Labels(lang), r, res.version)
            assert text.startswith(word) and detail(Labels(lang), r, res.version) in text, (lang, text)
    proxy = evaluate_star("guard", company(patents=None).assign(patent_filings_cn=[1, 1, 1]), version=version)
    assert reason_of(proxy, "invention_patents")["proxy"] is True


# ---- numbers in the notes: two decimals, more only to tell a failure from its bound -----------------------------

def test_a_value_is_shown_with_two_decimals_and_more_only_where_a_failure_would_read_as_equal():
    from hardtech.analytics.star.text import _cmp

    assert _cmp(0.123456, 0.05, True, "pct") == "12.35% ≥ 5%"
    assert _cmp(0.05, 0.05, True, "pct") == "5% ≥ 5%"  # met at the bound: equal is right
    assert _cmp(61.234567 * M, 60 * M, True, "money") == "RMB 61.23 m ≥ RMB 60 m"
    assert _cmp(7, 7, True, "count") == "7 ≥ 7" and _cmp(6, 7, False, "count") == "6 < 7"
    # a failure just under its bound: the fewest decimals in steps of two (2, 4, 6, 8, 10, then 12) that tell them apart
    for k in range(2, 10):  # 10: within 1.3 billionths, still beyond the tolerance
        value = 0.05 * (1 - 1.2345678 * 10 ** -k)  # a value with digits to spare at every precision
        a, _, b = _cmp(value, 0.05, False, "pct").partition(" < ")
        assert a != b and b == "5%", (k, a, b)
        want = next(d for d in (2, 4, 6, 8, 10, 12) if f"{value * 100:.{d}f}" != f"{5:.{d}f}")
        assert a == f"{value * 100:.{want}f}".rstrip("0") + "%", (k, a, want)


# ---- the verdict's own sentence and keys, on every route to it -------------------------------------------------

COUNT = {3: "three", 4: "four"}


@pytest.mark.parametrize("version", VERSIONS)
def test_every_route_to_a_verdict_says_which_it_took_and_why(version):
    v = RULES[version]
    n = len(v.indicators)
    met = evaluate_star("guard", company(), version=version)
    assert (met.verdict, met.decided_by) == ("sci-tech", f"all {COUNT[n]} indicators met")
    assert met.reasons == [{"key": "all_met", "n": n, "carve_outs": []}]

    award = evaluate_star("guard", company(**CASES["fails everything"]), version=version, flags=["national_award"])
    exc = next(e for e in award.exceptions if e.name == "national_award")
    assert award.verdict == "sci-tech" and award.decided_by == f"exception {exc.number}: {exc.note}"
    assert exc.note.startswith("national_award flag (") and exc.threshold == "flag national_award"
    assert [r["key"] for r in award.reasons] == ["exception_met"] and award.reasons[0]["number"] == exc.number

    failed = evaluate_star("guard", company(**CASES["fails everything"]), version=version)
    assert failed.verdict == "not sci-tech"
    assert failed.decided_by == "; ".join(f"indicator {i.number} failed: {i.note}" for i in failed.indicators)
    assert [(r["key"], r["number"]) for r in failed.reasons] == [("indicator_failed", i.number) for i in failed.indicators]

    # one indicator failed, others and an exception open: "cannot tell", the failure said first
    open_ = evaluate_star("guard", company(revenue=(100 * M,) * 3, rd=(1 * M,) * 3, patents=None), version=version)
    inds = {i.name: i for i in open_.indicators}
    pat_exc = next(e for e in open_.exceptions if e.passed is None)
    assert open_.verdict == "insufficient data"
    lead = "; ".join(f"indicator {i.number} failed: {i.note}" for i in open_.indicators if i.passed is False)
    assert open_.decided_by == ("cannot tell: " + lead + f"; indicator {inds['invention_patents'].number} cannot be "
                                f"checked: {inds['invention_patents'].note}; exception {pat_exc.number} cannot be "
                                f"checked: {pat_exc.note}")
    keys = [(r["key"], r["number"]) for r in open_.reasons]
    assert keys == ([("indicator_failed", i.number) for i in open_.indicators if i.passed is False]
                    + [("indicator_unknown", inds["invention_patents"].number), ("exception_unknown", pat_exc.number)])

    # nothing failed, only unknowns: no failure lead
    unknown = evaluate_star("guard", company(patents=None, rd=(None, 50 * M, 50 * M)), version=version)
    assert unknown.verdict == "insufficient data" and unknown.decided_by.startswith("cannot tell: indicator 1 cannot be checked: ")
    assert "failed" not in unknown.decided_by


@pytest.mark.parametrize("version", [v for v in VERSIONS if RULES[v].negative_list])
def test_the_negative_list_names_the_worst_level_and_every_category_at_it(version):
    both = evaluate_star("guard", company(), version=version, flags=["fintech", "real_estate"])
    assert (both.verdict, both.decided_by) == ("prohibited", "negative list: real estate (prohibited)")
    assert both.reasons == [{"key": "negative_list", "item": "real_estate", "level": "prohibited", "carve_outs": []}]
    two = evaluate_star("guard", company(), version=version, flags=["fintech"], typology="model_innovation")
    assert two.verdict == "restricted"
    assert two.decided_by == "negative list: fintech (restricted); business-model innovation (restricted)"
    assert [(r["key"], r["item"], r["level"]) for r in two.reasons] == [
        ("negative_list", "fintech", "restricted"), ("negative_list", "model_innovation", "restricted")]
    assert two.negative_list == ["fintech (restricted): flag fintech",
                                 "business-model innovation (restricted): typology model_innovation"]


# ---- exceptions, waivers and a version without a negative list -------------------------------------------------

@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("patents, filings", [(60, None), (3, None), (None, None), (None, (20, 20, 20)), (None, (1, 1, 1))],
                         ids=["patents met", "patents short", "patents missing", "filings met", "filings short"])
def test_each_exception_states_its_bound_value_inputs_and_note(version, patents, filings):
    df = company(patents=patents)
    if filings:
        df = df.assign(patent_filings_cn=list(filings))
    flagged = {e.flag for e in RULES[version].exceptions if e.flag}
    one = sorted(flagged)[0]
    res = evaluate_star("guard", df, version=version, flags=[one])
    for rule, e in zip(RULES[version].exceptions, res.exceptions):
        assert (e.name, e.number, e.label) == (rule.id, rule.number, rule.description)
        if rule.flag:
            ok = rule.flag == one
            assert (e.threshold, e.inputs, e.passed, e.value) == (f"flag {rule.flag}", {"flag": rule.flag}, ok, float(ok))
            assert e.note == (f"{rule.flag} flag ({rule.description})" if ok else f"no {rule.flag} flag recorded")
            continue
        need = rule.min_invention_patents
        assert e.threshold == f"invention patents ≥ {need}"
        if filings:
            n = sum(filings)
            assert (e.value, e.passed, e.inputs) == (n, n >= need, {"year": 2022, "invention_patents": None,
                                                                   "patent_filings": n, "filing_years": list(YEARS)})
            assert e.note.startswith(f"on a proxy: {n} patent filings {'≥' if n >= need else '<'} {need} (patent filings,")
            assert e.proxy and e.proxy in e.note
        elif patents is None:
            assert (e.value, e.passed, e.inputs) == (None, None, {"year": 2022, "invention_patents": None})
            assert e.note == "invention patents unknown: org guard: invention patents missing for fiscal year 2022"
        else:
            assert (e.value, e.passed, e.inputs) == (patents, patents >= need, {"year": 2022, "invention_patents": patents})
            assert e.note == f"{patents} invention patents {'≥' if patents >= need else '<'} {need}" and not e.proxy


@pytest.mark.parametrize("version", VERSIONS)
def test_a_waived_indicator_passes_says_so_and_leans_on_no_proxy(version):
    df = company(patents=None).assign(patent_filings_cn=[1, 1, 1])  # the filings alone would fail it
    res = evaluate_star("guard", df, version=version, flags=["software"])
    ind = indicator(res, "invention_patents")
    need = RULES[version].thresholds.invention_patents_min
    assert ind.passed is True and ind.proxy == "" and ind.label == "invention patents"
    assert ind.threshold == f"waived by carve-out software (normally: invention patents ≥ {need})"
    assert ind.note.startswith("waived by carve-out software; for information: on a proxy: patent filings 3 < ")
    assert not any(p.startswith("invention patents:") for p in res.proxies)


@pytest.mark.parametrize("version", [v for v in VERSIONS if not RULES[v].negative_list])
@pytest.mark.parametrize("held", ["fintech", "model_innovation", "real_estate", "finance_investment", "typology"])
def test_a_version_without_a_negative_list_says_it_holds_nothing_against_the_company(version, held):
    kw = {"typology": "model_innovation"} if held == "typology" else {"flags": [held]}
    res = evaluate_star("guard", company(), version=version, **kw)
    assert res.verdict == "sci-tech" and res.negative_list == []
    assert (f"STAR version {version} has no negative list; typology and sector are not held against the company"
            in res.warnings)
    quiet = evaluate_star("guard", company(), version=version, flags=["software"])
    assert not any("negative list" in w for w in quiet.warnings)


def test_a_batch_says_cannot_tell_for_an_organisation_whose_currency_has_no_rate_and_goes_on():
    from hardtech.analytics.star import evaluate_star_batch

    fin = pd.concat([company().assign(org_id="cny"), company().assign(org_id="odd", currency="ZZZ")], ignore_index=True)
    orgs = pd.DataFrame({"org_id": ["odd", "cny"]})
    for year in (None, 2021):
        odd, cny = evaluate_star_batch(orgs, fin, year=year)
        assert cny.verdict == ("sci-tech" if year is None else "insufficient data")  # 2021: its window lacks 2019
        assert (odd.org_id, odd.verdict, odd.year) == ("odd", "insufficient data", year or 2022)
        assert odd.reasons == [{"key": "fx_missing"}] and len(odd.warnings) == 1 and "ZZZ" in odd.warnings[0]
        assert odd.decided_by == "cannot tell: " + odd.warnings[0]
        for lang in ("en", "zh"):
            from hardtech.presentation.star_text import reason

            assert reason(Labels(lang), odd.reasons[0]) == Labels(lang)("star_reason", "fx_missing")


# ---- the rest of what a verdict says (from the survivors of the star run after the tests above) -----------------

@pytest.mark.parametrize("version", VERSIONS)
def test_notes_of_a_met_indicator_are_joined_by_semicolons_and_a_failed_one_by_and(version):
    t = RULES[version].thresholds
    good = evaluate_star("guard", company(), version=version)
    assert indicator(good, "rd_investment").note == (f"R&D ratio 10% ≥ {pct(t.rd_ratio_min)}; cumulative R&D "
                                                    f"RMB 150 m ≥ {rmb(t.rd_cumulative_min_cny)}")
    assert indicator(good, "revenue_growth").note == (f"revenue CAGR 0% < {pct(t.revenue_cagr_min)}; last-year revenue "
                                                     f"RMB 500 m ≥ {rmb(t.revenue_last_year_min_cny)}")


@pytest.mark.parametrize("version", VERSIONS)
def test_revenue_growth_is_defined_from_any_positive_first_revenue_and_to_a_zero_last_one(version):
    t = RULES[version].thresholds
    tiny = indicator(evaluate_star("guard", company(revenue=(1.0, 1.0, 400 * M)), version=version), "revenue_growth")
    assert tiny.value == pytest.approx(20_000 - 1) and tiny.passed is True
    gone = indicator(evaluate_star("guard", company(revenue=(100 * M, 50 * M, 0.0)), version=version), "revenue_growth")
    assert gone.value == -1.0 and gone.passed is False
    assert gone.note == (f"revenue CAGR -100% < {pct(t.revenue_cagr_min)} and last-year revenue RMB 0 m < "
                         f"{rmb(t.revenue_last_year_min_cny)}")
    neg = indicator(evaluate_star("guard", company(revenue=(-1_235_001.0, 10 * M, 10 * M)), version=version),
                    "revenue_growth")  # RMB millions to two decimals
    assert neg.note.startswith("revenue CAGR undefined: revenue in 2020 is RMB -1.24 m (a growth rate needs")
    ratio = indicator(evaluate_star("guard", company(revenue=(-411_667.0,) * 3, rd=(1 * M,) * 3), version=version),
                      "rd_investment")
    assert ratio.note.startswith("R&D ratio undefined: 3-year revenue is RMB -1.24 m (not positive)")


@pytest.mark.parametrize("version", VERSIONS)
def test_the_applied_carve_outs_are_said_with_their_effect_and_each_is_considered(version):
    res = evaluate_star("guard", company(), version=version, flags=["software"])
    strict = next(c for c in RULES[version].carve_outs if c.rd_ratio_min is not None)
    assert res.carve_outs_applied == [f"software (flag software): invention patents indicator waived; R&D ratio must be "
                                      f"≥ {pct(strict.rd_ratio_min)}, no cumulative alternative"]
    others = [c for c in RULES[version].carve_outs if c.id != "software"]
    for c in others:  # a carve-out after one that does not apply is still considered
        got = evaluate_star("guard", company(), version=version, flags=[c.flags[0]])
        assert any(s.startswith(f"{c.id} (flag {c.flags[0]})") for s in got.carve_outs_applied), (c.id, got.carve_outs_applied)
        off = evaluate_star("guard", company(), version=version, flags=["software", c.flags[0]],
                            carve_outs={"software": False})  # one switched off: the next still applies
        assert [s.split(" ")[0] for s in off.carve_outs_applied] == [c.id]
        assert "carve-out software is switched off; it would apply (flag software)" in off.warnings
    with pytest.raises(Exception) as err:
        evaluate_star("guard", company(), version=version, carve_outs={"charm": True})
    assert f"carve-outs: {', '.join(c.id for c in RULES[version].carve_outs)}" in str(err.value)


def test_several_rows_for_one_year_are_said_and_the_most_complete_is_used():
    df = company()
    thin = df.iloc[[1]].assign(rd_expense=None, revenue=None, source_name="thin")
    full = df.assign(source_name=None)
    res = evaluate_star("guard", pd.concat([thin, full], ignore_index=True))
    assert indicator(res, "rd_investment").passed is True  # the complete row's figures, not the thin one's gaps
    assert [w for w in res.warnings if "financials rows" in w] == [
        "org guard: 2 financials rows for fiscal year 2021 (sources thin, ?); used the most complete one (source ?)"]
    assert not [w for w in evaluate_star("guard", company()).warnings if "financials rows" in w]


def test_amounts_without_a_currency_are_ignored_and_said_to_be():
    for missing in (None, float("nan"), ""):
        df = company()
        df.loc[df.fiscal_year == 2021, "currency"] = missing
        res = evaluate_star("guard", df)
        assert "org guard: fiscal year 2021 has amounts but no currency; amounts ignored" in res.warnings, missing
        ind = indicator(res, "rd_investment")
        assert ind.passed is None and ind.inputs["rd_cny"][2021] is None and ind.inputs["revenue_cny"][2021] is None


def test_a_foreign_currency_without_a_table_given_is_converted_with_the_shipped_one():
    from hardtech.sources.fx import load_fx

    usd = company().assign(currency="USD")
    alone = evaluate_star("guard", usd)
    given = evaluate_star("guard", usd, fx=load_fx())
    assert alone.fx and alone.fx == given.fx
    assert indicator(alone, "rd_investment").inputs == indicator(given, "rd_investment").inputs


def test_what_the_caller_wrote_is_read_as_meant_or_named():
    hyphen = evaluate_star("guard", company(**CASES["fails everything"]), flags=["national-award"])
    assert hyphen.verdict == "sci-tech" and hyphen.decided_by.startswith("exception 2: national_award flag")
    codes = evaluate_star("guard", company(), industry_codes=["Application Software", "gics:Banks"])
    assert codes.warnings == ["industry code 'Application Software' ignored: expected 'scheme:code'"]
    year = evaluate_star("guard", company(), year=2023)
    assert "org guard: no financials row in the store for the requested fiscal year 2023" in year.warnings
    assert not [w for w in evaluate_star("guard", company(), year=2022).warnings if "requested" in w]
    for empty in (None, float("nan"), [None, " ", ""]):
        assert evaluate_star("guard", company(), flags=empty, industry_codes=empty).verdict == "sci-tech"
    assert evaluate_star("guard", company(), typology=pd.NA).negative_list == []
    assert evaluate_star("guard", None).verdict == "insufficient data"
    with pytest.raises(Exception) as err:
        evaluate_star("guard", company().drop(columns=["fiscal_year"]))
    assert str(err.value) == "financials for org guard have no 'fiscal_year' column"
    with pytest.raises(Exception) as err:
        evaluate_star("guard", company(), version="1999-01-01")
    assert str(err.value).endswith("; versions: " + ", ".join(VERSIONS))


@pytest.mark.parametrize("version", VERSIONS)
def test_a_verdict_decided_on_filings_says_so_whichever_way_it_went(version):
    for filings in ((30, 30, 30), (1, 1, 1)):
        kw = {} if filings[0] > 1 else dict(CASES["fails everything"])
        kw["patents"] = None
        res = evaluate_star("guard", company(**kw).assign(patent_filings_cn=list(filings)), version=version)
        assert res.verdict in ("sci-tech", "not sci-tech"), res.decided_by
        assert res.decided_by.endswith(" — on a proxy: patent filings stand in for granted invention patents")
        assert res.reasons[-1] == {"key": "on_proxy", "carve_outs": []}


def test_a_batch_does_not_hand_one_organisations_warnings_to_another_with_the_same_codes():
    from hardtech.analytics.star import evaluate_star_batch

    fin = pd.concat([company().assign(org_id="a"), company().assign(org_id="b")], ignore_index=True)
    fin = fin[~((fin.org_id == "a") & (fin.fiscal_year == 2022))]  # a lacks its last year
    orgs = pd.DataFrame({"org_id": ["a", "b"], "industry_codes": [["gics:Application Software"]] * 2})
    a, b = evaluate_star_batch(orgs, fin, year=2022, carve_outs={"software": False})
    assert any("requested fiscal year 2022" in w for w in a.warnings)
    assert b.warnings == ["carve-out software is switched off; it would apply (industry code gics:Application Software)"]


def test_small_things_a_verdict_rests_on():
    from hardtech.analytics.star.text import _cmp

    # a met value a hair above its bound reads at two decimals, as equal (it passed: the sign says so)
    assert _cmp(0.0500001, 0.05, True, "pct") == "5% ≥ 5%"
    assert _cmp(80_000_001.0, 80 * M, True, "money") == "RMB 80 m ≥ RMB 80 m"
    # a row without a year is skipped, not the end of the rows
    df = pd.concat([company().iloc[[0]].assign(fiscal_year=None), company()], ignore_index=True)
    assert evaluate_star("guard", df).verdict == "sci-tech"
    # a missing figure in a foreign currency stays missing, converted or not
    usd = company(rd=(None, 10 * M, 10 * M)).assign(currency="USD")
    assert indicator(evaluate_star("guard", usd), "rd_investment").inputs["rd_cny"][2020] is None
    # two carve-outs waiving one indicator are both named
    both = evaluate_star("guard", company(), flags=["listing_standard_5", "red_chip"])
    assert indicator(both, "revenue_growth").threshold.startswith("waived by carve-out pre_revenue, red_chip (normally: ")
    # one flag given as a plain string is one flag
    assert evaluate_star("guard", company(), flags="software").carve_outs_applied[0].startswith("software (flag software)")


def test_blank_or_missing_codes_flags_and_typology_are_nothing_not_something():
    for empty in ([None, " ", ""], float("nan"), None):
        res = evaluate_star("guard", company(), flags=empty, industry_codes=empty)
        assert res.warnings == [] and res.carve_outs_applied == [], empty
    old = [v for v in VERSIONS if not RULES[v].negative_list][0]
    for missing in (None, float("nan"), pd.NA):  # no typology: nothing to warn about in a version without a list
        assert not evaluate_star("guard", company(), version=old, typology=missing).warnings, missing


def test_a_code_the_taxonomy_hints_counts_after_codes_of_other_schemes():
    hint = "crunchbase:social media"  # not on the list itself; the taxonomy hints business-model innovation
    for codes in ([hint], ["foo:bar", hint], ["gics:Semiconductors", hint]):
        res = evaluate_star("guard", company(), industry_codes=codes)
        assert res.verdict == "restricted", codes
        assert res.negative_list == [f"business-model innovation (restricted): industry code {hint} "
                                     "(taxonomy typology hint model_innovation)"]
