"""Raw hardness indicators per organisation-year (phase 1), as one Ibis expression over whole tables.

Why Ibis over whole tables: the score must run over a million organisations x ten years where the data
lives (DuckDB here, Spark elsewhere): rolling windows from lags over one sort, patents and funding by
joins, no per-organisation loop. NULL means missing, never zero.
"""

from __future__ import annotations

import functools
from typing import Any, Mapping

import ibis
import ibis.expr.datatypes as idt
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.compute  # noqa: F401 - pa.compute.is_in

from hardtech.analytics.figures import pick
from hardtech.analytics.verdicts import latest_verdicts
from hardtech.errors import UsageError
from hardtech.schema import PATENT_FILING_COLUMNS
from hardtech.analytics.hardness.weights import HardnessWeights, INDICATORS, PATENT_COHORT, UNCLASSIFIED

# The columns of `indicators()` that explain each indicator (its inputs and coverage).
INPUTS: dict[str, tuple[str, ...]] = {
    "rd_intensity": ("rd_expense", "revenue", "currency", "sector_code", "oecd_group", "reference_intensity",
                     "intensity_standing"),
    "rd_depth": ("rd_window_paired", "revenue_window_paired", "rd_revenue_years", "window_start", "currency"),
    "rd_staff_share": ("rd_staff", "employees"),
    "capital_intensity": ("capex", "revenue", "currency"),
    "rd_persistence": ("rd_years_positive", "rd_years_reported", "window_start"),
    "rd_cumulative": ("rd_years_reported", "window_start", "currency"),
    "rd_growth": ("rd_first_year", "rd_first", "rd_last_year", "rd_last", "rd_years_positive"),
    "rd_volatility": ("rd_years_reported", "rd_mean", "rd_std", "window_start"),
    "rd_cycle": ("founded", "first_revenue_year", "first_reported_year", "cycle_censored"),
    "pre_revenue_funding": ("first_revenue_year", "funding_rounds_usd", "funding_before_revenue", "funding_to_year"),
    "invention_patents": ("invention_patents",),
    "invention_patent_growth": ("ip_first_year", "ip_first", "ip_last_year", "ip_last", "invention_patent_years"),
    "patent_filings": ("patent_filings", "patent_filing_years", "window_start"),
    "patent_family": ("patents_counted", "family_size_mean"),
    "patent_citations": ("patents_counted", "forward_citations_mean"),
    "patent_scope": ("patents_counted", "scope_mean"),
    "science_linkage": ("patents_counted", "npl_citations_mean"),
    "institutions_nearby": ("city", "institutions_in_city"),
    "sector_rd_group": ("sector_code", "oecd_group", "sector_rule"),
    "sector_activity": ("activity_sources",),
    "kind_prior": ("kind_sources",),
    "hardness_of_kind": ("p_hard_core", "p_deep", "model_version"),
    "physical_product": ("p_model_innovation", "model_version"),
}
# =============================================================================== input tables

_OPTIONAL = ("patents", "funding_rounds", "classifications")


def _tables(src) -> dict[str, ir.Table | None]:
    """The Ibis tables the score reads; patents, funding and classifications may be absent (indicators go missing)."""
    if isinstance(src, Mapping):
        missing = [n for n in ("financials", "organizations") if src.get(n) is None]
        if missing:
            raise UsageError(f"the hardness score needs the {' and '.join(missing)} table(s)")
        return {n: src.get(n) for n in ("financials", "organizations", *_OPTIONAL)}
    if hasattr(src, "table"):
        return {n: src.table(n) for n in ("financials", "organizations", *_OPTIONAL)}
    raise UsageError("the hardness score takes a Store or a mapping of Ibis tables "
                     "(financials, organizations; optionally patents, funding_rounds, classifications)")


def _years_text(years) -> str:
    from hardtech.analytics.ranking import _years_text as text

    return text(years)


# =============================================================================== building blocks

_F = "float64"
# Rolling windows are computed from lags over hash buckets of organisations, not per-organisation
# partitions: a million tiny partitions cost DuckDB a sort each, 64 buckets cost one sort in all.
BUCKETS = 64
PAT_METRICS = ("family", "cites", "scope", "npl")


def _nullf():
    return ibis.null(_F)


def _nulls():
    return ibis.null("string")


def _nonneg(x):
    return ibis.ifelse(x >= 0, x, _nullf())


def _total(terms):
    return functools.reduce(lambda a, b: a + b, terms)


