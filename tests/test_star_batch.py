"""The engine STAR batch (analytics/star_batch.py) gives the verdicts of the Python batch (analytics/star.py).

Two stores: one built by hand where each organisation sits on an edge of the rules (currencies with
and without a rate, a blank currency, NaN, two rows for one year, waivers, the negative list, flag and
patent exceptions, the filings proxy, no financials), and a small synthetic one. Every version and
both "latest year" and a fixed year are compared row by row.
"""

from __future__ import annotations

import datetime as dt

import pytest

from hardtech.analytics.star import evaluate_star_batch, load_star_rules
from hardtech.analytics.star_batch import star_verdict_table
from hardtech.errors import FXError
from hardtech.sources.fx import Rate
from hardtech.store.connection import Store

M = 1_000_000
VERSIONS = sorted(load_star_rules())


class FakeFX:
    """USD at 7 CNY, EUR at 7.5 CNY; any other currency has no rate."""

    def rate(self, base, quote, on, policy="on_or_before", max_age_days=None):
        value = {"USD": 7.0, "EUR": 7.5}.get(base)
        if value is None:
            raise FXError(f"no rate for {base} on {on}")
        return Rate(base, quote, value, on if isinstance(on, dt.date) else dt.date.fromisoformat(on), "test")


def _org(store, oid, flags=(), codes=(), kind="company"):
    store.con.execute("INSERT INTO organizations (org_id, name_en, kind, flags, industry_codes, source_name, imported_at) "
                      "VALUES (?, ?, ?, ?, ?, 'test', now())", [oid, oid, kind, list(flags), list(codes)])


