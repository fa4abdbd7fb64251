"""Turn a mapping's column specs into one SQL SELECT over the raw text table.

Doing the renaming, templating and fill-down in DuckDB keeps a million-row import in C++
rather than in a Python loop; the SQL text is built only from the mapping (identifiers are
quoted, constants are escaped literals), never from cell values.
"""

from __future__ import annotations

import re

from hardtech.errors import MappingError
from hardtech.sources.mapping import PLACEHOLDER, ColumnSpec, TargetSpec
from hardtech.sources.readers import LINE
from hardtech.schema import table as schema_table


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _text(col: str, list_cols: set[str], replace: dict[str, str] | None = None) -> str:
    if col in list_cols:
        return f"NULLIF(array_to_string({ident(col)}, '|'), '')"
    raw = ident(col)
    for old, new in (replace or {}).items():
        raw = f"replace({raw}, {lit(old)}, {lit(new)})"
    return f"NULLIF(trim({raw}), '')"


def column_expr(spec: ColumnSpec, headers: set[str], list_cols: set[str], is_list: bool) -> str:
    """SQL text for one target column (VARCHAR, or VARCHAR[] for list columns)."""
    missing = [c for c in spec.source_columns() if c not in headers]
    if missing:
        raise MappingError(
            f"column {spec.target}: the file has no column {', '.join(repr(m) for m in missing)}; "
            f"its columns are: {', '.join(sorted(headers - {LINE}))}")
    # A list column read natively (Parquet/JSON lists) is passed through untouched.
    if is_list and len(spec.columns) == 1 and spec.columns[0] in list_cols and not spec.template:
        return f"list_filter({ident(spec.columns[0])}, lambda x: x IS NOT NULL AND trim(x) <> '')"
    if spec.value is not None:
        expr = lit(spec.value)
    elif spec.template:
        parts = []
        pos = 0
        refs = []
        for m in PLACEHOLDER.finditer(spec.template):
            if m.start() > pos:
                parts.append(lit(spec.template[pos:m.start()]))
            parts.append(f"coalesce({_text(m.group(1), list_cols, spec.replace)}, '')")
            refs.append(_text(m.group(1), list_cols, spec.replace))
            pos = m.end()
        if pos < len(spec.template):
            parts.append(lit(spec.template[pos:]))
        joined = " || ".join(parts) if parts else "''"
        any_ref = " OR ".join(f"{r} IS NOT NULL" for r in refs) or "TRUE"
        expr = f"CASE WHEN {any_ref} THEN {joined} END"
    else:
        texts = [_text(c, list_cols, spec.replace) for c in spec.columns]
        expr = texts[0] if len(texts) == 1 else f"coalesce({', '.join(texts)})"
    if spec.extract:
        try:
            re.compile(spec.extract)
        except re.error as exc:
            raise MappingError(f"column {spec.target}: bad extract pattern: {exc}") from exc
        expr = f"NULLIF(regexp_extract({expr}, {lit(spec.extract)}, 1), '')"
    if spec.map:
        whens = " ".join(f"WHEN {lit(k)} THEN {lit(v)}" for k, v in spec.map.items())
        expr = f"(CASE {expr} {whens} ELSE {'NULL' if spec.map_only else expr} END)"
    if spec.pick and not is_list:
        pattern = r"\s*" + re.escape(spec.split or "|") + r"\s*"
        parts = f"list_filter(list_transform(regexp_split_to_array({expr}, {lit(pattern)}), lambda x: trim(x)), lambda x: x <> '')"
        fn = {"min": "list_min", "max": "list_max"}.get(spec.pick)
        expr = f"{fn}({parts})" if fn else f"list_extract({parts}, {1 if spec.pick == 'first' else -1})"
    if spec.period_end:
        # 52/53-week years that close in the first days of January belong to the previous year
        expr = f"CAST(year(TRY_CAST({expr} AS DATE) - INTERVAL 7 DAY) AS VARCHAR)"
    if spec.default is not None:
        expr = f"coalesce({expr}, {lit(spec.default)})"
    if spec.fill_down:
        expr = (f"last_value({expr} IGNORE NULLS) OVER (ORDER BY {ident(LINE)} "
                f"ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)")
    if is_list:
        if spec.split is None:
            pattern = r"\s*[|;]\s*"
        else:
            seps = spec.split if isinstance(spec.split, (list, tuple)) else [spec.split]
            pattern = r"\s*(?:" + "|".join(re.escape(s) for s in seps) + r")\s*"
        expr = (f"list_filter(list_transform(regexp_split_to_array(coalesce({expr}, ''), {lit(pattern)}), "
                f"lambda x: trim(x)), lambda x: x <> '')")
    return expr


def mapped_select(target: TargetSpec, source: str, headers: list[str], list_cols: set[str],
                  extra: tuple[str, ...] = ()) -> str:
    """`extra`: more select expressions (from the mapping only, never from cell values) carried beside."""
    tbl = schema_table(target.table)
    hset = set(headers)
    exprs = [f"{ident(LINE)}", *extra]
    for col in tbl.columns:
        spec = target.columns.get(col.name)
        if spec is None:
            exprs.append(f"CAST(NULL AS {'VARCHAR[]' if col.is_list else 'VARCHAR'}) AS {ident(col.name)}")
        elif col.name == target.explode:
            # one output row per list element; the element is scalar unless the column itself is a list
            as_list = column_expr(spec, hset, list_cols, True)
            elem = "[x]" if col.is_list else "x"
            exprs.append(f"unnest(list_transform({as_list}, lambda x: {elem})) AS {ident(col.name)}")
        else:
            exprs.append(f"{column_expr(spec, hset, list_cols, col.is_list)} AS {ident(col.name)}")
    return f"SELECT {', '.join(exprs)} FROM {source}"
