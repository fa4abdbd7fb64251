"""R&D rankings: the JRC–OECD world ranks reproduced, and every convention of docs/rankings.md pinned."""

from __future__ import annotations

import datetime as dt

import ibis
import pandas as pd
import pyarrow as pa
import pytest

from hardtech.analytics.ranking import (
    COLUMNS, RankingSpec, available_years, decade, load_rules, parse_by, parse_scope, rank, rank_expr,
)
from hardtech.errors import FXError, NotFound, UsageError
from hardtech.sources.fx import FXTable
from hardtech.store.importer import import_file

T0 = dt.datetime(2024, 1, 1, 12, 0, 0)

# A made-up rate table, so the assertions do not depend on real exchange rates.
FX_CSV = """date,base,quote,rate,source
2016-12-30,EUR,USD,1.25,test
2016-12-30,EUR,CNY,8.0,test
2017-12-29,EUR,USD,1.20,test
2017-12-29,EUR,CNY,8.0,test
2018-12-31,EUR,USD,1.10,test
2018-12-31,EUR,CNY,7.5,test
"""


@pytest.fixture
def fx(tmp_path):
    p = tmp_path / "fx.csv"
    p.write_text(FX_CSV, encoding="utf-8")
    return FXTable.from_csv(p)


def put(store, table, rows, source="test", at=T0, synthetic=False):
    """Insert rows directly (provenance filled in), so each test states exactly what the store holds."""
    df = pd.DataFrame(rows)
    df["source_name"], df["imported_at"], df["synthetic"] = source, at, synthetic
    if table == "organizations" and "aliases" in df:
        df["aliases"] = df["aliases"].astype(object)
    store.con.register("_rows", pa.Table.from_pandas(df, preserve_index=False))
    store.con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _rows")
    store.con.unregister("_rows")


def org(oid, **kw):
    return {"org_id": oid, "kind": "company", "name_en": kw.pop("name", oid.upper()), **kw}


def fin(oid, year, rd, revenue=None, currency="EUR"):
    return {"org_id": oid, "fiscal_year": year, "currency": currency, "rd_expense": rd, "revenue": revenue}


def col(table, name):
    return table.column(name).to_pylist()


def by_org(table):
    return {r["org_id"]: r for r in table.to_pylist()}


# ------------------------------------------------------------------------------ the JRC–OECD panel


def test_jrc_panel_world_rank_is_reproduced(shared, store):
    path = shared("jrc_oecd_rd_top2000_2015_2018.csv")
    result = import_file(store, "auto", path, mapping="jrc_oecd")
    assert result.rejected == 0
    panel = pd.read_csv(path)
    panel["org_id"] = "jrc:" + panel["company_id"].astype(str)
    assert available_years(store) == [2015, 2016, 2017, 2018]

    # 2018: our rank must equal the panel's worldrank for every company. Inside a group sharing
    # one R&D figure the panel numbers the members in some order, while we give them all the
    # group's best rank; so a tied group must occupy exactly the panel's set of ranks.
    p18 = panel[panel.year == 2018].set_index("org_id")
    r18 = rank(store, RankingSpec(2018, currency="EUR")).to_pandas().set_index("org_id")
    assert len(r18) == len(p18) == 2000
    assert set(r18.index) == set(p18.index)
    assert (r18.currency == "EUR").all() and (r18.fx_rate == 1.0).all()
    groups = r18.groupby("rank")
    tied = 0
    for shared_rank, g in groups:
        ours = set(range(shared_rank, shared_rank + len(g)))
        assert set(p18.loc[g.index, "worldrank"]) == ours, g.index.tolist()
        assert g.value.nunique() == 1
        if len(g) > 1:
            tied += len(g)
    assert tied == (p18.rd.duplicated(keep=False)).sum() > 0
    single = r18[r18.groupby("rank")["rank"].transform("size") == 1]
    assert (single["rank"] == p18.loc[single.index, "worldrank"]).all()
    assert r18.loc["jrc:1803", "rank"] == 1  # the panel's own number one

    # 2015–2017: the panel repeats the 2018 rank, so compare with a competition rank of the raw rd.
    for year in (2015, 2016, 2017):
        p = panel[(panel.year == year) & panel.rd.notna()].set_index("org_id")
        expected = p.rd.rank(method="min", ascending=False).astype(int)
        got = rank(store, RankingSpec(year)).to_pandas().set_index("org_id")["rank"]
        assert len(got) == len(expected)
        assert (got.sort_index() == expected.sort_index()).all(), year

    top = rank(store, RankingSpec(2018, top=10))
    assert col(top, "rank") == list(range(1, 11))


