"""Reading the inputs of the STAR test: numbers, lists and industry codes as the store gives them.

Why its own module: the rules file names codes (`gics:Application Software`, `cn_industry:软件服务`) that a
company's codes must match however they were written; the rules parser and the evaluation both need it.
"""

from __future__ import annotations

import functools
import math
import unicodedata
from typing import Any, Iterable

import pandas as pd

def _num(x: Any) -> float | None:
    if x is None:
        return None
    try:
        if pd.isna(x):
            return None
        return float(x)
    except (TypeError, ValueError):
        return None


def _as_list(x: Any) -> list[str]:
    """Flags and codes arrive as lists, arrays, '|'-separated text or NaN."""
    if x is None:
        return []
    if isinstance(x, str):
        return [p.strip() for p in x.split("|") if p.strip()]
    if isinstance(x, float) and math.isnan(x):
        return []
    try:
        return [str(p).strip() for p in x if p is not None and str(p).strip()]
    except TypeError:
        return [str(x).strip()]


def _text_or_none(x: Any) -> str | None:
    if x is None or (isinstance(x, float) and math.isnan(x)) or x is pd.NA:
        return None
    return str(x).strip() or None


def _name_key(s: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", s).casefold().split())


@functools.lru_cache(maxsize=65536)
def _code_key(item: str) -> tuple[str, str]:
    """("scheme", "normalised code"); ISIC/NACE as digits ("C26.11" → "2611"), names case-folded."""
    scheme, _, code = str(item).partition(":")
    scheme = scheme.strip().lower()
    code = unicodedata.normalize("NFKC", code).strip()
    if scheme in ("isic", "nace"):
        code = code.upper().replace(" ", "").replace(".", "")
        if len(code) > 1 and code[0].isalpha() and code[1].isdigit():
            code = code[1:]
        return scheme, code
    key = _name_key(code)
    if scheme == "crunchbase":
        kind, sep, rest = key.partition(":")
        if sep and kind in ("category", "group"):
            key = rest.strip()
    return scheme, key


@functools.lru_cache(maxsize=262144)
def _code_matches(listed: str, given: str) -> bool:
    (ls, lc), (gs, gc) = _code_key(listed), _code_key(given)
    if ls != gs:
        return False
    if ls in ("isic", "nace") and "-" not in lc and "-" not in gc:
        return gc.startswith(lc)  # a listed division ("64") covers its groups and classes ("6419")
    return lc == gc


def _first_match(listed: Iterable[str], given: Iterable[str]) -> str | None:
    for g in given:
        if any(_code_matches(l, g) for l in listed):
            return g
    return None
