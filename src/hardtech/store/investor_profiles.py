"""Keeping investor matching's profiles in the DuckDB store, and knowing when they are stale.

Why here: the profiles are computed by Ibis expressions (`analytics/investor_profiles.py`) but kept
as store tables (`investor_profiles`, `investor_profile_items`, `investor_profile_state`, migration
11) so that a request reads them instead of recomputing them. Whether they still describe the store
is decided by a fingerprint of the tables they read, taken in DuckDB's SQL (so it lives in `store/`):
row counts and newest import / verdict times, which every hardtech write changes (see `fingerprint`). Nothing is refreshed behind a reader's back: a stale profile is
never read, it is recomputed (and saved when the store is writable).
"""

from __future__ import annotations

import hashlib
import time

# what says a table changed, per table the profiles read: row counts and the newest import or verdict time (read
# from DuckDB's metadata and zone maps: about a millisecond at 3,000,000 rounds, where hashing every row took 0.7 s);
# the investors table is small, so every column the profiles read is hashed; resolve_merges counts merges and undos
_CHANGES = {
    "organizations": "count(*), max(imported_at)",
    "funding_rounds": "count(*), max(imported_at)",
    "investors": "count(*), max(imported_at), coalesce(sum(hash(investor_id, name_en, name_zh, thesis_fields, stages, "
                 "regions, ticket_min, ticket_max, currency)), 0)",
    "classifications": "count(*), max(classified_at)",
    "resolve_merges": "count(*)",
}
TABLES = ("investor_profiles", "investor_profile_items", "investor_profile_state")


def can_keep(store) -> bool:
    """Whether `store` is a DuckDB store with the profile tables (migration 11) that can be read by SQL."""
    return getattr(store, "engine", "duckdb") == "duckdb" and hasattr(store, "con")


def fingerprint(store, rules: str) -> str:
    """A digest of each input table's row count and newest import (or verdict) time, and of the profile rules.

    Every write hardtech makes to those tables changes it: an import stamps `imported_at` on the rows it
    inserts or updates, `classify` stamps `classified_at`, a merge or undo deletes or restores organisations
    and adds to `resolve_merges`. A change made behind hardtech's back that keeps counts and stamps (raw
    SQL on the file) is not seen: delete the row of `investor_profile_state` to force a rebuild.
    """
    parts = [rules]
    for table, what in _CHANGES.items():
        row = store.con.execute(f'SELECT {what} FROM "{table}"').fetchall()[0]
        parts.append(f"{table}:{row}")
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]


def stored_state(store) -> dict | None:
    """The state row of the kept profiles (fingerprint, typical_round_size, built_at, build_s), or None."""
    row = store.con.execute("SELECT fingerprint, typical_round_size, built_at, build_s FROM investor_profile_state "
                            "LIMIT 1").fetchall()
    if not row:
        return None
    row = row[0]
    return dict(zip(("fingerprint", "typical_round_size", "built_at", "build_s"), row))


def save(store, profiles, items, typical_round_size: float, fp: str, started: float) -> dict:
    """Replace the kept profiles by these Ibis expressions, computed by DuckDB itself (nothing comes to Python).

    Items are kept sorted by item, so a request's `item IN (...)` reads a few row groups, not the table.
    """
    con, ib = store.con, store.ibis
    with store.transaction():
        for t in TABLES:
            con.execute(f'DELETE FROM "{t}"').fetchall()
        ib.insert("investor_profiles", profiles.mutate(last_round=profiles.last_round.cast("date")))
        ib.insert("investor_profile_items", items.order_by(["item", "investor_id"]))
        build_s = time.perf_counter() - started
        con.execute("INSERT INTO investor_profile_state VALUES (?, ?, now(), ?)", [fp, typical_round_size, build_s]).fetchall()
    return stored_state(store)


def tables(store):
    """The kept profile tables as Ibis tables (profiles, items)."""
    return store.table("investor_profiles"), store.table("investor_profile_items")


_HERE = {"profiles": "_investor_profiles_here", "items": "_investor_profile_items_here"}


def keep_here(store, profiles, items, typical_round_size: float, fp: str):
    """Profiles of a store opened read-only, as temporary tables of this connection (gone when it closes)."""
    ib = store.ibis
    p = ib.create_table(_HERE["profiles"], profiles, temp=True, overwrite=True)
    i = ib.create_table(_HERE["items"], items.order_by(["item", "investor_id"]), temp=True, overwrite=True)
    store._investor_profiles_here = (fp, typical_round_size)
    return p, i


def kept_here(store, fp: str):
    """(profiles, items, typical_round_size) kept by `keep_here` for this state of the store, or None."""
    held = getattr(store, "_investor_profiles_here", None)
    if held is None or held[0] != fp:
        return None
    return store.ibis.table(_HERE["profiles"]), store.ibis.table(_HERE["items"]), held[1]
