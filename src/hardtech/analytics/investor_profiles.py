"""Investor profiles as engine tables: what each investor's history says it funds, computed once.

Why: matching one startup used to load the organisations, rounds, investors and classifications
whole into Python and build (organisation × investor) matrices on every request: 15 s and 690 MB at
100,000 organisations. A startup is scored against what its investors *funded*, and that does not
change between requests, so it is computed here, in the engine (DuckDB or Spark, Ibis only), into
two small tables the request reads:

- `profiles`: one row per investor: names, `portfolio` (distinct organisations funded), `rounds`,
  `log_ticket_sum` / `log_ticket_count` (log10 of each round's amount in USD per investor in the
  round: `amount_usd`, converted by the importer's FX rule), `last_round` (recency), and what it
  declares: `thesis_n` (distinct thesis fields), `ticket_lo_usd` / `ticket_hi_usd` (tickets in USD);
- `items`: (investor_id, item, weight, orgs) per investor and `field:<id>`, `code:<scheme:code>`
  (the portfolio's field and industry-code mix: summed tag weights, and how many portfolio
  organisations carry the tag), `city:<name>` / `country:<code>` (summed place weights 0.6 / 0.4
  and organisations), `stage:<stage>` (rounds at that stage), `co:<investor_id>` (rounds shared), and
  the declared `thesis:<field>`, `declared_stage:<stage>`, `declared_region:<name>` (weight 1).

The tag and place weights are `matching.py`'s: an organisation's field group (its newest verdict's
fields, else the taxonomy of its industry codes) and its code group each sum to 1 and share the
organisation between them; city 0.6, country 0.4. `typical_round_size` (median investors per round
over all rounds) is the request's cheque scale.

What stays in Python, because it is small: the taxonomy's field weights of each DISTINCT list of
industry codes (organisations share a few hundred), joined back in the engine as a small table.
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from hardtech.errors import UsageError

_SEP = "\x1f"  # joins an organisation's industry codes into one key; never inside a code
CITY_WEIGHT, COUNTRY_WEIGHT = 0.6, 0.4
TAG_KINDS = ("field", "code")
PLACE_KINDS = ("city", "country")
# what the stored profiles are computed by: a change of these rules must make stored profiles stale
PROFILE_RULES = "investor-profiles/1"

ROUND_COLUMNS = ("round_id", "org_id", "date", "stage", "amount_usd", "investors", "investor_ids")
ORG_COLUMNS = ("org_id", "kind", "name_en", "name_zh", "city", "province", "country", "industry_codes")
INVESTOR_COLUMNS = ("investor_id", "name_en", "name_zh", "thesis_fields", "stages", "regions", "ticket_min",
                    "ticket_max", "currency")


@dataclass(frozen=True)
class Inputs:
    """The four tables matching reads, as Ibis tables of one engine (classifications: organisations only)."""

    organizations: ir.Table
    funding_rounds: ir.Table
    investors: ir.Table
    classifications: ir.Table


@dataclass(frozen=True)
class Profiles:
    """Profile tables (Ibis) and the scalar the request needs with them."""

    profiles: ir.Table
    items: ir.Table
    typical_round_size: float


# --------------------------------------------------------------------------- inputs


def inputs_of(store_or_tables) -> Inputs:
    """A store (any engine) or a dict of DataFrames / Ibis tables → `Inputs` (dicts become in-memory tables)."""
    if isinstance(store_or_tables, dict):
        return _memtables(store_or_tables)
    t = store_or_tables.table
    return Inputs(t("organizations"), t("funding_rounds"), t("investors"), t("classifications"))


_LISTS = {"industry_codes", "investors", "investor_ids", "thesis_fields", "stages", "regions", "fields"}
_SCHEMAS = {
    "organizations": {c: "array<string>" if c in _LISTS else "string" for c in ORG_COLUMNS},
    "funding_rounds": {**{c: "array<string>" if c in _LISTS else "string" for c in ROUND_COLUMNS},
                       "date": "timestamp", "amount_usd": "float64"},
    "investors": {**{c: "array<string>" if c in _LISTS else "string" for c in INVESTOR_COLUMNS},
                  "ticket_min": "float64", "ticket_max": "float64"},
    "classifications": {"entity_type": "string", "entity_id": "string", "fields": "array<string>",
                        "classified_at": "timestamp", "model_version": "string"},
}


def _memtables(tables: dict) -> Inputs:
    """Dict inputs as `matching._tables` reads them: `|`-separated text as lists, dates parsed, missing columns null."""
    import pandas as pd

    from hardtech.analytics.matching import _as_list

    out = {}
    for name, schema in _SCHEMAS.items():
        v = tables.get(name)
        df = pd.DataFrame() if v is None else (v.copy() if isinstance(v, pd.DataFrame) else v.to_pandas())
        if name == "classifications" and "entity_type" not in df.columns:
            df["entity_type"] = "organization"
        cols = {}
        for c, typ in schema.items():
            col = df[c] if c in df.columns else pd.Series([None] * len(df), dtype=object)
            if typ.startswith("array"):
                col = [[str(x) for x in _as_list(x)] for x in col]
            elif typ == "timestamp":
                col = pd.to_datetime(col, errors="coerce")
            elif typ == "float64":
                col = pd.to_numeric(col, errors="coerce")
            else:
                col = [None if x is None or (not isinstance(x, str) and pd.isna(x)) else str(x) for x in col]
            cols[c] = col
        out[name] = ibis.memtable(pd.DataFrame(cols, index=range(len(df))), schema=ibis.schema(schema))
    return Inputs(out["organizations"], out["funding_rounds"], out["investors"], out["classifications"])


def _num(c: ir.Value) -> ir.Value:
    """A float with NaN read as missing (SQL orders NaN above every number)."""
    c = c.cast("float64")
    return ibis.cases((c.isnan(), ibis.null("float64")), else_=c)


# --------------------------------------------------------------------------- organisations


def _latest_fields(cls: ir.Table) -> ir.Table:
    """(org_id, field) of each organisation's newest verdict (`verdicts.latest_verdicts`), one row per field."""
    from hardtech.analytics.verdicts import latest_verdicts

    c = latest_verdicts(cls)
    f = c.select(org_id=c.entity_id, field=c.fields.unnest())
    return f.filter(f.field.notnull()).distinct()


