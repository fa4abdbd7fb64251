"""Capital flows: every argument form, every label rule and every line of the notes and warnings — the promises
an analyst reads beside a flow table.

Written for the mutation run of `analytics/flows.py` (docs/testing.md): windows given as years or dates
(a year starts on 1 January and ends on 31 December), refusals naming the allowed values, the sector and
investor labels (placeholders such as `n/a` never counted as an investor, resolved ids preferred only when
every name resolved), the exact warning and note texts, medians, shares, growth rates over quarters and the
investor league table's order.
"""

from __future__ import annotations

import datetime as dt

import ibis
import ibis.expr.types as ir
import pandas as pd
import pyarrow as pa
import pytest

from hardtech.analytics.flows import (
    _date, _investor_labels, _sector, cagr, flows, flows_report, sector_share, tech_vs_model_share, top_investors,
    warnings_of,
)
from hardtech.errors import UsageError
from hardtech.sources.fx import FXTable

FX = "date,base,quote,rate,source\n2020-01-01,USD,CNY,7.0,test\n2021-01-01,USD,CNY,6.5,test\n"


@pytest.fixture
def fx(tmp_path):
    p = tmp_path / "fx.csv"
    p.write_text(FX, encoding="utf-8")
    return FXTable.from_csv(p)


def rounds(*rows) -> pd.DataFrame:
    cols = ["round_id", "org_id", "date", "stage", "amount", "amount_low", "amount_high", "currency", "investors",
            "investor_ids"]
    df = pd.DataFrame([dict(zip(cols, r)) for r in rows], columns=cols)
    df["date"] = pd.to_datetime(df["date"]).dt.date
    for c in ("amount", "amount_low", "amount_high"):
        df[c] = df[c].astype("float64")
    return df


def tables(r: pd.DataFrame, orgs: list[dict] | None = None, investors: list[dict] | None = None) -> dict:
    o = pd.DataFrame(orgs or [{"org_id": "a", "city": "Xi'an", "province": "Shaanxi", "country": "CN",
                               "industry_codes": ["unicorn_industry:Hardware"]}])
    for c in ("city", "province", "country"):
        if c not in o:
            o[c] = None
    if "industry_codes" not in o:
        o["industry_codes"] = [None] * len(o)
    schema = {"round_id": "string", "org_id": "string", "date": "date", "stage": "string", "amount": "float64",
              "amount_low": "float64", "amount_high": "float64", "currency": "string",
              "investors": "array<string>", "investor_ids": "array<string>"}
    out = {"funding_rounds": ibis.memtable(r, schema=schema),
           "organizations": ibis.memtable(o, schema={"org_id": "string", "city": "string", "province": "string",
                                                     "country": "string", "industry_codes": "array<string>"})}
    if investors is not None:
        out["investors"] = ibis.memtable(pd.DataFrame(investors), schema={
            "investor_id": "string", "name_en": "string", "name_zh": "string"})
    return out


# ------------------------------------------------------------------------------------------ arguments


def test_a_year_bound_covers_the_whole_year_and_a_date_bound_that_day():
    assert _date(2021, "start") == dt.date(2021, 1, 1) and _date(2021, "end") == dt.date(2021, 12, 31)
    assert _date(" 2021-06-30 ", "end") == dt.date(2021, 6, 30) and _date(None, "start") is None
    assert _date(dt.date(2020, 2, 29), "start") == dt.date(2020, 2, 29)
    with pytest.raises(UsageError) as err:
        _date("June 2021", "end")
    assert str(err.value) == "end 'June 2021' is not a date (YYYY-MM-DD) or a year"


def test_rounds_on_the_window_edges_are_inside(fx):
    r = rounds(("r0", "a", "2020-12-31", "A", 1.0, None, None, "USD", None, None),
               ("r1", "a", "2021-01-01", "A", 2.0, None, None, "USD", None, None),
               ("r2", "a", "2021-12-31", "B", 4.0, None, None, "USD", None, None),
               ("r3", "a", "2022-01-01", "B", 8.0, None, None, "USD", None, None))
    t = flows(tables(r), by="stage", start=2021, end=2021, fx=fx)
    assert {(x["group"], x["value"]) for x in t.to_pylist()} == {("A", 2.0), ("B", 4.0)}
    t = flows(tables(r), by="stage", start="2020-12-31", end="2022-01-01", fx=fx)
    assert sum(x["value"] for x in t.to_pylist()) == 15.0


