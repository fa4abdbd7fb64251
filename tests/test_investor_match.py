"""Investor matching in the engine (analytics/investor_match.py) gives the in-memory version's answer.

A small synthetic store (every row flagged synthetic): rounds with USD amounts, investors with
declared theses, regions, stages and USD tickets, and verdicts for some organisations (one with no
fields, so its industry codes decide). For a spread of startups, every investor's score, components
and reasons must equal `match_startup_in_memory`'s; the profiles are saved once, read while fresh,
recomputed when a round is added, and kept as temporary tables on a store opened read-only.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pyarrow as pa
import pytest

from hardtech.analytics.matching import match_startup, match_startup_in_memory
from hardtech.store.connection import Store

T0 = dt.datetime(2024, 1, 1)
FIELDS = ("ai", "biotech", "photonics_chips", "new_energy")


def _build(db) -> list[str]:
    from hardtech.tools.synthetic import SynthConfig, generate

    tables = generate(SynthConfig(orgs=400, seed=7, years=(2016, 2022), investors=40))
    with Store(db) as store:
        for name in ("organizations", "funding_rounds", "investors"):
            t = tables[name]
            t = t.append_column("source_name", pa.array(["synthetic seed 7"] * t.num_rows)).append_column(
                "imported_at", pa.array([T0] * t.num_rows, pa.timestamp("us")))
            store.con.register("_t", t)
            store.con.execute(f"INSERT INTO {name} BY NAME SELECT * FROM _t").fetchall()
            store.con.unregister("_t")
        # synthetic USD amounts (not an FX conversion: the test compares two implementations on the same figures)
        store.con.execute("UPDATE funding_rounds SET amount_usd = amount * CASE currency WHEN 'CNY' THEN 0.14 "
                          "WHEN 'EUR' THEN 1.1 ELSE 1 END").fetchall()
        store.con.execute("UPDATE investors SET currency = 'USD' WHERE investor_id IN "
                          "(SELECT investor_id FROM investors ORDER BY investor_id LIMIT 20)").fetchall()
        ids = tables["organizations"].column("org_id").to_pylist()
        cls = pd.DataFrame({"entity_type": "organization", "entity_id": ids[::2], "model_version": "synthetic-t",
                            "classified_at": T0, "insufficient": False})
        cls["fields"] = [[FIELDS[k % 4]] + ([FIELDS[(k + 1) % 4]] if k % 3 == 0 else []) for k in range(len(cls))]
        cls.loc[1, "fields"] = []  # a verdict with no field: the industry codes decide
        store.con.register("_c", cls)
        store.con.execute("INSERT INTO classifications BY NAME SELECT * FROM _c").fetchall()
        store.con.unregister("_c")
        busy = store.con.execute("SELECT org_id FROM funding_rounds GROUP BY org_id ORDER BY count(*) DESC, org_id "
                                 "LIMIT 8").fetchall()
        quiet = store.con.execute("SELECT org_id FROM organizations WHERE org_id NOT IN "
                                  "(SELECT org_id FROM funding_rounds) ORDER BY org_id LIMIT 3").fetchall()
    return [r[0] for r in busy + quiet] + [ids[2]]


@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    db = tmp_path_factory.mktemp("match") / "m.duckdb"
    return db, _build(db)


def _same(store, org_id: str) -> None:
    n = store.count("investors")
    new = match_startup(store, org_id, top=n)
    old = match_startup_in_memory(store, org_id, top=n)
    assert len(new) == len(old) == n
    assert {r["investor_id"]: r for r in new} == {r["investor_id"]: r for r in old}, org_id
    assert [r["score"] for r in new] == [r["score"] for r in old]  # the same order, ties aside
    assert any(r["score"] > 0 for r in new)


def test_every_investor_scored_as_in_memory(synth):
    db, orgs = synth
    with Store(db) as store:
        for o in orgs:
            _same(store, o)
        top = match_startup(store, orgs[0], top=5)
        assert len(top) == 5 and top == match_startup_in_memory(store, orgs[0], top=5)
        assert any("portfolio companies" in " ".join(r["reasons"]) for r in top)


def test_profiles_saved_once_and_recomputed_when_rounds_change(synth, tmp_path):
    from hardtech.analytics.investor_match import profiles_for
    from hardtech.analytics.investor_profiles import inputs_of

    db, orgs = synth
    copy = tmp_path / "c.duckdb"
    copy.write_bytes(db.read_bytes())
    with Store(copy) as store:
        store.con.execute("DELETE FROM investor_profile_state").fetchall()
        assert profiles_for(store, inputs_of(store))[1] == "saved"
        assert profiles_for(store, inputs_of(store))[1] == "kept"
        built = store.con.execute("SELECT count(*) FROM investor_profile_items").fetchall()[0][0]
        assert built > 0
        inv = store.con.execute("SELECT investor_id FROM investors ORDER BY investor_id DESC LIMIT 1").fetchall()[0][0]
        store.con.execute(f"INSERT INTO funding_rounds (round_id, org_id, date, stage, amount_usd, investors, "
                          f"investor_ids, synthetic) VALUES ('t-new', '{orgs[-1]}', DATE '2023-06-01', 'b', 5e6, "
                          f"['x'], ['{inv}'], TRUE)").fetchall()
        assert profiles_for(store, inputs_of(store))[1] == "saved"  # stale: the new round is in the history
        _same(store, orgs[-1])
        res = {r["investor_id"]: r for r in match_startup(store, orgs[-1], top=100)}
        assert "already an investor (follow-on)" in res[inv]["reasons"]
    with Store(copy, read_only=True) as store:
        assert profiles_for(store, inputs_of(store))[1] == "kept"


def test_read_only_store_keeps_profiles_for_its_connection(synth, tmp_path):
    from hardtech.analytics.investor_match import profiles_for
    from hardtech.analytics.investor_profiles import inputs_of

    db, orgs = synth
    copy = tmp_path / "r.duckdb"
    copy.write_bytes(db.read_bytes())
    with Store(copy) as store:
        store.con.execute("DELETE FROM investor_profile_state").fetchall()
    with Store(copy, read_only=True) as store:
        assert profiles_for(store, inputs_of(store))[1] == "kept-here"
        _same(store, orgs[0])
        assert store.con.execute("SELECT count(*) FROM investor_profile_state").fetchall()[0][0] == 0


def test_unknown_startup_is_a_key_error(synth):
    db, _ = synth
    with Store(db, read_only=True) as store, pytest.raises(KeyError):
        match_startup(store, "no-such-org")
