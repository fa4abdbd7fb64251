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
