"""Rankings: the conventions file, the decade total and every "nothing to show" — the promises around the rank.

Written from the mutation run's survivors of `analytics/ranking.py` (docs/testing.md): the default rules
come from the packaged ranking.toml and a malformed one is refused naming file and key; `decade` returns
every documented field, converts by the convention at the year-end rate within the rules' 31 days, and
refuses what it cannot add up with a message saying what to do; each `NothingToShow` carries a key and
arguments that fill the translated message in English and Chinese (what the CLI shows).
"""

from __future__ import annotations

import datetime as dt
import tomllib
from importlib import resources
from pathlib import Path

import pandas as pd
import pytest

from hardtech.analytics.ranking import RankingSpec, available_years, decade, load_rules, rank
from hardtech.errors import FXError, NothingToShow, SourceError, UsageError
from hardtech.sources.fx import FXTable

# the store and FX fixtures of the ranking's own tests: the same made-up rates, rows put in directly
from test_ranking import T0, fx, put  # noqa: E402,F401 - fx is a fixture


def fin(oid, year, rd, currency="EUR", revenue=None):
    return {"org_id": oid, "fiscal_year": year, "currency": currency, "rd_expense": rd, "revenue": revenue}


def cli_messages() -> dict:
    path = resources.files("hardtech.data") / "i18n" / "cli.toml"
    return tomllib.loads(path.read_text(encoding="utf-8"))


def assert_translatable(exc: NothingToShow) -> dict[str, str]:
    """The key names a message in both languages and the arguments fill every placeholder in both."""
    assert exc.key, f"no translation key on {exc}"
    section, name = exc.key.split(".")
    msgs = cli_messages()
    return {lang: msgs[lang][section][name].format(**exc.args_) for lang in ("en", "zh")}


# ------------------------------------------------------------------------------------------ the rules file


def test_the_default_rules_are_the_packaged_ranking_toml():
    load_rules.cache_clear()
    try:
        rules = load_rules()
        packaged = Path(str(resources.files("hardtech") / "data" / "rules" / "ranking.toml"))
        assert Path(rules.path) == packaged
        doc = tomllib.loads(packaged.read_text(encoding="utf-8"))
        assert rules.version == doc["version"] and rules.within_days == doc["fx"]["year_end_within_days"]
        assert rules.defaults == doc["defaults"]
    finally:
        load_rules.cache_clear()


def _rules_text(**replace: str) -> str:
    text = Path(load_rules().path).read_text(encoding="utf-8")
    for old, new in replace.items():
        assert old in text, old
        text = text.replace(old, new)
    return text


@pytest.mark.parametrize(
    "old,new,why",
    [
        ('rate_year = "own"', 'rate_year = "daily"', "fx_conventions.yearly.rate_year must be 'ranking' or 'own'"),
        ('fx_convention = "scoreboard"', 'fx_convention = "spot"', "defaults.fx_convention 'spot' is not a convention"),
        ("inclusive = true ", "# inclusive = true ", "'inclusive'"),
        ("year_end_within_days = 31", "year_end_within_days = \"a month\"", "invalid literal for int()"),
    ],
    ids=["rate-year", "default-convention", "acfic-key", "within-days"],
)
def test_a_malformed_rules_file_is_refused_naming_file_and_key(tmp_path, old, new, why):
    p = tmp_path / "ranking.toml"
    p.write_text(_rules_text(**{old: new}), encoding="utf-8")
    with pytest.raises(SourceError) as err:
        load_rules(str(p))
    assert str(err.value).startswith(f"ranking rules {p} are malformed: ")
    assert why in str(err.value)


def test_an_unreadable_rules_file_says_which(tmp_path):
    p = tmp_path / "absent.toml"
    with pytest.raises(SourceError, match=f"cannot read ranking rules {p}"):
        load_rules(str(p))


# ------------------------------------------------------------------------------------------ years


def test_available_years_are_the_years_with_an_rd_figure(store):
    put(store, "organizations", [{"org_id": o, "kind": "company", "name_en": o} for o in ("a", "b")])
    put(store, "financials", [fin("a", 2019, 1.0), fin("a", 2016, 2.0), fin("b", 2016, 3.0),
                              fin("b", 2021, None, revenue=9.0)])  # revenue only: not a ranking year
    assert available_years(store) == [2016, 2019]
    tables = {"financials": store.table("financials"), "organizations": store.table("organizations")}
    assert available_years(tables) == [2016, 2019]


