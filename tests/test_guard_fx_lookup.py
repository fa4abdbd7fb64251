"""FX lookup: every route a pair can take gives the right rate, the batch says what the single lookup says,
and every refusal says exactly what is missing — the promises behind every converted figure.

Written from the mutation run's survivors of `sources/fx.py` (docs/testing.md): cross rates in each of the
four orientations of their legs, which currency a cross goes through, the "nearest" and `max_age_days`
edges, dates given in every accepted form, `convert_series`' inputs and its error messages (each one the
scalar `rate`'s message for the first row that fails, with the count of rows).
"""

from __future__ import annotations

import datetime as dt
import itertools

import numpy as np
import pandas as pd
import pytest

from hardtech.errors import FXError, UsageError
from hardtech.sources.fx import ENV_VAR, FXTable

D = dt.date
DAY = D(2020, 1, 2)


def table(tmp_path, rows: str, name: str = "t.csv", version: str = "v1") -> FXTable:
    p = tmp_path / name
    p.write_text(f"# version: {version}\ndate,base,quote,rate,source\n{rows}", encoding="utf-8")
    return FXTable.from_csv(p)


# ------------------------------------------------------------------------------------------ routes


# X→Y through EUR, the pivot, with each leg stored either way round: (X, EUR) or (EUR, X); (EUR, Y) or (Y, EUR)
ORIENTATIONS = list(itertools.product([False, True], repeat=2))


@pytest.mark.parametrize("x_base,y_base", ORIENTATIONS, ids=lambda b: "stored-inverse" if b else "stored-direct")
def test_a_cross_rate_multiplies_its_legs_whichever_way_each_is_stored(tmp_path, x_base, y_base):
    eur_per_gbp, usd_per_eur = 1.18, 1.12  # 1 GBP = 1.18 EUR; 1 EUR = 1.12 USD
    leg_x = f"{DAY},GBP,EUR,{eur_per_gbp},a\n" if x_base else f"{DAY},EUR,GBP,{1 / eur_per_gbp!r},a\n"
    leg_y = f"{DAY},USD,EUR,{1 / usd_per_eur!r},b\n" if y_base else f"{DAY},EUR,USD,{usd_per_eur},b\n"
    # a third pair makes EUR the base with the most pairs, so the cross goes through it
    t = table(tmp_path, leg_x + leg_y + f"{DAY},EUR,JPY,120,c\n")
    r = t.rate("GBP", "USD", DAY)
    assert r.value == pytest.approx(eur_per_gbp * usd_per_eur, rel=1e-12)
    assert (r.base, r.quote, r.via, r.date, r.source) == ("GBP", "USD", "cross via EUR", DAY, "a + b")
    back = t.rate("USD", "GBP", DAY)
    assert back.value * r.value == pytest.approx(1.0, rel=1e-12)
    values, rates, dates = t.convert_series([100.0, 2.0], ["GBP", "USD"], "USD", DAY)
    assert rates[0] == r.value and values[0] == 100.0 * r.value and rates[1] == 1.0
    assert dates[0] == np.datetime64(DAY)


def test_direct_inverse_and_identity_say_so(tmp_path):
    t = table(tmp_path, f"{DAY},EUR,USD,1.25,s\n")
    d, i, same = t.rate(" eur ", "usd", DAY), t.rate("USD", "EUR", DAY), t.rate("usd", "USD", DAY)
    assert (d.base, d.quote, d.value, d.via) == ("EUR", "USD", 1.25, "direct")
    assert (i.base, i.quote, i.value, i.via) == ("USD", "EUR", 1 / 1.25, "inverse")
    assert (same.value, same.via, same.date) == (1.0, "identity", DAY)
    assert i.source == d.source == "s"  # both legs from one source: named once


def test_a_cross_goes_through_the_base_with_most_pairs_then_the_first_by_name(tmp_path):
    # GBP→JPY can go through EUR (3 pairs) or CHF (2 pairs): the rates differ, so the route shows
    rows = (f"{DAY},EUR,GBP,0.85,e\n{DAY},EUR,JPY,120,e\n{DAY},EUR,USD,1.1,e\n"
            f"{DAY},CHF,GBP,0.80,c\n{DAY},CHF,JPY,118,c\n")
    r = table(tmp_path, rows).rate("GBP", "JPY", DAY)
    assert (r.via, r.value) == ("cross via EUR", 120 / 0.85)
    # equal numbers of pairs: the first by name
    tie = table(tmp_path, rows.replace(f"{DAY},EUR,USD,1.1,e\n", "") + f"{DAY},ABC,GBP,2,x\n{DAY},ABC,JPY,300,x\n",
                name="tie.csv")
    r = tie.rate("GBP", "JPY", DAY)
    assert (r.via, r.value) == ("cross via ABC", 300 / 2)


