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

from hardtech.sources.cells import ALL_CHECKS, cells_flag_sql, check_cells, shown
from hardtech.sources.countries import iso_codes
from hardtech.sources.currencies import currency_codes
from hardtech.sources.mapping import TargetSpec
from hardtech.sources.readers import LINE
from hardtech.sources.transform import ident, lit
from hardtech.schema import Column, table as schema_table

YEAR_COLUMNS = {"fiscal_year", "founded", "stat_year", "year"}  # "year": publications' year
CODE_COLUMNS = ("cpc_codes", "ipc_codes")
# after patent_code_sql: G06N3/08, Y02E10/50, and the coarser levels a source may give (main group G06N3,
# subclass B29C, class G06): the symbols analytics.taxonomy.normalize_patent_code reads
PATENT_CODE = "[A-HY][0-9]{2}(?:[A-Z](?:[0-9]{1,4}(?:/[0-9]{1,6})?)?)?"
CURRENCY_WORDS = {"RMB": "CNY", "人民币": "CNY", "元": "CNY", "CNH": "CNY", "美元": "USD", "US$": "USD",
                  "欧元": "EUR", "港元": "HKD", "港币": "HKD", "日元": "JPY", "英镑": "GBP", "韩元": "KRW"}


@dataclass
class Validated:
    view: str  # name of the typed view (all rows, including bad ones)
    errors: pa.Table  # __line, column_name, value, reason
    columns: frozenset = frozenset()  # the table's columns the view holds; the others are empty for every row


# Columns the importer fills in after typing even when the file does not give them.
FILLED_LATER = {"patents": {"office", "patent_type"}, "organizations": {"country"}, "investors": {"country"}}


def present_columns(target: TargetSpec, derived: frozenset = frozenset()) -> set[str]:
    """The columns worth typing: mapped, derived, keys, required ones and those filled in later. A narrow file
    (two mapped columns of seventeen) then types two columns, not seventeen empty ones."""
    tbl = schema_table(target.table)
    if target.table == "funding_rounds":  # amounts, ranges, FX and investors fill each other in
        return set(tbl.data_names)
    present = set(target.columns) | set(derived) | set(tbl.key) | FILLED_LATER.get(target.table, set())
    present |= {c.name for c in tbl.columns if c.required}
    if "currency" in tbl.data_names and any(c.unit == "money" and c.name in present for c in tbl.columns):
        present.add("currency")
    return present & set(tbl.data_names)


class _Errors:
    def __init__(self) -> None:
        self.lines: list[int] = []
        self.cols: list[str] = []
        self.values: list[str | None] = []
        self.reasons: list[str] = []

    def add(self, line: int, col: str, value, reason: str) -> None:
        self.lines.append(int(line))
        self.cols.append(col)
        self.values.append(shown(value))
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


def patent_code_sql(x: str) -> str:
    """`G06N 3/08`, `G06N0003/08`, `B29C-047/00` → `G06N3/08` (same rule as taxonomy.normalize_patent_code)."""
    s = f"upper(regexp_replace(trim({x}), '[\\s-]+', '', 'g'))"
    return f"regexp_replace({s}, '^([A-HY][0-9]{{2}}[A-Z])0*([0-9])', '\\1\\2')"


def bad_codes_sql(col: str) -> str:
    """The elements of a CPC/IPC list column that are no patent code once normalised."""
    return (f"list_filter({col}, lambda x: NOT regexp_full_match({patent_code_sql('x')}, {lit(PATENT_CODE)}))")


def _first_cast(c: str, decimal: str = "point") -> str:
    """The one cast every numeric cell gets (computed once per cell, in an inner query): DuckDB's double cast
    minus what `numbers.parse_number` reads otherwise (`1_000`; `1.5` in a decimal-comma file)."""
    skip = f"contains({c}, '_')" + (f" OR contains({c}, '.')" if decimal == "comma" else "")
    return f"TRY_CAST(CASE WHEN NOT ({skip}) THEN {c} END AS DOUBLE)"


def _fast_number(c: str, first: str, decimal: str = "point") -> str:
    """The numbers SQL reads exactly as `numbers.parse_number` would, from the first cast `first`; NULL for
    every other cell, which then goes to the Python parsers (and gets its reason there). DuckDB's cast also
    reads `nan`, `inf` and `1e309` (as inf): those are kept out here. Grouped thousands (`1,234,567.5`) are
    tried only on the cells the first cast refused."""
    group, point = (".", ",") if decimal == "comma" else (",", ".")
    return f"CASE WHEN isfinite({first}) THEN {first} WHEN {first} IS NULL THEN {_grouped(c, group, point)} END"


