"""Reading the `rejects` table: the rows an import refused, with the line, column, value and reason.

Why here: it is a DuckDB query, and engine-specific SQL lives in `store/` (issue 14); `services/data.py`
hands the rows on to `hardtech rejects` and the API. The import id and the limit are bound, never pasted.
"""

from __future__ import annotations

from hardtech.store.connection import Store


def reject_rows(store: Store, import_id: str | None = None, limit: int = 100) -> list[dict]:
    """The newest `limit` rejects, of one import when `import_id` is given: a connector's run has one id with
    a part per table it fills (`<id>.1`, `<id>.2`), and the id selects them all."""
    q = ("SELECT import_id, table_name, source_file, line, column_name, value, reason FROM rejects "
         + ("WHERE import_id = ? OR starts_with(import_id, ? || '.') " if import_id else "")
         + "ORDER BY created_at DESC, source_file, line LIMIT ?")
    params = [import_id, import_id, limit] if import_id else [limit]
    cur = store.con.execute(q, params)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]