def test_a_pivot_that_is_one_of_the_pair_is_passed_over_not_the_end_of_the_search(tmp_path):
    # EUR has the most pairs but is the currency asked for; the route goes on to CHF
    rows = (f"{DAY},EUR,USD,1.1,e\n{DAY},EUR,GBP,0.85,e\n{DAY},EUR,JPY,120,e\n{DAY},EUR,SEK,10.5,e\n"
            f"{DAY},CHF,EUR,0.93,c\n{DAY},CHF,CNY,7.1,c\n")
    r = table(tmp_path, rows).rate("EUR", "CNY", DAY)
    assert (r.via, r.value) == ("cross via CHF", pytest.approx(7.1 / 0.93, rel=1e-12))


def test_no_route_says_which_currency_is_missing_or_that_no_route_joins_them(tmp_path):
    t = table(tmp_path, f"{DAY},EUR,USD,1.1,e\n{DAY},CHF,JPY,150,c\n")
    tail = f"in t.csv (version v1): {{}} (it has CHF, EUR, JPY, USD); use --fx FILE or {ENV_VAR} for other rates"
    cases = [
        ("USD", "JPY", "no route between them"),
        ("XYZ", "USD", "XYZ is not in the table"),
        ("ABC", "XYZ", "ABC and XYZ are not in the table"),
    ]
    for frm, to, why in cases:
        with pytest.raises(FXError) as err:
            t.rate(frm, to, DAY)
        assert str(err.value) == f"no {frm}→{to} rate for {DAY} " + tail.format(why)
        with pytest.raises(FXError) as err:
            t.convert_series([5.0], frm, to, DAY)
        assert str(err.value) == f"no {frm}→{to} rate for {DAY} " + tail.format(why) + " (1 row cannot be converted)"


# ------------------------------------------------------------------------------------------ which rate


def test_nearest_takes_a_closer_later_rate_at_every_position(tmp_path):
    t = table(tmp_path, "2020-01-01,EUR,USD,1.0,s\n2020-01-10,EUR,USD,2.0,s\n2020-01-20,EUR,USD,3.0,s\n")
    cases = {  # day → the rate nearest to it (a tie keeps the earlier)
        D(2019, 12, 1): 1.0, D(2020, 1, 2): 1.0, D(2020, 1, 8): 2.0, D(2020, 1, 15): 2.0, D(2020, 1, 16): 3.0,
        D(2020, 1, 19): 3.0, D(2020, 3, 1): 3.0,
    }
    for day, value in cases.items():
        assert t.rate("EUR", "USD", day, "nearest").value == value, day
    days = list(cases)
    _, rates, _ = t.convert_series(np.ones(len(days)), "EUR", "USD", days, "nearest")
    assert list(rates) == list(cases.values())
    two = table(tmp_path, "2020-01-01,EUR,USD,1.0,s\n2020-01-10,EUR,USD,2.0,s\n", name="two.csv")
    assert two.rate("EUR", "USD", D(2020, 1, 9), "nearest").value == 2.0


def test_max_age_holds_for_every_rate_and_every_entry_point(tmp_path):
    t = table(tmp_path, "2020-01-01,EUR,USD,1.0,s\n2020-03-01,EUR,USD,2.0,s\n")
    too_old = D(2020, 2, 15)  # 45 days after the first rate, the first in its series
    with pytest.raises(FXError, match="within 30 days"):
        t.rate("EUR", "USD", too_old, max_age_days=30)
    assert t.rate("EUR", "USD", too_old, max_age_days=45).value == 1.0
    with pytest.raises(FXError, match="within 30 days"):
        t.convert(10.0, "EUR", "USD", too_old, max_age_days=30)
    assert t.convert(10.0, "EUR", "USD", too_old, max_age_days=45)[0] == 10.0
    values, _, _ = t.convert_series([1.0, 1.0], "EUR", "USD", [too_old, D(2020, 3, 5)], max_age_days=30, errors="nan")
    assert np.isnan(values[0]) and values[1] == 2.0
    with pytest.raises(FXError, match="within 30 days"):
        t.convert_series([1.0], "EUR", "USD", [too_old], max_age_days=30)


