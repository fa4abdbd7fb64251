"""The server under load (issue 13, item 4): bounded pools with 429, reads that never wait, reports behind a
token and cached by content, tokens only in the `Authorization` header, CLI writes while it serves, no paths
in error bodies, and the store snapshots that make it so.

Concurrency is driven with httpx's ASGI transport on one event loop, so "a read answers while a report or an
import is still running" is checked by holding that work on an event, not by timing it.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import httpx
import pytest

from test_api import api_store, auth, problem, writable_copy

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    return api_store(tmp_path_factory)


def make_app(base: Path, folder: Path, dashboard: bool = False, **kw):
    from hardtech.presentation.api import create_app
    from hardtech.services.tokens import create_token

    db = writable_copy(base, folder)
    token = create_token(db, "tester")["token"]
    return create_app(db, read_only=False, dashboard=dashboard, **kw), db, token


class Hold:
    """Wraps a function so that each call signals `started` and waits for `release` (at most 60 s)."""

    def __init__(self, fn):
        self.fn = fn
        self.started = threading.Event()
        self.release = threading.Event()
        self.calls = 0

    def __call__(self, *args, **kwargs):
        self.calls += 1
        self.started.set()
        self.release.wait(60)
        return self.fn(*args, **kwargs)


async def started(hold: Hold, timeout: float = 60) -> None:
    await asyncio.wait_for(asyncio.to_thread(hold.started.wait, timeout), timeout)


def run(coro):
    return asyncio.run(coro)


def client(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test", timeout=120)


# --------------------------------------------------------------------------- tokens


def test_tokens_only_in_the_authorization_header(base, tmp_path):
    from fastapi.testclient import TestClient

    app, _, token = make_app(base, tmp_path, dashboard=True)
    with TestClient(app, raise_server_exceptions=False) as c:
        path = "/api/v1/watchlists/chips/items/smic"
        problem(c.put(path, params={"token": token}), 401)  # a token in the URL ends up in logs and history
        problem(c.put(path, data={"token": token}), 401)
        assert c.put(path, headers=auth(token)).status_code == 200
        r = c.post("/org/smic/watch", data={"name": "fabs", "token": token}, follow_redirects=False)
        assert r.status_code == 401  # the dashboard's form field is not read either
        r = c.post("/org/smic/watch", data={"name": "fabs"}, headers=auth(token), follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/watchlists/fabs"
        page = c.get("/org/smic").text
        assert 'name="token"' not in page and "data-token" in page and "data-auth" in page
        spec = c.get("/openapi.json").json()
        params = [p["name"] for ops in spec["paths"].values() for op in ops.values() for p in op.get("parameters", [])]
        assert "token" not in params


# --------------------------------------------------------------------------- the report


def test_report_needs_a_token_and_a_title_only_rerenders(base, tmp_path, monkeypatch):
    pytest.importorskip("hardtech.presentation.report.paper")
    import hardtech.presentation.report.build as build

    collect = Hold(build.collect)
    collect.release.set()
    monkeypatch.setattr(build, "collect", collect)
    app, _, token = make_app(base, tmp_path, worker_processes=False)  # threads: the counter sees the calls

    async def go():
        async with client(app) as c:
            assert (await c.get("/api/v1/report")).status_code == 401
            assert (await c.get("/api/v1/report", params={"token": token})).status_code == 401
            a = await c.get("/api/v1/report", params={"title": "First title"}, headers=auth(token))
            b = await c.get("/api/v1/report", params={"title": "Second title"}, headers=auth(token))
            again = await c.get("/api/v1/report", params={"title": "First title"}, headers=auth(token))
            return a, b, again

    a, b, again = run(go())
    assert a.status_code == b.status_code == again.status_code == 200
    assert "First title" in a.text and "Second title" in b.text and "First title" not in b.text
    assert collect.calls == 1  # one analysis of this store state; the titles are only rendered
    assert again.content == a.content


# --------------------------------------------------------------------------- bounded pools


def test_a_full_jobs_pool_answers_429_and_reads_go_on(base, tmp_path, monkeypatch):
    pytest.importorskip("hardtech.presentation.report.paper")
    import hardtech.presentation.report.build as build

    hold = Hold(build.collect)
    monkeypatch.setattr(build, "collect", hold)
    app, _, token = make_app(base, tmp_path, job_workers=1, job_queue=0, worker_processes=False)

    async def go():
        async with client(app) as c:
            first = asyncio.create_task(c.get("/api/v1/report", params={"title": "a"}, headers=auth(token)))
            await started(hold)
            full = await c.get("/api/v1/report", params={"title": "b"}, headers=auth(token))
            reads = await asyncio.wait_for(asyncio.gather(
                c.get("/api/v1/organizations", params={"q": "chip"}),
                c.get("/api/v1/organizations/huawei"),
                c.get("/api/v1/organizations/aggregate", params={"by": "city"})), 60)
            still_running = not first.done()
            hold.release.set()
            return full, reads, still_running, await first

    full, reads, still_running, first = run(go())
    problem(full, 429)
    assert int(full.headers["retry-after"]) >= 1
    assert still_running and all(r.status_code == 200 for r in reads)  # answered while the report was held
    assert first.status_code == 200


def test_a_full_reads_pool_answers_429_but_never_for_a_cached_answer(base, tmp_path, monkeypatch):
    from hardtech.services import search

    app, _, _ = make_app(base, tmp_path, read_workers=1, read_queue=0, worker_processes=False)
    hold = Hold(search.org_profile)

    async def go():
        async with client(app) as c:
            cached = await c.get("/api/v1/organizations", params={"q": "chip"})
            monkeypatch.setattr(search, "org_profile", hold)
            first = asyncio.create_task(c.get("/api/v1/organizations/huawei"))
            await started(hold)
            same = asyncio.create_task(c.get("/api/v1/organizations/huawei"))  # joins the running computation
            other = await c.get("/api/v1/organizations/smic")
            again = await c.get("/api/v1/organizations", params={"q": "chip"})
            hold.release.set()
            return cached, other, again, await first, await same

    cached, other, again, first, same = run(go())
    problem(other, 429)
    assert int(other.headers["retry-after"]) >= 1
    assert again.status_code == 200 and again.content == cached.content
    assert first.status_code == same.status_code == 200 and first.content == same.content
    assert hold.calls == 1


# --------------------------------------------------------------------------- writes and reads


def test_reads_do_not_wait_behind_a_write(base, tmp_path, monkeypatch):
    import hardtech.store.importer as importer

    hold = Hold(importer.import_file)
    monkeypatch.setattr(importer, "import_file", hold)
    app, _, token = make_app(base, tmp_path, worker_processes=False)
    data = b"org_id,kind,name_en,country,city\nheld-import,startup,Held Import Co,CN,Xi'an\n"

    async def go():
        async with client(app) as c:
            before = await c.get("/api/v1/organizations", params={"q": "Held Import"})
            write = asyncio.create_task(c.post("/api/v1/imports/organizations", headers=auth(token),
                                               params={"source": "server test (synthetic)"},
                                               files={"file": ("o.csv", data, "text/csv")}))
            await started(hold)
            reads = await asyncio.wait_for(asyncio.gather(
                c.get("/api/v1/organizations", params={"q": "never asked before"}),
                c.get("/api/v1/organizations/smic"),
                c.get("/api/v1/watchlists")), 60)
            still_writing = not write.done()
            hold.release.set()
            done = await write
            fresh = await c.get("/api/v1/organizations", params={"q": "Held Import"},
                                headers={"Cache-Control": "no-cache"})
            return before, reads, still_writing, done, fresh

    before, reads, still_writing, done, fresh = run(go())
    assert still_writing and all(r.status_code == 200 for r in reads)
    assert done.status_code == 200, done.text
    assert before.json()["total"] == 0 and fresh.json()["total"] == 1


def test_after_a_change_the_last_answer_is_served_while_the_new_one_is_computed(base, tmp_path):
    from fastapi.testclient import TestClient

    app, _, token = make_app(base, tmp_path)
    data = b"org_id,kind,name_en,country,city\nstale-check,startup,Stale Check Co,CN,Xi'an\n"
    with TestClient(app, raise_server_exceptions=False) as c:
        first = c.get("/api/v1/organizations", params={"city": "西安", "limit": 1})
        assert first.status_code == 200 and "x-hardtech-stale" not in first.headers
        r = c.post("/api/v1/imports/organizations", headers=auth(token), params={"source": "server test (synthetic)"},
                   files={"file": ("o.csv", data, "text/csv")})
        assert r.status_code == 200, r.text
        stale = c.get("/api/v1/organizations", params={"city": "西安", "limit": 1})
        assert stale.headers.get("x-hardtech-stale") == "1"
        assert stale.json()["total"] == first.json()["total"]
        fresh = c.get("/api/v1/organizations", params={"city": "西安", "limit": 1}, headers={"Cache-Control": "no-cache"})
        assert "x-hardtech-stale" not in fresh.headers and fresh.json()["total"] == first.json()["total"] + 1
        assert fresh.headers["x-hardtech-state"] != first.headers["x-hardtech-state"]


def test_cli_writes_work_while_the_server_reads(base, tmp_path):
    """`hardtech token create` in another process, three times, while requests that open the store keep coming."""
    from fastapi.testclient import TestClient

    app, db, _ = make_app(base, tmp_path)
    stop = threading.Event()
    errors: list[str] = []
    served = [0]

    with TestClient(app, raise_server_exceptions=False) as c:
        def reader():
            i = 0
            while not stop.is_set():
                i += 1
                r = c.get("/api/v1/organizations", params={"q": f"nothing like this {i}"})
                served[0] += 1
                if r.status_code != 200:
                    errors.append(f"{r.status_code} {r.text[:200]}")

        threads = [threading.Thread(target=reader) for _ in range(2)]
        for t in threads:
            t.start()
        env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
        try:
            outs = [subprocess.run([sys.executable, "-m", "hardtech", "token", "create", f"cli-{k}", "--db", str(db),
                                    "-f", "json"], capture_output=True, text=True, env=env, timeout=120)
                    for k in range(3)]
        finally:
            stop.set()
            for t in threads:
                t.join(60)
        for o in outs:
            assert o.returncode == 0, o.stderr[-2000:]
        new_token = outs[-1].stdout.split('"token": "')[1].split('"')[0]
        r = c.put("/api/v1/watchlists/cli/items/smic", headers=auth(new_token))
        assert r.status_code == 200, r.text  # the server sees what the CLI wrote
        revoked = subprocess.run([sys.executable, "-m", "hardtech", "token", "revoke", "cli-2", "--db", str(db)],
                                 capture_output=True, text=True, env=env, timeout=120)
        assert revoked.returncode == 0, revoked.stderr[-2000:]
        problem(c.put("/api/v1/watchlists/cli/items/huawei", headers=auth(new_token)), 401)  # at once
    assert served[0] > 3 and not errors


# --------------------------------------------------------------------------- error bodies


def test_no_paths_in_error_bodies(base, tmp_path):
    from fastapi.testclient import TestClient

    from hardtech.presentation.api.errors import scrub_paths

    app, db, token = make_app(base, tmp_path, dashboard=True)
    tmp = tempfile.gettempdir()
    with TestClient(app, raise_server_exceptions=False) as c:
        bodies = [
            c.post("/api/v1/imports/organizations", headers=auth(token),
                   files={"file": ("x.parquet", b"this is not parquet", "application/octet-stream")}),
            c.post("/api/v1/screening", headers=auth(token),
                   files={"file": ("a.jsonl", b"{not json\n", "application/json")}),
            c.post("/screening", headers=auth(token), files={"file": ("a.parquet", b"junk", "application/x")}),
        ]
    for r in bodies:
        assert 400 <= r.status_code < 500, r.text
        assert tmp not in r.text and "hardtech-upload-" not in r.text and str(db.parent) not in r.text, r.text
    assert scrub_paths(f"cannot read {tmp}/hardtech-upload-x1/upload.csv: bad; see /api/v1/report") == \
        "cannot read upload.csv: bad; see /api/v1/report"


# --------------------------------------------------------------------------- snapshots


def test_snapshots_follow_the_store_and_go_when_unused(tmp_path):
    from hardtech.store.connection import Store
    from hardtech.store.snapshot import Snapshots

    db = tmp_path / "s.duckdb"
    Store(db).close()
    snaps = Snapshots(db, retry_s=0)
    with snaps.lease() as first:
        assert first.path != db and first.path.exists()
        with Store(db) as s:  # a write by someone else while the snapshot is read
            s.con.execute("INSERT INTO watchlists VALUES ('w', 'o', now(), NULL, NULL)")
        assert snaps.changed() and snaps.renew()
        with snaps.lease() as second:
            assert second.state != first.state
            with Store(second.path, read_only=True) as s:
                assert s.count("watchlists") == 1
        assert first.path.exists()  # still read: kept
    assert not first.path.exists()  # retired and unread: deleted
    snaps.close()
    assert not second.path.exists()


# --------------------------------------------------------------------------- /docs


def test_docs_work_offline_under_the_csp(base, tmp_path):
    """/docs links only files of this server, runs no inline script, and those files are Swagger UI's."""
    import importlib.util
    import re

    from fastapi.testclient import TestClient

    if importlib.util.find_spec("fastapi_offline") is None:
        msg = "fastapi-offline (Swagger UI's files) is not installed: pip install -r requirements.lock"
        if os.environ.get("CI") == "true":
            pytest.fail(msg)
        pytest.skip(msg)
    app, _, _ = make_app(base, tmp_path)
    with TestClient(app) as c:
        page = c.get("/docs")
        assert page.status_code == 200 and "script-src 'self'" in page.headers["content-security-policy"]
        scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page.text, re.S)
        assert scripts and all('src="/' in attrs and not body.strip() for attrs, body in scripts)  # none inline
        links = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        assert links and all(u.startswith("/") and not u.startswith("//") for u in links)  # nothing from elsewhere
        for u in links:
            r = c.get(u)
            assert r.status_code == 200 and len(r.content) > 100, u
        assert b"SwaggerUIBundle" in c.get("/docs/assets/swagger-ui-bundle.js").content
        assert c.get("/docs/assets/..%2Fdocs.py").status_code == 404
        assert c.get("/openapi.json").status_code == 200


def test_a_profile_by_id_wins_over_a_name_or_alias(tmp_path):
    """`/organizations/xiaohongshu` was a 422 on the demo store with shared data: another organisation's name
    is "Xiaohongshu". An exact id is unambiguous and wins; a name shared by two stays a clear 422."""
    from hardtech.errors import UsageError
    from hardtech.services.data import import_file
    from hardtech.services.scoring import resolve_org
    from hardtech.store.connection import Store

    f = tmp_path / "o.csv"
    f.write_text("org_id,kind,name_en\nxiaohongshu,company,Xingin\nunicorn:Xiaohongshu,startup,Xiaohongshu\n"
                 "other,company,Xiaohongshu\n", encoding="utf-8")
    db = tmp_path / "s.duckdb"
    import_file(db, "organizations", f, source="test (synthetic)", synthetic=True)
    with Store(db, read_only=True) as s:
        assert resolve_org(s, "xiaohongshu") == "xiaohongshu"
        with pytest.raises(UsageError, match="several"):
            resolve_org(s, "Xiaohongshu")  # a name two organisations share (not an id): still ambiguous
