"""Exchange rates from a dated table, so every converted figure can say which rate it used.

Rankings mix RMB, dollar and euro figures; converting them silently with "today's" rate would
make results unreproducible. Rates come only from a CSV table (the packaged ECB year-end table,
or one the user supplies with `--fx FILE` / HARDTECH_FX), each conversion returns the `Rate`
it used (value, date, source), and a missing rate is an `FXError`, never a guess.

Lookup: a pair is found directly, inverted (the table has USD per EUR, we want EUR per USD), or
crossed through a currency that is a base in the table (USD→CNY = EUR→CNY ÷ EUR→USD). Policy
"on_or_before" (default) takes, for each leg, the latest rate dated on or before the day asked;
"nearest" takes the closest date, the earlier one on a tie. A cross rate's date is its oldest
leg's date. `max_age_days` refuses rates older (or, for "nearest", farther) than that.

Accepted files (detected from the header): hardtech's own `date,base,quote,rate[,source,...]`
with optional "# version: ..." comment lines on top; the ECB's `eurofxref-hist.csv` (a Date
column and one column per currency, EUR base); the ECB data portal's SDMX CSV (TIME_PERIOD,
OBS_VALUE, CURRENCY, CURRENCY_DENOM).
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import hashlib
import io
import math
import os
import re
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import numpy as np
import pandas as pd

from hardtech.errors import FXError, SourceError, UsageError

ENV_VAR = "HARDTECH_FX"
POLICIES = ("on_or_before", "nearest")
_CODE = re.compile(r"[A-Z]{3}")
_NAT = np.datetime64("NaT", "D")
_FAR = np.timedelta64(10**9, "D")
_Leg = tuple[tuple[str, str], bool]  # (pair in the table, whether to divide by it)


@dataclass(frozen=True)
class Rate:
    """1 `base` = `value` `quote`, as published on `date` by `source`."""

    base: str
    quote: str
    value: float
    date: dt.date
    source: str
    via: str = "direct"  # "direct" | "inverse" | "cross via EUR" | "identity"


@dataclass(frozen=True)
class _Series:
    dates: np.ndarray  # datetime64[D], ascending
    rates: np.ndarray  # float64
    sources: np.ndarray  # object


def _day(on: object) -> np.datetime64:
    if isinstance(on, np.datetime64):
        return on.astype("datetime64[D]")
    if isinstance(on, dt.datetime):
        on = on.date()
    if isinstance(on, str):
        try:
            on = dt.date.fromisoformat(on.strip())
        except ValueError:
            raise UsageError(f"not a date: {on!r} (use YYYY-MM-DD)") from None
    if not isinstance(on, dt.date):
        raise UsageError(f"not a date: {on!r}")
    return np.datetime64(on, "D")


def _as_date(d: np.datetime64) -> dt.date:
    return d.astype("datetime64[D]").astype(dt.date)


class FXTable:
    """An in-memory rate table; build it with `from_csv` (or `load_fx`)."""

    def __init__(self, rows: pd.DataFrame, name: str, version: str, sha256: str = ""):
        self.name = name
        self.version = version
        self.sha256 = sha256
        self._series: dict[tuple[str, str], _Series] = {}
        if rows.empty:
            raise SourceError(f"{name}: the FX table has no rates")
        rows = rows.sort_values(["base", "quote", "date"], kind="stable")
        for (base, quote), g in rows.groupby(["base", "quote"], sort=True):
            self._series[(base, quote)] = _Series(
                g["date"].to_numpy(dtype="datetime64[D]"),
                g["rate"].to_numpy(dtype=float),
                g["source"].to_numpy(dtype=object),
            )
        counts: dict[str, int] = {}
        for base, _ in self._series:
            counts[base] = counts.get(base, 0) + 1
        self._pivots = sorted(counts, key=lambda b: (-counts[b], b))

    def __repr__(self) -> str:
        return f"FXTable({self.name!r}, version={self.version!r}, pairs={len(self._series)})"

    # ---- loading -------------------------------------------------------------------------

    @classmethod
    def from_csv(cls, path: str | os.PathLike) -> FXTable:
        """Read a rate file (format detected from its header); bad rows raise SourceError."""
        p = Path(path)
        try:
            data = p.read_bytes()
        except OSError as exc:
            raise SourceError(f"cannot read FX file {p}: {exc.strerror or exc}") from None
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise SourceError(f"FX file {p} is not UTF-8 text") from None
        sha = hashlib.sha256(data).hexdigest()
        version, first_line, lines = _split_comments(text)
        reader = csv.reader(io.StringIO("".join(lines)))
        try:
            header = [h.strip() for h in next(reader)]
        except StopIteration:
            raise SourceError(f"FX file {p} is empty") from None
        cols = {h.lower(): i for i, h in enumerate(header) if h}
        if {"date", "base", "quote", "rate"} <= cols.keys():
            rows = _read_long(reader, cols, p, first_line)
        elif {"time_period", "obs_value", "currency", "currency_denom"} <= cols.keys():
            rows = _read_sdmx(reader, cols, p, first_line)
        elif header and header[0].lower() == "date" and all(
            _CODE.fullmatch(h) for h in header[1:] if h
        ):
            rows = _read_ecb_wide(reader, header, p, first_line)
        else:
            raise SourceError(
                f"{p}: unknown FX file layout; expected columns date,base,quote,rate,source "
                f"(or the ECB's eurofxref-hist.csv / SDMX CSV), got {', '.join(header)}"
            )
        return cls(rows, p.name, version or f"sha256:{sha[:12]}", sha)

    # ---- lookup --------------------------------------------------------------------------

    @property
    def currencies(self) -> list[str]:
        return sorted({c for pair in self._series for c in pair})

    def _route(self, frm: str, to: str, on: object) -> tuple[list[_Leg], str]:
        def leg(a: str, b: str):
            if (a, b) in self._series:
                return ((a, b), False)
            if (b, a) in self._series:
                return ((b, a), True)
            return None

        one = leg(frm, to)
        if one:
            return [one], ("inverse" if one[1] else "direct")
        for pivot in self._pivots:
            if pivot in (frm, to):
                continue
            a, b = leg(frm, pivot), leg(pivot, to)
            if a and b:
                return [a, b], f"cross via {pivot}"
        absent = [c for c in (frm, to) if c not in self.currencies]
        why = (
            f"{' and '.join(absent)} {'is' if len(absent) == 1 else 'are'} not in the table"
            if absent else "no route between them"
        )
        raise FXError(
            f"no {frm}→{to} rate for {_fmt(on)} in {self.name} (version {self.version}): {why} "
            f"(it has {', '.join(self.currencies)}); use --fx FILE or {ENV_VAR} for other rates"
        )

    def _pick(self, ser: _Series, days: np.ndarray, policy: str, max_age: int | None) -> np.ndarray:
        """Index into `ser` for each day (-1 where no rate qualifies)."""
        right = np.searchsorted(ser.dates, days, side="right")  # first date after the day
        before = right - 1  # last date on or before the day, -1 if none
        if policy == "on_or_before":
            idx = before
        else:
            last = len(ser.dates) - 1
            after = np.minimum(right, last)
            gap_before = np.where(before >= 0, days - ser.dates[np.clip(before, 0, None)], _FAR)
            gap_after = np.where(right <= last, ser.dates[after] - days, _FAR)
            idx = np.where(gap_after < gap_before, after, before)  # a tie keeps the earlier
        idx = np.where(np.isnat(days), -1, idx)
        if max_age is not None:
            ok = idx >= 0
            age = np.abs(days[ok] - ser.dates[idx[ok]]).astype(int)
            sub = idx[ok]
            sub[age > max_age] = -1
            idx[ok] = sub
        return idx

    def _check_policy(self, policy: str) -> None:
        if policy not in POLICIES:
            raise UsageError(f"unknown FX policy {policy!r}; use one of {', '.join(POLICIES)}")

    def rate(
        self,
        from_ccy: str,
        to_ccy: str,
        on: dt.date | str,
        policy: str = "on_or_before",
        max_age_days: int | None = None,
    ) -> Rate:
        """The rate to turn `from_ccy` into `to_ccy` on day `on` (1 from_ccy = value to_ccy)."""
        self._check_policy(policy)
        frm, to, day = from_ccy.strip().upper(), to_ccy.strip().upper(), _day(on)
        if frm == to:
            return Rate(frm, to, 1.0, _as_date(day), "identity (same currency)", "identity")
        legs, via = self._route(frm, to, day)
        num = den = 1.0
        dates, sources = [], []
        for pair, inverted in legs:
            ser = self._series[pair]
            i = int(self._pick(ser, np.array([day]), policy, max_age_days)[0])
            if i < 0:
                raise FXError(self._missing_message(frm, to, pair, day, policy, max_age_days))
            if inverted:
                den *= float(ser.rates[i])
            else:
                num *= float(ser.rates[i])
            dates.append(ser.dates[i])
            sources.append(str(ser.sources[i]))
        source = sources[0] if len(set(sources)) == 1 else " + ".join(sources)
        return Rate(frm, to, float(num / den), _as_date(min(dates)), source, via)

    def _missing_message(self, frm, to, pair, day, policy, max_age) -> str:
        ser = self._series[pair]
        where = "on or before" if policy == "on_or_before" else "near"
        age = f" within {max_age} days" if max_age is not None else ""
        leg = "" if set(pair) == {frm, to} else f": it needs {pair[0]}→{pair[1]}, and"
        span = f"{_fmt(ser.dates[0])} to {_fmt(ser.dates[-1])}"
        return (
            f"no {frm}→{to} rate {where} {_fmt(day)}{age} in {self.name} "
            f"(version {self.version}){leg or ':'} the table has {pair[0]}→{pair[1]} "
            f"from {span}; use --fx FILE or {ENV_VAR} for other rates"
        )

    def convert(
        self,
        amount: float,
        from_ccy: str,
        to_ccy: str,
        on: dt.date | str,
        policy: str = "on_or_before",
        max_age_days: int | None = None,
    ) -> tuple[float, Rate]:
        r = self.rate(from_ccy, to_ccy, on, policy, max_age_days)
        return float(amount) * r.value, r

    def year_end(self, from_ccy: str, to_ccy: str, year: int, within_days: int = 31) -> Rate:
        """The rate of 31 December `year` (or the last one within `within_days` before it).

        The R&D scoreboard converts every year at the year-end rate of the latest year.
        """
        return self.rate(from_ccy, to_ccy, dt.date(year, 12, 31), "on_or_before", within_days)

    def convert_series(
        self,
        amounts,
        from_ccy,
        to_ccy: str,
        on,
        policy: str = "on_or_before",
        errors: str = "raise",
        max_age_days: int | None = None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Convert many amounts at once; returns (values, rates, rate_dates) as arrays.

        `from_ccy` and `on` are one value or one per amount. Rows without an amount are never
        an error; rows with an amount but no rate raise FXError (errors="raise", naming the first
        and counting the rest) or get NaN (errors="nan").
        """
        self._check_policy(policy)
        if errors not in ("raise", "nan"):
            raise UsageError(f"errors must be 'raise' or 'nan', not {errors!r}")
        amt = (
            amounts.to_numpy(dtype=float, na_value=np.nan)
            if isinstance(amounts, pd.Series)
            else np.asarray(amounts, dtype=float)
        )
        n = len(amt)
        to = to_ccy.strip().upper()
        if isinstance(from_ccy, str):
            ccy = np.full(n, from_ccy.strip().upper(), dtype=object)
        else:
            ccy = pd.Series(from_ccy).str.strip().str.upper().to_numpy(dtype=object, na_value=None)
        if isinstance(on, (pd.Series, np.ndarray, list, tuple, pd.Index)):
            days = pd.to_datetime(pd.Series(on), errors="coerce").to_numpy(dtype="datetime64[D]")
        else:
            days = np.full(n, _day(on), dtype="datetime64[D]")
        if len(ccy) != n or len(days) != n:
            raise UsageError("amounts, currencies and dates must have the same length")

        rates = np.full(n, np.nan)
        rate_dates = np.full(n, _NAT, dtype="datetime64[D]")
        first_error: str | None = None
        for code in pd.unique(ccy[pd.notna(ccy)]):
            if code == to:  # no rate needed, so no date needed either
                same = np.flatnonzero(ccy == code)
                rates[same], rate_dates[same] = 1.0, days[same]
                continue
            rows = np.flatnonzero((ccy == code) & ~np.isnat(days))
            try:
                legs, _ = self._route(code, to, days[rows[0]] if len(rows) else None)
            except FXError as exc:
                if first_error is None and (~np.isnan(amt[rows])).any():
                    first_error = str(exc)
                continue
            num, den = np.ones(len(rows)), np.ones(len(rows))
            oldest = np.full(len(rows), np.datetime64("9999-12-31", "D"))
            ok = np.ones(len(rows), dtype=bool)
            for pair, inverted in legs:
                ser = self._series[pair]
                idx = self._pick(ser, days[rows], policy, max_age_days)
                hit = idx >= 0
                if not hit.all() and first_error is None:
                    bad = rows[~hit & ~np.isnan(amt[rows])]
                    if len(bad):
                        first_error = self._missing_message(
                            code, to, pair, days[bad[0]], policy, max_age_days
                        )
                ok &= hit
                vals = np.where(hit, ser.rates[np.clip(idx, 0, None)], np.nan)
                if inverted:
                    den *= vals
                else:
                    num *= vals
                oldest = np.minimum(oldest, np.where(hit, ser.dates[np.clip(idx, 0, None)], oldest))
            rates[rows] = np.where(ok, num / den, np.nan)
            rate_dates[rows] = np.where(ok, oldest, _NAT)

        failed = ~np.isnan(amt) & np.isnan(rates)
        if errors == "raise" and failed.any():
            count = int(failed.sum())
            if first_error is None:
                i = int(np.flatnonzero(failed)[0])
                first_error = (
                    f"row {i} has an amount but no "
                    f"{'currency' if ccy[i] is None else 'date'} to convert it"
                )
            rows = f"{count} row{'s' if count > 1 else ''}"
            raise FXError(f"{first_error} ({rows} cannot be converted)")
        return amt * rates, rates, rate_dates