@pytest.mark.parametrize(
    "years,text",
    [([2015, 2016, 2017, 2019], "2015–2017, 2019"), ([2012], "2012"), ([2010, 2012, 2013], "2010, 2012–2013")],
)
def test_a_year_without_rd_figures_lists_the_years_there_are(store, fx, years, text):
    put(store, "organizations", [{"org_id": "a", "kind": "company", "name_en": "A"}])
    put(store, "financials", [fin("a", y, 1.0) for y in years])
    with pytest.raises(NothingToShow) as err:
        rank(store, RankingSpec(2030), fx=fx)
    assert str(err.value) == f"no R&D figures for 2030 in the store; years with R&D figures: {text}"
    assert err.value.key == "empty.rank_year"
    en = assert_translatable(err.value)["en"]
    assert "2030" in en and text in en


def test_a_store_without_rd_figures_says_none(store, fx):
    put(store, "organizations", [{"org_id": "a", "kind": "company", "name_en": "A"}])
    with pytest.raises(NothingToShow) as err:
        rank(store, RankingSpec(2018), fx=fx)
    assert str(err.value) == "no R&D figures for 2018 in the store; years with R&D figures: none"
    assert err.value.key == "empty.no_rd"
    assert_translatable(err.value)


# ------------------------------------------------------------------------------------------ the fields table


def test_a_fields_table_without_its_columns_is_refused_naming_them(store, fx):
    put(store, "organizations", [{"org_id": "a", "kind": "company", "name_en": "A"}])
    put(store, "financials", [fin("a", 2018, 1.0)])
    with pytest.raises(UsageError) as err:
        rank(store, RankingSpec(2018), fx=fx, fields=pd.DataFrame({"id": ["a"], "label": ["ai"]}))
    assert str(err.value) == "the fields table needs columns org_id and field (missing: field, org_id)"
    with pytest.raises(UsageError) as err:
        rank(store, RankingSpec(2018), fx=fx, fields=[{"org_id": "a", "fields": "ai"}])  # records work too
    assert str(err.value) == "the fields table needs columns org_id and field (missing: field)"
    ok = rank(store, RankingSpec(2018), fx=fx, fields=[{"org_id": "a", "field": "ai"}])
    assert ok.column("field").to_pylist() == ["ai"]


def test_a_missing_rate_names_the_currency_year_and_the_rate_date_of_the_convention(store, tmp_path):
    put(store, "organizations", [{"org_id": "j", "kind": "company", "name_en": "J"}])
    put(store, "financials", [fin("j", 2017, 1.0, "USD"), fin("j", 2018, 1.0)])  # the prior year is converted too
    only_2017 = FXTable.from_csv(_write(tmp_path, "a.csv", "date,base,quote,rate\n2017-12-29,EUR,USD,1.2\n"))
    with pytest.raises(FXError) as err:  # scoreboard: every year at the ranking year's rate
        rank(store, RankingSpec(2018), fx=only_2017)
    assert str(err.value).startswith("cannot convert USD figures of 2017 to EUR at the 31 December 2018 rate "
                                     "(scoreboard convention): ")
    only_2018 = FXTable.from_csv(_write(tmp_path, "b.csv", "date,base,quote,rate\n2018-12-31,EUR,USD,1.1\n"))
    with pytest.raises(FXError) as err:  # yearly: each year at its own
        rank(store, RankingSpec(2018, fx_convention="yearly"), fx=only_2018)
    assert str(err.value).startswith("cannot convert USD figures of 2017 to EUR at the 31 December 2017 rate "
                                     "(yearly convention): ")


def test_the_year_end_rate_may_be_up_to_31_days_old(store, tmp_path):
    put(store, "organizations", [{"org_id": "u", "kind": "company", "name_en": "U"}])
    put(store, "financials", [fin("u", 2018, 110.0, "USD")])
    ok = FXTable.from_csv(_write(tmp_path, "ok.csv", "date,base,quote,rate\n2018-11-30,EUR,USD,1.1\n"))
    r = rank(store, RankingSpec(2018), fx=ok).to_pylist()[0]
    assert r["rd"] == pytest.approx(100.0) and r["fx_date"] == dt.date(2018, 11, 30)
    old = FXTable.from_csv(_write(tmp_path, "old.csv", "date,base,quote,rate\n2018-11-29,EUR,USD,1.1\n"))
    with pytest.raises(FXError, match="within 31 days"):
        rank(store, RankingSpec(2018), fx=old)