@pytest.mark.parametrize(
    "kw,message",
    [
        ({"by": "planet"}, "unknown grouping (by) 'planet'; use one of: field, typology, sector, region, stage, investor"),
        ({"period": "week"}, "unknown period 'week'; use one of: year, quarter"),
        ({"metric": "mean"}, "unknown metric 'mean'; use one of: amount, count, median"),
        ({"currency": "dollars"}, "currency 'dollars' is not a three-letter ISO 4217 code (e.g. USD, CNY, EUR)"),
        ({"start": "spring 2021"}, "start 'spring 2021' is not a date (YYYY-MM-DD) or a year"),
        ({"end": "June 2021"}, "end 'June 2021' is not a date (YYYY-MM-DD) or a year"),
    ],
)
def test_each_bad_argument_is_refused_naming_every_choice(kw, message):
    with pytest.raises(UsageError) as err:
        flows({"funding_rounds": ibis.memtable(rounds()), "organizations": ibis.memtable(pd.DataFrame({"org_id": []}))}, **kw)
    assert str(err.value) == message


def test_arguments_are_read_whatever_their_case_and_spacing(fx):
    r = rounds(("r1", "a", "2021-03-01", "A", 2.0, None, None, "USD", None, None))
    t = flows(tables(r), by=" Stage ", period="QUARTER", metric=" Count", currency=" usd ", fx=fx)
    assert t.to_pylist()[0]["period"] == "2021-Q1" and t.schema.metadata[b"currency"] == b"USD"


def test_missing_tables_are_named():
    with pytest.raises(UsageError) as err:
        flows({"funding_rounds": None})
    assert str(err.value) == "capital flows need the funding_rounds and organizations table(s)"
    with pytest.raises(UsageError) as err:
        flows({"funding_rounds": ibis.memtable(rounds())})
    assert str(err.value) == "capital flows need the organizations table(s)"
    with pytest.raises(UsageError, match="a Store or a mapping"):
        flows(42)


# ------------------------------------------------------------------------------------------ labels


def test_the_first_code_with_a_sector_decides():
    assert _sector(["unicorn_industry:Hardware"]) == "secondary"
    assert _sector(["nonsense", "madeup:xyz", "unicorn_industry:E-commerce & direct-to-consumer",
                    "unicorn_industry:Hardware"]) == "tertiary"  # no value, unknown scheme: skipped
    assert _sector([" unicorn_industry : Hardware "]) == "secondary"
    assert _sector(None) == "unknown" and _sector([]) == "unknown" and _sector(["madeup:xyz"]) == "unknown"


def test_investor_labels_never_count_a_placeholder_and_prefer_ids_only_when_all_resolved():
    inv = ibis.memtable(pd.DataFrame([
        {"investor_id": "i:alpha", "name_en": "Alpha Capital", "name_zh": None},
        {"investor_id": "i:beta", "name_en": None, "name_zh": "贝塔"},
        {"investor_id": "i:anon", "name_en": "n/a", "name_zh": None},
        {"investor_id": "i:bare", "name_en": None, "name_zh": None},
    ]))
    df = pd.DataFrame({
        "investors": [["Alpha", "beta"], ["Alpha", "Gamma", "Delta"], [" N/A ", "unknown", "", "未透露"], None,
                      ["Alpha", "Alpha "], ["x"]],
        "investor_ids": [["i:alpha", "i:beta"], ["i:alpha"], ["i:anon"], ["i:bare"], None, ["i:alpha", "i:alpha"]],
    })
    got = _investor_labels(df, {"investors": inv}).tolist()
    assert got == [
        ["Alpha Capital", "贝塔"],  # every name resolved: shown by the resolved names
        ["Alpha", "Gamma", "Delta"],  # one of three resolved: the names as written
        ["unknown"],  # only placeholders, and a placeholder id: nobody known
        ["i:bare"],  # an id whose investor has no name: the id
        ["Alpha"],  # the same name twice counts once
        ["Alpha Capital"],  # the same id twice counts once
    ]
    assert _investor_labels(df.iloc[[1]], {}).tolist() == [["Alpha", "Gamma", "Delta"]]  # no investors table