def _code_key(orgs: ir.Table) -> ir.Value:
    return orgs.industry_codes.join(_SEP).fill_null("")


def _code_tags(keys: list[str], taxonomy=None) -> ir.Table:
    """Per distinct code key: its `code:` tags and its taxonomy `field:` weights, each group summing to 1."""
    if taxonomy is None:
        from hardtech.analytics.taxonomy import load_taxonomy

        taxonomy = load_taxonomy()
    rows = []
    for k in keys:
        codes = tuple(sorted(c.strip().lower() for c in k.split(_SEP))) if k else ()
        try:
            fs = taxonomy.field_scores(codes) if codes else {}
        except UsageError:  # a code of an unknown scheme: no field from it (as matching._org_tags)
            fs = {}
        s = sum(fs.values())
        rows += [{"_k": k, "item": f"field:{f}", "w": v / s, "grp": "tax"} for f, v in fs.items()]
        distinct = sorted(set(codes))
        rows += [{"_k": k, "item": f"code:{c}", "w": 1.0 / len(distinct), "grp": "code"} for c in distinct]
    schema = pa.schema([("_k", pa.string()), ("item", pa.string()), ("w", pa.float64()), ("grp", pa.string())])
    return ibis.memtable(pa.Table.from_pylist(rows, schema=schema))


