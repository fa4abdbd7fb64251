"""Capital flows: where funding goes, by field, typology, sector, region, stage and investor.

The seeds describe capital moving from services to industry and from business-model innovation
to technology (docs/flows.md). Checking that claim on real data is only honest when nothing is
guessed: a range (`数千万`) or an undisclosed amount is counted as a round but never put into a
sum, a figure in a currency with no rate is counted and reported, and a round without a date
cannot be placed in a period, so it is left out and named in the warnings. Conversions use the
dated FX table with the rate on or before each round's own date, never today's rate.

Flows are one Ibis expression per question, so they run where the data is (DuckDB here, Spark on
a cluster): the dated rates are looked up once per distinct (currency, day) in Python and joined
as a small table, labels come from joins (fields are unnested), and the grouping is the engine's.
Grouping by investor, whose alias rules are Python, and the investor league tables still work on a
per-round pandas frame.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Mapping

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hardtech.analytics.engine import kept
from hardtech.analytics.verdicts import latest_verdicts
from hardtech.errors import UsageError

BY = ("field", "typology", "sector", "region", "stage", "investor")
PERIODS = ("year", "quarter")
METRICS = ("amount", "count", "median")
FX_POLICY = "on_or_before"
TECH = ("hard_core", "deep")  # typology classes counted as technology innovation
MODEL = ("model_innovation",)
COLUMNS = ("period", "group", "value", "rounds", "disclosed_rounds", "undisclosed_rounds", "currency", "share", "note")
_CODE = re.compile(r"[A-Z]{3}")
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
    c = (code or "").strip().upper()
    if not _CODE.fullmatch(c):
        raise UsageError(f"currency {code!r} is not a three-letter ISO 4217 code (e.g. USD, CNY, EUR)")
    return c


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


# ------------------------------------------------------------------------------- the round frame


def _rounds(t: dict, currency: str, fx, start, end, with_investors: bool = True) -> tuple[pd.DataFrame, list[str], str]:
    """One row per dated round with `conv` (amount in `currency`, NaN when not summable) and why not."""
    r = t["funding_rounds"]
    if start is not None:
        r = r.filter(r.date.isnull() | (r.date >= start))
    if end is not None:
        r = r.filter(r.date.isnull() | (r.date <= end))
    cols = ["round_id", "org_id", "date", "stage", "amount", "amount_low", "amount_high", "disclosed", "currency"]
    if with_investors:  # list columns are costly to bring into pandas: only when grouping by investor
        cols += ["investors", "investor_ids"]
    df = r.select(*cols).to_pyarrow().to_pandas()
    warnings: list[str] = []
    undated = df["date"].isna()
    if undated.any():
        ids = sorted(df.loc[undated, "round_id"].astype(str))
        warnings.append(f"{len(ids)} round(s) without a date left out (no period): {', '.join(ids)}")
    df = df.loc[~undated].reset_index(drop=True)
    df["date"] = pd.to_datetime(df["date"])
    codes, uniq = pd.factorize(df["currency"].astype(object), use_na_sentinel=True)
    norm = [c.strip().upper() if isinstance(c, str) and c.strip() else None for c in uniq]
    ccy = pd.Series(np.array([*norm, None], dtype=object)[codes], index=df.index, dtype=object)
    has_amount = df["amount"].notna()
    df["why"] = np.where(has_amount, "", np.where(df["amount_low"].notna() | df["amount_high"].notna(),
                                                    "range", "undisclosed"))
    no_ccy = has_amount & ccy.isna()
    if no_ccy.any():
        ids = sorted(df.loc[no_ccy, "round_id"].astype(str))
        warnings.append(f"{len(ids)} round(s) with an amount but no currency counted, not summed: {', '.join(ids)}")
        df.loc[no_ccy, "why"] = "no currency"
    fx_note = ""
    conv = np.full(len(df), np.nan)
    ok = has_amount & ccy.notna()
    if ok.any():
        needs_rate = ok & (ccy != currency)
        if needs_rate.any():
            if fx is None:
                from hardtech.sources.fx import load_fx

                fx = load_fx()
            fx_note = f"rates on or before each round's date from {fx.name} (version {fx.version})"
        if fx is not None:
            vals = _convert(fx, df.loc[ok, "amount"], ccy[ok], currency, df.loc[ok, "date"])
        else:  # everything already in the target currency: no table is needed
            vals = df.loc[ok, "amount"].to_numpy(dtype=float)
        conv[ok.to_numpy()] = vals
        no_rate = ok & np.isnan(conv)
        if no_rate.any():
            ids = sorted(df.loc[no_rate, "round_id"].astype(str))
            codes = sorted(set(ccy[no_rate]))
            warnings.append(f"{len(ids)} round(s) in {', '.join(codes)} with no {currency} rate on or before "
                            f"their date counted, not summed: {', '.join(ids)}")
            df.loc[no_rate, "why"] = "no FX rate"
    df["conv"] = conv
    df["ccy"] = ccy.to_numpy(dtype=object)
    return df, warnings, fx_note


def _convert(fx, amount: pd.Series, ccy: pd.Series, currency: str, dates: pd.Series) -> np.ndarray:
    """Rates looked up once per distinct (currency, day): a few thousand pairs serve millions of rounds."""
    pairs = pd.DataFrame({"c": ccy.to_numpy(dtype=object), "d": dates.to_numpy()})
    key = pairs.groupby(["c", "d"], sort=False, dropna=False).ngroup().to_numpy()
    first = pd.Series(np.arange(len(key))).groupby(key).first().to_numpy()
    _, rates, _ = fx.convert_series(np.ones(len(first)), pairs["c"].to_numpy()[first], currency,
                                    pairs["d"].iloc[first].reset_index(drop=True), policy=FX_POLICY, errors="nan")
    return amount.to_numpy(dtype=float, na_value=np.nan) * rates[key]


def _period(dates: pd.Series, period: str) -> pd.Series:
    if period == "year":
        return dates.dt.year.astype(str)
    return dates.dt.year.astype(str) + "-Q" + dates.dt.quarter.astype(str)


def _latest_classification(t: dict, arrow: bool = False):
    c = t.get("classifications")
    if c is None:
        empty = pd.DataFrame(columns=["org_id", "fields", "typology"])
        return pa.Table.from_pandas(empty.astype(object), preserve_index=False) if arrow else empty
    c = latest_verdicts(c)
    c = c.select(org_id=c.entity_id, fields=c.fields, typology=c.typology)
    return c.to_pyarrow() if arrow else c.to_pandas()


def _long(df: pd.DataFrame, t: dict, by: str) -> tuple[np.ndarray, np.ndarray]:
    """(row position, group) pairs for the per-round frame: one per field, or per investor, of each round."""
    n = len(df)
    if by == "field":
        cls = _latest_classification(t, arrow=True)
        f = cls.column("fields").combine_chunks() if cls.num_rows else pa.array([], pa.list_(pa.string()))
        lens = pc.fill_null(pc.list_value_length(f), 0).to_numpy(zero_copy_only=False).astype(np.int64)
        flat = pc.list_flatten(f).to_numpy(zero_copy_only=False).astype(object)
        parent = pc.list_parent_indices(f).to_numpy(zero_copy_only=False).astype(np.int64)
        empty = np.flatnonzero(lens == 0)
        org_pos = np.concatenate([parent, empty])
        org_lab = np.concatenate([flat, np.full(len(empty), "none", dtype=object)])
        order = np.argsort(org_pos, kind="stable")
        org_pos, org_lab = org_pos[order], org_lab[order]
        counts = np.maximum(lens, 1)
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]]) if len(counts) else counts
        keys = pd.Index(cls.column("org_id").to_pandas().astype(object))
        ids = np.arange(len(keys))
        if not keys.is_unique:
            last = ~keys.duplicated(keep="last")
            keys, ids = keys[last], ids[last]
        idx = keys.get_indexer(pd.Series(df["org_id"], dtype=object))
        org = np.where(idx >= 0, ids[np.clip(idx, 0, None)] if len(ids) else -1, -1)
        known = org >= 0
        reps = np.where(known, counts[np.clip(org, 0, None)] if len(counts) else 1, 1)
        pos = np.repeat(np.arange(n), reps)
        within = np.arange(len(pos)) - np.repeat(np.cumsum(reps) - reps, reps)
        o = np.repeat(org, reps)
        lab = np.full(len(pos), "unclassified", dtype=object)
        k = o >= 0
        lab[k] = org_lab[starts[o[k]] + within[k]]
        return pos, lab
    if by != "investor":
        raise UsageError(f"the per-round frame groups by field or investor, not {by!r}")
    lists = _investor_labels(df, t)
    reps = lists.map(len).to_numpy()
    return np.repeat(np.arange(n), reps), np.array([g for gs in lists for g in gs] + [None], dtype=object)[:-1]


def _labels(df: pd.DataFrame, t: dict, by: str) -> pd.Series:
    """For each round, the list of groups it counts in (several for fields and investors)."""
    pos, lab = _long(df, t, by)
    out = [[] for _ in range(len(df))]
    for p, g in zip(pos.tolist(), lab.tolist()):
        out[p].append(g)
    return pd.Series(out, index=df.index, dtype=object)


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
        for row in inv.select("investor_id", "name_en", "name_zh").to_pandas().itertuples(index=False):
            names[row.investor_id] = row.name_en or row.name_zh or row.investor_id
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


def _frame(src, by, period, currency, fx, start, end, with_investors: bool | None = None):
    t = _tables(src)
    df, warnings, fx_note = _rounds(t, currency, fx, _date(start, "start"), _date(end, "end"),
                                    by == "investor" if with_investors is None else with_investors)
    df["period"] = _period(df["date"], period) if len(df) else pd.Series(dtype=str)
    df["group"] = _labels(df, t, by) if len(df) else pd.Series(dtype=object)
    return df, warnings, fx_note


def flows_report(store_or_tables, by: str = "field", period: str = "year", metric: str = "amount",
                 currency: str = "USD", fx=None, start=None, end=None) -> dict:
    """{table, warnings, cagr, fx}: the flow table plus everything left out of it, and why."""
    by = _choice("grouping (by)", by, BY)
    period = _choice("period", period, PERIODS)
    metric = _choice("metric", metric, METRICS)
    currency = _currency(currency)
    t = _tables(store_or_tables)
    if by != "investor":
        return _engine_report(t, by, period, metric, currency, fx, _date(start, "start"), _date(end, "end"))
    df, warnings, fx_note = _rounds(t, currency, fx, _date(start, "start"), _date(end, "end"), by == "investor")
    rows = []
    if len(df):
        df["period"] = _period(df["date"], period)
        totals = df.groupby("period").agg(n=("round_id", "size"), amt=("conv", lambda s: s.sum(min_count=1)))
        pos, lab = _long(df, t, by)
        conv = df["conv"].to_numpy()[pos]
        why = df["why"].to_numpy(dtype=object)[pos]
        ex = pd.DataFrame({"period": df["period"].to_numpy(dtype=object)[pos], "group": lab, "conv": conv,
                           "converted": ~np.isnan(conv) & (df["ccy"].to_numpy(dtype=object)[pos] != currency)})
        reasons = ("range", "undisclosed", "no currency", "no FX rate")
        for w in reasons:
            ex[w] = why == w
        g = ex.groupby(["period", "group"], sort=True)
        agg = g.agg(n=("conv", "size"), nd=("conv", "count"), total=("conv", "sum"),
                    converted=("converted", "any"), **{w: (w, "sum") for w in reasons})
        if metric == "median":
            agg["med"] = g["conv"].median()
        for (p, grp), a in zip(agg.index, agg.itertuples(index=False)):
            n, nd = int(a.n), int(a.nd)
            if metric == "count":
                value = float(n)
                share = n / totals.loc[p, "n"]
            elif metric == "amount":
                value = float(a.total) if nd else None
                tot = totals.loc[p, "amt"]
                share = value / tot if value is not None and tot and not math.isnan(tot) else None
            else:
                value = float(a.med) if nd else None
                share = None
            parts = [f"{int(c)} {w}" for w, c in zip(reasons, a[4:8]) if c]
            note = ("not summed: " + ", ".join(parts)) if parts else ""
            if a.converted and fx_note:
                note = (note + "; " if note else "") + f"converted at {fx_note}"
            rows.append({"period": p, "group": grp, "value": value, "rounds": n, "disclosed_rounds": nd,
                         "undisclosed_rounds": n - nd, "currency": None if metric == "count" else currency,
                         "share": share, "note": note or None})
    return _report(rows, warnings, fx_note, by, period, metric, currency)


def _report(rows, warnings, fx_note, by, period, metric, currency) -> dict:
    table = pa.Table.from_pylist(rows, schema=_SCHEMA)
    meta = {"warnings": json.dumps(warnings), "by": by, "period": period, "metric": metric,
            "currency": currency, "fx": fx_note or "no conversion needed"}
    table = table.replace_schema_metadata(meta)
    return {"table": table, "warnings": warnings, "cagr": cagr(table), "fx": meta["fx"]}


# ------------------------------------------------------------------------------- the engine path

_REASONS = ("range", "undisclosed", "no currency", "no FX rate")


def _ids(expr) -> list[str]:
    return sorted(str(x) for x in expr.to_pyarrow().column(0).to_pylist())


def _engine_rounds(t: dict, currency: str, fx, start, end) -> tuple[ir.Table, list[str], str]:
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
    r = r.select("round_id", "org_id", "date", "stage", "amount", "amount_low", "amount_high",
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
        rt = ibis.memtable(pa.table({"r_c": pairs.column("r_c"), "r_d": pairs.column("r_d"),
                                     "r_rate": pa.array(rates, mask=np.isnan(rates))}))
        r = r.left_join(rt, [r.ccy == rt.r_c, r.date == rt.r_d]).drop("r_c", "r_d")
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


def _engine_warnings(r: ir.Table, currency: str) -> list[str]:
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


def _engine_report(t: dict, by: str, period: str, metric: str, currency: str, fx, start, end) -> dict:
    r, warnings, fx_note = _engine_rounds(t, currency, fx, start, end)
    y = r.date.year().cast("string")
    r = r.mutate(period=y if period == "year" else y.concat("-Q", r.date.quarter().cast("string")))
    with kept() as keep:
        r = keep(r)
        warnings += _engine_warnings(r, currency)
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
    df, _, _ = _frame(store_or_tables, "field", "year", currency, fx, start, end, with_investors=True)
    schema = pa.schema([("field", pa.string()), ("rank", pa.int64()), ("investor", pa.string()),
                        ("rounds", pa.int64()), ("disclosed_amount", pa.float64()), ("currency", pa.string())])
    if df.empty:
        return pa.Table.from_pylist([], schema=schema)
    df["investor"] = _investor_labels(df, _tables(store_or_tables))
    ex = df.rename(columns={"group": "field"}).explode("field").explode("investor")
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
