"""An applicants file read through the same parsers and validation as `hardtech import`, for screening.

Why one code path: a jury's spreadsheet says `1.2亿元`, `3000万元`, `$3.5M`, `2016年`, `A轮`; `import`
reads all of them, so screening must too, and must refuse what import refuses (a figure that is not a
number, R&D 100 times revenue, R&D staff above employees, a year in the future) with the same reasons.
The applicants' figures are laid out as `financials` rows and their names, cities and founding years as
`organizations` rows in a throwaway in-memory DuckDB, and `sources.validate.validate` types and checks
them exactly as it does on import (the store is never touched). Every value it refuses is named
(`dropped`: line, column as the file spells it, value, reason); an applicant whose name makes the
same `org_id` as an earlier one (the importer's slug: `Pony AI` = `pony.ai`) is a duplicate, named and
not ranked twice.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from hardtech.errors import ParseError, UsageError
from hardtech.sources.mapping import ColumnSpec, TargetSpec
from hardtech.sources.readers import LINE
from hardtech.store.importer import SLUG
from hardtech.schema import table as schema_table

WIDE = re.compile(r"^(revenue|rd)_(\d{4})$")  # revenue_2024, rd_2024: one fiscal year per column
FLAT = ("revenue", "rd_expense", "rd_staff", "employees", "invention_patents")  # the latest year's figures
FIN_COLUMNS = ("fiscal_year", "currency", *FLAT)
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


@dataclass
class Applicants:
    """What screening needs from the file, every value typed by the import's parsers."""

    rows: list[dict]  # one per applicant to rank (a duplicate's later lines left out), the file's text + LINE
    label: str
    financials: dict[int, pd.DataFrame] = field(default_factory=dict)  # line → fiscal_year, currency, figures
    latest: dict[int, int] = field(default_factory=dict)  # line → the fiscal year of its latest figures
    founded: dict[int, int] = field(default_factory=dict)
    stage: dict[int, str] = field(default_factory=dict)
    notes: dict[int, list[str]] = field(default_factory=dict)  # line → what was assumed
    dropped: list[dict] = field(default_factory=list)  # line, column, value, reason: values not used
    duplicates: list[dict] = field(default_factory=list)  # line, name, first_line: applicants not ranked


