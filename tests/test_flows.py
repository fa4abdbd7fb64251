"""Capital flows: exact sums and counts on a hand-made store, and counts on the unicorn list checked with pandas."""

from __future__ import annotations

import csv
import datetime as dt
import math
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from hardtech.analytics.flows import (
    cagr, flows, flows_report, sector_share, tech_vs_model_share, top_investors, warnings_of,
)
from hardtech.errors import UsageError
from hardtech.sources.fx import load_fx
from hardtech.store.importer import import_file


def write_csv(path: Path, header, rows):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


ORGS = [  # org_id, name_en, country, province, city, industry_codes
    ["chip", "Chip Co", "CN", "Shaanxi", "Xi'an", "unicorn_industry:Hardware"],
    ["shop", "Shop Co", "CN", "Zhejiang", "Hangzhou", "unicorn_industry:E-commerce & direct-to-consumer"],
    ["bio", "Bio Co", "CN", "Guangdong", "", ""],
]
ROUNDS = [  # round_id, org_id, date, stage, amount, currency, investors
    ["r1", "chip", "2019-03-10", "A轮", "10000000", "USD", "Alpha Capital|Beta Fund"],
    ["r2", "chip", "2021-08-01", "B轮", "30000000", "USD", "Alpha Capital"],
    ["r3", "shop", "2019-11-20", "A轮", "5000000", "USD", "Beta Fund"],
    ["r4", "shop", "2021-02-02", "B轮", "数千万美元", "", "Alpha Capital"],  # a range: counted, never summed
    ["r5", "bio", "2021-05-05", "天使轮", "未透露", "", ""],  # undisclosed
    ["r6", "bio", "", "seed", "1000000", "USD", ""],  # no date: left out, named
    ["r7", "bio", "2021-12-31", "C轮", "100000000", "CNY", "Gamma"],  # converted at the 2021-12-31 rate
    ["r8", "chip", "2009-06-01", "seed", "2000000", "CNY", ""],  # before the first rate: counted, named
    ["r9", "shop", "2019-12-01", "strategic", "7000000", "", ""],  # an amount but no currency: counted, named
]


@pytest.fixture
def rounds_store(store, tmp_path):
    o = write_csv(tmp_path / "orgs.csv", ["org_id", "name_en", "country", "province", "city", "industry_codes"], ORGS)
    assert import_file(store, "organizations", o).rejected == 0
    f = write_csv(tmp_path / "rounds.csv",
                  ["round_id", "org_id", "date", "stage", "amount", "currency", "investors"], ROUNDS)
    r = import_file(store, "funding_rounds", f)
    assert r.rejected == 0, r.rejects
    now = dt.datetime(2025, 1, 1)
    rows = [  # entity_id, model_version, fields, typology, classified_at
        ("chip", "v1", ["photonics_chips", "it"], "hard_core", now),
        ("shop", "v0", ["it"], "hard_core", now - dt.timedelta(days=30)),  # older verdict: superseded
        ("shop", "v1", [], "model_innovation", now),
    ]
    for eid, ver, fields, typ, at in rows:
        store.con.execute("INSERT INTO classifications (entity_type, entity_id, model_version, fields, typology, "
                          "classified_at) VALUES ('organization', ?, ?, ?, ?, ?)", [eid, ver, fields, typ, at])
    return store


def as_dict(t: pa.Table, key=("period", "group")) -> dict:
    return {tuple(r[k] for k in key): r for r in t.to_pylist()}


def test_amounts_by_field_and_year_are_exact(rounds_store):
    rep = flows_report(rounds_store, by="field", metric="amount")
    t = as_dict(rep["table"])
    assert t[("2019", "photonics_chips")]["value"] == 10e6
    assert t[("2019", "it")]["value"] == 10e6  # chip counts in both of its fields
    none19 = t[("2019", "none")]  # the latest verdict for shop (no field) wins
    assert none19["value"] == 5e6 and (none19["rounds"], none19["undisclosed_rounds"]) == (2, 1)
    assert "1 no currency" in none19["note"]
    assert t[("2021", "photonics_chips")]["value"] == 30e6
    # 2021 shop: a range, counted but not summed → no value at all
    none21 = t[("2021", "none")]
    assert none21["value"] is None and none21["rounds"] == 1 and none21["undisclosed_rounds"] == 1
    assert "1 range" in none21["note"]
    # bio has no classification; its undisclosed round and its CNY round count there
    fx = load_fx()
    cny = 100e6 * fx.rate("CNY", "USD", "2021-12-31").value
    bio = t[("2021", "unclassified")]
    assert (bio["rounds"], bio["disclosed_rounds"], bio["undisclosed_rounds"]) == (2, 1, 1)
    assert bio["value"] == pytest.approx(cny) and "on or before" in bio["note"]
    # shares are of the period's distinct rounds (chip would otherwise count twice)
    assert t[("2019", "photonics_chips")]["share"] == pytest.approx(10 / 15)
    assert t[("2021", "photonics_chips")]["share"] == pytest.approx(30e6 / (30e6 + cny))
    # the undated round and the round before the first rate are named, not guessed
    w = rep["warnings"]
    assert any("without a date" in x and "r6" in x for x in w)
    assert any("CNY" in x and "r8" in x for x in w)
    assert any("no currency" in x and "r9" in x for x in w)
    assert len(w) == 3
    assert warnings_of(rep["table"]) == w
    assert t[("2009", "photonics_chips")]["undisclosed_rounds"] == 1
    assert t[("2009", "photonics_chips")]["value"] is None