def _financial_rows(fin: ir.Table, year: int | None) -> ir.Table:
    """One figure per organisation-year, by the one rule of `analytics.figures` (newest import, then source name).

    Each money figure keeps the currency of the row it came from (the year's newest row's when it has
    none), so a ratio of figures in two currencies can be refused.
    """
    money = ("rd_expense", "revenue", "capex")
    counts = ("rd_staff", "employees", "invention_patents")
    # filings at each IP office (financials.patent_filings_*, e.g. the JRC-OECD panel's): their year's total,
    # NULL when no office has a count; a store or table without the columns has none
    offices = tuple(c for c in PATENT_FILING_COLUMNS if c in fin.columns)
    p = pick(fin, money + counts + offices, through=year, money=money)
    filed = [_nonneg(p[c].cast(_F)) for c in offices]
    filings = _nullf()
    if filed:
        filings = ibis.ifelse(ibis.or_(*[x.notnull() for x in filed]), _total([x.fill_null(0.0) for x in filed]), _nullf())
    return p.select("org_id", year=p.fiscal_year.cast("int64"), **{c: p[c].cast(_F) for c in money + counts},
                    patent_filings=filings,
                    rd_ccy=ibis.coalesce(p.rd_expense_ccy, p.currency),
                    rev_ccy=ibis.coalesce(p.revenue_ccy, p.currency),
                    capex_ccy=ibis.coalesce(p.capex_ccy, p.currency))


def _first_last(g: ir.Table, c: str, n: int, oldest: bool):
    """(value, year) of the oldest (or newest) present entry of window columns c_0 (this year) … c_{n-1}."""
    order = range(n - 1, -1, -1) if oldest else range(n)
    v = ibis.cases(*[(g[f"{c}_{k}"].notnull(), g[f"{c}_{k}"]) for k in order], else_=_nullf())
    y = ibis.cases(*[(g[f"{c}_{k}"].notnull(), g[f"y_{k}"]) for k in order], else_=ibis.null("int64"))
    return v, y


def _rolling(f: ir.Table, w: HardnessWeights, year: int | None) -> ir.Table:
    """N-year window statistics of each organisation-year, from the rows of the N−1 years before it.

    Built in stages (lags, then the window's values as columns, then statistics) so that no
    expression is repeated inside another: the SQL stays linear in N.
    """
    n = w.rd_years
    g = f if year is None else f.filter(f.year > year - n)
    ccy = ibis.coalesce(g.rd_ccy, g.rev_ccy)
    rd_rev_same = (g.rd_ccy == g.rev_ccy).fill_null(True)
    # the revenue of a year whose R&D intensity is usable (same currency, revenue > 0, not a unit error):
    # the window's depth of R&D adds up R&D and revenue over those years only
    paired = rd_rev_same & (g.revenue > 0) & (g.rd_expense >= 0) & (g.rd_expense <= g.revenue * w.max_rd_intensity)
    g = g.mutate(currency=ccy, rd_rev_same=rd_rev_same,
                 capex_rev_same=(g.capex_ccy == g.rev_ccy).fill_null(True), _org=g.org_id.hash(),
                 rd_0=_nonneg(g.rd_expense), ip_0=_nonneg(g.invention_patents), pf_0=g.patent_filings,
                 rv_0=ibis.ifelse(paired, g.revenue, _nullf()), y_0=g.year)
    lagged = ("rd", "ip", "rv", "pf")
    if n > 1:
        # Strings are dear to move through a sort, so the organisation travels as a 64-bit hash:
        # two neighbouring organisations would have to collide for a row to be misread.
        win = ibis.window(group_by=g._org % BUCKETS, order_by=[g._org, g.year])
        lags = {}
        for k in range(1, n):
            lags.update({f"_org_{k}": g._org.lag(k).over(win), f"_year_{k}": g.year.lag(k).over(win)})
            lags.update({f"_{c}_{k}": g[f"{c}_0"].lag(k).over(win) for c in lagged})
        g = g.mutate(**lags)
    if year is not None:
        g = g.filter(g.year == year)
    if n > 1:  # keep a lagged row only when it is the same organisation, inside the window
        cols = {}
        for k in range(1, n):
            inside = (g[f"_org_{k}"] == g._org) & (g.year - g[f"_year_{k}"] < n)
            cols[f"y_{k}"] = ibis.ifelse(inside, g[f"_year_{k}"], ibis.null("int64"))
            cols.update({f"{c}_{k}": ibis.ifelse(inside, g[f"_{c}_{k}"], _nullf()) for c in lagged})
        g = g.mutate(**cols)

    def count(c, cond=None):
        return _total([ibis.ifelse(g[f"{c}_{k}"].notnull() if cond is None else cond(g[f"{c}_{k}"]), 1, 0)
                       for k in range(n)]).cast("int64")

    def add(c):
        return _total([g[f"{c}_{k}"].fill_null(0.0) for k in range(n)])

    g = g.mutate(
        rd_years_reported=count("rd"), rd_years_positive=count("rd", lambda v: v > 0),
        _rd_total=add("rd"), invention_patent_years=count("ip"), rd_revenue_years=count("rv"),
        patent_filing_years=count("pf"), _pf_total=add("pf"),
        rd_window_paired=_total([ibis.ifelse(g[f"rv_{k}"].notnull(), g[f"rd_{k}"], 0.0) for k in range(n)]),
        revenue_window_paired=add("rv"),
        **{f"pos_{k}": ibis.ifelse(g[f"rd_{k}"] > 0, g[f"rd_{k}"], _nullf()) for k in range(n)},
    )
    nr = g.rd_years_reported.cast(_F)
    g = g.mutate(rd_sum=ibis.ifelse(nr > 0, g._rd_total, _nullf()),
                 rd_mean=ibis.ifelse(nr > 0, g._rd_total / nr, _nullf()),
                 patent_filings_mean=ibis.ifelse(g.patent_filing_years > 0,
                                                 g._pf_total / g.patent_filing_years.cast(_F), _nullf()))
    var = _total([ibis.ifelse(g[f"rd_{k}"].notnull(), (g[f"rd_{k}"] - g.rd_mean) ** 2, 0.0) for k in range(n)]) / nr
    rd_first, rd_first_year = _first_last(g, "pos", n, oldest=True)
    rd_last, rd_last_year = _first_last(g, "pos", n, oldest=False)
    ip_first, ip_first_year = _first_last(g, "ip", n, oldest=True)
    ip_last, ip_last_year = _first_last(g, "ip", n, oldest=False)
    return g.select(
        "org_id", "year", "rd_expense", "revenue", "capex", "rd_staff", "employees", "invention_patents",
        "currency", "rd_rev_same", "capex_rev_same", "rd_years_reported", "rd_years_positive",
        "rd_sum", "rd_mean", "invention_patent_years", "rd_revenue_years", "rd_window_paired",
        "revenue_window_paired", "patent_filings", "patent_filing_years", "patent_filings_mean",
        rd_std=ibis.ifelse(nr > 0, var.sqrt(), _nullf()),
        rd_first=rd_first, rd_first_year=rd_first_year, rd_last=rd_last, rd_last_year=rd_last_year,
        ip_first=ip_first, ip_first_year=ip_first_year, ip_last=ip_last, ip_last_year=ip_last_year,
    )


