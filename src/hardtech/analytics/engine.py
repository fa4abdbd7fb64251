"""Temporary tables for expressions an analysis reads more than once.

An Ibis expression is recomputed every time it is executed. When one analysis runs several small
queries over the same intermediate (its currencies, then its ids, then the aggregate), materialising
it once is the difference between one scan and four. The caller owns the temporary tables and
releases them.

Whether an engine can keep an intermediate is declared (`store.engine.Capabilities.keep`, looked up
by the expression's Ibis backend), not guessed from a failure: on an engine that keeps, a failing
`cache()` is an error like any other; on one that does not, the expression is recomputed and the
block counts it in `recomputed`, so a caller (or a test) can see that nothing was kept.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import ibis.expr.types as ir

from hardtech.store.engine import backend_capabilities


def can_keep(expr: ir.Table) -> bool:
    """Whether the engine behind `expr` keeps intermediates (an in-memory table runs on the default, DuckDB)."""
    backend = expr._find_backend(use_default=True)
    caps = backend_capabilities(getattr(backend, "name", ""))
    return bool(caps and caps.keep)


class Kept:
    """Expressions materialised for the life of a `with kept() as keep:` block."""

    def __init__(self) -> None:
        self._tables: list = []
        self.recomputed = 0  # expressions handed back as they were: their engine keeps nothing

    def __call__(self, expr: ir.Table) -> ir.Table:
        if not can_keep(expr):
            self.recomputed += 1
            return expr
        backend = expr._find_backend(use_default=True)
        if getattr(backend, "name", "") == "pyspark":
            # Ibis's PySpark cache compiles without registering the in-memory tables (FX rates) it reads
            backend._run_pre_execute_hooks(expr)
        t = expr.cache()
        self._tables.append(t)
        return t

    @property
    def kept(self) -> int:
        return len(self._tables)

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
