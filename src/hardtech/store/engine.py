"""Which engine computes the analyses: one store object, opened once, handed to every service.

Why a parameter: services used to take a path and open DuckDB themselves, so nothing above the store
could run on another engine. Now the presentation opens one store with `open_store` — a DuckDB file
by default, a Spark session over the same tables kept as Parquet when `--engine spark` or
`HARDTECH_ENGINE=spark` says so — and passes it down; analytics only ever call `store.table(name)`
and get Ibis tables, whichever engine is behind them.

What an engine can do differs, and that is declared here, not discovered by a failure: `keep`
(temporary tables: an analysis materialises an intermediate it reads several times instead of
recomputing it), `writes` (imports, saved classifications and scores) and `duckdb_sql` (the `sql`
command's sandbox, `--where`). A service that needs one the engine lacks calls `require`, which
raises EngineError naming the engine, the task and what to do.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from hardtech.errors import EngineError, UsageError

ENGINE_ENV = "HARDTECH_ENGINE"
ENGINES = ("duckdb", "spark")


@dataclass(frozen=True)
class Capabilities:
    """What an engine can do beyond answering Ibis expressions (which every engine does)."""

    keep: bool  # temporary tables for intermediates (Ibis `Table.cache`)
    writes: bool  # imports, saving classifications, scores, watchlists, tokens
    duckdb_sql: bool  # DuckDB's SQL: the sandboxed `sql` command, `--where`, `sql` over a snapshot


DUCKDB = Capabilities(keep=True, writes=True, duckdb_sql=True)
SPARK = Capabilities(keep=True, writes=False, duckdb_sql=False)

# an Ibis backend's name → the capabilities of the engine behind it (what `analytics.engine.kept` asks)
BACKENDS = {"duckdb": DUCKDB, "pyspark": SPARK}

_NEEDS = {"keep": "temporary tables", "writes": "writing the store", "duckdb_sql": "DuckDB SQL"}


_selected: str | None = None  # what the CLI's global --engine chose for this invocation


def select(name: str | None) -> str:
    """The engine for this process's services from now on (the CLI's `--engine`); None: back to the default."""
    global _selected
    _selected = engine_name(name) if name else None
    return engine_name()


def engine_name(name: str | None = None) -> str:
    """The engine asked for: `name`, else the one `select`ed, else HARDTECH_ENGINE, else duckdb."""
    chosen = (name or _selected or os.environ.get(ENGINE_ENV) or "duckdb").strip().lower()
    if chosen not in ENGINES:
        raise UsageError(f"unknown engine {chosen!r}; engines are: {', '.join(ENGINES)} (--engine or {ENGINE_ENV})")
    return chosen


def open_store(db: str | Path | None = None, engine: str | None = None, read_only: bool = True,
               master: str | None = None):
    """The store the services are handed: DuckDB's `Store`, or a `SparkStore` over the same tables.

    `db` is the DuckDB file (default `HARDTECH_DB` or ./hardtech.duckdb); for Spark it may also be an
    export folder or `catalog:DATABASE`. A Spark store only reads: asking it for a read-write store
    is an EngineError, not a silent read-only one.
    """
    from hardtech.store.connection import Store, default_db_path

    kind = engine_name(engine)
    if kind == "duckdb":
        return Store(db, read_only=read_only)
    if not read_only:
        raise EngineError("the spark engine only reads; imports, classifying and scoring into the store run on "
                          "--engine duckdb")
    from hardtech.store.spark import SparkStore

    return SparkStore(db if db is not None else default_db_path(), master=master)


def capabilities(store) -> Capabilities:
    """The store's capabilities (a store object without a declaration is a DuckDB `Store`)."""
    return getattr(store, "capabilities", DUCKDB)


def backend_capabilities(backend_name: str) -> Capabilities | None:
    """The capabilities of an Ibis backend by name; None for a backend hardtech does not run on."""
    return BACKENDS.get(backend_name)


def engine_of(store) -> str:
    return getattr(store, "engine", "duckdb")


def read_only_guard(store, task: str) -> EngineError:
    """The error for `task` on an engine that cannot do it (raised by the caller)."""
    return EngineError(f"{task} needs the duckdb engine; this store runs on {engine_of(store)}: "
                       "run it with --engine duckdb (or HARDTECH_ENGINE=duckdb)")


def require(store, capability: str, task: str) -> None:
    """EngineError unless the store's engine has `capability` (a field of Capabilities) for `task`."""
    if capability not in _NEEDS:
        raise ValueError(f"unknown capability {capability!r}")
    if not getattr(capabilities(store), capability):
        raise read_only_guard(store, task)


def state_key(store) -> tuple:
    """Changes whenever the store's data changes: the key of per-store caches, on every engine."""
    own = getattr(store, "fingerprint", None)
    if callable(own):
        return (engine_of(store), *own())
    from hardtech.store.snapshot import fingerprint

    path = getattr(store, "path", None)
    return ("duckdb", *fingerprint(path)) if path is not None else ("duckdb", "memory", id(store))