def _years_table(years: list[int]) -> ir.Table:
    return ibis.memtable(pa.table({"_y": pa.array(sorted(set(years)), pa.int64())}))


def _patent_cumulative(patents: ir.Table, years: ir.Table, year: int | None, w: HardnessWeights,
                       duck: bool, detail: bool = True) -> ir.Table:
    """Per organisation and scored year: its patents filed up to that year, with cohort-normalised sums.

    Each patent is compared with its technology field × filing year cohort, as the OECD patent
    quality indicators are, so an old patent's citations do not beat a new one's merely by age.
    """
    p = patents.filter(patents.applicant_org_id.notnull())
    filed = ibis.coalesce(p.filing_date, p.priority_date, p.publication_date)
    empty = ibis.literal([], type="array<string>")
    cpc, ipc = p.cpc_codes.fill_null(empty), p.ipc_codes.fill_null(empty)
    first = ibis.ifelse(cpc.length() > 0, cpc[0], ipc[0])
    codes = cpc.concat(ipc)
    p = p.select(
        org_id=p.applicant_org_id, fy=filed.year().cast("int64"),
        key=ibis.coalesce(first.upper().substr(0, PATENT_COHORT[w.patent_cohort]), ibis.literal("?")),
        family=_nonneg(p.family_size.cast(_F)), cites=_nonneg(p.forward_citations.cast(_F)),
        npl=_nonneg(p.npl_citations.cast(_F)),
        scope=ibis.ifelse(codes.length() > 0, _distinct_count(codes.map(lambda c: c.upper().substr(0, 4)), duck),
                          _nullf()),
    )
    p = p.filter(p.fy.notnull())
    if year is not None:
        p = p.filter(p.fy <= year)
    if w.patent_normalise == "mean_ratio":
        cohort = p.group_by(["key", "fy"]).aggregate(**{f"mean_{m}": p[m].mean() for m in PAT_METRICS})
        cohort = cohort.rename(c_key="key", c_fy="fy")
        p = p.join(cohort, (p.key == cohort.c_key) & (p.fy == cohort.c_fy))
        norm = {f"n_{m}": ibis.ifelse(p[f"mean_{m}"] > 0, p[m] / p[f"mean_{m}"], _nullf()) for m in PAT_METRICS}
    else:
        norm = {f"n_{m}": _mid_percentile(p[m], [p.key, p.fy]) for m in PAT_METRICS}
    p = p.mutate(**norm)
    aggs: dict[str, Any] = {"p_n": p.count()}
    for m in PAT_METRICS:
        aggs.update({f"p_{m}_s": p[f"n_{m}"].sum(), f"p_{m}_c": p[f"n_{m}"].count()})
        if detail:
            aggs.update({f"p_{m}_r": p[m].sum(), f"p_{m}_rc": p[m].count()})
    by_year = p.group_by(["org_id", "fy"]).aggregate(**aggs)
    # running totals over an organisation's filing years, each valid until its next filing year
    win = ibis.window(group_by=by_year.org_id, order_by=by_year.fy, rows=(None, 0))
    cum = by_year.select("org_id", "fy", _next=by_year.fy.lead(1).over(
        ibis.window(group_by=by_year.org_id, order_by=by_year.fy)),
        **{c: by_year[c].sum().over(win) for c in aggs})
    j = cum.join(years, (cum.fy <= years._y) & (cum._next.isnull() | (years._y < cum._next)))
    return j.select("org_id", year=j._y, **{c: j[c] for c in aggs})