# ------------------------------------------------------------------------------ conventions


def test_spec_defaults_come_from_the_rules_file():
    rules = load_rules()
    s = RankingSpec(2020)
    assert (s.currency, s.fx_convention, s.by, s.scope) == ("EUR", "scoreboard", "rd", "world")
    assert rules.acfic["revenue_floor"] == 500_000_000 and rules.acfic["floor_currency"] == "CNY"
    assert set(rules.conventions) == {"scoreboard", "yearly"}


def test_ties_share_the_best_rank_and_top_keeps_the_whole_tie(store, fx):
    put(store, "organizations", [org(o) for o in "abcde"])
    put(store, "financials", [fin("a", 2018, 300.0), fin("c", 2018, 200.0), fin("b", 2018, 200.0),
                              fin("d", 2018, 100.0), fin("e", 2018, None)])
    r = rank(store, RankingSpec(2018), fx=fx)
    assert list(r.schema.names) == list(COLUMNS)
    assert col(r, "org_id") == ["a", "b", "c", "d"]  # e has no R&D: no rank, not listed
    assert col(r, "rank") == [1, 2, 2, 4]
    assert col(rank(store, RankingSpec(2018, top=2), fx=fx), "org_id") == ["a", "b", "c"]
    assert col(rank(store, RankingSpec(2018, top=1), fx=fx), "org_id") == ["a"]


def test_growth_only_with_both_years_and_a_positive_previous_year(store, fx):
    put(store, "organizations", [org(o) for o in ("up", "zero", "new", "down")])
    put(store, "financials", [
        fin("up", 2017, 100.0), fin("up", 2018, 150.0),
        fin("zero", 2017, 0.0), fin("zero", 2018, 50.0),
        fin("new", 2018, 80.0),
        fin("down", 2017, 200.0), fin("down", 2018, 100.0),
    ])
    r = by_org(rank(store, RankingSpec(2018), fx=fx))
    assert r["up"]["growth_1y"] == pytest.approx(50.0)
    assert r["down"]["growth_1y"] == pytest.approx(-50.0)
    assert r["zero"]["growth_1y"] is None and r["new"]["growth_1y"] is None
    g = rank(store, RankingSpec(2018, by="growth"), fx=fx)
    assert col(g, "org_id") == ["up", "down"] and col(g, "rank") == [1, 2]


def test_scoreboard_growth_is_the_original_currency_growth(store, fx):
    put(store, "organizations", [org("usco", country="US")])
    put(store, "financials", [fin("usco", 2017, 100e6, currency="USD"), fin("usco", 2018, 120e6, currency="USD")])
    sb = by_org(rank(store, RankingSpec(2018, currency="EUR"), fx=fx))["usco"]
    assert sb["growth_1y"] == pytest.approx(20.0)
    assert sb["rd"] == pytest.approx(120e6 / 1.10) and sb["fx_rate"] == pytest.approx(1 / 1.10)
    assert sb["fx_date"] == dt.date(2018, 12, 31) and sb["original_currency"] == "USD"
    assert sb["rd_original"] == 120e6
    yearly = by_org(rank(store, RankingSpec(2018, currency="EUR", fx_convention="yearly"), fx=fx))["usco"]
    # 2017 converted at 1.20, 2018 at 1.10: the euro figures grew by more than the dollars did
    assert yearly["growth_1y"] == pytest.approx(100 * ((120e6 / 1.10) / (100e6 / 1.20) - 1))
    assert yearly["growth_1y"] == pytest.approx(30.909, abs=1e-3)
    # 2017 ranked alone under each convention: scoreboard takes the ranking year's rate
    assert by_org(rank(store, RankingSpec(2017), fx=fx))["usco"]["fx_date"] == dt.date(2017, 12, 29)


