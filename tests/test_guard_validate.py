"""Import validation (`sources/validate.py`): every typed column of every importable table reads what its
cell means or refuses the row naming line, column, value and the real reason — enumerated from the schema,
so a column added later is checked without editing this file.

Written from the mutation run of `validation` (docs/testing.md): each test states one promise over every
column it applies to, not one example.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest

from hardtech.schema import IMPORTABLE, table
from hardtech.sources.validate import YEAR_COLUMNS
from hardtech.store.importer import import_file

TODAY = dt.date(2025, 6, 30)
ORG = "guard-org"
# written by the importer (FX conversion, the amount's parse), never read from the file as given
DERIVED = {("funding_rounds", "amount_usd"), ("funding_rounds", "fx_rate"), ("funding_rounds", "fx_rate_date"),
           ("funding_rounds", "amount_low"), ("funding_rounds", "amount_high")}
NUMERIC = ("DOUBLE", "INTEGER", "BIGINT")


def columns(pred) -> list[tuple[str, str]]:
    return [(t, c.name) for t in IMPORTABLE for c in table(t).columns
            if c.name in table(t).data_names and (t, c.name) not in DERIVED and pred(t, c)]


def column(tbl: str, name: str):
    return next(c for c in table(tbl).columns if c.name == name)


def base_row(tbl: str, line: int) -> dict:
    """A row that passes every rule of `tbl` (required columns, choices, keys, a known organisation)."""
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
            row[c.name] = 2000 + line
        else:
            row[c.name] = 1
    return row


@pytest.fixture
def org_store(store, tmp_path):
    f = tmp_path / "orgs.csv"
    with f.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([["org_id", "kind", "name_en"]] + [[f"{ORG}-{i}", "startup", f"Guard Org {i}"]
                                                                     for i in range(2, 40)])
    assert import_file(store, "organizations", f).rejected == 0
    return store


def run(store, tmp_path: Path, tbl: str, col: str, values: list[str], **kw):
    """Import one row per value into `tbl` (column `col` set to it); ({line: stored row}, {line: reject})."""
    rows = []
    for i, v in enumerate(values):
        row = base_row(tbl, i + 2) | {col: v}
        rows.append(row)
    header = sorted({k for r in rows for k in r})
    f = tmp_path / f"{tbl}-{col}.csv"
    with f.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, header)
        w.writeheader()
        w.writerows(rows)
    result = import_file(store, tbl, f, source="guard (synthetic)", today=TODAY, **kw)
    cur = store.con.execute(f'SELECT * FROM "{tbl}" WHERE source_file = ?', [f.name])
    names = [d[0] for d in cur.description]
    stored = {r["source_line"]: r for r in (dict(zip(names, x)) for x in cur.fetchall())}
    refused = {}
    for r in result.rejects:
        refused.setdefault(r["line"], []).append(r)
    return stored, refused


def only_reject(refused: dict, line: int, col: str) -> dict:
    rs = refused.get(line, [])
    assert len(rs) == 1 and rs[0]["column_name"] == col, f"line {line}: expected one reject in {col}, got {rs}"
    return rs[0]


# ------------------------------------------------------------------------------------------ years


YEARS_READ = [("2016", 2016), ("2016年", 2016), ("FY2016", 2016), ("2016-12-31", 2016), ("2016年5月", 2016),
              ("2016/12/31", 2016)]
NOT_YEARS = ["abc", "20x6", "二〇一六?"]


@pytest.mark.parametrize("tbl, col", columns(lambda t, c: c.name in YEAR_COLUMNS), ids=str)
def test_every_year_column_reads_a_year_or_a_date_and_names_what_is_not_a_year(org_store, tmp_path, tbl, col):
    values = [v for v, _ in YEARS_READ] + NOT_YEARS
    if col == "fiscal_year":  # part of the key: one organisation per line keeps the keys apart
        pass
    stored, refused = run(org_store, tmp_path, tbl, col, values)
    for i, (v, year) in enumerate(YEARS_READ):
        line = i + 2
        assert line not in refused, f"{tbl}.{col} {v!r} refused: {refused.get(line)}"
        assert stored[line][col] == year, f"{tbl}.{col} {v!r} stored as {stored[line][col]!r}, not {year}"
    for j, v in enumerate(NOT_YEARS):
        line = len(YEARS_READ) + j + 2
        r = only_reject(refused, line, col)
        assert (r["value"], r["reason"]) == (v, f"not a year: {v!r}")
        assert line not in stored


# ------------------------------------------------------------------------------------------ numbers


APPROXIMATE = ["约100", "about 100", "100左右"]


@pytest.mark.parametrize("tbl, col", columns(lambda t, c: c.type in NUMERIC and c.name not in YEAR_COLUMNS
                                             and (t, c.name) != ("funding_rounds", "amount")), ids=str)
def test_every_exact_number_column_refuses_an_approximate_figure_and_a_range(org_store, tmp_path, tbl, col):
    spec = column(tbl, col)
    values = APPROXIMATE + ["100-200", "2000"]  # 2000: above every column's minimum
    stored, refused = run(org_store, tmp_path, tbl, col, values)
    for i, v in enumerate(APPROXIMATE):
        r = only_reject(refused, i + 2, col)
        assert r["value"] == v and r["reason"].startswith(f"{v!r} is an approximate figure"), r
        assert "approximate amounts are kept only for funding rounds" in r["reason"]
    r = only_reject(refused, len(APPROXIMATE) + 2, col)
    why = "a range (100-200) is not a figure; give one number" if spec.unit == "money" else "not a number: '100-200'"
    assert r["reason"] == why
    assert stored[len(values) + 1][col] == 2000


def test_a_funding_amount_keeps_approximate_figures_and_ranges(org_store, tmp_path):
    stored, refused = run(org_store, tmp_path, "funding_rounds", "amount", ["约100", "100-200", "100"])
    assert not refused
    assert (stored[2]["amount"], stored[2]["amount_approx"], stored[2]["disclosed"]) == (100, True, True)
    assert (stored[3]["amount"], stored[3]["amount_low"], stored[3]["amount_high"]) == (None, 100, 200)
    assert (stored[4]["amount"], stored[4]["amount_approx"]) == (100, False)