def org_tags(orgs: ir.Table, cls: ir.Table, taxonomy=None) -> ir.Table:
    """(org_id, item, weight): each organisation's `field:` and `code:` tags, as `matching._org_tags` weighs them."""
    o = orgs.select(org_id=orgs.org_id, _k=_code_key(orgs))
    keys = [r["_k"] for r in o.select("_k").distinct().to_pyarrow().to_pylist()]
    info = _code_tags(keys, taxonomy)
    lf = _latest_fields(cls)  # also of organisations known only from rounds, as matching._build
    k = lf.group_by("org_id").aggregate(_c=lf.count())
    verdict = lf.join(k, "org_id").select(org_id="org_id", item="field:" + lf.field, w=1.0 / k._c.cast("float64"),
                                          grp=ibis.literal("field"))
    tax = info.filter(info.grp == "tax")
    from_codes = o.join(tax, "_k").anti_join(k, "org_id")
    fields = from_codes.select(org_id="org_id", item="item", w="w", grp=ibis.literal("field"))
    code = info.filter(info.grp == "code")
    codes = o.join(code, "_k").select(org_id="org_id", item="item", w="w", grp="grp")
    tags = ibis.union(verdict, fields, codes)
    groups = tags.group_by("org_id").aggregate(_g=tags.grp.nunique())
    t = tags.join(groups, "org_id")
    return t.select(org_id="org_id", item="item", weight=t.w / t._g.cast("float64"))


def _place(v: ir.Value) -> ir.Value:
    """`matching._norm_place`: trimmed lower-case text, NULL when empty."""
    s = v.cast("string").strip().lower()
    return ibis.cases((s == "", ibis.null("string")), else_=s)


def org_places(orgs: ir.Table) -> ir.Table:
    """(org_id, item, weight): `city:<name>` 0.6 and `country:<code>` 0.4 of each organisation."""
    parts = []
    for kind, w in (("city", CITY_WEIGHT), ("country", COUNTRY_WEIGHT)):
        p = _place(orgs[kind])
        t = orgs.select(org_id=orgs.org_id, item=kind + ":" + p, weight=ibis.literal(w, "float64"))
        parts.append(t.filter(t.item.notnull()))
    return ibis.union(*parts)


# --------------------------------------------------------------------------- rounds


def round_links(rounds: ir.Table, investors: ir.Table) -> ir.Table:
    """(round_id, org_id, date, stage, investor_id, n, tick): one row per round and resolved investor.

    `n` is the round's investor count (names as written or resolved ids, whichever is larger) and `tick`
    its USD amount per investor (NULL when the amount or the count is missing), as `matching._round_ticket`.
    """
    ids = rounds.select(round_id=rounds.round_id, investor_id=rounds.investor_ids.unnest())
    ids = ids.filter(ids.investor_id.notnull()).distinct().semi_join(investors.select("investor_id"), "investor_id")
    k = ids.group_by("round_id").aggregate(_k=ids.count())
    names = rounds.investors.length().fill_null(0)
    r = rounds.left_join(k, "round_id")
    r = r.select(round_id=r.round_id, org_id=r.org_id, date=r.date, stage=r.stage.fill_null("unknown"),
                 amt=_num(r.amount_usd), n=ibis.greatest(names, r._k.fill_null(0)))
    r = r.mutate(tick=ibis.cases(((r.amt > 0) & (r.n > 0), r.amt / r.n.cast("float64")),
                                 else_=ibis.null("float64")))
    return r.join(ids, "round_id").select("round_id", "org_id", "date", "stage", "investor_id", "n", "tick")


def typical_round_size(rounds: ir.Table, investors: ir.Table) -> float:
    """Median investors per round over the rounds that name any (the request's cheque scale); 1 when none."""
    ids = rounds.select(round_id=rounds.round_id, investor_id=rounds.investor_ids.unnest())
    ids = ids.filter(ids.investor_id.notnull()).distinct().semi_join(investors.select("investor_id"), "investor_id")
    k = ids.group_by("round_id").aggregate(_k=ids.count())
    r = rounds.left_join(k, "round_id")
    n = ibis.greatest(r.investors.length().fill_null(0), r._k.fill_null(0))
    r = r.select(n=n).filter(lambda t: t.n > 0)
    v = r.n.cast("float64").median().execute()
    return float(v) if v is not None and v == v else 1.0


# --------------------------------------------------------------------------- profiles


