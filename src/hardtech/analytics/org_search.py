"""Organisation search as Ibis expressions: the one table every search, count, id list and aggregate reads.

Why one base table: the entity list, the aggregates and the rankings' filter must select the same
organisations for the same query, so each organisation gets one row (its newest verdict, its latest
score of the one weights version shown, its STAR verdict when asked) and every filter is one condition
on that row. The values are Ibis literals (no user text is ever pasted into SQL), and the expressions
run on any engine the store gives tables from (DuckDB, Spark: tests/test_parity_search.py).

The filters arrive validated (services/search.py `Filters`): a field and typology id, a kind, an upper-case
country code, score bounds within 0..100, a STAR verdict, a city and a text of at most 200 characters.
Conditions use list lambdas: run them inside `store.list_lambdas.arrow_lambdas`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from hardtech.analytics.score_versions import latest_scores
from hardtech.analytics.verdicts import latest_verdicts

ITEM_COLUMNS = ("org_id", "kind", "name_en", "name_zh", "country", "province", "city", "founded", "top_field",
                "fields", "typology", "trl", "score", "confidence", "score_year", "star_verdict", "synthetic")
SORT_KEYS = ("score", "name", "founded", "org_id")
GROUPS = ("field", "typology", "city", "country", "kind", "star")

_STRINGS = dt.Array(dt.string)


def _empty_strings() -> ir.ArrayValue:
    return ibis.literal([], type=_STRINGS)


def org_rows(orgs: ir.Table, classifications: ir.Table, scores: ir.Table, star: ir.Table | None = None) -> ir.Table:
    """One row per organisation: identity, newest verdict (`analytics.verdicts`), latest score of the weights
    version shown (`analytics.score_versions`), and `star_verdict` from `star` (org_id, verdict) — null for
    organisations it lacks, and for all when `star` is None."""
    c = latest_verdicts(classifications)
    c = c.select(c_org_id=c.entity_id, top_field=c.top_field, fields=c.fields, typology=c.typology, trl=c.trl)
    s = latest_scores(scores)
    s = s.select(s_org_id=s.org_id, score=s.score, confidence=s.confidence, score_year=s.year)
    o = orgs
    t = o.left_join(c, o.org_id == c.c_org_id).left_join(s, o.org_id == s.s_org_id)
    cols = dict(org_id=o.org_id, kind=o.kind, name_en=o.name_en, name_zh=o.name_zh, aliases=o.aliases,
                country=o.country, province=o.province, city=o.city, founded=o.founded,
                description_en=o.description_en, description_zh=o.description_zh, synthetic=o.synthetic,
                top_field=c.top_field, fields=c.fields, typology=c.typology, trl=c.trl,
                score=s.score, confidence=s.confidence, score_year=s.score_year)
    if star is None:
        t = t.select(**cols, star_verdict=ibis.null(dt.string))
    else:
        v = star.select(v_org_id=star.org_id, star_verdict=star.verdict)
        t = t.left_join(v, o.org_id == v.v_org_id).select(**cols, star_verdict=v.star_verdict)
    return t.mutate(fields=t.fields.fill_null(_empty_strings()))


def _city(t: ir.Table, regions: ir.Table, city: str) -> ir.BooleanValue:
    """The city as written, or a region whose English name, Chinese name (with or without 市) or alias it is:
    matched on the organisation's city, case-insensitively."""
    v = ibis.literal(city, type=dt.string)
    low = v.lower()
    r = regions
    named = r.filter((r.name_en.lower() == low) | (r.name_zh == v) | (r.name_zh == v.concat("市"))
                     | r.aliases.fill_null(_empty_strings()).map(lambda a: a.lower()).contains(low))
    return (t.city.lower() == low) | t.city.lower().isin(named.select(n=named.name_en.lower()).n)


def _text(t: ir.Table, q: str) -> ir.BooleanValue:
    """The text in the name (English case-insensitively, Chinese as written), id, an alias or a description."""
    v = ibis.literal(q, type=dt.string)
    low = v.lower()
    return (t.name_en.fill_null("").lower().contains(low) | t.name_zh.fill_null("").contains(v)
            | t.org_id.lower().contains(low)
            | t.aliases.fill_null(_empty_strings()).map(lambda a: a.lower().contains(low)).contains(True)
            | t.description_en.fill_null("").lower().contains(low) | t.description_zh.fill_null("").contains(v))


