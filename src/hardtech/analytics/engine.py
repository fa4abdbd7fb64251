"""Temporary tables for expressions an analysis reads more than once.

An Ibis expression is recomputed every time it is executed. When one analysis runs several small
queries over the same intermediate (its currencies, then its ids, then the aggregate), materialising
it once is the difference between one scan and four. The caller owns the temporary tables and
releases them; a backend that cannot make them simply recomputes.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import ibis.expr.types as ir


class Kept:
    """Expressions materialised for the life of a `with kept() as keep:` block."""

    def __init__(self) -> None:
        self._tables: list = []

    def __call__(self, expr: ir.Table) -> ir.Table:
        try:
            t = expr.cache()
        except Exception:  # noqa: BLE001 - a backend without temporary tables still answers, only slower
            return expr
        self._tables.append(t)
        return t

    def release(self) -> None:
        while self._tables:
            self._tables.pop().release()


@contextlib.contextmanager
def kept() -> Iterator[Kept]:
    k = Kept()
    try:
        yield k
    finally:
        k.release()
