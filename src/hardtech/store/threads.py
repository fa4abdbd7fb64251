"""How many threads DuckDB may use on one connection.

Why here: it is a DuckDB setting (`SET threads`), and engine-specific SQL lives in `store/` (issue 14).
The server's worker processes are its parallelism, so the connection each keeps open uses one core
(`services.store_file.hold_open`).
"""

from __future__ import annotations

from hardtech.store.connection import Store


def limit_threads(store: Store, threads: int = 1) -> None:
    """Let DuckDB use at most `threads` threads on `store`'s connection, for as long as it stays open."""
    store.con.execute("SET threads = ?", [int(threads)])
