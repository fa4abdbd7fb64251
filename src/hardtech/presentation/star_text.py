"""A STAR verdict's reasons in English or Chinese, from the keys and figures analytics/star/ emits.

Why not translate `decided_by`: that sentence is built for the CLI in English, with every figure
and gap spelled out. A white paper or a dashboard needs the same reasons short and in the
reader's language, so `StarResult.reasons` carries each reason as a key (`indicator_failed`, …)
with the item's own figures, and the sentences live in data/i18n/labels.toml ([star_reason]).
Thresholds come from the rules file of the verdict's version, so a new version needs no edit here.
"""

from __future__ import annotations

from hardtech.presentation.labels import Labels


def _pct(v: float | None) -> str:
    return "—" if v is None else f"{v * 100:.1f}%".replace(".0%", "%")


def _rmb(v: float | None, lang: str) -> str:
    if v is None:
        return "—"
    if lang == "zh":
        return f"{v / 1e8:,.2f} 亿元" if abs(v) >= 1e8 else f"{v / 1e4:,.0f} 万元"
    return f"RMB {v / 1e6:,.1f} m"


def _years(ys, lang: str) -> str:
    ys = sorted({int(y) for y in ys})
    return ("、".join(map(str, ys)) + " 年") if lang == "zh" else ", ".join(map(str, ys))


def _gaps(*dicts) -> list[int]:
    return sorted({int(y) for d in dicts if isinstance(d, dict) for y, v in d.items() if v is None})


def _version(version: str | None):
    from hardtech.services.scoring import star_rules

    return star_rules(version)


def detail(L: Labels, r: dict, version: str | None = None) -> str:
    """What an indicator or exception measured, against what it needs (or which figures the store lacks)."""
    v = _version(version)
    t, lang, inp = v.thresholds, L.lang, r.get("inputs") or {}
    s = lambda key, **kw: L("star_reason", key).format(**kw)  # noqa: E731
    item, value = r.get("item"), r.get("value")
    if item == "rd_investment":
        strict = next((c for c in v.carve_outs if c.id in (r.get("carve_outs") or []) and c.rd_ratio_min is not None),
                      None)
        ratio_min = strict.rd_ratio_min if strict else t.rd_ratio_min
        parts = []
        if value is not None:
            parts.append(s("rd_ratio", value=_pct(value), min=_pct(ratio_min)))
        if inp.get("rd_sum_cny") is not None and (strict is None or strict.cumulative_alternative):
            parts.append(s("rd_cumulative", value=_rmb(inp["rd_sum_cny"], lang), min=_rmb(t.rd_cumulative_min_cny, lang)))
        gaps = _gaps(inp.get("rd_cny"), inp.get("revenue_cny"))
        if gaps:
            parts.append(s("missing", what=L("star_reason", "what_rd"), years=_years(gaps, lang)))
        return L("star_reason", "and").join(parts) if parts else s("missing_any", what=L("star_reason", "what_rd"))
    if item == "rd_staff_share":
        if value is not None:
            return s("staff_share", value=_pct(value), min=_pct(t.rd_staff_share_min))
        return _missing(L, "what_staff", [inp.get("year")])
    if item in ("invention_patents", "invention_patents_core"):
        need = t.invention_patents_min if item == "invention_patents" else _core_min(v)
        if r.get("proxy") and inp.get("patent_filings") is not None:
            ys = inp.get("filing_years") or []
            return s("filings", value=f"{inp['patent_filings']:,.0f}", min=need,
                     first=min(ys) if ys else "", last=max(ys) if ys else "")
        if value is not None:
            return s("patents", value=f"{value:,.0f}", min=need)
        return _missing(L, "what_patents", [inp.get("year")])
    if item == "revenue_growth":
        parts = []
        if value is not None:
            parts.append(s("revenue_cagr", value=_pct(value), min=_pct(t.revenue_cagr_min)))
        if inp.get("revenue_last_cny") is not None:
            parts.append(s("revenue_last", value=_rmb(inp["revenue_last_cny"], lang),
                           min=_rmb(t.revenue_last_year_min_cny, lang)))
        gaps = [y for y, k in ((inp.get("first_year"), "revenue_first_cny"), (inp.get("last_year"), "revenue_last_cny"))
                if y is not None and inp.get(k) is None]
        if gaps:
            parts.append(s("missing", what=L("star_reason", "what_revenue"), years=_years(gaps, lang)))
        return L("star_reason", "and").join(parts) if parts else s("missing_any", what=L("star_reason", "what_revenue"))
    if inp.get("flag"):
        return s("flag_met" if r.get("passed") else "flag_absent", flag=inp["flag"])
    return ""


def _core_min(v) -> int | str:
    e = next((e for e in v.exceptions if e.min_invention_patents is not None), None)
    return e.min_invention_patents if e else ""


def _missing(L: Labels, what: str, years) -> str:
    ys = [y for y in years if y is not None]
    if ys:
        return L("star_reason", "missing").format(what=L("star_reason", what), years=_years(ys, L.lang))
    return L("star_reason", "missing_any").format(what=L("star_reason", what))


def reason(L: Labels, r: dict, version: str | None = None) -> str:
    key = r.get("key")
    if key in ("indicator_failed", "indicator_unknown", "exception_met", "exception_unknown"):
        return L("star_reason", key).format(number=r.get("number"), item=L("star_item", r.get("item")),
                                           detail=detail(L, r, version))
    if key == "negative_list":
        return L("star_reason", key).format(item=L("negative", r.get("item")), level=L.verdict(r.get("level")))
    if key == "all_met":
        return L("star_reason", key).format(n=r.get("n"))
    return L("star_reason", key) if key else ""


def reasons_text(L: Labels, reasons: list[dict] | None, version: str | None = None, fallback: str = "",
                 year: int | None = 0) -> str:
    """All reasons of one verdict as one line; `fallback` when there are none.

    `year` None means the organisation has no financial year at all: one short reason says so
    instead of four "cannot be checked" ones. Several negative-list categories share one reason.
    """
    if not reasons:
        return fallback
    if year is None and all(r.get("key", "").endswith("_unknown") for r in reasons):
        return L("star_reason", "no_financials")
    neg = [r for r in reasons if r.get("key") == "negative_list"]
    out = []
    if neg:
        out.append(L("star_reason", "negative_list").format(
            item=L.join(L("negative", r.get("item")) for r in neg), level=L.verdict(neg[0].get("level"))))
    out += [reason(L, r, version) for r in reasons if r.get("key") != "negative_list"]
    return L("star_reason", "sep").join(x for x in out if x)
