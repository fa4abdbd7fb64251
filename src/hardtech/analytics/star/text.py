"""The words of a STAR verdict: thresholds, comparisons and years as an analyst reads them."""

from __future__ import annotations

from typing import Iterable

INDICATOR_LABELS = {
    "rd_investment": "R&D investment",
    "rd_staff_share": "R&D staff share",
    "invention_patents": "invention patents",
    "revenue_growth": "revenue growth",
}

_COUNT_WORDS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six"}


def _trim(x: float, decimals: int) -> str:
    s = f"{x:,.{decimals}f}"
    return s.rstrip("0").rstrip(".") if "." in s else s


def _pair(value: float, threshold: float, scale: float, passed: bool) -> tuple[str, str]:
    """Value and threshold as text, with enough decimals that a failure never reads '5% < 5%'."""
    for d in (2, 4, 6, 8, 10):
        a, b = _trim(value * scale, d), _trim(threshold * scale, d)
        if a != b or passed:
            return a, b
    return _trim(value * scale, 12), _trim(threshold * scale, 12)


def _cmp(value: float, threshold: float, passed: bool, kind: str) -> str:
    op = "≥" if passed else "<"
    if kind == "pct":
        a, b = _pair(value, threshold, 100.0, passed)
        return f"{a}% {op} {b}%"
    if kind == "money":
        a, b = _pair(value, threshold, 1e-6, passed)
        return f"RMB {a} m {op} RMB {b} m"
    return f"{_trim(value, 0)} {op} {_trim(threshold, 0)}"


def _fmt_threshold(value: float, kind: str) -> str:
    if kind == "pct":
        return f"{_trim(value * 100, 6)}%"
    if kind == "money":
        return f"RMB {_trim(value / 1e6, 6)} m"
    return _trim(value, 0)


def _years_text(years: Iterable[int]) -> str:
    ys = sorted(set(years))
    return f"fiscal year{'s' if len(ys) > 1 else ''} {', '.join(map(str, ys))}"