def test_intensity_is_null_without_positive_sales(store, fx):
    put(store, "organizations", [org(o) for o in ("zero", "none", "ok", "cny")])
    put(store, "financials", [fin("zero", 2018, 10.0, 0.0), fin("none", 2018, 10.0, None),
                              fin("ok", 2018, 10.0, 200.0), fin("cny", 2018, 30.0, 100.0, currency="CNY")])
    r = by_org(rank(store, RankingSpec(2018), fx=fx))
    assert r["zero"]["intensity"] is None and r["none"]["intensity"] is None
    assert r["ok"]["intensity"] == pytest.approx(0.05)
    assert r["cny"]["intensity"] == pytest.approx(0.30)  # a ratio: the same in any currency
    i = rank(store, RankingSpec(2018, by="intensity"), fx=fx)
    assert col(i, "org_id") == ["cny", "ok"]


def test_cumulative_ranks_complete_windows_only(store, fx):
    put(store, "organizations", [org(o) for o in ("full", "gap", "big1", "usd")])
    put(store, "financials", [
        fin("full", 2016, 10.0), fin("full", 2017, 20.0), fin("full", 2018, 30.0),
        fin("gap", 2016, 500.0), fin("gap", 2018, 500.0),
        fin("big1", 2018, 55.0),
        fin("usd", 2016, 11.0, currency="USD"), fin("usd", 2017, 11.0, currency="USD"),
        fin("usd", 2018, 11.0, currency="USD"),
    ])
    r = rank(store, RankingSpec(2018, by="cumulative:3"), fx=fx)
    rows = by_org(r)
    assert set(rows) == {"full", "usd"}  # gap (2 of 3 years) and big1 (1 of 3) get no rank
    assert rows["full"]["value"] == pytest.approx(60.0) and rows["full"]["coverage"] == 3
    assert rows["usd"]["value"] == pytest.approx(33.0 / 1.10)  # all three years at the 2018 rate
    assert col(r, "org_id") == ["full", "usd"]
    y = by_org(rank(store, RankingSpec(2018, by="cumulative:3", fx_convention="yearly"), fx=fx))
    assert y["usd"]["value"] == pytest.approx(11 / 1.25 + 11 / 1.20 + 11 / 1.10)
    one = rank(store, RankingSpec(2018, by="cumulative:1"), fx=fx)
    assert col(one, "org_id") == ["gap", "big1", "full", "usd"]


def test_most_recent_import_wins_per_figure_and_names_its_source(store, fx):
    put(store, "organizations", [org("x")])
    put(store, "financials", [fin("x", 2018, 100.0, 1000.0)], source="old", at=T0)
    put(store, "financials", [fin("x", 2018, 120.0, None)], source="new", at=T0 + dt.timedelta(days=1))
    r = by_org(rank(store, RankingSpec(2018), fx=fx))["x"]
    assert r["rd"] == 120.0 and r["rd_source"] == "new"
    assert r["net_sales"] == 1000.0 and r["sales_source"] == "old"  # the newest row lacks sales
    assert r["intensity"] == pytest.approx(0.12)


def test_synthetic_rows_are_flagged(store, fx):
    put(store, "organizations", [org("s"), org("r")])
    put(store, "financials", [fin("s", 2018, 1.0)], source="synth", synthetic=True)
    put(store, "financials", [fin("r", 2018, 2.0)])
    r = by_org(rank(store, RankingSpec(2018), fx=fx))
    assert r["s"]["synthetic"] is True and r["r"]["synthetic"] is False


# ------------------------------------------------------------------------------ scopes and ACFIC


