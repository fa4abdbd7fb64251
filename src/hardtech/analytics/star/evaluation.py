"""Applying one version of the STAR test to a company (and to many, in pandas): window, indicators, verdict.

Why three-valued: a missing year must not read as a failure (or a pass). Each indicator is True / False
/ None ("cannot tell"), combined with Kleene logic, so "insufficient data" says what to go and find.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Iterable

import pandas as pd

from hardtech.errors import FXError, HardtechError, UsageError
from hardtech.schema import PATENT_FILING_COLUMNS
from hardtech.analytics.star.codes import _as_list, _code_key, _code_matches, _first_match, _num, _text_or_none
from hardtech.analytics.star.rules import CURRENT_VERSION, CarveOut, ExceptionRule, LEVELS, NegativeCategory, StarVersion, _pick, load_star_rules
from hardtech.analytics.star.results import IndicatorResult, StarResult
from hardtech.analytics.star.text import INDICATOR_LABELS, _COUNT_WORDS, _cmp, _fmt_threshold, _trim, _years_text

_MONEY = ("revenue", "rd_expense")

_COUNTS = ("rd_staff", "employees", "invention_patents")

_FILINGS = PATENT_FILING_COLUMNS


def _ge(value: float, threshold: float, tol: float) -> bool:
    """value ≥ threshold, forgiving float noise of `tol` relative (so (144/100)**0.5 - 1 reaches 20%)."""
    return value >= threshold - tol * abs(threshold)


def _kleene_or(*parts: bool | None) -> bool | None:
    if any(p is True for p in parts):
        return True
    if all(p is False for p in parts):
        return False
    return None


@dataclass
class _Window:
    org_id: str
    year: int | None
    years: tuple[int, ...]
    revenue: dict[int, float | None]  # in the rules' currency (CNY)
    rd: dict[int, float | None]
    rd_staff: float | None
    employees: float | None
    patents: float | None
    patent_filings: float | None  # the largest office's filings, summed over the window's years that have counts
    filing_years: tuple[int, ...]
    no_row: tuple[int, ...]
    rates: dict[int, float]  # fiscal year -> rate used (1 unit of the reported currency in CNY)

    def missing(self, what: str, values: dict[int, float | None], **more: dict[int, float | None]) -> str:
        """'org X: no financials row in the store for fiscal year 2022; revenue missing for fiscal year 2021'.

        Said of the store, not of the company: a missing figure is missing data, not a fact (issue 15).

        `more` names further values (keyword = label with '_' for spaces) checked the same way.
        """
        if self.year is None:
            return f"org {self.org_id}: no financials in the store"
        checks = {what: values, **{k.replace("_", " "): v for k, v in more.items()}}
        rows = sorted({y for vals in checks.values() for y, v in vals.items() if v is None and y in self.no_row})
        parts = [f"no financials row in the store for {_years_text(rows)}"] if rows else []
        for label, vals in checks.items():
            gaps = [y for y, v in vals.items() if v is None and y not in self.no_row]
            if gaps:
                parts.append(f"{label} missing for {_years_text(gaps)}")
        return f"org {self.org_id}: " + "; ".join(parts)


def _records(org_id: str, financials: pd.DataFrame | list[dict] | None) -> list[dict]:
    """The organisation's financials rows as dicts (a batch hands them over already split per organisation)."""
    if financials is None or len(financials) == 0:
        return []
    if isinstance(financials, list):
        return financials
    df = financials
    if "fiscal_year" not in df.columns:
        raise UsageError(f"financials for org {org_id} have no 'fiscal_year' column")
    if "org_id" in df.columns:
        df = df[df["org_id"].astype(str) == str(org_id)]
    return df.to_dict("records")


