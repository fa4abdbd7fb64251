"""User SQL in a sandbox: a read-only connection that reads and writes no file, installs nothing and
cannot change its own settings.

Why: `hardtech sql` and every `--where` take SQL from the user. A read-only connection protects the
store, but DuckDB can still read any file (`read_csv('/etc/passwd')`), write anywhere (`COPY … TO`,
`EXPORT DATABASE`, with a copy of the token hashes) and download extensions (`INSTALL httpfs`).
DuckDB's own switches close that: `enable_external_access = false` (no file or network beyond the
store itself), extension auto-install and auto-load off with the extension folder and repository
pointing nowhere, and `lock_configuration = true` so that no `SET` can reopen any of it.
`allow_files=True` (`hardtech sql --allow-files`) turns file access back on for a user who wants
DuckDB's file functions; extensions stay off, settings stay locked and the store stays read-only.

On top of the engine's switches, one statement at a time and only the kinds listed in `QUERIES`
(plus `FILE_STATEMENTS` with `allow_files`) are run: a refused statement is named in one line
instead of reaching the engine at all.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import duckdb

from hardtech.errors import StoreError

_T = duckdb.StatementType
QUERIES = {_T.SELECT: "SELECT/WITH/FROM/DESCRIBE/SHOW/SUMMARIZE", _T.EXPLAIN: "EXPLAIN", _T.PRAGMA: "PRAGMA",
           _T.CALL: "CALL"}
FILE_STATEMENTS = {_T.COPY: "COPY", _T.EXPORT: "EXPORT DATABASE", _T.ATTACH: "ATTACH", _T.DETACH: "DETACH"}
NOWHERE = "/nonexistent/hardtech-sandbox"  # extensions are neither found nor downloaded there


def sandbox_config(allow_files: bool = False) -> dict:
    """DuckDB settings of a sandboxed connection (the last one locks the others)."""
    return {"enable_external_access": bool(allow_files), "autoinstall_known_extensions": False,
            "autoload_known_extensions": False, "allow_community_extensions": False,
            "allow_unsigned_extensions": False, "extension_directory": NOWHERE,
            "custom_extension_repository": f"file://{NOWHERE}", "lock_configuration": True}


@contextmanager
def sandboxed(path: str | Path | None, allow_files: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """A sandboxed read-only connection to the store at `path`.

    The store is first opened as `Store` opens it for reading, so a missing, unreadable or newer store
    is refused with the same message as everywhere else; then it is opened again inside the sandbox.
    """
    from hardtech.store.connection import Store

    store = Store(path, read_only=True)
    target = str(store.path)
    store.close()
    try:
        con = duckdb.connect(target, read_only=True, config=sandbox_config(allow_files))
    except duckdb.Error as exc:
        raise StoreError(f"cannot open store {Path(target).name} for SQL: {exc}") from exc
    try:
        yield con
    finally:
        con.close()


def statement_kind(con: duckdb.DuckDBPyConnection, query: str, allow_files: bool) -> None:
    """Refuse, in one line, anything but one query (or, with `allow_files`, one file statement)."""
    try:
        statements = con.extract_statements(query)
    except duckdb.Error as exc:
        raise StoreError(f"SQL error: {exc}") from exc
    if not statements:
        raise StoreError("no SQL statement given")
    if len(statements) > 1:
        raise StoreError(f"one statement at a time: this text holds {len(statements)}")
    kind = statements[0].type
    if kind in QUERIES or (allow_files and kind in FILE_STATEMENTS):
        return
    if kind in FILE_STATEMENTS:
        raise StoreError(f"{FILE_STATEMENTS[kind]} reads or writes files, which `hardtech sql` does not do unless "
                         "you add --allow-files")
    if kind == _T.LOAD:
        raise StoreError("`hardtech sql` installs and loads no extension (INSTALL and LOAD are refused)")
    if kind == _T.SET:
        raise StoreError("`hardtech sql` changes no setting (SET, RESET and USE are refused)")
    raise StoreError(f"`hardtech sql` is read-only: {kind.name} statements are refused; it runs queries "
                     f"({', '.join(QUERIES.values())})")


def run_sql(path: str | Path | None, query: str, allow_files: bool = False):
    """One user query on a sandboxed read-only connection, as an Arrow table."""
    with sandboxed(path, allow_files) as con:
        statement_kind(con, query, allow_files)
        try:
            rel = con.sql(query)
            if rel is None:  # COPY, EXPORT and the like: done, and nothing to show
                return _done()
            return rel.to_arrow_table()
        except duckdb.PermissionException as exc:
            raise StoreError(f"{_first_line(exc)} (`hardtech sql` reads and writes no file unless you add "
                             "--allow-files)") from exc
        except duckdb.Error as exc:
            from hardtech.store.connection import default_db_path
            from hardtech.store.integrity import as_store_error

            # a damaged block or an I/O failure is the store's fault, not the query's: say so, and what to do
            where = str(path if path is not None else default_db_path())
            raise (as_store_error(exc, where) or StoreError(f"SQL error: {exc}")) from exc


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _done():
    import pyarrow as pa

    return pa.table({"result": ["done"]})
