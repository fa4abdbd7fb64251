"""Money in another currency: the one way analyses convert figures, and the one check of a currency code.

Rates are data (the dated FX table, `hardtech.sources.fx`), and each analysis names its convention:
rankings take the 31 December rate of a year, flows the rate on or before each round's date, the
STAR test the rate of the rules' day. What is the same everywhere is the mechanics, written once
here: the distinct (currency, key) pairs a table needs are collected (a few dozen, whatever the
table's size), each rate is looked up once in Python, and the rates travel back to the engine as a
small table that is joined — so a conversion runs where the data lives and never per row in Python.
A pair without a rate keeps its error text, so the caller decides: refuse (rankings), leave the
figure out and say so (flows), or answer "cannot tell" (STAR).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from hardtech.errors import FXError, UsageError

_CODE = re.compile(r"[A-Z]{3}")
RATE_COLUMNS = ("fx_rate", "fx_date", "fx_source", "fx_via", "fx_error")


def check_currency(code: str, examples: str = "EUR, USD, CNY") -> str:
    """A target currency as given by a user: upper-cased, or a UsageError naming it."""
    c = (code or "").strip().upper()
    if not _CODE.fullmatch(c):
        raise UsageError(f"currency {code!r} is not a three-letter ISO 4217 code (e.g. {examples})")
    return c


def distinct_pairs(t: ir.Table, ccy: str, key: str) -> list[tuple[str, Any]]:
    """The distinct (currency, key) pairs of `t` with a currency: what a conversion must look up."""
    got = t.filter(t[ccy].notnull()).select(ccy, key).distinct().to_pyarrow()
    return sorted(zip(got.column(ccy).to_pylist(), got.column(key).to_pylist()), key=lambda p: (p[0], str(p[1])))


def lookup(pairs: Iterable[tuple[str, Any]], rate_of: Callable[[str, Any], Any], key_type: pa.DataType) -> pa.Table:
    """One rate per (currency, key) pair: (r_ccy, r_key, fx_rate, fx_date, fx_source, fx_via, fx_error).

    `rate_of(ccy, key)` returns a `sources.fx.Rate` or raises FXError; the error's text is kept in
    `fx_error` (and the rate left NULL) instead of stopping the lookup.
    """
    cols: dict[str, list] = {"r_ccy": [], "r_key": [], **{c: [] for c in RATE_COLUMNS}}
    for ccy, key in pairs:
        try:
            r = rate_of(ccy, key)
            got = (float(r.value), r.date, r.source, r.via, None)
        except FXError as exc:
            got = (None, None, None, None, str(exc))
        cols["r_ccy"].append(ccy)
        cols["r_key"].append(key)
        for c, v in zip(RATE_COLUMNS, got):
            cols[c].append(v)
    schema = pa.schema([("r_ccy", pa.string()), ("r_key", key_type), ("fx_rate", pa.float64()),
                        ("fx_date", pa.date32()), ("fx_source", pa.string()), ("fx_via", pa.string()),
                        ("fx_error", pa.string())])
    return pa.table(cols, schema=schema)


def join_rates(t: ir.Table, ccy: str, key: str, rates: pa.Table | ir.Table, prefix: str = "") -> ir.Table:
    """`t` with the rate columns of its (ccy, key) pair (NULL where the pair has none), named `prefix` + column."""
    r = rates if isinstance(rates, ir.Table) else ibis.memtable(rates)
    r = r.rename({f"{prefix}{c}": c for c in RATE_COLUMNS if prefix})
    j = t.left_join(r, [t[ccy] == r.r_ccy, t[key] == r.r_key])
    return j.drop("r_ccy", "r_key")


def first_error(rates: pa.Table) -> str | None:
    errors = [e for e in rates.column("fx_error").to_pylist() if e]
    return errors[0] if errors else None