def matching(t: ir.Table, filters: Mapping[str, Any], regions: ir.Table | None = None) -> ir.Table:
    """The rows of `org_rows(...)` that every set filter (a validated value; None: not set) selects.

    `regions` (the store's table) is read by the city filter only."""
    conds = []
    f = {k: v for k, v in filters.items() if v is not None}
    if "city" in f and regions is None:
        raise ValueError("the city filter needs the regions table")
    if "field" in f:
        conds.append(t.fields.contains(ibis.literal(f["field"], type=dt.string)))
    if "typology" in f:
        conds.append(t.typology == ibis.literal(f["typology"], type=dt.string))
    if "kind" in f:
        conds.append(t.kind == ibis.literal(f["kind"], type=dt.string))
    if "country" in f:
        conds.append(t.country.upper() == ibis.literal(f["country"], type=dt.string))
    if "city" in f:
        conds.append(_city(t, regions, f["city"]))
    if "score_min" in f:
        conds.append(t.score >= ibis.literal(float(f["score_min"]), type=dt.float64))
    if "score_max" in f:
        conds.append(t.score <= ibis.literal(float(f["score_max"]), type=dt.float64))
    if "star" in f:
        conds.append(t.star_verdict == ibis.literal(f["star"], type=dt.string))
    if "q" in f:
        conds.append(_text(t, f["q"]))
    return t.filter(*conds) if conds else t


def _order(t: ir.Table, sort: str) -> list:
    """The sort keys: the column (`-` first: descending; missing values last), then the id, which breaks ties."""
    key = sort.lstrip("-")
    if key not in SORT_KEYS:
        raise ValueError(f"unknown sort {sort!r}")
    col = {"score": t.score, "name": ibis.coalesce(t.name_en, t.name_zh, t.org_id).lower(), "founded": t.founded,
           "org_id": t.org_id}[key]
    first = ibis.desc(col, nulls_first=False) if sort.startswith("-") else ibis.asc(col, nulls_first=False)
    return [first] if key == "org_id" else [first, ibis.asc(t.org_id)]


def page(t: ir.Table, sort: str, limit: int, offset: int, columns: tuple[str, ...] = ITEM_COLUMNS) -> ir.Table:
    """`limit` rows of `t` from `offset` (0: the first) in `sort` order, with `columns`; the sort is the
    outermost operation, so the rows come back in its order.

    Why not Ibis's own offset: Ibis 12's PySpark compiler turns it into `ROW_NUMBER() OVER (ORDER BY NULL)`
    over the sorted rows (`offset_to_filter`), whose column it leaves in the result (the answer then fails
    "schema names don't match input data columns") and whose order rests on Spark keeping a subquery's sort.
    Here the engine keeps its first `offset + limit` rows (a top-N) and numbers them by the same keys."""
    limit, offset = int(limit), int(offset)
    if offset == 0:
        return t.order_by(_order(t, sort)).select(*columns).limit(limit)
    top = t.order_by(_order(t, sort)).limit(offset + limit)
    numbered = top.mutate(_pos=ibis.row_number().over(order_by=_order(top, sort)))
    return numbered.filter(numbered._pos >= offset).order_by("_pos").select(*columns)


def page_with_total(t: ir.Table, sort: str, limit: int, offset: int) -> ir.Table:
    """`page(...)` with `TOTAL`, the number of rows of `t`, on each row: the page and the count in one query
    (a page past the end has no row to carry it: count `t` then)."""
    return page(t.mutate(**{TOTAL: t.count().as_scalar()}), sort, limit, offset, (*ITEM_COLUMNS, TOTAL))


TOTAL = "_total"


def groups(t: ir.Table, by: str) -> ir.Table:
    """(group, organisations, mean_score, scored) per group of `t`, largest first, then by group.

    A multi-field organisation counts once in each of its fields (`none` when it has none); a missing city,
    country or kind is `unknown`, a missing typology `unclassified`, a missing STAR verdict `not evaluated`."""
    if by not in GROUPS:
        raise ValueError(f"unknown group {by!r}")
    if by == "field":
        g = ibis.ifelse(t.fields.length() == 0, ibis.literal(["none"], type=_STRINGS), t.fields).unnest()
    else:
        col, missing = {"typology": (t.typology, "unclassified"), "city": (t.city, "unknown"),
                        "country": (t.country, "unknown"), "kind": (t.kind, "unknown"),
                        "star": (t.star_verdict, "not evaluated")}[by]
        g = col.fill_null(missing)
    x = t.select(g=g, score=t.score)
    agg = x.group_by("g").aggregate(organisations=x.count(), mean_score=x.score.mean(), scored=x.score.count())
    agg = agg.order_by([ibis.desc(agg.organisations), ibis.asc(agg.g)])
    return agg.select(group=agg.g, organisations=agg.organisations, mean_score=agg.mean_score, scored=agg.scored)