@ibis.udf.scalar.builtin(name="list_unique", signature=((idt.Array(idt.string),), idt.int64))
def _list_unique(values):  # DuckDB's own: distinct non-null elements, without Ibis's extra null pass
    ...


def _distinct_count(values: ir.ArrayValue, duck: bool) -> ir.Value:
    return (_list_unique(values) if duck else values.unique().length()).cast(_F)


def _mid_percentile(x, partition: list) -> ir.Value:
    """Mid-rank percentile of x in its partition, over rows where x is present (NULL elsewhere).

    (values below + half of the values equal) / n: a lone value gets 0.5 and a tie shares the middle
    of its span, so a crowd of zeros does not get the credit of the top of the range.
    """
    win = ibis.window(group_by=[*partition, x.isnull()], order_by=x)
    n = x.count().over(ibis.window(group_by=[*partition, x.isnull()])).cast(_F)
    below = ibis.rank().over(win).cast(_F)  # Ibis ranks from 0: the number of values strictly below
    at_or_below = ibis.cume_dist().over(win) * n
    return ibis.ifelse(x.notnull(), (below + at_or_below) / (2.0 * n), _nullf())


def _org_facts(f: ir.Table) -> ir.Table:
    """When revenue started, as far as the reported rows can tell."""
    return f.group_by("org_id").aggregate(
        first_revenue_year=f.year.min(where=f.revenue > 0),
        first_zero_year=f.year.min(where=f.revenue == 0),
        first_reported_year=f.year.min(where=f.revenue.notnull()),
        rd_currencies=f.rd_ccy.nunique(where=f.rd_expense.notnull()),
    )


def _funding(rounds: ir.Table, facts: ir.Table, years: ir.Table, year: int | None) -> tuple[ir.Table, ir.Table]:
    """(per organisation: funding before its first revenue; per organisation and year: raised so far, pre-revenue).

    Only rounds with a USD amount count (the importer converts them); an organisation with no such
    round has no value rather than zero.
    """
    r = rounds.filter(rounds.amount_usd.notnull(), rounds.date.notnull(), rounds.amount_usd >= 0)
    r = r.select(org_id=r.org_id, ry=r.date.year().cast("int64"), usd=r.amount_usd.cast(_F))
    if year is not None:
        r = r.filter(r.ry <= year)
    fr = facts.select(f_org=facts.org_id, fr=facts.first_revenue_year)
    r = r.left_join(fr, r.org_id == fr.f_org)
    pre = r.fr.isnull() | (r.ry < r.fr)
    per_org = r.group_by("org_id").aggregate(
        funding_rounds_usd=r.count(), funding_before_revenue=ibis.ifelse(pre, r.usd, 0.0).sum())
    early = r.filter(pre)
    j = early.join(years, early.ry <= years._y)
    to_year = j.group_by(["org_id", j._y.name("year")]).aggregate(funding_to_year=j.usd.sum())
    return per_org, to_year


def _latest_verdicts(cls: ir.Table) -> ir.Table:
    """The newest classifier verdict per organisation (by classified_at, then model_version)."""
    c = latest_verdicts(cls)
    probs = c.typology_probabilities

    def prob(name: str):
        s = probs.re_extract(rf'"{name}"\s*:\s*([-+0-9.eE]+)', 1)
        return ibis.ifelse(s.isnull() | (s == ""), _nullf(), s.cast(_F))

    return c.select(v_org=c.entity_id, top_field=c.top_field, model_version=c.model_version,
                    p_hard_core=prob("hard_core"), p_deep=prob("deep"), p_model_innovation=prob("model_innovation"))


# The first code of each family the evidence of kind reads (hardtech.analytics.kind_evidence).
_FAMILY_RE = {"sector_code": r"(?:isic|nace)", "gics_code": r"gics", "cn_code": r"cn_industry"}
_KIND_STRINGS = ("oecd_group", "sector_rule", "activity_sources", "kind_sources")


