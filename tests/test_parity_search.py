"""Parity: organisation search, its ids and its aggregates give the same answers on DuckDB and on Spark.

Why: the search (`/api/v1/organizations`, its aggregates, the dashboard's search and the rankings' shared
filters) is Ibis (`analytics.org_search`), so it must answer alike on every engine: same totals, same page in
the same order, same ids, same counts and means (floats within 1e-9). The store is test_parity's synthetic
universe (`_build`, same Spark settings), plus what search reads and that store lacks: saved scores under two
weights versions (only the newer is shown) and a second, newer model's verdict for some organisations (the
newest wins), so both rules run their windows on both engines.

Spark costs about a second a query here, so the filters are combined: each call sets several at once, and
the cases between them set every filter, every sort and every grouping at least once.
"""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest

from test_parity import ENGINES, _build, _close, _why, opened_on_every_engine

pytestmark = [pytest.mark.slow, pytest.mark.skipif(_why is not None, reason=_why or "")]

T0 = dt.datetime(2024, 1, 1)


def _h(org_id: str, salt: str) -> int:
    return int(hashlib.sha256(f"{salt}:{org_id}".encode()).hexdigest()[:8], 16)


def _add_scores_and_verdicts(db) -> None:
    """Scores of 2020 and 2021 under weights version 1 for most organisations, then a newer version 2 for some
    (saved an hour later: the one shown); a newer model's verdict (other fields, one with none) for a third."""
    from hardtech.store.connection import Store

    with Store(db) as store:
        ids = [r[0] for r in store.con.execute("SELECT org_id FROM organizations ORDER BY org_id").fetchall()]
        rows = []
        for o in ids:
            if _h(o, "scored") % 5:
                rows += [(o, y, (_h(o, f"s{y}") % 10_000) / 100, (_h(o, f"c{y}") % 100) / 100, "1", T0) for y in (2020, 2021)]
            if _h(o, "v2") % 2:
                rows.append((o, 2021, (_h(o, "s2") % 10_000) / 100, 0.5, "2", T0 + dt.timedelta(hours=1)))
        store.con.executemany("INSERT INTO scores (org_id, year, score, confidence, weights_version, scored_at) "
                              "VALUES (?, ?, ?, ?, ?, ?)", rows)
        store.con.execute("""
            INSERT INTO classifications BY NAME
            SELECT entity_type, entity_id, 'synthetic-parity-newer' AS model_version,
                   CASE WHEN fields[1] = 'ai' THEN NULL ELSE 'ai' END AS top_field,
                   CASE WHEN fields[1] = 'ai' THEN []::VARCHAR[] ELSE ['ai', 'biotech'] END AS fields,
                   'deep' AS typology, classified_at + INTERVAL 1 DAY AS classified_at, insufficient
            FROM classifications WHERE hash(entity_id) % 3 = 0""")


@pytest.fixture(scope="module")
def search_stores(tmp_path_factory):
    """{engine: store} over one synthetic store: DuckDB's file, and a Spark session over its Parquet export."""
    db = tmp_path_factory.mktemp("parity-search") / "search.duckdb"
    _build(db)
    _add_scores_and_verdicts(db)
    yield from opened_on_every_engine(db)


def on_both(stores, fn):
    return [fn(stores[e]) for e in ENGINES]


# (filters, sort, limit, offset, with_star): every filter, every sort, a page in the middle and one past the end
PAGES = [
    ({}, "org_id", 200, 0, True),
    ({"q": "科技", "country": "cn", "kind": "company"}, "name", 25, 5, False),
    ({"q": "TECH", "city": "深圳"}, "-name", 10, 0, False),
    ({"city": "shanghai", "score_min": 5, "score_max": 95}, "founded", 10, 0, False),
    ({"field": "ai", "typology": "deep"}, "-founded", 200, 0, False),
    ({"star": "insufficient data", "field": "biotech"}, "-score", 5, 0, False),
    ({"kind": "startup", "score_max": 50}, "score", 20, 10_000, False),
]


@pytest.mark.parametrize("filters,sort,limit,offset,with_star", PAGES)
def test_search_page(search_stores, filters, sort, limit, offset, with_star):
    from hardtech.services.search import Filters, search_orgs

    d, s = on_both(search_stores, lambda st: search_orgs(st, Filters(**filters), sort, limit, offset, with_star))
    assert d["total"] > 0, f"{filters}: nothing selected, nothing compared"
    assert d["items"] or offset >= d["total"]
    _close(d, s, f"search {filters} {sort}")
    assert [r["org_id"] for r in d["items"]] == [r["org_id"] for r in s["items"]]  # the same order
    if not filters:  # what the store's extra rows are for: the newer model's fields, only version 2's scores
        assert any(r["fields"] == [] for r in d["items"]) and any(r["fields"] == ["ai", "biotech"] for r in d["items"])
        assert {r["score_year"] for r in d["items"] if r["score"] is not None} == {2021}  # version 2: 2021 only
        assert {r["star_verdict"] for r in d["items"]} > {None}


def test_matching_ids(search_stores):
    from hardtech.services.search import Filters, matching_ids

    d, s = on_both(search_stores, lambda st: matching_ids(st, Filters(country="CN", score_min=50, star="insufficient data")))
    assert d and d == s


@pytest.mark.parametrize("by,filters", [("field", {}), ("typology", {"country": "CN"}), ("city", {"q": "tech"}),
                                        ("country", {"score_max": 60}), ("kind", {"star": "insufficient data"}),
                                        ("star", {"kind": "company"})])
def test_aggregate(search_stores, by, filters):
    from hardtech.services.search import Filters, aggregate_orgs

    d, s = on_both(search_stores, lambda st: aggregate_orgs(st, by, Filters(**filters)))
    assert len(d) > 1 and any(r["mean_score"] is not None for r in d), d
    _close(d, s, f"aggregate by {by} {filters}")
