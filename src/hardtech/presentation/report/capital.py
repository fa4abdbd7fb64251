"""Chapters on capital and place: funding flows with the tech-vs-model shift, and regional ecosystems.

Funding comes from `flow_rows`/`shift_rows`, regions from `region_rows`/`compare_regions`/
`cluster_rows`: the CLI's answers, filtered to the scope and kept in `ctx.figures`.
"""

from __future__ import annotations

from hardtech.presentation.report import blocks as B
from hardtech.presentation.report import charts
from hardtech.presentation.report.context import Ctx
from hardtech.services.report_data import flows_window

CCY = "USD"
PERIODS = 10   # periods shown in the flows chart
WINDOW = 3     # years of the flows table and of the capital guidelines


def _year_ok(ctx: Ctx, period: str) -> bool:
    return ctx.scope.year is None or int(str(period)[:4]) <= ctx.scope.year


def flows(ctx: Ctx) -> dict:
    from hardtech.services.ecosystem import flow_rows, shift_rows

    t = ctx.t
    syn = ctx.synthetic(("funding_rounds",))
    all_rows = flow_rows(ctx.store, by="field", currency=CCY)
    if not all_rows:
        ctx.figures["flows"], ctx.figures["shift"] = [], []
        return B.chapter("flows", t("ch_flows"), no_rounds(ctx), syn)
    rows = [r for r in all_rows if _year_ok(ctx, r["period"])
            and (not ctx.scope.fields or r["group"] in ctx.scope.fields)]
    if ctx.scope.regions:
        names = {r["name_en"] for r in ctx.scope.regions} | {r["name_zh"] for r in ctx.scope.regions}
        rows = [r for r in flow_rows(ctx.store, by="region", currency=CCY) if r["group"] in names
                and _year_ok(ctx, r["period"])]
    ctx.figures["flows"] = rows
    out = [B.text(t("flows_intro", ccy=CCY))]
    if not rows:
        out.append(B.missing(ctx.miss("flows", t("no_rounds_scope", scope=ctx.scope.label()))))
        return B.chapter("flows", t("ch_flows"), out, syn)
    periods = sorted({r["period"] for r in rows})
    recent = periods[-PERIODS:]
    places = _places(ctx)
    label = (lambda g: t.L.place(g, places)) if ctx.scope.regions else t.field
    bars = [{"period": r["period"], "v": r["value"] / 1e9, "group": label(r["group"])} for r in rows
            if r["period"] in recent and r["value"]]
    if bars:
        out.append(B.chart(charts.vbar_stacked(bars, "period", "v", "group", t.axis_bn(t("c_amount"), CCY)),
                           t("chart_flows", ccy=CCY)))
    window = periods[-WINDOW:]
    summary = flows_window(rows, window)
    ctx.figures["flows_window"] = {"periods": window, "rows": summary}
    out.append(B.table(t("flows_table", n=len(window), first=window[0], last=window[-1]),
                       [t("c_field") if not ctx.scope.regions else t("c_region"), t("c_amount"), t("c_rounds"),
                        t("c_disclosed"), t("c_cagr")],
                       [[label(s["group"]), t.money(s["amount"], CCY), s["rounds"], s["disclosed_rounds"],
                         t.pct(s["cagr"]) if s["cagr"] is not None else t("no_data")] for s in summary],
                       numeric=(1, 2, 3, 4)))
    out += _shift(ctx, shift_rows)
    return B.chapter("flows", t("ch_flows"), out, syn)


def _shift(ctx: Ctx, shift_rows) -> list[dict]:
    t = ctx.t
    rows = [r for r in shift_rows(ctx.store, currency=CCY)
            if r["view"] == "technology vs model innovation" and _year_ok(ctx, r["period"])]
    ctx.figures["shift"] = rows
    if not rows:
        return []
    periods = sorted({r["period"] for r in rows})[-PERIODS:]
    lines = [{"period": r["period"], "v": r["amount_share"], "class": t.L("shift_class", r["class"])}
             for r in rows if r["period"] in periods and r["amount_share"] is not None]
    out = [B.heading(t("shift_heading")), B.text(t("shift_intro"))]
    if lines:
        out.append(B.chart(charts.lines(lines, "period", "v", "class", t("c_share"), percent=True), t("chart_shift")))
    share = {(r["period"], r["class"]): r["amount_share"] for r in rows}

    def cell(p: str, cls: str) -> str:
        known = [v for (q, _c), v in share.items() if q == p and v is not None]
        return t.pct(share.get((p, cls)) or 0.0) if known else t("no_data")

    out.append(B.table(t("tbl_shift"), [t("c_period"), t("c_tech_share"), t("c_model_share")],
                       [[p, cell(p, "technology"), cell(p, "model_innovation")] for p in periods], numeric=(1, 2)))
    return out


