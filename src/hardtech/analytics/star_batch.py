"""The STAR test's verdict for every organisation at once, as one engine query.

Why: the dashboard's STAR filter and the market report need a verdict for every company in the
store. `star.evaluate_star_batch` builds a full `StarResult` (indicator notes, FX log, warnings)
per organisation in Python: about 10 ms each, hours at a million. Here the same rules give the
verdict alone, as an Ibis expression over `organizations`, `classifications` and `financials`, so
DuckDB (or Spark) evaluates a million companies in one query. The full reasoning of any one
organisation still comes from `star.evaluate_star` (`hardtech star ORG`).

What stays in Python, because it is small: the rules of the version (`star.load_star_rules`), the
carve-outs and negative-list hits of each DISTINCT (flags, industry codes, typology) combination
(`star._carve_outs`, `star._negative_list`: organisations share a few hundred), and one FX rate
per (currency, fiscal year) (`fx.rate`). Those become small tables joined in the engine.

Same answer as the Python path (tests/test_star_batch.py asserts it row by row on a synthetic
store): the row of a fiscal year is the most complete one, ties by `figures.pick_order` (newest
import, then source name); indicators are three-valued with SQL's Kleene OR; a thresholds'
tolerance is applied exactly as `star._ge`; an FX rate that cannot be found makes that company
"insufficient data", as in the batch.
"""

from __future__ import annotations

import datetime as dt

import ibis
import ibis.expr.types as ir

from hardtech.analytics.figures import alone_and_shared, one_row_per_year, pick_order
from hardtech.analytics.verdicts import latest_verdicts
from hardtech.errors import FXError, UsageError
from hardtech.schema import PATENT_FILING_COLUMNS

_F = "float64"
_SEP = "\x1f"
_COMPLETE = ("revenue", "rd_expense", "rd_staff", "employees", "invention_patents", *PATENT_FILING_COLUMNS)


def _num(c: ir.Value) -> ir.Value:
    """A figure as float, NaN read as missing (as `star._num`)."""
    c = c.cast(_F)
    return ibis.cases((c.isnan(), ibis.null(_F)), else_=c)


def _lo(threshold: float, tol: float) -> float:
    """The smallest value that passes: `star._ge`'s arithmetic, done once in Python."""
    return threshold - tol * abs(threshold)


def _key(t: ir.Table) -> ir.Value:
    """One text per (flags, industry codes, typology): what the carve-outs and negative list depend on."""
    return (t.flags.join(_SEP).fill_null("") + "\x1e" + t.industry_codes.join(_SEP).fill_null("") + "\x1e"
            + t.typology.cast("string").fill_null("\x00"))


def _contexts(orgs: ir.Table, v, carve_outs, taxonomy) -> ir.Table:
    """Per distinct key: negative-list level, R&D ratio floor, cumulative alternative, waivers, flag exceptions."""
    from hardtech.analytics import star

    rows = orgs.select(_k=_key(orgs), flags=orgs.flags, codes=orgs.industry_codes, typology=orgs.typology)
    seen: dict[str, dict] = {}
    t, tol = v.thresholds, v.tolerance_rel
    for r in rows.distinct(on="_k", keep="first").to_pyarrow().to_pylist():
        flag_set = {f.lower().replace("-", "_") for f in star._as_list(r["flags"])}
        codes = [c for c in star._as_list(r["codes"]) if ":" in c]
        said: list[str] = []
        applied, _ = star._carve_outs(v, flag_set, codes, carve_outs, said)
        neg = star._negative_list(v, flag_set, codes, star._text_or_none(r["typology"]), taxonomy, said)
        strict = next((c for c in applied if c.rd_ratio_min is not None), None)
        seen[r["_k"]] = {
            "_k": r["_k"],
            "neg": neg[0][0].level if neg else None,
            "ratio_lo": _lo(strict.rd_ratio_min if strict else t.rd_ratio_min, tol),
            "cum_ok": strict is None or bool(strict.cumulative_alternative),
            **{f"waive_{i}": any(c.waives == i for c in applied) for i in v.indicators},
            "exc_flag": any(e.flag is not None and e.flag in flag_set for e in v.exceptions),
        }
    if not seen:  # no organisation: a one-row frame keeps the column types
        seen[""] = {"_k": "", "neg": None, "ratio_lo": 0.0, "cum_ok": True,
                    **{f"waive_{i}": False for i in v.indicators}, "exc_flag": False}
    import pyarrow as pa

    schema = pa.schema([("_k", pa.string()), ("neg", pa.string()), ("ratio_lo", pa.float64()), ("cum_ok", pa.bool_()),
                        *((f"waive_{i}", pa.bool_()) for i in v.indicators), ("exc_flag", pa.bool_())])
    return ibis.memtable(pa.Table.from_pylist(list(seen.values()), schema=schema))


def _ccy(t: ir.Table) -> ir.Value:
    return t.currency.cast("string").strip().upper().fill_null("")


def _has_amount(t: ir.Table) -> ir.Value:
    return _num(t.revenue).notnull() | _num(t.rd_expense).notnull()