# ------------------------------------------------------------------------------------------ notes and warnings


def test_every_left_out_round_is_named_in_a_warning_and_counted_in_a_note(fx):
    r = rounds(
        ("r1", "a", "2021-03-01", "A", 100.0, None, None, "USD", None, None),
        ("r2", "a", "2021-04-01", "A", None, 10.0, 50.0, "USD", None, None),  # a range
        ("r3", "a", "2021-05-01", "A", None, None, None, None, None, None),  # undisclosed
        ("r4", "a", "2021-06-01", "A", 7.0, None, None, " ", None, None),  # an amount, no currency
        ("r4b", "a", "2021-06-02", "A", 8.0, None, None, "", None, None),  # another: the warning lists both
        ("r5", "a", "2021-07-01", "A", 65.0, None, None, "cny", None, None),  # converted at the 2021-01-01 rate
        ("r6", "a", "2019-07-01", "A", 70.0, None, None, "CNY", None, None),  # before the first rate
        ("r7", "a", "2021-08-01", "A", 3.0, None, None, "GBP", None, None),  # a currency the table lacks
        ("r8", "a", None, "A", 1.0, None, None, "USD", None, None),  # no date
        ("r9", "a", None, "A", 1.0, None, None, "USD", None, None),
    )
    rep = flows_report(tables(r), by="stage", fx=fx)
    src = f"rates on or before each round's date from fx.csv (version {fx.version})"
    assert rep["warnings"] == [
        "2 round(s) without a date left out (no period): r8, r9",
        "2 round(s) with an amount but no currency counted, not summed: r4, r4b",
        "2 round(s) in CNY, GBP with no USD rate on or before their date counted, not summed: r6, r7",
    ]
    assert warnings_of(rep["table"]) == rep["warnings"] and rep["fx"] == src
    rows = {x["period"]: x for x in rep["table"].to_pylist()}
    y21 = rows["2021"]
    assert (y21["value"], y21["rounds"], y21["disclosed_rounds"], y21["undisclosed_rounds"]) == (110.0, 7, 2, 5)
    assert y21["note"] == f"not summed: 1 range, 1 undisclosed, 2 no currency, 1 no FX rate; converted at {src}"
    assert rows["2019"]["note"] == "not summed: 1 no FX rate" and rows["2019"]["value"] is None
    assert y21["share"] == 1.0 and rows["2019"]["share"] is None
    same = flows_report(tables(rounds(("r1", "a", "2021-03-01", "A", 1.0, None, None, "USD", None, None))), by="stage")
    assert same["fx"] == "no conversion needed" and same["table"].to_pylist()[0]["note"] is None


def test_median_count_and_amount_per_group(fx):
    r = rounds(*[(f"r{i}", "a", "2021-03-01", "A", v, None, None, "USD", None, None)
                 for i, v in enumerate([1.0, 2.0, 10.0, None])],
               ("b1", "a", "2021-03-01", "B", None, None, None, "USD", None, None))
    med = {x["group"]: x for x in flows(tables(r), by="stage", metric="median", fx=fx).to_pylist()}
    assert med["A"]["value"] == 2.0 and med["A"]["share"] is None and med["A"]["currency"] == "USD"
    assert med["B"]["value"] is None  # nothing disclosed: no median
    cnt = {x["group"]: x for x in flows(tables(r), by="stage", metric="count", fx=fx).to_pylist()}
    assert (cnt["A"]["value"], cnt["A"]["share"], cnt["B"]["share"]) == (4.0, 0.8, 0.2)
    amt = {x["group"]: x for x in flows(tables(r), by="stage", metric="amount", fx=fx).to_pylist()}
    assert (amt["A"]["value"], amt["A"]["share"], amt["B"]["value"], amt["B"]["share"]) == (13.0, 1.0, None, None)


def test_regions_fall_back_from_city_to_province_to_country(fx):
    orgs = [{"org_id": "c", "city": "Xi'an", "province": "Shaanxi", "country": "CN"},
            {"org_id": "p", "city": " ", "province": "Zhejiang", "country": "CN"},
            {"org_id": "n", "city": None, "province": "", "country": "US"},
            {"org_id": "u", "city": None, "province": None, "country": None}]
    r = rounds(*[(f"r{o}", o, "2021-03-01", "A", 1.0, None, None, "USD", None, None) for o in ("c", "p", "n", "u", "x")])
    got = {x["group"]: x["rounds"] for x in flows(tables(r, orgs), by="region", fx=fx).to_pylist()}
    assert got == {"Xi'an": 1, "Zhejiang": 1, "US": 1, "unknown": 2}  # x is not in the organisations table