def _rows_by_year(org_id: str, financials: pd.DataFrame | list[dict] | None,
                  warnings: list[str]) -> dict[int, dict]:
    wanted = ("currency", *_MONEY, *_COUNTS, *_FILINGS)
    by_year: dict[int, list[dict]] = {}
    for r in _records(org_id, financials):
        if "fiscal_year" not in r:
            raise UsageError(f"financials for org {org_id} have no 'fiscal_year' column")
        fy = _num(r.get("fiscal_year"))
        if fy is None:
            continue
        by_year.setdefault(int(fy), []).append({c: r.get(c) for c in (*wanted, "source_name")})
    out: dict[int, dict] = {}
    for fy in sorted(by_year):
        recs = by_year[fy]
        best = max(recs, key=lambda r: sum(_num(r[c]) is not None for c in (*_MONEY, *_COUNTS, *_FILINGS)))
        if len(recs) > 1:
            srcs = ", ".join(str(r.get("source_name") or "?") for r in recs)
            warnings.append(f"org {org_id}: {len(recs)} financials rows for fiscal year {int(fy)} "
                            f"(sources {srcs}); used the most complete one (source {best.get('source_name') or '?'})")
        out[int(fy)] = best
    return out


def _rate(fx, org_id: str, ccy: str, year: int, v: StarVersion, fx_log: list[str]) -> float:
    month, day = v.fx_month_day
    on = dt.date(year, month, day)
    try:
        r = fx.rate(ccy, v.currency, on, "on_or_before", v.fx_max_age_days)
    except FXError as exc:
        raise FXError(f"STAR test of org {org_id}, fiscal year {year}: {exc}") from None
    fx_log.append(f"{year}: 1 {ccy} = {r.value:.8g} {v.currency}, rate of {r.date} "
                  f"({r.source}; {r.via}) for {on}")
    return float(r.value)


def _window(org_id: str, rows: dict[int, dict], year: int | None, v: StarVersion, fx,
            fx_log: list[str], warnings: list[str]) -> _Window:
    years = tuple(range(year - 2, year + 1)) if year is not None else ()
    revenue: dict[int, float | None] = {}
    rd: dict[int, float | None] = {}
    rates: dict[int, float] = {}
    fx_table = [fx]  # loaded at most once, and only when a foreign currency appears
    for y in years:
        row = rows.get(y, {})
        amounts = {c: _num(row.get(c)) for c in _MONEY}
        ccy = str(row.get("currency") or "").strip().upper()
        if any(a is not None for a in amounts.values()) and ccy != v.currency:
            if not ccy or ccy == "NAN":
                warnings.append(f"org {org_id}: fiscal year {y} has amounts but no currency; amounts ignored")
                amounts = dict.fromkeys(amounts)
            else:
                if fx_table[0] is None:
                    from hardtech.sources.fx import load_fx

                    fx_table[0] = load_fx()
                rates[y] = _rate(fx_table[0], org_id, ccy, y, v, fx_log)
                amounts = {c: (a * rates[y] if a is not None else None) for c, a in amounts.items()}
        revenue[y], rd[y] = amounts["revenue"], amounts["rd_expense"]
    last = rows.get(year, {}) if year is not None else {}
    filings: dict[int, float] = {}
    for y in years:
        counts = [x for x in (_num(rows.get(y, {}).get(c)) for c in _FILINGS) if x is not None]
        if counts:
            filings[y] = max(counts)
    return _Window(
        org_id=org_id, year=year, years=years, revenue=revenue, rd=rd,
        rd_staff=_num(last.get("rd_staff")), employees=_num(last.get("employees")),
        patents=_num(last.get("invention_patents")),
        patent_filings=sum(filings.values()) if filings else None, filing_years=tuple(sorted(filings)),
        no_row=tuple(y for y in years if y not in rows), rates=rates,
    )


def _filings_proxy(w: _Window, v: StarVersion) -> str:
    """Why the filings stand in (empty when they do not: a granted count exists, the rules forbid it, or none)."""
    if w.patents is not None or w.patent_filings is None or not v.patent_filings_proxy:
        return ""
    return (f"patent filings, not granted invention patents: {_trim(w.patent_filings, 0)} filed "
            f"({_years_text(w.filing_years)}, the largest office's count each year); the data has no granted count")


