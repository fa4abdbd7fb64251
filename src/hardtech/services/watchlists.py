"""Watchlists saved in the store: named lists of organisations an analyst follows, with notes.

A list exists while it has at least one organisation; adding the first one creates it. Every
organisation is checked against `organizations` so a list never holds an id that leads nowhere.
"""

from __future__ import annotations

import datetime as dt
import re

from hardtech.errors import NotFound, UsageError
from hardtech.store.connection import Store

_NAME = re.compile(r"^[\w .@-]{1,80}$", re.UNICODE)
MAX_NOTE = 2000


def check_name(name: str) -> str:
    name = (name or "").strip()
    if not _NAME.match(name):
        raise UsageError(f"watchlist name {name!r} is not valid: 1–80 letters, digits, spaces, `_`, `.`, `@` or `-`")
    return name


def watchlist_rows(store: Store) -> list[dict]:
    cur = store.con.execute("SELECT name, count(*) AS organisations, max(added_at) AS updated_at FROM watchlists "
                            "GROUP BY name ORDER BY name")
    return [dict(zip([d[0] for d in cur.description], r)) for r in cur.fetchall()]


def watchlist_items(store: Store, name: str) -> list[dict]:
    cur = store.con.execute("""
        SELECT w.org_id, coalesce(o.name_en, o.name_zh, w.org_id) AS name, o.name_zh, o.city, o.country,
               w.note, w.added_at, w.added_by
        FROM watchlists w LEFT JOIN organizations o USING (org_id)
        WHERE w.name = ? ORDER BY w.added_at, w.org_id""", [name])
    rows = [dict(zip([d[0] for d in cur.description], r)) for r in cur.fetchall()]
    if not rows:
        raise NotFound(f"no watchlist named {name!r}")
    return rows


def add_to_watchlist(store: Store, name: str, org_id: str, note: str | None = None, by: str | None = None) -> dict:
    name = check_name(name)
    if note is not None and len(note) > MAX_NOTE:
        raise UsageError(f"note is {len(note)} characters; at most {MAX_NOTE}")
    if not store.con.execute("SELECT count(*) FROM organizations WHERE org_id = ?", [org_id]).fetchall()[0][0]:
        raise NotFound(f"no organisation {org_id!r} in the store")
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    with store.transaction() as con:
        con.execute("DELETE FROM watchlists WHERE name = ? AND org_id = ?", [name, org_id])
        con.execute("INSERT INTO watchlists VALUES (?, ?, ?, ?, ?)", [name, org_id, now, note, by])
    return {"name": name, "org_id": org_id, "added_at": now, "note": note}


def remove_from_watchlist(store: Store, name: str, org_id: str | None = None) -> dict:
    """Remove one organisation, or (org_id None) the whole list."""
    params = [name] + ([org_id] if org_id else [])
    where = "name = ?" + (" AND org_id = ?" if org_id else "")
    n = store.con.execute(f"SELECT count(*) FROM watchlists WHERE {where}", params).fetchall()[0][0]
    if not n:
        raise NotFound(f"watchlist {name!r} has no organisation {org_id!r}" if org_id else f"no watchlist named {name!r}")
    store.con.execute(f"DELETE FROM watchlists WHERE {where}", params)
    return {"name": name, "org_id": org_id, "removed": int(n)}
