"""The eight hard-tech fields, the five-class typology and the code concordances, loaded from data files.

Why data files: the taxonomy is editorial judgement that users will want to inspect, version and
replace without touching code (see `hardtech/data/taxonomy/README.md`). This module only loads,
validates and looks things up; it never decides what is hard tech.

Why no pandas here: the taxonomy loads at CLI start-up and must stay well under 0.3 s.
"""

from __future__ import annotations

import csv
import functools
import re
import unicodedata
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Iterable, Iterator

import yaml

from hardtech.errors import ParseError, SourceError, UsageError

FIELD_IDS: tuple[str, ...] = (
    "ai",
    "aerospace",
    "photonics_chips",
    "biotech",
    "it",
    "new_materials",
    "new_energy",
    "intelligent_manufacturing",
)
TYPOLOGY_IDS: tuple[str, ...] = ("hard_core", "deep", "black", "high", "model_innovation")
SCHEMES: tuple[str, ...] = (
    "cpc",
    "ipc",
    "nace",
    "isic",
    "gics",
    "cn_industry",
    "nbs_sei",
    "nbs_hightech",
    "crunchbase",
    "unicorn_industry",
)
NONE_FIELD = "none"  # a concordance row saying "we looked, and this code is none of the eight fields"
SECTORS: tuple[str, ...] = ("primary", "secondary", "tertiary")
OECD_INTENSITY: tuple[str, ...] = ("high", "medium_high", "medium", "medium_low", "low")

_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# file name -> (key column, extra required columns)
_CSV_FILES: dict[str, tuple[str, tuple[str, ...]]] = {
    "ipc_cpc.csv": ("prefix", ("source",)),
    "nace_isic.csv": ("code", ("scheme", "oecd_intensity")),
    "gics.csv": ("sub_industry", ()),
    "cn_industry.csv": ("name", ("sector",)),
    "nbs_sei_2018.csv": ("code", ("name_zh", "name_en")),
    "nbs_hightech_2017.csv": ("code", ("name_zh", "name_en")),
    "crunchbase.csv": ("name", ("kind", "sector")),
}
_CRUNCHBASE_KINDS = ("category", "group", "unicorn_industry")


@dataclass(frozen=True)
class Subfield:
    id: str
    name_en: str
    name_zh: str


@dataclass(frozen=True)
class Field:
    id: str
    name_en: str
    name_zh: str
    description_en: str
    description_zh: str
    subfields: tuple[Subfield, ...]
    keywords_en: tuple[str, ...]
    keywords_zh: tuple[str, ...]
    negative_keywords_en: tuple[str, ...]
    negative_keywords_zh: tuple[str, ...]
    star_category: str


@dataclass(frozen=True)
class TypologyClass:
    id: str
    name_en: str
    name_zh: str
    definition_en: str
    definition_zh: str
    criteria: dict[str, Any] = field(hash=False)
    examples_en: tuple[str, ...] = ()
    examples_zh: tuple[str, ...] = ()
    cues_en: tuple[str, ...] = ()
    cues_zh: tuple[str, ...] = ()


@dataclass(frozen=True)
class TrlLevel:
    level: int
    name_en: str
    name_zh: str


@dataclass(frozen=True)
class TrlCue:
    cue: str
    lang: str
    trl_min: int
    trl_max: int


@dataclass(frozen=True)
class CodeMatch:
    field_id: str
    weight: float
    scheme: str
    code: str
    rule: str
    reason: str
    source: str
    typology_hint: str | None = None


@dataclass(frozen=True)
class _Row:
    field_id: str
    weight: float
    rule: str
    reason: str
    source: str
    sector: str | None
    oecd_intensity: str | None
    typology_hint: str | None


# --------------------------------------------------------------------------- code normalisation

_PATENT_RE = re.compile(r"([A-HY])(\d{2})(?:([A-Z])(?:(\d{1,4})(?:/(\d{0,6}))?)?)?")
_PATENT_FIXED_RE = re.compile(r"([A-HY]\d{2}[A-Z])(\d{4})(\d{6})")
_IPC_VERSION_RE = re.compile(r"\(\d{4}\.\d{2}\)")