def _grouped(c: str, group: str, point: str) -> str:
    """`1,234,567.5` (or `1.234.567,5`): thousands in threes, then an optional fraction."""
    pattern = f"[-+]?[0-9]{{1,3}}(\\{group}[0-9]{{3}})+(\\{point}[0-9]+)?"
    fixed = f"replace(replace({c}, {lit(group)}, ''), ',', '.')" if point == "," else f"replace({c}, {lit(group)}, '')"
    return f"CASE WHEN regexp_full_match({c}, {lit(pattern)}) THEN TRY_CAST({fixed} AS DOUBLE) END"


def validate(con: duckdb.DuckDBPyConnection, mapped: str, target: TargetSpec, prefix: str,
             today: dt.date | None = None, decimal: str = "point", checks: frozenset = ALL_CHECKS,
             derived: frozenset = frozenset(), prechecked: frozenset = frozenset()) -> Validated:
    """Check cell sizes and characters, type every column in one pass, then fix the few cells that need the
    Python parsers. `derived` names the columns the importer filled in (ids from names) beside the mapped
    ones; `checks` the character checks the file's bytes did not rule out; `prechecked` the columns whose
    every value was already checked row by row (a collected list)."""
    from hardtech.sources.money import parse_unit

    today = today or dt.date.today()
    tbl = schema_table(target.table)
    errors = _Errors()
    cells_checked = (set(target.columns) | set(derived) | set(tbl.key)) - prechecked
    funding = target.table == "funding_rounds"
    present = present_columns(target, derived)
    columns = tuple(c for c in tbl.columns if c.name in present)
    sel = [ident(LINE)]
    casts: list[str] = []  # computed once per cell in an inner query, used several times above it
    numeric: dict[str, tuple[float, str | None]] = {}  # column -> (factor, default currency)
    unit_ccy_of: dict[str, str] = {}  # column -> the currency its mapping's unit names ("USD million"): an assertion
    for col in columns:
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
            if unit_ccy:
                unit_ccy_of[col.name] = unit_ccy
            first = ident("__f_" + col.name)
            casts.append(f"{_first_cast(c, decimal)} AS {first}")
            fast = _fast_number(c, first, decimal)
            scaled = f"({fast}) * {factor!r}" if factor != 1.0 else fast
            sel.append(f"{scaled} AS {ident(col.name)}")
            sel.append(f"CASE WHEN ({fast}) IS NULL THEN {c} END AS {ident('__raw_' + col.name)}")
            if col.unit == "money":
                sel.append(f"CAST(NULL AS VARCHAR) AS {ident('__ccy_' + col.name)}")
            if funding and col.name == "amount":
                sel += ["CAST(NULL AS DOUBLE) AS __amount_low", "CAST(NULL AS DOUBLE) AS __amount_high",
                        f"({fast}) IS NOT NULL AS __disclosed", f"{c} AS __amount_text",
                        "FALSE AS __amount_approx"]
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
    # cell sizes and characters are tested in the same pass; only the flagged rows are looked at again
    flag = cells_flag_sql(tbl, cells_checked, checks)
    sel.append(f"{flag} AS __cells")
    inner = f"(SELECT *, {', '.join(casts)} FROM {mapped} m)" if casts else mapped
    con.execute(f"CREATE OR REPLACE TEMP TABLE {work} AS SELECT {', '.join(sel)} FROM {inner} m")
    flagged = con.execute(f"SELECT {ident(LINE)} FROM {work} WHERE __cells").fetchall()
    if flagged:
        con.register(f"{prefix}_cells", pa.table({LINE: pa.array([r[0] for r in flagged], pa.int64())}))
        check_cells(con, f"(SELECT * FROM {mapped} SEMI JOIN {prefix}_cells USING ({ident(LINE)}))", tbl,
                    cells_checked, errors, checks)
        con.unregister(f"{prefix}_cells")

    for col in columns:
        if col.is_list or col.type == "VARCHAR":
            continue
        raw = ident("__raw_" + col.name)
        bad = con.execute(f"SELECT {ident(LINE)}, {raw} FROM {work} WHERE {raw} IS NOT NULL").fetchall()
        if bad:
            _fix_cells(con, work, target, col, bad, numeric.get(col.name), errors, prefix, decimal)
        if col.type in ("INTEGER", "BIGINT"):
            where = f"w.{ident(col.name)} <> floor(w.{ident(col.name)})"
            if con.execute(f"SELECT count(*) FROM {work} w WHERE {where}").fetchone()[0]:
                # the cell as written is what the reject shows ('2,5' in a decimal-comma file, not the 2.5 read from
                # it); the input is joined only when some cell is refused
                frac = con.execute(f"SELECT w.{ident(LINE)}, m.{ident(col.name)} FROM {work} w JOIN {mapped} m "
                                   f"USING ({ident(LINE)}) WHERE {where}").fetchall()
                errors.extend_rows(frac, col.name, lambda val: f"{val} is not a whole number")

    # the row's currency: its own column, else a currency written in an amount, else the mapping's default
    money_cols = [c.name for c in columns if c.unit == "money"]
    cur = "currency"

    def ccy_of(m: str) -> str:
        # the currency an amount the row gives is in: written in the cell (1.5亿 USD), or named by its column's unit
        # ("USD million": a plain 2 there is USD too, not only a parsed cell); columns of the work table `w`
        parsed = "w." + ident("__ccy_" + m)
        if m not in unit_ccy_of:
            return parsed
        return f"coalesce({parsed}, CASE WHEN w.{ident(m)} IS NOT NULL THEN {lit(unit_ccy_of[m])} END)"

    if "currency" in present:
        for m in money_cols:
            rows = con.execute(
                f"SELECT w.{ident(LINE)}, w.currency, {ccy_of(m)} FROM {work} w WHERE w.currency IS NOT NULL "
                f"AND {ccy_of(m)} IS NOT NULL AND w.currency <> {ccy_of(m)}").fetchall()
            for line, rc, pc in rows:
                errors.add(line, "currency", rc, f"currency {rc} conflicts with {pc} written in {m}")
        for i, a in enumerate(money_cols):  # no currency column, two amounts in two currencies: no row currency
            for b in money_cols[i + 1:]:
                ca, cb = ccy_of(a), ccy_of(b)
                for line, x, y, raw in con.execute(  # the reject shows b's cell as written (m: the mapped input)
                        f"SELECT w.{ident(LINE)}, {ca}, {cb}, m.{ident(b)} FROM {work} w JOIN {mapped} m "
                        f"USING ({ident(LINE)}) WHERE w.currency IS NULL "
                        f"AND {ca} IS NOT NULL AND {cb} IS NOT NULL AND {ca} <> {cb}").fetchall():
                    errors.add(line, b, raw, f"{b} is written in {y} but {a} in {x}: one row has one currency")
        defaults = [lit(numeric[m][1]) for m in money_cols if m in numeric and numeric[m][1]]
        # the unit's currency of an amount the row gives comes before that of one it leaves empty
        given = [f"CASE WHEN {ident(m)} IS NOT NULL THEN {lit(numeric[m][1])} END"
                 for m in money_cols if m in numeric and numeric[m][1]]
        parsed = [ident("__ccy_" + m) for m in money_cols]
        if parsed or defaults:
            cur = f"coalesce(currency, {', '.join(parsed + given + defaults)})"
    final = [ident(LINE)]
    extra = {"amount_low": "coalesce(amount_low, __amount_low)", "amount_high": "coalesce(amount_high, __amount_high)",
             "amount_approx": "coalesce(__amount_approx, FALSE)",
             "disclosed": "coalesce(disclosed, __disclosed, FALSE)", "amount_text": "coalesce(amount_text, __amount_text)",
             "date_precision": "coalesce(date_precision, __date_precision)"}
    for col in columns:
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
    _check_rules(con, typed, target, columns, errors, today, prechecked)
    return Validated(typed, errors.table(), frozenset(present))


