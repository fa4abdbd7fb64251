"""Opening the DuckDB store, migrating its schema, and handing out Ibis tables.

Analytics never see the DuckDB connection: they get Ibis tables from `Store.table`, so the
same expressions run on Spark (`store.spark.SparkStore`, chosen by `store.engine.open_store`).
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import duckdb

from hardtech.errors import StoreError
from hardtech.store.engine import DUCKDB
from hardtech.store.integrity import store_failure
from hardtech.store.migrations import MIGRATIONS, SCHEMA_VERSION

DEFAULT_DB = "hardtech.duckdb"


def default_db_path() -> Path:
    return Path(os.environ.get("HARDTECH_DB", DEFAULT_DB))


LOCK_WAIT_S = float(os.environ.get("HARDTECH_LOCK_WAIT_S", "10"))
MEMORY_ENV = "HARDTECH_DUCKDB_MEMORY"


def duckdb_config() -> dict[str, str]:
    """DuckDB settings from the environment: `HARDTECH_DUCKDB_MEMORY` (e.g. `12GB`) caps DuckDB's buffer
    pool, which otherwise grows to 80 % of the machine's memory on a large store (docs/scaling.md)."""
    v = os.environ.get(MEMORY_ENV, "").strip()
    return {"memory_limit": v} if v else {}


def _connect(target: str, read_only: bool) -> duckdb.DuckDBPyConnection:
    """Connect, waiting up to LOCK_WAIT_S while another process holds the file's lock.

    Why: a running server copies the store under a read-only lock for a few milliseconds at a time
    (store/snapshot.py); a CLI write that arrives in that instant should wait its turn, not fail.
    A lock held for longer (another import) still ends in the one-line error after the wait.
    """
    import time

    deadline = time.monotonic() + LOCK_WAIT_S
    pause = 0.02
    while True:
        try:
            return duckdb.connect(target, read_only=read_only, config=duckdb_config())
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or time.monotonic() + pause > deadline:
                raise
            time.sleep(pause)
            pause = min(pause * 2, 0.5)


class Store:
    """A hardtech store: one DuckDB file (or `:memory:`)."""

    engine = "duckdb"
    capabilities = DUCKDB  # what this engine can do (store.engine.Capabilities)

    def __init__(self, path: str | Path | None = None, read_only: bool = False):
        self.path = Path(path) if path not in (None, ":memory:") else None
        if path is None:
            self.path = default_db_path()
        self.read_only = read_only
        target = ":memory:" if path == ":memory:" else str(self.path)
        if read_only and target != ":memory:" and not Path(target).exists():
            raise StoreError(f"no store at {target}; create one with `hardtech import` or `hardtech demo`")
        try:
            self.con = _connect(target, read_only)
        except duckdb.Error as exc:
            first = str(exc).splitlines()[0]
            if duckdb_config() and "memory" in first.lower():
                raise StoreError(f"{MEMORY_ENV}={os.environ[MEMORY_ENV]!r} is not a memory size DuckDB reads "
                                 f"(write it like 8GB or 500MB): {first}") from exc
            if "lock" in first.lower():  # another process holds it past the wait: not a damaged file
                raise StoreError(f"cannot open store {target}: {first}") from exc
            raise StoreError(f"cannot open store {target}: {first}; if it is a hardtech store it "
                             f"is damaged: `hardtech check --db {target}` says more") from exc
        self._ibis = None
        try:
            if not read_only:
                self.migrate()
            else:
                self._check_version()
        except StoreError:
            self.con.close()
            raise
        except (duckdb.IOException, duckdb.OutOfMemoryException, duckdb.FatalException) as exc:
            self.con.close()
            raise store_failure(exc, target, "opening") from exc

    # -- schema ---------------------------------------------------------------------------
    def schema_version(self) -> int:
        exists = self.con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_migrations'"
        ).fetchall()[0][0]
        if not exists:
            return 0
        v = self.con.execute("SELECT max(version) FROM schema_migrations").fetchall()[0][0]
        return int(v or 0)

    def _check_version(self) -> None:
        v = self.schema_version()
        if v > SCHEMA_VERSION:
            raise StoreError(
                f"store schema version {v} is newer than this hardtech ({SCHEMA_VERSION}); upgrade hardtech")
        if v < SCHEMA_VERSION and self.read_only:
            raise StoreError(
                f"store schema version {v} is older than {SCHEMA_VERSION}; open it once without --read-only to migrate")

    def migrate(self) -> list[int]:
        self._check_version()
        current = self.schema_version()
        applied = []
        for m in MIGRATIONS:
            if m.version <= current:
                continue
            self.con.execute("BEGIN TRANSACTION")
            try:
                for stmt in m.statements():
                    self.con.execute(stmt)
                self.con.execute(
                    "INSERT INTO schema_migrations VALUES (?, ?, now())", [m.version, m.description])
                self.con.execute("COMMIT")
            except Exception as exc:
                self.con.execute("ROLLBACK")
                raise StoreError(f"migration {m.version} ({m.description}) failed: {exc}") from exc
            applied.append(m.version)
        return applied

    # -- access ---------------------------------------------------------------------------
    @property
    def ibis(self):
        if self._ibis is None:
            import ibis

            self._ibis = ibis.duckdb.from_connection(self.con)
        return self._ibis

    def table(self, name: str):
        """An Ibis table expression; what analytics build on."""
        return self.ibis.table(name)

    def count(self, name: str) -> int:
        return int(self.con.execute(f'SELECT count(*) FROM "{name}"').fetchall()[0][0])

    def counts(self) -> dict[str, int]:
        from hardtech.schema import TABLES

        return {n: self.count(n) for n in TABLES}

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """All or nothing; nested uses join the outer one (a connector imports several tables atomically).
        A full disk or another I/O failure, at any statement or at the commit, rolls the outer transaction
        back and becomes one StoreError line instead of a traceback."""
        if getattr(self, "_tx_depth", 0):
            self._tx_depth += 1
            try:
                yield self.con
            finally:
                self._tx_depth -= 1
            return
        self.con.execute("BEGIN TRANSACTION")
        self._tx_depth = 1
        try:
            yield self.con
            self.con.execute("COMMIT")
        except BaseException as exc:
            try:
                self.con.execute("ROLLBACK")
            except duckdb.Error:
                pass  # the commit itself failed: DuckDB has already rolled back
            if isinstance(exc, (duckdb.IOException, duckdb.OutOfMemoryException, duckdb.FatalException)):
                raise store_failure(exc, str(self.path or ":memory:"), "writing") from exc
            raise
        finally:
            self._tx_depth = 0

    def close(self) -> None:
        try:
            self.con.close()
        except (duckdb.IOException, duckdb.FatalException) as exc:  # the checkpoint on close could not be written
            raise store_failure(exc, str(self.path), "closing") from exc

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