def _rd_investment(w: _Window, v: StarVersion, applied: list[CarveOut]) -> IndicatorResult:
    """R&D ratio (3-year sums) ≥ threshold, or cumulative R&D ≥ amount; software: ratio ≥ 10% only."""
    t, tol = v.thresholds, v.tolerance_rel
    strict = next((c for c in applied if c.rd_ratio_min is not None), None)
    ratio_min = strict.rd_ratio_min if strict else t.rd_ratio_min
    cumulative_ok_to_use = strict is None or strict.cumulative_alternative
    rd_vals, rev_vals = list(w.rd.values()), list(w.revenue.values())
    rd_sum = sum(rd_vals) if w.years and None not in rd_vals else None
    rev_sum = sum(rev_vals) if w.years and None not in rev_vals else None
    inputs = {"years": list(w.years), "rd_cny": dict(w.rd), "revenue_cny": dict(w.revenue),
              "rd_sum_cny": rd_sum, "revenue_sum_cny": rev_sum, "fx_rates": dict(w.rates)}
    notes: list[str] = []
    ratio = None
    if rd_sum is not None and rev_sum is not None and rev_sum > 0:
        ratio = rd_sum / rev_sum
        ratio_ok = _ge(ratio, ratio_min, tol)
        notes.append(f"R&D ratio {_cmp(ratio, ratio_min, ratio_ok, 'pct')}")
    elif rd_sum is not None and rev_sum is not None:
        ratio_ok = False
        notes.append(f"R&D ratio undefined: 3-year revenue is RMB {_trim(rev_sum / 1e6, 2)} m (not positive)")
    else:
        ratio_ok = None
        notes.append("R&D ratio unknown: " + w.missing("R&D expense", w.rd, revenue=w.revenue))
    threshold = f"R&D ratio ≥ {_fmt_threshold(ratio_min, 'pct')}"
    parts = [ratio_ok]
    if cumulative_ok_to_use:
        threshold += f" or cumulative R&D ≥ {_fmt_threshold(t.rd_cumulative_min_cny, 'money')}"
        if rd_sum is not None:
            cum_ok = _ge(rd_sum, t.rd_cumulative_min_cny, tol)
            notes.append(f"cumulative R&D {_cmp(rd_sum, t.rd_cumulative_min_cny, cum_ok, 'money')}")
        else:
            cum_ok = None
            if ratio_ok is not None:
                notes.append("cumulative R&D unknown: " + w.missing("R&D expense", w.rd))
        parts.append(cum_ok)
    else:
        threshold += f" (carve-out {strict.id}; the cumulative alternative does not apply)"
    passed = _kleene_or(*parts)
    joiner = " and " if passed is False else "; "
    return IndicatorResult("rd_investment", ratio, threshold, passed, inputs, joiner.join(notes))


def _rd_staff_share(w: _Window, v: StarVersion, applied: list[CarveOut]) -> IndicatorResult:
    """R&D staff / employees in the latest year."""
    need = v.thresholds.rd_staff_share_min
    threshold = f"R&D staff share ≥ {_fmt_threshold(need, 'pct')}"
    inputs = {"year": w.year, "rd_staff": w.rd_staff, "employees": w.employees}
    if w.rd_staff is None or w.employees is None:
        gap = {w.year: None} if w.year is not None else {}
        what = " and ".join(n for n, x in (("R&D staff", w.rd_staff), ("employees", w.employees)) if x is None)
        return IndicatorResult("rd_staff_share", None, threshold, None, inputs,
                               "R&D staff share unknown: " + w.missing(what, gap))
    if w.employees <= 0:
        return IndicatorResult("rd_staff_share", None, threshold, None, inputs,
                               f"R&D staff share undefined: org {w.org_id} reports 0 employees for {w.year}")
    share = w.rd_staff / w.employees
    ok = _ge(share, need, v.tolerance_rel)
    return IndicatorResult("rd_staff_share", share, threshold, ok, inputs,
                           f"R&D staff share {_cmp(share, need, ok, 'pct')}")


def _invention_patents(w: _Window, v: StarVersion, applied: list[CarveOut]) -> IndicatorResult:
    """Invention patents held at the end of the latest year."""
    need = v.thresholds.invention_patents_min
    threshold = f"invention patents ≥ {need}"
    inputs = {"year": w.year, "invention_patents": w.patents}
    proxy = _filings_proxy(w, v)
    if proxy:
        ok = _ge(w.patent_filings, need, v.tolerance_rel)
        inputs.update(patent_filings=w.patent_filings, filing_years=list(w.filing_years))
        return IndicatorResult("invention_patents", w.patent_filings, threshold, ok, inputs,
                               f"on a proxy: patent filings {_cmp(w.patent_filings, need, ok, 'count')} "
                               f"({proxy})", proxy=proxy)
    if w.patents is None:
        gap = {w.year: None} if w.year is not None else {}
        return IndicatorResult("invention_patents", None, threshold, None, inputs,
                               "invention patents unknown: " + w.missing("invention patents", gap))
    ok = _ge(w.patents, need, v.tolerance_rel)
    return IndicatorResult("invention_patents", w.patents, threshold, ok, inputs,
                           f"invention patents {_cmp(w.patents, need, ok, 'count')}")