def normalize_patent_code(code: str) -> str:
    """Bring the many spellings of one IPC/CPC symbol to a single key, so lookups and joins agree.

    Accepts "G06N 3/08", "G06N0003/08", "g06n3/08", "C12Q-0001/6883", "H01L 21/027 (2006.01)" and
    the 14-character fixed-width form "G06N0003080000"; returns "G06N3/08". Class ("G06"),
    subclass ("G06N") and main group ("G06N3") are valid too.
    """
    if not isinstance(code, str):
        raise ParseError(f"patent classification code must be text, got {type(code).__name__}", code)
    s = unicodedata.normalize("NFKC", code).upper()
    s = _IPC_VERSION_RE.sub("", s)
    s = re.sub(r"[\s\-]", "", s)
    fixed = _PATENT_FIXED_RE.fullmatch(s)
    if fixed:
        sub = fixed.group(3).rstrip("0").ljust(2, "0")
        return f"{fixed.group(1)}{int(fixed.group(2))}/{sub}"
    m = _PATENT_RE.fullmatch(s)
    if not m:
        raise ParseError(f"not an IPC/CPC classification code: {code!r}", code)
    section, klass, subclass, main, subgroup = m.groups()
    out = section + klass + (subclass or "")
    if main is not None:
        out += str(int(main))
        if subgroup:
            out += "/" + subgroup
    return out


def _patent_keys(norm: str) -> Iterator[str]:
    """Candidate prefixes of a normalised symbol, most specific first.

    Order: subgroup digits, main group, subclass, class.
    """
    head, _, subgroup = norm.partition("/")
    for k in range(len(subgroup), 0, -1):
        yield f"{head}/{subgroup[:k]}"
    if len(head) > 4:
        yield head
    if len(head) >= 4:
        yield head[:4]
    yield head[:3]


_ACTIVITY_RANGE_RE = re.compile(r"(\d{1,2})-(\d{1,2})")


def _normalize_activity_code(code: object) -> str:
    """ISIC/NACE codes arrive as "26.11", "C26.1", "2611" or OECD aggregates like "62-63"."""
    s = unicodedata.normalize("NFKC", str(code)).strip().upper().replace(" ", "")
    rng = _ACTIVITY_RANGE_RE.fullmatch(s)
    if rng:
        return f"{int(rng.group(1)):02d}-{int(rng.group(2)):02d}"
    s = re.sub(r"^[A-U](?=\d)", "", s).replace(".", "")
    if not re.fullmatch(r"\d{2,4}", s):
        raise ParseError(f"not an ISIC/NACE activity code: {code!r}", code)
    return s


def _activity_keys(norm: str) -> Iterator[str]:
    if "-" in norm:
        yield norm
        return
    for k in range(len(norm), 1, -1):
        yield norm[:k]


def _name_key(name: object) -> str:
    """Names from different files differ in case, width and spacing; the key ignores all three."""
    return " ".join(unicodedata.normalize("NFKC", str(name)).casefold().split())


# --------------------------------------------------------------------------- the taxonomy object


