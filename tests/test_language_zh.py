"""Chinese pages carry no English but names and codes (issue 15): the white paper, every dashboard page, the API labels.

Each test renders from the demo store (bundled data, plus the funding rounds of ../shared when present)
and lists every Latin-letter run that is neither a name the store holds nor a code of
tests/zh_language.py. A failure prints the run and the text around it, so the missing translation is
found at once. The English pages are checked to be English too (a Chinese page that was simply the
English one would otherwise pass the name list by accident).
"""

from __future__ import annotations

import csv
import io
import re
import shutil

import pytest

from zh_language import english, name_runs

pytestmark = pytest.mark.slow  # builds a demo store copy and the Chinese white paper (about a minute each)


@pytest.fixture(scope="module")
def zh_db(tmp_path_factory, demo_base):
    from hardtech.demo import build_demo_store, default_shared

    db = tmp_path_factory.mktemp("zh-demo") / "hardtech.duckdb"
    build_demo_store(db, default_shared(), base=demo_base)
    return db


@pytest.fixture(scope="module")
def names(zh_db):
    return name_runs(zh_db)


def _report(bad: list[tuple[str, str]]) -> str:
    seen, lines = set(), []
    for run, text in bad:
        if (run, text) not in seen:
            seen.add((run, text))
            lines.append(f"  {run!r} in: {text}")
    return "English on a Chinese page:\n" + "\n".join(lines[:60])


def test_chinese_white_paper_has_no_english(zh_db, names, tmp_path):
    from hardtech.presentation.report.paper import write_report

    r = write_report(zh_db, tmp_path, "zh")
    html = r["html"].read_text(encoding="utf-8")
    assert "<h2>" in html and "硬科技" in html
    bad = english(html, names)
    assert not bad, _report(bad)


def test_chinese_white_paper_without_rounds_has_no_english(demo_base, tmp_path):
    """The store of a fresh clone (bundled data only, no funding rounds): the capital chapter explains what to import."""
    from hardtech.presentation.report.paper import write_report
    from hardtech.store.connection import Store

    db = tmp_path / "hardtech.duckdb"
    shutil.copy(demo_base, db)
    with Store(db) as s:
        s.con.execute("DELETE FROM funding_rounds")
    html = write_report(db, tmp_path / "out", "zh")["html"].read_text(encoding="utf-8")
    assert "funding_rounds" in html and "导入" in html
    bad = english(html, name_runs(db))
    assert not bad, _report(bad)


@pytest.fixture(scope="module")
def web(zh_db, tmp_path_factory):
    """A write-enabled dashboard on a copy of the demo store, a token, one watchlist and one screening upload."""
    from fastapi.testclient import TestClient

    from hardtech.presentation.api import create_app
    from hardtech.services.tokens import create_token

    db = tmp_path_factory.mktemp("zh-web") / "hardtech.duckdb"
    shutil.copy(zh_db, db)
    token = create_token(db, "language-test")["token"]
    with TestClient(create_app(db, read_only=False), raise_server_exceptions=False) as c:
        c.headers["Authorization"] = f"Bearer {token}"
        r = c.post("/org/huawei/watch", data={"name": "光子芯片", "note": ""}, follow_redirects=False)
        assert r.status_code == 303, r.text
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(["name", "description", "revenue", "rd_expense", "invention_patents"])
        w.writerow(["光子工坊", "自研硅光芯片与激光雷达模组", "1.2亿元", "3000万元", 7])
        w.writerow(["Photon Foundry", "Silicon photonics chips and lidar modules made in our own fab", 2_000_000, 500_000, 7])
        w.writerow(["Photon Foundry", "duplicate row", 2_000_000, 500_000, 7])
        r = c.post("/screening", files={"file": ("applicants.csv", buf.getvalue().encode(), "text/csv")},
                   follow_redirects=False)
        assert r.status_code == 303, r.text
        c.screening = r.headers["location"]
        c.applicants = {"Photon Foundry"}  # a name from the uploaded file, shown as written
        yield c


def _pages(zh_db, web) -> list[str]:
    from hardtech.store.connection import Store

    with Store(zh_db, read_only=True) as s:
        # one organisation of every kind, the best-scored company and start-up first (the richest profiles)
        orgs = [r[0] for r in s.con.execute(
            "SELECT org_id FROM (SELECT org_id, kind, row_number() OVER (PARTITION BY kind ORDER BY org_id) AS n "
            "FROM organizations) WHERE n = 1").fetchall()]
    orgs = ["huawei", "pony-ai", *orgs]
    pages = ["/", "/?field=ai", "/search", "/search?q=光子", "/search?q=huawei", "/rankings",
             "/rankings?by=intensity", "/rankings?scope=country:CN", "/regions", "/regions?name=北京&name=上海&name=深圳",
             "/screening", web.screening, "/watchlists", "/watchlists/光子芯片", "/org/no-such-org", "/no-such-page"]
    pages += [f"/flows?by={b}" for b in ("field", "typology", "sector", "region", "stage")]
    pages += [f"/org/{o}" for o in dict.fromkeys(orgs)]
    return pages


def test_every_dashboard_page_in_chinese_has_no_english(zh_db, names, web):
    bad, seen = [], []
    for path in _pages(zh_db, web):
        sep = "&" if "?" in path else "?"
        r = web.get(f"{path}{sep}lang=zh")
        assert r.status_code in (200, 404), (path, r.status_code, r.text[:300])
        assert 'lang="zh' in r.text, path
        seen.append(path)
        bad += [(run, f"{path}: {text}") for run, text in english(r.text, names, web.applicants)]
    assert len(seen) >= 20
    assert not bad, _report(bad)


def test_english_dashboard_is_english(web):
    """The same page in English: its words are English, so the Chinese check above compares two languages."""
    r = web.get("/?lang=en")
    assert r.status_code == 200
    assert not re.search(r"[\u4e00-\u9fff]{2,}", re.sub(r"<script.*?</script>", "", r.text, flags=re.S)
                         .replace("中文", "")), "Chinese on the English landscape page"


def _no_placeholders(text: str) -> str:
    return re.sub(r"\{[^}]*\}", " ", text)  # {year}, {n}: filled in by the caller


def test_api_labels_in_chinese(web, names):
    body = web.get("/api/v1/labels", params={"lang": "zh"}).json()
    assert body["lang"] == "zh"
    labels = body["labels"]
    assert {"field", "typology", "kind", "verdict", "star_reason", "stage"} <= set(labels)
    en = web.get("/api/v1/labels", params={"lang": "en"}).json()["labels"]
    assert {s: set(v) for s, v in labels.items()} == {s: set(v) for s, v in en.items()}  # same ids both ways
    bad = []
    for sec, items in labels.items():
        for key, text in items.items():
            bad += [(run, f"[{sec}] {key}: {text}") for run, text in english(_no_placeholders(text), names)]
    assert not bad, _report(bad)
    for by in ("field", "typology", "city", "country", "kind", "star"):
        rows = web.get("/api/v1/organizations/aggregate", params={"by": by, "lang": "zh"}).json()["rows"]
        assert rows, by
        bad = [(run, f"by={by}: {r['label']}") for r in rows for run, _ in english(str(r["label"]), names)]
        assert not bad, _report(bad)
    field = web.get("/api/v1/organizations/aggregate", params={"by": "field", "lang": "zh"}).json()["rows"]
    assert any(r["group"] == "ai" and r["label"] == labels["field"]["ai"] for r in field)
