"""The hardness weights file: which indicators exist, their weights, transforms and windows, read and checked.

Why a module of its own: the weights are data a user replaces (`load_weights(path)`), so reading and
checking them is one job, separate from computing indicators (`raw_indicators.py`) and weighing them
(`weighting.py`). docs/hardness.md explains every choice in the shipped file.
"""

from __future__ import annotations

import functools
import math
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Mapping


from hardtech.errors import SourceError, UsageError

INDICATORS: tuple[str, ...] = (
    "rd_intensity", "rd_depth", "rd_staff_share", "capital_intensity",
    "rd_persistence", "rd_cumulative", "rd_growth", "rd_volatility",
    "rd_cycle", "pre_revenue_funding",
    "invention_patents", "invention_patent_growth", "patent_filings", "patent_family", "patent_citations",
    "patent_scope", "science_linkage", "institutions_nearby",
    "sector_rd_group", "sector_activity", "kind_prior", "hardness_of_kind", "physical_product",
)
TRANSFORMS = ("linear", "saturating", "cohort_median", "percentile")
OECD_GROUPS = ("high", "medium_high", "medium", "medium_low", "low", "unknown")
COHORTS = ("currency",)
PATENT_COHORT = {"section": 1, "class": 3, "subclass": 4}
PATENT_NORMALISE = ("mean_ratio", "percentile")
UNCLASSIFIED = "unclassified"

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
class Criterion:
    """One criterion of the seeds (domain.md §1): its share of the score and how the indicators read it."""

    id: str
    text: str
    weight: float
    reading: str


@dataclass(frozen=True)
class KindBlock:
    """The evidence-of-kind indicators: their weight is never re-weighted onto the others (docs/hardness.md)."""

    indicators: tuple[str, ...]
    fallback: str
    unknown: float
    oecd_group: dict[str, float]
    activity: dict[str, float]
    prior: dict[str, float]


@dataclass(frozen=True)
class HardnessWeights:
    """hardness_weights.toml, checked once when loaded."""

    version: str
    indicators: dict[str, IndicatorSpec]
    criteria: dict[str, Criterion]
    kind: KindBlock
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
    cohort = d.get("cohort", [])
    if not isinstance(cohort, list):
        raise ValueError(f"{where}.cohort must be a list such as [\"currency\"]")
    cohort = tuple(cohort)
    if cohort and transform not in ("percentile", "cohort_median"):
        raise ValueError(f"{where}.cohort only applies to the cohort_median and percentile transforms")
    bad = [c for c in cohort if c not in COHORTS]
    if bad:
        raise ValueError(f"{where}.cohort: unknown {bad}; use {list(COHORTS)}")
    harder = d.get("higher_is_harder", True)
    if not isinstance(harder, bool):
        raise ValueError(f"{where}.higher_is_harder must be true or false")
    return IndicatorSpec(iid, str(d["label"]), str(d.get("criterion", "")), _number(d, "weight", where, 0.0),
                         transform, lo, hi, half, harder, cohort)


def _parse_criteria(doc: Mapping, specs: dict[str, IndicatorSpec]) -> dict[str, Criterion]:
    """[criteria]: one line per criterion of the seeds; the indicators naming one must add up to its weight."""
    table = doc["criteria"]
    if not isinstance(table, Mapping) or not table:
        raise ValueError("criteria must be a table with one line per criterion")
    out = {}
    for cid, d in table.items():
        where = f"criteria.{cid}"
        if not isinstance(d, Mapping):
            raise ValueError(f"{where} must be an inline table {{ weight = …, text = …, reading = … }}")
        extra = sorted(set(d) - {"weight", "text", "reading"})
        if extra:
            raise ValueError(f"{where} has unknown key(s) {', '.join(extra)}")
        out[cid] = Criterion(cid, str(d["text"]), _number(d, "weight", where, 0.0), str(d["reading"]))
    for i, s in specs.items():
        if s.criterion not in out:
            raise ValueError(f"indicators.{i}.criterion {s.criterion!r} is not one of the criteria: {', '.join(out)}")
    for cid, c in out.items():
        got = math.fsum(s.weight for s in specs.values() if s.criterion == cid)
        if abs(got - c.weight) > 1e-9:
            raise ValueError(f"criteria.{cid}.weight is {c.weight:g} but its indicators' weights add up to {got:.6g}")
    return out


def _parse_kind(doc: Mapping, specs: dict[str, IndicatorSpec]) -> KindBlock:
    """[kind]: which indicators are evidence of kind, the value of unknown kind, and what each class is worth."""
    from hardtech.analytics.kind_evidence import ACTIVITIES, OECD_GROUPS as GROUPS, PRIOR_CLASSES

    k = doc["kind"]
    inds = k["indicators"]
    if not isinstance(inds, list) or not inds:
        raise ValueError("kind.indicators must be a list of indicators, e.g. [\"kind_prior\"]")
    bad = [i for i in inds if i not in specs]
    if bad:
        raise ValueError(f"kind.indicators: unknown indicator(s) {', '.join(map(str, bad))}")
    fallback = k["fallback"]
    if fallback not in inds:
        raise ValueError(f"kind.fallback {fallback!r} must be one of kind.indicators")
    if math.fsum(specs[i].weight for i in inds) > 0 and specs[fallback].weight <= 0:
        raise ValueError(f"kind.fallback {fallback!r} must have a weight above 0: it carries the block when "
                         "nothing says what kind of business an organisation is")
    unknown = _number(k, "unknown", "kind", 0.0)
    if unknown > 1:
        raise ValueError(f"kind.unknown must be in 0..1, not {unknown}")

    def classes(name: str, keys: tuple[str, ...]) -> dict[str, float]:
        t = k[name]
        if not isinstance(t, Mapping):
            raise ValueError(f"kind.{name} must be a table")
        odd = sorted(set(t) - set(keys))
        if odd:
            raise ValueError(f"kind.{name} has unknown class(es) {', '.join(odd)}; classes: {', '.join(keys)}")
        vals = {c: _number(t, c, f"kind.{name}", 0.0) for c in keys}
        over = [c for c, v in vals.items() if v > 1]
        if over:
            raise ValueError(f"kind.{name}: values must be in 0..1 ({', '.join(over)})")
        return vals

    return KindBlock(tuple(inds), fallback, unknown, classes("oecd_group", GROUPS), classes("activity", ACTIVITIES),
                     classes("prior", PRIOR_CLASSES))


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
    criteria = _parse_criteria(doc, specs)
    kind = _parse_kind(doc, specs)
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
        version=str(version).strip(), indicators=specs, criteria=criteria, kind=kind,
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