def _fmt(day: object) -> str:
    if isinstance(day, np.datetime64):
        return "an unknown date" if np.isnat(day) else str(day.astype("datetime64[D]"))
    return "an unknown date" if day is None else str(day)


def _split_comments(text: str) -> tuple[str | None, int, list[str]]:
    """Leading "#" lines: (declared version, 1-based line number of the header, the rest)."""
    lines = text.splitlines(keepends=True)
    version = None
    i = 0
    while i < len(lines) and (lines[i].startswith("#") or not lines[i].strip()):
        m = re.match(r"#\s*version\s*:\s*(.+?)\s*$", lines[i], re.IGNORECASE)
        if m:
            version = m.group(1)
        i += 1
    return version, i + 1, lines[i:]


def _bad(path: Path, line: int, what: str) -> SourceError:
    return SourceError(f"{path}, line {line}: {what}")


def _read_long(reader, cols: dict[str, int], path: Path, header_line: int) -> pd.DataFrame:
    out = []
    seen: dict[tuple, tuple[float, int]] = {}
    for offset, row in enumerate(reader, start=1):
        line = header_line + offset
        if not row or not any(c.strip() for c in row) or row[0].lstrip().startswith("#"):
            continue

        def cell(name: str) -> str:
            i = cols.get(name)
            return row[i].strip() if i is not None and i < len(row) else ""

        try:
            day = dt.date.fromisoformat(cell("date"))
        except ValueError:
            raise _bad(path, line, f"date {cell('date')!r} is not YYYY-MM-DD") from None
        base, quote = cell("base").upper(), cell("quote").upper()
        for label, code in (("base", base), ("quote", quote)):
            if not _CODE.fullmatch(code):
                raise _bad(path, line, f"{label} {code!r} is not a three-letter currency code")
        if base == quote:
            raise _bad(path, line, f"base and quote are both {base}")
        try:
            value = float(cell("rate"))
        except ValueError:
            raise _bad(path, line, f"rate {cell('rate')!r} is not a number") from None
        if not (math.isfinite(value) and value > 0):
            raise _bad(path, line, f"rate {cell('rate')!r} must be a positive number")
        key = (day, base, quote)
        if key in seen and seen[key][0] != value:
            earlier, where = seen[key]
            raise _bad(
                path, line, f"{base}→{quote} on {day} is {value} here but {earlier} on line {where}"
            )
        seen[key] = (value, line)
        out.append((day, base, quote, value, cell("source") or path.name))
    return pd.DataFrame(out, columns=["date", "base", "quote", "rate", "source"])


