"""The store: migrations bring old stores forward, refuse newer ones, and read-only means read-only."""

from __future__ import annotations

import duckdb
import pytest

from hardtech.errors import StoreError
from hardtech.store.connection import Store
from hardtech.store.migrations import MIGRATIONS, SCHEMA_VERSION, V1_TABLES


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
    from hardtech.schema import IP_COUNT_COLUMNS, TABLES

    db = tmp_path / "v4.duckdb"
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE schema_migrations (version INTEGER, description VARCHAR, applied_at TIMESTAMP)")
    # the tables as version 4 made them (publications came with migration 6, entity resolution's with 7)
    v4_tables = [t for t in TABLES.values() if t.name in V1_TABLES + ("classifications", "scores", "api_tokens",
                                                                       "watchlists")]
    for t in v4_tables:  # without the columns added since
        new = {"source_licence", "listed", "identifiers", *IP_COUNT_COLUMNS}
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


def test_store_of_version_6_gains_the_approximate_amount_flag(tmp_path):
    """Migration 10 adds `funding_rounds.amount_approx` to a store made before it; its rounds are kept."""
    from hardtech.schema import TABLES

    db = tmp_path / "v6.duckdb"
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE schema_migrations (version INTEGER, description VARCHAR, applied_at TIMESTAMP)")
    for t in TABLES.values():
        cols = [c for c in t.all_columns if (t.name, c.name) != ("funding_rounds", "amount_approx")]
        con.execute(f'CREATE TABLE "{t.name}" (' + ", ".join(f'"{c.name}" {c.type}' for c in cols) + ")")
    for v in range(1, 7):
        con.execute("INSERT INTO schema_migrations VALUES (?, 'old', now())", [v])
    con.execute("INSERT INTO funding_rounds (round_id, org_id, amount, source_name) VALUES ('r1', 'a', 1e8, 's')")
    con.close()
    with Store(db) as s:
        assert s.schema_version() == SCHEMA_VERSION >= 10
        assert s.con.execute("SELECT round_id, amount, amount_approx FROM funding_rounds").fetchall() == [
            ("r1", 1e8, None)]


def test_store_of_version_6_gains_entity_resolution_and_reimports_unchanged(tmp_path):
    """Migration 7 on a store as version 6 made it (no `identifiers`, no resolve tables): rows kept, their content
    hashes still match, so importing the same file again changes nothing."""
    import csv

    from hardtech.sources.mapping import parse_mapping
    from hardtech.store.importer import import_file

    cols = ["org_id", "name_en", "country", "ticker", "exchange"]
    path = tmp_path / "orgs.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([cols, ["huawei", "Huawei", "CN", "", ""], ["us:MSFT", "Microsoft", "US", "MSFT", "NASDAQ"]])
    mapping = parse_mapping({"name": "t", "targets": {"organizations": {"columns": {c: c for c in cols}}}})
    db = tmp_path / "v6.duckdb"
    with Store(db) as s:
        import_file(s, "organizations", path, source="list", mapping=mapping)
    con = duckdb.connect(str(db))  # back to version 6
    con.execute("ALTER TABLE organizations DROP COLUMN identifiers")
    for t in ("resolve_merges", "resolve_review", "resolve_decisions", "org_originals", "resolve_row_origins",
              "org_redirects"):
        con.execute(f"DROP TABLE {t}")
    con.execute("DELETE FROM schema_migrations WHERE version >= 7")
    con.close()
    with Store(db) as s:
        assert s.schema_version() == SCHEMA_VERSION >= 7
        assert "identifiers" in {r[0] for r in s.con.execute("DESCRIBE organizations").fetchall()}
        assert s.count("org_originals") == 0 and s.count("organizations") == 2
        r = import_file(s, "organizations", path, source="list", mapping=mapping).targets[0]
        assert (r.inserted, r.updated, r.unchanged) == (0, 0, 2)
