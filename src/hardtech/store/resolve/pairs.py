"""The scored pairs of one resolution pass (`resolve_pairs`, written by `model.predict_pairs`): read, then dropped.

Why here: these are DuckDB statements, and engine-specific SQL lives in `store/` (issue 14);
`services/resolve.py` turns the rows into proposals and decides.
"""

from __future__ import annotations


def pair_rows(con) -> list[dict]:
    """Every scored pair, as a dict of its columns (records, names, kinds, comparison levels, probability)."""
    cur = con.execute("SELECT * FROM resolve_pairs")
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def drop_pairs(con) -> None:
    """Drop the pass's scored pairs (they are rebuilt on the next pass)."""
    con.execute("DROP TABLE IF EXISTS resolve_pairs")