def regions(ctx: Ctx) -> dict:
    from hardtech.services.taxonomy import FIELD_IDS
    from hardtech.services.ecosystem import cluster_rows, compare_regions, region_rows

    t = ctx.t
    syn = ctx.synthetic(("organizations", "financials", "funding_rounds"))
    rows = [r for r in region_rows(ctx.store, "city") if r["organizations"] and _region_ok(ctx, r["region_id"])]
    rows.sort(key=lambda r: (-r["organizations"], r["region"]))
    ctx.figures["regions"] = rows
    if not rows:
        return B.chapter("regions", t("ch_regions"), [B.missing(ctx.miss("regions", t("no_regions")))], syn)
    fields = ctx.scope.fields or FIELD_IDS
    places = _places(ctx)
    out = [B.text(t("regions_intro"))]
    bars = [{"region": t.region(r), "v": r[f"n_{f}"], "field": t.field(f)} for r in rows[:12] for f in fields
            if r.get(f"n_{f}")]
    if bars:
        out.append(B.chart(charts.hbar(bars, "v", "region", t("c_orgs"), color="field"), t("chart_regions")))
    out.append(B.table(t("tbl_regions"), [t("c_region"), t("c_orgs"), t("c_universities"), t("c_institutes"),
                                         t("c_hhi"), t("c_top_lq")],
                       [[t.region(r), r["organizations"], r["universities"], r["institutes"],
                         t.num(r["hhi"], 2) if r["hhi"] is not None else t("no_data"), _top_lq(t, r, fields)]
                        for r in rows[:12]], numeric=(1, 2, 3, 4)))
    names = [r["name_en"] for r in ctx.scope.regions] if len(ctx.scope.regions) >= 2 else \
        [r["region"] for r in rows[:4]]
    if len(names) >= 2:
        d = compare_regions(ctx.store, names)
        ctx.figures["compare"] = d
        shown = [n if t.lang == "en" else (d["regions"][n]["region"].get("name_zh") or n) for n in names]
        by_name = dict(zip(names, shown))
        out.append(B.heading(t("compare_heading", names=" · ".join(shown))))
        out.append(B.text(t("compare_intro")))
        table = []
        for f in d["leaders"]:
            cells = []
            for n in names:
                fac = d["regions"][n]["factors"][f]
                cells.append(t("no_data") if fac["value"] is None else _factor_value(t, f, fac["value"]))
            lead = d["leaders"][f]
            table.append([_factor(t, d, names[0], f)] + cells + [by_name.get(lead, t.L.place(lead, places))
                                                                 if lead else "—"])
        out.append(B.table(t("tbl_compare"), [t("c_factor")] + shown + [t("c_leads")],
                           table, numeric=tuple(range(1, len(names) + 1))))
    else:
        out.append(B.missing(ctx.miss("regions", t("no_compare"))))
    cl = [c for c in cluster_rows(ctx.store) if _region_ok(ctx, c["region_id"])
          and (not ctx.scope.fields or c["field"] in ctx.scope.fields)]
    cl.sort(key=lambda c: (-c["members"], c["region_id"], c["field"]))
    ctx.figures["clusters"] = cl
    if cl:
        out.append(B.heading(t("clusters_heading")))
        out.append(B.table(t("tbl_clusters"), [t("c_region"), t("c_field"), t("c_members"), t("c_name")],
                           [[t.L.place(c["region"], places), t.field(c["field"]), c["members"],
                             ", ".join(ctx.name(i, n) for i, n in zip(c["member_ids"][:6], c["member_names"][:6]))
                             + (" …" if c["members"] > 6 else "")] for c in cl], numeric=(2,), limit=12,
                           more=t("more_rows")))
    return B.chapter("regions", t("ch_regions"), out, syn)


def _region_ok(ctx: Ctx, region_id: str) -> bool:
    if not ctx.scope.regions:
        return True
    return any(region_id == r["region_id"] or (r["level"] == "province" and region_id.startswith(r["region_id"] + "-"))
               for r in ctx.scope.regions)


def _top_lq(t, r: dict, fields) -> str:
    best = [(r.get(f"lq_{f}"), f) for f in fields if r.get(f"lq_{f}") is not None and r.get(f"n_{f}")]
    if not best:
        return t("no_data")
    lq, f = max(best, key=lambda x: (x[0], x[1]))
    return f"{t.field(f)} ({lq:.2f})"


def _factor(t, d: dict, first: str, factor: str) -> str:
    if t.L.has("factor", factor):
        return t.L("factor", factor)
    return d["regions"][first]["factors"][factor].get("label") or factor


def _factor_value(t, factor: str, value) -> str:
    """Capital in USD as money, counts as counts."""
    if factor == "capital":
        return t.money(value, "USD")
    return t.num(value, 0)


def _places(ctx: Ctx) -> dict[str, str]:
    """English place names of the store → Chinese (empty for the English report)."""
    from hardtech.presentation.labels import place_names

    return place_names(ctx.store) if ctx.t.lang == "zh" else {}


def no_rounds(ctx: Ctx) -> list[dict]:
    """The chapter without funding rounds: what it would show, which data fills it, and how to import it."""
    t = ctx.t
    out = [B.missing(ctx.miss("flows", t("no_rounds"))), B.text(t("no_rounds_would")),
           B.heading(t("no_rounds_needs_heading")),
           B.table(t("tbl_rounds_columns"), [t("c_column"), t("c_meaning"), t("c_required")],
                   [[f"`{c}`", t(f"rc_{c}"), t("yes") if c in ("org_id", "date", "amount", "currency") else t("no")]
                    for c in ("org_id", "date", "amount", "currency", "stage", "investors")]),
           B.heading(t("no_rounds_sources_heading")),
           B.table(t("tbl_rounds_sources"), [t("source"), t("c_command"), t("c_licence")],
                   [[t(f"rs_{k}_name"), f"`{cmd}`", t(f"rs_{k}_licence")] for k, cmd in ROUND_SOURCES])]
    return out


# where round-level funding data comes from, and the command that imports it (docs/sources.md)
ROUND_SOURCES = (
    ("formd", "hardtech import auto FOLDER --mapping sec_formd"),
    ("crunchbase", "hardtech import auto EXPORT --mapping crunchbase"),
    ("itjuzi", "hardtech import auto EXPORT.csv --mapping itjuzi"),
    ("own", "hardtech import funding_rounds FILE --mapping MAPPING"),
)
