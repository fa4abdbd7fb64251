"""Investment guidelines: the rules of guidelines.toml applied to the report's figures.

Every guideline shows the rule in words with its thresholds, the figures it looked at, and its
finding; when the store cannot support the rule it says what is missing ("no funding rounds in
the store: no guideline on capital") rather than guessing. The evaluators only compare figures
the chapters already took from the service functions; the one extra question (R&D {years}
years before the ranking year) is asked of `rank_rows` too.
"""

from __future__ import annotations

import functools
import statistics
import tomllib
from importlib import resources

from hardtech.errors import HardtechError, SourceError
from hardtech.presentation.report.context import Ctx


@functools.lru_cache(maxsize=1)
def load_rules() -> dict:
    p = resources.files("hardtech.data") / "report" / "guidelines.toml"
    try:
        doc = tomllib.loads(p.read_text("utf-8"))
        for r in doc["rule"]:
            for key in ("id", "kind", "title_en", "title_zh", "rule_en", "rule_zh", "finding_en", "finding_zh"):
                r[key]
            if r["kind"] not in EVALUATORS:
                raise ValueError(f"rule {r['id']}: unknown kind {r['kind']!r}")
    except (OSError, tomllib.TOMLDecodeError, KeyError, ValueError) as exc:
        raise SourceError(f"report guidelines {p} are malformed: {exc}") from None
    return doc


def evaluate(ctx: Ctx) -> list[dict]:
    out = []
    for rule in load_rules()["rule"]:
        lang = ctx.t.lang
        params = {k: v for k, v in rule.items() if not k.endswith(("_en", "_zh")) and k not in ("id", "kind")}
        g = {"id": rule["id"], "title": rule[f"title_{lang}"], "rule": rule[f"rule_{lang}"].format(**params),
             "status": "insufficient", "finding": None, "head": [], "rows": []}
        res = EVALUATORS[rule["kind"]](ctx, rule)
        if isinstance(res, str):          # what is missing
            g["finding"] = res
        else:
            g.update(res)
            if g["status"] == "match":
                g["finding"] = rule[f"finding_{lang}"].format(**params, **res.get("fill", {}))
            elif g["status"] == "no_match":
                g["finding"] = ctx.t("g_nomatch")
        out.append(g)
    ctx.figures["guidelines"] = out
    return out


# ------------------------------------------------------------------------------- evaluators


def _field_rd_growth(ctx: Ctx, rule: dict) -> dict[str, dict] | str:
    """Per field: summed R&D of the companies ranked in both Y−years and Y, and its compound growth."""
    from hardtech.services.scoring import rank_rows

    key = ("rd_growth", rule["years"], rule["min_companies"])
    if key in ctx.figures:
        return ctx.figures[key]
    t = ctx.t
    last = ctx.figures.get("rank") or []
    year = ctx.figures.get("rank_year")
    if not last or year is None:
        return t("g_need_rd")
    first_year = year - rule["years"]
    try:
        first = {r["org_id"]: r for r in rank_rows(ctx.store, first_year, "rd", ctx.figures["rank_scope"])}
    except HardtechError:
        return t("g_need_rd_years", year=first_year)
    per: dict[str, dict] = {}
    for r in last:
        a = first.get(r["org_id"])
        if a is None or not a.get("rd") or not r.get("rd"):
            continue
        for f in (r.get("field") or "").split("|"):
            if f:
                s = per.setdefault(f, {"field": f, "companies": 0, "rd_first": 0.0, "rd_last": 0.0})
                s["companies"] += 1
                s["rd_first"] += a["rd"]
                s["rd_last"] += r["rd"]
    res = {f: {**s, "growth": (s["rd_last"] / s["rd_first"]) ** (1 / rule["years"]) - 1,
               "first_year": first_year, "last_year": year}
           for f, s in per.items() if s["companies"] >= rule["min_companies"] and s["rd_first"] > 0}
    if len(res) < 2:
        return t("g_need_rd_fields", n=rule["min_companies"], first=first_year, last=year)
    ctx.figures[key] = res
    return res


def _field_funding(ctx: Ctx, rule: dict) -> dict[str, dict] | str:
    from hardtech.services.report_data import flows_window

    t = ctx.t
    rows = ctx.figures.get("flows") or []
    if not rows or ctx.scope.regions:
        return t("g_need_rounds")
    periods = sorted({r["period"] for r in rows})[-rule["years"]:]
    w = flows_window(rows, periods)
    total = sum(s["amount"] for s in w) or None
    out = {s["group"]: {**s, "share": (s["amount"] / total) if total else None, "periods": periods}
           for s in w if s["group"] not in ("none", "unclassified")}
    return out if out else t("g_need_rounds")


