"""Evidence of what kind of business an organisation is, from every source we have, for the hardness score.

Why: the seeds set hard & core technology (long-term, science-based, product-oriented, industrial,
acting on the physical world) against internet / business-model innovation, and R&D figures
alone cannot tell a bank's IT budget from a foundry's process research. The codes that say what a
company does can: the OECD R&D-intensity group of its ISIC/NACE division, whether that activity is
manufacturing or services, and a typology prior for ISIC/NACE, GICS and A-share industries
(banks, retail, e-commerce marketplaces → finance or model innovation; aerospace, semiconductors,
pharma, machinery → hard & core candidates). The organisation's own kind (a university, a
research institute, an investor) is evidence too.

This module only finds the *classes* and says where each came from; what a class is worth in the
score is a weight (hardness_weights.toml `[kind.*]`), so the two can be disagreed with separately.
The classes live in two columns of three concordances (`activity`, `kind_prior`; documented in
concordances/README.md), matched through the taxonomy's own lookup (`Taxonomy.rule`), so a code
finds the same row here as everywhere else.
"""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from hardtech.errors import ParseError, SourceError, UsageError

ACTIVITIES: tuple[str, ...] = ("manufacturing", "other_industry", "primary", "services")
KIND_PRIORS: tuple[str, ...] = ("hard_core", "deep", "high", "conventional", "services", "model_innovation", "finance")
RESEARCH = "research"  # the prior an organisation kind (university, institute) gives; no code carries it
PRIOR_CLASSES: tuple[str, ...] = (*KIND_PRIORS, RESEARCH)
OECD_GROUPS: tuple[str, ...] = ("high", "medium_high", "medium", "medium_low", "low")

# Which organisation kinds say something about the kind of business (schema ORG_KINDS); a company or a
# start-up could be anything, so its kind is no evidence.
ORG_KIND_PRIOR: dict[str, str] = {"university": RESEARCH, "institute": RESEARCH, "investor": "finance",
                                  "government": "services"}

# concordance file -> (taxonomy schemes it serves, key column)
FILES: dict[str, tuple[tuple[str, ...], str]] = {
    "nace_isic.csv": (("nace", "isic"), "code"),
    "gics.csv": (("gics",), "sub_industry"),
    "cn_industry.csv": (("cn_industry",), "name"),
}
SCHEMES: tuple[str, ...] = ("nace", "isic", "gics", "cn_industry")


@dataclass(frozen=True)
class CodeKind:
    """What one industry code says about the kind of business, and which concordance row says it."""

    scheme: str
    code: str
    rule: str            # the concordance row's key as written (the code, or a broader one it fell back to)
    file: str
    activity: str | None
    kind_prior: str | None
    oecd_group: str | None
    reason: str

    @property
    def source(self) -> str:
        return f"concordances/{self.file} row {self.rule!r}: {self.reason}"


@dataclass(frozen=True)
class SectorKind:
    """The evidence of kind of one organisation: its first code of each scheme, and its organisation kind."""

    codes: tuple[CodeKind, ...]        # at most one per scheme family (ISIC/NACE, GICS, A-share), in that order
    unknown_codes: tuple[str, ...]     # codes given that no concordance knows (said, not silently dropped)
    org_kind: str | None
    org_prior: str | None              # the prior the organisation kind gives, if any

    @property
    def sector(self) -> CodeKind | None:
        """The ISIC/NACE code, whose OECD group sets the R&D-intensity norm."""
        return next((c for c in self.codes if c.scheme in ("nace", "isic")), None)

    def activities(self) -> list[tuple[str, str]]:
        """(activity, source) of every code that records one."""
        return [(c.activity, f"{c.scheme}:{c.code} → {c.activity} ({c.source})") for c in self.codes if c.activity]

    def priors(self) -> list[tuple[str, str]]:
        """(typology prior, source) of every code and of the organisation kind that gives one."""
        out = [(c.kind_prior, f"{c.scheme}:{c.code} → {c.kind_prior} ({c.source})") for c in self.codes if c.kind_prior]
        if self.org_prior:
            out.append((self.org_prior, f"organisation kind {self.org_kind} → {self.org_prior}"))
        return out


