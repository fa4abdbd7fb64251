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
import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from hardtech.cellsafety import FORBIDDEN_OR_BREAK_SQL, FORBIDDEN_SQL
from hardtech.errors import MappingError
from hardtech.sources.cells import cell_reason
from hardtech.sources.limits import ID_MAX_CHARS, TEXT_MAX_CHARS
from hardtech.sources.mapping import ColumnSpec, TargetSpec
from hardtech.sources.readers import LINE
from hardtech.sources.transform import column_expr, ident, lit
from hardtech.sources.validate import CODE_COLUMNS, PATENT_CODE, _Errors, bad_codes_sql, code_reason, patent_code_sql
from hardtech.schema import table as schema_table

ORDER, COLLECTED, SUSPECT = "__order", "__collected", "__suspect"
PATENT_CODE_RE = re.compile(PATENT_CODE)


def collect_rows(con, src: str, raw: pa.Table, headers: list[str], list_cols: set[str], target: TargetSpec,
                 prefix: str, checks: frozenset) -> tuple[pa.Table, TargetSpec, pa.Table]:
    """(one row per key, the target that imports those rows, the errors of single rows). `raw` is the
    file's table, registered as `src`.

    Rows are grouped by the file columns the key is built from (`patent_id` for `US{patent_id}`): the key
    itself is then built, normalised and validated once per group by the ordinary import. One cheap SQL
    pass over every row gives its order and whether it needs a closer look (a code not already written as
    `G06N3/08`, an empty or oversized cell, a bad order, a control character); only those rows are
    normalised or explained, and keys, values and lines are taken from the file's table without copying."""
    tbl = schema_table(target.table)
    key = [k for k in tbl.key if k != "source_name"]
    col = target.collect
    spec = target.columns[col]
    key_src = list(dict.fromkeys(c for k in key for c in target.columns[k].source_columns()))
    if not key_src:
        raise MappingError(f"collect into {target.table}: the key ({', '.join(key)}) must come from the file's columns")
    hset = set(headers)
    code = col in CODE_COLUMNS
    plain = _plain(spec) and not spec.split and spec.columns[0] in hset
    value = ident(spec.columns[0]) if plain else column_expr(spec, hset, list_cols, bool(spec.split))
    order = f"TRY_CAST({ident(target.order_by)} AS BIGINT)" if target.order_by else "CAST(NULL AS BIGINT)"
    keys = [ident(c) for c in key_src]  # as written: the key is built and trimmed once per group
    look = [f"{k} IS NULL OR strlen({k}) > {ID_MAX_CHARS}" for k in keys]
    if spec.split:
        look.append(f"__x IS NULL OR len(__x) = 0 OR coalesce(list_max(list_transform(__x, lambda x: strlen(x))), 0) "
                    f"> {TEXT_MAX_CHARS}")
        look.append(f"len({bad_codes_sql('__x')}) > 0" if code else "FALSE")
    else:
        look.append(f"__x IS NULL OR strlen(__x) > {TEXT_MAX_CHARS}")
        look.append(f"NOT regexp_full_match(__x, {lit(PATENT_CODE)})" if code else
                    ("NULLIF(trim(__x), '') IS NULL" if plain else "FALSE"))
    if target.order_by:
        look.append(f"{ORDER} IS NULL")
    if checks:  # the file's bytes could hold control characters or line breaks: look at every cell
        pattern = lit(FORBIDDEN_OR_BREAK_SQL if "breaks" in checks else FORBIDDEN_SQL)
        look += [f"regexp_matches({k}, {pattern})" for k in keys]
        look.append(f"regexp_matches({'array_to_string(__x, chr(32))' if spec.split else '__x'}, {pattern})")
    out = con.sql(f"SELECT {ORDER}, {' OR '.join(f'({x})' for x in look)} AS {SUSPECT}"
                  + ("" if plain else ", __x") + f" FROM (SELECT *, {value} AS __x, {order} AS {ORDER} FROM {src})"
                  ).to_arrow_table()
    values = raw.column(spec.columns[0]) if plain else out.column("__x")
    suspects = out.column(SUSPECT)
    errors = _Errors()
    if pc.any(suspects).as_py():
        picked = raw.select(key_src + [LINE]).filter(suspects)
        flagged = pa.table({**{c: picked.column(c) for c in picked.column_names}, "__x": values.filter(suspects),
                            ORDER: out.column(ORDER).filter(suspects)})
        fixed = _explain(con, src, flagged, key_src, col, spec, target, code, errors)
        if fixed is not None:  # codes written otherwise (G06N 3/08) and normalised: put them in
            mask = pc.is_in(raw.column(LINE), fixed.column(LINE))
            values = pc.replace_with_mask(values.combine_chunks(), mask.combine_chunks(),
                                          fixed.column("__value").combine_chunks())
    rows = pa.table({**{c: raw.column(c) for c in key_src}, COLLECTED: values, LINE: raw.column(LINE),
                     ORDER: out.column(ORDER)})
    del out
    if errors.lines:
        rows = rows.filter(pc.invert(pc.is_in(rows.column(LINE), pa.array(sorted(set(errors.lines)), pa.int64()))))
    grouped = fold(rows, key_src, COLLECTED, bool(spec.split), con, prefix)
    del rows
    # the rows of the ordinary import: keys and constants; the lists (column COLLECTED) join them when written
    spec_out = {k: target.columns[k] for k in key}
    spec_out |= {c: s for c, s in target.columns.items() if s.value is not None and c != col}
    return grouped, dataclasses.replace(target, collect=None, order_by=None, columns=spec_out), errors.table()


