"""The hardness score: how "hard" (硬) an organisation's technology is, per year, and why.

Why a composite of many small indicators: the seeds define hard & core technology by several
traits at once (long-term investment, a long R&D cycle, a high entry threshold, hard to imitate,
resting on basic science, acting on the physical world), and no single figure carries them all.
Each indicator is kept separate, mapped to 0..1 by a transform named in
`hardtech/data/rules/hardness_weights.toml`, and weighted there, so a user can disagree with one
choice without rewriting the rest (docs/hardness.md explains every choice).

Why missing data is never zero: most organisations lack some inputs (no patents table, no
funding data, no employees). Reading a gap as zero would punish the unreported; instead the score
re-normalises over the indicators present and `confidence` says how much of the weight that was.
Every score splits into parts that add up to it, so it can be checked against its inputs.

Why set-based: the score must run over a million organisations × ten years in seconds, so every
indicator is an Ibis expression over whole tables (one sort per organisation for all windows,
one per year for percentiles); Python only loads the weights and shapes one explanation.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Mapping

import ibis
import ibis.expr.types as ir
import pandas as pd
import pyarrow as pa

from hardtech.errors import NotFound, ParseError, SourceError, UsageError

INDICATORS: tuple[str, ...] = (
    "rd_intensity", "rd_staff_share", "capital_intensity",
    "rd_persistence", "rd_cumulative", "rd_growth", "rd_volatility",
    "rd_cycle", "pre_revenue_funding",
    "invention_patents", "invention_patent_growth", "patent_family", "patent_citations", "patent_scope",
    "science_linkage", "institutions_nearby",
    "hardness_of_kind", "physical_product",
)
TRANSFORMS = ("linear", "saturating", "percentile")
OECD_GROUPS = ("high", "medium_high", "medium", "medium_low", "low", "unknown")
PERCENTILE_COHORTS = ("currency",)
PATENT_COHORT = {"section": 1, "class": 3, "subclass": 4}
PATENT_NORMALISE = ("mean_ratio", "percentile")
UNCLASSIFIED = "unclassified"

# The columns of `indicators()` that explain each indicator (its inputs and coverage).
INPUTS: dict[str, tuple[str, ...]] = {
    "rd_intensity": ("rd_expense", "revenue", "currency", "sector_code", "oecd_group", "reference_intensity",
                     "intensity_standing"),
    "rd_staff_share": ("rd_staff", "employees"),
    "capital_intensity": ("capex_window", "revenue_window", "capex_years", "window_start"),
    "rd_persistence": ("rd_years_positive", "rd_years_reported", "window_start"),
    "rd_cumulative": ("rd_years_reported", "window_start", "currency"),
    "rd_growth": ("rd_years_positive", "window_start"),
    "rd_volatility": ("rd_years_reported", "rd_mean", "rd_std", "window_start"),
    "rd_cycle": ("founded", "first_revenue_year", "first_reported_year", "cycle_censored"),
    "pre_revenue_funding": ("first_revenue_year", "funding_rounds_usd"),
    "invention_patents": ("invention_patents",),
    "invention_patent_growth": ("invention_patents", "invention_patent_years", "window_start"),
    "patent_family": ("patents_counted", "family_size_mean"),
    "patent_citations": ("patents_counted", "forward_citations_mean"),
    "patent_scope": ("patents_counted", "scope_mean"),
    "science_linkage": ("patents_counted", "npl_citations_mean"),
    "institutions_nearby": ("city", "institutions_in_city"),
    "hardness_of_kind": ("p_hard_core", "p_deep", "model_version"),
    "physical_product": ("p_model_innovation", "model_version"),
}
SCORE_COLUMNS = ("org_id", "name", "year", "score", "confidence", "percentile_in_field_year", "field",
                 "weights_version", "warnings")
SCORES_DDL = (
    "CREATE TABLE IF NOT EXISTS scores (org_id VARCHAR, year INTEGER, score DOUBLE, confidence DOUBLE, "
    "percentile_in_field_year DOUBLE, field VARCHAR, weights_version VARCHAR, parts VARCHAR, scored_at TIMESTAMP)"
)


# =============================================================================== the weights file


@dataclass(frozen=True)
class IndicatorSpec:
    id: str
    label: str
    criterion: str
    weight: float
    transform: str
    lo: float | None = None
    hi: float | None = None
    half: float | None = None
    higher_is_harder: bool = True
    cohort: tuple[str, ...] = ()


@dataclass(frozen=True)
class HardnessWeights:
    """hardness_weights.toml, checked once when loaded."""

    version: str
    indicators: dict[str, IndicatorSpec]
    rd_years: int
    persistence_min_years: int
    volatility_min_years: int
    growth_min_years: int
    founded_tolerance: int
    reference_intensity: dict[str, float]
    patent_cohort: str
    patent_normalise: str
    max_rd_intensity: float
    max_capital_intensity: float
    path: str

    def weight(self, indicator: str) -> float:
        return self.indicators[indicator].weight


def _weights_path() -> Path:
    return Path(str(resources.files("hardtech.data") / "rules" / "hardness_weights.toml"))


def load_weights(path: str | Path | None = None) -> HardnessWeights:
    """The packaged weights, or a user's file that replaces them whole; a bad file is a SourceError naming it."""
    p = Path(path) if path else _weights_path()
    try:
        stat = p.stat()
    except OSError as exc:
        raise SourceError(f"cannot read hardness weights {p}: {exc.strerror or exc}") from None
    return _load_weights(str(p.resolve()), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=8)
def _load_weights(path: str, _mtime: int, _size: int) -> HardnessWeights:
    try:
        doc = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SourceError(f"cannot read hardness weights {path}: {exc}") from None
    try:
        return _parse_weights(doc, path)
    except (KeyError, TypeError, ValueError) as exc:
        msg = f"missing key {exc.args[0]!r}" if isinstance(exc, KeyError) else str(exc)
        raise SourceError(f"hardness weights {path} are malformed: {msg}") from None


