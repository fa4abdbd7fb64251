"""R&D investment rankings in the manner of the EU Industrial R&D Investment Scoreboard and the ACFIC lists.

A ranking is only comparable with a published one when it follows the same conventions: which
exchange rate, which source row when two disagree, what a tie or a missing year does. Those
conventions live in `hardtech/data/rules/ranking.toml` and are explained in `docs/rankings.md`;
this module applies them. Figures are picked, converted and ranked as Ibis expressions (rates
enter as a small in-memory table), so the same ranking runs on DuckDB here and on Spark elsewhere.
"""

from __future__ import annotations

import functools
import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Mapping

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from hardtech.analytics.engine import Kept, kept
from hardtech.analytics.figures import pick
from hardtech.analytics.fxrates import check_currency, distinct_pairs, join_rates, lookup
from hardtech.analytics.region_places import names_of_place, same_place
from hardtech.errors import FXError, NotFound, NothingToShow, SourceError, UsageError

COLUMNS = (
    "rank", "org_id", "name", "value", "rd", "net_sales", "intensity", "growth_1y", "field", "country",
    "city", "currency", "fx_rate", "fx_date", "rd_source", "sales_source", "synthetic",
    # audit columns: what the converted figures started from, and what the key was built on
    "original_currency", "rd_original", "coverage", "prior_revenue",
)
BY_FORMS = "rd, intensity, growth, cumulative:N (N = number of years, e.g. cumulative:10)"
SCOPE_FORMS = "world, private, country:CC (ISO code or name, e.g. country:CN), field:ID (e.g. field:ai), city:NAME (e.g. city:Xi'an)"


# ------------------------------------------------------------------------------- conventions


@dataclass(frozen=True)
class Rules:
    """The conventions of ranking.toml, checked once when loaded."""

    version: str
    defaults: dict[str, str]
    within_days: int
    conventions: dict[str, dict[str, str]]  # name -> {rate_year: ranking|own, description, source}
    intensity_min_sales: float
    growth_min_previous: float
    acfic: dict[str, Any]
    path: str


def _rules_path() -> Path:
    return Path(str(resources.files("hardtech.data") / "rules" / "ranking.toml"))


