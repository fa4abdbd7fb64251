"""Every dashboard page escapes every value a user can write, from one hostile fixture.

The fixture writes a payload into every free-text column of an organisation (uploaded through the
API's import, as a user would), its financials' source, note and currency (a store from before the import's currency
check), a region's names, a watchlist note (API
and dashboard form), the cells of an uploaded screening file and the header of one it refuses (its error
names the columns found). Each payload names the field it sits in, so a failure says which field on which
page came out raw. The pages are read from the application's route
table (every GET route outside the API and static files), each visited in both languages, plain and
with hostile query values, so a page added tomorrow is checked without editing this file.
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
from pathlib import Path

import pytest

from guard_support import app_routes

ORG = "guard-hostile"
ORG_ZH = "guard-hostile-zh"  # no English description: its page shows the Chinese one instead
# an organisation id is free text to the importer, and list pages put it in a link's path: one id is hostile too
# (no slash: a path segment), so a link printed without escaping shows its tag live
ORG_ID = "guard-hostile-id\"'><img src=x onerror=alert('organizations.org_id')>"
REGION = "guardrg"  # the hostile region's alias: a region name is asked for in at most 8 characters
LIST = "guard list"
FIN_YEARS = (2020, 2021, 2022)  # the hostile organisation's financial years
NOT_PAGES = ("/api/", "/static/", "/openapi", "/docs", "/redoc", "/health")
RAW = ("<script>alert(", "<img src=x")  # a payload's tags, live; escaped text may still read "onerror="


def payload(field: str) -> str:
    """Breaks out of text, of a double- or single-quoted attribute, and of an inline script."""
    return f"\"'><script>alert(\"{field}\")</script><img src=x onerror=alert('{field}')>"


def escaped_marker(field: str) -> str:
    """How the payload's script tag reads once Jinja2 (or markupsafe) escaped it."""
    return f"&lt;script&gt;alert(&#34;{field}&#34;)"


def raw_hits(body: str) -> list[str]:
    """Each raw payload fragment in a body, with the field it came from."""
    hits = []
    for frag in RAW:
        for m in re.finditer(re.escape(frag), body, re.IGNORECASE):  # the importer upper-cases countries
            hits.append(body[max(0, m.start() - 40):m.end() + 40])
    return hits


# A demo store built beforehand (scripts/mutation.py builds it once for the template mutants, which leave the
# Python code and so the store unchanged): copied instead of built. The hostile data is still written per run.
PREBUILT = "HARDTECH_GUARD_DEMO_BASE"


def demo_store(tmp_path_factory, db: Path) -> None:
    """The demo store without ../shared at `db`: a copy of the session's demo base (built once, shared with the
    other tests that use it), or of a prebuilt one named by $HARDTECH_GUARD_DEMO_BASE."""
    from conftest import demo_base_path

    prebuilt = os.environ.get(PREBUILT)
    if prebuilt and not Path(prebuilt).is_file():
        raise FileNotFoundError(f"${PREBUILT} names no file: {prebuilt}")
    shutil.copyfile(Path(prebuilt) if prebuilt else demo_base_path(tmp_path_factory), db)