class Taxonomy:
    """Fields, typology, TRL cues and concordance tables of one taxonomy version."""

    def __init__(
        self,
        version: str,
        fields: dict[str, Field],
        typology: dict[str, TypologyClass],
        trl_levels: dict[int, TrlLevel],
        trl_cues: tuple[TrlCue, ...],
        star_categories: dict[str, dict[str, str]],
        criteria_scales: dict[str, tuple[str, ...]],
        tables: dict[str, dict[str, list[_Row]]],
        directory: Path,
    ):
        self.version = version
        self.fields = fields
        self.typology = typology
        self.trl_levels = trl_levels
        self.trl_cues = trl_cues
        self.star_categories = star_categories
        self.criteria_scales = criteria_scales
        self.directory = directory
        self._tables = tables

    def __repr__(self) -> str:
        return f"Taxonomy(version={self.version!r}, directory={str(self.directory)!r})"

    # -- lookups

    def _lookup(self, scheme: str, code: str) -> tuple[str, str, list[_Row]] | None:
        """(normalised code, matched rule, rows) of the most specific rule that matches, or None."""
        if scheme not in SCHEMES:
            raise UsageError(f"unknown classification scheme {scheme!r}; known: {', '.join(SCHEMES)}")
        if scheme in ("cpc", "ipc"):
            norm = normalize_patent_code(code)
            table = self._tables["cpc"]
            keys: Iterable[str] = _patent_keys(norm)
        elif scheme in ("nace", "isic"):
            norm = _normalize_activity_code(code)
            table = self._tables[scheme]
            keys = _activity_keys(norm)
        elif scheme == "crunchbase":
            norm = _name_key(code)
            kind, sep, rest = norm.partition(":")
            if sep and kind in ("category", "group"):
                norm = rest.strip()
                table, keys = self._tables[f"crunchbase_{kind}"], [norm]
            else:
                cat, grp = self._tables["crunchbase_category"], self._tables["crunchbase_group"]
                hit = cat.get(norm) or grp.get(norm)
                return (norm, hit[0].rule, hit) if hit else None
        else:
            norm = _name_key(code)
            table, keys = self._tables[scheme], [norm]
        for key in keys:
            rows = table.get(key)
            if rows:
                return norm, key, rows
        return None

    def map_code(self, scheme: str, code: str) -> list[CodeMatch]:
        """Fields a code points to, strongest first; [] when the code is unknown or mapped to none."""
        hit = self._lookup(scheme, code)
        if hit is None:
            return []
        norm, _key, rows = hit
        matches = [
            CodeMatch(r.field_id, r.weight, scheme, norm, r.rule, r.reason, r.source, r.typology_hint)
            for r in rows
            if r.field_id != NONE_FIELD
        ]
        return sorted(matches, key=lambda m: (-m.weight, FIELD_IDS.index(m.field_id)))

    def map_codes(self, codes: Iterable[str]) -> list[CodeMatch]:
        """Map "scheme:code" strings (e.g. "gics:Semiconductors", "cpc:G06N3/08") in one call."""
        out: list[CodeMatch] = []
        for item in codes:
            scheme, sep, code = str(item).partition(":")
            if not sep:
                raise UsageError(f"expected 'scheme:code', got {item!r}")
            out.extend(self.map_code(scheme.strip().lower(), code.strip()))
        return out

    def field_scores(self, codes: Iterable[str]) -> dict[str, float]:
        """Strongest weight per field over several "scheme:code" strings, the usual way to combine them."""
        scores: dict[str, float] = {}
        for m in self.map_codes(codes):
            scores[m.field_id] = max(scores.get(m.field_id, 0.0), m.weight)
        return scores

    def known(self, scheme: str, code: str) -> bool:
        """True when the concordance has a rule for the code, even a "none" rule."""
        return self._lookup(scheme, code) is not None

    def sector(self, scheme: str, code: str) -> str | None:
        """primary / secondary / tertiary industry where the concordance records it."""
        hit = self._lookup(scheme, code)
        return hit[2][0].sector if hit else None

    def oecd_intensity(self, scheme: str, code: str) -> str | None:
        """OECD R&D-intensity group of an ISIC/NACE code (falls back to the enclosing group)."""
        if scheme not in ("nace", "isic"):
            if scheme not in SCHEMES:
                raise UsageError(f"unknown classification scheme {scheme!r}; known: {', '.join(SCHEMES)}")
            return None
        table = self._tables[scheme]
        for key in _activity_keys(_normalize_activity_code(code)):
            rows = table.get(key)
            if rows and rows[0].oecd_intensity:
                return rows[0].oecd_intensity
        return None

    def rule(self, scheme: str, code: str) -> tuple[str, str] | None:
        """(normalised code, the concordance row's key as written) of the rule that matches, or None.

        Lets a reader of a concordance's other columns (hardness.kind_evidence) find the same row
        this lookup finds, without repeating the matching rules.
        """
        hit = self._lookup(scheme, code)
        return (hit[0], hit[2][0].rule) if hit else None

    def typology_hint(self, scheme: str, code: str) -> str | None:
        """A typology class the code suggests (e.g. Fintech -> model_innovation), if the concordance gives one."""
        hit = self._lookup(scheme, code)
        if hit is None:
            return None
        for row in sorted(hit[2], key=lambda r: -r.weight):
            if row.typology_hint:
                return row.typology_hint
        return None


# --------------------------------------------------------------------------- loading


def _default_directory() -> Path:
    return Path(str(resources.files("hardtech.data")))


def load_taxonomy(directory: Path | None = None) -> Taxonomy:
    """Load and validate the taxonomy from `directory` (layout of hardtech/data: taxonomy/ and concordances/).

    Cached per resolved directory, because several commands ask for it in one process.
    """
    path = Path(directory) if directory is not None else _default_directory()
    return _load_cached(str(path.resolve()))