def _read_ecb_wide(reader, header: list[str], path: Path, header_line: int) -> pd.DataFrame:
    codes = [(i, h) for i, h in enumerate(header) if i > 0 and h]
    out = []
    for offset, row in enumerate(reader, start=1):
        line = header_line + offset
        if not row or not row[0].strip():
            continue
        try:
            day = dt.date.fromisoformat(row[0].strip())
        except ValueError:
            raise _bad(path, line, f"date {row[0]!r} is not YYYY-MM-DD") from None
        source = f"ECB euro foreign exchange reference rate, {day}"
        for i, code in codes:
            cell = row[i].strip() if i < len(row) else ""
            if cell in ("", "N/A", "NA", "-"):
                continue
            try:
                value = float(cell)
            except ValueError:
                raise _bad(path, line, f"{code} rate {cell!r} is not a number") from None
            if not (math.isfinite(value) and value > 0):
                raise _bad(path, line, f"{code} rate {cell!r} must be a positive number")
            out.append((day, "EUR", code, value, source))
    return pd.DataFrame(out, columns=["date", "base", "quote", "rate", "source"])


def _read_sdmx(reader, cols: dict[str, int], path: Path, header_line: int) -> pd.DataFrame:
    out = []
    for offset, row in enumerate(reader, start=1):
        line = header_line + offset
        if not row or not any(c.strip() for c in row):
            continue

        def cell(name: str) -> str:
            i = cols.get(name)
            return row[i].strip() if i is not None and i < len(row) else ""

        if "exr_type" in cols and cell("exr_type") not in ("", "SP00"):
            continue  # averages and other rate types are not reference rates on a day
        try:
            day = dt.date.fromisoformat(cell("time_period"))
        except ValueError:
            raise _bad(
                path, line, f"TIME_PERIOD {cell('time_period')!r} is not a day (use daily series)"
            ) from None
        if cell("obs_value") in ("", "NaN"):
            continue
        try:
            value = float(cell("obs_value"))
        except ValueError:
            raise _bad(path, line, f"OBS_VALUE {cell('obs_value')!r} is not a number") from None
        if not (math.isfinite(value) and value > 0):
            raise _bad(path, line, f"OBS_VALUE {cell('obs_value')!r} must be positive")
        base, quote = cell("currency_denom").upper(), cell("currency").upper()
        if not (_CODE.fullmatch(base) and _CODE.fullmatch(quote)):
            raise _bad(path, line, f"currency codes {base!r}/{quote!r} are not ISO codes")
        key = cell("key") or f"EXR {quote}/{base}"
        out.append((day, base, quote, value, f"ECB {key}, {day}"))
    return pd.DataFrame(out, columns=["date", "base", "quote", "rate", "source"])


def default_fx_path() -> Path:
    """HARDTECH_FX if set, else the table shipped in hardtech/data/config/fx_rates.csv."""
    env = os.environ.get(ENV_VAR, "").strip()
    if env:
        return Path(env).expanduser()
    return Path(str(files("hardtech").joinpath("data").joinpath("config").joinpath("fx_rates.csv")))


@functools.lru_cache(maxsize=8)
def _load(path: str, mtime_ns: int, size: int) -> FXTable:
    return FXTable.from_csv(path)


def load_fx(path: str | os.PathLike | None = None) -> FXTable:
    """The FX table at `path` (default: `default_fx_path()`), read once while unchanged."""
    p = Path(path).expanduser() if path is not None else default_fx_path()
    try:
        st = p.stat()
    except OSError:
        hint = f" (from {ENV_VAR})" if path is None and os.environ.get(ENV_VAR) else ""
        raise SourceError(f"FX file not found: {p}{hint}") from None
    return _load(str(p.resolve()), st.st_mtime_ns, st.st_size)