def test_acfic_floor_is_inclusive_on_prior_year_revenue(store, fx):
    put(store, "organizations", [
        org("at", ownership="private"), org("below", ownership="private"), org("norev", ownership="private"),
        org("soe", ownership="state", city="Wuhan"), org("usd_in", ownership="private"), org("usd_out", ownership="private"),
    ])
    put(store, "financials", [
        fin("at", 2017, 1e6, 500_000_000.0, "CNY"), fin("at", 2018, 30e6, 9e8, "CNY"),
        fin("below", 2017, 1e6, 499_999_999.0, "CNY"), fin("below", 2018, 90e6, 9e8, "CNY"),
        fin("norev", 2018, 80e6, 9e8, "CNY"),
        fin("soe", 2017, 1e6, 9e9, "CNY"), fin("soe", 2018, 99e6, 9e9, "CNY"),
        # USD 80 m × 7.5 / 1.10 ≈ RMB 545 m (in); USD 70 m ≈ RMB 477 m (out)
        fin("usd_in", 2017, 1e6, 80e6, "USD"), fin("usd_in", 2018, 5e6, 1e8, "USD"),
        fin("usd_out", 2017, 1e6, 70e6, "USD"), fin("usd_out", 2018, 50e6, 1e8, "USD"),
    ])
    r = rank(store, RankingSpec(2018, acfic=True), fx=fx)
    assert col(r, "org_id") == ["usd_in", "at"]
    assert set(col(r, "currency")) == {"CNY"}
    rows = by_org(r)
    assert rows["at"]["value"] == 30e6 and rows["at"]["prior_revenue"] == 500_000_000.0
    assert rows["usd_in"]["value"] == pytest.approx(5e6 * 7.5 / 1.10)
    assert rows["usd_in"]["prior_revenue"] == pytest.approx(80e6 * 7.5 / 1.10)
    with pytest.raises(UsageError, match="ranked by rd"):
        rank(store, RankingSpec(2018, acfic=True, by="intensity"), fx=fx)
    with pytest.raises(UsageError, match="ownership = private"):
        rank(store, RankingSpec(2018, acfic=True, scope="city:Wuhan"), fx=fx)  # only a state firm there


def test_private_city_and_country_scopes(store, fx):
    put(store, "regions", [{"region_id": "CN-SN-xian", "name_en": "Xi'an", "name_zh": "西安",
                            "aliases": ["Xian", "西安市"], "level": "city", "country": "CN"}])
    put(store, "organizations", [
        org("p1", ownership="private", city="Xi'an", country="CN"),
        org("s1", ownership="state", city="Xian", country="CN"),
        org("p2", ownership="private", city="Shenzhen", country="CN"),
        org("u1", ownership="foreign", city="Boston", country="US"),
    ])
    put(store, "financials", [fin(o, 2018, v) for o, v in (("p1", 4.0), ("s1", 3.0), ("p2", 2.0), ("u1", 1.0))])
    assert col(rank(store, RankingSpec(2018, scope="private"), fx=fx), "org_id") == ["p1", "p2"]
    assert col(rank(store, RankingSpec(2018, scope="city:Xi'an"), fx=fx), "org_id") == ["p1", "s1"]
    assert col(rank(store, RankingSpec(2018, scope="city:西安市"), fx=fx), "org_id") == ["p1", "s1"]
    china = rank(store, RankingSpec(2018, scope="country:China"), fx=fx)
    assert col(china, "org_id") == ["p1", "s1", "p2"] and col(china, "rank") == [1, 2, 3]
    with pytest.raises(UsageError, match="no organisation in city 'Paris'.*Xi'an"):
        rank(store, RankingSpec(2018, scope="city:Paris"), fx=fx)


def test_field_scope_needs_classification_results(store, fx):
    put(store, "organizations", [org(o) for o in ("a", "b", "c")])
    put(store, "financials", [fin("a", 2018, 3.0), fin("b", 2018, 2.0), fin("c", 2018, 1.0)])
    with pytest.raises(UsageError, match="classification"):
        rank(store, RankingSpec(2018, scope="field:ai"), fx=fx)
    fields = pd.DataFrame({"org_id": ["a", "c", "c"], "field": ["ai", "ai", "biotech"]})
    r = rank(store, RankingSpec(2018, scope="field:ai"), fx=fx, fields=fields)
    assert col(r, "org_id") == ["a", "c"] and col(r, "field") == ["ai", "ai"]
    world = by_org(rank(store, RankingSpec(2018), fx=fx, fields=ibis.memtable(fields)))
    assert world["c"]["field"] == "ai|biotech" and world["b"]["field"] is None
    with pytest.raises(UsageError, match="unknown field 'robots'.*photonics_chips"):
        rank(store, RankingSpec(2018, scope="field:robots"), fx=fx, fields=fields)


# ------------------------------------------------------------------------------ bad input


def test_parsing_errors_list_the_allowed_forms():
    assert parse_scope("country:cn") == ("country", "CN")
    assert parse_scope(" World ") == ("world", None)
    assert parse_scope("city:Xi'an") == ("city", "Xi'an")
    assert parse_by("cumulative:10") == ("cumulative", 10)
    with pytest.raises(UsageError, match="unknown scope 'planet:mars'.*country:CC"):
        parse_scope("planet:mars")
    with pytest.raises(UsageError, match="unknown country 'Atlantis'"):
        parse_scope("country:Atlantis")
    with pytest.raises(UsageError, match="cannot rank by 'cumulative:0'.*cumulative:N"):
        parse_by("cumulative:0")


