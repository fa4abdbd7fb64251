"""The DuckDB store file as the presentation handles it: where it is, opening it, its copies, its version.

Why a service: the CLI, the server and the docs generator each need the store file itself (a default
path, a connection for a small write or a token check, the server's snapshots, the schema version, a
damaged file told as a message). They reach it here rather than in `store/`, so the presentation
depends on the services alone (tests/test_layers.py) and the store can change behind them. Every
function hands on what `store/` defines; none adds a rule of its own.
"""

from __future__ import annotations

from pathlib import Path

from hardtech.errors import StoreError


def default_path() -> Path:
    """`./hardtech.duckdb` unless HARDTECH_DB says otherwise."""
    from hardtech.store.connection import default_db_path

    return default_db_path()


def open_file(path: str | Path | None, read_only: bool = False):
    """The DuckDB store file itself (whatever the engine), migrated when opened for writing: a `Store`, a context
    manager. For what stays on the file on every engine: writes, tokens, watchlists, row counts."""
    from hardtech.store.connection import Store

    return Store(path, read_only=read_only)


def hold_open(path: str | Path):
    """A read-only connection to the file, limited to one thread, for a worker process to keep open: while it is
    open, the services' own short opens of the same file cost microseconds (the worker processes are the
    parallelism, so each uses one core)."""
    from hardtech.store.threads import limit_threads

    store = open_file(path, read_only=True)
    limit_threads(store, 1)
    return store


def snapshots(db: str | Path):
    """The server's copies of the store file (`store.snapshot.Snapshots`): reads answer from a copy, so the
    server never holds the file that `hardtech import` writes."""
    from hardtech.store.snapshot import Snapshots

    return Snapshots(db)


def schema_version() -> int:
    """The schema version this installation writes (`store.migrations`)."""
    from hardtech.store.migrations import SCHEMA_VERSION

    return SCHEMA_VERSION


def store_error(exc: BaseException, path: str | Path) -> StoreError | None:
    """A failure of the store file itself (damaged block, I/O error, full disk) as a StoreError with the path;
    None for anything else (a bug, which should show its traceback)."""
    from hardtech.store.integrity import as_store_error

    return as_store_error(exc, str(path))


def sql_rows(path: str | Path | None, query: str, allow_files: bool = False):
    """`hardtech sql`: one user query on a sandboxed read-only connection to the file, as an Arrow table."""
    from hardtech.store.sandbox import run_sql

    return run_sql(path, query, allow_files=allow_files)