def _fin(store, oid, year, ccy="CNY", revenue=1000 * M, rd=100 * M, staff=30, employees=100, patents=10,
         filings=None, source="test", at="2024-01-01"):
    store.con.execute(
        "INSERT INTO financials (org_id, fiscal_year, currency, revenue, rd_expense, rd_staff, employees, "
        "invention_patents, patent_filings_cn, source_name, imported_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [oid, year, ccy, revenue, rd, staff, employees, patents, filings, source, at])


def _three(store, oid, **kw):
    for y in (2020, 2021, 2022):
        _fin(store, oid, y, **kw)


@pytest.fixture
def edge_store(store):
    s = store
    _org(s, "pass"); _three(s, "pass")
    _org(s, "usd"); _three(s, "usd", ccy="USD", revenue=50 * M, rd=5 * M)
    _org(s, "usd_lower"); _three(s, "usd_lower", ccy=" usd ")
    _org(s, "no_rate"); _three(s, "no_rate", ccy="XXX")
    _org(s, "no_rate_no_amount", flags=["national_award"]); _three(s, "no_rate_no_amount", ccy="XXX", revenue=None, rd=None)
    _org(s, "blank_ccy"); _three(s, "blank_ccy", ccy="")
    _org(s, "nan"); _three(s, "nan"); s.con.execute("UPDATE financials SET revenue = 'NaN'::DOUBLE "
                                                      "WHERE org_id = 'nan' AND fiscal_year = 2021")
    # two rows for 2022: the more complete one wins, whatever its import time
    _org(s, "dup"); _three(s, "dup", source="a")
    _fin(s, "dup", 2022, rd=1 * M, staff=None, source="b", at="2025-01-01")
    # two equally complete rows: the newer import wins (it fails the patent test)
    _org(s, "tie"); _three(s, "tie", source="a")
    _fin(s, "tie", 2022, patents=0, source="b", at="2025-01-01")
    # equally complete, same import time: source name order (a before b)
    _org(s, "tie_src"); _three(s, "tie_src", source="b", rd=1 * M)
    _fin(s, "tie_src", 2022, source="a")
    _org(s, "software", codes=["gics:Application Software"]); _three(s, "software", rd=99 * M, patents=0)
    _org(s, "software_ok", codes=["gics:Application Software"]); _three(s, "software_ok", rd=110 * M, patents=0)
    _org(s, "not_software", flags=["not_software"], codes=["gics:Application Software"])
    _three(s, "not_software", patents=0)
    _org(s, "fintech", flags=["fintech"]); _three(s, "fintech")
    _org(s, "bank", codes=["gics:Banks"]); _three(s, "bank")
    _org(s, "hinted", codes=["gics:Interactive Media & Services"]); _three(s, "hinted")
    _org(s, "award", flags=["National-Award"]); _three(s, "award", rd=1 * M)
    _org(s, "pre_revenue", flags=["listing_standard_5"]); _three(s, "pre_revenue", revenue=10 * M, rd=9 * M)
    _org(s, "proxy"); _three(s, "proxy", rd=1 * M, patents=None, filings=20)
    _org(s, "proxy_small"); _three(s, "proxy_small", patents=None, filings=1)
    _org(s, "no_fin")
    _org(s, "zero_staff"); _three(s, "zero_staff", employees=0)
    _org(s, "zero_start"); _fin(s, "zero_start", 2020, revenue=0); _fin(s, "zero_start", 2021)
    _fin(s, "zero_start", 2022, revenue=100 * M, rd=10 * M)
    _org(s, "gap"); _fin(s, "gap", 2020); _fin(s, "gap", 2022)
    _org(s, "old"); _three(s, "old"); _fin(s, "old", 2019)
    _org(s, "typed")
    _three(s, "typed")
    s.con.execute("INSERT INTO classifications (entity_type, entity_id, model_version, typology, classified_at) "
                  "VALUES ('organization', 'typed', 'm1', 'hard_core', '2024-01-01'), "
                  "('organization', 'typed', 'm2', 'model_innovation', '2024-02-01')")
    _org(s, "university", kind="university"); _three(s, "university")
    return s


def _python(store, year, version, fx):
    from hardtech.services.scoring import _org_inputs

    ids = [r[0] for r in store.con.execute("SELECT org_id FROM organizations ORDER BY org_id").fetchall()]
    orgs, fin = _org_inputs(store, ids)
    return {r.org_id: (r.year, r.verdict) for r in evaluate_star_batch(orgs, fin, year=year, version=version, fx=fx)}


def _engine(store, year, version, fx):
    t = star_verdict_table(store.table("organizations"), store.table("classifications"), store.table("financials"),
                           year=year, version=version, fx=fx)
    return {r["org_id"]: (r["year"], r["verdict"]) for r in t.to_pyarrow().to_pylist()}


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("year", [None, 2022, 2021])
def test_edges_equal_the_python_batch(edge_store, version, year):
    py = _python(edge_store, year, version, FakeFX())
    en = _engine(edge_store, year, version, FakeFX())
    assert en == py
    if version == VERSIONS[-1] and year is None:  # the edges really are edges: every verdict occurs
        assert {v for _, v in en.values()} == {"sci-tech", "not sci-tech", "restricted", "prohibited",
                                                "insufficient data"}
        assert en["no_rate"][1] == "insufficient data" and en["no_rate_no_amount"][1] != "insufficient data"
        assert en["tie"][1] == "not sci-tech" and en["dup"][1] == "sci-tech"
        assert en["typed"][1] == "restricted" and en["award"][1] == "sci-tech"


def test_synthetic_store_equals_the_python_batch(tmp_path):
    from hardtech.services.scoring import star_batch_rows, star_verdict_rows
    from hardtech.tools.synthetic import SynthConfig, generate
    from hardtech.schema import TABLES

    db = tmp_path / "syn.duckdb"
    tables = generate(SynthConfig(orgs=600, seed=3))
    with Store(db) as store:
        for name in ("organizations", "financials"):
            store.con.register("src", tables[name])
            cols = ", ".join(f'"{c}"' for c in TABLES[name].data_names if c in tables[name].column_names)
            store.con.execute(f'INSERT INTO "{name}" ({cols}, source_name, synthetic, imported_at) '
                              f"SELECT {cols}, 'synthetic', TRUE, now() FROM src")
            store.con.unregister("src")
    engine = star_verdict_rows(db)
    python = star_batch_rows(db)
    assert len(engine) == len(python) > 400
    assert [(r["org_id"], r["year"], r["verdict"]) for r in engine] == \
           [(r["org_id"], r["year"], r["verdict"]) for r in python]
    assert len({r["verdict"] for r in engine}) >= 3