# ------------------------------------------------------------------------------------------ growth


def test_cagr_rules_over_years_and_quarters():
    t = pa.table({"period": ["2019-Q1", "2020-Q3", "2019", "2021", "2018", "2020", "2019", "2020"],
                  "group": ["q", "q", "neg", "neg", "flat", "flat", "zero_end", "zero_end"],
                  "value": [100.0, 150.0, 10.0, -5.0, 3.0, 3.0, 4.0, 0.0]})
    got = {x["group"]: x for x in cagr(t).to_pylist()}
    assert got["q"]["years"] == 1.5 and got["q"]["cagr"] == pytest.approx(1.5 ** (1 / 1.5) - 1)
    assert got["neg"]["cagr"] is None and got["flat"]["cagr"] == 0.0
    assert got["zero_end"]["cagr"] == -1.0  # falling to nothing is a rate: -100 %
    assert (got["q"]["first_period"], got["q"]["last_period"], got["q"]["first_value"]) == ("2019-Q1", "2020-Q3", 100.0)
    with pytest.raises(UsageError) as err:
        cagr(pa.table({"period": ["2019-Q5"], "group": ["g"], "value": [1.0]}))
    assert str(err.value) == "period '2019-Q5' is neither YYYY nor YYYY-Qn"
    with pytest.raises(UsageError) as err:
        cagr(pa.table({"period": ["2019"], "group": ["g"], "amount": [1.0]}))
    assert str(err.value) == "the table has no column 'value'; columns: period, group, amount"
    other = cagr(pa.table({"period": ["2019", "2020"], "group": ["g", "g"], "amount": [1.0, 2.0]}), "amount")
    assert other.column("cagr").to_pylist() == [1.0]


CAGR_SCHEMA = pa.schema([("group", pa.string()), ("first_period", pa.string()), ("last_period", pa.string()),
                         ("first_value", pa.float64()), ("last_value", pa.float64()), ("years", pa.float64()),
                         ("cagr", pa.float64())])


def test_the_growth_table_has_its_schema_and_lists_the_groups_in_order():
    t = pa.table({"period": ["2020", "2019", "2021", "2019"], "group": ["b", "b", "a", "c"],
                  "value": [2.0, 1.0, None, 5.0]})
    got = cagr(t)
    assert got.schema.remove_metadata() == CAGR_SCHEMA  # typed even where every rate is NULL
    assert got.column("group").to_pylist() == ["b", "c"]  # in order; a group with no value at all is left out
    assert got.column("cagr").to_pylist() == [1.0, None]
    mixed = cagr(pa.table({"period": ["2019", "2020", "2019", "2020"], "group": ["z", "z", "m", "m"],
                           "value": [1.0, 4.0, 2.0, 2.0]}))
    assert mixed.column("group").to_pylist() == ["m", "z"]
    none = cagr(pa.table({"period": ["2019"], "group": ["g"], "value": pa.array([None], pa.float64())}))
    assert none.num_rows == 0 and none.schema.remove_metadata() == CAGR_SCHEMA


def test_a_group_whose_only_note_is_the_conversion_says_just_that(fx):
    r = rounds(("r1", "a", "2021-03-01", "A", 65.0, None, None, "CNY", None, None),
               ("r2", "a", "2021-04-01", "A", 1.0, None, None, "USD", None, None))
    rep = flows_report(tables(r), fx=fx)  # the defaults: by field, per year, the amount in USD
    meta = rep["table"].schema.metadata
    assert {k: meta[k.encode()].decode() for k in ("by", "period", "metric", "currency")} == {
        "by": "field", "period": "year", "metric": "amount", "currency": "USD"}
    row = rep["table"].to_pylist()[0]
    assert row["value"] == 11.0 and row["note"] == f"converted at {rep['fx']}"


# ------------------------------------------------------------------------------------------ investors


