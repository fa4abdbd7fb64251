"""API tokens and the token check, stated as the promises a user relies on (issue 17, mutation testing).

- A token is 32 random bytes behind the `ht_` prefix, shown once; the store keeps only
  `sha256:<hex>` of it, so a token issued by an earlier release (that stored format) keeps working.
- Names are 1–64 letters, digits, `_ . @ -`; a taken name (revoked included) is never reused.
- Times are UTC whatever the machine's time zone.
- The token is read only from `Authorization: Bearer …` as RFC 7235/6750 write it: the scheme in any
  case, one or more spaces before the token; never from the URL.
- Each refusal says what to do, in fixed words (a client shows them to its user; changing them is a
  decision that updates REFUSALS below), with the `WWW-Authenticate` challenge RFC 6750 asks for.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import time

import pytest

from hardtech.errors import NotFound, UsageError


@pytest.fixture()
def db(tmp_path):
    from hardtech.store.connection import Store

    path = tmp_path / "tokens.duckdb"
    Store(path).close()
    return path


def rows(db) -> list[tuple]:
    from hardtech.store.connection import Store

    with Store(db, read_only=True) as s:
        return s.con.execute("SELECT name, token_hash, created_at, revoked, revoked_at FROM api_tokens "
                             "ORDER BY name").fetchall()


def verify(db, secret):
    from hardtech.services.tokens import verify_token
    from hardtech.store.connection import Store

    with Store(db, read_only=True) as s:
        return verify_token(s, secret)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


@pytest.fixture()
def far_time_zone(monkeypatch):
    """The process in UTC+8 (no DST), so local time and UTC differ by hours."""
    monkeypatch.setenv("TZ", "Asia/Shanghai")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


# ------------------------------------------------------------------------------------------ the service


def test_a_token_is_32_random_bytes_shown_once_and_stored_only_as_its_sha256(db, far_time_zone):
    from hardtech.services.tokens import create_token

    before = utcnow()
    made = create_token(db, "ci-bot")
    after = utcnow()
    assert set(made) == {"name", "token", "created_at", "note"} and made["name"] == "ci-bot"
    secret = made["token"]
    assert secret.startswith("ht_")
    raw = base64.urlsafe_b64decode(secret[3:] + "=" * (-len(secret[3:]) % 4))
    assert len(raw) == 32, f"the secret carries {len(raw)} random bytes, not 32"
    assert made["note"] == "shown once: only its hash is stored; send it as `Authorization: Bearer <token>`"
    (name, stored, created, revoked, revoked_at), = rows(db)
    assert (name, revoked, revoked_at) == ("ci-bot", False, None)
    assert stored == "sha256:" + hashlib.sha256(secret.encode()).hexdigest() and secret not in stored
    # UTC, not the machine's local time (8 hours ahead here)
    assert before - dt.timedelta(seconds=1) <= made["created_at"] <= after + dt.timedelta(seconds=1)
    assert created == made["created_at"]
    assert verify(db, secret) == "ci-bot"


def test_a_token_stored_by_an_earlier_release_still_verifies(db):
    """The stored format `sha256:<hex of the UTF-8 secret>` is a contract with every store in use."""
    from hardtech.store.connection import Store

    secret = "ht_" + "é-issued-by-an-earlier-release"
    with Store(db) as s:
        s.con.execute("INSERT INTO api_tokens VALUES (?, ?, ?, false, NULL)",
                      ["old", "sha256:" + hashlib.sha256(secret.encode("utf-8")).hexdigest(), utcnow()])
    assert verify(db, secret) == "old"
    assert verify(db, secret + "x") is None and verify(db, secret[:-1]) is None


@pytest.mark.parametrize("length, accepted", [(200, True), (201, False)])
def test_a_presented_secret_is_refused_above_200_characters(db, length, accepted):
    """The cap bounds the hashing a hostile header can ask for; 200 characters still pass."""
    from hardtech.store.connection import Store

    secret = "ht_" + "a" * (length - 3)
    with Store(db) as s:
        s.con.execute("INSERT INTO api_tokens VALUES (?, ?, ?, false, NULL)",
                      ["long", "sha256:" + hashlib.sha256(secret.encode()).hexdigest(), utcnow()])
    assert (verify(db, secret) == "long") is accepted


@pytest.mark.parametrize("secret", [None, "", "no-prefix", "HT_upper", "ht_"])
def test_malformed_secrets_name_no_token(db, secret):
    from hardtech.services.tokens import create_token

    create_token(db, "someone")
    assert verify(db, secret) is None


@pytest.mark.parametrize("name", ["", "a" * 65, "has space", "semi;colon", "slash/name", "名字", "new\nline", None, 42])
def test_a_bad_token_name_is_refused_naming_it(db, name):
    from hardtech.services.tokens import create_token

    with pytest.raises(UsageError) as err:
        create_token(db, name)
    assert repr(name) in str(err.value) and "1–64 letters, digits" in str(err.value)
    assert rows(db) == []


@pytest.mark.parametrize("name", ["a", "a" * 64, "ci.bot@lab-1_X"])
def test_every_allowed_token_name_is_accepted(db, name):
    from hardtech.services.tokens import create_token

    assert create_token(db, name)["name"] == name
    assert [r[0] for r in rows(db)] == [name]


def test_a_taken_name_is_never_reused_even_after_revoking(db):
    from hardtech.services.tokens import create_token, revoke_token

    first = create_token(db, "bot")["token"]
    for step in ("live", "revoked"):
        with pytest.raises(UsageError) as err:
            create_token(db, "bot")
        assert "'bot' already exists" in str(err.value), step
        assert len(rows(db)) == 1, step
        if step == "live":
            revoke_token(db, "bot")
    assert verify(db, first) is None


def test_revoking_stops_a_token_and_says_so(db, far_time_zone):
    from hardtech.services.tokens import create_token, revoke_token

    keep, drop = create_token(db, "keep")["token"], create_token(db, "drop")["token"]
    before = utcnow()
    assert revoke_token(db, "drop") == {"name": "drop", "revoked": True}
    after = utcnow()
    assert verify(db, drop) is None and verify(db, keep) == "keep"
    by_name = {r[0]: r for r in rows(db)}
    assert by_name["keep"][3:] == (False, None)
    assert by_name["drop"][3] is True
    assert before - dt.timedelta(seconds=1) <= by_name["drop"][4] <= after + dt.timedelta(seconds=1)  # UTC
    with pytest.raises(UsageError, match="token 'drop' is already revoked"):
        revoke_token(db, "drop")
    with pytest.raises(NotFound, match="no token named 'ghost'"):
        revoke_token(db, "ghost")


def test_listing_shows_names_and_dates_in_creation_order_never_a_secret(db):
    from hardtech.services.tokens import create_token, list_tokens, revoke_token
    from hardtech.store.connection import Store

    made = [create_token(db, n) for n in ("zeta", "alpha", "mid")]
    revoke_token(db, "alpha")
    with Store(db) as s:  # equal creation times sort by name
        s.con.execute("UPDATE api_tokens SET created_at = ? WHERE name = 'mid'", [made[0]["created_at"]])
    listed = list_tokens(db)
    assert [t["name"] for t in listed] == ["mid", "zeta", "alpha"]
    for t in listed:
        assert set(t) == {"name", "created_at", "revoked", "revoked_at"}
        assert isinstance(t["created_at"], dt.datetime)
        assert t["revoked"] is (t["name"] == "alpha") and (t["revoked_at"] is None) is (t["name"] != "alpha")
    text = repr(listed)
    assert all(m["token"] not in text for m in made) and "sha256:" not in text


def test_listing_never_creates_a_store(tmp_path):
    from hardtech.errors import StoreError
    from hardtech.services.tokens import list_tokens

    missing = tmp_path / "typo.duckdb"
    with pytest.raises(StoreError, match="no store at"):
        list_tokens(missing)
    assert not missing.exists()


# ------------------------------------------------------------------------------------------ the header


def request_with(headers: dict[str, str], query: bytes = b""):
    from starlette.requests import Request

    return Request({"type": "http", "method": "PUT", "path": "/", "query_string": query,
                    "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()]})


@pytest.mark.parametrize("header, token", [
    ("Bearer ht_abc", "ht_abc"),
    ("bearer ht_abc", "ht_abc"),         # the scheme is case-insensitive (RFC 7235 §2.1)
    ("BEARER ht_abc", "ht_abc"),
    ("Bearer   ht_abc", "ht_abc"),       # 1*SP between scheme and token
    ("Bearer ht_abc  ", "ht_abc"),
    ("Basic ht_abc", None),
    ("Bearer", None),
    ("Bearer    ", None),
    ("Bearerht_abc", None),
    ("ht_abc", None),
])
def test_the_token_is_read_from_the_authorization_header_as_rfc_6750_writes_it(header, token):
    from hardtech.presentation.api.deps import bearer

    assert bearer(request_with({"Authorization": header})) == token


def test_no_header_means_no_token_and_the_url_is_never_read():
    from hardtech.presentation.api.deps import bearer

    assert bearer(request_with({})) is None
    assert bearer(request_with({}, b"token=ht_abc&access_token=ht_abc")) is None
    assert bearer(request_with({"X-Api-Token": "ht_abc", "Cookie": "token=ht_abc"})) is None


# ------------------------------------------------------------------------------------------ the refusals

REFUSALS = {
    "no token": (401, "Bearer", "this request needs an API token: send `Authorization: Bearer "
                                "<token>` (create one with `hardtech token create NAME`)"),
    "not valid": (401, 'Bearer error="invalid_token"', "the API token is not valid (unknown or revoked)"),
    "read-only": (403, None, "this server is read-only (started with --read-only or read_only=True): imports, "
                             "screening uploads and watchlist changes are refused"),
}


@pytest.fixture(scope="module")
def apps(tmp_path_factory):
    from fastapi.testclient import TestClient

    from hardtech.presentation.api import create_app
    from hardtech.services.tokens import create_token
    from hardtech.store.connection import Store

    db = tmp_path_factory.mktemp("refusals") / "hardtech.duckdb"
    Store(db).close()
    live = create_token(db, "live")["token"]
    with TestClient(create_app(db, read_only=False), raise_server_exceptions=False) as rw, \
            TestClient(create_app(db, read_only=True), raise_server_exceptions=False) as ro:
        yield rw, ro, live


@pytest.mark.parametrize("case", list(REFUSALS))
def test_each_refusal_says_what_to_do_with_the_rfc_6750_challenge(apps, case):
    rw, ro, live = apps
    client, headers = {"no token": (rw, {}), "not valid": (rw, {"Authorization": "Bearer ht_never-issued"}),
                       "read-only": (ro, {"Authorization": f"Bearer {live}"})}[case]
    status, challenge, detail = REFUSALS[case]
    r = client.delete("/api/v1/watchlists/any", headers=headers)
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["detail"] == detail
    got = r.headers.get("www-authenticate")
    if challenge is None:
        assert got is None
    else:  # the scheme's case is free (RFC 7235 §2.1), the rest is not
        assert got is not None and got.split(" ", 1)[0].lower() == "bearer"
        assert got.split(" ", 1)[1:] == challenge.split(" ", 1)[1:]


# ------------------------------------------------------------------------------------------ the filter dependency


def test_every_filter_parameter_reaches_the_search_filters_under_its_own_name():
    """`org_filters` is the one filter syntax of the API and the dashboard: each parameter it declares is a field of
    `Filters` and arrives there unchanged (enumerated from its signature, so a parameter added later is checked)."""
    import asyncio
    import dataclasses
    import inspect

    from hardtech.presentation.api.deps import org_filters
    from hardtech.services.search import Filters

    values = {"field": "ai", "typology": "deep", "country": "CN", "city": "Xi'an", "kind": "startup",
              "score_min": 12.5, "score_max": 87.5, "star": "insufficient data", "q": "photonics"}
    params = list(inspect.signature(org_filters).parameters)
    assert set(params) == set(values) == {f.name for f in dataclasses.fields(Filters)}, params
    got = asyncio.run(org_filters(**values))
    assert dataclasses.asdict(got) == dataclasses.asdict(Filters(**values).validated())
    for name in params:  # each one alone, the others left out
        one = asyncio.run(org_filters(**{p: (values[p] if p == name else None) for p in params}))
        assert getattr(one, name) == getattr(got, name) and getattr(one, name) is not None, name
        assert all(getattr(one, p) is None for p in params if p != name), name


@pytest.mark.parametrize("headers, fresh", [
    ({}, False),
    ({"Cache-Control": "max-age=60"}, False),
    ({"Cache-Control": "no-cache"}, True),
    ({"Cache-Control": "NO-CACHE"}, True),            # directives are case-insensitive (RFC 9111 §5.2)
    ({"Cache-Control": "max-age=0, No-Store"}, True),
    ({"Pragma": "no-cache"}, True),                    # HTTP/1.0 clients
    ({"Pragma": "No-Cache"}, True),
    ({"Pragma": "x-other"}, False),
    ({"Cache-Control": "private", "Pragma": "no-cache"}, True),
])
def test_a_client_asking_for_no_cache_is_answered_from_the_current_store(headers, fresh):
    from hardtech.presentation.api.deps import no_cache

    assert no_cache(request_with(headers)) is fresh


def test_a_token_counts_the_moment_it_is_created_or_revoked(tmp_path):
    """The server answers reads from snapshots; the token check must not: a revoked token stops at once."""
    from fastapi.testclient import TestClient

    from hardtech.presentation.api import create_app
    from hardtech.services.tokens import create_token, revoke_token
    from hardtech.store.connection import Store

    db = tmp_path / "live.duckdb"
    Store(db).close()
    create_token(db, "first")
    with TestClient(create_app(db, read_only=False), raise_server_exceptions=False) as client:
        assert client.delete("/api/v1/watchlists/any", headers={"Authorization": "Bearer ht_x"}).status_code == 401
        token = create_token(db, "late")["token"]  # after the server took its snapshot
        auth = {"Authorization": f"Bearer {token}"}
        assert client.delete("/api/v1/watchlists/any", headers=auth).status_code not in (401, 403)
        revoke_token(db, "late")
        r = client.delete("/api/v1/watchlists/any", headers=auth)
        assert r.status_code == 401 and r.json()["detail"] == REFUSALS["not valid"][2]