def _rd_and_funding(ctx: Ctx, rule: dict):
    """(R&D growth per field, funding per field), or the sentence saying which of the two is missing."""
    rd = _field_rd_growth(ctx, rule)
    if isinstance(rd, str):
        return rd
    fund = _field_funding(ctx, rule)
    return fund if isinstance(fund, str) else (rd, fund)


def _growth_both(ctx: Ctx, rule: dict):
    t = ctx.t
    got = _rd_and_funding(ctx, rule)
    if isinstance(got, str):
        return got
    rd, fund = got
    both = sorted(f for f in rd if f in fund and fund[f]["cagr"] is not None)
    if len(both) < 2:
        return t("g_need_both")
    med_rd = statistics.median(rd[f]["growth"] for f in both)
    med_fund = statistics.median(fund[f]["cagr"] for f in both)
    hits = [f for f in both if rd[f]["growth"] > med_rd and fund[f]["cagr"] > med_fund]
    rows = [[t.field(f), rd[f]["companies"], t.pct(rd[f]["growth"]), t.pct(fund[f]["cagr"]),
             t("yes") if f in hits else t("no")] for f in both]
    rows.append([t("g_median"), "", t.pct(med_rd), t.pct(med_fund), ""])
    p = fund[both[0]]["periods"]
    return {"status": "match" if hits else "no_match",
            "chart": _bars(ctx, [(t.field(f), rd[f]["growth"], f in hits) for f in both],
                           t("g_rd_growth", first=rd[both[0]]["first_year"], last=rd[both[0]]["last_year"]),
                           percent=True),
            "fill": {"items": t.join(t.field(f) for f in hits)},
            "head": [t("c_field"), t("c_orgs"),
                     t("g_rd_growth", first=rd[both[0]]["first_year"], last=rd[both[0]]["last_year"]),
                     t("g_fund_growth", first=p[0], last=p[-1]), t("g_meets")],
            "rows": rows, "matches": hits}


def _rd_without_capital(ctx: Ctx, rule: dict):
    t = ctx.t
    got = _rd_and_funding(ctx, rule)
    if isinstance(got, str):
        return got
    rd, fund = got
    fields = sorted(rd)
    share = {f: (fund[f]["share"] if f in fund else 0.0) for f in fields}
    med_rd = statistics.median(rd[f]["growth"] for f in fields)
    med_share = statistics.median(share.values())
    hits = [f for f in fields if rd[f]["growth"] > med_rd and share[f] < med_share]
    rows = [[t.field(f), t.pct(rd[f]["growth"]), t.pct(share[f]), t("yes") if f in hits else t("no")] for f in fields]
    rows.append([t("g_median"), t.pct(med_rd), t.pct(med_share), ""])
    return {"status": "match" if hits else "no_match", "fill": {"items": t.join(t.field(f) for f in hits)},
            "chart": _bars(ctx, [(t.field(f), share[f], f in hits) for f in fields], t("g_fund_share"), percent=True),
            "head": [t("c_field"), t("g_rd_growth", first=rd[fields[0]]["first_year"], last=rd[fields[0]]["last_year"]),
                     t("g_fund_share"), t("g_meets")], "rows": rows, "matches": hits}


def _hardness_by_field(ctx: Ctx, rule: dict):
    t = ctx.t
    scores = ctx.figures.get("scores") or []
    if not scores:
        return t("g_need_scores")
    overall = statistics.median(r["score"] for r in scores)
    by: dict[str, list[float]] = {}
    for r in scores:
        if r.get("field") not in (None, "", "none", "unclassified"):
            by.setdefault(r["field"], []).append(r["score"])
    fields = sorted(f for f, v in by.items() if len(v) >= rule["min_scored"])
    if not fields:
        return t("g_need_scores_fields", n=rule["min_scored"])
    med = {f: statistics.median(by[f]) for f in fields}
    hits = [f for f in fields if med[f] >= overall + rule["margin"]]
    rows = [[t.field(f), len(by[f]), f"{med[f]:.1f}", t("yes") if f in hits else t("no")]
            for f in sorted(fields, key=lambda f: (-med[f], f))]
    rows.append([t("g_median"), len(scores), f"{overall:.1f}", ""])
    return {"status": "match" if hits else "no_match", "fill": {"items": t.join(t.field(f) for f in hits)},
            "chart": _bars(ctx, [(t.field(f), med[f], f in hits) for f in fields], t("g_median_score")),
            "head": [t("c_field"), t("c_orgs"), t("g_median_score"), t("g_meets")], "rows": rows, "matches": hits}