def test_top_investors_rank_by_rounds_then_amount_then_name(fx):
    r = rounds(
        ("r1", "a", "2021-01-05", "A", 10.0, None, None, "USD", ["Zeta", "Alpha", "Mu"], None),
        ("r2", "a", "2021-02-05", "A", 50.0, None, None, "USD", ["Zeta", "Beta"], None),
        ("r3", "a", "2021-03-05", "A", None, None, None, None, ["Alpha", "Beta", "n/a"], None),
        ("r4", "a", "2021-04-05", "A", 5.0, None, None, "USD", ["Omega", "Gamma"], None),
        ("r5", "a", "2021-05-05", "A", None, None, None, None, ["Eta"], None),
    )
    t = top_investors(tables(r), top=10, fx=fx).to_pylist()
    assert [(x["rank"], x["investor"], x["rounds"], x["disclosed_amount"]) for x in t] == [
        (1, "Zeta", 2, 60.0), (2, "Beta", 2, 50.0), (3, "Alpha", 2, 10.0),  # two rounds each: by amount
        (4, "Mu", 1, 10.0), (5, "Gamma", 1, 5.0), (6, "Omega", 1, 5.0),  # a tie in both: by name
        (7, "Eta", 1, None),  # nothing disclosed comes after any amount
    ]
    assert {x["field"] for x in t} == {"unclassified"} and {x["currency"] for x in t} == {"USD"}
    assert [x["investor"] for x in top_investors(tables(r), top=2, fx=fx).to_pylist()] == ["Zeta", "Beta"]
    for bad in (0, -1, None):
        with pytest.raises(UsageError) as err:
            top_investors(tables(r), top=bad, fx=fx)
        assert str(err.value) == f"top must be a positive number, not {bad!r}"
    with pytest.raises(UsageError) as err:
        top_investors(tables(r), currency="usd$", fx=fx)
    assert str(err.value) == "currency 'usd$' is not a three-letter ISO 4217 code (e.g. USD, CNY, EUR)"
    assert len(top_investors(tables(r), field="Unclassified", fx=fx).to_pylist()) == 7
    assert top_investors(tables(r), field="none", fx=fx).num_rows == 0


def test_an_investor_known_only_by_its_chinese_name_is_shown_by_it(store):
    # found while writing these tests: read through pandas, a missing English name was NaN, so flows by
    # investor failed (ArrowTypeError) and the league table silently dropped the investor
    store.con.execute("INSERT INTO investors (investor_id, name_zh) VALUES ('i:beta', '贝塔资本')")
    store.con.execute("INSERT INTO organizations (org_id, kind, name_en) VALUES ('a', 'company', 'A')")
    store.con.execute("INSERT INTO funding_rounds (round_id, org_id, date, amount, currency, investors, investor_ids) "
                      "VALUES ('r1', 'a', DATE '2021-01-01', 1.0, 'USD', ['Beta Capital'], ['i:beta'])")
    assert [(x["group"], x["value"]) for x in flows(store, by="investor").to_pylist()] == [("贝塔资本", 1.0)]
    assert [x["investor"] for x in top_investors(store).to_pylist()] == ["贝塔资本"]


# ------------------------------------------------------------------------------------------ shares


SHARE_COLUMNS = ["period", "sector", "amount", "amount_share", "rounds", "count_share", "disclosed_rounds", "currency"]


def share_rounds():
    orgs = [{"org_id": "hw", "industry_codes": ["unicorn_industry:Hardware"]},
            {"org_id": "ec", "industry_codes": ["unicorn_industry:E-commerce & direct-to-consumer"]},
            {"org_id": "xx", "industry_codes": None}]
    r = rounds(("h1", "hw", "2020-02-01", "A", 70.0, None, None, "CNY", None, None),
               ("h2", "hw", "2020-08-01", "A", 10.0, None, None, "USD", None, None),
               ("e1", "ec", "2020-02-15", "A", None, None, None, None, None, None),  # undisclosed only
               ("x1", "xx", "2020-03-01", "A", 30.0, None, None, "USD", None, None),
               ("h3", "hw", "2019-06-01", "A", 5.0, None, None, "USD", None, None),  # outside the window
               ("h4", "hw", "2021-06-01", "A", 5.0, None, None, "USD", None, None),  # after it
               ("n1", "hw", None, "A", 1.0, None, None, "USD", None, None))  # no date: a warning
    return tables(r, orgs)


