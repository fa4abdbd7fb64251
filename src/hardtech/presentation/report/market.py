"""Chapters on the market: the landscape, the R&D ranking with its decade view, hardness and STAR.

Each chapter asks the service functions (the ones the CLI calls) and keeps their rows in
`ctx.figures` for the summary, the guidelines and the tests; nothing is re-estimated here.
"""

from __future__ import annotations

from collections import Counter

from hardtech.errors import HardtechError, UsageError
from hardtech.presentation.report import blocks as B
from hardtech.presentation.report import charts
from hardtech.presentation.report.context import Ctx

TOP = 15
CCY = "EUR"


def landscape(ctx: Ctx) -> dict:
    t = ctx.t
    out = [B.text(t("landscape_intro"))]
    if not ctx.fields:
        out.append(B.missing(ctx.miss("landscape", t("no_classifications"))))
        return B.chapter("landscape", t("ch_landscape"), out, ctx.synthetic(("organizations",)))
    by_field, by_typology = _counts(ctx)
    ctx.figures["by_field"], ctx.figures["by_typology"] = by_field, by_typology
    if not by_field:
        out.append(B.missing(ctx.miss("landscape", t("no_classifications"))))
        return B.chapter("landscape", t("ch_landscape"), out, ctx.synthetic(("organizations",)))
    bars = []
    hard, rest = t("part_hard"), t("part_rest")
    for r in by_field:
        bars.append({"field": t.field(r["field"]), "part": hard, "n": r["of_which_hard_core"]})
        bars.append({"field": t.field(r["field"]), "part": rest, "n": r["organisations"] - r["of_which_hard_core"]})
    # the caption names the dark part: the colours are fixed here, not left to the legend's sort order
    out.append(B.chart(charts.hbar(bars, "n", "field", t("c_orgs"), color="part",
                                   colors={hard: charts.DARK, rest: charts.LIGHT}), t("chart_by_field")))
    out.append(B.table(t("tbl_by_field"), [t("c_field"), t("c_orgs"), t("c_hard")],
                       [[t.field(r["field"]), r["organisations"], r["of_which_hard_core"]] for r in by_field],
                       numeric=(1, 2)))
    out.append(B.chart(charts.hbar([{"typology": t.typology(r["typology"]), "n": r["companies"]} for r in by_typology],
                                   "n", "typology", t("c_orgs")), t("chart_by_typology")))
    out.append(B.table(t("tbl_by_typology"), [t("c_typology"), t("c_orgs")],
                       [[t.typology(r["typology"]), r["companies"]] for r in by_typology], numeric=(1,)))
    return B.chapter("landscape", t("ch_landscape"), out, ctx.synthetic(("organizations",)))


def _counts(ctx: Ctx) -> tuple[list[dict], list[dict]]:
    """Classified companies and startups per field and per typology, in the scope (the whole store: all of them),
    counted from one engine-neutral read (`services.report_data.scoped_typologies`)."""
    from hardtech.services.report_data import scoped_typologies

    rows, ctx.figures["busiest_year"] = scoped_typologies(ctx.store, ctx.org_ids)
    n, hard, typ = Counter(), Counter(), Counter()
    for _oid, fields, typology in rows:
        for f in (fields or [None]):
            n[f or "none"] += 1
            hard[f or "none"] += typology == "hard_core"
        typ[typology or "insufficient evidence"] += 1
    by_field = [{"field": f, "organisations": c, "of_which_hard_core": hard[f]}
                for f, c in sorted(n.items(), key=lambda kv: (-kv[1], kv[0]))]
    by_typ = [{"typology": k, "companies": c} for k, c in sorted(typ.items(), key=lambda kv: (-kv[1], kv[0]))]
    return by_field, by_typ


def rank_scope(ctx: Ctx) -> tuple[str, bool]:
    """The `hardtech rank --scope` that answers this report's question, and whether rows still need filtering."""
    s = ctx.scope
    if len(s.fields) == 1 and not s.regions:
        return f"field:{s.fields[0]}", False
    if len(s.regions) == 1 and not s.fields and s.regions[0]["level"] == "city":
        return f"city:{s.regions[0]['name_en']}", False
    return "world", ctx.org_ids is not None