@functools.lru_cache(maxsize=8)
def _load_cached(directory: str) -> Taxonomy:
    root = Path(directory)
    tax_dir, conc_dir = root / "taxonomy", root / "concordances"
    fields_doc = _read_yaml(tax_dir / "fields.yaml")
    typology_doc = _read_yaml(tax_dir / "typology.yaml")
    version, fields, star_categories = _parse_fields(fields_doc, tax_dir / "fields.yaml")
    typ_version, typology, levels, cues, scales = _parse_typology(typology_doc, tax_dir / "typology.yaml")
    if typ_version != version:
        raise SourceError(
            f"{tax_dir / 'typology.yaml'}: version {typ_version!r} differs from fields.yaml version {version!r}"
        )
    tables = _load_concordances(conc_dir)
    return Taxonomy(version, fields, typology, levels, cues, star_categories, scales, tables, root)


load_taxonomy.cache_clear = _load_cached.cache_clear  # type: ignore[attr-defined]


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SourceError(f"{path}: taxonomy file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError(f"{path}: cannot read: {exc}") from None
    try:
        doc = yaml.load(text, Loader=_YAML_LOADER)  # noqa: S506 - safe loader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise SourceError(f"{path}: {where}malformed YAML: {problem}") from None
    if not isinstance(doc, dict):
        raise SourceError(f"{path}: expected a mapping at the top level")
    return doc


def _req(d: Any, key: str, kind: type, where: str) -> Any:
    if not isinstance(d, dict) or key not in d or d[key] is None:
        raise SourceError(f"{where}: missing key {key!r}")
    value = d[key]
    if kind is str and isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, kind):
        raise SourceError(f"{where}: {key!r} must be a {kind.__name__}, got {type(value).__name__}")
    if kind is str and not value.strip():
        raise SourceError(f"{where}: {key!r} is empty")
    return value


def _str_list(d: Any, key: str, where: str, lower: bool = False) -> tuple[str, ...]:
    items = _req(d, key, list, where)
    out = []
    for i, item in enumerate(items):
        if not isinstance(item, str) or not item.strip():
            raise SourceError(f"{where}: {key}[{i}] must be non-empty text, got {item!r}")
        if lower and item != item.lower():
            raise SourceError(f"{where}: {key}[{i}] {item!r} must be lower case")
        out.append(item.strip())
    if len(set(out)) != len(out):
        dup = sorted({x for x in out if out.count(x) > 1})
        raise SourceError(f"{where}: {key} has duplicates: {dup}")
    return tuple(out)


def _check_ids(found: list[str], expected: tuple[str, ...], where: str, what: str) -> None:
    if sorted(found) != sorted(expected) or len(found) != len(set(found)):
        raise SourceError(
            f"{where}: {what} must be exactly {list(expected)}; got {found}"
        )


def _parse_fields(doc: dict[str, Any], path: Path) -> tuple[str, dict[str, Field], dict[str, dict[str, str]]]:
    version = _req(doc, "version", str, str(path))
    stars = doc.get("star_categories") or {}
    if not isinstance(stars, dict):
        raise SourceError(f"{path}: 'star_categories' must be a mapping")
    star_categories = {
        str(k): {"name_en": _req(v, "name_en", str, f"{path}: star_categories.{k}"),
                 "name_zh": _req(v, "name_zh", str, f"{path}: star_categories.{k}")}
        for k, v in stars.items()
    }
    raw = _req(doc, "fields", list, str(path))
    fields: dict[str, Field] = {}
    for i, f in enumerate(raw):
        where = f"{path}: fields[{i}]"
        fid = _req(f, "id", str, where)
        where = f"{path}: fields[{i}] (id={fid})"
        subfields = []
        for j, s in enumerate(_req(f, "subfields", list, where)):
            sw = f"{where}: subfields[{j}]"
            subfields.append(
                Subfield(_req(s, "id", str, sw), _req(s, "name_en", str, sw), _req(s, "name_zh", str, sw))
            )
        star = _req(f, "star_category", str, where)
        if star_categories and star not in star_categories:
            raise SourceError(f"{where}: star_category {star!r} is not one of {sorted(star_categories)}")
        fields[fid] = Field(
            id=fid,
            name_en=_req(f, "name_en", str, where),
            name_zh=_req(f, "name_zh", str, where),
            description_en=_req(f, "description_en", str, where).strip(),
            description_zh=_req(f, "description_zh", str, where).strip(),
            subfields=tuple(subfields),
            keywords_en=_str_list(f, "keywords_en", where, lower=True),
            keywords_zh=_str_list(f, "keywords_zh", where),
            negative_keywords_en=_str_list(f, "negative_keywords_en", where, lower=True),
            negative_keywords_zh=_str_list(f, "negative_keywords_zh", where),
            star_category=star,
        )
    _check_ids(list(fields), FIELD_IDS, str(path), "field ids")
    return version, {fid: fields[fid] for fid in FIELD_IDS}, star_categories