def _number(d: Mapping, key: str, where: str, minimum: float | None = None) -> float:
    v = d[key]
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise ValueError(f"{where}.{key} must be a number, not {v!r}")
    if minimum is not None and v < minimum:
        raise ValueError(f"{where}.{key} must be >= {minimum}, not {v!r}")
    return float(v)


def _whole(d: Mapping, key: str, where: str, minimum: int) -> int:
    v = d[key]
    if isinstance(v, bool) or not isinstance(v, int) or v < minimum:
        raise ValueError(f"{where}.{key} must be a whole number >= {minimum}, not {v!r}")
    return v


def _parse_indicator(iid: str, d: Mapping) -> IndicatorSpec:
    where = f"indicators.{iid}"
    if not isinstance(d, Mapping):
        raise ValueError(f"{where} must be a table")
    known = {"label", "criterion", "weight", "transform", "lo", "hi", "half", "higher_is_harder", "cohort"}
    extra = sorted(set(d) - known)
    if extra:
        raise ValueError(f"{where} has unknown key(s) {', '.join(extra)}")
    transform = d["transform"]
    if transform not in TRANSFORMS:
        raise ValueError(f"{where}.transform must be one of {', '.join(TRANSFORMS)}, not {transform!r}")
    lo = hi = half = None
    if transform == "linear":
        lo, hi = _number(d, "lo", where), _number(d, "hi", where)
        if hi <= lo:
            raise ValueError(f"{where}: hi ({hi}) must be above lo ({lo})")
    elif transform == "saturating":
        half = _number(d, "half", where)
        if half <= 0:
            raise ValueError(f"{where}.half must be above 0, not {half}")
    cohort = tuple(d.get("cohort", ()))
    if cohort and transform != "percentile":
        raise ValueError(f"{where}.cohort only applies to transform = \"percentile\"")
    bad = [c for c in cohort if c not in PERCENTILE_COHORTS]
    if bad:
        raise ValueError(f"{where}.cohort: unknown {bad}; use {list(PERCENTILE_COHORTS)}")
    harder = d.get("higher_is_harder", True)
    if not isinstance(harder, bool):
        raise ValueError(f"{where}.higher_is_harder must be true or false")
    return IndicatorSpec(iid, str(d["label"]), str(d.get("criterion", "")), _number(d, "weight", where, 0.0),
                         transform, lo, hi, half, harder, cohort)


def _parse_weights(doc: Mapping, path: str) -> HardnessWeights:
    version = doc["version"]
    if not isinstance(version, (str, int)) or not str(version).strip():
        raise ValueError("version must be a non-empty string")
    table = doc["indicators"]
    unknown = sorted(set(table) - set(INDICATORS))
    if unknown:
        raise ValueError(f"unknown indicator(s) {', '.join(unknown)}; known: {', '.join(INDICATORS)}")
    missing = [i for i in INDICATORS if i not in table]
    if missing:
        raise ValueError(f"indicator(s) {', '.join(missing)} missing (a weights file lists every indicator; "
                         "weight 0 leaves one out of the score)")
    specs = {i: _parse_indicator(i, table[i]) for i in INDICATORS}
    total = math.fsum(s.weight for s in specs.values())
    if abs(total - 1.0) > 1e-9:
        raise ValueError(f"the indicator weights add up to {total:.6g}, not 1")
    win, ref, pat, chk = doc["windows"], doc["reference_intensity"], doc["patents"], doc["checks"]
    refs = {g: _number(ref, g, "reference_intensity") for g in OECD_GROUPS}
    for g, v in refs.items():
        if v <= 0:
            raise ValueError(f"reference_intensity.{g} must be above 0, not {v}")
    if pat["cohort_field"] not in PATENT_COHORT:
        raise ValueError(f"patents.cohort_field must be one of {', '.join(PATENT_COHORT)}")
    if pat["normalise"] not in PATENT_NORMALISE:
        raise ValueError(f"patents.normalise must be one of {', '.join(PATENT_NORMALISE)}")
    return HardnessWeights(
        version=str(version).strip(), indicators=specs,
        rd_years=_whole(win, "rd_years", "windows", 1),
        persistence_min_years=_whole(win, "persistence_min_years", "windows", 1),
        volatility_min_years=_whole(win, "volatility_min_years", "windows", 2),
        growth_min_years=_whole(win, "growth_min_years", "windows", 2),
        founded_tolerance=_whole(win, "founded_tolerance", "windows", 0),
        reference_intensity=refs, patent_cohort=pat["cohort_field"], patent_normalise=pat["normalise"],
        max_rd_intensity=_number(chk, "max_rd_intensity", "checks", 0.0),
        max_capital_intensity=_number(chk, "max_capital_intensity", "checks", 0.0),
        path=path,
    )


def _resolve_weights(weights) -> HardnessWeights:
    if weights is None or isinstance(weights, (str, Path)):
        return load_weights(weights)
    if isinstance(weights, HardnessWeights):
        return weights
    raise UsageError(f"weights must be a HardnessWeights, a path to a TOML file or None, not {type(weights).__name__}")


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


def _nullf():
    return ibis.null(_F)


def _nulls():
    return ibis.null("string")


def _nonneg(x):
    return ibis.ifelse(x >= 0, x, _nullf())