def test_sector_shares_pass_every_argument_through_and_keep_the_warnings(fx):
    t = sector_share(share_rounds(), period="quarter", currency="usd", fx=fx, start="2020-01-01", end=2020)
    assert t.column_names == SHARE_COLUMNS
    got = [(x["period"], x["sector"], x["amount"], x["amount_share"], x["rounds"], x["count_share"],
            x["disclosed_rounds"], x["currency"]) for x in t.to_pylist()]
    assert got == [  # sorted by period, then class; CNY converted at the rate of 2020-01-01
        ("2020-Q1", "other", 30.0, pytest.approx(30 / 40), 1, pytest.approx(1 / 3), 1, "USD"),
        ("2020-Q1", "secondary", 10.0, pytest.approx(10 / 40), 1, pytest.approx(1 / 3), 1, "USD"),
        ("2020-Q1", "tertiary", None, None, 1, pytest.approx(1 / 3), 0, "USD"),  # nothing disclosed: no amount
        ("2020-Q3", "secondary", 10.0, 1.0, 1, 1.0, 1, "USD"),
    ]
    assert warnings_of(t) == ["1 round(s) without a date left out (no period): n1"]
    cny = sector_share(share_rounds(), currency="CNY", fx=fx, start=2020, end=2020).to_pylist()
    assert {x["sector"]: x["amount"] for x in cny} == {"other": 210.0, "secondary": 140.0, "tertiary": None}
    assert {x["currency"] for x in cny} == {"CNY"}


def test_shares_of_an_empty_window_are_an_empty_table_with_every_column(fx):
    assert sector_share(share_rounds(), fx=fx, start=1990, end=1990).column_names == SHARE_COLUMNS
    empty = tech_vs_model_share(share_rounds(), fx=fx, start=1990, end=1990)
    assert empty.num_rows == 0 and empty.column_names == [c if c != "sector" else "class" for c in SHARE_COLUMNS]


def test_tech_vs_model_without_classifications_is_all_other(fx):
    t = tech_vs_model_share(share_rounds(), fx=fx, start=2020, end=2020).to_pylist()
    assert [(x["period"], x["class"], x["rounds"], x["amount"]) for x in t] == [("2020", "other", 4, 50.0)]


def test_a_table_without_warnings_has_none():
    assert warnings_of(pa.table({"period": ["2020"]})) == []
    assert warnings_of(pa.table({"period": ["2020"]}).replace_schema_metadata({"by": "stage"})) == []


# ------------------------------------------------------------------------------------------ the league table


LEAGUE_SCHEMA = pa.schema([("field", pa.string()), ("rank", pa.int64()), ("investor", pa.string()),
                           ("rounds", pa.int64()), ("disclosed_amount", pa.float64()), ("currency", pa.string())])


def test_the_league_table_has_its_schema_whatever_it_holds(fx):
    r = rounds(("r1", "a", "2021-01-05", "A", 0.5, None, None, "USD", ["Small"], None),
               ("r2", "a", "2021-02-05", "A", None, None, None, None, ["Quiet"], None),
               ("r3", "a", "2021-03-05", "A", 7.0, None, None, "CNY", ["n/a"], None),  # only a placeholder
               ("r4", "a", "2020-03-05", "A", 7.0, None, None, "CNY", ["Early"], None))
    t = top_investors(tables(r), fx=fx, start=2021, end="2021-12-31")
    assert t.schema.remove_metadata() == LEAGUE_SCHEMA and t.column_names == LEAGUE_SCHEMA.names
    assert [(x["investor"], x["disclosed_amount"]) for x in t.to_pylist()] == [("Small", 0.5), ("Quiet", None)]
    empty = top_investors(tables(r), fx=fx, start=1990, end=1990)
    assert empty.num_rows == 0 and empty.schema.remove_metadata() == LEAGUE_SCHEMA
    cny = top_investors(tables(r), currency="CNY", fx=fx, start=2020, end=2020).to_pylist()
    assert [(x["investor"], x["disclosed_amount"], x["currency"]) for x in cny] == [("Early", 7.0, "CNY")]
    usd = top_investors(tables(r), fx=fx, start=2020, end=2020).to_pylist()
    assert usd[0]["disclosed_amount"] == 1.0  # 7 CNY at the given table's 7.0, not the shipped table's rate
    with pytest.raises(UsageError) as err:
        top_investors(tables(r), field="cooking", fx=fx)
    assert str(err.value).startswith("unknown field 'cooking'; use one of: ")
    assert str(err.value).endswith(", none, unclassified")