def test_year_currency_and_convention_errors(store, fx):
    put(store, "organizations", [org("a", country="DE"), org("y", name="Yen Co", country="JP")])
    put(store, "financials", [fin("a", 2017, 1.0), fin("a", 2018, 2.0)])
    with pytest.raises(UsageError, match="no R&D figures for 2030.*2017–2018"):
        rank(store, RankingSpec(2030), fx=fx)
    with pytest.raises(FXError, match="CHF.*2018-12-31"):
        rank(store, RankingSpec(2018, currency="CHF"), fx=fx)
    with pytest.raises(UsageError, match="unknown FX convention 'spot'.*scoreboard"):
        rank(store, RankingSpec(2018, fx_convention="spot"), fx=fx)
    with pytest.raises(UsageError, match="ISO 4217"):
        rank(store, RankingSpec(2018, currency="euro"), fx=fx)
    put(store, "financials", [fin("y", 2018, 5.0, currency="JPY")])
    with pytest.raises(FXError, match="JPY.*2018"):
        rank(store, RankingSpec(2018), fx=fx)
    # rates are looked up only for the organisations in scope: Germany needs no yen rate
    assert col(rank(store, RankingSpec(2018, scope="country:DE"), fx=fx), "org_id") == ["a"]


def test_expression_is_backend_neutral(store, fx):
    put(store, "organizations", [org("a", ownership="private")])
    put(store, "financials", [fin("a", 2017, 1.0, 2.0), fin("a", 2018, 2.0, 3.0)])
    expr = rank_expr(store, RankingSpec(2018, by="cumulative:2", top=5), fx=fx)
    assert "row_number" in ibis.to_sql(expr, dialect="databricks").lower()  # compiles for Spark SQL


# ------------------------------------------------------------------------------ decade


HUAWEI = dict(zip(range(2013, 2023), (31563, 40845, 59607, 76391, 89690, 101509, 131659, 141893, 142666, 161494)))


def test_huawei_decade_adds_up_to_977_3_bn_rmb(store, fx, tmp_path):
    put(store, "organizations", [org("huawei", name="Huawei", ownership="private", country="CN")])
    put(store, "financials", [fin("huawei", y, v * 1e6, currency="CNY") for y, v in HUAWEI.items()],
        source="Huawei annual reports (hardtech domain reference)")
    d = decade(store, "huawei", 2013, 2022)
    assert d["total"] == 977_317e6 and d["currency"] == "CNY"
    assert round(d["total"] / 1e9, 1) == 977.3
    assert d["coverage"] == "10/10" and d["missing"] == []
    assert [y["year"] for y in d["years"]] == list(range(2013, 2023))
    assert d["sources"] == ["Huawei annual reports (hardtech domain reference)"]
    eur = decade(store, "huawei", 2013, 2022, currency="EUR", fx=fx_with_2022(tmp_path))
    assert eur["total"] == pytest.approx(977_317e6 / 7.5)  # every year at the 31 Dec 2022 rate
    with pytest.raises(UsageError, match=r"huawei \(Huawei\) has no R&D figure for 2023.*2013–2022"):
        decade(store, "huawei", 2013, 2023)
    part = decade(store, "huawei", 2012, 2014, require_complete=False)
    assert part["coverage"] == "2/3" and part["missing"] == [2012] and part["total"] == (31563 + 40845) * 1e6
    with pytest.raises(NotFound, match="'zte'"):
        decade(store, "zte", 2013, 2022)
    with pytest.raises(FXError, match="CNY.*2022"):
        decade(store, "huawei", 2013, 2022, currency="EUR", fx=fx)  # the test table stops in 2018


def fx_with_2022(tmp_path):
    """The test table plus a 31 Dec 2022 CNY rate, to check that every year converts at the end year's rate."""
    p = tmp_path / "fx22.csv"
    p.write_text(FX_CSV + "2022-12-30,EUR,CNY,7.5,test\n", encoding="utf-8")
    return FXTable.from_csv(p)