def _financial_rows(fin: ir.Table, year: int | None) -> ir.Table:
    """One figure per organisation-year: the most recently imported row that has it (ties: source name).

    The same rule as the R&D rankings (ranking.toml `pick`); each money figure keeps the currency of
    the row it came from, so a ratio of figures from two currencies can be refused.
    """
    f = fin if year is None else fin.filter(fin.fiscal_year <= year)
    money = ("rd_expense", "revenue", "capex")
    counts = ("rd_staff", "employees", "invention_patents")
    multi = int(fin.source_name.nunique().execute() or 0) > 1
    if not multi:  # one source: (org_id, fiscal_year) is already unique, nothing to pick
        ccy = f.currency.upper()
        return f.select(
            org_id=f.org_id, year=f.fiscal_year.cast("int64"),
            **{c: f[c].cast(_F) for c in money + counts},
            rd_ccy=ccy, rev_ccy=ccy, capex_ccy=ccy, sources=ibis.literal(1, "int64"),
        )
    w = ibis.window(group_by=[f.org_id, f.fiscal_year], order_by=[ibis.desc(f.imported_at), f.source_name])
    f = f.mutate(_r=ibis.row_number().over(w), _ccy=f.currency.upper())
    aggs = {c: f[c].cast(_F).argmin(f._r, where=f[c].notnull()) for c in money + counts}
    aggs.update(rd_ccy=f._ccy.argmin(f._r, where=f.rd_expense.notnull()),
                rev_ccy=f._ccy.argmin(f._r, where=f.revenue.notnull()),
                capex_ccy=f._ccy.argmin(f._r, where=f.capex.notnull()),
                sources=f.source_name.nunique().cast("int64"))
    g = f.group_by([f.org_id, f.fiscal_year]).aggregate(**aggs)
    return g.select("org_id", year=g.fiscal_year.cast("int64"), **{c: g[c] for c in money + counts},
                    rd_ccy=g.rd_ccy, rev_ccy=g.rev_ccy, capex_ccy=g.capex_ccy, sources=g.sources)


def _patent_groups(patents: ir.Table, year: int | None, w: HardnessWeights) -> ir.Table:
    """Per organisation and filing year: patent counts and sums of cohort-normalised quality indicators.

    Each patent is compared with its technology field × filing year cohort, as the OECD patent
    quality indicators are, so an old patent's citations do not beat a new one's merely by age.
    """
    p = patents.filter(patents.applicant_org_id.notnull())
    filed = ibis.coalesce(p.filing_date, p.priority_date, p.publication_date)
    empty = ibis.literal([], type="array<string>")
    cpc, ipc = p.cpc_codes.fill_null(empty), p.ipc_codes.fill_null(empty)
    first = ibis.ifelse(cpc.length() > 0, cpc[0], ipc[0])
    allc = cpc.concat(ipc)
    p = p.select(
        org_id=p.applicant_org_id, fy=filed.year().cast("int64"),
        key=ibis.coalesce(first.upper().substr(0, PATENT_COHORT[w.patent_cohort]), ibis.literal("?")),
        family=_nonneg(p.family_size.cast(_F)), cites=_nonneg(p.forward_citations.cast(_F)),
        npl=_nonneg(p.npl_citations.cast(_F)),
        scope=ibis.ifelse(allc.length() > 0, allc.map(lambda c: c.upper().substr(0, 4)).unique().length().cast(_F),
                          _nullf()),
    )
    p = p.filter(p.fy.notnull())
    if year is not None:
        p = p.filter(p.fy <= year)
    norm = {}
    for m in ("family", "cites", "scope", "npl"):
        if w.patent_normalise == "mean_ratio":
            mean = p[m].mean().over(ibis.window(group_by=[p.key, p.fy]))
            norm[f"n_{m}"] = ibis.ifelse(mean > 0, p[m] / mean, _nullf())
        else:
            norm[f"n_{m}"] = _mid_percentile(p[m], [p.key, p.fy])
    p = p.mutate(**norm)
    aggs: dict[str, Any] = {"p_n": p.count().cast(_F)}
    for m in ("family", "cites", "scope", "npl"):
        aggs[f"p_{m}_s"] = p[f"n_{m}"].sum()
        aggs[f"p_{m}_c"] = p[f"n_{m}"].count().cast(_F)
        aggs[f"p_{m}_r"] = p[m].sum()
        aggs[f"p_{m}_rc"] = p[m].count().cast(_F)
    return p.group_by(["org_id", "fy"]).aggregate(**aggs).rename(year="fy")


def _mid_percentile(x, partition: list) -> ir.Value:
    """Mid-rank percentile of x in its partition, over rows where x is present (NULL elsewhere).

    (values below + half of the values equal) / n: a lone value gets 0.5 and a tie shares the middle
    of its span, so a crowd of zeros does not get the credit of the top of the range.
    """
    win = ibis.window(group_by=[*partition, x.isnull()], order_by=x, rows=(None, None))
    n = x.count().over(win).cast(_F)
    below = ibis.rank().over(win).cast(_F)  # Ibis ranks from 0: the number of values strictly below
    at_or_below = ibis.cume_dist().over(win) * n
    return ibis.ifelse(x.notnull(), (below + at_or_below) / (2.0 * n), _nullf())


PAT_COLS = tuple(f"p_{m}_{s}" for m in ("family", "cites", "scope", "npl") for s in ("s", "c", "r", "rc"))
FIN_COLS = ("rd_expense", "revenue", "capex", "rd_staff", "employees", "invention_patents")


def _union_rows(f: ir.Table, pats: ir.Table | None, funds: ir.Table | None) -> ir.Table:
    """Financial, patent and funding rows of each organisation stacked, so one sort serves every window."""
    def shape(t: ir.Table, kind: int) -> ir.Table:
        cols: dict[str, Any] = {"org_id": t.org_id, "year": t.year, "_kind": ibis.literal(kind, "int8")}
        for c in FIN_COLS:
            cols[c] = t[c] if kind == 0 else _nullf()
        for c in ("rd_ccy", "rev_ccy", "capex_ccy"):
            cols[c] = t[c] if kind == 0 else _nulls()
        cols["sources"] = t.sources if kind == 0 else ibis.null("int64")
        for c in ("p_n", *PAT_COLS):
            cols[c] = t[c] if kind == 1 else _nullf()
        cols["f_usd"] = t.f_usd if kind == 2 else _nullf()
        return t.select(**cols)

    u = shape(f, 0)
    if pats is not None:
        u = u.union(shape(pats, 1))
    if funds is not None:
        u = u.union(shape(funds, 2))
    return u


