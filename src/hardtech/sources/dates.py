"""Dates as sources write them, with how precise they really are.

A founding "2016" and a funding round "2016-05-03" must not look equally exact, so every date
keeps a precision ("day", "month", "year") and stands for the first day of its period.

Formats read (after full-width characters become ASCII):
- ISO: 2016-05-03, 2016-05-03T10:00:00(+08:00) (the written date is kept; no time-zone shift),
  2016-05, 2016/5/3, 2016.05.03, 2016/05, 2016.05 (year first, so month then day);
- Chinese: 2016年, 2016年5月, 2016年5月3日 (日 or 号);
- compact: 20001229 (eight digits, YYYYMMDD, as in A-share listing dates), 2016 (a year);
- US: 5/13/2025 (slashes with the year last are always month/day/year; 13/5/2025 is refused);
- dotted day-first: 13.05.2025 (dots with the year last are always day.month.year);
- English months: May 2016, 3 May 2016, May 3, 2016 (full or three-letter names);
- numbers: a whole number 1000–2999 is a year, an eight-digit one is YYYYMMDD. Excel serial
  numbers (days since 1899-12-30) are read only when asked (`serial=True`), or by
  `parse_date_series` when a numeric column lies entirely within `EXCEL_SERIALS` — a lone
  number like 42000 is otherwise ambiguous.
Empty cells and "n/a"-style texts give None; anything else unreadable, or an impossible date
(2016-02-30, month 13), raises ParseError naming the text.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from dataclasses import dataclass
from numbers import Number

import numpy as np
import pandas as pd

from hardtech.errors import ParseError
from hardtech.sources.money import MISSING_TEXT

EXCEL_EPOCH = dt.date(1899, 12, 30)
EXCEL_SERIALS = (10_000, 80_000)  # 1927-05-18 .. 2119-01-10: what a plausible serial looks like
YEARS = (1000, 2999)

_MONTHS = {
    name: i
    for i, names in enumerate(
        [("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"),
         ("may",), ("june", "jun"), ("july", "jul"), ("august", "aug"),
         ("september", "sep", "sept"), ("october", "oct"), ("november", "nov"),
         ("december", "dec")],
        start=1,
    )
    for name in names
}
_MON = "(?P<mon>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_TIME = r"(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:Z|[+-]\d{2}:?\d{2})?)?"

# (regex, precision, field order): the first that matches the whole text decides.
_PATTERNS = [
    (rf"(?P<y>\d{{4}})-(?P<m>\d{{1,2}})-(?P<d>\d{{1,2}}){_TIME}", "day"),
    (r"(?P<y>\d{4})(?P<sep>[/.])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})", "day"),
    (r"(?P<y>\d{4})(?:\.0+)?", "year"),
    (r"(?P<y>\d{4})[-/.](?P<m>\d{1,2})", "month"),
    (r"(?P<y>\d{4})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*[日号]", "day"),
    (r"(?P<y>\d{4})\s*年\s*(?P<m>\d{1,2})\s*月", "month"),
    (r"(?P<y>\d{4})\s*年", "year"),
    (r"(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})", "day"),
    (rf"(?P<m>\d{{1,2}})/(?P<d>\d{{1,2}})/(?P<y>\d{{4}}){_TIME}", "day"),
    (r"(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.(?P<y>\d{4})", "day"),
    (rf"{_MON}\s*,?\s*(?P<y>\d{{4}})", "month"),
    (rf"(?P<d>\d{{1,2}})\s*{_MON}\s*,?\s*(?P<y>\d{{4}})", "day"),
    (rf"{_MON}\s*(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\s*,?\s*(?P<y>\d{{4}})", "day"),
]
_COMPILED = [(re.compile(p, re.IGNORECASE), prec) for p, prec in _PATTERNS]
_ISO_DAY = r"\d{4}-\d{2}-\d{2}"


@dataclass(frozen=True)
class ParsedDate:
    """A date and how much of it the source gave; `value` is the period's first day."""

    value: dt.date
    precision: str  # "day" | "month" | "year"


