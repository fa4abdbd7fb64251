"""API tokens for writes over HTTP: created once, shown once, stored only as a hash.

Why SHA-256 and not a slow password hash: the secret is 32 random bytes made here, never a
human-chosen password, so there is nothing to guess and a fast hash is as safe as a slow one;
it also keeps each write request cheap to check. A revoked token stays in the table (with
`revoked = true`) so its name cannot be silently reused.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from pathlib import Path

from hardtech.errors import NotFound, UsageError
from hardtech.store import tokens_table
from hardtech.store.connection import Store

PREFIX = "ht_"
_NAME = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")


def hash_secret(secret: str) -> str:
    return "sha256:" + hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def _check_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise UsageError(f"token name {name!r} is not valid: use 1–64 letters, digits, `_`, `.`, `@` or `-`")
    return name


def create_token(db: str | Path, name: str) -> dict:
    """A new token: the secret is in the result once and never again (only its hash is stored)."""
    _check_name(name)
    secret = PREFIX + secrets.token_urlsafe(32)
    with Store(db) as store:
        if tokens_table.token_exists(store, name):
            raise UsageError(f"a token named {name!r} already exists; revoke it or choose another name")
        created = _now()
        tokens_table.insert_token(store, name, hash_secret(secret), created)
    return {"name": name, "token": secret, "created_at": created,
            "note": "shown once: only its hash is stored; send it as `Authorization: Bearer <token>`"}


def list_tokens(db: str | Path) -> list[dict]:
    """Names and dates only: the table holds no secret to show."""
    with Store(db, read_only=True) as store:
        return tokens_table.token_rows(store)


def revoke_token(db: str | Path, name: str) -> dict:
    with Store(db) as store:
        revoked = tokens_table.is_revoked(store, name)
        if revoked is None:
            raise NotFound(f"no token named {name!r}")
        if revoked:
            raise UsageError(f"token {name!r} is already revoked")
        tokens_table.revoke(store, name, _now())
    return {"name": name, "revoked": True}


def verify_token(store: Store, secret: str | None) -> str | None:
    """The name of the live token whose hash matches `secret`, or None (unknown, revoked or malformed)."""
    if not secret or not secret.startswith(PREFIX) or len(secret) > 200:
        return None
    rows = tokens_table.live_hashes(store)
    want = hash_secret(secret)
    for name, stored in rows:  # compare every hash in constant time, not with an indexed lookup
        if secrets.compare_digest(stored, want):
            return name
    return None