def _parse_typology(doc: dict[str, Any], path: Path):
    version = _req(doc, "version", str, str(path))
    scales_raw = doc.get("criteria_scales") or {}
    scales = {str(k): tuple(str(x) for x in v) for k, v in scales_raw.items()}
    classes: dict[str, TypologyClass] = {}
    for i, c in enumerate(_req(doc, "classes", list, str(path))):
        where = f"{path}: classes[{i}]"
        cid = _req(c, "id", str, where)
        where = f"{path}: classes[{i}] (id={cid})"
        criteria = dict(_req(c, "criteria", dict, where))
        for name, value in criteria.items():
            if name in scales and value not in scales[name]:
                raise SourceError(f"{where}: criteria.{name}={value!r} is not on its scale {list(scales[name])}")
        classes[cid] = TypologyClass(
            id=cid,
            name_en=_req(c, "name_en", str, where),
            name_zh=_req(c, "name_zh", str, where),
            definition_en=_req(c, "definition_en", str, where).strip(),
            definition_zh=_req(c, "definition_zh", str, where).strip(),
            criteria=criteria,
            examples_en=_str_list(c, "examples_en", where),
            examples_zh=_str_list(c, "examples_zh", where),
            cues_en=_str_list(c, "cues_en", where, lower=True),
            cues_zh=_str_list(c, "cues_zh", where),
        )
    _check_ids(list(classes), TYPOLOGY_IDS, str(path), "typology class ids")
    levels: dict[int, TrlLevel] = {}
    for k, v in (_req(doc, "trl_levels", dict, str(path))).items():
        where = f"{path}: trl_levels.{k}"
        if not isinstance(k, int) or not 1 <= k <= 9:
            raise SourceError(f"{where}: TRL must be an integer 1-9")
        levels[k] = TrlLevel(k, _req(v, "en", str, where), _req(v, "zh", str, where))
    if sorted(levels) != list(range(1, 10)):
        raise SourceError(f"{path}: trl_levels must define levels 1 to 9")
    cues: list[TrlCue] = []
    for lang, items in (_req(doc, "trl_cues", dict, str(path))).items():
        for j, item in enumerate(items or []):
            where = f"{path}: trl_cues.{lang}[{j}]"
            cue = _req(item, "cue", str, where)
            rng = _req(item, "trl", list, where)
            if len(rng) != 2 or not all(isinstance(x, int) and 1 <= x <= 9 for x in rng) or rng[0] > rng[1]:
                raise SourceError(f"{where}: trl must be [low, high] with 1 <= low <= high <= 9, got {rng}")
            if lang == "en" and cue != cue.lower():
                raise SourceError(f"{where}: English cue {cue!r} must be lower case")
            cues.append(TrlCue(cue, str(lang), rng[0], rng[1]))
    ordered = {cid: classes[cid] for cid in TYPOLOGY_IDS}
    return version, ordered, levels, tuple(cues), scales


def _load_concordances(conc_dir: Path) -> dict[str, dict[str, list[_Row]]]:
    tables: dict[str, dict[str, list[_Row]]] = {
        name: {} for name in ("cpc", "nace", "isic", "gics", "cn_industry", "nbs_sei", "nbs_hightech",
                              "crunchbase_category", "crunchbase_group", "unicorn_industry")
    }
    for file_name, (key_col, extra) in _CSV_FILES.items():
        path = conc_dir / file_name
        for line, rec in _read_csv(path, (key_col, "field_id", "weight", "reason", *extra)):
            _add_row(tables, file_name, path, line, key_col, rec)
    tables["ipc"] = tables["cpc"]
    return tables


