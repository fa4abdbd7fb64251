"""DuckDB's setting for the `x -> …` list lambdas Ibis writes, switched on for one query at a time.

Why here: it is a DuckDB statement (`SET lambda_syntax`), and engine-specific SQL lives in `store/`.
Ibis 12 compiles list lambdas (the hardness score's patent scope) with the single-arrow syntax, which
DuckDB ≥ 1.3 refuses unless `lambda_syntax` allows it. The setting is restored afterwards, so the
store's connection is left as it was found; on another engine (Spark) nothing is done.
"""

from __future__ import annotations

import contextlib

import ibis.expr.types as ir


@contextlib.contextmanager
def arrow_lambdas(expr: ir.Expr):
    """Run the block with DuckDB accepting `x -> …` lambdas on the connection behind `expr`."""
    backend = expr._find_backend(use_default=True)
    con = getattr(backend, "con", None) if getattr(backend, "name", "") == "duckdb" else None
    before = None
    if con is not None:
        try:
            before = con.execute("SELECT current_setting('lambda_syntax')").fetchone()[0]
        except Exception:  # noqa: BLE001 - an older DuckDB without the setting accepts arrows anyway
            before = None
    if before is None:
        yield
        return
    con.execute("SET lambda_syntax = 'ENABLE_SINGLE_ARROW'")
    try:
        yield
    finally:
        con.execute(f"SET lambda_syntax = '{before}'" if before != "DEFAULT" else "RESET lambda_syntax")