def test_counts_median_quarters_and_window(rounds_store):
    c = as_dict(flows(rounds_store, by="stage", metric="count"))
    assert c[("2021", "b")]["value"] == 2 and c[("2021", "b")]["currency"] is None
    assert c[("2019", "a")]["value"] == 2 and c[("2019", "a")]["share"] == pytest.approx(2 / 3)
    assert sum(r["value"] for k, r in c.items() if k[0] == "2021") == 4  # r2, r4, r5, r7
    m = as_dict(flows(rounds_store, by="region", metric="median", currency="USD"))
    assert m[("2019", "Xi'an")]["value"] == 10e6 and m[("2021", "Guangdong")]["rounds"] == 2  # no city → province
    q = as_dict(flows(rounds_store, by="stage", period="quarter", metric="count"))
    assert set(q) >= {("2019-Q1", "a"), ("2019-Q4", "a"), ("2021-Q3", "b"), ("2021-Q1", "b"), ("2021-Q4", "c")}
    win = flows(rounds_store, by="stage", metric="count", start="2020-01-01", end=2021)
    assert set(win.column("period").to_pylist()) == {"2021"}


def test_sector_investor_and_shares(rounds_store):
    s = as_dict(flows(rounds_store, by="sector", metric="amount"))
    assert s[("2019", "secondary")]["value"] == 10e6 and s[("2019", "tertiary")]["value"] == 5e6
    assert s[("2021", "unknown")]["rounds"] == 2  # bio has no industry code
    i = as_dict(flows(rounds_store, by="investor", metric="count"))
    assert i[("2021", "Alpha Capital")]["value"] == 2 and i[("2019", "Beta Fund")]["value"] == 2
    ss = as_dict(sector_share(rounds_store), ("period", "sector"))
    assert ss[("2019", "secondary")]["amount_share"] == pytest.approx(2 / 3)
    assert ss[("2019", "tertiary")]["count_share"] == pytest.approx(2 / 3)
    tm = as_dict(tech_vs_model_share(rounds_store), ("period", "class"))
    assert tm[("2019", "technology")]["amount_share"] == pytest.approx(2 / 3)
    assert tm[("2019", "model_innovation")]["amount"] == 5e6
    assert tm[("2021", "technology")]["count_share"] == pytest.approx(1 / 4)
    assert tm[("2021", "other")]["rounds"] == 2  # bio: unclassified
    top = top_investors(rounds_store, field="it", top=1).to_pylist()
    assert top == [{"field": "it", "rank": 1, "investor": "Alpha Capital", "rounds": 2,
                    "disclosed_amount": 40e6, "currency": "USD"}]


def test_cagr_values():
    t = pa.table({"period": ["2019", "2021", "2019", "2020", "2021", "2020", "2020-Q1"][:6],
                  "group": ["a", "a", "b", "b", "b", "c"], "value": [100.0, 400.0, 0.0, 5.0, 10.0, 7.0]})
    got = as_dict(cagr(t), ("group",))
    assert got[("a",)]["cagr"] == pytest.approx(1.0) and got[("a",)]["years"] == 2
    assert got[("b",)]["cagr"] is None  # growth from zero has no rate
    assert got[("c",)]["cagr"] is None  # one period only
    q = pa.table({"period": ["2020-Q1", "2021-Q1"], "group": ["x", "x"], "value": [1.0, 1.21]})
    assert cagr(q).column("cagr")[0].as_py() == pytest.approx(0.21)
    assert math.isclose(as_dict(cagr(pa.table({"period": ["2019", "2022"], "group": ["g", "g"],
                                                "value": [8.0, 27.0]})), ("group",))[("g",)]["cagr"], 0.5)


def test_bad_arguments_name_the_choices(rounds_store):
    for kw, word in (({"by": "planet"}, "investor"), ({"period": "week"}, "quarter"), ({"metric": "mean"}, "median")):
        with pytest.raises(UsageError, match=word):
            flows(rounds_store, **kw)
    with pytest.raises(UsageError, match="ISO 4217"):
        flows(rounds_store, currency="dollars")
    with pytest.raises(UsageError, match="ai"):
        top_investors(rounds_store, field="cooking")