def _fix_cells(con, work: str, target: TargetSpec, col: Column, bad: list, numeric: tuple | None,
               errors: _Errors, prefix: str, decimal: str = "point") -> None:
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
                factor = (numeric or (1.0, None))[0]
                if col.unit == "money" or funding_amount:
                    # only a currency written in the cell is the amount's own; the mapping's default currency is
                    # applied to the row later, after its own currency column, as for a plain figure (a default is
                    # no conflict with the row's currency; a unit's currency is, checked for every figure there)
                    m = parse_money(value, default_currency=None, unit=abs(factor), decimal=decimal)
                    if m.amount is None and m.disclosed and not funding_amount:
                        raise ValueError(f"a range ({value}) is not a figure; give one number")
                    if m.approximate and not funding_amount:
                        raise ValueError(_APPROXIMATE.format(value=value))
                    num = None if m.amount is None else (-m.amount if factor < 0 else m.amount)
                    vals = {col.name: (pa.float64(), num), "__ccy_" + col.name: (pa.string(), m.currency)}
                    if funding_amount:
                        vals |= {"__amount_low": (pa.float64(), m.low), "__amount_high": (pa.float64(), m.high),
                                 "__disclosed": (pa.bool_(), m.disclosed),
                                 "__amount_approx": (pa.bool_(), m.approximate)}
                else:
                    m = parse_money(value, default_currency=None, unit=1.0, decimal=decimal)
                    if m.amount is None:
                        raise ValueError(f"not a number: {value!r}")
                    if m.approximate:
                        raise ValueError(_APPROXIMATE.format(value=value))
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


