"""Typing and validation: from mapped text columns to typed rows plus a list of errors.

Fast path first: DuckDB casts the values that already look like numbers and ISO dates (nearly
all of a machine export). Only the cells that fail the cast — `1.2亿元`, `2016年5月`,
`$3.5M` — go through the Python parsers, so a million clean rows never touch Python while a
messy spreadsheet still gets every value understood or reported with its line and column.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb
import pyarrow as pa

from hardtech.sources.mapping import TargetSpec
from hardtech.sources.readers import LINE
from hardtech.sources.transform import ident, lit
from hardtech.store.schema import Column, table as schema_table

YEAR_COLUMNS = {"fiscal_year", "founded", "stat_year"}
CURRENCY_WORDS = {"RMB": "CNY", "人民币": "CNY", "元": "CNY", "CNH": "CNY", "美元": "USD", "US$": "USD",
                  "欧元": "EUR", "港元": "HKD", "港币": "HKD", "日元": "JPY", "英镑": "GBP", "韩元": "KRW"}


@dataclass
class Validated:
    view: str  # name of the typed view (all rows, including bad ones)
    errors: pa.Table  # __line, column_name, value, reason


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
        return pa.table({LINE: pa.array(self.lines, pa.int64()), "column_name": pa.array(self.cols, pa.string()),
                         "value": pa.array(self.values, pa.string()), "reason": pa.array(self.reasons, pa.string())})


def normalise_currency_sql(v: str) -> str:
    whens = " ".join(f"WHEN {lit(k)} THEN {lit(c)}" for k, c in CURRENCY_WORDS.items())
    return f"(CASE upper(trim({v})) {whens} ELSE upper(trim({v})) END)"


ISO_DATE = "CASE WHEN regexp_matches({c}, '^\\d{{4}}-\\d{{2}}-\\d{{2}}$') THEN TRY_CAST({c} AS DATE) END"
BOOL_TRUE = "('1','true','t','yes','y','是')"
BOOL_FALSE = "('0','false','f','no','n','否')"


def _fast_number(c: str) -> str:
    # plain numbers cast directly; `1,234.5` and `1 234` get a second, costlier try
    return f"coalesce(TRY_CAST({c} AS DOUBLE), TRY_CAST(replace(replace({c}, ',', ''), ' ', '') AS DOUBLE))"


def validate(con: duckdb.DuckDBPyConnection, mapped: str, target: TargetSpec, prefix: str,
             today: dt.date | None = None) -> Validated:
    """Type every column in one pass, then fix the few cells that need the Python parsers."""
    from hardtech.sources.money import parse_unit

    today = today or dt.date.today()
    tbl = schema_table(target.table)
    errors = _Errors()
    funding = target.table == "funding_rounds"
    sel = [ident(LINE)]
    numeric: dict[str, tuple[float, str | None]] = {}  # column -> (factor, default currency)
    for col in tbl.columns:
        c = f"m.{ident(col.name)}"
        spec = target.columns.get(col.name)
        if col.is_list or col.type == "VARCHAR":
            if col.name == "currency":
                sel.append(f"{normalise_currency_sql(c)} AS currency")
            else:
                sel.append(f"{c} AS {ident(col.name)}")
        elif col.type in ("DOUBLE", "INTEGER", "BIGINT"):
            factor, unit_ccy = parse_unit(spec.unit) if spec is not None and spec.unit else (1.0, None)
            if spec is not None and spec.negate:
                factor = -factor
            numeric[col.name] = (factor, (spec.currency if spec is not None and spec.currency else None) or unit_ccy)
            fast = _fast_number(c)
            scaled = f"({fast}) * {factor!r}" if factor != 1.0 else fast
            sel.append(f"{scaled} AS {ident(col.name)}")
            sel.append(f"CASE WHEN ({fast}) IS NULL THEN {c} END AS {ident('__raw_' + col.name)}")
            if col.unit == "money":
                sel.append(f"CAST(NULL AS VARCHAR) AS {ident('__ccy_' + col.name)}")
            if funding and col.name == "amount":
                sel += ["CAST(NULL AS DOUBLE) AS __amount_low", "CAST(NULL AS DOUBLE) AS __amount_high",
                        f"({fast}) IS NOT NULL AS __disclosed", f"{c} AS __amount_text"]
        elif col.type == "DATE":
            iso = ISO_DATE.format(c=c)
            sel.append(f"{iso} AS {ident(col.name)}")
            sel.append(f"CASE WHEN ({iso}) IS NULL THEN {c} END AS {ident('__raw_' + col.name)}")
            if funding and col.name == "date":
                sel.append(f"CASE WHEN ({iso}) IS NOT NULL THEN 'day' END AS __date_precision")
        elif col.type == "BOOLEAN":
            low = f"lower(trim({c}))"
            sel.append(f"CASE WHEN {low} IN {BOOL_TRUE} THEN TRUE WHEN {low} IN {BOOL_FALSE} THEN FALSE END "
                       f"AS {ident(col.name)}")
            sel.append(f"CASE WHEN {c} IS NOT NULL AND {low} NOT IN {BOOL_TRUE} AND {low} NOT IN {BOOL_FALSE} "
                       f"THEN {c} END AS {ident('__raw_' + col.name)}")
    work = f"{prefix}_work"
    con.execute(f"CREATE OR REPLACE TEMP TABLE {work} AS SELECT {', '.join(sel)} FROM {mapped} m")

    for col in tbl.columns:
        if col.is_list or col.type == "VARCHAR":
            continue
        raw = ident("__raw_" + col.name)
        bad = con.execute(f"SELECT {ident(LINE)}, {raw} FROM {work} WHERE {raw} IS NOT NULL").fetchall()
        if bad:
            _fix_cells(con, work, target, col, bad, numeric.get(col.name), errors, prefix)
        if col.type in ("INTEGER", "BIGINT"):
            frac = con.execute(f"SELECT {ident(LINE)}, {ident(col.name)} FROM {work} "
                               f"WHERE {ident(col.name)} <> floor({ident(col.name)})").fetchall()
            errors.extend_rows(frac, col.name, lambda val: f"{val!r} is not a whole number")

    # the row's currency: its own column, else a currency written in an amount, else the mapping's default
    money_cols = [c.name for c in tbl.columns if c.unit == "money"]
    cur = "currency"
    if "currency" in tbl.data_names:
        for m in money_cols:
            rows = con.execute(
                f"SELECT {ident(LINE)}, currency, {ident('__ccy_' + m)} FROM {work} WHERE currency IS NOT NULL "
                f"AND {ident('__ccy_' + m)} IS NOT NULL AND currency <> {ident('__ccy_' + m)}").fetchall()
            for line, rc, pc in rows:
                errors.add(line, "currency", rc, f"currency {rc} conflicts with {pc} written in {m}")
        for i, a in enumerate(money_cols):  # no currency column, two amounts in two currencies: no row currency
            for b in money_cols[i + 1:]:
                ca, cb = ident("__ccy_" + a), ident("__ccy_" + b)
                for line, x, y, raw in con.execute(
                        f"SELECT {ident(LINE)}, {ca}, {cb}, {ident('__raw_' + b)} FROM {work} WHERE currency IS NULL "
                        f"AND {ca} IS NOT NULL AND {cb} IS NOT NULL AND {ca} <> {cb}").fetchall():
                    errors.add(line, b, raw, f"{b} is written in {y} but {a} in {x}: one row has one currency")
        defaults = [lit(numeric[m][1]) for m in money_cols if m in numeric and numeric[m][1]]
        parsed = [ident("__ccy_" + m) for m in money_cols]
        if parsed or defaults:
            cur = f"coalesce(currency, {', '.join(parsed + defaults)})"
    final = [ident(LINE)]
    extra = {"amount_low": "coalesce(amount_low, __amount_low)", "amount_high": "coalesce(amount_high, __amount_high)",
             "disclosed": "coalesce(disclosed, __disclosed, FALSE)", "amount_text": "coalesce(amount_text, __amount_text)",
             "date_precision": "coalesce(date_precision, __date_precision)"}
    for col in tbl.columns:
        name = ident(col.name)
        if col.name == "currency":
            final.append(f"{cur} AS currency")
        elif funding and col.name in extra:
            final.append(f"CAST({extra[col.name]} AS {col.type}) AS {name}")
        elif col.type in ("INTEGER", "BIGINT"):
            final.append(f"TRY_CAST(round({name}) AS {col.type}) AS {name}")
        else:
            final.append(name)
    typed = f"{prefix}_typed"
    con.execute(f"CREATE OR REPLACE TEMP TABLE {typed} AS SELECT {', '.join(final)} FROM {work}")
    con.execute(f"DROP TABLE {work}")
    _check_rules(con, typed, target, tbl.columns, errors, today)
    return Validated(typed, errors.table())


def _fix_cells(con, work: str, target: TargetSpec, col: Column, bad: list, numeric: tuple | None,
               errors: _Errors, prefix: str) -> None:
    """Parse the cells the SQL casts could not (`1.2亿元`, `2016年5月`, `$3.5M`) and write them back."""
    from hardtech.sources.dates import parse_date, parse_year
    from hardtech.sources.money import parse_money

    funding_amount = target.table == "funding_rounds" and col.name == "amount"
    sets: dict[str, tuple[pa.DataType, list]] = {}
    lines = []
    for line, value in bad:
        try:
            if col.type == "DATE":
                pdx = parse_date(value)
                if pdx is None:
                    continue
                vals = {col.name: (pa.date32(), pdx.value)}
                if target.table == "funding_rounds" and col.name == "date":
                    vals["__date_precision"] = (pa.string(), pdx.precision)
            elif col.type == "BOOLEAN":
                raise ValueError(f"{value!r} is not true/false")
            elif col.name in YEAR_COLUMNS:
                vals = {col.name: (pa.float64(), float(_year(value, parse_year, parse_date)))}
            else:
                factor, default_ccy = numeric or (1.0, None)
                if col.unit == "money" or funding_amount:
                    m = parse_money(value, default_currency=default_ccy, unit=abs(factor))
                    if m.amount is None and m.disclosed and not funding_amount:
                        raise ValueError(f"a range ({value}) is not a figure; give one number")
                    num = None if m.amount is None else (-m.amount if factor < 0 else m.amount)
                    vals = {col.name: (pa.float64(), num), "__ccy_" + col.name: (pa.string(), m.currency)}
                    if funding_amount:
                        vals |= {"__amount_low": (pa.float64(), m.low), "__amount_high": (pa.float64(), m.high),
                                 "__disclosed": (pa.bool_(), m.disclosed)}
                else:
                    m = parse_money(value, default_currency=None, unit=1.0)
                    if m.amount is None:
                        raise ValueError(f"not a number: {value!r}")
                    vals = {col.name: (pa.float64(), m.amount)}
        except Exception as exc:  # noqa: BLE001 - any parser failure is a reject with its message
            errors.add(line, col.name, value, _reason(exc))
            continue
        lines.append(line)
        for name, (typ, v) in vals.items():
            sets.setdefault(name, (typ, []))[1].append(v)
        if any(len(v) != len(lines) for _, v in sets.values()):
            raise AssertionError("fix columns out of step")  # pragma: no cover - every branch sets the same keys
    if not lines:
        return
    data = {LINE: pa.array(lines, pa.int64())} | {n: pa.array(v, t) for n, (t, v) in sets.items()}
    fix = f"{prefix}_fix"
    con.register(fix, pa.table(data))
    assign = ", ".join(f"{ident(n)} = f.{ident(n)}" for n in sets)
    con.execute(f"UPDATE {work} w SET {assign} FROM {fix} f WHERE w.{ident(LINE)} = f.{ident(LINE)}")
    con.unregister(fix)


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


def _check_rules(con, view: str, target: TargetSpec, columns: tuple[Column, ...],
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