def build_profiles(inp: Inputs, exclude_rounds: set[str] | None = None, taxonomy=None) -> Profiles:
    """The profile tables of every investor (Ibis expressions: nothing is computed until they are read).

    `exclude_rounds` hides rounds from the history (as `match_startup(..., exclude_rounds=...)`); the
    cheque scale is still taken over all rounds, as the in-memory version does.
    """
    inv = inp.investors
    rounds = inp.funding_rounds
    visible = rounds.filter(~rounds.round_id.isin(sorted(exclude_rounds))) if exclude_rounds else rounds
    links = round_links(visible, inv)
    history = links.group_by("investor_id").aggregate(
        portfolio=links.org_id.nunique(),
        rounds=links.count(),
        log_ticket_sum=links.tick.log10().sum().fill_null(0.0),
        log_ticket_count=links.tick.count(),
        last_round=links.date.max(),
    )
    thesis = _declared(inv, "thesis_fields")
    n_thesis = thesis.group_by("investor_id").aggregate(thesis_n=thesis.count())
    usd = inv.currency.fill_null("USD").upper() == "USD"
    base = inv.select(investor_id=inv.investor_id, name_en=inv.name_en, name_zh=inv.name_zh,
                      ticket_lo_usd=ibis.cases((usd, _num(inv.ticket_min)), else_=ibis.null("float64")),
                      ticket_hi_usd=ibis.cases((usd, _num(inv.ticket_max)), else_=ibis.null("float64")))
    p = base.left_join(history, "investor_id").left_join(n_thesis, "investor_id")
    profiles = p.select(
        investor_id=p.investor_id, name_en=p.name_en, name_zh=p.name_zh, portfolio=p.portfolio.fill_null(0),
        rounds=p.rounds.fill_null(0), log_ticket_sum=p.log_ticket_sum.fill_null(0.0),
        log_ticket_count=p.log_ticket_count.fill_null(0), last_round=p.last_round, thesis_n=p.thesis_n.fill_null(0),
        ticket_lo_usd=p.ticket_lo_usd, ticket_hi_usd=p.ticket_hi_usd)
    port = links.select("investor_id", "org_id").distinct()
    org_items = ibis.union(org_tags(inp.organizations, inp.classifications, taxonomy), org_places(inp.organizations))
    mix = port.join(org_items, "org_id")
    mix = mix.group_by(["investor_id", "item"]).aggregate(weight=mix.weight.sum(),
                                                          orgs=(mix.weight > 0).cast("int64").sum())
    stage = links.group_by(["investor_id", "stage"]).aggregate(weight=links.count().cast("float64"))
    stage = stage.select(investor_id="investor_id", item="stage:" + stage.stage, weight="weight",
                         orgs=ibis.null("int64"))
    a = links.select(round_id="round_id", investor_id="investor_id")
    b = links.select(round_id="round_id", other=links.investor_id)
    co = a.join(b, "round_id").filter(lambda t: t.investor_id != t.other)
    co = co.group_by(["investor_id", "other"]).aggregate(weight=co.count().cast("float64"))
    co = co.select(investor_id="investor_id", item="co:" + co.other, weight="weight", orgs=ibis.null("int64"))
    declared = [d.select(investor_id="investor_id", item=prefix + d.v, weight=ibis.literal(1.0, "float64"),
                         orgs=ibis.null("int64"))
                for prefix, d in (("thesis:", thesis), ("declared_stage:", _declared(inv, "stages")),
                                  ("declared_region:", _declared(inv, "regions", norm=True)))]
    items = ibis.union(mix.select("investor_id", "item", "weight", orgs=mix.orgs.cast("int64")), stage, co, *declared)
    return Profiles(profiles=profiles, items=items, typical_round_size=typical_round_size(rounds, inv))


def _declared(inv: ir.Table, column: str, norm: bool = False) -> ir.Table:
    """(investor_id, v): one row per distinct declared value (trimmed lower case when `norm`, as matching reads
    declared regions)."""
    t = inv.select(investor_id=inv.investor_id, v=inv[column].unnest())
    t = t.filter(t.v.notnull())
    if norm:
        t = t.mutate(v=t.v.strip().lower())
    return t.distinct()