def test_the_league_table_shows_ten_by_default(fx):
    r = rounds(*[(f"r{i}", "a", "2021-01-05", "A", float(i + 1), None, None, "USD", [f"Inv{i:02d}"], None)
                 for i in range(12)])
    t = top_investors(tables(r), fx=fx).to_pylist()
    assert [x["investor"] for x in t] == [f"Inv{i:02d}" for i in range(11, 1, -1)]


def classified(verdicts: dict[str, list[str]]) -> ir.Table:
    """A classifications table: one organisation verdict per org id, with the fields given."""
    rows = [{"entity_type": "organization", "entity_id": oid, "fields": fs, "typology": "deep_tech",
             "model_version": "m1", "classified_at": pd.Timestamp("2024-01-01")} for oid, fs in verdicts.items()]
    return ibis.memtable(pd.DataFrame(rows), schema={
        "entity_type": "string", "entity_id": "string", "fields": "array<string>", "typology": "string",
        "model_version": "string", "classified_at": "timestamp"})


def test_the_league_table_ranks_each_field_apart_and_lists_the_fields_in_order(fx):
    """A round counts in every field of its organisation; each field has its own ranks from 1, and the fields
    come in alphabetical order (the table a reader scans by field)."""
    from hardtech.analytics.taxonomy import load_taxonomy

    first, second = sorted(load_taxonomy().fields)[:2]
    r = rounds(("r1", "a", "2021-01-05", "A", 10.0, None, None, "USD", ["Zeta"], None),
               ("r2", "b", "2021-02-05", "A", 20.0, None, None, "USD", ["Alpha", "Zeta"], None),
               ("r3", "b", "2021-03-05", "A", 5.0, None, None, "USD", ["Alpha"], None))
    orgs = [{"org_id": o, "city": "Xi'an", "province": "Shaanxi", "country": "CN", "industry_codes": None}
            for o in ("a", "b")]
    t = tables(r, orgs=orgs) | {"classifications": classified({"a": [second], "b": [second, first]})}
    got = [(x["field"], x["rank"], x["investor"], x["rounds"], x["disclosed_amount"])
           for x in top_investors(t, fx=fx).to_pylist()]
    assert got == [(first, 1, "Alpha", 2, 25.0), (first, 2, "Zeta", 1, 20.0),
                   (second, 1, "Zeta", 2, 30.0), (second, 2, "Alpha", 2, 25.0)]
    assert [(x["field"], x["investor"]) for x in top_investors(t, fx=fx, top=1).to_pylist()] == [
        (first, "Alpha"), (second, "Zeta")]
    assert [x["investor"] for x in top_investors(t, field=second, fx=fx).to_pylist()] == ["Zeta", "Alpha"]


def test_investor_labels_keep_the_rows_index_and_show_an_unknown_id_as_itself():
    df = pd.DataFrame({"investors": [["Ghost"], ["A"]], "investor_ids": [["i:ghost"], None]}, index=[7, 3])
    got = _investor_labels(df, {})
    assert got.index.tolist() == [7, 3] and got.tolist() == [["i:ghost"], ["A"]]


def test_a_flow_report_carries_its_arguments_and_growth(fx):
    r = rounds(("r1", "a", "2020-03-01", "A", 1.0, None, None, "USD", None, None),
               ("r2", "a", "2021-03-01", "A", 2.0, None, None, "USD", None, None))
    rep = flows_report(tables(r), by="stage", period="year", metric="amount", fx=fx)
    meta = rep["table"].schema.metadata
    assert {k: meta[k.encode()].decode() for k in ("by", "period", "metric", "currency")} == {
        "by": "stage", "period": "year", "metric": "amount", "currency": "USD"}
    assert rep["cagr"].to_pylist() == [{"group": "A", "first_period": "2020", "last_period": "2021",
                                        "first_value": 1.0, "last_value": 2.0, "years": 1.0, "cagr": 1.0}]
