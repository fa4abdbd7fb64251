"""The `api_tokens` table: the rows behind the API's write tokens, read and written with bound values.

Why here: these are DuckDB statements, and engine-specific SQL lives in `store/` (issue 14);
`services/tokens.py` keeps the rules (names, secrets, hashing, constant-time comparison) and calls
these. A token's secret never reaches this module, only its hash.
"""

from __future__ import annotations

import datetime as dt

from hardtech.store.connection import Store


def token_exists(store: Store, name: str) -> bool:
    """Whether a token (live or revoked) has this name."""
    return bool(store.con.execute("SELECT count(*) FROM api_tokens WHERE name = ?", [name]).fetchall()[0][0])


def insert_token(store: Store, name: str, token_hash: str, created: dt.datetime) -> None:
    """A new live token row."""
    store.con.execute("INSERT INTO api_tokens VALUES (?, ?, ?, false, NULL)", [name, token_hash, created])


def token_rows(store: Store) -> list[dict]:
    """Every token's name, creation time and revocation (no hash), oldest first."""
    cur = store.con.execute("SELECT name, created_at, coalesce(revoked, false) AS revoked, revoked_at "
                            "FROM api_tokens ORDER BY created_at, name")
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def is_revoked(store: Store, name: str) -> bool | None:
    """Whether the token named `name` is revoked; None when there is no such token."""
    rows = store.con.execute("SELECT coalesce(revoked, false) FROM api_tokens WHERE name = ?", [name]).fetchall()
    return bool(rows[0][0]) if rows else None


def revoke(store: Store, name: str, at: dt.datetime) -> None:
    """Mark the token revoked at `at` (its row stays, so the name cannot be reused)."""
    store.con.execute("UPDATE api_tokens SET revoked = true, revoked_at = ? WHERE name = ?", [at, name])


def live_hashes(store: Store) -> list[tuple[str, str]]:
    """(name, hash) of every token not revoked."""
    return [tuple(r) for r in store.con.execute(
        "SELECT name, token_hash FROM api_tokens WHERE NOT coalesce(revoked, false)").fetchall()]