def _csv(rows: list[list]) -> bytes:
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    return buf.getvalue().encode("utf-8")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The demo store plus the hostile data, written through the API as a user would; a read-write server."""
    from fastapi.testclient import TestClient

    from hardtech.presentation.api import create_app
    from hardtech.services.tokens import create_token
    from hardtech.schema import table

    db = tmp_path_factory.mktemp("guard-escaping") / "hardtech.duckdb"
    demo_store(tmp_path_factory, db)
    token = create_token(db, "guard")["token"]
    auth = {"Authorization": f"Bearer {token}"}
    app = create_app(db, read_only=False)
    client = TestClient(app, raise_server_exceptions=False)
    client.__enter__()

    # every free-text column of an organisation (choices, the id and the country, which import checks against
    # ISO 3166 and refuses otherwise, excepted)
    text_cols = [c.name for c in table("organizations").columns
                 if (c.type == "VARCHAR" or c.is_list) and not c.choices and c.name not in ("org_id", "country")]
    header = ["org_id", "kind", "country", *text_cols]
    row = [ORG, "startup", "CN", *[payload(f"organizations.{c}") for c in text_cols]]
    written = {f"organizations.{c}" for c in text_cols}

    def upload(tbl: str, data: bytes, source: str) -> None:
        r = client.post(f"/api/v1/imports/{tbl}", headers=auth, params={"source": source},
                        files={"file": (f"{tbl}.csv", data, "text/csv")})
        assert r.status_code == 200, r.text
        assert r.json()["tables"][0]["inserted"] >= 1, r.text

    row_zh = [ORG_ZH, "startup", "CN", *["" if c == "description_en" else payload(f"organizations.{c}")
                                          for c in text_cols]]
    # the hostile-id organisation sits in the hostile region (its alias as its city), so that region has a firm and
    # leads factors of the comparison, whose "leads" column then names it
    row_id = [ORG_ID, "startup", "CN", *[REGION if c == "city" else payload(f"organizations.{c}") for c in text_cols]]
    upload("organizations", _csv([header, row, row_zh, row_id]), "guard fixture (synthetic)")
    fin = [["org_id", "fiscal_year", "currency", "revenue", "rd_expense", "employees", "rd_staff",
            "invention_patents", "note"]]
    fin += [[org, y, "CNY", 500_000_000, 60_000_000, 400, 120, 12, payload("financials.note")]
            for org in (ORG, ORG_ID) for y in FIN_YEARS]
    # the second organisation's figures of a year before the first's (so the first keeps its score and its ranking: a
    # ranking of a year with an unknown currency in its scope is refused) ...
    fin += [[ORG_ZH, min(FIN_YEARS) - 1, "CNY", 500_000_000, 60_000_000, 400, 120, 12, ""]]
    # ... and a hostile currency, which is no ISO 4217 code: the import refuses its row, naming line and column
    fin += [[ORG_ZH, min(FIN_YEARS) - 2, payload("financials.currency"), 500_000_000, 60_000_000, 400, 120, 12, ""]]
    r = client.post("/api/v1/imports/financials", headers=auth, params={"source": payload("financials.source_name")},
                    files={"file": ("financials.csv", _csv(fin), "text/csv")})
    assert r.status_code == 200, r.text
    assert [(x["line"], x["column_name"], x["value"]) for x in r.json()["rejects"]] == [
        (len(fin), "currency", payload("financials.currency").upper())], r.text
    # a store written before that check may still hold one: the accepted row gets it as such a store would have it
    import duckdb

    with duckdb.connect(str(db)) as con:
        con.execute("UPDATE financials SET currency = ? WHERE org_id = ? AND fiscal_year = ?",
                    [payload("financials.currency"), ORG_ZH, min(FIN_YEARS) - 1])
    rounds = [["round_id", "org_id", "org_name", "date", "stage", "amount", "currency", "investors"],
              ["guard-r1", ORG, payload("funding_rounds.org_name"), "2022-03-01", "A轮", "50000000", "CNY",
               payload("funding_rounds.investors")]]
    upload("funding_rounds", _csv(rounds), "guard fixture (synthetic)")
    written |= {"financials.note", "financials.source_name", "financials.currency", "funding_rounds.org_name",
                "funding_rounds.investors"}
    # a region of one's own (the regions table is imported like any other): its names head the comparison's columns
    regions = [["region_id", "name_en", "name_zh", "aliases", "level", "parent_id", "country"],
               ["guard-region", payload("regions.name_en"), payload("regions.name_zh"), REGION, "city", "CN", "CN"]]
    upload("regions", _csv(regions), "guard fixture (synthetic)")
    written |= {"regions.name_en", "regions.name_zh"}

    r = client.put(f"/api/v1/watchlists/{LIST}/items/{ORG}", headers=auth, json={"note": payload("watchlist.note")})
    assert r.status_code == 200, r.text
    r = client.post("/org/huawei/watch", headers=auth, follow_redirects=False,
                    data={"name": LIST, "note": payload("watch_form.note")})
    assert r.status_code == 303, r.text
    written |= {"watchlist.note", "watch_form.note"}

    applicants = _csv([["name", "description", "revenue", "rd_expense", "invention_patents"],
                       [payload("upload.name"), "Photonic chip foundry: silicon photonics and wafer-level packaging "
                        + payload("upload.description"), 1_000_000, 300_000, 5]])
    posted = client.post("/screening", headers=auth, files={"file": ("applicants.csv", applicants, "text/csv")},
                         follow_redirects=False)
    assert posted.status_code == 303, posted.text  # the upload answers with a redirect to its result page
    SCREENING_ID["rid"] = posted.headers["location"].rsplit("/", 1)[-1]
    screened = client.get(posted.headers["location"])
    assert screened.status_code == 200, screened.text
    api_screen = client.post("/api/v1/screening", headers=auth,
                             files={"file": ("applicants.csv", applicants, "text/csv")})
    assert api_screen.status_code == 200, api_screen.text
    written |= {"upload.name", "upload.description"}
    # a file the screening refuses: the page's error names the columns it found, i.e. the upload's header cells
    refused = client.post("/screening", headers=auth, follow_redirects=False,
                          files={"file": ("applicants.csv", _csv([[payload("upload.header"), "x"], ["a", "b"]]),
                                          "text/csv")})
    assert refused.status_code == 422, (refused.status_code, refused.text[-600:])
    written.add("upload.header")
    yield {"client": client, "app": app, "db": db, "auth": auth, "written": written,
           "extra_pages": {"GET /screening/{rid} (the upload's result)": screened,
                           "POST /screening (a refused upload's error)": refused,
                           "GET screening .html download": client.get(api_screen.json()["downloads"]["html"]),
                           **{f"GET /org/{ORG_ZH} ({lang})": client.get(f"/org/{ORG_ZH}", params={"lang": lang})
                              for lang in ("en", "zh")}}}
    client.__exit__(None, None, None)


# the id of the fixture's screening upload (its result page has the id in the path)
SCREENING_ID: dict[str, str] = {}


def pages(app) -> list[tuple[str, object]]:
    """Every dashboard page: the GET routes outside the API, static files and API docs."""
    out = []
    for path, methods, route in app_routes(app):
        if "GET" in methods and not path.startswith(NOT_PAGES) and path not in ("/openapi.json",):
            out.append((path, route))
    return out


def visits(path: str, route) -> list[tuple[str, dict]]:
    """URLs to fetch for one page: both languages, plain, with a hostile search and with every parameter hostile."""
    from hardtech.presentation.web.pages import FILTER_KEYS

    url = path.replace("{org_id}", ORG).replace("{name}", LIST).replace("{rid}", SCREENING_ID.get("rid", "{rid}"))
    assert "{" not in url, f"no hostile value for a path parameter of {path}: teach visits() about it"
    declared = {p.alias for p in getattr(route, "dependant", None).query_params} if hasattr(route, "dependant") else set()
    out = []
    for name, choices in enumerated_params(route).items():  # e.g. /flows?by=region groups by a written city
        out += [(url, {"lang": "en", name: choice}) for choice in choices]
    for lang in ("en", "zh"):
        out.append((url, {"lang": lang}))
        out.append((url, {"lang": lang, "q": ORG}))  # a list page filtered to the hostile organisation itself
        if "name" in declared:  # a page comparing places by name (/regions): the hostile region beside a real one,
            # asked for by its alias and by its hostile names (a name is echoed in the form once it is found)
            out.append((url, {"lang": lang, "name": [REGION, "西安"]}))
            out.append((url, {"lang": lang, "name": [payload("regions.name_en"), "西安"]}))
            out.append((url, {"lang": lang, "name": ["西安", payload("regions.name_zh")]}))
        if "scope" in declared:  # a scope that selects the hostile organisation (a hostile scope alone is refused)
            out.append((url, {"lang": lang, "scope": "city:" + payload("organizations.city"),
                              **({"year": max(FIN_YEARS)} if "year" in declared else {})}))
        out.append((url, {"lang": lang, "q": payload("query.q"), "city": payload("query.city")}))
        out.append((url, {"lang": lang, **{k: payload(f"query.{k}") for k in sorted(declared | set(FILTER_KEYS))}}))
    return out


def enumerated_params(route) -> dict[str, list[str]]:
    """Query parameters whose pattern lists the values allowed (`^(a|b|c)$`): each value can show other data."""
    out = {}
    for p in getattr(getattr(route, "dependant", None), "query_params", []):
        for meta in getattr(p.field_info, "metadata", []):
            m = re.fullmatch(r"\^\(([\w|]+)\)\$", str(getattr(meta, "pattern", "") or ""))
            if m:
                out[p.alias] = m.group(1).split("|")
    return out


def test_the_fixture_reaches_every_page_kind(site):
    found = {p for p, _ in pages(site["app"])}
    for known in ("/", "/search", "/org/{org_id}", "/rankings", "/regions", "/flows", "/screening", "/watchlists",
                  "/watchlists/{name}"):
        assert known in found, f"{known} is no longer a dashboard page: {sorted(found)}"


def test_no_page_shows_a_user_written_value_unescaped(site):
    client = site["client"]
    seen: dict[str, list[str]] = {}
    failures = []
    bodies = dict(site["extra_pages"])
    for path, route in pages(site["app"]):
        for url, params in visits(path, route):
            r = client.get(url, params=params)
            assert r.status_code < 500, f"{url} {params}: {r.status_code}"
            bodies[f"GET {url} {sorted(params.items())}"] = r  # each visit kept: the values tell them apart
    for where, r in bodies.items():
        body = r.text
        for hit in raw_hits(body):
            failures.append(f"{where}: …{hit}…")
        for field in re.findall(r"&lt;script&gt;alert\(&#34;([\w.]+)&#34;\)", body, re.IGNORECASE):
            seen.setdefault(field.lower(), []).append(where)
    assert not failures, "user-written values rendered as live HTML:\n" + "\n".join(failures[:20])
    scoped = [(k, r) for k, r in bodies.items() if "('scope', 'city:" in k]
    assert scoped, "no page with a `scope` parameter was visited scoped to the hostile organisation's city"
    for where, r in scoped:  # the scoped page is the page itself (its scope shown in its form), not an error
        assert r.status_code == 200 and escaped_marker("organizations.name_en") in r.text, f"{where}: {r.status_code}"
    # the check is not vacuous: each value the fixture wrote is shown (escaped) on some page, or is known not to be
    shown_nowhere = sorted(site["written"] - set(seen))
    assert set(shown_nowhere) <= NOT_SHOWN, f"values written but never displayed (escaped) anywhere: {shown_nowhere}"
    for field in ("organizations.name_en", "organizations.name_zh", "organizations.city", "organizations.description_zh",
                  "watchlist.note",
                  "watch_form.note", "upload.name", "upload.header", "financials.source_name", "financials.currency",
                  "query.q",
                  "regions.name_en", "regions.name_zh"):
        assert field in seen, f"{field} is displayed on no page; the escaping check would not see it"


# Columns the dashboard does not display at all (so no page can show them raw); listed so a change is noticed.
NOT_SHOWN = {
    "organizations.aliases", "organizations.exchange", "organizations.ticker",
    "organizations.industry_codes", "organizations.flags", "organizations.identifiers", "funding_rounds.org_name", "funding_rounds.investors",
    "upload.description",
}


def test_a_hostile_watchlist_name_is_refused_not_stored(site):
    client, auth = site["client"], site["auth"]
    bad = "<img src=x onerror=alert(1)>"  # no slash: a path segment
    r = client.put(f"/api/v1/watchlists/{bad}/items/{ORG}", headers=auth)
    assert r.status_code == 422 and "watchlist name" in r.json()["detail"]
    r = client.post(f"/org/{ORG}/watch", headers=auth, data={"name": bad, "note": ""}, follow_redirects=False)
    assert r.status_code == 422 and not raw_hits(r.text)
    names = [x["name"] for x in client.get("/api/v1/watchlists").json()["rows"]]
    assert names == [LIST]


def test_a_hostile_url_path_is_shown_escaped_on_every_page_and_error_page(site):
    """The request path is echoed (the language switch links back to it, error pages name the unknown id), so
    every page with a path parameter, and an unknown page, are visited with a hostile path segment."""
    client = site["client"]
    hostile = "\"'><img src=x onerror=alert('path')>"  # no slash: one path segment
    urls = ["/" + hostile, "/search/" + hostile]
    urls += [re.sub(r"{\w+(:[^}]*)?}", lambda m: hostile, path) for path, _ in pages(site["app"]) if "{" in path]
    assert len(urls) >= 4, urls  # the org, watchlist and screening pages take a path parameter
    failures = []
    for url in urls:
        for lang in ("en", "zh"):
            r = client.get(url, params={"lang": lang})
            assert r.status_code < 500, f"{url}: {r.status_code} {r.text[:200]}"
            failures += [f"{url} ({lang}, {r.status_code}): …{hit}…" for hit in raw_hits(r.text)]
            # shown escaped (an error page names it) or percent-encoded (the language switch links back to it)
            assert "&lt;img src=x" in r.text or "%3Cimg%20src%3Dx" in r.text, \
                f"{url} ({lang}): the hostile path is not shown at all; check not vacuous"
    assert not failures, "a URL path rendered as live HTML:\n" + "\n".join(failures[:20])


def test_a_link_to_an_organisation_reaches_it_whatever_its_id(site):
    """Ids are free text to the importer; the list pages' links percent-encode them, so '?', '#', quotes and
    spaces in an id neither break the link nor end its path early."""
    import html as html_lib
    from urllib.parse import unquote

    client = site["client"]
    body = client.get("/search", params={"q": ORG, "lang": "en"}).text
    hrefs = [html_lib.unescape(h) for h in re.findall(r'href="(/org/[^"]*)"', body)]
    target = [h for h in hrefs if unquote(h.split("?", 1)[0]) == "/org/" + ORG_ID]
    assert target, hrefs
    assert not any(c in target[0].split("?", 1)[0] for c in "\"'<> #"), target[0]
    page = client.get(target[0])
    assert page.status_code == 200 and "organizations.org_id" in html_lib.unescape(page.text)


def test_the_hostile_region_leads_a_factor_and_is_named_escaped_as_its_leader(site):
    """The comparison's last column names the region that leads each factor: the hostile region leads one, so its
    hostile name is printed there (escaped), not only in the column heads."""
    import html as html_lib

    client = site["client"]
    for lang, shown in (("en", payload("regions.name_en")), ("zh", payload("regions.name_zh"))):
        body = client.get("/regions", params={"lang": lang, "name": [REGION, "西安"]}).text
        table = body.split('id="compare"', 1)[1].split("</table>", 1)[0]
        leads = [html_lib.unescape(row.rsplit("<td>", 1)[-1].split("</td>", 1)[0])
                 for row in table.split("<tr>")[2:]]
        assert shown in leads, (lang, leads)
        assert not raw_hits(table), table[:400]