def _windows(u: ir.Table, w: HardnessWeights) -> ir.Table:
    """Rolling N-year R&D statistics and cumulative patent/funding sums per organisation-year."""
    n = w.rd_years
    roll = ibis.window(group_by=u.org_id, order_by=u.year, range=(-(n - 1), 0))
    cum = ibis.window(group_by=u.org_id, order_by=u.year, range=(None, 0))
    rd, rev, capex, ip = u.rd_expense, u.revenue, u.capex, u.invention_patents
    pos = rd > 0
    x = (u.year - 2000).cast(_F)  # centred years keep the least-squares sums well conditioned
    lrd = ibis.ifelse(pos, rd.ln(), _nullf())
    both = capex.notnull() & rev.notnull() & (u.capex_ccy == u.rev_ccy)
    lip = ibis.ifelse(ip.notnull(), (ip + 1).ln(), _nullf())
    xi = ibis.ifelse(ip.notnull(), x, _nullf())
    xp = ibis.ifelse(pos, x, _nullf())
    cols = {
        "rd_years_reported": rd.count().over(roll),
        "rd_years_positive": pos.cast("int64").sum().over(roll).fill_null(0),
        "rd_sum": rd.sum().over(roll),
        "rd_mean": rd.mean().over(roll),
        "rd_std": rd.std(how="pop").over(roll),
        "rd_ccy_min": u.rd_ccy.min(where=rd.notnull()).over(roll),
        "rd_ccy_max": u.rd_ccy.max(where=rd.notnull()).over(roll),
        "g_sx": xp.sum().over(roll), "g_sxx": (xp * xp).sum().over(roll),
        "g_sy": lrd.sum().over(roll), "g_sxy": (xp * lrd).sum().over(roll),
        "capex_window": ibis.ifelse(both, capex, _nullf()).sum().over(roll),
        "revenue_window": ibis.ifelse(both, rev, _nullf()).sum().over(roll),
        "capex_years": both.cast("int64").sum().over(roll).fill_null(0),
        "cap_ccy_min": u.rev_ccy.min(where=both).over(roll),
        "cap_ccy_max": u.rev_ccy.max(where=both).over(roll),
        "invention_patent_years": ip.count().over(roll),
        "i_sx": xi.sum().over(roll), "i_sxx": (xi * xi).sum().over(roll),
        "i_sy": lip.sum().over(roll), "i_sxy": (xi * lip).sum().over(roll),
        "patents_counted": u.p_n.sum().over(cum).fill_null(0),
        "funding_to_year": u.f_usd.sum().over(cum),
    }
    for c in PAT_COLS:
        cols[f"cum_{c}"] = u[c].sum().over(cum)
    return u.mutate(**cols).filter(lambda t: t._kind == 0)


def _ls_slope(n, sx, sxx, sy, sxy):
    """Least-squares slope of y on x from running sums (NULL when the x values do not vary)."""
    den = n * sxx - sx * sx
    return ibis.ifelse(den > 1e-12, (n * sxy - sx * sy) / den, _nullf())


def _org_facts(f: ir.Table) -> ir.Table:
    """When revenue started, as far as the reported rows can tell."""
    return f.group_by("org_id").aggregate(
        first_revenue_year=f.year.min(where=f.revenue > 0),
        first_zero_year=f.year.min(where=f.revenue == 0),
        first_reported_year=f.year.min(where=f.revenue.notnull()),
    )


def _funding(rounds: ir.Table, facts: ir.Table, year: int | None) -> tuple[ir.Table, ir.Table]:
    """(per organisation: funding before its first revenue; per organisation-year: pre-revenue rounds).

    Only rounds with a USD amount count (the importer converts them); an organisation with no such
    round has no value rather than zero.
    """
    r = rounds.filter(rounds.amount_usd.notnull(), rounds.date.notnull(), rounds.amount_usd >= 0)
    r = r.select(org_id=r.org_id, year=r.date.year().cast("int64"), usd=r.amount_usd.cast(_F))
    if year is not None:
        r = r.filter(r.year <= year)
    r = r.left_join(facts.select("org_id", fr=facts.first_revenue_year), "org_id")
    pre = r.fr.isnull() | (r.year < r.fr)
    per_org = r.group_by("org_id").aggregate(
        funding_rounds_usd=r.count(), funding_before_revenue=ibis.ifelse(pre, r.usd, 0.0).sum())
    by_year = r.filter(pre).group_by(["org_id", "year"]).aggregate(f_usd=r.usd.sum())
    return per_org, by_year


def _latest_verdicts(cls: ir.Table) -> ir.Table:
    """The newest classifier verdict per organisation (by classified_at, then model_version)."""
    c = cls.filter(cls.entity_type == "organization")
    if int(c.model_version.nunique().execute() or 0) > 1:
        win = ibis.window(group_by=c.entity_id, order_by=[ibis.desc(c.classified_at), ibis.desc(c.model_version)])
        c = c.mutate(_rn=ibis.row_number().over(win))
        c = c.filter(c._rn == 0)
    probs = c.typology_probabilities

    def prob(name: str):
        s = probs.re_extract(rf'"{name}"\s*:\s*([-+0-9.eE]+)', 1)
        return ibis.ifelse(s.isnull() | (s == ""), _nullf(), s.cast(_F))

    return c.select(org_id=c.entity_id, top_field=c.top_field, model_version=c.model_version,
                    p_hard_core=prob("hard_core"), p_deep=prob("deep"), p_model_innovation=prob("model_innovation"))