def _fail(text: object, why: str) -> ParseError:
    return ParseError(f"cannot read {text!r} as a date: {why}", text)


def _make(text: object, y: int, m: int, d: int, precision: str) -> ParsedDate:
    if not YEARS[0] <= y <= YEARS[1]:
        raise _fail(text, f"year {y} is outside {YEARS[0]}–{YEARS[1]}")
    try:
        return ParsedDate(dt.date(y, m, d), precision)
    except ValueError:
        raise _fail(text, f"no such day in the calendar ({y:04d}-{m:02d}-{d:02d})") from None


def _from_number(text: object, v: float, serial: bool) -> ParsedDate:
    if serial:
        if not EXCEL_SERIALS[0] <= v <= EXCEL_SERIALS[1]:
            raise _fail(text, f"an Excel serial number should lie in {EXCEL_SERIALS}")
        return ParsedDate(EXCEL_EPOCH + dt.timedelta(days=math.floor(v)), "day")
    if v != math.floor(v):
        raise _fail(text, "a date number must be a whole year or YYYYMMDD")
    n = int(v)
    if YEARS[0] <= n <= YEARS[1]:
        return ParsedDate(dt.date(n, 1, 1), "year")
    if 10_000_000 <= n <= 99_999_999:
        return _make(text, n // 10_000, n // 100 % 100, n % 100, "day")
    raise _fail(text, "a number is read as a year or YYYYMMDD (Excel serials need serial=True)")


def parse_date(text: object, *, serial: bool = False) -> ParsedDate | None:
    """Read one date; None for an empty cell. `serial` reads numbers as Excel serial days."""
    if text is None or text is pd.NA or text is pd.NaT:
        return None
    if isinstance(text, (bool, np.bool_)):
        raise _fail(text, "a yes/no value is not a date")
    if isinstance(text, (dt.datetime, pd.Timestamp)):
        return ParsedDate(text.date(), "day")
    if isinstance(text, dt.date):
        return ParsedDate(text, "day")
    if isinstance(text, np.datetime64):
        return None if np.isnat(text) else ParsedDate(pd.Timestamp(text).date(), "day")
    if isinstance(text, Number):
        v = float(text)  # type: ignore[arg-type]
        if math.isnan(v):
            return None
        if not math.isfinite(v):
            raise _fail(text, "the number is not finite")
        return _from_number(text, v, serial)

    s = unicodedata.normalize("NFKC", str(text)).strip()
    if s.lower() in MISSING_TEXT:
        return None
    for regex, precision in _COMPILED:
        m = regex.fullmatch(s)
        if not m:
            continue
        g = m.groupdict()
        y = int(g["y"])
        month = _MONTHS[g["mon"].lower()] if g.get("mon") else int(g.get("m") or 1)
        if regex.pattern.startswith("(?P<m>") and month > 12:
            raise _fail(text, "slashed dates with the year last are month/day/year")
        return _make(text, y, month, int(g.get("d") or 1), precision)
    if serial and re.fullmatch(r"\d+(?:\.\d+)?", s):
        return _from_number(text, float(s), True)
    raise _fail(text, "unrecognised format (expected e.g. 2016-05-03, 2016年5月, 5/13/2025)")


def parse_year(text: object) -> int | None:
    """A year from "2016", "2016年", "FY2016", 2016.0 or any full date."""
    if text is None or text is pd.NA or text is pd.NaT:
        return None
    if isinstance(text, Number) and not isinstance(text, (bool, np.bool_)):
        v = float(text)  # type: ignore[arg-type]
        if math.isnan(v):
            return None
        if v == math.floor(v) and YEARS[0] <= v <= YEARS[1]:
            return int(v)
    if isinstance(text, str):
        s = unicodedata.normalize("NFKC", text).strip()
        if s.lower() in MISSING_TEXT:
            return None
        m = re.fullmatch(r"(?:fy|财年|年度)?\s*(\d{4})\s*(?:年度|财年|年|fy)?", s, re.IGNORECASE)
        if m and YEARS[0] <= int(m.group(1)) <= YEARS[1]:
            return int(m.group(1))
    try:
        parsed = parse_date(text)
    except ParseError:
        raise ParseError(
            f"cannot read {text!r} as a year: expected e.g. 2016, 2016年, FY2016", text
        ) from None
    return None if parsed is None else parsed.value.year


def _as_datetime(values: list[dt.date | None]) -> np.ndarray:
    return np.array(
        [np.datetime64("NaT", "s") if v is None else np.datetime64(v, "s") for v in values],
        dtype="datetime64[s]",
    )


def parse_date_series(values: pd.Series, *, serial: bool | None = None) -> pd.DataFrame:
    """Parse a column in bulk: ISO days go through pandas, the rest through `parse_date`.

    Returns columns value (datetime64[s], NaT when absent), precision ("day"/"month"/"year" or
    None) and error (the ParseError message, or None), on the input's index. `serial=None`
    reads a numeric column as Excel serials only if all its values lie within EXCEL_SERIALS.
    """
    s = values if isinstance(values, pd.Series) else pd.Series(values)
    if isinstance(s.dtype, pd.CategoricalDtype):
        s = s.astype(object)
    n = len(s)
    value = np.full(n, np.datetime64("NaT", "s"), dtype="datetime64[s]")
    precision = np.full(n, None, dtype=object)
    error = np.full(n, None, dtype=object)

    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        days = s.dt.tz_localize(None) if getattr(s.dt, "tz", None) else s
        value[:] = days.dt.floor("D").to_numpy(dtype="datetime64[s]")
        precision[s.notna().to_numpy()] = "day"
        return _frame(value, precision, error, s.index)

    numeric = pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype)
    if numeric and serial is None:
        arr = s.to_numpy(dtype=float, na_value=np.nan)
        present = arr[~np.isnan(arr)]
        serial = bool(len(present)) and bool(
            ((present >= EXCEL_SERIALS[0]) & (present <= EXCEL_SERIALS[1])).all()
        )
    serial = bool(serial)

    todo = s.notna().to_numpy(dtype=bool).copy()
    if not numeric and pd.api.types.is_string_dtype(s.dtype):
        text = s.astype("str") if s.dtype == object else s
        is_str = s.map(lambda v: isinstance(v, str)).to_numpy(dtype=bool) if s.dtype == object \
            else todo
        iso = text.str.strip().str.fullmatch(_ISO_DAY).fillna(False).to_numpy(dtype=bool) & is_str
        if iso.any():
            got = pd.to_datetime(text[iso].str.strip(), format="%Y-%m-%d", errors="coerce")
            ok = (got.notna() & got.dt.year.between(*YEARS)).to_numpy(dtype=bool)
            idx = np.flatnonzero(iso)[ok]
            value[idx] = got[ok].to_numpy(dtype="datetime64[s]")
            precision[idx] = "day"
            todo[idx] = False

    rows = np.flatnonzero(todo)
    if len(rows):
        raw = s.to_numpy(dtype=object)
        cache: dict[object, ParsedDate | None | str] = {}
        parsed: list[dt.date | None] = []
        for i in rows:
            v = raw[i]
            key = (type(v), v)
            if key not in cache:
                try:
                    cache[key] = parse_date(v, serial=serial)
                except ParseError as exc:
                    cache[key] = str(exc)
            got = cache[key]
            if isinstance(got, str):
                error[i] = got
                parsed.append(None)
            else:
                parsed.append(None if got is None else got.value)
                precision[i] = None if got is None else got.precision
        value[rows] = _as_datetime(parsed)
    return _frame(value, precision, error, s.index)


def _frame(value: np.ndarray, precision: np.ndarray, error: np.ndarray, index) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "value": pd.Series(value, index=index),
            "precision": pd.Series(precision, dtype=object, index=index),
            "error": pd.Series(error, dtype=object, index=index),
        },
        index=index,
    )
