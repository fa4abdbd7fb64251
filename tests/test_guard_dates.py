"""Import: a year or date after today is refused, and today's own year and day are accepted — for every
year and date column of every importable table, relative to a fixed `today`.

Each column is imported with values one step on either side of today (last year, this year, next year,
the year after; yesterday, today, tomorrow, the first day of next year), written as ISO values and in the
other forms the parsers read (`2026年`, `2026年1月2日`, `2026-01`), under two `today`s at a year's edge.
The tables and columns come from the schema, so a new date column is checked without editing this file.
"""

from __future__ import annotations

import csv
import datetime as dt

import pytest

from hardtech.sources.validate import YEAR_COLUMNS
from hardtech.store.importer import import_file
from hardtech.schema import IMPORTABLE, table

TODAYS = (dt.date(2024, 12, 31), dt.date(2025, 1, 1))  # the last day of a year and the first of the next
ORG = "guard-org"
DERIVED = {("funding_rounds", "fx_rate_date")}  # written by the importer from the FX table, never from the file


def dated_columns() -> list[tuple[str, str, str]]:
    """(table, column, 'year' | 'date') for every year and date column of every importable table."""
    out = []
    for t in IMPORTABLE:
        for c in table(t).columns:
            if (t, c.name) in DERIVED:
                continue
            if c.name in YEAR_COLUMNS:
                out.append((t, c.name, "year"))
            elif c.type == "DATE":
                out.append((t, c.name, "date"))
    return out


def cases(kind: str, today: dt.date) -> list[tuple[str, bool]]:
    """(value as written, accepted?) around `today`."""
    y = today.year
    if kind == "year":
        return [(str(y - 1), True), (str(y), True), (f"{y}年", True), (f"FY{y}", True),
                (str(y + 1), False), (f"{y + 1}年", False), (str(y + 2), False)]
    d1, d2 = today + dt.timedelta(days=1), today - dt.timedelta(days=1)
    return [(d2.isoformat(), True), (today.isoformat(), True), (f"{today.year}年{today.month}月{today.day}日", True),
            (today.strftime("%Y-%m"), True),
            (d1.isoformat(), False), (f"{d1.year}年{d1.month}月{d1.day}日", False), (f"{y + 1}-01-01", False),
            (f"{y + 1}-02", False)]


def row_for(tbl: str, line: int) -> dict:
    """A row that passes every other rule of `tbl` (required columns, choices, keys, a known organisation)."""
    row = {}
    for c in table(tbl).columns:
        if not c.required:
            continue
        if c.name == "org_id":  # one organisation per line, so no two lines share a key
            row[c.name] = f"guard-new-{line}" if tbl == "organizations" else f"{ORG}-{line}"
        elif c.name == "currency":
            row[c.name] = "CNY"
        elif c.choices:
            row[c.name] = c.choices[0]
        elif c.type == "VARCHAR":
            row[c.name] = f"guard-{tbl}-{line}"
        elif c.name in YEAR_COLUMNS:
            row[c.name] = 2000 + line  # a distinct, past year (part of the key of financials)
        else:
            row[c.name] = 1
    return row


@pytest.fixture
def org_store(store, tmp_path):
    f = tmp_path / "orgs.csv"
    with f.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([["org_id", "kind", "name_en"]] + [[f"{ORG}-{i}", "startup", f"Guard Org {i}"]
                                                                     for i in range(2, 20)])
    assert import_file(store, "organizations", f).rejected == 0
    return store


def test_every_importable_table_with_a_date_is_covered():
    found = {(t, c) for t, c, _ in dated_columns()}
    for known in [("financials", "fiscal_year"), ("organizations", "founded"), ("funding_rounds", "date"),
                  ("patents", "filing_date"), ("patents", "grant_date"), ("regions", "stat_year")]:
        assert known in found


@pytest.mark.parametrize("today", TODAYS, ids=str)
@pytest.mark.parametrize("tbl, col, kind", dated_columns(), ids=lambda x: str(x))
def test_future_years_and_dates_are_refused_today_is_not(org_store, tmp_path, tbl, col, kind, today):
    rows, expect = [], {}
    for i, (value, accepted) in enumerate(cases(kind, today)):
        line = i + 2  # the header is line 1
        row = row_for(tbl, line)
        row[col] = value
        rows.append(row)
        expect[line] = (value, accepted)
    header = sorted({k for r in rows for k in r})
    f = tmp_path / f"{tbl}.csv"
    with f.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, header)
        w.writeheader()
        w.writerows(rows)
    result = import_file(org_store, tbl, f, source="guard (synthetic)", today=today)
    refused = {r["line"]: r for r in result.rejects if r["column_name"] == col}
    wrong = []
    for line, (value, accepted) in expect.items():
        if accepted and line in refused:
            wrong.append(f"{col} {value!r} refused on {today} ({refused[line]['reason']})")
        if not accepted and line not in refused:
            wrong.append(f"{col} {value!r} accepted on {today}, but it is after today")
        if not accepted and line in refused and "future" not in refused[line]["reason"]:
            wrong.append(f"{col} {value!r} refused for another reason: {refused[line]['reason']}")
    assert not wrong, f"{tbl}.{col}:\n" + "\n".join(wrong)
    others = [r for r in result.rejects if r["column_name"] != col]
    assert not others, f"rows refused for something else than {col}: {others}"
