"""HARDTECH_DUCKDB_MEMORY caps DuckDB's buffer pool (docs/scaling.md: without it a 10M-organisation score
lets DuckDB grow to 80 % of the machine's memory); a value DuckDB cannot read is one line naming the variable."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from hardtech.errors import StoreError
from hardtech.presentation.cli.app import app
from hardtech.store.connection import Store


def _limit(store) -> str:
    return store.con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]


def test_the_variable_sets_duckdbs_memory_limit(tmp_path, monkeypatch):
    db = tmp_path / "s.duckdb"
    monkeypatch.delenv("HARDTECH_DUCKDB_MEMORY", raising=False)
    with Store(db) as store:
        default = _limit(store)
    monkeypatch.setenv("HARDTECH_DUCKDB_MEMORY", "3GB")
    with Store(db, read_only=True) as store:
        capped = _limit(store)
    assert capped == "2.7 GiB" and capped != default  # DuckDB reports 3 GB (10^9) in GiB


def test_a_bad_value_is_one_line_naming_the_variable(tmp_path, monkeypatch):
    db = tmp_path / "s.duckdb"
    with Store(db):
        pass
    monkeypatch.setenv("HARDTECH_DUCKDB_MEMORY", "lots")
    with pytest.raises(StoreError, match=r"HARDTECH_DUCKDB_MEMORY='lots' is not a memory size"):
        Store(db)
    res = CliRunner().invoke(app, ["rank", "--year", "2021", "--db", str(db)])
    assert res.exit_code == 2
    assert "HARDTECH_DUCKDB_MEMORY='lots'" in res.output and "Traceback" not in res.output