def _sector_groups(orgs: ir.Table, w: HardnessWeights) -> tuple[ir.Value, ir.Table]:
    """(first ISIC/NACE code of each organisation, a small table code → OECD group and reference).

    The taxonomy lookup is Python, so it runs once per distinct code, never per organisation.
    """
    from hardtech.analytics.taxonomy import load_taxonomy

    code = orgs.industry_codes.filter(
        lambda c: c.lower().startswith("isic:") | c.lower().startswith("nace:"))[0]
    codes = orgs.select(code=code).filter(lambda t: t.code.notnull()).distinct()
    tax = load_taxonomy()
    rows = {"g_code": [], "oecd_group": [], "reference_intensity": []}
    for c in sorted(codes.to_pyarrow().column("code").to_pylist()):
        scheme, _, value = c.partition(":")
        try:
            group = tax.oecd_intensity(scheme.strip().lower(), value.strip())
        except (ParseError, UsageError):
            group = None
        rows["g_code"].append(c)
        rows["oecd_group"].append(group)
        rows["reference_intensity"].append(w.reference_intensity[group or "unknown"])
    schema = pa.schema([("g_code", pa.string()), ("oecd_group", pa.string()), ("reference_intensity", pa.float64())])
    return code, ibis.memtable(pa.table(rows, schema=schema))


def _institutions(orgs: ir.Table) -> ir.Table:
    """Universities and research institutes per city (country + city, case-insensitive)."""
    inst = orgs.filter(orgs.kind.isin(["university", "institute"]), orgs.city.notnull())
    key_c, key_city = inst.country.fill_null("").upper(), inst.city.lower().strip()
    return inst.group_by([key_c.name("i_country"), key_city.name("i_city")]).aggregate(i_n=inst.count())


# =============================================================================== the pipeline


def _org_table(t: dict, w: HardnessWeights, facts: ir.Table, funding: ir.Table | None) -> ir.Table:
    """One row per organisation: everything the score needs that does not change by year."""
    orgs = t["organizations"]
    code, groups = _sector_groups(orgs, w)
    o = orgs.select(
        org_id=orgs.org_id, name=ibis.coalesce(orgs.name_en, orgs.name_zh, orgs.org_id),
        founded=orgs.founded.cast("int64"), city=orgs.city, kind=orgs.kind,
        k_country=orgs.country.fill_null("").upper(), k_city=orgs.city.lower().strip(), sector_code=code,
    )
    o = o.left_join(groups, o.sector_code == groups.g_code).drop("g_code")
    o = o.mutate(oecd_group=o.oecd_group.fill_null("unknown"),
                 reference_intensity=o.reference_intensity.fill_null(w.reference_intensity["unknown"]))
    inst = _institutions(orgs)
    o = o.left_join(inst, (o.k_country == inst.i_country) & (o.k_city == inst.i_city))
    own = ibis.ifelse(o.kind.isin(["university", "institute"]), 1, 0)
    o = o.mutate(institutions_in_city=ibis.ifelse(o.k_city.notnull(), o.i_n.fill_null(0) - own, ibis.null("int64")))
    o = o.drop("i_country", "i_city", "i_n", "k_country", "k_city", "kind")
    o = o.left_join(facts, "org_id")
    if funding is not None:
        o = o.left_join(funding, "org_id")
    else:
        o = o.mutate(funding_rounds_usd=ibis.null("int64"), funding_before_revenue=_nullf())
    if t["classifications"] is not None:
        v = _latest_verdicts(t["classifications"])
        o = o.left_join(v, "org_id")
    else:
        o = o.mutate(top_field=_nulls(), model_version=_nulls(), p_hard_core=_nullf(), p_deep=_nullf(),
                     p_model_innovation=_nullf())
    return o


