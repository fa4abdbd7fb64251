"""Watchlists saved in the store: named lists of organisations an analyst follows, with notes.

A list exists while it has at least one organisation; adding the first one creates it. Every
organisation is checked against `organizations` so a list never holds an id that leads nowhere.
"""

from __future__ import annotations

import datetime as dt
import re

from hardtech.errors import NotFound, UsageError
from hardtech.store import watchlists_table
from hardtech.store.connection import Store

_NAME = re.compile(r"^[\w .@-]{1,80}$", re.UNICODE)
MAX_NOTE = 2000


def check_name(name: str) -> str:
    name = (name or "").strip()
    if not _NAME.match(name):
        raise UsageError(f"watchlist name {name!r} is not valid: 1–80 letters, digits, spaces, `_`, `.`, `@` or `-`")
    return name


def watchlist_rows(store: Store) -> list[dict]:
    return watchlists_table.list_rows(store)


def watchlist_items(store: Store, name: str) -> list[dict]:
    rows = watchlists_table.item_rows(store, name)
    if not rows:
        raise NotFound(f"no watchlist named {name!r}")
    return rows


def add_to_watchlist(store: Store, name: str, org_id: str, note: str | None = None, by: str | None = None) -> dict:
    name = check_name(name)
    if note is not None and len(note) > MAX_NOTE:
        raise UsageError(f"note is {len(note)} characters; at most {MAX_NOTE}")
    if not watchlists_table.organisation_exists(store, org_id):
        raise NotFound(f"no organisation {org_id!r} in the store")
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    watchlists_table.put(store, name, org_id, now, note, by)
    return {"name": name, "org_id": org_id, "added_at": now, "note": note}


def remove_from_watchlist(store: Store, name: str, org_id: str | None = None) -> dict:
    """Remove one organisation, or (org_id None) the whole list."""
    n = watchlists_table.count(store, name, org_id)
    if not n:
        raise NotFound(f"watchlist {name!r} has no organisation {org_id!r}" if org_id else f"no watchlist named {name!r}")
    watchlists_table.delete(store, name, org_id)
    return {"name": name, "org_id": org_id, "removed": int(n)}