def ranking(ctx: Ctx) -> dict:
    from hardtech.services.scoring import decade_rows, rank_rows

    t = ctx.t
    syn = ctx.synthetic(("financials",))
    year = ctx.scope.year or ranking_year(ctx)
    if year is None:
        out = [B.missing(ctx.miss("ranking", t("no_rd")))]
        return B.chapter("ranking", t("ch_ranking"), out, syn)
    scope, filtered = rank_scope(ctx)
    ctx.figures.update(rank_year=year, rank_scope=scope)
    out = [B.text(t("ranking_intro", year=year, ccy=CCY, rank_scope=scope))]
    if filtered:
        out.append(B.text(t("ranking_filtered")))
    try:
        rows = [r for r in rank_rows(ctx.store, year, "rd", scope) if ctx.in_scope(r["org_id"])]
    except HardtechError as exc:
        rows = []
        out.append(B.missing(ctx.miss("ranking", t("no_rd_year", year=year, reason=exc))))
    ctx.figures["rank"] = rows
    if not rows:
        if len(out) == 1 + filtered:
            out.append(B.missing(ctx.miss("ranking", t("no_rd_year", year=year, reason=t("no_data")))))
        return B.chapter("ranking", t("ch_ranking"), out, syn)
    top = rows[:TOP]
    cite = B.Citations()
    out.append(B.chart(charts.hbar([{"name": ctx.name(r["org_id"], r["name"]), "v": r["rd"] / 1e9} for r in top],
                                   "v", "name", t.axis_bn(t("c_rd"), CCY)), t("chart_rank", year=year, ccy=CCY)))
    out.append(B.table(t("tbl_rank", n=len(top), year=year), [t("c_rank"), t("c_name"), t("c_country"), t("c_rd"),
                                                              t("c_intensity"),
                                         t("c_growth"), t("source")],
                       [[r["rank"], ctx.name(r["org_id"], r["name"]), r["country"], t.money(r["rd"], CCY),
                         t.pct(r["intensity"]), _growth(t, r["growth_1y"]), cite(r["rd_source"])] for r in top],
                       numeric=(0, 3, 4, 5)))
    out.append(cite.block(t("source")))
    try:
        growth = [r for r in rank_rows(ctx.store, year, "growth", scope) if ctx.in_scope(r["org_id"])][:10]
    except HardtechError:
        growth = []
    if growth:
        out.append(B.table(t("growth_heading", year=year), [t("c_rank"), t("c_name"), t("c_growth"), t("c_rd")],
                           [[r["rank"], ctx.name(r["org_id"], r["name"]), _growth(t, r["growth_1y"]),
                             t.money(r["rd"], CCY)] for r in growth], numeric=(0, 2, 3)))
    out += _decade(ctx, [r["org_id"] for r in top[:5]], decade_rows)
    return B.chapter("ranking", t("ch_ranking"), out, syn)


def _growth(t, v) -> str:
    return t("no_data") if v is None else f"{v:.1f}%"


def _decade(ctx: Ctx, org_ids: list[str], decade_rows) -> list[dict]:
    from hardtech.services.report_data import rd_years

    t = ctx.t
    years = rd_years(ctx.store, org_ids, ctx.scope.year)
    decades, lines = [], []
    for oid in org_ids:
        if oid not in years:
            continue
        end = start = max(years[oid])
        while start - 1 in years[oid] and start > end - 9:  # up to ten years, no gap: `hardtech decade` sums them
            start -= 1
        try:
            conv = decade_rows(ctx.store, oid, start, end, CCY)
        except HardtechError:  # no rate for one of its years: no line in the chart
            conv = {}
        try:
            d = decade_rows(ctx.store, oid, start, end)
        except UsageError:  # its years mix currencies: the table shows them converted, as the chart does
            if not conv:
                continue
            d = conv
        decades.append(d)
        running = 0.0  # the chart draws what the heading promises: R&D added up year by year
        for y in conv.get("years", []):
            if y.get("rd") is not None:
                running += y["rd"]
                lines.append({"year": str(y["year"]), "v": running / 1e9, "name": ctx.name(oid)})
    ctx.figures["decade"] = decades
    ctx.figures["decade_lines"] = lines
    if not decades:
        return []
    cite = B.Citations()
    out = [B.heading(t("decade_heading")), B.text(t("decade_intro"))]
    if lines:
        out.append(B.chart(charts.lines(lines, "year", "v", "name", t.axis_bn(t("c_total"), CCY)),
                           t("chart_decade", ccy=CCY)))
    out.append(B.table(t("tbl_decade"), [t("c_name"), t("c_window"), t("c_total"), t("c_coverage"), t("source")],
                       [[ctx.name(d["org_id"]), f"{d['start']}–{d['end']}", t.money(d["total"], d["currency"]),
                         d["coverage"], " ".join(cite(x) for x in d.get("sources") or [])] for d in decades],
                       numeric=(2,)))
    out.append(cite.block(t("source")))
    return out