# --------------------------------------------------------------------------- the concordance columns


def _default_concordances() -> Path:
    from hardtech.analytics.taxonomy import load_taxonomy

    return Path(load_taxonomy().directory) / "concordances"


@functools.lru_cache(maxsize=4)
def load_code_kinds(directory: str | None = None) -> dict[tuple[str, str], tuple[str | None, str | None, str, str]]:
    """(scheme, row key as written) → (activity, kind_prior, reason, file) from the three concordances.

    Every row of a key must agree (a code has one row per field it points to); a value outside
    ACTIVITIES / KIND_PRIORS is refused naming the file and line. An empty value means "this code
    says nothing about it" (e.g. 综合类, conglomerates of unknown mix).
    """
    root = Path(directory) if directory else _default_concordances()
    out: dict[tuple[str, str], tuple[str | None, str | None, str, str]] = {}
    for name, (schemes, key_col) in FILES.items():
        path = root / name
        try:
            handle = path.open(encoding="utf-8-sig", newline="")
        except OSError as exc:
            raise SourceError(f"{path}: cannot read the concordance: {exc.strerror or exc}") from None
        with handle:
            reader = csv.DictReader(handle)
            missing = [c for c in (key_col, "activity", "kind_prior", "reason") if c not in (reader.fieldnames or [])]
            if missing:
                raise SourceError(f"{path}: line 1: missing column(s) {missing} (hardness reads the evidence of kind "
                                  "from them; see concordances/README.md)")
            for rec in reader:
                where = f"{path}: line {reader.line_num}"
                act = (rec.get("activity") or "").strip() or None
                prior = (rec.get("kind_prior") or "").strip() or None
                if act is not None and act not in ACTIVITIES:
                    raise SourceError(f"{where}: activity {act!r} is not one of {ACTIVITIES}")
                if prior is not None and prior not in KIND_PRIORS:
                    raise SourceError(f"{where}: kind_prior {prior!r} is not one of {KIND_PRIORS}")
                key = (rec.get(key_col) or "").strip()
                row_schemes = schemes
                if name == "nace_isic.csv":
                    s = (rec.get("scheme") or "").strip()
                    row_schemes = ("nace", "isic") if s == "both" else (s,)
                for scheme in row_schemes:
                    k = (scheme, key)
                    value = (act, prior, (rec.get("reason") or "").strip(), name)
                    if k in out and out[k][:2] != value[:2]:
                        raise SourceError(f"{where}: activity/kind_prior of {key!r} differ from its earlier row")
                    out.setdefault(k, value)
    return out


def code_kind(scheme: str, code: str, directory: str | None = None) -> CodeKind | None:
    """What one code says (None when no concordance row matches it); the lookup falls back as the taxonomy's does."""
    from hardtech.analytics.taxonomy import load_taxonomy

    if scheme not in SCHEMES:
        raise UsageError(f"no evidence of kind in scheme {scheme!r}; schemes: {', '.join(SCHEMES)}")
    tax = load_taxonomy()
    try:
        hit = tax.rule(scheme, code)
    except ParseError:
        return None
    if hit is None:
        return None
    norm, rule = hit
    row = load_code_kinds(directory).get((scheme, rule))
    if row is None:  # a taxonomy directory whose files lack the row: the code is known but says nothing of kind
        return None
    group = tax.oecd_intensity(scheme, code) if scheme in ("nace", "isic") else None
    return CodeKind(scheme, str(code).strip(), rule, row[3], row[0], row[1], group, row[2])


def sector_kind(codes: Iterable[str | None], org_kind: str | None) -> SectorKind:
    """The evidence of kind of an organisation from its `scheme:code` strings (one per family) and kind."""
    found, unknown = [], []
    for item in codes:
        if not item:
            continue
        scheme, _, code = str(item).partition(":")
        scheme = scheme.strip().lower()
        hit = code_kind(scheme, code.strip()) if scheme in SCHEMES else None
        (found.append(hit) if hit is not None else unknown.append(str(item)))
    kind = (org_kind or "").strip().lower() or None
    return SectorKind(tuple(found), tuple(unknown), kind, ORG_KIND_PRIOR.get(kind or ""))

