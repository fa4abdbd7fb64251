"""REST API: filters, pagination, profiles, errors, tokens, watchlists, uploads, and the security cases.

The store is the bundled demo (built once per session, see `api_store`) plus two test organisations
with hostile names, flagged synthetic. Tests that write get their own copy of it.
"""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pytest

HOSTILE = "<script>alert(1)</script>"
# distinct applicants: screening counts two names with one org_id slug (`+1`, `-1` → `1`) as one applicant
FORMULAS = ['=HYPERLINK("http://x")', "+1", "-2", "@SUM(A1)"]


def api_store(tmp_path_factory) -> Path:
    """The demo store with a hostile-named organisation, built once per test session (shared by the API,
    schema and browser tests through the session's base temp folder)."""
    from hardtech.demo import build_demo_store
    from hardtech.services.data import import_file

    db = tmp_path_factory.getbasetemp() / "api-store" / "hardtech.duckdb"
    if db.exists():
        return db
    db.parent.mkdir(parents=True, exist_ok=True)
    from conftest import demo_base_path

    build_demo_store(db, shared=None, base=demo_base_path(tmp_path_factory))
    orgs = db.parent / "hostile.csv"
    with orgs.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["org_id", "kind", "name_en", "country", "city", "description_en"])
        w.writerow(["hostile-xss", "startup", HOSTILE, "CN", "Xi'an", f"test fixture {HOSTILE} <img src=x onerror=alert(2)>"])
        w.writerow(["hostile-formula", "startup", FORMULAS[0], "CN", "Hangzhou", "test fixture with a formula name"])
    import_file(db, "organizations", orgs, source="test fixture (synthetic)", synthetic=True)
    return db