def _raw(t: ir.Table, w: HardnessWeights) -> ir.Table:
    """Raw indicator values (NULL = missing), the reason each is missing, and the row's warnings."""
    n = w.rd_years
    rd, rev = t.rd_expense, t.revenue
    same_ccy = t.rd_ccy == t.rev_ccy
    intensity = ibis.ifelse((rd >= 0) & (rev > 0) & same_ccy, rd / rev, _nullf())
    absurd_int = intensity > w.max_rd_intensity
    intensity = ibis.ifelse(absurd_int, _nullf(), intensity)
    staff_ok = (t.rd_staff >= 0) & (t.employees > 0) & (t.rd_staff <= t.employees)
    cap_ok = (t.capex_years > 0) & (t.revenue_window > 0) & (t.cap_ccy_min == t.cap_ccy_max)
    cap = ibis.ifelse(cap_ok, t.capex_window / t.revenue_window, _nullf())
    absurd_cap = cap > w.max_capital_intensity
    cap = ibis.ifelse(absurd_cap, _nullf(), cap)
    one_ccy = t.rd_ccy_min == t.rd_ccy_max
    cv = ibis.ifelse((t.rd_years_reported >= w.volatility_min_years) & (t.rd_mean > 0), t.rd_std / t.rd_mean, _nullf())
    slope = _ls_slope(t.rd_years_positive.cast(_F), t.g_sx, t.g_sxx, t.g_sy, t.g_sxy)
    growth = ibis.ifelse(t.rd_years_positive >= w.growth_min_years, slope.exp() - 1.0, _nullf())
    ip_slope = _ls_slope(t.invention_patent_years.cast(_F), t.i_sx, t.i_sxx, t.i_sy, t.i_sxy)
    ip_growth = ibis.ifelse((t.invention_patent_years >= 2) & (t.invention_patents >= 0), ip_slope, _nullf())

    # R&D cycle: known when the revenue history reaches back to before revenue began
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
    censored = ibis.ifelse(cycle.notnull(), ~started, ibis.null("boolean"))
    funding = ibis.cases(
        (t.funding_rounds_usd.isnull() | (t.funding_rounds_usd == 0), _nullf()),
        (started & history_known, t.funding_before_revenue),
        (~started, t.funding_to_year.fill_null(0.0)),
        else_=_nullf(),
    )

    def mean(s, c):
        return ibis.ifelse(c > 0, s / c, _nullf())

    def prob_ok(p):
        return ibis.ifelse((p >= 0) & (p <= 1), p, _nullf())

    phc, pdeep, pmi = prob_ok(t.p_hard_core), prob_ok(t.p_deep), prob_ok(t.p_model_innovation)
    kind = ibis.ifelse(phc.notnull() & pdeep.notnull(), (phc + pdeep).clip(upper=1.0), _nullf())
    raw = {
        "rd_intensity": intensity,
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
        "patent_family": mean(t.cum_p_family_s, t.cum_p_family_c),
        "patent_citations": mean(t.cum_p_cites_s, t.cum_p_cites_c),
        "patent_scope": mean(t.cum_p_scope_s, t.cum_p_scope_c),
        "science_linkage": mean(t.cum_p_npl_s, t.cum_p_npl_c),
        "institutions_nearby": t.institutions_in_city.cast(_F),
        "hardness_of_kind": kind,
        "physical_product": ibis.ifelse(pmi.notnull(), 1.0 - pmi, _nullf()),
    }
    no_pat = t.patents_counted == 0
    why = {
        "rd_intensity": ibis.cases(
            (rd.isnull(), "no R&D expense reported"), (rd < 0, "negative R&D expense"),
            (rev.isnull(), "no revenue reported"), (rev == 0, "revenue is 0: intensity undefined"),
            (rev < 0, "negative revenue"), (~same_ccy, "R&D and revenue in different currencies"),
            (absurd_int, f"R&D above {w.max_rd_intensity:g} x revenue: taken for a unit error"), else_=_nulls()),
        "rd_staff_share": ibis.cases(
            (t.rd_staff.isnull(), "no R&D staff reported"), (t.employees.isnull(), "no employees reported"),
            (t.employees == 0, "employees is 0"), (t.rd_staff > t.employees, "R&D staff exceed employees"),
            else_="negative head count"),
        "capital_intensity": ibis.cases(
            (t.capex_years == 0, f"no year in the {n}-year window with both capex and revenue"),
            (t.revenue_window <= 0, "revenue over the window is 0"),
            (t.cap_ccy_min != t.cap_ccy_max, "currencies change within the window"),
            (absurd_cap, f"capex above {w.max_capital_intensity:g} x revenue: taken for a unit error"),
            else_=_nulls()),
        "rd_persistence": f"fewer than {w.persistence_min_years} years with an R&D figure in the {n}-year window",
        "rd_cumulative": ibis.ifelse(t.rd_years_reported == 0, f"no R&D figure in the {n}-year window",
                                     "R&D reported in several currencies within the window"),
        "rd_growth": f"fewer than {w.growth_min_years} years with R&D > 0 in the {n}-year window",
        "rd_volatility": f"fewer than {w.volatility_min_years} years with an R&D figure in the window, or mean R&D 0",
        "rd_cycle": ibis.cases(
            (founded.isnull(), "founding year unknown"),
            (started & (fr < founded), "first revenue before the founding year"),
            (started, "revenue history starts after founding: first revenue year unknown"),
            else_="no revenue yet and no reported zero revenue"),
        "pre_revenue_funding": ibis.cases(
            (t.funding_rounds_usd.isnull() | (t.funding_rounds_usd == 0), "no funding round with a USD amount"),
            else_="first revenue year unknown"),
        "invention_patents": ibis.ifelse(t.invention_patents.isnull(), "no invention patent count reported",
                                         "negative invention patent count"),
        "invention_patent_growth": "fewer than 2 years with an invention patent count in the window",
        "patent_family": ibis.ifelse(no_pat, "no patents filed by this year", "no family size (or cohort mean 0)"),
        "patent_citations": ibis.ifelse(no_pat, "no patents filed by this year", "no citation data (or cohort mean 0)"),
        "patent_scope": ibis.ifelse(no_pat, "no patents filed by this year", "no CPC/IPC codes"),
        "science_linkage": ibis.ifelse(no_pat, "no patents filed by this year", "no NPL data (or cohort mean 0)"),
        "institutions_nearby": "city unknown",
        "hardness_of_kind": ibis.ifelse(t.model_version.isnull(), "not classified",
                                        "typology probabilities missing or out of range"),
        "physical_product": ibis.ifelse(t.model_version.isnull(), "not classified",
                                        "typology probabilities missing or out of range"),
    }
    warn = [
        ibis.ifelse(rd < 0, "negative R&D expense ignored", _nulls()),
        ibis.ifelse(rev < 0, "negative revenue ignored", _nulls()),
        ibis.ifelse(t.capex < 0, "negative capex ignored", _nulls()),
        ibis.ifelse((t.rd_staff < 0) | (t.employees < 0) | (t.invention_patents < 0), "negative head or patent count ignored", _nulls()),
        ibis.ifelse(t.rd_staff > t.employees, "R&D staff exceed employees", _nulls()),
        ibis.ifelse(absurd_int, f"R&D above {w.max_rd_intensity:g} x revenue ignored", _nulls()),
        ibis.ifelse(absurd_cap, f"capex above {w.max_capital_intensity:g} x revenue ignored", _nulls()),
        ibis.ifelse(rd.notnull() & rev.notnull() & ~same_ccy, "R&D and revenue come in different currencies", _nulls()),
        ibis.ifelse(fr < founded, "first revenue before the founding year", _nulls()),
        ibis.ifelse((t.p_hard_core < 0) | (t.p_hard_core > 1) | (t.p_deep < 0) | (t.p_deep > 1)
                    | (t.p_model_innovation < 0) | (t.p_model_innovation > 1),
                    "typology probability outside 0..1", _nulls()),
    ]
    cols: dict[str, Any] = {}
    for i in INDICATORS:
        cols[f"raw_{i}"] = raw[i].cast(_F)
        reason = why[i] if isinstance(why[i], ir.Value) else ibis.literal(why[i])
        cols[f"missing_{i}"] = ibis.ifelse(raw[i].isnull(), reason, _nulls())
    return t.mutate(
        **cols,
        intensity_standing=intensity / t.reference_intensity,
        window_start=t.year - (n - 1),
        cycle_censored=censored,
        warnings=ibis.ifelse(ibis.literal("; ").join(warn) == "", _nulls(), ibis.literal("; ").join(warn)),
        currency=ibis.coalesce(t.rd_ccy, t.rev_ccy),
    )


