"""Saving verdicts into `classifications`: one row per entity and model version, the newest replacing the old.

Why here: the replacement is a DuckDB statement pair over a registered Arrow table, and engine-specific SQL
lives in `store/` (issue 14); `services/classify.py` builds the table of verdicts and calls this.
"""

from __future__ import annotations

import pyarrow as pa

from hardtech.store.connection import Store


def save_classifications(store: Store, data: pa.Table) -> None:
    """Replace the rows of `data`'s (entity_type, entity_id, model_version) keys with `data`, in one transaction.
    `data` has the columns of `classifications`, in its order."""
    with store.transaction() as con:
        con.register("new_cls", data)
        con.execute("DELETE FROM classifications c USING new_cls n WHERE c.entity_type = n.entity_type "
                    "AND c.entity_id = n.entity_id AND c.model_version = n.model_version")
        con.execute("INSERT INTO classifications SELECT * FROM new_cls")
        con.unregister("new_cls")