def test_no_round_in_the_window_gives_empty_tables_for_every_grouping(rounds_store):
    for by in ("field", "typology", "sector", "region", "stage", "investor"):
        t = flows(rounds_store, by=by, start="1990-01-01", end="1990-12-31")
        assert t.num_rows == 0, by
    assert top_investors(rounds_store, start="1990-01-01", end="1990-12-31").num_rows == 0


def test_unicorn_counts_match_pandas(store, shared):
    f = shared("unicorns_2022.csv")
    raw = pd.read_csv(f)
    assert import_file(store, "auto", f, mapping="unicorns_2022").rejected == 0
    raw["year"] = pd.to_datetime(raw["Date Joined"]).dt.year.astype(str)
    rep = flows_report(store, by="region", metric="count")
    assert rep["warnings"] == []
    got = {k: r["value"] for k, r in as_dict(rep["table"]).items()}
    # a city-state row has no City: the region falls back to its country (stored as the ISO code)
    iso = {"Bahamas": "BS", "Singapore": "SG", "Hong Kong": "HK"}
    raw["region"] = raw["City"].fillna(raw["Country"].map(iso))
    assert raw["region"].notna().all()
    want = raw.groupby(["year", "region"]).size()
    assert got == {(y, c): float(n) for (y, c), n in want.items()}
    stage = as_dict(flows(store, by="stage", metric="count"))
    assert {k[0]: r["value"] for k, r in stage.items()} == raw.groupby("year").size().astype(float).to_dict()
    assert {k[1] for k in stage} == {"cumulative"}
    und = raw[raw.Funding == "Unknown"].groupby("year").size()
    assert {k[0]: r["undisclosed_rounds"] for k, r in stage.items() if r["undisclosed_rounds"]} == und.to_dict()
    # investor names resolve case-insensitively (`Tiger Global management` is Tiger Global Management),
    # so both sides are compared on lower-cased names
    inv: dict = {}
    for (y, name), r in as_dict(flows(store, by="investor", metric="count")).items():
        if name != "unknown":
            inv[(y, name.lower())] = inv.get((y, name.lower()), 0) + r["value"]
    names = raw["Select Investors"].dropna().map(
        lambda s: list(dict.fromkeys(x.strip().lower() for x in s.split(",") if x.strip())))
    want_inv = raw.loc[names.index, ["year"]].assign(inv=names).explode("inv").dropna().groupby(["year", "inv"]).size()
    assert len(want_inv) > 1000
    assert inv == {k: float(n) for k, n in want_inv.items()}
    # summed amounts per year: the file's "$7B" / "$500M", already in USD, so no rate is used
    scale = {"B": 1e9, "M": 1e6}
    known = raw[raw.Funding != "Unknown"]
    usd = known.Funding.map(lambda v: float(v[1:-1]) * scale[v[-1]])
    want_amt = usd.groupby(known["year"]).sum()
    amt = as_dict(flows(store, by="stage", metric="amount"))
    assert {k[0]: r["value"] for k, r in amt.items() if r["value"] is not None} == pytest.approx(want_amt.to_dict())
    assert all("converted" not in (r["note"] or "") for r in amt.values())


def test_unicorn_fields_after_classification(tmp_path, shared):
    from hardtech.services.classify import classify_store
    from hardtech.store.connection import Store

    db = tmp_path / "u.duckdb"
    with Store(db) as s:
        import_file(s, "auto", shared("unicorns_2022.csv"), mapping="unicorns_2022")
    classify_store(db, "organizations")
    with Store(db) as s:
        t = flows(s, by="field", metric="count")
        # the same count straight from SQL: each round once per field of its organisation's verdict
        want = dict(((str(y), f), float(n)) for y, f, n in s.con.execute("""
            SELECT y, f, count(*) FROM (
              SELECT year(r.date) AS y, unnest(CASE WHEN len(c.fields) = 0 THEN ['none'] ELSE c.fields END) AS f
              FROM funding_rounds r JOIN classifications c ON c.entity_id = r.org_id) GROUP BY y, f""").fetchall())
        assert {k: r["value"] for k, r in as_dict(t).items()} == want
        share = tech_vs_model_share(s).to_pandas()
        assert set(share["class"]) <= {"technology", "model_innovation", "other"}
        assert share.groupby("period")["count_share"].sum().round(9).eq(1.0).all()
        top = top_investors(s, top=3).to_pandas()
        assert (top.groupby("field")["rank"].max() <= 3).all() and (top["rounds"] >= 1).all()