def _text(v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    return str(v).strip()


def _table(src: Any) -> tuple[pa.Table, str]:
    """The applicants as text columns with the spreadsheet line of each row (header = line 1)."""
    if isinstance(src, pd.DataFrame):
        cols = {str(c): pa.array([None if (v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA)
                                  else str(v) for v in src[c].tolist()], pa.string()) for c in src.columns}
        cols[LINE] = pa.array(range(2, len(src) + 2), pa.int64())
        return pa.table(cols), "table"
    from hardtech.sources.readers import read_table

    return read_table(src).table, f"file {Path(src).name}"


def _validate(con, name: str, table: str, data: dict[str, list], provided: set[str], default_currency: str | None):
    """validate() over text rows laid out as `table`: the typed rows and the errors, as import gets them."""
    from hardtech.sources.validate import validate

    tbl = schema_table(table)
    n = len(data[LINE])
    cols = {LINE: pa.array(data[LINE], pa.int64())}
    for c in tbl.columns:
        vals = data.get(c.name, [None] * n)
        cols[c.name] = pa.array(vals, pa.string())
    con.register(f"{name}_src", pa.table(cols))
    mapped = f"{name}_src"
    if table == "organizations":  # org_id from the name, as the importer makes it
        slug = SLUG.format(x="m.name_en")
        con.execute(f"CREATE OR REPLACE TEMP VIEW {name}_mapped AS SELECT * REPLACE "
                    f"(coalesce(nullif({slug}, ''), 'zh:' || m.name_zh) AS org_id) FROM {name}_src m")
        mapped = f"{name}_mapped"
    specs = {c.name: ColumnSpec(c.name, columns=(c.name,),
                                currency=default_currency if c.unit == "money" else None)
             for c in tbl.columns if c.name in provided}
    v = validate(con, mapped, TargetSpec(table, specs), name)
    return con.sql(f"SELECT * FROM {v.view}").to_arrow_table(), v.errors.to_pylist()


def read_applicants(src: Any, name_column: str = "name", text_column: str = "description",
                    default_currency: str | None = "CNY", today: dt.date | None = None) -> Applicants:
    """Read, parse and validate an applicants file (or DataFrame); see the module docstring."""
    import duckdb

    from hardtech.sources.dates import parse_year
    from hardtech.sources.stages import normalise_stage

    today = today or dt.date.today()
    table, label = _table(src)
    headers = [c for c in table.column_names if c != LINE]
    missing = [c for c in (name_column, text_column) if c not in headers]
    if missing:
        raise UsageError(f"applicants {label} lacks required column(s) {', '.join(missing)}; "
                         f"its columns are: {', '.join(headers) or '(none)'}")
    recs = table.to_pylist()
    out = Applicants(rows=[], label=label)
    con = duckdb.connect()
    try:
        # organisations: the name makes the org_id (duplicates), the founding year is parsed
        orgs: dict[str, list] = {LINE: [], "name_en": [], "name_zh": [], "city": [], "founded": []}
        for r in recs:
            name = _text(r.get(name_column))
            orgs[LINE].append(r[LINE])
            orgs["name_zh" if CJK.search(name) else "name_en"].append(name or None)
            orgs["name_en" if CJK.search(name) else "name_zh"].append(None)
            orgs["city"].append(_text(r.get("city")) or None)
            orgs["founded"].append(_text(r.get("founded")) or None)
        typed, errors = _validate(con, "scr_org", "organizations", orgs, {"org_id", "name_en", "name_zh", "city",
                                                                          "founded"}, None)
        later: set[int] = set()
        for e in errors:
            line = e[LINE]
            if e["column_name"] == "org_id" and "duplicate key" in e["reason"]:
                first = re.search(r"also on line (\d+)", e["reason"])
                later.add(line)
                out.duplicates.append({"line": line, "name": _text(next(r for r in recs if r[LINE] == line)
                                                                    .get(name_column)),
                                       "first_line": int(first.group(1)) if first else None})
            elif e["column_name"] != "org_id":  # an empty name is kept: the applicant is "(unnamed, line N)"
                out.dropped.append({"line": line, "column": e["column_name"], "value": e["value"],
                                    "reason": e["reason"]})
        bad = {(e[LINE], e["column_name"]) for e in errors}
        for r in typed.to_pylist():
            if r["founded"] is not None and (r[LINE], "founded") not in bad:
                out.founded[r[LINE]] = int(r["founded"])
        out.rows = [r for r in recs if r[LINE] not in later]

        # figures: one financials row per applicant and fiscal year, from revenue_<year>/rd_<year> columns
        # and the flat latest-year columns
        fin: dict[str, list] = {LINE: [], "org_id": [], **{c: [] for c in FIN_COLUMNS}}
        origin: dict[int, tuple[int, int, dict[str, str]]] = {}  # row → (applicant line, year, column → file column)
        for r in out.rows:
            line = r[LINE]
            years: dict[int, dict[str, str]] = {}
            for c in headers:
                m = WIDE.match(c)
                if m and _text(r.get(c)):
                    years.setdefault(int(m.group(2)), {})["revenue" if m.group(1) == "revenue" else "rd_expense"] = c
            flat = {c: c for c in FLAT if _text(r.get(c))}
            if not years and not flat:
                continue
            if flat:
                fy_text, fy = _text(r.get("fiscal_year")), None
                if fy_text:
                    try:
                        fy = parse_year(fy_text)
                    except ParseError as exc:
                        out.dropped.append({"line": line, "column": "fiscal_year", "value": fy_text,
                                            "reason": str(exc)})
                if fy is None:
                    fy = max(years) if years else today.year - 1
                    if not years:
                        out.notes.setdefault(line, []).append(
                            f"no fiscal year given; figures taken as fiscal year {fy}")
                years.setdefault(fy, {}).update({c: s for c, s in flat.items() if c not in years.get(fy, {})})
            for y, used in sorted(years.items()):
                k = len(fin[LINE]) + 1
                origin[k] = (line, y, used)
                fin[LINE].append(k)
                fin["org_id"].append(f"line {line}")
                fin["fiscal_year"].append(str(y))
                fin["currency"].append(_text(r.get("currency")) or None)
                for c in FLAT:
                    fin[c].append(_text(r.get(used[c])) if c in used else None)
        if fin[LINE]:
            typed, errors = _validate(con, "scr_fin", "financials", fin, set(FIN_COLUMNS) | {"org_id"},
                                      default_currency)
            rejected = set()
            for e in errors:
                line, y, used = origin[e[LINE]]
                rejected.add(e[LINE])
                out.dropped.append({"line": line, "column": used.get(e["column_name"], e["column_name"]),
                                    "value": e["value"], "reason": f"{e['reason']} (figures of {y} not used)"})
            per: dict[int, list[dict]] = {}
            for r in typed.to_pylist():
                if r[LINE] in rejected:
                    continue
                line, y, _ = origin[r[LINE]]
                per.setdefault(line, []).append({c: r[c] for c in FIN_COLUMNS})
            for line, rows in per.items():
                out.financials[line] = pd.DataFrame(rows).sort_values("fiscal_year").reset_index(drop=True)
                out.latest[line] = int(out.financials[line]["fiscal_year"].max())
        for r in out.rows:
            s = _text(r.get("stage"))
            if s:
                st = normalise_stage(s)
                if st == "unknown":
                    out.dropped.append({"line": r[LINE], "column": "stage", "value": s,
                                        "reason": f"{s!r} is not a funding stage hardtech knows (A轮, Series B, "
                                                  "天使轮, Pre-IPO …)"})
                else:
                    out.stage[r[LINE]] = st
    finally:
        con.close()
    out.dropped.sort(key=lambda d: (d["line"], d["column"]))
    return out