def _plain(spec: ColumnSpec) -> bool:
    """The spec reads one column as it is (no template, map, extract, replacement, default or fill-down)."""
    return (len(spec.columns) == 1 and not (spec.template or spec.value is not None or spec.extract or spec.map
                                            or spec.replace or spec.default is not None or spec.fill_down))


def _explain(con, src: str, flagged: pa.Table, key_src: list[str], col: str, spec, target: TargetSpec, code: bool,
             errors: _Errors) -> pa.Table | None:
    """Each suspect row's faults (with the rules the ordinary import uses: cells, codes), added to `errors`;
    returns (line, normalised value) of the rows whose only trouble was a code written another way."""
    src_cols = spec.source_columns()
    name = src_cols[0] if len(src_cols) == 1 else col  # a row's fault is named by the file's column
    orders = {}
    if target.order_by:
        lines = flagged.filter(pc.is_null(flagged.column(ORDER))).column(LINE)
        con.register("__collect_o", pa.table({LINE: lines}))
        orders = dict(con.execute(f"SELECT s.{ident(LINE)}, s.{ident(target.order_by)} FROM {src} s SEMI JOIN "
                                  f"__collect_o o USING ({ident(LINE)})").fetchall())
        con.unregister("__collect_o")
    normal = {}
    if code:  # the codes of these rows as the ordinary import normalises them
        con.register("__collect_x", flagged.select([LINE, "__x"]))
        norm = (f"list_transform(__x, lambda c: {patent_code_sql('c')})" if spec.split else patent_code_sql("__x"))
        normal = dict(con.execute(f"SELECT {ident(LINE)}, {norm} FROM __collect_x").fetchall())
        con.unregister("__collect_x")
    fixed_lines, fixed_values = [], []
    for r in flagged.to_pylist():
        line, before = r[LINE], len(errors.lines)
        for c in key_src:
            why = (f"{c} is empty: the row has no key" if r[c] is None else
                   cell_reason(c, [r[c]], ID_MAX_CHARS, "an identifier", False))
            if why:
                errors.add(line, c, r[c], why)
        x = r["__x"]
        values = x if spec.split else ([] if x is None or not x.strip() else [x])
        why = cell_reason(name, values, TEXT_MAX_CHARS, "a short text cell", False) if values else None
        if not values:
            errors.add(line, name, None, f"{name} is empty: the row gives no value to collect into {col}")
        elif why:
            errors.add(line, name, "|".join(values), why)
        elif code:
            norm_values = normal[line] if spec.split else [normal[line]]
            if any(not PATENT_CODE_RE.fullmatch(v or "") for v in norm_values):
                errors.add(line, name, ", ".join(values), code_reason(", ".join(values)))
        if target.order_by and r[ORDER] is None:
            errors.add(line, target.order_by, orders.get(line),
                       f"{orders.get(line)!r} is not a whole number (it orders the list)")
        if len(errors.lines) == before and code and normal.get(line) != x:
            fixed_lines.append(line)
            fixed_values.append(normal[line])
    if not fixed_lines:
        return None
    typ = pa.list_(pa.string()) if spec.split else pa.string()
    return pa.table({LINE: pa.array(fixed_lines, pa.int64()), "__value": pa.array(fixed_values, typ)})