def _sector_kinds(orgs: ir.Table, w: HardnessWeights) -> tuple[dict[str, ir.Value], ir.Value, ir.Table]:
    """(first code of each family, a key, a small table key → OECD group, norm and evidence of kind).

    The concordance lookups are Python, so they run once per distinct combination of codes and
    organisation kind (a few hundred on real stores, a few dozen on the synthetic one), never per
    organisation; the result joins back on the key.
    """
    from hardtech.analytics.kind_evidence import sector_kind

    joined = orgs.industry_codes.join("|")
    codes = {}
    for name, rx in _FAMILY_RE.items():
        c = joined.re_extract(rf"(?i)(?:^|\|)\s*({rx}\s*:[^|]*)", 1)
        codes[name] = ibis.ifelse(c == "", _nulls(), c)
    kind = orgs.kind.lower()
    key = ibis.literal("\x1f").join([c.fill_null("") for c in codes.values()] + [kind.fill_null("")])
    distinct = orgs.select(**codes, org_kind=kind).distinct().to_pyarrow().to_pylist()
    k = w.kind
    cols: dict[str, list] = {"g_key": [], "reference_intensity": [], "raw_sector_rd_group": [],
                             "raw_sector_activity": [], "raw_kind_prior": [], **{c: [] for c in _KIND_STRINGS}}
    for d in distinct:
        ev = sector_kind([d["sector_code"], d["gics_code"], d["cn_code"]], d["org_kind"])
        group = ev.sector.oecd_group if ev.sector else None
        acts, priors = ev.activities(), ev.priors()
        cols["g_key"].append("\x1f".join([d["sector_code"] or "", d["gics_code"] or "", d["cn_code"] or "",
                                          d["org_kind"] or ""]))
        cols["oecd_group"].append(group)
        cols["reference_intensity"].append(w.reference_intensity[group or "unknown"])
        cols["sector_rule"].append(ev.sector.source if ev.sector else None)
        cols["raw_sector_rd_group"].append(k.oecd_group[group] if group else None)
        cols["raw_sector_activity"].append(sum(k.activity[a] for a, _ in acts) / len(acts) if acts else None)
        cols["raw_kind_prior"].append(sum(k.prior[p] for p, _ in priors) / len(priors) if priors else None)
        said = [src for _, src in acts] + [f"{c}: not in the concordances" for c in ev.unknown_codes]
        cols["activity_sources"].append("; ".join(said) or None)
        said = [src for _, src in priors] + [f"{c}: not in the concordances" for c in ev.unknown_codes]
        if ev.org_kind and not ev.org_prior:
            said.append(f"organisation kind {ev.org_kind}: says nothing of the kind of business")
        cols["kind_sources"].append("; ".join(said) or None)
    schema = pa.schema([("g_key", pa.string()), ("reference_intensity", pa.float64()),
                        *[(c, pa.float64()) for c in ("raw_sector_rd_group", "raw_sector_activity", "raw_kind_prior")],
                        *[(c, pa.string()) for c in _KIND_STRINGS]])
    return codes, key, ibis.memtable(pa.table(cols, schema=schema))


def _org_table(t: dict, w: HardnessWeights, facts: ir.Table, funding: ir.Table | None) -> ir.Table:
    """One row per organisation: everything the score needs that does not change by year."""
    orgs = t["organizations"]
    codes, key, groups = _sector_kinds(orgs, w)
    o = orgs.select(
        org_id=orgs.org_id, name=ibis.coalesce(orgs.name_en, orgs.name_zh, orgs.org_id),
        founded=orgs.founded.cast("int64"), city=orgs.city, _inst=orgs.kind.isin(["university", "institute"]),
        k_country=orgs.country.fill_null("").upper(), k_city=orgs.city.lower().strip(),
        sector_code=codes["sector_code"], _gkey=key,
    )
    o = o.left_join(groups, o._gkey == groups.g_key).drop("g_key", "_gkey")
    o = o.mutate(oecd_group=o.oecd_group.fill_null("unknown"),
                 reference_intensity=o.reference_intensity.fill_null(w.reference_intensity["unknown"]))
    inst = o.filter(o._inst, o.k_city.notnull()).group_by(["k_country", "k_city"]).aggregate(i_n=ibis._.count())
    inst = inst.rename(i_country="k_country", i_city="k_city")
    o = o.left_join(inst, (o.k_country == inst.i_country) & (o.k_city == inst.i_city))
    own = ibis.ifelse(o._inst, 1, 0)  # an institution is not its own neighbour
    o = o.mutate(institutions_in_city=ibis.ifelse(o.k_city.notnull(), o.i_n.fill_null(0) - own, ibis.null("int64")))
    o = o.drop("i_country", "i_city", "i_n", "k_country", "k_city", "_inst")
    x = facts.rename(x_org="org_id")
    o = o.left_join(x, o.org_id == x.x_org).drop("x_org")
    if funding is not None:
        x = funding.rename(x_org="org_id")
        o = o.left_join(x, o.org_id == x.x_org).drop("x_org")
    else:
        o = o.mutate(funding_rounds_usd=ibis.null("int64"), funding_before_revenue=_nullf())
    if t["classifications"] is not None:
        v = _latest_verdicts(t["classifications"])
        o = o.left_join(v, o.org_id == v.v_org).drop("v_org")
    else:
        o = o.mutate(top_field=_nulls(), model_version=_nulls(), p_hard_core=_nullf(), p_deep=_nullf(),
                     p_model_innovation=_nullf())
    return o


