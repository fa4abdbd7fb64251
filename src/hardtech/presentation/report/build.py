"""Collect the white paper: every chapter's figures from the service functions, in a fixed order.

`collect` returns plain data (chapters of blocks, the figures behind them, what is missing), so
rendering is a pure function of it and the same store and options give the same report.
"""

from __future__ import annotations

from pathlib import Path

from hardtech.presentation.report import blocks as B
from hardtech.presentation.report import capital, guidelines, market
from hardtech.presentation.report.context import ORG_COLUMN, Ctx, build_context
from hardtech.presentation.report.i18n import Translator
from hardtech.presentation.report.scope import Scope

ALL_TABLES = tuple(ORG_COLUMN)  # every table the synthetic banner counts


def collect(store, scope: Scope, lang: str = "en", db: str | Path = "") -> dict:
    """Every chapter from `store` (opened once by the caller, on its engine); `db` labels the paper."""
    t = Translator(lang)
    ctx = build_context(store, t, scope, db)
    if not ctx.names or (ctx.org_ids is not None and not ctx.org_ids):
        text = t("empty_store") if not ctx.names else t("empty_scope", scope=scope.label())
        ctx.miss("summary", text)
        chapters = [B.chapter("summary", t("ch_summary"), [B.missing(text)]), method(ctx)]
        return {"chapters": chapters, "figures": ctx.figures, "missing": ctx.missing, "ctx": ctx}
    body = [market.landscape(ctx), market.ranking(ctx), market.hardness(ctx), capital.flows(ctx),
            capital.regions(ctx)]
    gl = guideline_chapter(ctx)
    chapters = [summary(ctx)] + body + [gl, method(ctx), appendix(ctx)]
    return {"chapters": chapters, "figures": ctx.figures, "missing": ctx.missing, "ctx": ctx}


def summary(ctx: Ctx) -> dict:
    """Key numbers, each pointing at the chapter that explains it."""
    t, f = ctx.t, ctx.figures
    facts = [(t("k_orgs"), t.num(len(ctx.org_ids) if ctx.org_ids is not None else len(ctx.names), 0), "")]
    typ = f.get("by_typology") or []
    if typ:
        n = sum(r["companies"] for r in typ)
        hard = sum(r["companies"] for r in typ if r["typology"] == "hard_core")
        facts += [(t("k_companies"), t.num(n, 0), t("ch_landscape")),
                  (t("k_hardcore"), f"{t.num(hard, 0)} ({t.pct(hard / n) if n else t('no_data')})", t("ch_landscape"))]
    if f.get("rank"):
        r = f["rank"][0]
        facts.append((t("k_top_rd", year=f["rank_year"]), f"{ctx.name(r['org_id'], r['name'])}: "
                      f"{t.money(r['rd'], market.CCY)}", t("ch_ranking")))
    if f.get("scores"):
        r = f["scores"][0]
        facts.append((t("k_top_hard"), f"{ctx.name(r['org_id'], r['name'])}: {r['score']:.1f} "
                      f"({t('c_confidence')} {r['confidence']:.2f})", t("ch_hardness")))
    if f.get("star"):
        n = sum(r["verdict"] == "sci-tech" for r in f["star"])
        facts.append((t("k_star"), f"{n} / {len(f['star'])}", t("ch_hardness")))
    w = f.get("flows_window")
    if w and w["rows"]:
        facts.append((t("k_funding", first=w["periods"][0], last=w["periods"][-1]),
                      t.money(sum(s["amount"] for s in w["rows"]), capital.CCY), t("ch_flows")))
    shift = [r for r in f.get("shift") or [] if r["amount_share"] is not None]
    if shift:
        last = max(r["period"] for r in shift)
        share = sum(r["amount_share"] for r in shift if r["period"] == last and r["class"] == "technology")
        facts.append((t("k_tech_share", period=last), t.pct(share), t("ch_flows")))
    if f.get("regions"):
        r = f["regions"][0]
        facts.append((t("k_region"), f"{t.region(r)}: {r['organizations']}", t("ch_regions")))
    gl = f.get("guidelines") or []
    if gl:
        facts.append((t("k_guidelines"), f"{sum(g['status'] == 'match' for g in gl)} / {len(gl)}",
                      t("ch_guidelines")))
    out = [B.text(t("summary_intro")),
           B.table(t("ch_summary"), [t("c_item"), t("c_value"), t("c_chapter")], [list(x) for x in facts])]
    ctx.figures["summary"] = facts
    return B.chapter("summary", t("ch_summary"), out, ctx.synthetic(ALL_TABLES))