def _values(t: ir.Table, w: HardnessWeights) -> ir.Table:
    """Each raw value mapped to 0..1 by its transform; then the parts, the score and its confidence."""
    vals = {}
    for i, s in w.indicators.items():
        x = t[f"intensity_standing"] if i == "rd_intensity" else t[f"raw_{i}"]
        if s.transform == "linear":
            v = ((x - s.lo) / (s.hi - s.lo)).clip(lower=0.0, upper=1.0)
        elif s.transform == "saturating":
            v = ibis.ifelse(x > 0, x / (x + s.half), 0.0)
        else:
            v = _mid_percentile(x, [t.year, *[t[c] for c in s.cohort]])
        if not s.higher_is_harder:
            v = 1.0 - v
        vals[f"value_{i}"] = ibis.ifelse(x.notnull(), v, _nullf())
    t = t.mutate(**vals)
    present = [ibis.ifelse(t[f"value_{i}"].notnull(), s.weight, 0.0) for i, s in w.indicators.items()]
    conf = functools.reduce(lambda a, b: a + b, present)
    t = t.mutate(confidence=conf)
    parts = {f"part_{i}": ibis.ifelse(t.confidence > 0, s.weight * t[f"value_{i}"] / t.confidence * 100.0, _nullf())
             for i, s in w.indicators.items()}
    t = t.mutate(**parts)
    total = functools.reduce(lambda a, b: a + b, [t[f"part_{i}"].fill_null(0.0) for i in INDICATORS])
    t = t.mutate(score=ibis.ifelse(t.confidence > 0, total, _nullf()),
                 indicators_present=functools.reduce(
                     lambda a, b: a + b, [t[f"value_{i}"].notnull().cast("int64") for i in INDICATORS]))
    field = t.top_field.fill_null(UNCLASSIFIED)
    t = t.mutate(field=field)
    win = ibis.window(group_by=[t.year, t.field, t.score.isnull()], order_by=t.score)
    return t.mutate(percentile_in_field_year=ibis.ifelse(t.score.notnull(), ibis.cume_dist().over(win) * 100.0,
                                                         _nullf()),
                    weights_version=ibis.literal(w.version))


def hardness_expr(store_or_tables, year: int | None = None, weights=None) -> ir.Table:
    """The full indicator table as one Ibis expression (all organisations; filter it afterwards)."""
    w = _resolve_weights(weights)
    t = _tables(store_or_tables)
    f = _financial_rows(t["financials"], year)
    facts = _org_facts(f)
    pats = _patent_groups(t["patents"], year, w) if t["patents"] is not None else None
    per_org = by_year = None
    if t["funding_rounds"] is not None:
        per_org, by_year = _funding(t["funding_rounds"], facts, year)
    u = _windows(_union_rows(f, pats, by_year), w)
    if pats is None:
        u = u.mutate(**{f"cum_{c}": _nullf() for c in PAT_COLS})
    if year is not None:
        u = u.filter(u.year == year)
    o = _org_table(t, w, facts, per_org)
    j = u.join(o, "org_id")
    return _values(_raw(j, w), w)


# =============================================================================== public API


def _years_of(t: dict, org_id: str) -> list[int]:
    fin = t["financials"]
    ys = fin.filter(fin.org_id == org_id).select("fiscal_year").distinct().to_pyarrow().column(0).to_pylist()
    return sorted(int(y) for y in ys)


def _check_year(t: dict, year) -> int | None:
    if year is None:
        return None
    try:
        y = int(year)
    except (TypeError, ValueError):
        raise UsageError(f"the year must be a year such as 2022, not {year!r}") from None
    fin = t["financials"]
    if int(fin.filter(fin.fiscal_year == y).count().execute()) == 0:
        years = fin.select("fiscal_year").distinct().to_pyarrow().column(0).to_pylist()
        raise UsageError(f"no financial figures for {y} in the store; years with figures: {_years_text(years)}")
    return y


def _check_orgs(t: dict, org_ids) -> list[str] | None:
    if org_ids is None:
        return None
    ids = [org_ids] if isinstance(org_ids, str) else [str(i) for i in org_ids]
    orgs = t["organizations"]
    found = set(orgs.filter(orgs.org_id.isin(ids)).select("org_id").to_pyarrow().column(0).to_pylist())
    missing = [i for i in ids if i not in found]
    if missing:
        shown = ", ".join(repr(m) for m in missing[:10]) + (" …" if len(missing) > 10 else "")
        raise NotFound(f"no organisation {shown} in the store")
    return ids


def _to_pandas(expr: ir.Table) -> pd.DataFrame:
    """Arrow-backed strings: building 10 million Python str objects would cost more than the query."""
    tbl = expr.to_pyarrow()
    return tbl.to_pandas(types_mapper=lambda t: pd.StringDtype("pyarrow") if pa.types.is_string(t) else None)


