"""`services.store_file.hold_open`: a server worker's kept connection uses one DuckDB thread.

Why: the worker processes are the server's parallelism; a kept connection with DuckDB's default (every
core) would have each worker compete for all cores. The setting is DuckDB's (`store/threads.py`).
"""

from __future__ import annotations

import pytest


def _threads(store) -> int:
    return int(store.con.execute("SELECT current_setting('threads')").fetchone()[0])


def test_hold_open_limits_the_connection_to_one_thread(tmp_path):
    from hardtech.services.store_file import hold_open, open_file

    path = tmp_path / "h.duckdb"
    open_file(path).close()  # creates and migrates the file
    with open_file(path, read_only=True) as plain:
        default = _threads(plain)
    if default == 1:
        pytest.skip("DuckDB uses one thread by default on this machine: nothing to limit")
    held = hold_open(path)
    try:
        assert held.read_only
        assert _threads(held) == 1
    finally:
        held.close()