def _revenue_growth(w: _Window, v: StarVersion, applied: list[CarveOut]) -> IndicatorResult:
    """CAGR = (rev_t / rev_{t-2})^(1/2) − 1 ≥ threshold, or last-year revenue ≥ amount."""
    t, tol = v.thresholds, v.tolerance_rel
    threshold = (f"revenue CAGR over 3 years ≥ {_fmt_threshold(t.revenue_cagr_min, 'pct')} "
                 f"or last-year revenue ≥ {_fmt_threshold(t.revenue_last_year_min_cny, 'money')}")
    first, last = (w.revenue.get(w.years[0]), w.revenue.get(w.years[-1])) if w.years else (None, None)
    inputs = {"first_year": w.years[0] if w.years else None, "last_year": w.year,
              "revenue_first_cny": first, "revenue_last_cny": last, "fx_rates": dict(w.rates)}
    notes: list[str] = []
    cagr = None
    if first is None or last is None:
        cagr_ok = None
        gaps = {y: w.revenue.get(y) for y in (w.years[0], w.years[-1])} if w.years else {}
        notes.append("revenue CAGR unknown: " + w.missing("revenue", gaps))
    elif first <= 0 or last < 0:
        cagr_ok = False
        notes.append(f"revenue CAGR undefined: revenue in {w.years[0]} is RMB {_trim(first / 1e6, 2)} m "
                     f"(a growth rate needs a positive starting revenue; growth from zero is not infinite)")
    else:
        cagr = (last / first) ** 0.5 - 1
        cagr_ok = _ge(cagr, t.revenue_cagr_min, tol)
        notes.append(f"revenue CAGR {_cmp(cagr, t.revenue_cagr_min, cagr_ok, 'pct')}")
    if last is not None:
        last_ok = _ge(last, t.revenue_last_year_min_cny, tol)
        notes.append(f"last-year revenue {_cmp(last, t.revenue_last_year_min_cny, last_ok, 'money')}")
    else:
        last_ok = None
        if cagr_ok is not None:
            notes.append("last-year revenue unknown: " + w.missing("revenue", {w.year: None}))
    passed = _kleene_or(cagr_ok, last_ok)
    return IndicatorResult("revenue_growth", cagr, threshold, passed, inputs,
                           (" and " if passed is False else "; ").join(notes))


_INDICATORS = {
    "rd_investment": _rd_investment,
    "rd_staff_share": _rd_staff_share,
    "invention_patents": _invention_patents,
    "revenue_growth": _revenue_growth,
}


def _indicator(number: int, ind: str, w: _Window, v: StarVersion, applied: list[CarveOut]) -> IndicatorResult:
    res = _INDICATORS[ind](w, v, applied)
    res.number, res.label = number, INDICATOR_LABELS[ind]
    waivers = [c for c in applied if c.waives == ind]
    if waivers:
        ids = ", ".join(c.id for c in waivers)
        res.threshold = f"waived by carve-out {ids} (normally: {res.threshold})"
        res.note = f"waived by carve-out {ids}; for information: {res.note}"
        res.passed = True
        res.proxy = ""  # waived: the proxy decided nothing
    return res