def _write(tmp_path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


# ------------------------------------------------------------------------------------------ decade


@pytest.fixture
def decade_store(store):
    put(store, "organizations", [
        {"org_id": "mix", "kind": "company", "name_en": "Mix Co"},
        {"org_id": "zh", "kind": "company", "name_zh": "中文公司"},
        {"org_id": "bare", "kind": "company"},
    ])
    put(store, "financials", [fin("mix", 2016, 80.0, "CNY"), fin("mix", 2017, 12.0, "USD"), fin("mix", 2018, 5.0)],
        source="annual report")
    put(store, "financials", [fin("zh", 2017, 8.0, "CNY"), fin("zh", 2018, 16.0, "CNY"),
                              fin("zh", 2015, None, "CNY", revenue=5.0)],  # revenue only: not a year with R&D
        source="synth", synthetic=True)
    put(store, "financials", [fin("bare", 2018, 1.0)])
    return store


def test_decade_returns_every_field_converted_by_the_convention(decade_store, fx):
    d = decade(decade_store, "mix", 2016, 2018, "EUR", fx=fx)
    assert d == {
        "org_id": "mix", "name": "Mix Co", "start": 2016, "end": 2018, "currency": "EUR",
        "fx_convention": "scoreboard", "total": pytest.approx(80 / 7.5 + 12 / 1.10 + 5.0),
        "years": [
            {"year": 2016, "rd": pytest.approx(80 / 7.5), "original": 80.0, "original_currency": "CNY",
             "fx_rate": pytest.approx(1 / 7.5), "fx_date": dt.date(2018, 12, 31), "source": "annual report",
             "synthetic": False},
            {"year": 2017, "rd": pytest.approx(12 / 1.10), "original": 12.0, "original_currency": "USD",
             "fx_rate": pytest.approx(1 / 1.10), "fx_date": dt.date(2018, 12, 31), "source": "annual report",
             "synthetic": False},
            {"year": 2018, "rd": 5.0, "original": 5.0, "original_currency": "EUR", "fx_rate": 1.0, "fx_date": None,
             "source": "annual report", "synthetic": False},
        ],
        "covered": 3, "window": 3, "coverage": "3/3", "missing": [], "sources": ["annual report"], "synthetic": False,
    }
    yearly = decade(decade_store, "mix", 2016, 2018, "EUR", fx=fx, fx_convention="yearly")
    assert yearly["fx_convention"] == "yearly"
    assert [y["fx_date"] for y in yearly["years"]] == [dt.date(2016, 12, 30), dt.date(2017, 12, 29), None]
    assert yearly["total"] == pytest.approx(80 / 8.0 + 12 / 1.20 + 5.0)


def test_decade_in_its_own_currency_needs_no_rates_and_names_by_any_name(decade_store):
    d = decade(decade_store, "zh", 2017, 2018, fx=None)
    assert (d["name"], d["currency"], d["fx_convention"], d["total"], d["synthetic"]) == ("中文公司", "CNY", None, 24.0, True)
    assert [y["synthetic"] for y in d["years"]] == [True, True] and d["sources"] == ["synth"]
    assert decade(decade_store, "bare", 2018, 2018)["name"] == "bare"  # no name at all: the id


def test_decade_refuses_what_it_cannot_add_up(decade_store, fx):
    with pytest.raises(UsageError) as err:
        decade(decade_store, "mix", 2016, 2018)
    assert str(err.value) == "mix (Mix Co) reports R&D in CNY, EUR, USD over 2016–2018; give a currency to add them up"
    with pytest.raises(UsageError) as err:
        decade(decade_store, "mix", 2017, 2018)  # two currencies are already too many
    assert str(err.value) == "mix (Mix Co) reports R&D in EUR, USD over 2017–2018; give a currency to add them up"
    with pytest.raises(UsageError) as err:
        decade(decade_store, "mix", 2018, 2017)
    assert str(err.value) == "the window starts after it ends (2018 > 2017)"
    assert decade(decade_store, "mix", 2018, 2018)["total"] == 5.0  # a one-year window is a window
    with pytest.raises(UsageError) as err:
        decade(decade_store, "mix", 2016, 2018, "EUR", fx=fx, fx_convention="spot")
    assert str(err.value) == "unknown FX convention 'spot'; use one of: scoreboard, yearly"
    with pytest.raises(FXError) as err:
        decade(decade_store, "mix", 2016, 2018, "GBP", fx=fx)
    assert str(err.value).startswith("cannot convert mix (Mix Co)'s CNY R&D of 2016 to GBP (scoreboard convention): ")


def test_decade_with_missing_years_says_which_and_what_to_do(decade_store):
    with pytest.raises(NothingToShow) as err:
        decade(decade_store, "zh", 2015, 2018)
    assert str(err.value) == ("zh (中文公司) has no R&D figure for 2015–2016 in 2015–2018 (years it has: 2017–2018); "
                              "pass require_complete=False to sum the years present")
    assert err.value.key == "empty.decade"
    assert err.value.args_ == {"who": "zh (中文公司)", "missing": "2015–2016", "start": 2015, "end": 2018,
                               "years": "2017–2018"}
    assert_translatable(err.value)
    with pytest.raises(NothingToShow) as err:  # nothing at all in the window: no hint to sum what is not there
        decade(decade_store, "zh", 2010, 2012)
    assert str(err.value) == "zh (中文公司) has no R&D figure for 2010–2012 in 2010–2012 (years it has: 2017–2018)"
    assert_translatable(err.value)
    part = decade(decade_store, "zh", 2015, 2018, require_complete=False)
    assert (part["covered"], part["window"], part["coverage"], part["missing"]) == (2, 4, "2/4", [2015, 2016])


def test_decade_without_a_table_given_converts_with_the_shipped_one(decade_store):
    from hardtech.sources.fx import load_fx

    shipped = decade(decade_store, "mix", 2016, 2018, "EUR")
    assert shipped == decade(decade_store, "mix", 2016, 2018, "EUR", fx=load_fx())
    assert shipped["fx_convention"] == "scoreboard" and shipped["years"][0]["fx_date"] == dt.date(2018, 12, 31)
    foreign = decade(decade_store, "zh", 2017, 2018, "EUR")  # no year in the target currency
    assert foreign == decade(decade_store, "zh", 2017, 2018, "EUR", fx=load_fx())


def test_decade_names_an_unnamed_organisation_by_its_id_once(decade_store):
    with pytest.raises(NothingToShow) as err:
        decade(decade_store, "bare", 2017, 2018)
    assert str(err.value) == ("bare has no R&D figure for 2017 in 2017–2018 (years it has: 2018); "
                              "pass require_complete=False to sum the years present")


def test_decade_takes_one_figure_per_year_the_newest_import(decade_store):
    put(decade_store, "financials", [fin("zh", 2018, 20.0, "CNY")], source="restated", at=T0 + dt.timedelta(days=1))
    d = decade(decade_store, "zh", 2017, 2018)
    assert [(y["year"], y["rd"], y["source"]) for y in d["years"]] == [(2017, 8.0, "synth"), (2018, 20.0, "restated")]
    assert d["total"] == 28.0 and d["sources"] == ["restated", "synth"] and d["covered"] == 2


# ------------------------------------------------------------------------------------------ scopes


@pytest.fixture
def many_places(store):
    """13 countries and 13 cities, place i held by i organisations (so the 12 most common are a known list)."""
    orgs = [{"org_id": f"o{i:02d}-{j}", "kind": "company", "name_en": f"O{i}-{j}", "country": f"K{i:02d}",
             "city": f"City{i:02d}"} for i in range(1, 14) for j in range(i)]
    put(store, "organizations", orgs)
    put(store, "financials", [fin("o01-0", 2018, 1.0)])
    return store


def test_an_empty_scope_lists_the_twelve_most_common_places(many_places, fx):
    countries = ", ".join(f"K{i:02d}" for i in range(13, 1, -1))
    with pytest.raises(NothingToShow) as err:
        rank(many_places, RankingSpec(2018, scope="country:FR"), fx=fx)
    assert str(err.value) == f"no organisation in country FR; countries in the store include {countries}"
    assert (err.value.key, err.value.args_) == ("empty.scope_country", {"value": "FR", "known": countries})
    assert_translatable(err.value)
    cities = ", ".join(f"City{i:02d}" for i in range(13, 1, -1))
    with pytest.raises(NothingToShow) as err:
        rank(many_places, RankingSpec(2018, scope="city:Paris"), fx=fx)
    assert str(err.value) == f"no organisation in city 'Paris'; cities in the store include {cities}"
    assert (err.value.key, err.value.args_) == ("empty.scope_city", {"value": "Paris", "known": cities})
    assert_translatable(err.value)


def test_an_empty_scope_in_a_store_without_places_says_none(store, fx):
    put(store, "organizations", [{"org_id": "a", "kind": "company", "name_en": "A"}])
    put(store, "financials", [fin("a", 2018, 1.0)])
    for scope, text, key in (
        ("country:FR", "no organisation in country FR; countries in the store include none", "empty.scope_country"),
        ("city:Paris", "no organisation in city 'Paris'; cities in the store include none", "empty.scope_city"),
        ("private", "no organisation has ownership = private; import an ownership column to rank private companies",
         "empty.scope_private"),
    ):
        with pytest.raises(NothingToShow) as err:
            rank(store, RankingSpec(2018, scope=scope), fx=fx)
        assert (str(err.value), err.value.key) == (text, key)
        assert err.value.args_["known"] in ("none", "")
        assert_translatable(err.value)


def test_a_city_scope_uses_the_stores_regions_and_only_their_cities(store, fx):
    put(store, "regions", [
        {"region_id": "XX-gotham", "name_en": "Gotham", "name_zh": None, "aliases": ["GC"], "level": "city", "country": "US"},
        {"region_id": "XX-zor", "name_en": "Zorland", "name_zh": None, "aliases": ["Zorburg"], "level": "province",
         "country": "CN"},
    ])
    put(store, "organizations", [
        {"org_id": "g", "kind": "company", "name_en": "G", "city": "GC"},
        {"org_id": "q", "kind": "company", "name_en": "Q", "city": "Zorburg"},
    ])
    put(store, "financials", [fin("g", 2018, 1.0), fin("q", 2018, 1.0)])
    assert rank(store, RankingSpec(2018, scope="city:Gotham"), fx=fx).column("org_id").to_pylist() == ["g"]
    with pytest.raises(NothingToShow):  # Zorland is a province in the store: its aliases are not a city's
        rank(store, RankingSpec(2018, scope="city:Zorland"), fx=fx)


# ------------------------------------------------------------------------------------------ a field scope


def test_a_field_scope_refuses_an_unknown_field_and_says_what_it_needs(store, fx):
    """An unknown field names every field; without classifications, or with none in the field, the refusal
    says so with a key and arguments that fill the translated message."""
    from hardtech.analytics.taxonomy import load_taxonomy

    put(store, "organizations", [{"org_id": "a", "kind": "company", "name_en": "A"}])
    put(store, "financials", [fin("a", 2018, 1.0)])
    ids = list(load_taxonomy().fields)
    with pytest.raises(UsageError) as err:
        rank(store, RankingSpec(2018, scope="field:cooking"), fx=fx)
    assert str(err.value) == f"unknown field 'cooking'; fields: {', '.join(ids)}"
    with pytest.raises(NothingToShow) as err:
        rank(store, RankingSpec(2018, scope=f"field:{ids[0]}"), fx=fx)
    assert str(err.value) == (f"scope field:{ids[0]} needs classification results: pass a fields table "
                              "(org_id, field), e.g. from `hardtech classify`")
    assert err.value.key == "empty.scope_unclassified" and err.value.args_["value"] == ids[0]
    assert ids[0] in assert_translatable(err.value)["en"]
    with pytest.raises(NothingToShow) as err:
        rank(store, RankingSpec(2018, scope=f"field:{ids[0]}"), fx=fx, fields=[{"org_id": "a", "field": ids[1]}])
    assert str(err.value) == f"no organisation is classified in field {ids[0]}"
    assert err.value.key == "empty.scope_field" and err.value.args_ == {"value": ids[0], "known": ""}
    assert_translatable(err.value)


def test_each_bad_ranking_request_is_refused_with_its_own_message(store, fx):
    put(store, "organizations", [{"org_id": "a", "kind": "company", "name_en": "A"}])
    put(store, "financials", [fin("a", 2018, 1.0)])
    from hardtech.analytics.ranking import load_rules

    conventions = ", ".join(load_rules().conventions)
    for spec, message in [
        (RankingSpec(2018, fx_convention="moon"), f"unknown FX convention 'moon'; use one of: {conventions}"),
        (RankingSpec(2018, top=0), "top must be a positive whole number, not 0"),
        (RankingSpec(2018, top=2.5), "top must be a positive whole number, not 2.5"),
        (RankingSpec("twenty"), "the ranking year must be a year such as 2018, not 'twenty'"),
        (RankingSpec(2018, by="growth", acfic=True), "ACFIC lists are ranked by rd, not 'growth'"),
    ]:
        with pytest.raises(UsageError) as err:
            rank(store, spec, fx=fx)
        assert str(err.value) == message


def test_a_ranking_without_a_table_given_converts_with_the_shipped_one(store):
    put(store, "organizations", [{"org_id": "a", "kind": "company", "name_en": "A"}])
    put(store, "financials", [fin("a", 2018, 100.0, currency="EUR")])
    row = rank(store, RankingSpec(2018, currency="USD")).to_pylist()[0]
    assert row["original_currency"] == "EUR" and row["currency"] == "USD" and row["fx_date"] is not None
    assert 1.0 < row["fx_rate"] < 1.5 and row["rd"] == pytest.approx(100.0 * row["fx_rate"])  # EUR was above USD