def _read_csv(path: Path, required: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except FileNotFoundError:
        raise SourceError(f"{path}: concordance file not found") from None
    with handle:
        reader = csv.DictReader(handle)
        try:
            header = reader.fieldnames or []
            missing = [c for c in required if c not in header]
            if missing:
                raise SourceError(f"{path}: line 1: missing column(s) {missing}")
            for rec in reader:
                if None in rec:
                    raise SourceError(f"{path}: line {reader.line_num}: more values than columns")
                yield reader.line_num, {k: (v or "").strip() for k, v in rec.items()}
        except (csv.Error, UnicodeDecodeError) as exc:
            raise SourceError(f"{path}: line {reader.line_num}: {exc}") from None


def _add_row(tables, file_name: str, path: Path, line: int, key_col: str, rec: dict[str, str]) -> None:
    where = f"{path}: line {line}"
    fid = rec["field_id"]
    if fid != NONE_FIELD and fid not in FIELD_IDS:
        raise SourceError(f"{where}: unknown field_id {fid!r}")
    try:
        weight = float(rec["weight"])
    except ValueError:
        raise SourceError(f"{where}: weight {rec['weight']!r} is not a number") from None
    if fid == NONE_FIELD and weight != 0:
        raise SourceError(f"{where}: a 'none' row must have weight 0")
    if fid != NONE_FIELD and not 0 < weight <= 1:
        raise SourceError(f"{where}: weight must be in (0, 1], got {weight}")
    if not rec["reason"]:
        raise SourceError(f"{where}: reason is empty")
    sector = rec.get("sector") or None
    if sector is not None and sector not in SECTORS:
        raise SourceError(f"{where}: sector {sector!r} is not one of {SECTORS}")
    hint = rec.get("typology_hint") or None
    if hint is not None and hint not in TYPOLOGY_IDS:
        raise SourceError(f"{where}: typology_hint {hint!r} is not one of {TYPOLOGY_IDS}")
    intensity = rec.get("oecd_intensity") or None
    if intensity is not None and intensity not in OECD_INTENSITY:
        raise SourceError(f"{where}: oecd_intensity {intensity!r} is not one of {OECD_INTENSITY}")
    raw_key = rec[key_col]
    if not raw_key:
        raise SourceError(f"{where}: {key_col} is empty")
    source = rec.get("source") or f"hardtech concordance {file_name}"
    try:
        targets = _targets(file_name, rec, raw_key)
    except ParseError as exc:
        raise SourceError(f"{where}: {exc}") from None
    if file_name == "nace_isic.csv" and intensity is None:
        raise SourceError(f"{where}: oecd_intensity is required")
    for table_name, key in targets:
        row = _Row(fid, weight, raw_key, rec["reason"], source, sector, intensity, hint)
        rows = tables[table_name].setdefault(key, [])
        if any(r.field_id == fid for r in rows):
            raise SourceError(f"{where}: duplicate rule for {raw_key!r} and field {fid!r}")
        if rows and (rows[0].sector, rows[0].oecd_intensity) != (sector, intensity):
            raise SourceError(f"{where}: sector/oecd_intensity of {raw_key!r} differ from its earlier row")
        rows.append(row)


def _targets(file_name: str, rec: dict[str, str], raw_key: str) -> list[tuple[str, str]]:
    """Which table(s) and key(s) one CSV row is filed under."""
    if file_name == "ipc_cpc.csv":
        return [("cpc", normalize_patent_code(raw_key))]
    if file_name == "nace_isic.csv":
        scheme = rec["scheme"]
        schemes = {"both": ("nace", "isic"), "nace": ("nace",), "isic": ("isic",)}.get(scheme)
        if schemes is None:
            raise ParseError(f"scheme must be isic, nace or both, got {scheme!r}", scheme)
        key = _normalize_activity_code(raw_key)
        return [(s, key) for s in schemes]
    if file_name == "gics.csv":
        return [("gics", _name_key(raw_key))]
    if file_name == "cn_industry.csv":
        return [("cn_industry", _name_key(raw_key))]
    if file_name in ("nbs_sei_2018.csv", "nbs_hightech_2017.csv"):
        table = "nbs_sei" if file_name.startswith("nbs_sei") else "nbs_hightech"
        keys = {_name_key(raw_key), _name_key(rec["name_zh"]), _name_key(rec["name_en"])}
        return [(table, k) for k in sorted(keys) if k]
    kind = rec["kind"]
    if kind not in _CRUNCHBASE_KINDS:
        raise ParseError(f"kind must be one of {_CRUNCHBASE_KINDS}, got {kind!r}", kind)
    table = "unicorn_industry" if kind == "unicorn_industry" else f"crunchbase_{kind}"
    return [(table, _name_key(raw_key))]