def _exception(e: ExceptionRule, flags: set[str], w: _Window, v: StarVersion) -> IndicatorResult:
    name = e.id
    if e.flag is not None:
        ok = e.flag in flags
        note = f"{e.flag} flag ({e.description})" if ok else f"no {e.flag} flag recorded"
        return IndicatorResult(name, 1.0 if ok else 0.0, f"flag {e.flag}", ok, {"flag": e.flag}, note,
                               e.number, e.description)
    need = e.min_invention_patents
    inputs = {"year": w.year, "invention_patents": w.patents}
    proxy = _filings_proxy(w, v)
    if proxy:
        ok = _ge(w.patent_filings, need, v.tolerance_rel)
        inputs.update(patent_filings=w.patent_filings, filing_years=list(w.filing_years))
        return IndicatorResult(name, w.patent_filings, f"invention patents ≥ {need}", ok, inputs,
                               f"on a proxy: {_trim(w.patent_filings, 0)} patent filings {'≥' if ok else '<'} "
                               f"{need} ({proxy})", e.number, e.description, proxy=proxy)
    if w.patents is None:
        gap = {w.year: None} if w.year is not None else {}
        return IndicatorResult(name, None, f"invention patents ≥ {need}", None, inputs,
                               "invention patents unknown: " + w.missing("invention patents", gap),
                               e.number, e.description)
    ok = _ge(w.patents, need, v.tolerance_rel)
    return IndicatorResult(name, w.patents, f"invention patents ≥ {need}", ok, inputs,
                           f"{_trim(w.patents, 0)} invention patents {'≥' if ok else '<'} {need}",
                           e.number, e.description)


def _carve_outs(v: StarVersion, flags: set[str], codes: list[str], overrides: dict[str, bool] | None,
                warnings: list[str]) -> tuple[list[CarveOut], list[str]]:
    overrides = dict(overrides or {})
    known = [c.id for c in v.carve_outs]
    unknown = sorted(set(overrides) - set(known))
    if unknown:
        raise UsageError(f"unknown carve-out(s) {unknown} for STAR version {v.id}; carve-outs: {', '.join(known)}")
    applied, texts = [], []
    for c in v.carve_outs:
        why = _carve_out_trigger(c, flags, codes)
        if why is None:
            continue
        if not overrides.get(c.id, c.default):
            warnings.append(f"carve-out {c.id} is switched off; it would apply ({why})")
            continue
        applied.append(c)
        effect = []
        if c.waives:
            effect.append(f"{INDICATOR_LABELS[c.waives]} indicator waived")
        if c.rd_ratio_min is not None:
            effect.append(f"R&D ratio must be ≥ {_fmt_threshold(c.rd_ratio_min, 'pct')}"
                          + ("" if c.cumulative_alternative else ", no cumulative alternative"))
        texts.append(f"{c.id} ({why}): {'; '.join(effect)}")
    return applied, texts


def _carve_out_trigger(c: CarveOut, flags: set[str], codes: list[str]) -> str | None:
    flag = next((f for f in c.flags if f in flags), None)
    if flag:
        return f"flag {flag}"
    if any(f in flags for f in c.veto_flags):
        return None
    code = _first_match(c.codes, codes)
    return f"industry code {code}" if code else None


def _negative_list(v: StarVersion, flags: set[str], codes: list[str], typology: str | None,
                   taxonomy, warnings: list[str]) -> list[tuple[NegativeCategory, str]]:
    if not v.negative_list:
        if typology or any(f in flags for f in ("fintech", "model_innovation", "real_estate", "finance_investment")):
            warnings.append(f"STAR version {v.id} has no negative list; typology and sector are not held against the company")
        return []
    hits: list[tuple[NegativeCategory, str]] = []
    explicit = [c for cat in v.negative_list for c in cat.codes]
    hint_cache: dict[str, str | None] = {}
    for cat in v.negative_list:
        why = next((f"flag {f}" for f in cat.flags if f in flags), None)
        if why is None and typology and typology in cat.typologies:
            why = f"typology {typology}"
        if why is None:
            code = _first_match(cat.codes, codes)
            why = f"industry code {code}" if code else None
        if why is None and cat.typology_hints:
            why = _hint_trigger(cat, codes, explicit, taxonomy, hint_cache, warnings)
        if why:
            hits.append((cat, why))
    return sorted(hits, key=lambda h: -LEVELS.index(h[0].level))