def _rates(fin: ir.Table, v, fx) -> ir.Table | None:
    """One rate into the rules' currency per (currency, fiscal year) with amounts; NULL where none is found.

    Asked of the raw rows (a short query); a rate of a year outside every window is simply not used.
    """
    rows = fin.select(_ccy=_ccy(fin), fiscal_year=fin.fiscal_year.cast("int64"), _has=_has_amount(fin))
    need = rows.filter(rows._has & ~rows._ccy.isin(["", "NAN", v.currency])).select("_ccy", "fiscal_year").distinct()
    pairs = need.to_pyarrow().to_pylist()
    if not pairs:
        return None
    if fx is None:
        from hardtech.sources.fx import load_fx

        fx = load_fx()
    month, day = v.fx_month_day
    out = []
    for p in pairs:
        try:
            r = fx.rate(p["_ccy"], v.currency, dt.date(int(p["fiscal_year"]), month, day), "on_or_before",
                        v.fx_max_age_days)
            out.append({"_ccy": p["_ccy"], "fiscal_year": int(p["fiscal_year"]), "_rate": float(r.value)})
        except FXError:
            out.append({"_ccy": p["_ccy"], "fiscal_year": int(p["fiscal_year"]), "_rate": None})
    import pyarrow as pa

    return ibis.memtable(pa.Table.from_pylist(out, schema=pa.schema(
        [("_ccy", pa.string()), ("fiscal_year", pa.int64()), ("_rate", pa.float64())])))


def _patents_ok(pat: ir.Value, filings: ir.Value, lo: float, proxy: bool) -> ir.Value:
    """The invention-patent check (indicator 3, exception 5): the granted count, else the filings where allowed."""
    granted = ibis.cases((pat.isnull(), ibis.null("boolean")), else_=pat >= lo)
    if not proxy:
        return granted
    return ibis.cases((pat.isnull() & filings.notnull(), filings >= lo), else_=granted)


