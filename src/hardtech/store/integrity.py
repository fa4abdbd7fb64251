"""Is the store file whole and readable? The checks behind `hardtech check`, opening a store, and the
fault-injection test.

DuckDB keeps a checksum on every block and verifies it when the block is read, so reading every
column of every table finds damaged blocks. A truncated file can still open and report normal row
counts (they live in metadata, and rows written since the last checkpoint are found through the
WAL), so the file's length is compared with the blocks the tables point at before counts are
trusted.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from hardtech.errors import StoreError

HEADER_BYTES = 3 * 4096  # DuckDB's main header and its two database headers
# Columns that differ between two runs doing the same work: left out of content checksums.
VOLATILE = frozenset({"import_id", "imported_at", "created_at", "finished_at", "started_at", "classified_at",
                      "scored_at", "applied_at", "added_at", "revoked_at"})

DISK_FULL_WORDS = ("no space left", "file too large", "disk full", "not enough space", "could not write")


def truncation(con: duckdb.DuckDBPyConnection, path: Path) -> str | None:
    """Why the file is too short for the data it holds, or None. A truncated store can still open and count
    its rows (the counts live in metadata) while the blocks holding the rows are gone; every block a table
    points at must lie inside the file. Metadata only: cheap, and exact for a store open elsewhere too."""
    tables = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE NOT temporary").fetchall()]
    if not tables:
        return None
    block_size = int(con.execute("PRAGMA database_size").fetchall()[0][2])
    parts = " UNION ALL ".join(
        f"SELECT block_id, additional_block_ids FROM pragma_storage_info({_lit(t)}) WHERE persistent" for t in tables)
    top = con.execute(f"SELECT max(greatest(block_id, coalesce(list_max(additional_block_ids), -1))) "
                      f"FROM ({parts})").fetchall()[0][0]
    if top is None or top < 0:
        return None
    have, need = os.path.getsize(path), HEADER_BYTES + (int(top) + 1) * block_size
    if have < need:
        return (f"the file is truncated: it has {have:,} bytes but its data reaches byte {need:,} (an interrupted "
                "copy or a full disk cut it short)")
    return None


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def store_failure(exc: BaseException, path: str, doing: str) -> StoreError:
    """A DuckDB I/O failure as one line for a person: what happened, that nothing was half-written, what to do."""
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
    if any(w in first.lower() for w in DISK_FULL_WORDS):
        return StoreError(f"the disk is full (or the file-size limit was reached) while {doing} {path}: nothing of "
                          f"this operation was saved; free some space and run it again ({first})")
    return StoreError(f"the store {path} could not be written while {doing}: nothing of this operation was saved "
                      f"({first})")


def as_store_error(exc: BaseException, path: str) -> StoreError | None:
    """A DuckDB failure of the store itself (damaged block, I/O error, full disk) as a StoreError for the person
    at the command line; None for anything else (a bug, which should show its traceback)."""
    if not isinstance(exc, duckdb.Error):
        return None
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
    if any(w in first.lower() for w in ("checksum", "corrupt", "could not read", "not a valid")):
        return damaged(str(path), first)
    if isinstance(exc, (duckdb.IOException, duckdb.FatalException, duckdb.OutOfMemoryException)):
        return store_failure(exc, str(path), "using")
    return None


def damaged(path: str, why: str) -> StoreError:
    return StoreError(f"the store {path} is damaged: {why}. Restore it from a backup; `hardtech check --db {path}` "
                      "lists what is wrong")


def _columns(con, table: str) -> list[str]:
    return [r[0] for r in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position",
        [table]).fetchall()]


def table_checksum(con, table: str, skip: frozenset = frozenset()) -> tuple[int, int]:
    """(rows, order-independent hash of every value): reading it reads every block of the table."""
    cols = [c for c in _columns(con, table) if c not in skip]
    h = "bit_xor(hash(" + ", ".join('"' + c.replace('"', '""') + '"' for c in cols) + "))" if cols else "0"
    n, x = con.execute(f'SELECT count(*), {h} FROM "{table}"').fetchall()[0]
    return int(n), int(x or 0)


def checksums(con, volatile: bool = False) -> dict[str, tuple[int, int]]:
    """Every table's checksum; without `volatile`, the columns that record when and by which run are left out,
    so two stores that hold the same data compare equal."""
    from hardtech.schema import TABLES

    return {t: table_checksum(con, t, frozenset() if volatile else VOLATILE) for t in TABLES}


def check_store(path: str | Path) -> list[dict]:
    """Every check on the store file, one row each: check, table, ok, detail. Never raises for a damaged
    store (that is a finding); raises StoreError only when there is no file to check."""
    from hardtech.store.migrations import SCHEMA_VERSION
    from hardtech.schema import TABLES

    path = Path(path)
    if not path.exists():
        raise StoreError(f"no store at {path}")
    rows: list[dict] = []

    def add(check: str, table: str | None, ok: bool, detail: str) -> None:
        rows.append({"check": check, "table": table, "ok": ok, "detail": detail})

    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        add("open", None, False, str(exc).splitlines()[0])
        return rows
    try:
        why = truncation(con, path)
        add("file size", None, why is None, why or f"{os.path.getsize(path):,} bytes: every block the tables use "
                                                  "is inside the file")
        version = _version(con)
        add("schema version", None, version is not None and version <= SCHEMA_VERSION,
            f"{version} (this hardtech: {SCHEMA_VERSION})" if version is not None else "no schema_migrations table")
        present = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        for name, table in TABLES.items():
            if name not in present:
                add("table", name, version is not None and version < SCHEMA_VERSION, "missing (an older store: "
                    "opening it once without --read-only migrates it)" if version and version < SCHEMA_VERSION
                    else "missing")
                continue
            missing = [c for c in table.names if c not in _columns(con, name)]
            try:
                n, _ = table_checksum(con, name, frozenset())
                add("read every block", name, True, f"{n:,} row" + ("" if n == 1 else "s"))
            except duckdb.Error as exc:
                add("read every block", name, False, str(exc).splitlines()[0])
                continue
            if missing:
                older = version is not None and version < SCHEMA_VERSION
                add("columns", name, older, f"missing {', '.join(missing)}"
                    + (" (an older store: opening it once without --read-only migrates it)" if older else ""))
            keys = [k for k in table.key]
            dup = con.execute(f'SELECT count(*) FROM (SELECT 1 FROM "{name}" GROUP BY '
                              + ", ".join(f'"{k}"' for k in keys) + " HAVING count(*) > 1)").fetchall()[0][0]
            add("unique keys", name, dup == 0, f"{dup} keys on several rows" if dup else "ok")
    except duckdb.Error as exc:
        add("read", None, False, str(exc).splitlines()[0])
    finally:
        con.close()
    return rows


def _version(con) -> int | None:
    try:
        v = con.execute("SELECT max(version) FROM schema_migrations").fetchall()[0][0]
    except duckdb.Error:
        return None
    return int(v or 0)
