"""Capital flows: where funding goes, by field, typology, sector, region, stage and investor.

The seeds describe capital moving from services to industry and from business-model innovation
to technology (docs/flows.md). Checking that claim on real data is only honest when nothing is
guessed: a range (`数千万`) or an undisclosed amount is counted as a round but never put into a
sum, a figure in a currency with no rate is counted and reported, and a round without a date
cannot be placed in a period, so it is left out and named in the warnings. Conversions use the
dated FX table with the rate on or before each round's own date, never today's rate.

Flows are one Ibis expression per question, so they run where the data is (DuckDB here, Spark on
a cluster): the dated rates are looked up once per distinct (currency, day) in Python and joined
as a small table, labels come from joins (fields are unnested; investors, whose alias rules are
Python, are labelled per round and joined back), and the grouping is the engine's.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
import pyarrow as pa

from hardtech.analytics.engine import kept
from hardtech.analytics.fxrates import check_currency, join_rates
from hardtech.analytics.verdicts import latest_verdicts
from hardtech.errors import UsageError

BY = ("field", "typology", "sector", "region", "stage", "investor")
PERIODS = ("year", "quarter")
METRICS = ("amount", "count", "median")
FX_POLICY = "on_or_before"
TECH = ("hard_core", "deep")  # typology classes counted as technology innovation
MODEL = ("model_innovation",)
COLUMNS = ("period", "group", "value", "rounds", "disclosed_rounds", "undisclosed_rounds", "currency", "share", "note")
# investor cells that say "nobody known" rather than name someone (`n/a` in the unicorn list)
NO_INVESTOR = frozenset({"n/a", "na", "none", "unknown", "-", "—", "未透露", "未披露", "不详"})
_SCHEMA = pa.schema([
    ("period", pa.string()), ("group", pa.string()), ("value", pa.float64()), ("rounds", pa.int64()),
    ("disclosed_rounds", pa.int64()), ("undisclosed_rounds", pa.int64()), ("currency", pa.string()),
    ("share", pa.float64()), ("note", pa.string()),
])


# ------------------------------------------------------------------------------- arguments


def _choice(name: str, value: str, allowed: tuple[str, ...]) -> str:
    v = (value or "").strip().lower()
    if v not in allowed:
        raise UsageError(f"unknown {name} {value!r}; use one of: {', '.join(allowed)}")
    return v


def _currency(code: str) -> str:
    return check_currency(code, "USD, CNY, EUR")


def _date(value, name: str) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    if isinstance(value, int):
        return dt.date(value, 1, 1) if name == "start" else dt.date(value, 12, 31)
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise UsageError(f"{name} {value!r} is not a date (YYYY-MM-DD) or a year") from None


def _tables(src) -> dict:
    """funding_rounds and organizations are needed; classifications may be absent (fields go unclassified)."""
    names = ("funding_rounds", "organizations", "classifications", "investors")
    if isinstance(src, Mapping):
        missing = [n for n in ("funding_rounds", "organizations") if src.get(n) is None]
        if missing:
            raise UsageError(f"capital flows need the {' and '.join(missing)} table(s)")
        return {n: src.get(n) for n in names}
    if hasattr(src, "table"):
        return {n: src.table(n) for n in names}
    raise UsageError("flows() takes a Store or a mapping of Ibis tables (funding_rounds, organizations; "
                     "optionally classifications, investors)")


# ------------------------------------------------------------------------------- labels


def _sector(codes) -> str:
    """The first code whose concordance records a sector decides; no such code → `unknown`."""
    from hardtech.analytics.taxonomy import load_taxonomy

    tax = load_taxonomy()
    for code in (codes if codes is not None else ()):
        scheme, _, value = str(code).partition(":")
        if not value:
            continue
        try:
            s = tax.sector(scheme.strip(), value.strip())
        except UsageError:  # a scheme the taxonomy does not know
            continue
        if s:
            return s
    return "unknown"


def _investor_labels(df: pd.DataFrame, t: dict) -> pd.Series:
    """Resolved ids (shown by the investor's name) when every name resolved, else the names as written.

    Mixing both for one round would count an investor twice when a name and its id coexist.
    """
    names: dict[str, str] = {}
    inv = t.get("investors")
    if inv is not None:
        # rows as Python values: pandas would give NaN (truthy) for a missing English name
        for row in inv.select("investor_id", "name_en", "name_zh").to_pyarrow().to_pylist():
            names[row["investor_id"]] = row["name_en"] or row["name_zh"] or row["investor_id"]
    placeholder = {i for i, n in names.items() if str(n).strip().lower() in NO_INVESTOR}

    def one(row) -> list[str]:
        raw = [s.strip() for s in (row.investors if row.investors is not None else ())
               if s and s.strip() and s.strip().lower() not in NO_INVESTOR]
        ids = [s for s in (row.investor_ids if row.investor_ids is not None else ()) if s and s not in placeholder]
        if ids and len(ids) >= len(raw):
            return list(dict.fromkeys(names.get(i, i) for i in ids))
        return list(dict.fromkeys(raw)) or ["unknown"]

    return pd.Series([one(r) for r in df.itertuples(index=False)], index=df.index, dtype=object)


# ------------------------------------------------------------------------------- aggregation


def flows_report(store_or_tables, by: str = "field", period: str = "year", metric: str = "amount",
                 currency: str = "USD", fx=None, start=None, end=None) -> dict:
    """{table, warnings, cagr, fx}: the flow table plus everything left out of it, and why."""
    by = _choice("grouping (by)", by, BY)
    period = _choice("period", period, PERIODS)
    metric = _choice("metric", metric, METRICS)
    currency = _currency(currency)
    return _flow_report(_tables(store_or_tables), by, period, metric, currency, fx, _date(start, "start"),
                        _date(end, "end"))


def _report(rows, warnings, fx_note, by, period, metric, currency) -> dict:
    table = pa.Table.from_pylist(rows, schema=_SCHEMA)
    meta = {"warnings": json.dumps(warnings), "by": by, "period": period, "metric": metric,
            "currency": currency, "fx": fx_note or "no conversion needed"}
    table = table.replace_schema_metadata(meta)
    return {"table": table, "warnings": warnings, "cagr": cagr(table), "fx": meta["fx"]}


# ------------------------------------------------------------------------------- rounds in the engine

_REASONS = ("range", "undisclosed", "no currency", "no FX rate")
_INVESTOR_COLUMNS = ("investors", "investor_ids")  # list columns: carried only when investors are needed


def _ids(expr) -> list[str]:
    return sorted(str(x) for x in expr.to_pyarrow().column(0).to_pylist())


def _rounds(t: dict, currency: str, fx, start, end, extra: tuple[str, ...] = ()) -> tuple[ir.Table, list[str], str]:
    """Dated rounds with `ccy`, `conv` (in `currency`, NULL when not summable) and `why` not, as an expression."""
    r = t["funding_rounds"]
    if start is not None:
        r = r.filter(r.date.isnull() | (r.date >= start))
    if end is not None:
        r = r.filter(r.date.isnull() | (r.date <= end))
    warnings: list[str] = []
    ids = _ids(r.filter(r.date.isnull()).select("round_id"))
    if ids:
        warnings.append(f"{len(ids)} round(s) without a date left out (no period): {', '.join(ids)}")
    r = r.filter(r.date.notnull())
    c = r.currency.strip().upper()
    r = r.select("round_id", "org_id", "date", "stage", "amount", "amount_low", "amount_high", *extra,
                 ccy=ibis.ifelse(c == "", ibis.null("string"), c))
    need = r.filter(r.amount.notnull(), r.ccy.notnull(), r.ccy != currency).select(r_c=r.ccy, r_d=r.date).distinct()
    pairs = need.to_pyarrow()
    fx_note = ""
    if pairs.num_rows:
        if fx is None:
            from hardtech.sources.fx import load_fx

            fx = load_fx()
        fx_note = f"rates on or before each round's date from {fx.name} (version {fx.version})"
        _, rates, _ = fx.convert_series(np.ones(pairs.num_rows), pairs.column("r_c").to_numpy(zero_copy_only=False),
                                        currency, pd.to_datetime(pairs.column("r_d").to_pandas()),
                                        policy=FX_POLICY, errors="nan")
        n = pairs.num_rows  # the rates of every (currency, day) at once, joined as `analytics.fxrates` joins rates
        rt = pa.table({"r_ccy": pairs.column("r_c"), "r_key": pairs.column("r_d"),
                       "fx_rate": pa.array(rates, mask=np.isnan(rates)), "fx_date": pa.nulls(n, pa.date32()),
                       "fx_source": pa.nulls(n, pa.string()), "fx_via": pa.nulls(n, pa.string()),
                       "fx_error": pa.nulls(n, pa.string())})
        r = join_rates(r, "ccy", "date", rt).drop("fx_date", "fx_source", "fx_via", "fx_error")
        r = r.rename(r_rate="fx_rate")
    else:
        r = r.mutate(r_rate=ibis.null("float64"))
    has = r.amount.notnull()
    same = r.ccy == currency
    r = r.mutate(
        conv=ibis.cases((has & same, r.amount.cast("float64")), (has & r.r_rate.notnull(), r.amount * r.r_rate),
                        else_=ibis.null("float64")),
        why=ibis.cases((~has & (r.amount_low.notnull() | r.amount_high.notnull()), "range"), (~has, "undisclosed"),
                       (r.ccy.isnull(), "no currency"), (r.r_rate.isnull() & ~same, "no FX rate"), else_=""),
    )
    return r, warnings, fx_note


def _left_out(r: ir.Table, currency: str) -> list[str]:
    out = []
    ids = _ids(r.filter(r.why == "no currency").select("round_id"))
    if ids:
        out.append(f"{len(ids)} round(s) with an amount but no currency counted, not summed: {', '.join(ids)}")
    bad = r.filter(r.why == "no FX rate")
    ids = _ids(bad.select("round_id"))
    if ids:
        codes = sorted(str(x) for x in bad.select("ccy").distinct().to_pyarrow().column(0).to_pylist())
        out.append(f"{len(ids)} round(s) in {', '.join(codes)} with no {currency} rate on or before "
                   f"their date counted, not summed: {', '.join(ids)}")
    return out


def _latest_verdicts(t: dict) -> ir.Table | None:
    c = t.get("classifications")
    if c is None:
        return None
    c = latest_verdicts(c)
    return c.select(c_org=c.entity_id, c_fields=c.fields, c_typology=c.typology)


def _blank(v: ir.StringValue) -> ir.BooleanValue:
    return v.isnull() | (v.strip() == "")


def _grouped(r: ir.Table, t: dict, by: str) -> ir.Table:
    """`r` with a `grp` column: one row per (round, group), several for a round in several fields."""
    if by == "stage":
        return r.mutate(grp=ibis.ifelse(r.stage.isnull() | (r.stage == ""), "unknown", r.stage))
    if by in ("typology", "field"):
        v = _latest_verdicts(t)
        if v is None:
            return r.mutate(grp=ibis.literal("unclassified"))
        j = r.left_join(v, r.org_id == v.c_org)
        if by == "typology":
            ty = j.c_typology
            return j.mutate(grp=ibis.cases((j.c_org.isnull(), "unclassified"), (ty.isnull() | (ty == ""), "none"),
                                           else_=ty)).drop("c_org", "c_fields", "c_typology")
        f = j.c_fields
        one = ibis.cases((j.c_org.isnull(), ibis.literal(["unclassified"], type="array<string>")),
                         (f.isnull() | (f.length() == 0), ibis.literal(["none"], type="array<string>")), else_=f)
        return j.mutate(grp=one.unnest()).drop("c_org", "c_fields", "c_typology")
    if by == "investor":  # alias rules are Python: labels per round, joined back as a small table
        got = r.select("round_id", "investors", "investor_ids").to_pandas()
        labels = _investor_labels(got, t)
        m = ibis.memtable(pa.table({
            "g_round": pa.array(np.repeat(got["round_id"].to_numpy(dtype=object), labels.map(len).to_numpy(dtype=np.int64)),
                                pa.string()),
            "grp": pa.array([g for gs in labels for g in gs], pa.string())}))
        return r.join(m, r.round_id == m.g_round).drop("g_round")
    o = t["organizations"]
    if by == "region":
        place = ibis.cases((~_blank(o.city), o.city), (~_blank(o.province), o.province),
                           (~_blank(o.country), o.country), else_="unknown")
        o = o.select(o_org=o.org_id, o_grp=place)
    else:  # sector: decided in Python once per distinct list of codes
        key = o.industry_codes.join("\x1f")
        codes = o.select(k=key, codes=o.industry_codes).filter(lambda x: x.k.notnull()).distinct(on="k")
        got = codes.to_pyarrow()
        keys = got.column("k").to_pylist()
        sectors = [_sector(list(c) if c is not None else None) for c in got.column("codes").to_pylist()]
        m = ibis.memtable(pa.table({"s_k": pa.array(keys, pa.string()), "s_v": pa.array(sectors, pa.string())}))
        o = o.mutate(k=key)
        o = o.left_join(m, o.k == m.s_k).select(o_org="org_id", o_grp=ibis._.s_v.fill_null("unknown"))
    j = r.left_join(o, r.org_id == o.o_org)
    return j.mutate(grp=j.o_grp.fill_null("unknown")).drop("o_org", "o_grp")


def _flow_report(t: dict, by: str, period: str, metric: str, currency: str, fx, start, end) -> dict:
    extra = _INVESTOR_COLUMNS if by == "investor" else ()
    r, warnings, fx_note = _rounds(t, currency, fx, start, end, extra)
    y = r.date.year().cast("string")
    r = r.mutate(period=y if period == "year" else y.concat("-Q", r.date.quarter().cast("string")))
    with kept() as keep:
        r = keep(r)
        warnings += _left_out(r, currency)
        totals = {row["period"]: row for row in
                  r.group_by("period").aggregate(n=r.count(), amt=r.conv.sum()).to_pyarrow().to_pylist()}
        g = _grouped(r, t, by)
        aggs = {"n": g.count(), "nd": g.conv.count(), "total": g.conv.sum(),
                "converted": (g.conv.notnull() & (g.ccy != currency)).any(),
                **{f"w{i}": (g.why == w).cast("int64").sum() for i, w in enumerate(_REASONS)}}
        if metric == "median":
            aggs["med"] = g.conv.median()
        res = g.group_by(["period", "grp"]).aggregate(**aggs).order_by(["period", "grp"]).to_pyarrow().to_pylist()
    rows = []
    for a in res:
        p, n, nd = a["period"], int(a["n"]), int(a["nd"])
        if metric == "count":
            value, share = float(n), n / totals[p]["n"]
        elif metric == "amount":
            value = float(a["total"]) if nd else None
            tot = totals[p]["amt"]
            share = value / tot if value is not None and tot else None
        else:
            value, share = (float(a["med"]) if nd else None), None
        parts = [f"{int(a[f'w{i}'])} {w}" for i, w in enumerate(_REASONS) if a[f"w{i}"]]
        note = ("not summed: " + ", ".join(parts)) if parts else ""
        if a["converted"] and fx_note:
            note = (note + "; " if note else "") + f"converted at {fx_note}"
        rows.append({"period": p, "group": a["grp"], "value": value, "rounds": n, "disclosed_rounds": nd,
                     "undisclosed_rounds": n - nd, "currency": None if metric == "count" else currency,
                     "share": share, "note": note or None})
    return _report(rows, warnings, fx_note, by, period, metric, currency)


def flows(store_or_tables, by: str = "field", period: str = "year", metric: str = "amount",
          currency: str = "USD", fx=None, start=None, end=None) -> pa.Table:
    """The flow table; its schema metadata carries `warnings` (a JSON list) and the FX source."""
    return flows_report(store_or_tables, by, period, metric, currency, fx, start, end)["table"]


def warnings_of(table: pa.Table) -> list[str]:
    """The warnings a `flows()` table carries in its schema metadata."""
    meta = table.schema.metadata or {}
    return json.loads(meta.get(b"warnings", b"[]"))


# ------------------------------------------------------------------------------- shares


def _class_share(src, by, classes: dict[str, str], label: str, period, currency, fx, start, end) -> pa.Table:
    amount = flows(src, by=by, period=period, metric="amount", currency=currency, fx=fx, start=start, end=end)
    df = amount.to_pandas()
    out_cols = ["period", label, "amount", "amount_share", "rounds", "count_share", "disclosed_rounds", "currency"]
    if df.empty:
        return pa.Table.from_pandas(pd.DataFrame(columns=out_cols), preserve_index=False)
    df[label] = df["group"].map(lambda g: classes.get(g, "other"))
    g = df.groupby(["period", label], sort=True).agg(amount=("value", lambda s: s.sum(min_count=1)),
                                                    rounds=("rounds", "sum"),
                                                    disclosed_rounds=("disclosed_rounds", "sum")).reset_index()
    ptot = g.groupby("period").agg(a=("amount", "sum"), n=("rounds", "sum"))
    g["amount_share"] = [a / ptot.loc[p, "a"] if pd.notna(a) and ptot.loc[p, "a"] else None
                         for p, a in zip(g["period"], g["amount"])]
    g["count_share"] = [n / ptot.loc[p, "n"] for p, n in zip(g["period"], g["rounds"])]
    g["currency"] = currency.upper()
    table = pa.Table.from_pandas(g[out_cols], preserve_index=False)
    return table.replace_schema_metadata(amount.schema.metadata)


def tech_vs_model_share(store_or_tables, period: str = "year", currency: str = "USD", fx=None,
                        start=None, end=None) -> pa.Table:
    """Per period, amount and count shares of technology (hard_core + deep), model innovation and other."""
    classes = {**{c: "technology" for c in TECH}, **{c: "model_innovation" for c in MODEL}}
    return _class_share(store_or_tables, "typology", classes, "class", period, currency, fx, start, end)


def sector_share(store_or_tables, period: str = "year", currency: str = "USD", fx=None,
                 start=None, end=None) -> pa.Table:
    """Per period, amount and count shares of secondary (industry) vs tertiary (services) organisations."""
    classes = {"secondary": "secondary", "tertiary": "tertiary"}
    return _class_share(store_or_tables, "sector", classes, "sector", period, currency, fx, start, end)


# ------------------------------------------------------------------------------- growth


def _years(label: str) -> float:
    m = re.fullmatch(r"(\d{4})(?:-Q([1-4]))?", str(label))
    if not m:
        raise UsageError(f"period {label!r} is neither YYYY nor YYYY-Qn")
    return int(m.group(1)) + (int(m.group(2)) - 1) / 4 if m.group(2) else float(m.group(1))


def cagr(table: pa.Table, value_col: str = "value") -> pa.Table:
    """Per group: first and last period with a value, and (last/first)^(1/years) − 1.

    NULL when the first value is 0 (growth from nothing has no rate), when only one period has
    data, or when a value is negative; quarters count as quarter-years.
    """
    schema = pa.schema([("group", pa.string()), ("first_period", pa.string()), ("last_period", pa.string()),
                        ("first_value", pa.float64()), ("last_value", pa.float64()), ("years", pa.float64()),
                        ("cagr", pa.float64())])
    if value_col not in table.column_names:
        raise UsageError(f"the table has no column {value_col!r}; columns: {', '.join(table.column_names)}")
    df = table.select(["period", "group", value_col]).to_pandas()
    df = df[df[value_col].notna()]
    rows = []
    for g, sub in df.groupby("group", sort=True):
        sub = sub.assign(_y=sub["period"].map(_years)).sort_values("_y")
        first, last = sub.iloc[0], sub.iloc[-1]
        years = float(last["_y"] - first["_y"])
        a, b = float(first[value_col]), float(last[value_col])
        rate = (b / a) ** (1 / years) - 1 if years > 0 and a > 0 and b >= 0 else None
        rows.append({"group": g, "first_period": first["period"], "last_period": last["period"],
                     "first_value": a, "last_value": b, "years": years, "cagr": rate})
    return pa.Table.from_pylist(rows, schema=schema)


# ------------------------------------------------------------------------------- investors


def top_investors(store_or_tables, field: str | None = None, top: int = 10, currency: str = "USD",
                  fx=None, start=None, end=None) -> pa.Table:
    """The most active investors per field: round count first, then disclosed amount, then name."""
    if top is None or int(top) < 1:
        raise UsageError(f"top must be a positive number, not {top!r}")
    currency = _currency(currency)
    if field is not None:
        from hardtech.analytics.taxonomy import load_taxonomy

        allowed = (*load_taxonomy().fields, "none", "unclassified")
        field = _choice("field", field, tuple(allowed))
    t = _tables(store_or_tables)
    schema = pa.schema([("field", pa.string()), ("rank", pa.int64()), ("investor", pa.string()),
                        ("rounds", pa.int64()), ("disclosed_amount", pa.float64()), ("currency", pa.string())])
    r, _, _ = _rounds(t, currency, fx, _date(start, "start"), _date(end, "end"), _INVESTOR_COLUMNS)
    g = _grouped(r, t, "field").select("round_id", "grp", "conv", *_INVESTOR_COLUMNS).to_pandas()
    if g.empty:
        return pa.Table.from_pylist([], schema=schema)
    g["investor"] = _investor_labels(g, t)
    ex = g.rename(columns={"grp": "field"}).explode("investor")
    ex = ex[ex["investor"] != "unknown"]
    if field is not None:
        ex = ex[ex["field"] == field]
    g = ex.groupby(["field", "investor"]).agg(rounds=("round_id", "nunique"),
                                              disclosed_amount=("conv", lambda s: s.sum(min_count=1))).reset_index()
    g["_amt"] = g["disclosed_amount"].fillna(-1.0)
    g = g.sort_values(["field", "rounds", "_amt", "investor"], ascending=[True, False, False, True])
    g["rank"] = g.groupby("field").cumcount() + 1
    g = g[g["rank"] <= int(top)]
    g["currency"] = currency
    g["disclosed_amount"] = g["disclosed_amount"].astype(float)
    return pa.Table.from_pandas(g[list(schema.names)], schema=schema, preserve_index=False)
