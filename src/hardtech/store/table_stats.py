"""The synthetic-row count that `hardtech status` shows per table beside `Store.count`'s total.

Why here: a count over a table named at run time is DuckDB SQL, and engine-specific SQL lives in `store/`
(issue 14). Table names come from the declared schema (`hardtech.schema.TABLES`), never from a user.
"""

from __future__ import annotations

from hardtech.store.connection import Store


def synthetic_count(store: Store, table: str) -> int:
    """Rows of `table` marked synthetic (a table with provenance columns)."""
    return int(store.con.execute(f'SELECT count(*) FROM "{table}" WHERE synthetic').fetchall()[0][0])