def _hint_trigger(cat: NegativeCategory, codes: list[str], explicit: list[str], taxonomy,
                  cache: dict[str, str | None], warnings: list[str]) -> str | None:
    """A code the taxonomy hints at (e.g. Interactive Media → model_innovation), unless listed elsewhere."""
    for code in codes:
        scheme = _code_key(code)[0]
        if scheme not in cat.hint_schemes or any(_code_matches(e, code) for e in explicit):
            continue
        if code not in cache:
            if taxonomy is None:
                from hardtech.analytics.taxonomy import load_taxonomy

                taxonomy = load_taxonomy()
            try:
                cache[code] = taxonomy.typology_hint(scheme, code.partition(":")[2].strip())
            except HardtechError as exc:
                cache[code] = None
                warnings.append(f"industry code {code!r} not understood: {exc}")
        if cache[code] in cat.typology_hints:
            return f"industry code {code} (taxonomy typology hint {cache[code]})"
    return None


def _key(key: str, item: IndicatorResult) -> dict:
    """A reason as a key and the item's own figures (what `decided_by` says in English)."""
    return {"key": key, "number": item.number, "item": item.name, "value": item.value, "inputs": item.inputs,
            "proxy": bool(item.proxy)}


def _decide(inds: list[IndicatorResult], excs: list[IndicatorResult],
            neg: list[tuple[NegativeCategory, str]]) -> tuple[str, str, list[dict]]:
    if neg:
        level = neg[0][0].level
        cats = "; ".join(f"{c.label} ({c.level})" for c, _ in neg if c.level == level)
        return level, f"negative list: {cats}", [{"key": "negative_list", "item": c.id, "level": c.level}
                                                 for c, _ in neg if c.level == level]
    if all(i.passed is True for i in inds):
        n = len(inds)
        return "sci-tech", f"all {_COUNT_WORDS.get(n, str(n))} indicators met", [{"key": "all_met", "n": n}]
    met = [e for e in excs if e.passed is True]
    if met:
        return "sci-tech", f"exception {met[0].number}: {met[0].note}", [_key("exception_met", met[0])]
    failed = [i for i in inds if i.passed is False]
    open_exc = [e for e in excs if e.passed is None]
    if failed and not open_exc:
        return ("not sci-tech", "; ".join(f"indicator {i.number} failed: {i.note}" for i in failed),
                [_key("indicator_failed", i) for i in failed])
    unknown = [f"indicator {i.number} cannot be checked: {i.note}" for i in inds if i.passed is None]
    unknown += [f"exception {e.number} cannot be checked: {e.note}" for e in open_exc]
    lead = "; ".join(f"indicator {i.number} failed: {i.note}" for i in failed)
    keys = [_key("indicator_failed", i) for i in failed] + [_key("indicator_unknown", i) for i in inds
                                                             if i.passed is None]
    keys += [_key("exception_unknown", e) for e in open_exc]
    return "insufficient data", "cannot tell: " + "; ".join(([lead] if lead else []) + unknown), keys


def evaluate_star(
    org_id: str,
    financials: pd.DataFrame | None,
    year: int | None = None,
    version: str = CURRENT_VERSION,
    flags: Iterable[str] = (),
    industry_codes: Iterable[str] = (),
    typology: str | None = None,
    fx=None,
    carve_outs: dict[str, bool] | None = None,
    *,
    rules: dict[str, StarVersion] | None = None,
    taxonomy=None,
    _memo: dict | None = None,
) -> StarResult:
    """Apply one version of the test to one organisation's financials (rows: one per fiscal year)."""
    v = _pick(version, rules)
    org_id = str(org_id)
    warnings: list[str] = []
    flag_set = {f.lower().replace("-", "_") for f in _as_list(flags)}
    codes = [c for c in _as_list(industry_codes) if ":" in c]
    warnings += [f"industry code {c!r} ignored: expected 'scheme:code'" for c in _as_list(industry_codes) if ":" not in c]
    typology = _text_or_none(typology)
    rows = _rows_by_year(org_id, financials, warnings)
    if year is None:
        year = max(rows) if rows else None
    elif year not in rows:
        warnings.append(f"org {org_id}: no financials row in the store for the requested fiscal year {year}")
    fx_log: list[str] = []
    w = _window(org_id, rows, year, v, fx, fx_log, warnings)
    key = (v.id, frozenset(flag_set), tuple(codes), typology, tuple(sorted((carve_outs or {}).items())))
    if _memo is not None and key in _memo:  # a batch: organisations share a few hundred code lists
        applied, applied_text, neg, said = _memo[key]
        warnings += said
    else:
        before = len(warnings)
        applied, applied_text = _carve_outs(v, flag_set, codes, carve_outs, warnings)
        neg = _negative_list(v, flag_set, codes, typology, taxonomy, warnings)
        if _memo is not None:
            _memo[key] = (applied, applied_text, neg, warnings[before:])
    inds = [_indicator(n, ind, w, v, applied) for n, ind in enumerate(v.indicators, start=1)]
    excs = [_exception(e, flag_set, w, v) for e in v.exceptions]
    verdict, decided_by, reasons = _decide(inds, excs, neg)
    proxies = [f"{i.label}: {i.proxy}" for i in (*inds, *excs) if i.proxy]
    if proxies and verdict in ("sci-tech", "not sci-tech"):
        decided_by += " — on a proxy: patent filings stand in for granted invention patents"
        reasons.append({"key": "on_proxy"})
    for r in reasons:
        r["carve_outs"] = [c.id for c in applied]
    return StarResult(
        org_id=org_id, version=v.id, year=year, verdict=verdict, decided_by=decided_by,
        indicators=inds, exceptions=excs, carve_outs_applied=applied_text,
        negative_list=[f"{c.label} ({c.level}): {why}" for c, why in neg], fx=fx_log, warnings=warnings,
        proxies=proxies, reasons=reasons,
    )


