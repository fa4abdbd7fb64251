"""Every write route refuses a caller without a live token, and every write is refused on a read-only server.

The routes are read from the application's own route table (API and dashboard alike), so a write route
added tomorrow is checked without anyone editing this file, and one added without the token check fails
here. Each route gets a request that would succeed with a valid token (a well-formed body, real path
values): a 401/403 is then the token check speaking, never a malformed request.
"""

from __future__ import annotations

import re

import pytest

from guard_support import app_routes

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
ORG = "guard-org"
LIST = "guard-list"
# one file every upload route accepts: screening reads name/description, an organisations import org_id/name_en
CSV = b"org_id,name_en,name,description\nguard-upload,Guard Upload,Guard Applicant,silicon photonics chip foundry\n"
PATH_VALUES = {"org_id": ORG, "name": LIST, "table": "organizations"}  # anything else: "x"


def write_routes(app) -> list[tuple[str, object]]:
    """(method, route) for every route of the app that accepts a writing method."""
    return [(method, route) for path, methods, route in app_routes(app) for method in sorted(methods & WRITE_METHODS)]


def request_for(method: str, route) -> dict:
    """Path, files, form fields and JSON body that make a well-formed request to `route`."""
    path = re.sub(r"{(\w+)(:[^}]*)?}", lambda m: PATH_VALUES.get(m.group(1), "x"), route.path)
    kw: dict = {"method": method, "url": path}
    files, data = {}, {}
    for p in getattr(route.dependant, "body_params", []):
        kind = type(p.field_info).__name__
        if kind == "File" or "UploadFile" in repr(p.field_info.annotation):
            files[p.alias] = ("guard.csv", CSV, "text/csv")
        elif kind == "Form":
            data[p.alias] = "guard note" if p.alias == "note" else (LIST if p.alias == "name" else "")
        else:
            kw["json"] = {}
    if files:
        kw["files"] = files
    if data:
        kw["data"] = data
    return kw


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    """A write-enabled and a read-only server over the same small store, a live and a revoked token."""
    import csv

    from fastapi.testclient import TestClient

    from hardtech.presentation.api import create_app
    from hardtech.services.data import import_file
    from hardtech.services.tokens import create_token, revoke_token
    from hardtech.store.connection import Store

    folder = tmp_path_factory.mktemp("guard-auth")
    db = folder / "hardtech.duckdb"
    Store(db).close()
    orgs = folder / "orgs.csv"
    with orgs.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([["org_id", "kind", "name_en", "country", "city"],
                                  [ORG, "startup", "Guard Org", "CN", "Xi'an"]])
    import_file(db, "organizations", orgs, source="test fixture (synthetic)", synthetic=True)
    from hardtech.services import watchlists as wl

    with Store(db) as store:  # a list for the refused deletes to leave alone
        wl.add_to_watchlist(store, LIST, ORG, "kept", "fixture")
    live = create_token(db, "guard-live")["token"]
    revoked = create_token(db, "guard-revoked")["token"]
    revoke_token(db, "guard-revoked")
    rw_app, ro_app = create_app(db, read_only=False), create_app(db, read_only=True)
    with TestClient(rw_app, raise_server_exceptions=False) as rw, TestClient(ro_app, raise_server_exceptions=False) as ro:
        yield {"rw": rw, "ro": ro, "rw_app": rw_app, "ro_app": ro_app, "live": live, "revoked": revoked, "db": db}


def test_the_route_table_has_the_known_write_routes(servers):
    """The enumeration is not vacuous: the writes we know of are found in the route table."""
    found = {(m, r.path) for m, r in write_routes(servers["rw_app"])}
    for known in [("DELETE", "/api/v1/watchlists/{name}"), ("PUT", "/api/v1/watchlists/{name}/items/{org_id}"),
                  ("DELETE", "/api/v1/watchlists/{name}/items/{org_id}"), ("POST", "/api/v1/imports/{table}"),
                  ("POST", "/api/v1/screening"), ("POST", "/screening"), ("POST", "/org/{org_id}/watch")]:
        assert known in found, f"{known} is no longer in the route table: {sorted(found)}"


CALLERS = {
    "no token": lambda s: {},
    "wrong token": lambda s: {"Authorization": "Bearer ht_this-token-was-never-issued"},
    "revoked token": lambda s: {"Authorization": f"Bearer {s['revoked']}"},
    "not a bearer token": lambda s: {"Authorization": f"Basic {s['live']}"},
}


def contents(db) -> tuple:
    """What a write could change: watchlist rows, imports, organisations."""
    from hardtech.store.connection import Store

    with Store(db, read_only=True) as s:
        return tuple(s.con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0]
                     for t in ("watchlists", "imports", "organizations"))


@pytest.mark.parametrize("caller", list(CALLERS))
def test_every_write_route_refuses_a_caller_without_a_live_token(servers, caller):
    before = contents(servers["db"])
    failures = []
    for method, route in write_routes(servers["rw_app"]):
        r = servers["rw"].request(**request_for(method, route), headers=CALLERS[caller](servers),
                                  follow_redirects=False)
        if r.status_code != 401:
            failures.append(f"{method} {route.path}: {r.status_code} {r.text[:120]!r}")
    assert not failures, f"{caller}: write routes that did not answer 401:\n" + "\n".join(failures)
    assert contents(servers["db"]) == before, "a refused request changed the store"


def test_every_write_route_is_refused_on_a_read_only_server_even_with_a_live_token(servers):
    before = contents(servers["db"])
    failures = []
    for method, route in write_routes(servers["ro_app"]):
        r = servers["ro"].request(**request_for(method, route), headers={"Authorization": f"Bearer {servers['live']}"},
                                  follow_redirects=False)
        if r.status_code != 403 or "read-only" not in r.text:
            failures.append(f"{method} {route.path}: {r.status_code} {r.text[:120]!r}")
    assert not failures, "write routes a read-only server did not refuse with 403:\n" + "\n".join(failures)
    assert contents(servers["db"]) == before, "a refused request changed the store"


def test_a_live_token_passes_the_check_on_every_write_route(servers):
    """The refusals above are the token check, not a request the routes could never accept."""
    before = contents(servers["db"])
    failures = []
    for method, route in write_routes(servers["rw_app"]):
        r = servers["rw"].request(**request_for(method, route), headers={"Authorization": f"Bearer {servers['live']}"},
                                  follow_redirects=False)
        if r.status_code in (401, 403, 422) or r.status_code >= 500:
            failures.append(f"{method} {route.path}: {r.status_code} {r.text[:160]!r}")
    assert not failures, "write routes that refused a live token or a well-formed request:\n" + "\n".join(failures)
    assert contents(servers["db"]) != before, "a live token's writes changed nothing"