def guideline_chapter(ctx: Ctx) -> dict:
    """Each guideline with its rule, its finding, the figure and the table behind it, or what data would back it."""
    from hardtech.presentation.report import charts

    t = ctx.t
    out = [B.text(t("guidelines_intro"))]
    gl = guidelines.evaluate(ctx)
    for g in gl:
        chart = None
        if g.get("chart") and g["chart"]["rows"]:
            yes, no = t("g_meets"), t("g_not_met")
            rows = [{"label": r["label"], "v": r["v"], "part": yes if r["meets"] else no} for r in g["chart"]["rows"]]
            chart = B.chart(charts.hbar(rows, "v", "label", g["chart"]["title"], color="part", width=360,
                                        colors={yes: charts.DARK, no: charts.LIGHT}),
                            t("g_chart", title=g["title"]))
        out.append({"kind": "guideline", **{k: g[k] for k in ("id", "title", "rule", "status", "finding")},
                    "chart": chart, "table": B.table(t("g_table", title=g["title"]), g["head"], g["rows"])
                    if g["rows"] else None})
        if g["status"] == "insufficient":
            ctx.miss("guidelines", g["finding"])
    return B.chapter("guidelines", t("ch_guidelines"), out, ctx.synthetic(ALL_TABLES))


def method(ctx: Ctx) -> dict:
    from hardtech.services.report_data import source_counts, table_rows

    t = ctx.t
    out = [B.text(t("method_intro")), B.heading(t("method_sources"))]
    status = [r for r in table_rows(ctx.store) if r["rows"] and r["table"] not in ("api_tokens", "rejects", "imports")]
    src = source_counts(ctx.store)
    out.append(B.table(t("tbl_status"), [t("c_table"), t("c_rows"), t("c_synthetic_rows")],
                       [[r["table"], r["rows"], "" if r["synthetic_rows"] is None else r["synthetic_rows"]]
                        for r in status], numeric=(1, 2)))
    if src:
        out.append(B.table(t("c_sources"), [t("c_table"), t("source"), t("c_rows"), t("c_synthetic_rows")], src,
                           numeric=(2, 3), limit=25, more=t("more_rows")))
    synthetic = sum(r["synthetic_rows"] or 0 for r in status)
    out.append(B.text(t("method_synthetic", n=synthetic) if synthetic else t("method_no_synthetic")))
    weights = sorted({r.get("weights_version") for r in ctx.figures.get("scores") or [] if r.get("weights_version")})
    out.append(B.text(t("method_rules", weights=", ".join(weights) or t("no_data"),
                        star=ctx.figures.get("star_version") or t("no_data"))))
    out.append(B.heading(t("method_missing")))
    if ctx.missing:
        out.append(B.table(t("tbl_missing"), [t("c_chapter"), t("missing_heading")],
                           [[t(f"ch_{c}") if f"ch_{c}" in t.strings else c, m] for c, m in ctx.missing]))
    else:
        out.append(B.text(t("method_nothing_missing")))
    ctx.figures["sources"] = src
    return B.chapter("method", t("ch_method"), out, ctx.synthetic(ALL_TABLES))


def appendix(ctx: Ctx) -> dict:
    t, f = ctx.t, ctx.figures
    out = []
    if f.get("rank"):
        rows = f["rank"]
        out.append(B.table(t("appendix_rank", year=f["rank_year"], n=min(50, len(rows))),
                           [t("c_rank"), t("c_name"), t("c_country"), t("c_rd"), t("c_sales"), t("c_intensity"),
                            t("c_field")],
                           [[r["rank"], ctx.name(r["org_id"], r["name"]), r["country"], t.money(r["rd"], market.CCY),
                             t.money(r["net_sales"], market.CCY), t.pct(r["intensity"]),
                             ", ".join(t.field(x) for x in (r.get("field") or "").split("|") if x)]
                            for r in rows], numeric=(0, 3, 4, 5), limit=50, more=t("more_rows")))
    if f.get("scores"):
        rows = f["scores"]
        out.append(B.table(t("appendix_scores", n=min(50, len(rows))),
                           [t("c_name"), t("c_field"), t("c_year"), t("c_score"), t("c_confidence")],
                           [[ctx.name(r["org_id"], r["name"]), t.field(r["field"]), r["year"], f"{r['score']:.1f}",
                             f"{r['confidence']:.2f}"] for r in rows], numeric=(2, 3, 4), limit=50,
                           more=t("more_rows")))
    if f.get("regions"):
        rows = f["regions"]
        out.append(B.table(t("appendix_regions"), [t("c_region"), t("c_orgs"), t("c_universities"),
                                                   t("c_institutes"), t("c_rd"), t("c_amount")],
                           [[t.region(r), r["organizations"], r["universities"], r["institutes"],
                             t.money(r["rd_total"], r["rd_currency"]) if r["rd_total"] else t("no_data"),
                             t.money(r["funding_usd"], "USD") if r["funding_usd"] else t("no_data")] for r in rows],
                           numeric=(1, 2, 3, 4, 5), limit=60, more=t("more_rows")))
    if not out:
        out.append(B.missing(t("no_data")))
    return B.chapter("appendix", t("ch_appendix"), out, ctx.synthetic(("organizations", "financials")))
