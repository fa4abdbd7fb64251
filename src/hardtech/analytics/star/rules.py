"""The STAR test's rules, every version, as loaded from `data/rules/star_versions.toml` and checked.

Why data: the CSRC has revised the test twice (2021, 2024) and will again; a revision is a data change
and an old verdict stays reproducible by naming its version. Nothing numeric about the rules is here.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from hardtech.errors import SourceError, UsageError

RULES_FILE = "star_versions.toml"

INDICATOR_IDS: tuple[str, ...] = ("rd_investment", "rd_staff_share", "invention_patents", "revenue_growth")

LEVELS = ("restricted", "prohibited")

VERDICTS = ("sci-tech", "not sci-tech", "restricted", "prohibited", "insufficient data")


@dataclass(frozen=True)
class Thresholds:
    rd_ratio_min: float
    rd_cumulative_min_cny: float
    rd_staff_share_min: float | None  # None: the version has no staff indicator
    invention_patents_min: int
    revenue_cagr_min: float
    revenue_last_year_min_cny: float


@dataclass(frozen=True)
class ExceptionRule:
    number: int
    id: str
    description: str
    flag: str | None = None
    min_invention_patents: int | None = None


@dataclass(frozen=True)
class CarveOut:
    id: str
    default: bool
    waives: str | None  # the indicator id it exempts from
    description: str
    flags: tuple[str, ...]
    veto_flags: tuple[str, ...]
    codes: tuple[str, ...]
    rd_ratio_min: float | None = None  # replaces the R&D-ratio threshold when set
    cumulative_alternative: bool = True  # False: the cumulative-R&D alternative no longer applies


@dataclass(frozen=True)
class NegativeCategory:
    id: str
    level: str  # "restricted" | "prohibited"
    label: str
    flags: tuple[str, ...]
    typologies: tuple[str, ...]
    typology_hints: tuple[str, ...]
    hint_schemes: tuple[str, ...]
    codes: tuple[str, ...]


@dataclass(frozen=True)
class StarVersion:
    id: str
    in_force: dt.date
    title: str
    source: str
    indicators: tuple[str, ...]
    thresholds: Thresholds
    exceptions: tuple[ExceptionRule, ...]
    carve_outs: tuple[CarveOut, ...]
    negative_list: tuple[NegativeCategory, ...]
    currency: str
    fx_month_day: tuple[int, int]
    fx_max_age_days: int | None
    tolerance_rel: float
    patent_filings_proxy: bool = False

    def carve_out(self, cid: str) -> CarveOut:
        for c in self.carve_outs:
            if c.id == cid:
                return c
        raise UsageError(f"STAR version {self.id} has no carve-out {cid!r}; it has {[c.id for c in self.carve_outs]}")


def _default_path() -> Path:
    return Path(str(resources.files("hardtech.data").joinpath("rules").joinpath(RULES_FILE)))


def load_star_rules(path: Path | None = None) -> dict[str, StarVersion]:
    """Every version in the rules file, oldest first; read once while the file is unchanged."""
    return dict(_read_rules(path)[1])


def _read_rules(path: Path | str | None) -> tuple[str, dict[str, StarVersion]]:
    p = Path(path).expanduser() if path is not None else _default_path()
    try:
        st = p.stat()
    except OSError:
        raise SourceError(f"STAR rules file not found: {p}") from None
    return _parse_cached(str(p.resolve()), st.st_mtime_ns, st.st_size)


@functools.lru_cache(maxsize=8)
def _parse_cached(path: str, _mtime_ns: int, _size: int) -> tuple[str, dict[str, StarVersion]]:
    try:
        doc = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError(f"{path}: cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise SourceError(f"{path}: malformed TOML: {exc}") from None
    return _parse(doc, path)


class _Doc:
    """Typed access to one TOML table, so every error names the file and the dotted key."""

    def __init__(self, data: Any, path: str, where: str):
        if not isinstance(data, dict):
            raise SourceError(f"{path}: {where or 'top level'} must be a table")
        self.data, self.path, self.where = data, path, where

    def _key(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def get(self, key: str, kind: type | tuple[type, ...], default: Any = ...) -> Any:
        if key not in self.data:
            if default is ...:
                raise SourceError(f"{self.path}: missing key {self._key(key)!r}")
            return default
        value = self.data[key]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (isinstance(value, bool) and kind in (int, float)):
            name = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
            raise SourceError(f"{self.path}: {self._key(key)!r} must be {name}, got {type(value).__name__}")
        return value

    def number(self, key: str, low: float, high: float | None = None, default: Any = ...) -> float | None:
        if key not in self.data and default is not ...:
            return default
        value = self.get(key, float)
        if not (math.isfinite(value) and value >= low and (high is None or value <= high)):
            span = f"in [{low}, {high}]" if high is not None else f">= {low}"
            raise SourceError(f"{self.path}: {self._key(key)!r} must be {span}, got {value}")
        return value

    def text_list(self, key: str, default: Any = ...) -> tuple[str, ...]:
        items = self.get(key, list, default)
        out = []
        for i, item in enumerate(items):
            if not isinstance(item, str) or not item.strip():
                raise SourceError(f"{self.path}: {self._key(key)}[{i}] must be non-empty text, got {item!r}")
            out.append(item.strip())
        return tuple(out)

    def table(self, key: str) -> _Doc:
        return _Doc(self.get(key, dict), self.path, self._key(key))


def _parse(raw: dict[str, Any], path: str) -> tuple[str, dict[str, StarVersion]]:
    doc = _Doc(raw, path, "")
    if doc.get("schema", int) != 1:
        raise SourceError(f"{path}: 'schema' must be 1 (this program reads schema 1)")
    ev = doc.table("evaluation")
    month_day = ev.get("fx_month_day", str)
    try:
        fx_day = dt.date.fromisoformat(f"2000-{month_day}")
    except ValueError:
        raise SourceError(f"{path}: 'evaluation.fx_month_day' must be MM-DD, got {month_day!r}") from None
    common = dict(
        currency=ev.get("currency", str).strip().upper(),
        fx_month_day=(fx_day.month, fx_day.day),
        fx_max_age_days=ev.get("fx_max_age_days", int, None),
        tolerance_rel=ev.number("tolerance_rel", 0.0, 0.01),
        patent_filings_proxy=ev.get("patent_filings_proxy", bool, False),
    )
    triggers = doc.table("carve_out_triggers")
    categories = _parse_categories(doc.table("negative_list_categories"))
    versions: dict[str, StarVersion] = {}
    vtab = doc.table("versions")
    for vid in vtab.data:
        versions[vid] = _parse_version(vtab.table(vid), vid, triggers, categories, common)
    if not versions:
        raise SourceError(f"{path}: 'versions' is empty")
    current = doc.get("current", str)
    if current not in versions:
        raise SourceError(f"{path}: 'current' is {current!r}, not one of the versions {list(versions)}")
    ordered = dict(sorted(versions.items(), key=lambda kv: kv[1].in_force))
    return current, ordered


def _parse_categories(tab: _Doc) -> dict[str, NegativeCategory]:
    out = {}
    for cid in tab.data:
        c = tab.table(cid)
        level = c.get("level", str)
        if level not in LEVELS:
            raise SourceError(f"{c.path}: '{c.where}.level' must be one of {LEVELS}, got {level!r}")
        hints = c.text_list("typology_hints")
        out[cid] = NegativeCategory(
            id=cid, level=level, label=c.get("label", str),
            flags=tuple(f.lower() for f in c.text_list("flags")),
            typologies=c.text_list("typologies"), typology_hints=hints,
            hint_schemes=c.text_list("hint_schemes") if hints else c.text_list("hint_schemes", ()),
            codes=_code_list(c, "codes"),
        )
    return out


def _code_list(tab: _Doc, key: str) -> tuple[str, ...]:
    codes = tab.text_list(key)
    for i, code in enumerate(codes):
        if ":" not in code:
            raise SourceError(f"{tab.path}: {tab.where}.{key}[{i}] {code!r} must be 'scheme:code'")
    return codes


def _parse_version(v: _Doc, vid: str, triggers: _Doc, categories: dict, common: dict) -> StarVersion:
    in_force = v.get("in_force", dt.date)
    if isinstance(in_force, dt.datetime) or in_force.isoformat() != vid:
        raise SourceError(f"{v.path}: {v.where}.in_force must be the date {vid} (the version id), got {in_force}")
    indicators = v.text_list("indicators")
    for ind in indicators:
        if ind not in INDICATOR_IDS:
            raise SourceError(f"{v.path}: {v.where}.indicators: unknown indicator {ind!r}; known: {INDICATOR_IDS}")
    th = v.table("thresholds")
    staff = "rd_staff_share" in indicators
    thresholds = Thresholds(
        rd_ratio_min=th.number("rd_ratio_min", 0.0, 1.0),
        rd_cumulative_min_cny=th.number("rd_cumulative_min_cny", 0.0),
        rd_staff_share_min=th.number("rd_staff_share_min", 0.0, 1.0) if staff else None,
        invention_patents_min=th.get("invention_patents_min", int),
        revenue_cagr_min=th.number("revenue_cagr_min", -1.0),
        revenue_last_year_min_cny=th.number("revenue_last_year_min_cny", 0.0),
    )
    exceptions = tuple(_parse_exception(_Doc(e, v.path, f"{v.where}.exceptions[{i}]"))
                       for i, e in enumerate(v.get("exceptions", list)))
    numbers = [e.number for e in exceptions]
    if len(set(numbers)) != len(numbers):
        raise SourceError(f"{v.path}: {v.where}.exceptions: numbers repeat: {numbers}")
    carve = v.table("carve_outs")
    carve_outs = tuple(_parse_carve_out(carve.table(cid), cid, triggers, indicators) for cid in carve.data)
    neg = []
    for cid in v.text_list("negative_list"):
        if cid not in categories:
            raise SourceError(f"{v.path}: {v.where}.negative_list: unknown category {cid!r}; known: {list(categories)}")
        neg.append(categories[cid])
    return StarVersion(
        id=vid, in_force=in_force, title=v.get("title", str), source=v.get("source", str),
        indicators=indicators, thresholds=thresholds, exceptions=exceptions,
        carve_outs=carve_outs, negative_list=tuple(neg), **common,
    )


def _parse_exception(e: _Doc) -> ExceptionRule:
    flag = e.get("flag", str, None)
    patents = e.get("min_invention_patents", int, None)
    if (flag is None) == (patents is None):
        raise SourceError(f"{e.path}: {e.where} needs exactly one of 'flag' or 'min_invention_patents'")
    return ExceptionRule(e.get("number", int), e.get("id", str), e.get("description", str),
                         flag.strip().lower() if flag else None, patents)


def _parse_carve_out(c: _Doc, cid: str, triggers: _Doc, indicators: tuple[str, ...]) -> CarveOut:
    waives = c.get("waives", str, None)
    if waives is not None and waives not in indicators:
        raise SourceError(f"{c.path}: {c.where}.waives {waives!r} is not an indicator of this version {indicators}")
    if cid not in triggers.data:
        raise SourceError(f"{c.path}: carve-out {cid!r} has no 'carve_out_triggers.{cid}' table")
    trig = triggers.table(cid)
    return CarveOut(
        id=cid, default=c.get("default", bool), waives=waives, description=c.get("description", str),
        flags=tuple(f.lower() for f in trig.text_list("flags")),
        veto_flags=tuple(f.lower() for f in trig.text_list("veto_flags", ())),
        codes=_code_list(trig, "codes"),
        rd_ratio_min=c.number("rd_ratio_min", 0.0, 1.0, None),
        cumulative_alternative=c.get("cumulative_alternative", bool, True),
    )


def _current() -> str:
    return _read_rules(None)[0]


CURRENT_VERSION: str = _current()


def star_version(version: str = CURRENT_VERSION, path: Path | None = None) -> StarVersion:
    """One version by id; an unknown id is a UsageError that lists the known ones."""
    return _pick(version, load_star_rules(path))


def _pick(version: str, versions: dict[str, StarVersion] | None) -> StarVersion:
    versions = versions if versions is not None else load_star_rules()
    try:
        return versions[str(version).strip()]
    except KeyError:
        raise UsageError(f"unknown STAR rules version {version!r}; versions: {', '.join(versions)}") from None


def version_in_force(on: dt.date | str, path: Path | None = None) -> str:
    """The version that applied on a day (e.g. an IPO filing date)."""
    day = dt.date.fromisoformat(on) if isinstance(on, str) else on
    older = [v.id for v in load_star_rules(path).values() if v.in_force <= day]
    if not older:
        raise UsageError(f"no STAR rules version was in force on {day}; the first is {next(iter(load_star_rules(path)))}")
    return older[-1]