def test_year_end_accepts_a_rate_up_to_31_days_before_31_december(tmp_path):
    t = table(tmp_path, "2019-11-30,EUR,USD,1.1,s\n2020-11-29,EUR,USD,1.2,s\n")
    assert t.year_end("EUR", "USD", 2019).date == D(2019, 11, 30)  # 31 days before
    with pytest.raises(FXError, match="within 31 days"):
        t.year_end("EUR", "USD", 2020)  # 32 days before


@pytest.mark.parametrize(
    "on",
    [D(2020, 1, 6), "2020-01-06", " 2020-01-06 ", dt.datetime(2020, 1, 6, 23, 59), np.datetime64("2020-01-06"),
     np.datetime64("2020-01-06T15:30"), np.datetime64("2020-01-06T15:30:00.000000000")],
    ids=["date", "iso", "padded", "datetime", "datetime64[D]", "datetime64[m]", "datetime64[ns]"],
)
def test_a_day_in_any_accepted_form_is_that_day(tmp_path, on):
    t = table(tmp_path, "2020-01-03,EUR,USD,1.0,s\n2020-01-06,EUR,USD,2.0,s\n2020-01-07,EUR,USD,3.0,s\n")
    r = t.rate("EUR", "USD", on)
    assert (r.value, r.date) == (2.0, D(2020, 1, 6))


def test_a_day_that_is_not_one_is_refused_saying_so(tmp_path):
    t = table(tmp_path, f"{DAY},EUR,USD,1.0,s\n")
    with pytest.raises(UsageError) as err:
        t.rate("EUR", "USD", "2020-13-01")
    assert str(err.value) == "not a date: '2020-13-01' (use YYYY-MM-DD)"
    with pytest.raises(UsageError) as err:
        t.rate("EUR", "USD", 20200102)
    assert str(err.value) == "not a date: 20200102"
    with pytest.raises(FXError) as err:  # an unknown day has no rate, never the latest one
        t.rate("EUR", "USD", np.datetime64("NaT"))
    assert str(err.value).startswith("no EUR→USD rate on or before an unknown date in t.csv")
    with pytest.raises(UsageError) as err:
        t.rate("EUR", "USD", DAY, policy="latest")
    assert str(err.value) == "unknown FX policy 'latest'; use one of on_or_before, nearest"


# ------------------------------------------------------------------------------------------ messages


def test_each_missing_rate_message_says_policy_age_leg_and_span(tmp_path):
    t = table(tmp_path, "2020-01-01,EUR,USD,1.0,s\n2020-06-30,EUR,USD,1.2,s\n2020-01-01,EUR,CNY,7.8,s\n")
    tail = f"; use --fx FILE or {ENV_VAR} for other rates"
    cases = [
        (("EUR", "USD", D(2019, 6, 1), "on_or_before", None),
         "no EUR→USD rate on or before 2019-06-01 in t.csv (version v1): the table has EUR→USD "
         "from 2020-01-01 to 2020-06-30"),
        (("USD", "EUR", D(2020, 3, 1), "nearest", 30),
         "no USD→EUR rate near 2020-03-01 within 30 days in t.csv (version v1): the table has EUR→USD "
         "from 2020-01-01 to 2020-06-30"),
        (("USD", "CNY", D(2019, 6, 1), "on_or_before", None),
         "no USD→CNY rate on or before 2019-06-01 in t.csv (version v1): it needs EUR→USD, and the table has "
         "EUR→USD from 2020-01-01 to 2020-06-30"),
    ]
    for (frm, to, day, policy, age), message in cases:
        with pytest.raises(FXError) as err:
            t.rate(frm, to, day, policy, age)
        assert str(err.value) == message + tail
        # the batch names the same first failure, and counts the rows
        with pytest.raises(FXError) as err:
            t.convert_series([1.0, 2.0], frm, to, [day, day], policy, max_age_days=age)
        assert str(err.value) == message + tail + " (2 rows cannot be converted)"


