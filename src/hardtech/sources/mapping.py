"""Mapping files: how a foreign file's columns become our tables' columns.

A mapping is data (YAML), not code, so users can write one for their own exports and we can
ship ours for the third-party files in `../shared/data`. One file may feed several tables
(the JRC–OECD panel gives both `organizations` and `financials`).

Column spec forms (right-hand side of `columns:`):
    org_id: company_id                       # a source column
    org_id: {template: "jrc:{company_id}"}   # text with {source column} placeholders
    currency: {value: EUR}                   # a constant
    revenue: {column: ns, unit: "EUR million"}
    org_name: {column: 公司, fill_down: true}
    stage: {column: 轮次, map: {天使轮: angel}}
    cpc_codes: {column: cpc, split: ","}
    ticker: {column: code, extract: "^(\\d{6})"}
    name_en: {columns: [name_en, company]}   # first non-empty
    name_zh: {column: name, replace: {"\n": ""}}   # literal replacements, declared: a wrapped name joined
    city: {column: area, map: {深圳: Shenzhen}, map_only: true}   # values not in the map become empty
    capex: {column: "Capital Expenditures", negate: true}       # a source that books capex as negative
    priority_date: {column: prio, split: "|", pick: min}         # several values in one cell: keep one
    fiscal_year: {column: "Period Ending", period_end: true}     # 2016-01-02 closes fiscal 2015

File options (top level, beside `targets:`): `delimiter`, `sheet`, `format`, `encoding` (a Python codec
name, when the file is neither UTF-8 nor GBK) and `decimal` (`point` for 1,234.5, `comma` for 1.234,5).

Target options (beside `columns:`):
    distinct: true        several rows per key are expected (a panel's company rows): keep the first
    explode: name_en      the column is a list: one row per element (investors named in a rounds file)
    patch: true           kept for old mappings: every import now fills in rows already in the store and
                          never blanks a value the file does not give
    insert_only: true     add rows whose key is new; leave existing rows alone (stubs)
    relax: [rd_far_above_revenue]   accept R&D above 100× revenue (pre-revenue biotech in real panels)
    collect: cpc_codes    a long file (one CPC code per row, as PatentsView's g_cpc_current): the rows of one key
                          become one row whose list column holds every row's value; each row is still
                          checked on its own (a bad row is rejected with its line, the others kept)
    order_by: cpc_sequence   with collect: a source column of whole numbers that orders the list (else file order)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from hardtech.errors import MappingError
from hardtech.schema import IMPORTABLE, table as schema_table

SPEC_KEYS = {"column", "columns", "value", "template", "unit", "currency", "split", "map",
             "map_only", "fill_down", "extract", "default", "negate", "pick", "period_end", "replace"}
TARGET_KEYS = {"columns", "distinct", "explode", "patch", "insert_only", "relax", "collect", "order_by"}
RELAXABLE = {"rd_far_above_revenue"}
PLACEHOLDER = re.compile(r"\{([^{}]+)\}")


@dataclass(frozen=True)
class ColumnSpec:
    target: str
    columns: tuple[str, ...] = ()
    value: str | None = None
    template: str | None = None
    unit: str | None = None
    currency: str | None = None
    split: str | list[str] | None = None  # one separator or several
    map: dict[str, str] | None = None
    map_only: bool = False
    negate: bool = False
    pick: str | None = None
    period_end: bool = False
    fill_down: bool = False
    extract: str | None = None
    default: str | None = None
    replace: dict[str, str] | None = None  # literal text → text, applied to the cell before anything else

    def source_columns(self) -> list[str]:
        cols = list(self.columns)
        if self.template:
            cols += PLACEHOLDER.findall(self.template)
        return cols


@dataclass(frozen=True)
class TargetSpec:
    table: str
    columns: dict[str, ColumnSpec]
    distinct: bool = False  # several rows per key are expected: keep the first, count the rest as merged
    explode: str | None = None
    patch: bool = False
    insert_only: bool = False
    relax: frozenset[str] = frozenset()
    collect: str | None = None  # list column gathered from many rows per key
    order_by: str | None = None  # source column ordering the collected list


@dataclass(frozen=True)
class Mapping:
    name: str
    version: str
    source: str
    targets: dict[str, TargetSpec]
    synthetic: bool = False
    source_url: str = ""
    licence: str = ""
    path: Path | None = None
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.name}@{self.version}"


def shipped_mappings() -> dict[str, Path]:
    base = resources.files("hardtech.data") / "mappings"
    return {Path(str(p)).stem: Path(str(p)) for p in base.iterdir() if str(p).endswith(".yaml")}


def load_mapping(name_or_path: str | Path) -> Mapping:
    """A path to a YAML file, or the name of a mapping we ship (`hardtech import --help` lists them)."""
    path = Path(name_or_path)
    if not path.exists():
        shipped = shipped_mappings()
        if str(name_or_path) in shipped:
            path = shipped[str(name_or_path)]
        else:
            raise MappingError(
                f"mapping {name_or_path!r} is neither a file nor a shipped mapping "
                f"({', '.join(sorted(shipped))})")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise MappingError(f"{path.name}: not valid YAML: {exc}") from exc
    return parse_mapping(data, path)


def parse_mapping(data: Any, path: Path | None = None) -> Mapping:
    where = path.name if path else "mapping"
    if not isinstance(data, dict) or "targets" not in data:
        raise MappingError(f"{where}: a mapping needs a `targets:` section")
    targets = {}
    for tname, tdata in (data.get("targets") or {}).items():
        if tname not in IMPORTABLE:
            raise MappingError(f"{where}: unknown target table {tname!r}; tables: {', '.join(IMPORTABLE)}")
        if not isinstance(tdata, dict) or not isinstance(tdata.get("columns"), dict):
            raise MappingError(f"{where}: target {tname} needs a `columns:` mapping")
        tbl = schema_table(tname)
        unknown = set(tdata) - TARGET_KEYS
        if unknown:
            raise MappingError(f"{where}: target {tname}: unknown keys {sorted(unknown)}; allowed: {sorted(TARGET_KEYS)}")
        relax = frozenset(tdata.get("relax") or ())
        if relax - RELAXABLE:
            raise MappingError(f"{where}: target {tname}: cannot relax {sorted(relax - RELAXABLE)}; "
                               f"relaxable: {sorted(RELAXABLE)}")
        cols = {}
        for target, spec in tdata["columns"].items():
            if target not in tbl.data_names:
                raise MappingError(f"{where}: {tname} has no column {target!r}; columns: {', '.join(tbl.data_names)}")
            cols[target] = _column_spec(target, spec, where)
        explode = tdata.get("explode")
        if explode is not None and explode not in cols:
            raise MappingError(f"{where}: target {tname}: explode names {explode!r}, which is not mapped")
        collect, order_by = _collect(tname, tdata, cols, tbl, where)
        targets[tname] = TargetSpec(tname, cols, bool(tdata.get("distinct", False)), explode,
                                    bool(tdata.get("patch", False)), bool(tdata.get("insert_only", False)), relax,
                                    collect, order_by)
    return Mapping(
        name=str(data.get("name") or (path.stem if path else "mapping")),
        version=str(data.get("version", "1")),
        source=str(data.get("source") or data.get("name") or ""),
        targets=targets,
        synthetic=bool(data.get("synthetic", False)),
        source_url=str(data.get("source_url", "")),
        licence=str(data.get("licence", "")),
        path=path,
        options={k: v for k, v in data.items() if k in ("delimiter", "sheet", "format", "encoding", "decimal")},
    )


def _collect(tname: str, tdata: dict, cols: dict, tbl, where: str) -> tuple[str | None, str | None]:
    """`collect` names a mapped list column; beside it only the key and constants may be mapped (values that
    could differ between the rows of one key would have no single right value)."""
    collect, order_by = tdata.get("collect"), tdata.get("order_by")
    if collect is None:
        if order_by is not None:
            raise MappingError(f"{where}: target {tname}: order_by needs collect")
        return None, None
    if collect not in cols or not tbl.column(collect).is_list:
        raise MappingError(f"{where}: target {tname}: collect names {collect!r}, which is not a mapped list column")
    varying = [c for c, spec in cols.items() if c != collect and c not in tbl.key and spec.value is None]
    if varying:
        raise MappingError(f"{where}: target {tname}: with collect, only the key ({', '.join(tbl.key)}), "
                           f"{collect} and constants may be mapped; {', '.join(varying)} could differ between the "
                           "rows of one key")
    return str(collect), None if order_by is None else str(order_by)


def _column_spec(target: str, spec: Any, where: str) -> ColumnSpec:
    if isinstance(spec, str):
        return ColumnSpec(target, columns=(spec,))
    if not isinstance(spec, dict):
        raise MappingError(f"{where}: column {target}: expected a column name or a mapping, got {spec!r}")
    unknown = set(spec) - SPEC_KEYS
    if unknown:
        raise MappingError(f"{where}: column {target}: unknown keys {sorted(unknown)}; allowed: {sorted(SPEC_KEYS)}")
    columns: tuple[str, ...] = ()
    if "column" in spec:
        columns = (str(spec["column"]),)
    if "columns" in spec:
        columns = tuple(str(c) for c in spec["columns"])
    if not columns and "value" not in spec and "template" not in spec:
        raise MappingError(f"{where}: column {target}: give `column`, `columns`, `value` or `template`")
    return ColumnSpec(
        target=target, columns=columns,
        value=None if spec.get("value") is None else str(spec["value"]),
        template=spec.get("template"), unit=spec.get("unit"), currency=spec.get("currency"),
        split=tuple(spec["split"]) if isinstance(spec.get("split"), list) else spec.get("split"),
        map={str(k): str(v) for k, v in (spec.get("map") or {}).items()} or None,
        map_only=bool(spec.get("map_only", False)), negate=bool(spec.get("negate", False)),
        pick=_pick(spec.get("pick"), target, where), period_end=bool(spec.get("period_end", False)),
        fill_down=bool(spec.get("fill_down", False)), extract=spec.get("extract"),
        default=None if spec.get("default") is None else str(spec["default"]),
        replace={str(k): str(v) for k, v in (spec.get("replace") or {}).items()} or None,
    )


def _pick(value, target: str, where: str) -> str | None:
    if value is None:
        return None
    if value not in ("min", "max", "first", "last"):
        raise MappingError(f"{where}: column {target}: pick must be min, max, first or last, not {value!r}")
    return value


def identity_target(table_name: str, headers: list[str]) -> TargetSpec:
    """No mapping given: match our column names to the file's headers, ignoring case and spaces."""
    tbl = schema_table(table_name)
    norm = {h.strip().lower().replace(" ", "_"): h for h in headers}
    cols = {c: ColumnSpec(c, columns=(norm[c],)) for c in tbl.data_names if c in norm}
    return TargetSpec(table_name, cols)
