"""The `watchlists` table: named lists of organisations, read and written with bound values.

Why here: these are DuckDB statements, and engine-specific SQL lives in `store/` (issue 14);
`services/watchlists.py` keeps the rules (valid names, note length, what is missing) and calls these.
"""

from __future__ import annotations

import datetime as dt

from hardtech.store.connection import Store


def _dicts(cur) -> list[dict]:
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def list_rows(store: Store) -> list[dict]:
    """One row per list: its name, how many organisations it holds and when it last changed."""
    return _dicts(store.con.execute("SELECT name, count(*) AS organisations, max(added_at) AS updated_at "
                                    "FROM watchlists GROUP BY name ORDER BY name"))


def item_rows(store: Store, name: str) -> list[dict]:
    """The organisations on list `name` with their names and places, oldest addition first ([] if none)."""
    return _dicts(store.con.execute("""
        SELECT w.org_id, coalesce(o.name_en, o.name_zh, w.org_id) AS name, o.name_zh, o.city, o.country,
               w.note, w.added_at, w.added_by
        FROM watchlists w LEFT JOIN organizations o USING (org_id)
        WHERE w.name = ? ORDER BY w.added_at, w.org_id""", [name]))


def organisation_exists(store: Store, org_id: str) -> bool:
    """Whether `organizations` has this id (a list never holds an id that leads nowhere)."""
    return bool(store.con.execute("SELECT count(*) FROM organizations WHERE org_id = ?", [org_id]).fetchall()[0][0])


def put(store: Store, name: str, org_id: str, added_at: dt.datetime, note: str | None, by: str | None) -> None:
    """Add `org_id` to list `name`, replacing its earlier entry there (note, time, who), in one transaction."""
    with store.transaction() as con:
        con.execute("DELETE FROM watchlists WHERE name = ? AND org_id = ?", [name, org_id])
        con.execute("INSERT INTO watchlists VALUES (?, ?, ?, ?, ?)", [name, org_id, added_at, note, by])


def _where(name: str, org_id: str | None) -> tuple[str, list]:
    return "name = ?" + (" AND org_id = ?" if org_id else ""), [name] + ([org_id] if org_id else [])


def count(store: Store, name: str, org_id: str | None = None) -> int:
    """Entries of list `name` (only `org_id`'s when given)."""
    where, params = _where(name, org_id)
    return int(store.con.execute(f"SELECT count(*) FROM watchlists WHERE {where}", params).fetchall()[0][0])


def delete(store: Store, name: str, org_id: str | None = None) -> None:
    """Remove list `name` (only `org_id`'s entry when given)."""
    where, params = _where(name, org_id)
    store.con.execute(f"DELETE FROM watchlists WHERE {where}", params)