def star_verdict_table(organizations: ir.Table, classifications: ir.Table, financials: ir.Table,
                       org_ids: ir.Table | None = None, year: int | None = None, version: str | None = None,
                       fx=None, carve_outs: dict[str, bool] | None = None, *, rules=None, taxonomy=None) -> ir.Table:
    """(org_id, year, version, verdict) for the organisations of `org_ids` (a table with org_id; None: all).

    The verdicts `star.evaluate_star_batch` gives on the same data, computed in the engine.
    """
    from hardtech.analytics import star

    versions = rules if rules is not None else star.load_star_rules()
    version = version or star.CURRENT_VERSION
    v = star._pick(version, versions)
    if taxonomy is None:
        from hardtech.analytics.taxonomy import load_taxonomy

        taxonomy = load_taxonomy()
    t, tol = v.thresholds, v.tolerance_rel

    typ = latest_verdicts(classifications).select(_eid="entity_id", typology="typology")
    o = organizations.select("org_id", "flags", "industry_codes")
    if org_ids is not None:
        o = o.semi_join(org_ids.select("org_id"), "org_id")
    o = o.left_join(typ, o.org_id == typ._eid).select("org_id", "flags", "industry_codes", "typology")
    ctx = _contexts(o, v, carve_outs, taxonomy)
    o = o.select("org_id", _k=_key(o))

    rates = _rates(financials.filter(financials.fiscal_year.notnull()), v, fx)
    f = financials.filter(financials.fiscal_year.notnull())
    if year is not None:  # the window's three years only, before any join: the rows of other years cost
        f = f.filter(f.fiscal_year.between(year - 2, year))  # a join and a sort at every size (issue 14)
    # no semi-join to the organisations asked for: the window's figures are joined to them at the end
    # (left join), so another organisation's rows are never read there; a hash join of every financial row
    # against every organisation cost more than aggregating the few rows it would drop (issue 14)
    if not one_row_per_year(financials):  # several sources: the most complete row of each year, then pick_order
        alone, f = alone_and_shared(f)  # chosen among only where a year has several rows; a row alone is its pick
        complete = sum((_num(f[c]).notnull().cast("int64") for c in _COMPLETE if c in f.columns), ibis.literal(0))
        w = ibis.window(group_by=[f.org_id, f.fiscal_year], order_by=[ibis.desc(complete), *pick_order(f)])
        f = alone.union(f.mutate(_rn=ibis.row_number().over(w)).filter(lambda x: x._rn == 0).drop("_rn"))
    filings = [_num(f[c]) for c in PATENT_FILING_COLUMNS if c in f.columns]
    f = f.select(
        org_id=f.org_id, fiscal_year=f.fiscal_year.cast("int64"),
        _ccy=_ccy(f),
        _rev=_num(f.revenue), _rd=_num(f.rd_expense), _staff=_num(f.rd_staff), _emp=_num(f.employees),
        _pat=_num(f.invention_patents),
        _fil=ibis.greatest(*filings) if len(filings) > 1 else (filings[0] if filings else ibis.null(_F)),
    )
    f = f.mutate(_has=f._rev.notnull() | f._rd.notnull())

    if year is not None:  # every organisation is judged on the same year: nothing to look up
        o = o.mutate(_y=ibis.literal(year, "int64"))
        f = f.mutate(_y=ibis.literal(year, "int64"))
    else:  # each on its newest fiscal year
        last = f.group_by("org_id").aggregate(_last=f.fiscal_year.max())
        o = o.left_join(last, "org_id").select(o.org_id, o._k, _y=last._last)
        f = f.join(o.select("org_id", "_y"), "org_id")
        f = f.filter((f.fiscal_year >= f._y - 2) & (f.fiscal_year <= f._y))

    foreign = f._has & ~f._ccy.isin(["", "NAN", v.currency])
    blank = f._has & f._ccy.isin(["", "NAN"])
    if rates is not None:
        f = f.left_join(rates, ["_ccy", "fiscal_year"]).select(*f.columns, "_rate")
        factor = ibis.cases((foreign, f._rate), (blank, ibis.null(_F)), else_=ibis.literal(1.0))
        fx_bad = foreign & f._rate.isnull()
    else:
        factor = ibis.cases((blank, ibis.null(_F)), else_=ibis.literal(1.0))
        fx_bad = ibis.literal(False)
    f = f.mutate(_rev=ibis.cases((foreign, f._rev * factor), (blank, ibis.null(_F)), else_=f._rev),
                 _rd=ibis.cases((foreign, f._rd * factor), (blank, ibis.null(_F)), else_=f._rd),
                 _fxbad=fx_bad, _off=f.fiscal_year - (f._y - 2))

    def at(col: str, off: int) -> ir.Value:
        return f[col].max(where=f._off == off)

    win = f.group_by("org_id").aggregate(
        r0=at("_rev", 0), r1=at("_rev", 1), r2=at("_rev", 2), d0=at("_rd", 0), d1=at("_rd", 1), d2=at("_rd", 2),
        staff=at("_staff", 2), emp=at("_emp", 2), pat=at("_pat", 2), fil=f._fil.sum(), fxbad=f._fxbad.any())
    j = o.left_join(win, "org_id").left_join(ctx, "_k")
    j = j.select(*[c for c in j.columns if not c.endswith("_right")])

    rd_sum, rev_sum = j.d0 + j.d1 + j.d2, j.r0 + j.r1 + j.r2
    known = rd_sum.notnull() & rev_sum.notnull()
    ratio_ok = ibis.cases((known & (rev_sum > 0), (rd_sum / rev_sum) >= j.ratio_lo),
                          (known, ibis.literal(False)), else_=ibis.null("boolean"))
    cum_ok = rd_sum >= _lo(t.rd_cumulative_min_cny, tol)
    rd_inv = ibis.cases((j.cum_ok, ratio_ok | cum_ok), else_=ratio_ok)
    staff = ibis.null("boolean")
    if "rd_staff_share" in v.indicators:
        staff = ibis.cases((j.staff.isnull() | j.emp.isnull() | (j.emp <= 0), ibis.null("boolean")),
                           else_=(j.staff / j.emp) >= _lo(t.rd_staff_share_min, tol))
    patents = _patents_ok(j.pat, j.fil, _lo(t.invention_patents_min, tol), v.patent_filings_proxy)
    first, latest = j.r0, j.r2
    cagr_ok = ibis.cases((first.isnull() | latest.isnull(), ibis.null("boolean")),
                         ((first <= 0) | (latest < 0), ibis.literal(False)),
                         else_=((latest / first) ** 0.5 - 1) >= _lo(t.revenue_cagr_min, tol))
    growth = cagr_ok | (latest >= _lo(t.revenue_last_year_min_cny, tol))
    checks = {"rd_investment": rd_inv, "rd_staff_share": staff, "invention_patents": patents,
              "revenue_growth": growth}
    inds = []
    for i in v.indicators:
        if i not in checks:
            raise UsageError(f"STAR version {v.id}: indicator {i!r} is not known to the engine batch")
        inds.append(ibis.cases((j[f"waive_{i}"].fill_null(False), ibis.literal(True)), else_=checks[i]))
    excs = [ibis.literal(False)] + [
        _patents_ok(j.pat, j.fil, _lo(e.min_invention_patents, tol), v.patent_filings_proxy)
        for e in v.exceptions if e.flag is None]

    def any_of(xs, test):
        out = ibis.literal(False)
        for x in xs:
            out = out | test(x)
        return out

    all_true = ~any_of(inds, lambda x: ~x.fill_null(False))
    exc_true = j.exc_flag.fill_null(False) | any_of(excs, lambda x: x.fill_null(False))
    failed = any_of(inds, lambda x: (~x).fill_null(False))
    exc_open = any_of(excs, lambda x: x.isnull())
    verdict = ibis.cases(
        (j.fxbad.fill_null(False), ibis.literal("insufficient data")),
        (j.neg.notnull(), j.neg),
        (all_true, ibis.literal("sci-tech")),
        (exc_true, ibis.literal("sci-tech")),
        (failed & ~exc_open, ibis.literal("not sci-tech")),
        else_=ibis.literal("insufficient data"))
    return j.select(org_id=j.org_id, year=j._y, version=ibis.literal(v.id), verdict=verdict)