class _MemoFX:
    """The FX table with each (currency, target, day, rule, age) looked up once per batch."""

    def __init__(self, fx):
        self._fx, self._seen = fx, {}

    def rate(self, *args):
        if args not in self._seen:
            try:
                self._seen[args] = self._fx.rate(*args)
            except FXError as exc:
                self._seen[args] = exc
        got = self._seen[args]
        if isinstance(got, FXError):
            raise got
        return got


def evaluate_star_batch(
    orgs: pd.DataFrame,
    financials: pd.DataFrame,
    year: int | None = None,
    version: str = CURRENT_VERSION,
    fx=None,
    carve_outs: dict[str, bool] | None = None,
    *,
    rules: dict[str, StarVersion] | None = None,
    taxonomy=None,
) -> list[StarResult]:
    """The test for every organisation in `orgs` (columns org_id, flags, industry_codes, typology)."""
    if "org_id" not in orgs.columns:
        raise UsageError("orgs needs an 'org_id' column")
    versions = rules if rules is not None else load_star_rules()
    _pick(version, versions)
    if fx is None and financials is not None and "currency" in financials.columns:
        ccys = set(financials["currency"].dropna().astype(str).str.strip().str.upper())
        if ccys - {versions[version].currency}:  # load the FX table once for the whole batch
            from hardtech.sources.fx import load_fx

            fx = load_fx()
    groups: dict[str, list[dict]] = {}
    if financials is not None and len(financials) and "org_id" in financials.columns:
        if "fiscal_year" not in financials.columns:
            raise UsageError("financials have no 'fiscal_year' column")
        for rec in financials.to_dict("records"):  # one pass, not one DataFrame filter per organisation
            groups.setdefault(str(rec["org_id"]), []).append(rec)
    empty: list[dict] = []
    if taxonomy is None:
        from hardtech.analytics.taxonomy import load_taxonomy

        taxonomy = load_taxonomy()
    if fx is not None:
        fx = _MemoFX(fx)
    memo: dict = {}
    out = []
    for rec in orgs.to_dict("records"):
        oid = str(rec["org_id"])
        try:
            out.append(evaluate_star(
                oid, groups.get(oid, empty), year=year, version=version,
                flags=_as_list(rec.get("flags")), industry_codes=_as_list(rec.get("industry_codes")),
                typology=rec.get("typology"), fx=fx, carve_outs=carve_outs, rules=versions, taxonomy=taxonomy,
                _memo=memo,
            ))
        except FXError as exc:  # one organisation's missing rate must not stop the batch: it cannot be told
            years = [int(r["fiscal_year"]) for r in groups.get(oid, empty) if _num(r.get("fiscal_year")) is not None]
            out.append(StarResult(oid, version, year if year is not None else max(years, default=None),
                                  "insufficient data", f"cannot tell: {exc}", warnings=[str(exc)],
                                  reasons=[{"key": "fx_missing"}]))
    return out