def _left(base: ir.Table, other: ir.Table | None, cols: dict[str, str]) -> ir.Table:
    """Left-join a per-(org_id, year) table, or add its columns as NULL when there is none."""
    if other is None:
        return base.mutate(**{c: ibis.null(typ) for c, typ in cols.items()})
    o = other.rename(x_org="org_id", x_year="year")
    j = base.left_join(o, (base.org_id == o.x_org) & (base.year == o.x_year))
    return j.drop("x_org", "x_year")


# =============================================================================== indicators and score


def _raw(t: ir.Table, w: HardnessWeights, detail: bool) -> ir.Table:
    """Raw indicator values (NULL = missing) and the row's warnings; with `detail`, inputs and reasons too."""
    n = w.rd_years
    rd, rev = t.rd_expense, t.revenue
    same_ccy = t.rd_rev_same
    intensity = ibis.ifelse((rd >= 0) & (rev > 0) & same_ccy, rd / rev, _nullf())
    absurd_int = intensity > w.max_rd_intensity
    intensity = ibis.ifelse(absurd_int, _nullf(), intensity)
    staff_ok = (t.rd_staff >= 0) & (t.employees > 0) & (t.rd_staff <= t.employees)
    cap_same = t.capex_rev_same
    cap = ibis.ifelse((t.capex >= 0) & (rev > 0) & cap_same, t.capex / rev, _nullf())
    absurd_cap = cap > w.max_capital_intensity
    cap = ibis.ifelse(absurd_cap, _nullf(), cap)
    one_ccy = t.rd_currencies.fill_null(0) <= 1
    cv = ibis.ifelse((t.rd_years_reported >= w.volatility_min_years) & (t.rd_mean > 0) & one_ccy,
                     t.rd_std / t.rd_mean, _nullf())
    span = (t.rd_last_year - t.rd_first_year).cast(_F)
    growth = ibis.ifelse((t.rd_years_positive >= w.growth_min_years) & (span > 0) & one_ccy,
                         (t.rd_last / t.rd_first) ** (1.0 / span) - 1.0, _nullf())
    ip_span = (t.ip_last_year - t.ip_first_year).cast(_F)
    ip_growth = ibis.ifelse(ip_span > 0, ((t.ip_last + 1.0).ln() - (t.ip_first + 1.0).ln()) / ip_span, _nullf())

    # R&D cycle: known only when the revenue history reaches back to before revenue began
    fr, founded = t.first_revenue_year, t.founded
    started = fr.notnull() & (fr <= t.year)
    history_known = (t.first_zero_year < fr) | (t.first_reported_year <= founded + w.founded_tolerance)
    pre_rev_seen = t.first_zero_year.notnull() & (t.first_zero_year <= t.year)
    cycle = ibis.cases(
        (founded.isnull(), _nullf()),
        (started & (fr < founded), _nullf()),
        (started & history_known, (fr - founded).cast(_F)),
        (~started & pre_rev_seen & (t.year >= founded), (t.year - founded + 1).cast(_F)),
        else_=_nullf(),
    )
    no_rounds = t.funding_rounds_usd.isnull() | (t.funding_rounds_usd == 0)
    funding = ibis.cases(  # only when the revenue history says when revenue began, or that it has not
        (no_rounds, _nullf()),
        (started & history_known, t.funding_before_revenue),
        (~started & pre_rev_seen, t.funding_to_year.fill_null(0.0)),
        else_=_nullf(),
    )

    def mean(s, c):
        return ibis.ifelse(c > 0, s / c, _nullf())

    def prob_ok(p):
        return ibis.ifelse((p >= 0) & (p <= 1), p, _nullf())

    phc, pdeep, pmi = prob_ok(t.p_hard_core), prob_ok(t.p_deep), prob_ok(t.p_model_innovation)
    depth = ibis.ifelse((t.revenue_window_paired > 0) & one_ccy, t.rd_window_paired / t.revenue_window_paired,
                        _nullf())
    raw = {
        "rd_intensity": intensity,
        "rd_depth": depth,
        "rd_staff_share": ibis.ifelse(staff_ok, t.rd_staff / t.employees, _nullf()),
        "capital_intensity": cap,
        "rd_persistence": ibis.ifelse(t.rd_years_reported >= w.persistence_min_years,
                                      t.rd_years_positive.cast(_F) / t.rd_years_reported.cast(_F), _nullf()),
        "rd_cumulative": ibis.ifelse((t.rd_years_reported > 0) & one_ccy, t.rd_sum, _nullf()),
        "rd_growth": growth,
        "rd_volatility": cv,
        "rd_cycle": cycle,
        "pre_revenue_funding": funding,
        "invention_patents": ibis.ifelse(t.invention_patents >= 0, t.invention_patents, _nullf()),
        "invention_patent_growth": ip_growth,
        "patent_filings": t.patent_filings_mean,
        "patent_family": mean(t.p_family_s, t.p_family_c),
        "patent_citations": mean(t.p_cites_s, t.p_cites_c),
        "patent_scope": mean(t.p_scope_s, t.p_scope_c),
        "science_linkage": mean(t.p_npl_s, t.p_npl_c),
        "institutions_nearby": t.institutions_in_city.cast(_F),
        "sector_rd_group": t.raw_sector_rd_group,
        "sector_activity": t.raw_sector_activity,
        "kind_prior": t.raw_kind_prior,
        "hardness_of_kind": ibis.ifelse(phc.notnull() & pdeep.notnull(), (phc + pdeep).clip(upper=1.0), _nullf()),
        "physical_product": ibis.ifelse(pmi.notnull(), 1.0 - pmi, _nullf()),
    }
    bad_p = [(p < 0) | (p > 1) for p in (t.p_hard_core, t.p_deep, t.p_model_innovation)]
    warn = [
        ibis.ifelse(rd < 0, "negative R&D expense ignored", _nulls()),
        ibis.ifelse(rev < 0, "negative revenue ignored", _nulls()),
        ibis.ifelse(t.capex < 0, "negative capex ignored", _nulls()),
        ibis.ifelse((t.rd_staff < 0) | (t.employees < 0) | (t.invention_patents < 0),
                    "negative head or patent count ignored", _nulls()),
        ibis.ifelse(t.rd_staff > t.employees, "R&D staff exceed employees: staff share ignored", _nulls()),
        ibis.ifelse(absurd_int, f"R&D above {w.max_rd_intensity:g} x revenue: intensity ignored", _nulls()),
        ibis.ifelse(absurd_cap, f"capex above {w.max_capital_intensity:g} x revenue: ignored", _nulls()),
        ibis.ifelse(rd.notnull() & rev.notnull() & ~same_ccy, "R&D and revenue in different currencies", _nulls()),
        ibis.ifelse(~one_ccy, "R&D reported in several currencies over the years", _nulls()),
        ibis.ifelse(fr < founded, "first revenue before the founding year", _nulls()),
        ibis.ifelse(bad_p[0] | bad_p[1] | bad_p[2], "typology probability outside 0..1 ignored", _nulls()),
    ]
    joined = ibis.literal("; ").join(warn)
    cols: dict[str, Any] = {f"raw_{i}": raw[i].cast(_F) for i in INDICATORS}
    cols.update(intensity_standing=intensity / t.reference_intensity,
                warnings=ibis.ifelse(joined == "", _nulls(), joined),
                field=t.top_field.fill_null(UNCLASSIFIED))
    if not detail:
        return t.select("org_id", "name", "year", "currency", **cols)
    no_pat = t.patents_counted == 0
    no_patents = "no patents of this organisation in the store up to this year"  # the store's, not the world's
    unclassified = t.model_version.isnull()
    no_typology = ibis.ifelse(t.p_hard_core.isnull() & t.p_deep.isnull() & t.p_model_innovation.isnull(),
                              "classified, but too little text for a typology (no description)",
                              "typology probabilities missing or out of range")
    several = "R&D reported in several currencies over the years"
    why = {
        "rd_intensity": ibis.cases(
            (rd.isnull(), "no R&D expense in the store"), (rd < 0, "negative R&D expense"),
            (rev.isnull(), "no revenue figure in the store"), (rev == 0, "revenue is 0: intensity undefined"),
            (rev < 0, "negative revenue"), (~same_ccy, "R&D and revenue in different currencies"),
            else_=f"R&D above {w.max_rd_intensity:g} x revenue: taken for a unit error"),
        "rd_staff_share": ibis.cases(
            (t.rd_staff.isnull(), "no R&D staff figure in the store"), (t.employees.isnull(), "no employee count in the store"),
            (t.employees == 0, "employees is 0: share undefined"),
            (t.rd_staff > t.employees, "R&D staff exceed employees"), else_="negative head count"),
        "capital_intensity": ibis.cases(
            (t.capex.isnull(), "no capex figure in the store"), (t.capex < 0, "negative capex"),
            (rev.isnull(), "no revenue figure in the store"), (rev == 0, "revenue is 0: capital intensity undefined"),
            (rev < 0, "negative revenue"), (~cap_same, "capex and revenue in different currencies"),
            else_=f"capex above {w.max_capital_intensity:g} x revenue: taken for a unit error"),
        "rd_depth": ibis.ifelse(~one_ccy, several, f"no year in the {n}-year window with R&D and a positive revenue "
                                                   "in one currency"),
        "rd_persistence": f"fewer than {w.persistence_min_years} years with an R&D figure in the {n}-year window",
        "rd_cumulative": ibis.ifelse(~one_ccy, several, f"no R&D figure in the {n}-year window"),
        "rd_growth": ibis.ifelse(~one_ccy, several,
                                 f"fewer than {w.growth_min_years} years with R&D > 0 in the {n}-year window"),
        "rd_volatility": ibis.ifelse(~one_ccy, several, f"fewer than {w.volatility_min_years} years with an R&D "
                                                        f"figure in the {n}-year window, or mean R&D 0"),
        "rd_cycle": ibis.cases(
            (founded.isnull(), "founding year unknown"),
            (started & (fr < founded), "first revenue before the founding year"),
            (started, "revenue history starts after founding: first revenue year unknown"),
            else_="no positive revenue in the store up to this year, and no zero-revenue year on record to date "
                  "the start"),
        "pre_revenue_funding": ibis.cases(
            (no_rounds, "no funding round with a USD amount in the store"), (started, "first revenue year unknown"),
            else_="no revenue figures in the store: cannot tell whether still pre-revenue"),
        "invention_patents": ibis.ifelse(t.invention_patents.isnull(), "no invention patent count in the store",
                                         "negative invention patent count"),
        "invention_patent_growth": f"fewer than 2 years with an invention patent count in the {n}-year window",
        "patent_filings": f"no patent filing count (financials.patent_filings_*) in the {n}-year window",
        "patent_family": ibis.ifelse(no_pat, no_patents, "no family sizes (or cohort mean 0)"),
        "patent_citations": ibis.ifelse(no_pat, no_patents,
                                        "no citation counts (or cohort mean 0)"),
        "patent_scope": ibis.ifelse(no_pat, no_patents, "no CPC/IPC codes"),
        "science_linkage": ibis.ifelse(no_pat, no_patents, "no NPL counts (or cohort mean 0)"),
        "institutions_nearby": "city unknown",
        "sector_rd_group": ibis.ifelse(t.sector_code.isnull(), "no ISIC/NACE industry code",
                                       "the ISIC/NACE code has no OECD R&D-intensity group in the concordance"),
        "sector_activity": "no ISIC/NACE, GICS or A-share industry code that says manufacturing or services",
        "kind_prior": ("no industry code with a typology prior, and the organisation kind says nothing of the "
                       "kind of business"),
        "hardness_of_kind": ibis.ifelse(unclassified, "not classified", no_typology),
        "physical_product": ibis.ifelse(unclassified, "not classified", no_typology),
    }
    for i in INDICATORS:
        reason = why[i] if isinstance(why[i], ir.Value) else ibis.literal(why[i])
        cols[f"missing_{i}"] = ibis.ifelse(raw[i].isnull(), reason, _nulls())
    cols.update(
        window_start=t.year - (n - 1), cycle_censored=ibis.ifelse(cycle.notnull(), ~started, ibis.null("boolean")),
        family_size_mean=mean(t.p_family_r, t.p_family_rc), forward_citations_mean=mean(t.p_cites_r, t.p_cites_rc),
        scope_mean=mean(t.p_scope_r, t.p_scope_rc), npl_citations_mean=mean(t.p_npl_r, t.p_npl_rc),
    )
    return t.mutate(**cols)