def _star(ctx: Ctx, rule: dict):
    t = ctx.t
    star = ctx.figures.get("star") or []
    if not star:
        return t("g_need_star")
    undecided = sum(r["verdict"] == "insufficient data" for r in star)
    share = undecided / len(star)
    by: dict[str, int] = {}
    for r in star:
        if r["verdict"] == "sci-tech":
            for f in ctx.fields.get(r["org_id"], ["none"]):
                by[f] = by.get(f, 0) + 1
    hits = sorted((f for f, n in by.items() if n >= rule["min_pass"]), key=lambda f: (-by[f], f))
    rows = [[t.field(f), by[f]] for f in hits] + [[t("g_undecided"), f"{undecided} / {len(star)} ({share:.0%})"]]
    head = [t("c_field"), t("c_count")]
    chart = _bars(ctx, [(t.field(f), by[f], True) for f in hits], t("c_count")) if hits else None
    if share > rule["max_undecided_share"] and not hits:
        return {"status": "insufficient", "head": head, "rows": rows, "matches": [],
                "finding": t("g_star_undecided", n=undecided, total=len(star), share=f"{share:.0%}")}
    return {"status": "match" if hits else "no_match", "chart": chart,
            "fill": {"items": t.join(f"{t.field(f)} ({by[f]})" for f in hits)}, "head": head, "rows": rows,
            "matches": hits}


def _regional_lq(ctx: Ctx, rule: dict):
    from hardtech.services.taxonomy import FIELD_IDS

    t = ctx.t
    regions = ctx.figures.get("regions") or []
    if not regions:
        return t("g_need_regions")
    fields = ctx.scope.fields or FIELD_IDS
    hits = []
    for r in regions:
        research = (r.get("universities") or 0) + (r.get("institutes") or 0)
        for f in fields:
            lq, n = r.get(f"lq_{f}"), r.get(f"n_{f}") or 0
            if lq is not None and lq >= rule["min_lq"] and n >= rule["min_orgs"] and research >= rule["min_research"]:
                hits.append((r, f, lq, n, research))
    hits.sort(key=lambda h: (-h[2], h[0]["region"], h[1]))
    rows = [[t.region(r), t.field(f), f"{lq:.2f}", n, research] for r, f, lq, n, research in hits]
    return {"status": "match" if hits else "no_match",
            "chart": _bars(ctx, [(f"{t.region(r)} · {t.field(f)}", lq, True) for r, f, lq, *_ in hits[:12]], "LQ")
            if hits else None,
            "fill": {"items": t.join(f"{t.region(r)} · {t.field(f)}" for r, f, *_ in hits)},
            "head": [t("c_region"), t("c_field"), "LQ", t("c_orgs"), t("g_research")], "rows": rows,
            "matches": [(h[0]["region_id"], h[1]) for h in hits]}


def _shift(ctx: Ctx, rule: dict):
    t = ctx.t
    rows = ctx.figures.get("shift") or []
    if not rows:
        return t("g_need_rounds")
    tech: dict[str, float] = {}
    for r in rows:
        if r["amount_share"] is not None:
            tech.setdefault(r["period"], 0.0)
            if r["class"] == "technology":
                tech[r["period"]] += r["amount_share"]
    periods = sorted(tech)
    if not periods:
        return t("g_need_rounds")
    last = periods[-1]
    earlier = str(int(last[:4]) - rule["years"])
    if earlier not in tech:
        return t("g_need_shift_years", first=earlier, last=last)
    change = tech[last] - tech[earlier]
    direction = t("dir_up") if change >= rule["min_change"] else t("dir_down") if change <= -rule["min_change"] \
        else t("dir_flat")
    rows_out = [[earlier, t.pct(tech[earlier])], [last, t.pct(tech[last])], [t("g_change"), f"{change * 100:+.1f}"]]
    return {"status": "match", "chart": _bars(ctx, [(earlier, tech[earlier], False), (last, tech[last], True)],
                                              t("c_tech_share"), percent=True),
            "fill": {"direction": direction,
                                        "items": f"{earlier} {t.pct(tech[earlier])} → {last} {t.pct(tech[last])}"},
            "head": [t("c_period"), t("c_tech_share")], "rows": rows_out, "matches": [direction],
            "change": change}


def _bars(ctx: Ctx, items: list[tuple[str, float, bool]], title: str, percent: bool = False) -> dict:
    """The figure behind a guideline: one bar per field or place, dark where the rule is met."""
    return {"rows": [{"label": label, "v": (v * 100 if percent else v), "meets": bool(ok)} for label, v, ok in items],
            "title": title + (" (%)" if percent else "")}


EVALUATORS = {"growth_both": _growth_both, "rd_without_capital": _rd_without_capital,
              "hardness_by_field": _hardness_by_field, "star": _star, "regional_lq": _regional_lq, "shift": _shift}