def fold(rows: pa.Table, key: list[str], col: str, lists: bool, con, prefix: str) -> pa.Table:
    """One row per key: its rows' values (`lists`: each row gives a list) in (order, line) order, and its first
    line."""
    runs = _runs(rows, key)
    if runs is not None:
        starts = pa.array(runs[:-1])
        if lists:
            column = rows.column(col).combine_chunks()
            values = pc.list_flatten(column)
            counts = pc.list_value_length(column).to_numpy(zero_copy_only=False)
            offsets = np.concatenate([[0], np.cumsum(counts)])[runs]
        else:
            values, offsets = rows.column(col).combine_chunks(), runs
        out = {k: pc.take(rows.column(k), starts) for k in key}
        return pa.table(out | {col: pa.ListArray.from_arrays(pa.array(offsets.astype(np.int32)), values),
                               LINE: pc.take(rows.column(LINE), starts)})
    con.register(f"{prefix}_fold", rows)
    keys = ", ".join(ident(k) for k in key)
    gather = (f"flatten(list({ident(col)} ORDER BY {ORDER} NULLS LAST, {ident(LINE)}))" if lists
              else f"list({ident(col)} ORDER BY {ORDER} NULLS LAST, {ident(LINE)})")
    table = con.sql(f"SELECT {keys}, {gather} AS {ident(col)}, min({ident(LINE)}) AS {ident(LINE)} "
                    f"FROM {prefix}_fold GROUP BY {keys} ORDER BY {ident(LINE)}").to_arrow_table()
    con.unregister(f"{prefix}_fold")
    return table


def _runs(rows: pa.Table, key: list[str]) -> np.ndarray | None:
    """Offsets of the runs of equal keys when every key forms one run and the order column ascends inside
    each run (the file is grouped); None otherwise."""
    n = rows.num_rows
    if n == 0 or len(key) != 1:
        return None if n else np.array([0], dtype=np.int64)
    k = rows.column(key[0])
    change = pc.not_equal(k.slice(1), k.slice(0, n - 1))
    if change.null_count:
        return None  # an empty key (such rows are rejected before; kept safe here)
    change = np.concatenate([c.to_numpy(zero_copy_only=False) for c in change.chunks]) if n > 1 else np.array([], bool)
    starts = np.flatnonzero(change) + 1
    runs = np.concatenate([[0], starts, [n]]).astype(np.int64)
    if len(pc.unique(pc.take(k, pa.array(runs[:-1])))) != len(runs) - 1:
        return None  # a key appears in two places
    order = rows.column(ORDER)
    if order.null_count < n:
        if order.null_count:
            return None
        o = np.concatenate([c.to_numpy() for c in order.chunks])
        inside = np.ones(n - 1, dtype=bool)
        inside[starts - 1] = False
        if np.any(np.diff(o)[inside] < 0):
            return None
    return runs
