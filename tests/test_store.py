"""The store: migrations bring old stores forward, refuse newer ones, and read-only means read-only."""

from __future__ import annotations

import duckdb
import pytest

from hardtech.errors import StoreError
from hardtech.store.connection import Store
from hardtech.store.migrations import MIGRATIONS, SCHEMA_VERSION


def test_fresh_store_has_every_table(tmp_path):
    with Store(tmp_path / "s.duckdb") as s:
        assert s.schema_version() == SCHEMA_VERSION
        assert set(s.counts()) >= {"organizations", "financials", "classifications", "scores"}


def test_old_store_is_migrated_forward(tmp_path):
    db = tmp_path / "old.duckdb"
    con = duckdb.connect(str(db))
    for stmt in MIGRATIONS[0].statements():
        con.execute(stmt)
    con.execute("INSERT INTO schema_migrations VALUES (1, 'initial', now())")
    con.execute("INSERT INTO organizations (org_id, source_name) VALUES ('kept', 'test')")
    con.close()
    with Store(db) as s:
        assert s.schema_version() == SCHEMA_VERSION
        assert s.count("organizations") == 1 and s.count("classifications") == 0


def test_newer_store_is_refused(tmp_path):
    db = tmp_path / "new.duckdb"
    Store(db).close()
    con = duckdb.connect(str(db))
    con.execute("INSERT INTO schema_migrations VALUES (999, 'from the future', now())")
    con.close()
    with pytest.raises(StoreError, match="newer"):
        Store(db)


def test_read_only_store_cannot_be_written(tmp_path):
    db = tmp_path / "r.duckdb"
    Store(db).close()
    with Store(db, read_only=True) as s:
        with pytest.raises(duckdb.Error):
            s.con.execute("INSERT INTO organizations (org_id) VALUES ('x')")


def test_store_of_version_4_gains_licence_and_ip_count_columns(tmp_path):
    """Migration 5 adds `source_licence` to every data table and the IP counts to financials; rows are kept."""
    from hardtech.store.schema import IP_COUNT_COLUMNS, TABLES

    db = tmp_path / "v4.duckdb"
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE schema_migrations (version INTEGER, description VARCHAR, applied_at TIMESTAMP)")
    v4_tables = [t for t in TABLES.values() if t.name != "publications"]  # publications came with migration 6
    for t in v4_tables:  # the tables as version 4 made them: without the new columns
        new = {"source_licence", "listed", *IP_COUNT_COLUMNS}
        cols = [c for c in t.all_columns if c.name not in new]
        con.execute(f'CREATE TABLE "{t.name}" (' + ", ".join(f'"{c.name}" {c.type}' for c in cols) + ")")
    for v in range(1, 5):
        con.execute("INSERT INTO schema_migrations VALUES (?, 'old', now())", [v])
    con.execute("INSERT INTO financials (org_id, fiscal_year, currency, source_name) VALUES ('a', 2018, 'EUR', 's')")
    con.close()
    with Store(db) as s:
        assert s.schema_version() == SCHEMA_VERSION >= 5
        for t in TABLES.values():
            cols = {r[0] for r in s.con.execute(f"DESCRIBE \"{t.name}\"").fetchall()}
            assert ("source_licence" in cols) == t.provenance, t.name
        fin = {r[0] for r in s.con.execute("DESCRIBE financials").fetchall()}
        assert set(IP_COUNT_COLUMNS) <= fin
        assert s.count("financials") == 1
