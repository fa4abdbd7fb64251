"""TRANSITIONAL (issue 14): a service is handed an opened store; a path is still accepted meanwhile.

Services take the store object the presentation opened once (`store.engine.open_store`: DuckDB or
Spark) and never open one themselves. Until every caller passes a store, `opened` also takes a path
and opens DuckDB for the length of the call, as the services used to. To be removed when no caller
passes a path.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from hardtech.errors import StoreError
from hardtech.store.engine import ENGINE_ENV, engine_name, open_store, require, select, state_key  # noqa: F401 - the presentation's way in


def is_store(obj) -> bool:
    """A store object (DuckDB `Store`, `SparkStore`): anything that hands out tables."""
    return hasattr(obj, "table") and not isinstance(obj, (str, bytes)) and not hasattr(obj, "__fspath__")


@contextmanager
def opened(store, read_only: bool = True, task: str = "writing the store") -> Iterator:
    """`store` as it is (left open: its opener closes it), or a path opened here for this call."""
    if is_store(store):
        if not read_only:
            require(store, "writes", task)
            if getattr(store, "read_only", False):
                raise StoreError(f"{task} needs the store opened for writing; it was opened read-only")
        yield store
        return
    if read_only and engine_name() != "duckdb":  # HARDTECH_ENGINE / --engine: the path's tables on that engine
        with open_store(store) as s:
            yield s
        return
    from hardtech.store.connection import Store

    with Store(store, read_only=read_only) as s:
        yield s
