"""Date and year parsing at the edges of every accepted range, with every refusal's exact reason.

Written from the mutation run's survivors of `sources/dates.py` (docs/testing.md): the first and last
year accepted, the first and last Excel serial, numbers that are neither a year nor YYYYMMDD, and the
missing-value words in any case — each on both sides of the edge.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from hardtech.errors import ParseError
from hardtech.sources.dates import EXCEL_EPOCH, EXCEL_SERIALS, YEARS, parse_date, parse_date_series, parse_year

LOW, HIGH = YEARS


@pytest.mark.parametrize("form", [int, float, str, lambda y: f"{y}年", lambda y: f"FY{y}", lambda y: f"fy {y}",
                                  lambda y: f"{y}财年", lambda y: f"年度{y}"])
def test_the_first_and_last_year_are_years_and_their_neighbours_are_not(form):
    assert parse_year(form(LOW)) == LOW and parse_year(form(HIGH)) == HIGH
    for outside in (LOW - 1, HIGH + 1):
        with pytest.raises(ParseError) as e:
            parse_year(form(outside))
        assert str(e.value) == f"cannot read {form(outside)!r} as a year: expected e.g. 2016, 2016年, FY2016"
        assert e.value.value == form(outside)


@pytest.mark.parametrize("value", [LOW, HIGH, float(LOW), float(HIGH)])
def test_a_year_number_is_the_first_of_january(value):
    d = parse_date(value)
    assert (d.value, d.precision) == (dt.date(int(value), 1, 1), "year")


@pytest.mark.parametrize("value, why", [
    (LOW - 1, "a number is read as a year or YYYYMMDD (Excel serials need serial=True)"),
    (HIGH + 1, "a number is read as a year or YYYYMMDD (Excel serials need serial=True)"),
    (9_999_999, "a number is read as a year or YYYYMMDD (Excel serials need serial=True)"),
    (100_000_000, "a number is read as a year or YYYYMMDD (Excel serials need serial=True)"),
    (2016.5, "a date number must be a whole year or YYYYMMDD"),
    (20161301, "no such day in the calendar (2016-13-01)"),
    (9_9991_231, "year 9999 is outside 1000–2999"),
])
def test_numbers_that_are_no_date_say_why(value, why):
    with pytest.raises(ParseError) as e:
        parse_date(value)
    assert str(e.value) == f"cannot read {value!r} as a date: {why}" and e.value.value == value


def test_eight_digit_days_at_the_edges_of_the_years():
    assert parse_date(10_000_101).value == dt.date(1000, 1, 1)
    assert parse_date(29_991_231).value == dt.date(2999, 12, 31)


@pytest.mark.parametrize("serial", [EXCEL_SERIALS[0], EXCEL_SERIALS[1], EXCEL_SERIALS[0] + 0.5])
def test_the_first_and_last_excel_serials_are_days(serial):
    d = parse_date(serial, serial=True)
    assert (d.value, d.precision) == (EXCEL_EPOCH + dt.timedelta(days=int(serial)), "day")


@pytest.mark.parametrize("serial", [EXCEL_SERIALS[0] - 1, EXCEL_SERIALS[1] + 1])
def test_serials_outside_the_plausible_span_say_so(serial):
    with pytest.raises(ParseError) as e:
        parse_date(serial, serial=True)
    assert str(e.value) == f"cannot read {serial!r} as a date: an Excel serial number should lie in {EXCEL_SERIALS}"
    assert e.value.value == serial


@pytest.mark.parametrize("value", [None, pd.NA, pd.NaT, float("nan"), np.nan, "N/A", "n/a", "UNKNOWN", "未披露", " - "])
def test_missing_values_are_no_year(value):
    assert parse_year(value) is None


@pytest.mark.parametrize("value", [True, False, np.bool_(True)])
def test_a_yes_no_value_is_not_a_year(value):
    with pytest.raises(ParseError):
        parse_year(value)


def test_the_bulk_parser_returns_seconds_and_nat_for_gaps():
    out = parse_date_series(pd.Series(["2016-05-03", None, "2016年5月", "", "2016"]))
    values = out["value"]
    assert values.dtype == np.dtype("datetime64[s]")
    assert values.iloc[0] == pd.Timestamp("2016-05-03") and values.iloc[2] == pd.Timestamp("2016-05-01")
    assert pd.isna(values.iloc[1]) and pd.isna(values.iloc[3])
    assert out["precision"].tolist()[:3] == ["day", None, "month"]


@pytest.mark.parametrize("value, why", [
    (True, "a yes/no value is not a date"),
    (float("inf"), "the number is not finite"),
    ("13/5/2025", "slashed dates with the year last are month/day/year"),
    ("lots", "unrecognised format (expected e.g. 2016-05-03, 2016年5月, 5/13/2025)"),
])
def test_every_date_refusal_names_the_value_and_the_reason(value, why):
    with pytest.raises(ParseError) as e:
        parse_date(value)
    assert str(e.value) == f"cannot read {value!r} as a date: {why}" and e.value.value == value


@pytest.mark.parametrize("text", ["45000", "45000.5", " 45000 "])
def test_an_excel_serial_written_as_text_is_a_day_when_serials_are_asked_for(text):
    assert parse_date(text, serial=True).value == EXCEL_EPOCH + dt.timedelta(days=45000)
    with pytest.raises(ParseError) as e:
        parse_date("99999", serial=True)
    assert "Excel serial number" in str(e.value) and e.value.value == "99999"


def test_numpy_dates_and_their_gaps():
    assert parse_date(np.datetime64("NaT")) is None
    assert parse_date(np.datetime64("2020-01-02")).value == dt.date(2020, 1, 2)


@pytest.mark.parametrize("value, why", [(10_000_000, "no such day in the calendar (1000-00-00)"),
                                        (99_999_999, "year 9999 is outside 1000–2999")])
def test_the_first_and_last_eight_digit_numbers_are_read_as_days(value, why):
    with pytest.raises(ParseError) as e:
        parse_date(value)
    assert str(e.value) == f"cannot read {value!r} as a date: {why}"


def test_a_numpy_gap_is_no_year():
    assert parse_year(np.datetime64("NaT")) is None


@pytest.mark.parametrize("values", [["2016-05-03", None], pd.Series(["2016-05-03", None]),
                                    pd.Series(["2016-05-03", None], dtype="category")])
def test_the_bulk_parser_takes_lists_series_and_categories(values):
    out = parse_date_series(values)
    assert out["value"].iloc[0] == pd.Timestamp("2016-05-03") and pd.isna(out["value"].iloc[1])
    assert out["precision"].tolist() == ["day", None] and out["error"].tolist() == [None, None]


def test_the_bulk_parser_on_nothing_keeps_its_types():
    out = parse_date_series(pd.Series([], dtype=object))
    assert out["value"].dtype == np.dtype("datetime64[s]") and len(out) == 0


MIXED = ["2016-05-03", " 2016-05-03 ", "2016年5月", "2016", "20001229", "5/13/2025", "13/5/2025", "lots", "0999-01-01",
         "2016-02-30", "", None, "N/A", "2999-12-31", "3000-01-01"]


@pytest.mark.parametrize("dtype", [object, "string"])
def test_the_bulk_parser_says_exactly_what_the_one_value_parser_says(dtype):
    s = pd.Series(MIXED * 2, dtype=dtype, index=[f"r{i}" for i in range(2 * len(MIXED))])
    out = parse_date_series(s)
    assert out.index.equals(s.index) and list(out.columns) == ["value", "precision", "error"]
    for key, v in s.items():
        v = None if v is pd.NA else v
        row = out.loc[key]
        try:
            want = parse_date(v)
        except ParseError as exc:
            assert row["error"] == str(exc) and pd.isna(row["value"]) and row["precision"] is None, v
            continue
        assert row["error"] is None, v
        if want is None:
            assert pd.isna(row["value"]) and row["precision"] is None, v
        else:
            assert row["value"] == pd.Timestamp(want.value) and row["precision"] == want.precision, v


def test_a_numeric_column_is_read_as_serials_only_when_every_value_is_a_plausible_serial():
    lo, hi = EXCEL_SERIALS
    edges = parse_date_series(pd.Series([lo, hi, np.nan], index=[7, 8, 9]))
    assert edges["value"].iloc[0] == pd.Timestamp(EXCEL_EPOCH + dt.timedelta(days=lo))
    assert edges["value"].iloc[1] == pd.Timestamp(EXCEL_EPOCH + dt.timedelta(days=hi))
    assert pd.isna(edges["value"].iloc[2]) and edges.index.tolist() == [7, 8, 9]
    years = parse_date_series(pd.Series([2016, lo - 1]))  # one value outside: years, and a refusal
    assert years["value"].iloc[0] == pd.Timestamp("2016-01-01") and years["precision"].iloc[0] == "year"
    assert years["error"].iloc[1] == f"cannot read {lo - 1!r} as a date: a number is read as a year or " \
                                     "YYYYMMDD (Excel serials need serial=True)"


def test_a_datetime_column_keeps_its_days_and_drops_the_time_zone():
    s = pd.Series(pd.to_datetime(["2016-05-03 23:30", None]).tz_localize("Asia/Shanghai"), index=["a", "b"])
    out = parse_date_series(s)
    assert out["value"].iloc[0] == pd.Timestamp("2016-05-03") and pd.isna(out["value"].iloc[1])
    assert out["precision"].tolist() == ["day", None] and out.index.tolist() == ["a", "b"]
    assert out["value"].dtype == np.dtype("datetime64[s]")
    naive = parse_date_series(pd.Series(pd.to_datetime(["2016-05-03 10:00"])))
    assert naive["value"].iloc[0] == pd.Timestamp("2016-05-03") and naive["error"].tolist() == [None]


def test_the_bulk_parser_refuses_yes_no_values_and_never_mixes_up_equal_values_of_other_types():
    bools = parse_date_series(pd.Series([True, False]))
    assert bools["error"].tolist() == ["cannot read True as a date: a yes/no value is not a date",
                                       "cannot read False as a date: a yes/no value is not a date"]
    mixed = parse_date_series(pd.Series([1, True, 2016], dtype=object))  # 1 == True, but not the same value
    assert mixed["error"].tolist()[:2] == [
        "cannot read 1 as a date: a number is read as a year or YYYYMMDD (Excel serials need serial=True)",
        "cannot read True as a date: a yes/no value is not a date"]
    assert mixed["precision"].tolist()[2] == "year"
