"""Spreadsheet cells: every writer of CSV and Excel neutralises every formula-starting character.

The characters are the OWASP list for CSV injection, written here independently of
`hardtech.cellsafety.FORMULA_START`, so dropping one from the constant fails this test.
"""

from __future__ import annotations

import csv

import pandas as pd
import pytest

STARTS = ["=", "+", "-", "@", "\t", "\r"]


def test_the_cli_csv_output_neutralises_every_start(tmp_path):
    from typer.testing import CliRunner

    from hardtech.presentation.cli.app import app
    from hardtech.store.connection import Store

    db = tmp_path / "cells.duckdb"
    Store(db).close()
    cols = ", ".join(f"chr({ord(c)}) || 'cmd' AS c{i}" for i, c in enumerate(STARTS))
    out = tmp_path / "cells.csv"
    r = CliRunner().invoke(app, ["sql", f"SELECT {cols}, 'plain' AS p, -1 AS n", "--db", str(db), "--format", "csv",
                                 "--output", str(out)])
    assert r.exit_code == 0, r.output
    text = out.read_bytes().decode("utf-8")
    header, values = text.split("\n", 1)
    assert header == ",".join([f"c{i}" for i in range(len(STARTS))] + ["p", "n"])
    for c in STARTS:
        assert f"'{c}cmd" in values, repr(c)
    assert values.rstrip("\n").endswith(",plain,-1")  # numbers stay numbers
    # a cell holding a carriage return is quoted, so a CSV reader (and a spreadsheet) keeps the row whole
    with open(out, encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows == [header.split(","), [f"'{c}cmd" for c in STARTS] + ["plain", "-1"]], rows


@pytest.fixture(scope="module")
def shortlist():
    from hardtech.analytics.screening import screen

    # one distinct name per start (screening counts names that differ only by punctuation as one applicant)
    names = [c + f"SUM(A{i})" for i, c in enumerate(STARTS, start=1)] + ["Plain Co"]
    return screen(pd.DataFrame({"name": names, "description": ["silicon photonics chip foundry"] * len(names)}))


def unsafe(cell) -> bool:
    return isinstance(cell, str) and cell.startswith(tuple(STARTS))


def test_the_screening_csv_and_excel_neutralise_every_start(shortlist, tmp_path):
    """(The reader strips a leading tab or carriage return from names; what is written must start safely.)"""
    from openpyxl import load_workbook

    with open(shortlist.to_csv(tmp_path / "s.csv"), encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert not [c for r in rows for c in r.values() if unsafe(c)]
    assert sorted(r["name"] for r in rows if r["name"].startswith("'")) == sorted(
        "'" + c + f"SUM(A{i})" for i, c in enumerate(STARTS, start=1) if c in "=+-@")
    ws = load_workbook(shortlist.to_excel(tmp_path / "s.xlsx")).active
    cells = [c for row in ws.iter_rows(min_row=2) for c in row]
    assert not [c.value for c in cells if unsafe(c.value)]
    assert not any(c.data_type == "f" for c in cells)