@functools.lru_cache(maxsize=4)
def load_rules(path: str | None = None) -> Rules:
    """The ranking conventions (default: the packaged ranking.toml); a malformed file is a SourceError."""
    p = Path(path) if path else _rules_path()
    try:
        doc = tomllib.loads(p.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SourceError(f"cannot read ranking rules {p}: {exc}") from None
    try:
        conventions = {k: dict(v) for k, v in doc["fx_conventions"].items()}
        for name, c in conventions.items():
            if c.get("rate_year") not in ("ranking", "own"):
                raise ValueError(f"fx_conventions.{name}.rate_year must be 'ranking' or 'own'")
        defaults = dict(doc["defaults"])
        if defaults["fx_convention"] not in conventions:
            raise ValueError(f"defaults.fx_convention {defaults['fx_convention']!r} is not a convention")
        acfic = dict(doc["acfic"])
        for key in ("ownership", "revenue_floor", "floor_currency", "revenue_year_offset", "currency", "inclusive"):
            acfic[key]  # noqa: B018 - presence check
        figures = doc["figures"]
        return Rules(
            version=str(doc["version"]),
            defaults=defaults,
            within_days=int(doc["fx"]["year_end_within_days"]),
            conventions=conventions,
            intensity_min_sales=float(figures["intensity_min_sales"]),
            growth_min_previous=float(figures["growth_min_previous"]),
            acfic=acfic,
            path=str(p),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise SourceError(f"ranking rules {p} are malformed: {exc}") from None


def _default(key: str):
    return lambda: load_rules().defaults[key]


@dataclass
class RankingSpec:
    """What to rank; defaults come from ranking.toml so they cannot drift from the documentation."""

    year: int
    by: str = field(default_factory=_default("by"))
    scope: str = field(default_factory=_default("scope"))
    top: int | None = None
    currency: str = field(default_factory=_default("currency"))
    fx_convention: str = field(default_factory=_default("fx_convention"))
    acfic: bool = False


# ------------------------------------------------------------------------------- parsing


def parse_by(text: str) -> tuple[str, int | None]:
    """`rd` → ("rd", None); `cumulative:10` → ("cumulative", 10)."""
    t = (text or "").strip().lower()
    if t in ("rd", "intensity", "growth"):
        return t, None
    m = re.fullmatch(r"cumulative:(\d+)", t)
    if m and int(m.group(1)) >= 1:
        return "cumulative", int(m.group(1))
    raise UsageError(f"cannot rank by {text!r}; use one of: {BY_FORMS}")


@functools.lru_cache(maxsize=1)
def _country_names() -> dict[str, str]:
    import csv

    path = resources.files("hardtech.data") / "reference" / "countries.csv"
    out: dict[str, str] = {}
    with open(str(path), encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            for name in [r["iso2"], r["name_en"], r["name_zh"], *r["aliases"].split("|")]:
                if name.strip():
                    out.setdefault(name.strip().lower(), r["iso2"])
    return out


def parse_scope(text: str) -> tuple[str, str | None]:
    """`country:China` → ("country", "CN"); `world` → ("world", None); anything else is a UsageError."""
    raw = (text or "").strip()
    kind, sep, value = raw.partition(":")
    kind, value = kind.strip().lower(), value.strip()
    if not sep and kind in ("world", "private"):
        return kind, None
    if sep and value and kind in ("country", "field", "city"):
        if kind == "country":
            code = value.upper() if len(value) == 2 and value.isalpha() else _country_names().get(value.lower())
            if not code:
                raise UsageError(f"unknown country {value!r} in scope {text!r}; use an ISO 3166-1 code such as CN or US")
            return kind, code
        return kind, (value.lower() if kind == "field" else value)
    raise UsageError(f"unknown scope {text!r}; use one of: {SCOPE_FORMS}")


def _years_text(years) -> str:
    """2015, 2016, 2017, 2019 → '2015–2017, 2019': short enough for an error message."""
    ys = sorted(set(int(y) for y in years))
    if not ys:
        return "none"
    runs, start = [], ys[0]
    for a, b in zip(ys, ys[1:] + [None]):
        if b != a + 1:
            runs.append(str(start) if start == a else f"{start}–{a}")
            start = b
    return ", ".join(runs)


# ------------------------------------------------------------------------------- tables


def _tables(src) -> tuple[ir.Table, ir.Table, ir.Table | None]:
    """(financials, organizations, regions or None) from a Store or a mapping of Ibis tables."""
    if hasattr(src, "table") and not isinstance(src, Mapping):
        return src.table("financials"), src.table("organizations"), src.table("regions")
    if isinstance(src, Mapping):
        try:
            return src["financials"], src["organizations"], src.get("regions")
        except KeyError as exc:
            raise UsageError(f"rankings need the {exc.args[0]} table") from None
    raise UsageError("rank() takes a Store or a mapping with 'financials' and 'organizations' tables")


def _run(expr) -> pa.Table:
    return expr.to_pyarrow()


def _pick(fin: ir.Table, column: str, years: list[int], org_ids: ir.Table | None = None,
          unique: bool | None = None) -> ir.Table:
    """One figure per organisation-year, by the one rule of `analytics.figures` (newest import, then source name)."""
    f = pick(fin, [column], years=years, orgs=org_ids, money=[column], sources=True, unique=unique)
    return f.select(
        org_id=f.org_id,
        fiscal_year=f.fiscal_year,
        amount=f[column].cast("float64"),
        ccy=f[f"{column}_ccy"],
        source=f[f"{column}_source"],
        syn=f[f"{column}_synthetic"].fill_null(False),
    )


def _rates(fx, picks: list[ir.Table], target: str, convention: str, year: int, rules: Rules) -> ir.Table:
    """A small rates table (r_ccy, r_key = fiscal year → fx_rate into `target`) for every pair the picks hold.

    Rates are data: looked up once per pair in the FX table (`analytics.fxrates`) and joined, never hard-coded.
    """
    pairs = sorted({p for t in picks for p in distinct_pairs(t, "ccy", "fiscal_year")})
    own = rules.conventions[convention]["rate_year"] == "own"

    def rate_of(ccy: str, fy: int):
        return fx.year_end(ccy, target, fy if own else year, within_days=rules.within_days)

    rates = lookup(pairs, rate_of, pa.int64())
    for ccy, fy, err in zip(*(rates.column(c).to_pylist() for c in ("r_ccy", "r_key", "fx_error"))):
        if err:
            raise FXError(f"cannot convert {ccy} figures of {fy} to {target} at the 31 December {fy if own else year} "
                          f"rate ({convention} convention): {err}")
    return ibis.memtable(rates)


def _convert(picks: ir.Table, rates: ir.Table) -> ir.Table:
    j = join_rates(picks, "ccy", "fiscal_year", rates)
    return j.filter(j.fx_rate.notnull()).mutate(conv=j.amount * j.fx_rate)


def _left(base: ir.Table, other: ir.Table, prefix: str) -> ir.Table:
    """Left-join `other` on org_id, its columns prefixed, without a second org_id column."""
    o = other.rename({f"{prefix}{c}": c for c in other.columns})
    j = base.left_join(o, base.org_id == o[f"{prefix}org_id"])
    return j.drop(f"{prefix}org_id")


def _check_target_currency(code: str) -> str:
    return check_currency(code)


def _rd_years(fin: ir.Table) -> list[int]:
    t = _run(fin.filter(fin.rd_expense.notnull()).select("fiscal_year").distinct())
    return sorted(int(y) for y in t.column("fiscal_year").to_pylist())


def available_years(store_or_tables) -> list[int]:
    """Fiscal years with at least one R&D figure: the years a ranking can be asked for."""
    return _rd_years(_tables(store_or_tables)[0])


# ------------------------------------------------------------------------------- scope


def _fields_table(fields) -> ir.Table | None:
    if fields is None:
        return None
    t = fields if isinstance(fields, ir.Table) else ibis.memtable(fields)
    missing = {"org_id", "field"} - set(t.columns)
    if missing:
        raise UsageError(f"the fields table needs columns org_id and field (missing: {', '.join(sorted(missing))})")
    return t.select("org_id", "field").distinct()


def _scoped(orgs: ir.Table, regions, fields: ir.Table | None, kind: str, value: str | None) -> ir.Table:
    if kind == "world":
        return orgs
    if kind == "private":
        sel = orgs.filter(orgs.ownership == "private")
        hint, known = "no organisation has ownership = private; import an ownership column to rank private companies", ""
    elif kind == "country":
        sel = orgs.filter(orgs.country.upper() == value)
        top = _run(orgs.filter(orgs.country.notnull()).country.value_counts().order_by(ibis.desc("country_count"))
                   .limit(12)).column("country").to_pylist()
        known = ', '.join(top) or 'none'
        hint = f"no organisation in country {value}; countries in the store include {known}"
    elif kind == "city":
        sel = orgs.filter(same_place(orgs, "city", names_of_place(value, regions, level="city")))
        top = _run(orgs.filter(orgs.city.notnull()).city.value_counts().order_by(ibis.desc("city_count"))
                   .limit(12)).column("city").to_pylist()
        known = ', '.join(top) or 'none'
        hint = f"no organisation in city {value!r}; cities in the store include {known}"
    elif kind == "field":
        from hardtech.analytics.taxonomy import load_taxonomy

        ids = list(load_taxonomy().fields)
        if value not in ids:
            raise UsageError(f"unknown field {value!r}; fields: {', '.join(ids)}")
        if fields is None:
            raise NothingToShow(f"scope field:{value} needs classification results: pass a fields table "
                                "(org_id, field), e.g. from `hardtech classify`", key="empty.scope_unclassified",
                                value=value)
        sel = orgs.semi_join(fields.filter(fields.field == value), "org_id")
        hint, known = f"no organisation is classified in field {value}", ""
    else:  # parse_scope admits nothing else
        raise UsageError(f"unknown scope kind {kind!r}; use one of: {SCOPE_FORMS}")
    if int(sel.count().execute()) == 0:
        raise NothingToShow(hint, key=f"empty.scope_{kind}", value=value, known=known)
    return sel


# ------------------------------------------------------------------------------- ranking


def rank_expr(store_or_tables, spec: RankingSpec, fx=None, fields=None, cache: Kept | None = None) -> ir.Table:
    """The ranking as an Ibis expression (columns `COLUMNS`, ordered by rank then org_id).

    Checks the request first (year, scope, currency, rates) with small queries, so a bad request
    fails with a message instead of returning an empty table. With `cache` (from `engine.kept()`), the
    per-year picks become temporary tables that live until the caller's `with` block ends.
    """
    rules = load_rules()
    fin, orgs, regions = _tables(store_or_tables)
    by, n_years = parse_by(spec.by)
    kind, value = parse_scope(spec.scope)
    if spec.fx_convention not in rules.conventions:
        raise UsageError(f"unknown FX convention {spec.fx_convention!r}; use one of: {', '.join(rules.conventions)}")
    if spec.top is not None and (not isinstance(spec.top, int) or spec.top < 1):
        raise UsageError(f"top must be a positive whole number, not {spec.top!r}")
    try:
        year = int(spec.year)
    except (TypeError, ValueError):
        raise UsageError(f"the ranking year must be a year such as 2018, not {spec.year!r}") from None
    currency = _check_target_currency(spec.currency)
    acfic = rules.acfic if spec.acfic else None
    if acfic:
        if by != acfic.get("by", "rd"):
            raise UsageError(f"ACFIC lists are ranked by {acfic.get('by', 'rd')}, not {spec.by!r}")
        currency = _check_target_currency(acfic["currency"])
    years = _rd_years(fin)
    if year not in years:
        raise NothingToShow(f"no R&D figures for {year} in the store; years with R&D figures: {_years_text(years)}",
                            key="empty.rank_year" if years else "empty.no_rd", year=year, years=_years_text(years))
    if fx is None:
        from hardtech.sources.fx import load_fx

        fx = load_fx()

    flds = _fields_table(fields)
    scoped = _scoped(orgs, regions, flds, kind, value)
    if acfic:
        scoped = scoped.filter(scoped.ownership == acfic["ownership"])
        if int(scoped.count().execute()) == 0:
            raise UsageError(f"an ACFIC list needs organisations with ownership = {acfic['ownership']} "
                             f"(none in scope {spec.scope}); import an ownership column")
    ids = scoped.select("org_id")
    window = list(range(year - n_years + 1, year + 1)) if by == "cumulative" else [year]
    # each pick is read twice (its currencies for the rates, then the ranking): materialised once when the caller
    # holds the temporary tables (`rank` does, and releases them); a bare expression otherwise
    keep = cache or (lambda expr: expr)
    unique = False  # the window always (one source or several): the same plan on every store, as Spark sees it
    rd_picks = keep(_pick(fin, "rd_expense", sorted(set(window) | {year - 1}), ids, unique))
    sales_picks = keep(_pick(fin, "revenue", [year], ids, unique))
    rates = _rates(fx, [rd_picks, sales_picks], currency, spec.fx_convention, year, rules)
    rd_all = _convert(rd_picks, rates)
    sales = _convert(sales_picks, rates)

    cur = rd_all.filter(rd_all.fiscal_year == year)
    t = cur.select(
        org_id=cur.org_id, rd=cur.conv, rd_original=cur.amount, original_currency=cur.ccy,
        fx_rate=cur.fx_rate, fx_date=cur.fx_date, rd_source=cur.source, syn_rd=cur.syn,
    )
    t = _left(t, sales.select("org_id", net_sales=sales.conv, sales_source=sales.source, syn=sales.syn), "s_")
    prev = rd_all.filter(rd_all.fiscal_year == year - 1)
    t = _left(t, prev.select("org_id", rd=prev.conv), "p_")
    if by == "cumulative":
        win = rd_all.filter(rd_all.fiscal_year.isin(window))
        cum = win.group_by("org_id").aggregate(total=win.conv.sum(), n=win.fiscal_year.nunique())
        t = _left(t, cum, "c_")
    if acfic:
        prior = _pick(fin, "revenue", [year + int(acfic["revenue_year_offset"])], ids, unique)
        floor_ccy = _check_target_currency(acfic["floor_currency"])
        prior = _convert(prior, _rates(fx, [prior], floor_ccy, spec.fx_convention, year, rules))
        t = _left(t, prior.select("org_id", rev=prior.conv), "a_")
        floor = float(acfic["revenue_floor"])
        t = t.filter(t.a_rev >= floor if acfic["inclusive"] else t.a_rev > floor)

    o = scoped.select("org_id", o_name=ibis.coalesce(scoped.name_en, scoped.name_zh), o_country=scoped.country,
                      o_city=scoped.city, o_syn=scoped.synthetic.fill_null(False))
    t = t.join(o, "org_id")
    if flds is not None:
        if kind == "field":
            fagg = flds.filter(flds.field == value).select("org_id", field=flds.field)
        else:
            # sorted array, then joined: an ordered group_concat does not compile on Spark
            fagg = flds.group_by("org_id").aggregate(field=flds.field.collect().sort().join("|"))
        t = _left(t, fagg, "f_")
        field_col = t.f_field
    else:
        field_col = ibis.null().cast("string")

    null_f = ibis.null().cast("float64")
    intensity = ibis.ifelse(t.s_net_sales > rules.intensity_min_sales, t.rd / t.s_net_sales, null_f)
    growth = ibis.ifelse(t.p_rd > rules.growth_min_previous, 100.0 * (t.rd / t.p_rd - 1.0), null_f)
    if by == "cumulative":
        key = ibis.ifelse(t.c_n == n_years, t.c_total, null_f)
        coverage = t.c_n.cast("int64")
    else:
        key = {"rd": t.rd, "intensity": intensity, "growth": growth}[by]
        coverage = ibis.null().cast("int64")
    out = t.select(
        org_id=t.org_id, name=t.o_name, value=key, rd=t.rd, net_sales=t.s_net_sales, intensity=intensity,
        growth_1y=growth, field=field_col, country=t.o_country, city=t.o_city,
        currency=ibis.literal(currency), fx_rate=t.fx_rate, fx_date=t.fx_date, rd_source=t.rd_source,
        sales_source=t.s_sales_source,
        synthetic=t.syn_rd | t.s_syn.fill_null(False) | t.o_syn,
        original_currency=t.original_currency, rd_original=t.rd_original, coverage=coverage,
        prior_revenue=t.a_rev if acfic else null_f,
    )
    out = out.filter(out.value.notnull())  # a missing key gets no rank, the same rule every time
    out = out.mutate(rank=(ibis.rank().over(order_by=ibis.desc(out.value)) + 1).cast("int64"))
    if spec.top is not None:
        out = out.filter(out.rank <= spec.top)  # a tie at the cut-off stays whole
    return out.select(*COLUMNS).order_by(["rank", "org_id"])


def rank(store_or_tables, spec: RankingSpec, fx=None, fields=None) -> pa.Table:
    """Rank organisations by `spec` (see docs/rankings.md); returns the rows as an Arrow table."""
    with kept() as keep:
        return _run(rank_expr(store_or_tables, spec, fx=fx, fields=fields, cache=keep))


# ------------------------------------------------------------------------------- one company


def decade(store_or_tables, org_id: str, start: int, end: int, currency: str | None = None, *,
           fx=None, fx_convention: str | None = None, require_complete: bool = True) -> dict:
    """Cumulative R&D of one organisation over `start`..`end` (e.g. "RMB 977.3 bn over ten years").

    Without `currency` the figures stay in the organisation's own reporting currency (an error
    if its years mix currencies); with one, years convert by `fx_convention` (default from
    ranking.toml: every year at the 31 December rate of `end`). A missing year is an error
    naming it unless `require_complete=False`, which sums the years present and says which lack.
    """
    rules = load_rules()
    fin, orgs, _ = _tables(store_or_tables)
    start, end = int(start), int(end)
    if start > end:
        raise UsageError(f"the window starts after it ends ({start} > {end})")
    convention = fx_convention or rules.defaults["fx_convention"]
    if convention not in rules.conventions:
        raise UsageError(f"unknown FX convention {convention!r}; use one of: {', '.join(rules.conventions)}")
    org = _run(orgs.filter(orgs.org_id == org_id).select("org_id", "name_en", "name_zh")).to_pylist()
    if not org:
        raise NotFound(f"no organisation {org_id!r} in the store")
    name = org[0]["name_en"] or org[0]["name_zh"] or org_id
    who = f"{org_id} ({name})" if name != org_id else org_id
    one = orgs.filter(orgs.org_id == org_id).select("org_id")
    window = list(range(start, end + 1))
    rows = _run(_pick(fin, "rd_expense", window, one, unique=False).order_by("fiscal_year")).to_pylist()
    have = [int(r["fiscal_year"]) for r in rows]
    missing = [y for y in window if y not in have]
    if not rows or (missing and require_complete):
        mine = fin.filter(fin.org_id == org_id, fin.rd_expense.notnull())
        all_years = _run(mine.select("fiscal_year").distinct()).column("fiscal_year").to_pylist()
        extra = "" if not rows else "; pass require_complete=False to sum the years present"
        raise NothingToShow(f"{who} has no R&D figure for {_years_text(missing)} in {start}–{end} "
                            f"(years it has: {_years_text(all_years)}){extra}", key="empty.decade", who=who,
                            missing=_years_text(missing), start=start, end=end, years=_years_text(all_years))
    ccys = sorted({r["ccy"] for r in rows})
    if currency is None:
        if len(ccys) > 1:
            raise UsageError(f"{who} reports R&D in {', '.join(ccys)} over {start}–{end}; "
                             "give a currency to add them up")
        target = ccys[0]
    else:
        target = _check_target_currency(currency)
    if fx is None and any(c != target for c in ccys):
        from hardtech.sources.fx import load_fx

        fx = load_fx()
    own = rules.conventions[convention]["rate_year"] == "own"
    foreign = sorted({(r["ccy"], int(r["fiscal_year"])) for r in rows if r["ccy"] != target})
    rates = {(c, k): (rt, d, e) for c, k, rt, d, e in zip(*(lookup(
        foreign, lambda ccy, fy: fx.year_end(ccy, target, fy if own else end, within_days=rules.within_days),
        pa.int64()).column(c).to_pylist() for c in ("r_ccy", "r_key", "fx_rate", "fx_date", "fx_error")))}
    per_year = []
    for r in rows:
        fy = int(r["fiscal_year"])
        if r["ccy"] == target:
            rate, rate_date = 1.0, None
        else:
            rate, rate_date, err = rates[(r["ccy"], fy)]
            if err:
                raise FXError(f"cannot convert {who}'s {r['ccy']} R&D of {fy} to {target} "
                              f"({convention} convention): {err}")
        per_year.append({"year": fy, "rd": r["amount"] * rate, "original": r["amount"],
                         "original_currency": r["ccy"], "fx_rate": rate, "fx_date": rate_date,
                         "source": r["source"], "synthetic": bool(r["syn"])})
    total = sum(p["rd"] for p in per_year)
    return {
        "org_id": org_id, "name": name, "start": start, "end": end, "currency": target,
        "fx_convention": convention if any(c != target for c in ccys) else None,
        "total": total, "years": per_year, "covered": len(per_year), "window": len(window),
        "coverage": f"{len(per_year)}/{len(window)}", "missing": missing,
        "sources": sorted({p["source"] for p in per_year}),
        "synthetic": any(p["synthetic"] for p in per_year),
    }