def test_the_batch_names_the_first_failure_and_counts_every_failing_row(tmp_path):
    t = table(tmp_path, "2020-01-01,EUR,USD,1.0,s\n2020-01-01,EUR,CNY,7.8,s\n")
    with pytest.raises(FXError) as err:  # two unknown currencies: the first is named
        t.convert_series([1.0, 2.0, 3.0], ["ABC", "XYZ", "XYZ"], "EUR", DAY)
    assert str(err.value).startswith(f"no ABC→EUR rate for {DAY} ")
    assert str(err.value).endswith("(3 rows cannot be converted)")
    with pytest.raises(FXError) as err:  # two currencies without a rate that early: the first is named
        t.convert_series([1.0, 2.0], ["USD", "CNY"], "EUR", D(2019, 1, 1))
    assert str(err.value).startswith("no USD→EUR rate on or before 2019-01-01")
    assert str(err.value).endswith("(2 rows cannot be converted)")
    with pytest.raises(FXError) as err:  # an unknown currency on rows with no date at all: the date is missing
        t.convert_series([1.0], "XYZ", "EUR", [None])
    assert str(err.value) == "row 0 has an amount but no date to convert it (1 row cannot be converted)"
    with pytest.raises(FXError) as err:
        t.convert_series([1.0, 2.0], [None, "USD"], "EUR", DAY)
    assert str(err.value) == "row 0 has an amount but no currency to convert it (1 row cannot be converted)"
    with pytest.raises(FXError) as err:  # a date that cannot be read is no date
        t.convert_series([1.0, 2.0], "USD", "EUR", ["2020-01-05", "not a date"])
    assert str(err.value) == "row 1 has an amount but no date to convert it (1 row cannot be converted)"
    values, _, _ = t.convert_series([1.0, 2.0], "USD", "EUR", ["2020-01-05", "not a date"], errors="nan")
    assert values[0] == 1.0 and np.isnan(values[1])


def test_a_cross_row_missing_one_leg_has_no_rate_and_no_rate_date(tmp_path):
    # USD→CNY crosses EUR→USD (from 2020-01-01) and EUR→CNY (from 2020-03-01): in February one leg is missing
    t = table(tmp_path, "2020-01-01,EUR,USD,1.1,s\n2020-03-01,EUR,CNY,7.8,s\n2020-01-01,EUR,GBP,0.8,s\n")
    values, rates, dates = t.convert_series([1.0, 1.0], "USD", "CNY", [D(2020, 2, 1), D(2020, 3, 2)], errors="nan")
    assert np.isnan(values[0]) and np.isnan(rates[0]) and np.isnat(dates[0])
    assert rates[1] == 7.8 / 1.1 and dates[1] == np.datetime64("2020-01-01")  # a cross's date: its oldest leg
    # and the other way round: the first leg missing
    t2 = table(tmp_path, "2020-03-01,EUR,USD,1.1,s\n2020-01-01,EUR,CNY,7.8,s\n2020-01-01,EUR,GBP,0.8,s\n",
               name="t2.csv")
    values, rates, dates = t2.convert_series([1.0], "USD", "CNY", [D(2020, 2, 1)], errors="nan")
    assert np.isnan(values[0]) and np.isnan(rates[0]) and np.isnat(dates[0])


# ------------------------------------------------------------------------------------------ inputs


@pytest.mark.parametrize(
    "amounts",
    [
        [2.0, None, 4.0],
        pd.Series([2.0, pd.NA, 4.0], dtype="Float64"),
        pd.Series([2.0, pd.NA, 4.0], dtype=object),  # a nullable column after astype(object)
        pd.Series([2, None, 4], dtype=object),
        np.array([2.0, np.nan, 4.0]),
    ],
    ids=["list", "Float64", "object-NA", "object-None", "ndarray"],
)
def test_amounts_in_any_container_missing_ones_stay_missing(tmp_path, amounts):
    t = table(tmp_path, f"{DAY},EUR,USD,1.25,s\n")
    values, rates, _ = t.convert_series(amounts, "EUR", "USD", DAY)
    assert values.dtype == float and values[0] == 2.5 and np.isnan(values[1]) and values[2] == 5.0
    assert list(rates) == [1.25, 1.25, 1.25]


def test_the_batch_refuses_mismatched_lengths_and_unknown_error_modes(tmp_path):
    t = table(tmp_path, f"{DAY},EUR,USD,1.25,s\n")
    for ccy, days in ((["EUR"] * 3, [DAY, DAY]), (["EUR", "EUR"], [DAY] * 3), (["EUR"] * 3, [DAY] * 3)):
        with pytest.raises(UsageError) as err:
            t.convert_series([1.0, 2.0], ccy, "USD", days)
        assert str(err.value) == "amounts, currencies and dates must have the same length"
    with pytest.raises(UsageError) as err:
        t.convert_series([1.0], "EUR", "USD", DAY, errors="ignore")
    assert str(err.value) == "errors must be 'raise' or 'nan', not 'ignore'"
