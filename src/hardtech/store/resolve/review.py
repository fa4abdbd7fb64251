"""The review queue (`resolve_review`) and reviewers' decisions (`resolve_decisions`), read and written.

Why here: these are DuckDB statements, and engine-specific SQL lives in `store/` (issue 14);
`services/resolve.py` decides what goes in the queue and what a decision does. Every value is bound.
"""

from __future__ import annotations

import datetime as dt

REVIEW_COLUMNS = ("pair_id", "record_a", "record_b", "name_a", "name_b", "probability", "evidence", "reason",
                  "status", "proposed_at", "model_version")


def mark_open_stale(con) -> None:
    """Every open pair becomes stale (a new pass reopens the ones it still proposes)."""
    con.execute("UPDATE resolve_review SET status = 'stale' WHERE status = 'open'")


def write_review(con, rows: list[dict]) -> None:
    """Put `rows` (dicts with REVIEW_COLUMNS) in the queue: a pair already decided keeps its decision; the others
    are (re)opened with these rows' evidence."""
    import pyarrow as pa

    tbl = pa.Table.from_pylist(rows)
    con.register("review_new", tbl)
    con.execute("DELETE FROM resolve_review WHERE pair_id IN (SELECT pair_id FROM review_new) "
                "AND status IN ('open', 'stale')")
    cols = ", ".join(REVIEW_COLUMNS)
    con.execute(f"INSERT INTO resolve_review ({cols}) SELECT {cols} FROM review_new n "
                "WHERE n.pair_id NOT IN (SELECT pair_id FROM resolve_review)")
    con.unregister("review_new")


def review_rows(con, status: str = "open", limit: int = 50) -> list[dict]:
    """The queue's pairs with `status` (or every pair: "all"), most probable first."""
    where = "" if status == "all" else "WHERE status = ?"
    params = [] if status == "all" else [status]
    cur = con.execute(f"""SELECT pair_id, round(probability, 3) AS probability, record_a, name_a, record_b,
                                 name_b, reason, evidence, status FROM resolve_review {where}
                          ORDER BY probability DESC, pair_id LIMIT ?""", params + [limit])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def review_pair(con, pair_id: str) -> tuple | None:
    """(record_a, record_b, name_a, name_b, probability, evidence, status) of one pair, or None."""
    rows = con.execute("SELECT record_a, record_b, name_a, name_b, probability, evidence, status "
                       "FROM resolve_review WHERE pair_id = ?", [pair_id]).fetchall()
    return rows[0] if rows else None


def record_decision(con, record_a: str, record_b: str, decision: str, by: str, at: dt.datetime,
                    pair_id: str) -> None:
    """Remember a reviewer's decision on a pair (records in sorted order), replacing an earlier one."""
    con.execute("DELETE FROM resolve_decisions WHERE record_a = ? AND record_b = ?", [record_a, record_b])
    con.execute("INSERT INTO resolve_decisions VALUES (?, ?, ?, ?, ?, ?)",
                [record_a, record_b, decision, by, at, pair_id])


def set_status(con, pair_id: str, status: str) -> None:
    """The queue's status of one pair (accepted, rejected)."""
    con.execute("UPDATE resolve_review SET status = ? WHERE pair_id = ?", [status, pair_id])
