"""Long files folded into one row per key: PatentsView's `g_cpc_current` has one row per patent and CPC
code (tens of millions of rows); `patents.cpc_codes` holds one list per patent.

Each file row is still checked on its own — its key, its code, its order — so a bad row is rejected
with its line and column and its patent keeps the other codes. The good rows of a key then become one
row whose list is in `order_by` order (file order on ties) and whose provenance line is the key's first
line; that row goes through the ordinary import (validation, merge, provenance) like any other.

Folding is done without sorting when the file is already grouped by key with the order column
ascending inside each group (PatentsView's files are): the groups are runs of equal keys, found with
one vectorised comparison, and the lists are built from their offsets. Any other file is folded by a
hash aggregate ordered inside each group, which gives the same rows.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from hardtech.sources.cells import check_cells
from hardtech.sources.mapping import ColumnSpec, TargetSpec
from hardtech.sources.readers import LINE
from hardtech.sources.transform import ident, mapped_select
from hardtech.sources.validate import CODE_COLUMNS, _Errors, check_codes
from hardtech.store.schema import table as schema_table

ORDER = "__order"


def collect_rows(con, src: str, headers: list[str], list_cols: set[str], target: TargetSpec, prefix: str,
                 checks: frozenset, prepare) -> tuple[pa.Table, TargetSpec, pa.Table]:
    """(one row per key, the target that imports those rows, the errors of single rows)."""
    tbl = schema_table(target.table)
    key = [k for k in tbl.key if k != "source_name"]
    col = target.collect
    row_target = dataclasses.replace(target, collect=None, order_by=None)
    order = f"TRY_CAST(trim({ident(target.order_by)}) AS BIGINT)" if target.order_by else "CAST(NULL AS BIGINT)"
    con.execute(f"CREATE OR REPLACE TEMP VIEW {prefix}_rows_mapped AS "
                + mapped_select(row_target, src, headers, list_cols, extra=(f"{order} AS {ORDER}",)))
    view, _ = prepare(con, f"{prefix}_rows_mapped", row_target, f"{prefix}_rows")
    errors = _Errors()
    check_cells(con, view, tbl, set(key) | {col}, errors, checks)
    if col in CODE_COLUMNS:
        check_codes(con, view, col, errors)
    if target.order_by:
        raw = ident(target.order_by)
        bad = con.execute(f"SELECT {ident(LINE)}, {raw} FROM {src} WHERE {raw} IS NOT NULL AND {order} IS NULL"
                          ).fetchall()
        errors.extend_rows(bad, target.order_by, lambda v: f"{v!r} is not a whole number (it orders the list)")
    missing = con.execute(f"SELECT {ident(LINE)} FROM {view} WHERE "
                          + " OR ".join(f"{ident(k)} IS NULL" for k in key)).fetchall()
    for (line,) in missing:
        errors.add(line, ",".join(key), None, f"{', '.join(key)} is required but empty")
    bad_lines = pa.array(sorted(set(errors.lines)), pa.int64())
    con.register(f"{prefix}_rows_bad", pa.table({LINE: bad_lines}))
    cols = ", ".join(ident(c) for c in [*key, col, LINE, ORDER])
    rows = con.sql(f"SELECT {cols} FROM {view} WHERE {ident(LINE)} NOT IN "
                   f"(SELECT {ident(LINE)} FROM {prefix}_rows_bad)").to_arrow_table()
    con.unregister(f"{prefix}_rows_bad")
    grouped = fold(rows, key, col, con, prefix)
    spec = {k: ColumnSpec(k, columns=(k,)) for k in key} | {col: ColumnSpec(col, columns=(col,))}
    spec |= {c: s for c, s in target.columns.items() if s.value is not None}  # constants
    return grouped, dataclasses.replace(row_target, columns=spec), errors.table()


def fold(rows: pa.Table, key: list[str], col: str, con, prefix: str) -> pa.Table:
    """One row per key: the lists of its rows concatenated in (order, line) order, and its first line."""
    runs = _runs(rows, key)
    if runs is not None:
        offsets = pa.array(runs, pa.int32())
        starts = pa.array(runs[:-1])
        values = pc.list_flatten(rows.column(col).combine_chunks())
        counts = pc.list_value_length(rows.column(col).combine_chunks()).to_numpy(zero_copy_only=False)
        ends = np.concatenate([[0], np.cumsum(counts)])[runs]
        lists = pa.ListArray.from_arrays(pa.array(ends.astype(np.int32)), values)
        out = {k: pc.take(rows.column(k), starts) for k in key}
        return pa.table(out | {col: lists, LINE: pc.take(rows.column(LINE), starts)})
    con.register(f"{prefix}_fold", rows)
    keys = ", ".join(ident(k) for k in key)
    table = con.sql(
        f"SELECT {keys}, flatten(list({ident(col)} ORDER BY {ORDER} NULLS LAST, {ident(LINE)})) AS {ident(col)}, "
        f"min({ident(LINE)}) AS {ident(LINE)} FROM {prefix}_fold GROUP BY {keys} ORDER BY {ident(LINE)}"
    ).to_arrow_table()
    con.unregister(f"{prefix}_fold")
    return table


def _runs(rows: pa.Table, key: list[str]) -> np.ndarray | None:
    """Offsets of the runs of equal keys when every key forms one run and the order column ascends inside
    each run (the file is grouped); None otherwise."""
    n = rows.num_rows
    if n == 0 or len(key) != 1:
        return None if n else np.array([0], dtype=np.int64)
    k = rows.column(key[0]).combine_chunks()
    change = pc.not_equal(k.slice(1), k.slice(0, n - 1)).to_numpy(zero_copy_only=False)
    starts = np.flatnonzero(change) + 1
    runs = np.concatenate([[0], starts, [n]]).astype(np.int64)
    if len(pc.unique(pc.take(k, pa.array(runs[:-1])))) != len(runs) - 1:
        return None  # a key appears in two places
    order = rows.column(ORDER).combine_chunks()
    if order.null_count < n:
        if order.null_count:
            return None
        o = order.to_numpy()
        inside = np.ones(n - 1, dtype=bool)
        inside[starts - 1] = False
        if np.any(np.diff(o)[inside] < 0):
            return None
    return runs