def writable_copy(src: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    dst = folder / "hardtech.duckdb"
    shutil.copy(src, dst)
    return dst


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    return api_store(tmp_path_factory)


@pytest.fixture(scope="module")
def client(db):
    from fastapi.testclient import TestClient

    from hardtech.presentation.api import create_app

    with TestClient(create_app(db, read_only=True), raise_server_exceptions=False) as c:
        yield c


@pytest.fixture(scope="module")
def writer(tmp_path_factory, db):
    """A write-enabled server on a copy of the store, small upload limits, and a valid token."""
    from fastapi.testclient import TestClient

    from hardtech.presentation.api import create_app
    from hardtech.services.tokens import create_token, revoke_token

    wdb = writable_copy(db, tmp_path_factory.mktemp("api-writes"))
    token = create_token(wdb, "tester")["token"]
    revoked = create_token(wdb, "gone")["token"]
    revoke_token(wdb, "gone")
    app = create_app(wdb, read_only=False, max_upload_bytes=20_000, max_upload_rows=50)
    with TestClient(app, raise_server_exceptions=False) as c:
        c.token = token
        c.revoked = revoked
        c.db = wdb
        yield c


def auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def problem(r, status: int) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["status"] == status and body["detail"]
    return body


# --------------------------------------------------------------------------- search and filters


def test_search_filters_and_pagination(client):
    r = client.get("/api/v1/organizations", params={"city": "西安", "limit": 200})
    assert r.status_code == 200
    body = r.json()
    assert body["total"] >= 10 and body["filters"] == {"city": "西安"}
    assert {o["city"] for o in body["items"]} == {"Xi'an"}
    ids = {o["org_id"] for o in body["items"]}
    assert "hostile-xss" in ids and len(ids) == body["total"]

    pages, offset = [], 0
    while True:
        page = client.get("/api/v1/organizations", params={"city": "Xi'an", "limit": 7, "offset": offset}).json()
        pages += [o["org_id"] for o in page["items"]]
        offset += 7
        if offset >= page["total"]:
            break
    assert len(pages) == len(set(pages)) == body["total"] and set(pages) == ids

    ai = client.get("/api/v1/organizations", params={"field": "ai", "country": "cn", "limit": 200}).json()
    assert ai["total"] > 0 and all("ai" in o["fields"] and o["country"] == "CN" for o in ai["items"])

    scored = client.get("/api/v1/organizations", params={"score_min": 50, "score_max": 90, "limit": 200}).json()
    assert scored["total"] > 0 and all(50 <= o["score"] <= 90 for o in scored["items"])
    by_score = [o["score"] for o in scored["items"]]
    assert by_score == sorted(by_score, reverse=True)

    q = client.get("/api/v1/organizations", params={"q": "华为"}).json()
    assert "huawei" in [o["org_id"] for o in q["items"]]


def test_aggregate_shares_the_filter_syntax(client):
    params = {"city": "杭州", "typology": "hard_core"}
    total = client.get("/api/v1/organizations", params=params).json()["total"]
    agg = client.get("/api/v1/organizations/aggregate", params={**params, "by": "country"}).json()
    assert total > 0 and sum(r["organisations"] for r in agg["rows"]) == total
    assert agg["filters"] == params


@pytest.mark.parametrize("params, words", [
    ({"field": "nope"}, ["unknown field 'nope'", "aerospace"]),
    ({"typology": "soft"}, ["unknown typology 'soft'", "hard_core"]),
    ({"star": "maybe"}, ["unknown STAR verdict 'maybe'"]),
    ({"country": "CHINA"}, ["country"]),
    ({"score_min": 80, "score_max": 20}, ["score_min 80", "above score_max"]),
    ({"score_min": 101}, ["score_min"]),
    ({"sort": "rank"}, ["sort"]),
    ({"limit": 0}, ["limit"]),
])
def test_bad_filters_are_422_with_a_clear_message(client, params, words):
    body = problem(client.get("/api/v1/organizations", params=params), 422)
    for w in words:
        assert w in body["detail"]


def test_star_filter(client):
    r = client.get("/api/v1/organizations", params={"star": "insufficient data", "kind": "company",
                                                    "with_star": "true", "limit": 5}).json()
    assert r["total"] > 0 and all(o["star_verdict"] == "insufficient data" for o in r["items"])


# --------------------------------------------------------------------------- profile and analytics


def test_profile_explains_the_score(client):
    r = client.get("/api/v1/organizations/huawei")
    assert r.status_code == 200
    p = r.json()
    assert p["organization"]["name_en"] == "Huawei"
    cls = p["classification"]
    assert cls["fields"] and cls["evidence"] and cls["typology"]
    assert {x["field"] for x in cls["field_probabilities"] if x["selected"]} == set(cls["fields"])
    h = p["hardness"]
    assert h["available"] and 0 <= h["score"] <= 100
    assert sum(x["contribution"] or 0 for x in h["parts"]) == pytest.approx(h["score"], abs=0.01)
    assert all("inputs" in x for x in h["parts"])
    assert p["star"]["available"] and p["star"]["verdict"] and p["star"]["details"]
    assert p["financials"] and all(f["source_name"] for f in p["financials"])
    assert client.get("/api/v1/organizations/huawei").content == r.content  # served from the cache


def test_profile_of_unknown_org_is_404(client):
    body = problem(client.get("/api/v1/organizations/no-such-org"), 404)
    assert "no-such-org" in body["detail"]


def test_rankings_regions_flows_match(client):
    rk = client.get("/api/v1/rankings", params={"country": "CN", "top": 5}).json()
    assert rk["rows"] and len(rk["rows"]) <= 5 and all(r["country"] == "CN" for r in rk["rows"])
    assert rk["year"] == max(rk["years"])
    cmp = client.get("/api/v1/regions/compare", params=[("name", "西安"), ("name", "杭州")]).json()
    assert set(cmp["regions"]) == {"西安", "杭州"}
    assert cmp["regions"]["西安"]["region"]["name_en"] == "Xi'an" and cmp["leaders"]
    assert client.get("/api/v1/regions").json()["rows"]
    assert client.get("/api/v1/flows").status_code == 200
    problem(client.get("/api/v1/regions/compare", params={"name": "西安"}), 422)
    problem(client.get("/api/v1/match/startups/no-such-org"), 404)


def test_openapi_and_meta(client):
    spec = client.get("/openapi.json").json()
    assert "/api/v1/organizations" in spec["paths"] and "/api/v1/organizations/{org_id}" in spec["paths"]
    meta = client.get("/api/v1").json()
    assert meta["read_only"] is True and "ai" in meta["filters"]["field"]
    # the index lists every API path the schema documents (the routers' routes too, not only the app's own)
    documented = {p for p in spec["paths"] if p.startswith("/api/v1")}
    assert documented and documented <= set(meta["endpoints"]), sorted(documented - set(meta["endpoints"]))
    assert all(p.startswith("/api/v1") for p in meta["endpoints"])


def test_report_endpoint(client, writer):
    pytest.importorskip("hardtech.presentation.report.paper")
    problem(client.get("/api/v1/report", params={"lang": "en"}), 401)  # tens of seconds of CPU: a token's
    r = client.get("/api/v1/report", params={"lang": "en"}, headers=auth(writer.token))
    problem(r, 401)  # a token of another store
    r = writer.get("/api/v1/report", params={"lang": "en"}, headers=auth(writer.token))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert b"<html" in r.content[:500].lower()


# --------------------------------------------------------------------------- security


def test_hostile_name_is_escaped_in_every_page(client):
    for path in ("/search?city=西安&sort=name&q=script", "/org/hostile-xss", "/?city=西安"):
        r = client.get(path)
        assert r.status_code == 200, path
        assert HOSTILE not in r.text and "<img src=x" not in r.text, path
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in client.get("/search?q=script").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in client.get("/org/hostile-xss").text
    assert "script-src 'self'" in client.get("/").headers["content-security-policy"]
    assert client.get("/api/v1/organizations/hostile-xss").json()["organization"]["name_en"] == HOSTILE


def test_writes_need_a_token(writer, client):
    path = "/api/v1/watchlists/chips/items/smic"
    r = writer.put(path)
    problem(r, 401)
    assert r.headers["www-authenticate"].startswith("Bearer")
    problem(writer.put(path, headers=auth("ht_not-a-real-token")), 401)
    problem(writer.put(path, headers=auth(writer.revoked)), 401)
    problem(writer.put(path, headers={"Authorization": "Basic abc"}), 401)
    body = problem(client.put(path, headers=auth(writer.token)), 403)  # read-only server: refused even with a token
    assert "read-only" in body["detail"]


def test_token_is_stored_hashed(writer):
    from hardtech.store.connection import Store

    with Store(writer.db, read_only=True) as s:
        stored = [r[0] for r in s.con.execute("SELECT token_hash FROM api_tokens").fetchall()]
    assert stored and all(h.startswith("sha256:") for h in stored)
    assert writer.token not in stored and all(writer.token not in h for h in stored)


def test_watchlists_round_trip(writer):
    h = auth(writer.token)
    r = writer.put("/api/v1/watchlists/chips/items/smic", headers=h, json={"note": "fab"})
    assert r.status_code == 200, r.text
    assert writer.put("/api/v1/watchlists/chips/items/huawei", headers=h).status_code == 200
    assert [x["name"] for x in writer.get("/api/v1/watchlists").json()["rows"]] == ["chips"]
    items = writer.get("/api/v1/watchlists/chips").json()["rows"]
    assert {i["org_id"] for i in items} == {"smic", "huawei"} and items[0]["note"] == "fab"
    assert items[0]["added_by"] == "tester"
    assert writer.get("/api/v1/organizations/smic").json()["watchlists"] == ["chips"]
    problem(writer.put("/api/v1/watchlists/chips/items/no-such-org", headers=h), 404)
    assert writer.delete("/api/v1/watchlists/chips/items/smic", headers=h).status_code == 200
    assert [i["org_id"] for i in writer.get("/api/v1/watchlists/chips").json()["rows"]] == ["huawei"]
    assert writer.delete("/api/v1/watchlists/chips", headers=h).json()["removed"] == 1
    problem(writer.get("/api/v1/watchlists/chips"), 404)


def _applicants_csv(names: list[str]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["name", "description", "revenue", "rd_expense", "invention_patents"])
    for i, n in enumerate(names):
        w.writerow([n, "Photonic chip foundry: silicon photonics lithography and wafer-level packaging for lidar",
                    1_000_000 * (i + 1), 300_000, 5 + i])
    return buf.getvalue().encode("utf-8")


def test_screening_upload_neutralises_formulas(writer):
    from openpyxl import load_workbook

    data = _applicants_csv(FORMULAS + [HOSTILE])
    r = writer.post("/api/v1/screening", headers=auth(writer.token), files={"file": ("applicants.csv", data, "text/csv")})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["applicants"] == 5 and {x["name"] for x in body["rows"]} == set(FORMULAS + [HOSTILE])
    assert [x["rank"] for x in body["rows"]] == [1, 2, 3, 4, 5]

    text = writer.get(body["downloads"]["csv"]).text
    names = [row["name"] for row in csv.DictReader(io.StringIO(text))]
    assert sorted(names) == sorted(["'" + n for n in FORMULAS] + [HOSTILE])

    x = writer.get(body["downloads"]["xlsx"])
    assert x.status_code == 200 and x.headers["content-type"].startswith("application/vnd.openxmlformats")
    ws = load_workbook(io.BytesIO(x.content)).active
    cells = [c for row in ws.iter_rows(min_row=2) for c in row]
    assert not any(c.data_type == "f" for c in cells)
    xl_names = [ws.cell(row=i, column=2).value for i in range(2, ws.max_row + 1)]
    assert sorted(xl_names) == sorted(["'" + n for n in FORMULAS] + [HOSTILE])

    html = writer.get(body["downloads"]["html"]).text
    assert HOSTILE not in html and "&lt;script&gt;" in html
    problem(writer.get("/api/v1/screening/unknown-id.csv"), 404)


def test_upload_limits_are_413(writer):
    h = auth(writer.token)
    big = _applicants_csv(["x" * 200] * 200)  # > 20,000 bytes
    body = problem(writer.post("/api/v1/screening", headers=h, files={"file": ("a.csv", big, "text/csv")}), 413)
    assert "20,000 bytes" in body["detail"]
    many = b"name,description\n" + b"".join(b"a%d,b\n" % i for i in range(60))  # small, but 60 rows > 50
    body = problem(writer.post("/api/v1/screening", headers=h, files={"file": ("a.csv", many, "text/csv")}), 413)
    assert "60 rows" in body["detail"] and "at most 50" in body["detail"]
    problem(writer.post("/api/v1/screening", files={"file": ("a.csv", b"name,description\na,b\n", "text/csv")}), 401)
    body = problem(writer.post("/api/v1/screening", headers=h, files={"file": ("a.exe", b"MZ", "application/x-foo")}), 422)
    assert ".exe" in body["detail"]


def test_import_upload_never_takes_a_path(writer):
    h = auth(writer.token)
    data = b"org_id,kind,name_en,country,city\nupload-test,startup,Upload Test Co,CN,Xi'an\n"
    body = problem(writer.post("/api/v1/imports/organizations", headers=h, params={"mapping": "../../etc/passwd"},
                               files={"file": ("../../x.csv", data, "text/csv")}), 422)
    assert "unknown mapping" in body["detail"]
    r = writer.post("/api/v1/imports/organizations", headers=h, params={"source": "api test (synthetic)"},
                    files={"file": ("../../x.csv", data, "text/csv")})
    assert r.status_code == 200, r.text
    assert r.json()["tables"][0]["inserted"] == 1
    assert writer.get("/api/v1/organizations/upload-test").json()["organization"]["name_en"] == "Upload Test Co"
    assert not Path("/x.csv").exists()


def test_token_cli(tmp_path, db):
    from typer.testing import CliRunner

    from hardtech.presentation.cli.app import app

    wdb = writable_copy(db, tmp_path)
    run = CliRunner().invoke
    r = run(app, ["token", "create", "ci-bot", "--db", str(wdb), "--format", "json"])
    assert r.exit_code == 0, r.output
    assert '"token": "ht_' in r.stdout
    r = run(app, ["token", "list", "--db", str(wdb), "--format", "csv"])
    assert "ci-bot" in r.stdout and "ht_" not in r.stdout
    assert run(app, ["token", "revoke", "ci-bot", "--db", str(wdb)]).exit_code == 0
    r = run(app, ["token", "revoke", "ci-bot", "--db", str(wdb)])
    assert r.exit_code == 2 and "already revoked" in r.output
    r = run(app, ["token", "frobnicate", "--db", str(wdb)])
    assert r.exit_code == 2 and "create, list or revoke" in r.output


# --------------------------------------------------------------------------- dashboard (server side)


def test_i18n_files_have_the_same_keys():
    from hardtech.presentation.web.i18n import strings

    s = strings()
    assert set(s["en"]) == set(s["zh"]) and all(s["zh"].values())


def test_dashboard_pages_render_in_both_languages(client):
    for path in ("/", "/search", "/org/huawei", "/rankings", "/regions", "/flows", "/screening", "/watchlists"):
        en = client.get(path, params={"lang": "en"})  # the zh request before set the cookie
        zh = client.get(path, params={"lang": "zh"})
        assert en.status_code == zh.status_code == 200, path
        assert 'lang="zh-CN"' in zh.text and 'lang="en"' in en.text
    zh = client.get("/regions", params={"lang": "zh"})
    assert "区域对比" in zh.text and zh.cookies.get("lang") == "zh"
    assert "基础研究" in zh.text and "Basic research" not in zh.text  # the scorecard's factors too
    client.cookies.set("lang", "zh")  # the language cookie alone picks Chinese
    try:
        assert "评分解释" in client.get("/org/huawei").text
    finally:
        client.cookies.set("lang", "en")
    missing = client.get("/org/no-such-org")
    assert missing.status_code == 404 and "no-such-org" in missing.text


def test_vega_bundle_is_served_locally(client):
    r = client.get("/static/vega.js")
    assert r.status_code == 200 and b"vegaEmbed" in r.content and len(r.content) > 100_000
    assert client.get("/static/vega.js", headers={"If-None-Match": r.headers["etag"]}).status_code == 304
    page = client.get("/").text
    assert 'src="/static/vega.js"' in page and "cdn" not in page.lower()


def test_dashboard_forms_send_empty_fields(client):
    r = client.get("/search", params={"q": "huawei", "field": "", "score_min": "", "star": "", "lang": "en"})
    assert r.status_code == 200 and "Huawei" in r.text
    bad = client.get("/search", params={"score_min": "lots", "lang": "en"})
    assert bad.status_code == 422 and "score_min must be a number" in bad.text


def test_score_inputs_show_years_as_years(client):
    from hardtech.presentation.web.pages import _input

    assert [_input(2014.0, "window_start"), _input(2000.0, "founded"), _input(471012841.0, "rd_expense"),
            _input(1.605, "intensity_standing"), _input(None, "capex")] == ["2014", "2000", "471,012,841", "1.605", "—"]
    html = client.get("/org/huawei", params={"lang": "en"}).text
    assert "window_start=2," not in html and "rd_first_year=2," not in html
