"""Typing and validation: from mapped text columns to typed rows plus a list of errors.

Fast path first: DuckDB casts the values that already look like numbers and ISO dates (nearly
all of a machine export). Only the cells that fail the cast — `1.2亿元`, `2016年5月`,
`$3.5M` — go through the Python parsers, so a million clean rows never touch Python while a
messy spreadsheet still gets every value understood or reported with its line and column.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import duckdb
import pyarrow as pa

from hardtech.sources.mapping import TargetSpec
from hardtech.sources.readers import LINE
from hardtech.sources.transform import ident, lit
from hardtech.store.schema import Column, table as schema_table

YEAR_COLUMNS = {"fiscal_year", "founded", "stat_year"}
CURRENCY_WORDS = {"RMB": "CNY", "人民币": "CNY", "元": "CNY", "CNH": "CNY", "美元": "USD", "US$": "USD",
                  "欧元": "EUR", "港元": "HKD", "港币": "HKD", "日元": "JPY", "英镑": "GBP", "韩元": "KRW"}
NUM_CAST = "TRY_CAST(replace(replace({v}, ',', ''), ' ', '') AS DOUBLE)"


@dataclass
class Validated:
    view: str  # name of the typed view (all rows, including bad ones)
    errors: pa.Table  # __line, column_name, value, reason
    notes: list[str] = field(default_factory=list)

    @property
    def bad_lines(self) -> set[int]:
        return set(self.errors.column(LINE).to_pylist()) if self.errors.num_rows else set()


class _Errors:
    def __init__(self) -> None:
        self.lines: list[int] = []
        self.cols: list[str] = []
        self.values: list[str | None] = []
        self.reasons: list[str] = []

    def add(self, line: int, col: str, value, reason: str) -> None:
        self.lines.append(int(line))
        self.cols.append(col)
        self.values.append(None if value is None else str(value))
        self.reasons.append(reason)

    def extend_rows(self, rows, col: str, reason_fn) -> None:
        for line, value in rows:
            self.add(line, col, value, reason_fn(value))

    def table(self) -> pa.Table:
        return pa.table({LINE: pa.array(self.lines, pa.int64()), "column_name": self.cols,
                         "value": pa.array(self.values, pa.string()), "reason": self.reasons})


def normalise_currency_sql(v: str) -> str:
    whens = " ".join(f"WHEN {lit(k)} THEN {lit(c)}" for k, c in CURRENCY_WORDS.items())
    return f"(CASE upper(trim({v})) {whens} ELSE upper(trim({v})) END)"


def validate(con: duckdb.DuckDBPyConnection, mapped: str, target: TargetSpec, prefix: str,
             today: dt.date | None = None) -> Validated:
    from hardtech.sources.dates import parse_date, parse_year
    from hardtech.sources.money import parse_money, parse_unit

    today = today or dt.date.today()
    tbl = schema_table(target.table)
    errors = _Errors()
    notes: list[str] = []
    selects = [ident(LINE)]
    joins: list[str] = []
    money_ccy_exprs: list[str] = []

    suspects = _suspect_cells(con, mapped, tbl.columns)

    def failing(kind: str, col: str) -> list[tuple[int, str]]:
        return suspects.get((kind, col), [])

    def register_fix(col: str, data: dict[str, pa.Array]) -> str:
        name = f"{prefix}_fix_{col}"
        con.register(name, pa.table(data))
        joins.append(f"LEFT JOIN {name} USING ({ident(LINE)})")
        return name

    for col in tbl.columns:
        v = f"m.{ident(col.name)}"
        spec = target.columns.get(col.name)
        if col.is_list or col.type == "VARCHAR":
            if col.name == "currency":
                selects.append(f"{normalise_currency_sql(v)} AS __raw_currency")
            else:
                selects.append(f"{v} AS {ident(col.name)}")
            continue
        if col.type in ("DOUBLE", "INTEGER", "BIGINT"):
            factor, unit_ccy = 1.0, None
            if spec is not None and spec.unit:
                factor, unit_ccy = parse_unit(spec.unit)
            default_ccy = (spec.currency if spec is not None and spec.currency else None) or unit_ccy
            if spec is not None and spec.negate:
                factor = -factor
            bad = failing("bad", col.name)
            fix = None
            if bad:
                lines, nums, ccys, lows, highs, disc = [], [], [], [], [], []
                for line, value in bad:
                    try:
                        if col.name in YEAR_COLUMNS:
                            num, ccy, lo, hi, ok = _year(value, parse_year, parse_date), None, None, None, True
                        elif col.unit == "money" or target.table == "funding_rounds" and col.name == "amount":
                            m = parse_money(value, default_currency=default_ccy, unit=abs(factor))
                            num, ccy, lo, hi, ok = m.amount, m.currency, m.low, m.high, m.disclosed
                            if factor < 0 and num is not None:
                                num = -num
                            if num is None and m.disclosed and target.table != "funding_rounds":
                                raise ValueError(f"a range ({value}) is not a figure; give one number")
                        else:
                            m = parse_money(value, default_currency=None, unit=1.0)
                            if m.amount is None:
                                raise ValueError(f"not a number: {value!r}")
                            num, ccy, lo, hi, ok = m.amount, None, None, None, True
                    except Exception as exc:  # noqa: BLE001 - any parser failure is a reject
                        errors.add(line, col.name, value, _reason(exc))
                        continue
                    lines.append(line); nums.append(num); ccys.append(ccy)
                    lows.append(lo); highs.append(hi); disc.append(ok)
                fix = register_fix(col.name, {
                    LINE: pa.array(lines, pa.int64()), f"__n_{col.name}": pa.array(nums, pa.float64()),
                    f"__c_{col.name}": pa.array(ccys, pa.string()), f"__lo_{col.name}": pa.array(lows, pa.float64()),
                    f"__hi_{col.name}": pa.array(highs, pa.float64()), f"__d_{col.name}": pa.array(disc, pa.bool_()),
                })
                # A unit in the text (`亿元`) already scaled the value; plain numbers get the mapping's factor.
            scaled = f"({NUM_CAST.format(v=v)} * {factor!r})" if factor != 1.0 else NUM_CAST.format(v=v)
            expr = f"coalesce({scaled}, {ident('__n_' + col.name)})" if fix else scaled
            if col.type in ("INTEGER", "BIGINT"):
                # reject non-integers such as 3.5 employees
                errors.extend_rows(failing("frac", col.name), col.name, lambda val: f"{val!r} is not a whole number")
                expr = f"TRY_CAST(round({expr}) AS {col.type})"
            selects.append(f"{expr} AS {ident(col.name)}")
            if fix and col.unit == "money":
                money_ccy_exprs.append(ident("__c_" + col.name))
                selects.append(ident("__c_" + col.name))
            if target.table == "funding_rounds" and col.name == "amount":
                text = f"m.{ident('amount')}"
                lo = f"{ident('__lo_amount')}" if fix else "CAST(NULL AS DOUBLE)"
                hi = f"{ident('__hi_amount')}" if fix else "CAST(NULL AS DOUBLE)"
                dflag = f"{ident('__d_amount')}" if fix else "CAST(NULL AS BOOLEAN)"
                selects.append(f"{lo} AS __amount_low, {hi} AS __amount_high, "
                               f"coalesce({dflag}, {scaled} IS NOT NULL) AS __disclosed, {text} AS __amount_text")
            if spec is not None and default_ccy:
                money_ccy_exprs.append(lit(default_ccy))
        elif col.type == "DATE":
            bad = failing("bad", col.name)
            fix = None
            if bad:
                lines, vals, precs = [], [], []
                for line, value in bad:
                    try:
                        pdx = parse_date(value)
                    except Exception as exc:  # noqa: BLE001
                        errors.add(line, col.name, value, _reason(exc))
                        continue
                    if pdx is None:
                        continue
                    lines.append(line); vals.append(pdx.value); precs.append(pdx.precision)
                fix = register_fix(col.name, {LINE: pa.array(lines, pa.int64()),
                                              f"__dt_{col.name}": pa.array(vals, pa.date32()),
                                              f"__p_{col.name}": pa.array(precs, pa.string())})
            iso = f"CASE WHEN regexp_matches({v}, '^\\d{{4}}-\\d{{2}}-\\d{{2}}$') THEN TRY_CAST({v} AS DATE) END"
            expr = f"coalesce({iso}, {ident('__dt_' + col.name)})" if fix else iso
            selects.append(f"{expr} AS {ident(col.name)}")
            if col.name == "date" and target.table == "funding_rounds":
                prec = f"coalesce({ident('__p_date')}, CASE WHEN {iso} IS NOT NULL THEN 'day' END)" if fix \
                    else f"CASE WHEN {iso} IS NOT NULL THEN 'day' END"
                selects.append(f"{prec} AS __date_precision")
        elif col.type == "BOOLEAN":
            selects.append(
                f"CASE WHEN lower(trim({v})) IN ('1','true','t','yes','y','是') THEN TRUE "
                f"WHEN lower(trim({v})) IN ('0','false','f','no','n','否') THEN FALSE END AS {ident(col.name)}")
            errors.extend_rows(failing("bad", col.name), col.name, lambda val: f"{val!r} is not true/false")
        else:  # pragma: no cover - schema uses only the types above
            selects.append(f"{v} AS {ident(col.name)}")

    if "currency" in tbl.data_names:
        parsed = ", ".join(money_ccy_exprs)
        cur = f"coalesce(__raw_currency{', ' + parsed if parsed else ''})"
    typed_view = f"{prefix}_typed"
    sql = f"SELECT {', '.join(selects)} FROM {mapped} m {' '.join(joins)}"
    con.execute(f"CREATE OR REPLACE TEMP VIEW {prefix}_pre AS {sql}")
    final_cols = [ident(LINE)]
    for col in tbl.columns:
        if col.name == "currency":
            final_cols.append(f"{cur} AS currency")
        elif target.table == "funding_rounds" and col.name in ("amount_low", "amount_high", "disclosed", "amount_text", "date_precision"):
            inner = {"amount_low": "coalesce(amount_low, __amount_low)", "amount_high": "coalesce(amount_high, __amount_high)",
                     "disclosed": "coalesce(disclosed, __disclosed, FALSE)", "amount_text": "coalesce(amount_text, __amount_text)",
                     "date_precision": "coalesce(date_precision, __date_precision)"}[col.name]
            final_cols.append(f"{inner} AS {ident(col.name)}")
        else:
            final_cols.append(ident(col.name))
    if "currency" in tbl.data_names:
        # conflicts between the currency column and a currency written in an amount (`1.2亿元` in a USD row)
        for e in money_ccy_exprs:
            if e.startswith("'"):
                continue
            rows = con.execute(
                f"SELECT {ident(LINE)}, __raw_currency, {e} FROM {prefix}_pre WHERE __raw_currency IS NOT NULL "
                f"AND {e} IS NOT NULL AND __raw_currency <> {e}").fetchall()
            for line, rc, pc in rows:
                errors.add(line, "currency", rc, f"currency {rc} conflicts with {pc} written in the amount")
    # One materialisation: every rule below scans this table instead of re-casting the file.
    con.execute(f"CREATE OR REPLACE TEMP TABLE {typed_view} AS SELECT {', '.join(final_cols)} FROM {prefix}_pre")

    _check_rules(con, typed_view, mapped, target, tbl.columns, errors, today)
    return Validated(typed_view, errors.table(), notes)


ISO_DATE = "CASE WHEN regexp_matches({c}, '^\\d{{4}}-\\d{{2}}-\\d{{2}}$') THEN TRY_CAST({c} AS DATE) END"
BOOL_WORDS = "('1','true','t','yes','y','是','0','false','f','no','n','否')"


def _suspect_cells(con, mapped: str, columns) -> dict[tuple[str, str], list[tuple[int, str]]]:
    """One scan of the file finds every cell the fast SQL casts cannot handle.

    Returns {(kind, column): [(line, value)]} with kind `bad` (needs the Python parser or is
    wrong) or `frac` (a fractional value in a whole-number column).
    """
    checks: list[tuple[str, str, str]] = []
    for col in columns:
        c = ident(col.name)
        if col.is_list or col.type == "VARCHAR":
            continue
        if col.type in ("DOUBLE", "INTEGER", "BIGINT"):
            num = NUM_CAST.format(v=c)
            checks.append(("bad", col.name, f"{c} IS NOT NULL AND {num} IS NULL"))
            if col.type != "DOUBLE":
                checks.append(("frac", col.name, f"{num} <> floor({num})"))
        elif col.type == "DATE":
            checks.append(("bad", col.name, f"{c} IS NOT NULL AND ({ISO_DATE.format(c=c)}) IS NULL"))
        elif col.type == "BOOLEAN":
            checks.append(("bad", col.name, f"{c} IS NOT NULL AND lower(trim({c})) NOT IN {BOOL_WORDS}"))
    if not checks:
        return {}
    flags = ", ".join(f"coalesce({cond}, FALSE) AS __f{i}" for i, (_, _, cond) in enumerate(checks))
    cols = sorted({name for _, name, _ in checks})
    colsql = ", ".join(ident(c) for c in cols)
    where = " OR ".join(f"coalesce({cond}, FALSE)" for _, _, cond in checks)
    rows = con.execute(f"SELECT {ident(LINE)}, {colsql}, {flags} FROM {mapped} WHERE {where}").fetchall()
    out: dict[tuple[str, str], list[tuple[int, str]]] = {}
    for row in rows:
        line, values, fl = row[0], dict(zip(cols, row[1:1 + len(cols)])), row[1 + len(cols):]
        for (kind, name, _), hit in zip(checks, fl):
            if hit:
                out.setdefault((kind, name), []).append((line, values[name]))
    return out


def _year(value: str, parse_year, parse_date) -> int:
    """`2016`, `2016年`, `FY2016`, or a full date whose year is meant (`2016-12-31`)."""
    try:
        y = parse_year(value)
    except Exception:  # noqa: BLE001 - fall through to a date
        y = None
    if y is None:
        try:
            d = parse_date(value)
        except Exception:  # noqa: BLE001
            d = None
        if d is None:
            raise ValueError(f"not a year: {value!r}")
        y = d.value.year
    return y


def _reason(exc: Exception) -> str:
    msg = str(exc).strip() or exc.__class__.__name__
    return msg


def _check_rules(con, view: str, mapped: str, target: TargetSpec, columns: tuple[Column, ...],
                 errors: _Errors, today: dt.date) -> None:
    L = ident(LINE)

    def rows(where: str, col: str, value_sql: str | None = None):
        value_sql = value_sql or f"CAST(t.{ident(col)} AS VARCHAR)"
        return con.execute(f"SELECT t.{L}, {value_sql} FROM {view} t WHERE {where}").fetchall()

    flagged = {(line, col) for line, col in zip(errors.lines, errors.cols)}
    for col in columns:
        c = ident(col.name)
        if col.required:
            # a value that failed to parse is already reported; only truly empty cells are "missing"
            missing = con.execute(f"SELECT t.{L} FROM {view} t WHERE t.{c} IS NULL").fetchall()
            for (line,) in missing:
                if (line, col.name) not in flagged:
                    errors.add(line, col.name, None, f"{col.name} is required but empty")
        if col.choices:
            allowed = ", ".join(lit(x) for x in col.choices)
            bad = rows(f"t.{c} IS NOT NULL AND t.{c} NOT IN ({allowed})", col.name)
            errors.extend_rows(bad, col.name,
                               lambda v, ch=col.choices: f"{v!r} is not one of: {', '.join(ch)}")
        if col.minimum is not None and col.type in ("DOUBLE", "INTEGER", "BIGINT"):
            label = "negative" if col.minimum == 0 else f"below {col.minimum:g}"
            bad = rows(f"t.{c} < {col.minimum!r}", col.name)
            errors.extend_rows(bad, col.name, lambda v, n=col.name, lb=label: f"{n} is {lb}: {v}")
        if col.name in YEAR_COLUMNS:
            bad = rows(f"t.{c} > {today.year}", col.name)
            errors.extend_rows(bad, col.name, lambda v, n=col.name: f"{n} {v} is in the future")
        if col.type == "DATE":
            bad = rows(f"t.{c} > DATE {lit(today.isoformat())}", col.name)
            errors.extend_rows(bad, col.name, lambda v, n=col.name: f"{n} {v} is in the future")
    names = {c.name for c in columns}
    if {"revenue", "rd_expense"} <= names and "rd_far_above_revenue" not in target.relax:
        bad = rows("t.revenue > 0 AND t.rd_expense > 100 * t.revenue", "revenue")
        errors.extend_rows(bad, "revenue",
                           lambda v: f"revenue {v} is below R&D by more than 100×: a unit error?")
    if {"rd_staff", "employees"} <= names:
        bad = rows("t.rd_staff > t.employees", "rd_staff")
        errors.extend_rows(bad, "rd_staff", lambda v: f"R&D staff {v} exceeds employees")
    if {"currency"} <= names and target.table in ("financials",):
        pass  # required flag covers a missing currency
    # duplicate keys inside the file: the first occurrence wins, later ones are refused
    key = schema_table(target.table).key
    key_cols = [k for k in key if k != "source_name"]
    if key_cols and not target.distinct:
        keys = ", ".join(ident(k) for k in key_cols)
        notnull = " AND ".join(f"{ident(k)} IS NOT NULL" for k in key_cols)
        # cheap hash aggregate first; the detailed per-line query runs only when there are duplicates
        dup_keys = f"SELECT {keys}, min({L}) AS first_line FROM {view} WHERE {notnull} GROUP BY {keys} HAVING count(*) > 1"
        dup = []
        if con.execute(f"SELECT count(*) FROM ({dup_keys})").fetchall()[0][0]:
            dup = con.execute(
                f"SELECT t.{L}, d.first_line, concat_ws(' / ', {', '.join(f'CAST(t.{ident(k)} AS VARCHAR)' for k in key_cols)}) "
                f"FROM {view} t JOIN ({dup_keys}) d USING ({keys}) WHERE t.{L} <> d.first_line").fetchall()
        for line, first, keyval in dup:
            errors.add(line, ",".join(key_cols), keyval,
                       f"duplicate key ({', '.join(key_cols)}) = {keyval}: also on line {first}")