def indicators(store_or_tables, year: int | None = None, org_ids: list[str] | None = None,
               weights=None) -> pd.DataFrame:
    """One row per organisation-year with every indicator's raw value, 0..1 value, inputs and missing reason.

    Percentiles are computed among all organisations of the year, then `org_ids` selects rows.
    """
    t = _tables(store_or_tables)
    y = _check_year(t, year)
    ids = _check_orgs(t, org_ids)
    e = hardness_expr(t, y, weights)
    if ids is not None:
        e = e.filter(e.org_id.isin(ids))
    inputs = sorted({c for cols in INPUTS.values() for c in cols} - {"currency", "city"})
    cols = [*SCORE_COLUMNS, "indicators_present", "currency", "city", *inputs]
    for i in INDICATORS:
        cols += [f"raw_{i}", f"value_{i}", f"part_{i}", f"missing_{i}"]
    return _to_pandas(e.select(*cols))


def score(store_or_tables, year: int | None = None, org_ids: list[str] | None = None,
          weights=None) -> pd.DataFrame:
    """The hardness score (0–100) per organisation-year, its confidence, field percentile and parts."""
    t = _tables(store_or_tables)
    y = _check_year(t, year)
    ids = _check_orgs(t, org_ids)
    e = hardness_expr(t, y, weights)
    if ids is not None:
        e = e.filter(e.org_id.isin(ids))
    cols = [*SCORE_COLUMNS, *[f"part_{i}" for i in INDICATORS], *[f"value_{i}" for i in INDICATORS]]
    return _to_pandas(e.select(*cols))


def _py(v):
    """numpy / pandas scalars to plain JSON-able Python (NaN and NA to None)."""
    if v is None or v is pd.NA:
        return None
    if hasattr(v, "item"):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()
    return v


def explain(store_or_tables, org_id: str, year: int | None = None, weights=None) -> dict:
    """Why an organisation scores what it does: every indicator's weight, value, inputs and share of the score."""
    w = _resolve_weights(weights)
    t = _tables(store_or_tables)
    _check_orgs(t, [org_id])
    orgs = t["organizations"]
    who_row = orgs.filter(orgs.org_id == org_id).select("name_en", "name_zh").to_pyarrow().to_pylist()[0]
    name = who_row["name_en"] or who_row["name_zh"] or org_id
    who = f"{org_id} ({name})" if name != org_id else org_id
    years = _years_of(t, org_id)
    if not years:
        raise UsageError(f"{who} has no financial figures, so no hardness score (a score is per fiscal year)")
    if year is None:
        year = years[-1]
    elif int(year) not in years:
        raise UsageError(f"{who} has no financial figures for {year}; years it has: {_years_text(years)}")
    row = indicators(t, year=int(year), org_ids=[org_id], weights=w).iloc[0]
    parts, missing = [], []
    for i, s in w.indicators.items():
        value = _py(row[f"value_{i}"])
        gone = value is None
        if gone:
            missing.append(i)
        parts.append({
            "indicator": i, "label": s.label, "criterion": s.criterion, "weight": s.weight,
            "transform": s.transform, "value_0_1": value, "raw_value": _py(row[f"raw_{i}"]),
            "inputs": {c: _py(row[c]) for c in INPUTS[i]},
            "contribution": _py(row[f"part_{i}"]), "missing": gone,
            "missing_reason": _py(row[f"missing_{i}"]),
        })
    conf = _py(row["confidence"]) or 0.0
    sc = _py(row["score"])
    note = (f"score = sum of contributions = Σ weight × value ÷ {conf:.4g} (the weight of the indicators present) × 100; "
            f"{len(missing)} of {len(INDICATORS)} indicators missing, so confidence is {conf:.4g}. "
            "Missing indicators are left out, not counted as 0.")
    if sc is None:
        note = "no indicator could be computed for this organisation and year, so there is no score."
    warnings = _py(row["warnings"])
    return {
        "org_id": org_id, "name": name, "year": int(year), "score": sc, "confidence": conf,
        "percentile_in_field_year": _py(row["percentile_in_field_year"]), "field": _py(row["field"]),
        "weights_version": w.version, "weights_file": w.path, "parts": parts, "missing": missing,
        "warnings": warnings.split("; ") if warnings else [], "note": note,
    }


def save_scores(store, df: pd.DataFrame) -> int:
    """Write scores into the `scores` table, replacing rows with the same (org_id, year, weights_version)."""
    need = ["org_id", "year", "score", "confidence", "percentile_in_field_year", "field", "weights_version"]
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise UsageError(f"save_scores needs a score() frame; missing column(s): {', '.join(missing)}")
    part_cols = [c for c in df.columns if c.startswith("part_")]
    if df.empty:
        return 0
    con = store.con
    con.execute(SCORES_DDL)
    data = pa.Table.from_pandas(df[need + part_cols], preserve_index=False)
    parts_json = "json_object(" + ", ".join(f"'{c[5:]}', \"{c}\"" for c in part_cols) + ")::VARCHAR" \
        if part_cols else "'{}'"
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    con.register("_hardness_new", data)
    try:
        with store.transaction():
            con.execute("DELETE FROM scores s USING (SELECT DISTINCT org_id, CAST(year AS INTEGER) AS year, "
                        "weights_version FROM _hardness_new) n WHERE s.org_id = n.org_id AND s.year = n.year "
                        "AND s.weights_version = n.weights_version")
            con.execute(
                f"INSERT INTO scores (org_id, year, score, confidence, percentile_in_field_year, field, "
                f"weights_version, parts, scored_at) SELECT org_id, CAST(year AS INTEGER), score, confidence, "
                f"percentile_in_field_year, field, weights_version, {parts_json}, ? FROM _hardness_new", [now])
    finally:
        con.unregister("_hardness_new")
    return len(df)