_APPROXIMATE = ("{value!r} is an approximate figure (约, about, 左右); this column holds exact figures only "
                "(approximate amounts are kept only for funding rounds, in `amount_approx`)")


def check_codes(con, view: str, col: str, errors: _Errors) -> None:
    """Every element of a CPC/IPC list must be a patent code (`G06N3/08`, written `G06N 3/08` or `G06N0003/08`;
    or a coarser level: `G06N3`, `G06N`, `G06`)."""
    bad = con.execute(f"SELECT {ident(LINE)}, array_to_string({bad_codes_sql(ident(col))}, ', ') FROM {view} "
                      f"WHERE len({bad_codes_sql(ident(col))}) > 0").fetchall()
    errors.extend_rows(bad, col, code_reason)


def code_reason(value: str) -> str:
    return f"{value!r} is not a CPC/IPC code (expected e.g. G06N3/08, G06N 3/08 or the subclass G06N)"


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
                 errors: _Errors, today: dt.date, prechecked: frozenset = frozenset()) -> None:
    L = ident(LINE)

    def rows(where: str, col: str, value_sql: str | None = None):
        value_sql = value_sql or f"CAST(t.{ident(col)} AS VARCHAR)"
        return con.execute(f"SELECT t.{L}, {value_sql} FROM {view} t WHERE {where}").fetchall()

    flagged = {(line, col) for line, col in zip(errors.lines, errors.cols)}

    def cell_rule(bad, col: str, reason_fn) -> None:
        # a cell already refused (not a whole number, not a number) keeps that one reason: the rules below see
        # only the value typed from it (a fraction rounded), which is not what the user wrote
        errors.extend_rows([(line, v) for line, v in bad if (line, col) not in flagged], col, reason_fn)

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
            cell_rule(bad, col.name, lambda v, ch=col.choices: f"{v!r} is not one of: {', '.join(ch)}")
        if col.minimum is not None and col.type in ("DOUBLE", "INTEGER", "BIGINT"):
            label = "negative" if col.minimum == 0 else f"below {col.minimum:g}"
            bad = rows(f"t.{c} < {col.minimum!r}", col.name)
            cell_rule(bad, col.name, lambda v, n=col.name, lb=label: f"{n} is {lb}: {v}")
        if col.name in YEAR_COLUMNS:
            bad = rows(f"t.{c} > {today.year}", col.name)
            cell_rule(bad, col.name, lambda v, n=col.name: f"{n} {v} is in the future")
        if col.type == "DATE":
            bad = rows(f"t.{c} > DATE {lit(today.isoformat())}", col.name)
            cell_rule(bad, col.name, lambda v, n=col.name: f"{n} {v} is in the future")
    names = {c.name for c in columns}
    for col in CODE_COLUMNS:
        if col in names and col in target.columns and col not in prechecked:
            check_codes(con, view, col, errors)
    if "country" in names:
        iso = ", ".join(lit(c) for c in sorted(iso_codes()))
        bad = rows(f"t.country IS NOT NULL AND t.country NOT IN ({iso})", "country")
        errors.extend_rows(bad, "country", lambda v: (
            f"{v!r} is not a country: give an ISO 3166 code (CN, USA, DE) or a country's English or Chinese name"))
    if "currency" in names:
        known = ", ".join(lit(c) for c in sorted(currency_codes()))
        bad = rows(f"t.currency IS NOT NULL AND t.currency NOT IN ({known})", "currency")
        cell_rule(bad, "currency", lambda v: (
            f"{v!r} is not an ISO 4217 currency code: give one (CNY, USD, EUR) or a currency word (RMB, 人民币, US$)"))
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