def hardness(ctx: Ctx) -> dict:
    from hardtech.services.scoring import score_rows, star_batch_rows, star_rules_version

    t = ctx.t
    syn = ctx.synthetic(("financials", "patents", "organizations"))
    out = [B.text(t("hardness_intro"))]
    seen, latest = set(), []
    for r in score_rows(ctx.store, year=ctx.scope.year, save=False):
        if r["org_id"] not in seen and ctx.in_scope(r["org_id"]):
            seen.add(r["org_id"])
            latest.append(r)
    latest.sort(key=lambda r: (-r["score"], r["org_id"]))
    ctx.figures["scores"] = latest
    if latest:
        top = latest[:TOP]
        out.append(B.chart(charts.hbar([{"name": ctx.name(r["org_id"], r["name"]), "v": round(r["score"], 1),
                                         "c": f"{r['confidence']:.2f}"} for r in top], "v", "name", t("c_score"),
                                       text="c"), t("chart_hardness")))
        out.append(B.table(t("tbl_hardness"), [t("c_name"), t("c_field"), t("c_year"), t("c_score"),
                                                 t("c_confidence"), t("c_percentile")],
                           [[ctx.name(r["org_id"], r["name"]), t.field(r["field"]), r["year"], f"{r['score']:.1f}",
                             f"{r['confidence']:.2f}", t.num(r["percentile_in_field_year"])] for r in top],
                           numeric=(2, 3, 4, 5)))
    else:
        out.append(B.missing(ctx.miss("hardness", t("no_scores"))))
    version = star_rules_version()
    out.append(B.heading(t("star_heading", version=version)))
    star = [r for r in star_batch_rows(ctx.store, year=ctx.scope.year, reasons=True) if ctx.in_scope(r["org_id"])]
    ctx.figures["star"], ctx.figures["star_version"] = star, version
    if not star:
        out.append(B.missing(ctx.miss("hardness", t("no_companies"))))
        return B.chapter("hardness", t("ch_hardness"), out, syn)
    out.append(B.text(t("star_intro")))
    counts = Counter(r["verdict"] for r in star)
    out.append(B.chart(charts.hbar([{"verdict": t.verdict(k), "n": v} for k, v in sorted(counts.items())], "n",
                                   "verdict", t("c_count")), t("chart_star", n=len(star))))
    passers = [r for r in star if r["verdict"] == "sci-tech"]
    if passers:
        out.append(B.table(t("star_passers"), [t("c_name"), t("c_field"), t("c_year"), t("c_decided")],
                           [[ctx.name(r["org_id"]), t.L.join(t.field(f) for f in ctx.fields.get(r["org_id"], [])),
                             r["year"], _why(t, r)] for r in passers], limit=20, more=t("more_rows")))
    else:
        out.append(B.text(t("star_none_pass", insufficient=counts.get("insufficient data", 0), total=len(star))))
    others = [r for r in star if r["verdict"] not in ("sci-tech", "insufficient data")]
    if others:
        out.append(B.table(t("star_others"), [t("c_name"), t("c_verdict"), t("c_year"), t("c_decided")],
                           [[ctx.name(r["org_id"]), t.verdict(r["verdict"]), r["year"] or "", _why(t, r)]
                            for r in others], limit=10, more=t("more_rows")))
    return B.chapter("hardness", t("ch_hardness"), out, syn)


def _why(t, r: dict) -> str:
    """A verdict's reasons, short and in the report's language (presentation/star_text.py)."""
    from hardtech.presentation.star_text import reasons_text

    return reasons_text(t.L, r.get("reasons"), r.get("version"), fallback=r.get("decided_by") or "", year=r.get("year"))


def ranking_year(ctx: Ctx) -> int | None:
    """The latest fiscal year with nearly as many R&D figures as the best-covered one.

    The best-covered year alone can be an old one that a second source happens to share (the panel's
    2015 and the 10-K file's 2015); a ranking is fairest in the latest year that most companies have.
    """
    from hardtech.services.report_data import ranking_year as latest_covered

    return latest_covered(ctx.store)