def _phase1(t: dict, year: int | None, w: HardnessWeights, detail: bool) -> ir.Table:
    """Every raw indicator per organisation-year, as one Ibis expression over whole tables."""
    f = _financial_rows(t["financials"], year)
    if year is not None:
        scored = [year]
    else:
        fin = t["financials"]
        scored = fin.select(y=fin.fiscal_year.cast("int64")).distinct().to_pyarrow().column(0).to_pylist()
    years = _years_table(scored)
    facts = _org_facts(f)
    r = _rolling(f, w, year)
    duck = getattr(t["financials"]._find_backend(use_default=True), "name", "") == "duckdb"
    pat_types = {"p_n": "int64", **{f"p_{m}_{x}": _F for m in PAT_METRICS for x in ("s", "c", "r", "rc")}}
    pats = None
    if t["patents"] is not None:
        pats = _patent_cumulative(t["patents"], years, year, w, duck, detail)
        pats = pats.mutate(**{c: ibis.null(typ) for c, typ in pat_types.items() if c not in pats.columns})
    r = _left(r, pats, pat_types)
    per_org = to_year = None
    if t["funding_rounds"] is not None:
        per_org, to_year = _funding(t["funding_rounds"], facts, years, year)
    r = _left(r, to_year, {"funding_to_year": _F})
    r = r.mutate(patents_counted=r.p_n.fill_null(0))
    o = _org_table(t, w, facts, per_org).rename(x_org="org_id")
    j = r.join(o, r.org_id == o.x_org).drop("x_org")
    return _raw(j, w, detail)


