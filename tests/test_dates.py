"""Date parsing: each promised format, impossible dates refused, bulk parsing agreeing."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from hardtech.errors import ParseError
from hardtech.sources.dates import ParsedDate, parse_date, parse_date_series, parse_year

D = dt.date


CASES = [
    ("2016-05-03", D(2016, 5, 3), "day"),
    ("2016-5-3", D(2016, 5, 3), "day"),
    ("2016-05", D(2016, 5, 1), "month"),
    ("2016/5/3", D(2016, 5, 3), "day"),
    ("2016/05", D(2016, 5, 1), "month"),
    ("2016.05", D(2016, 5, 1), "month"),
    ("2016.05.03", D(2016, 5, 3), "day"),
    ("2016年5月", D(2016, 5, 1), "month"),
    ("2016年5月3日", D(2016, 5, 3), "day"),
    ("2016年05月03号", D(2016, 5, 3), "day"),
    ("2016年", D(2016, 1, 1), "year"),
    ("20001229", D(2000, 12, 29), "day"),
    ("2016", D(2016, 1, 1), "year"),
    ("2016.0", D(2016, 1, 1), "year"),
    ("5/13/2025", D(2025, 5, 13), "day"),
    ("12/16/2022", D(2022, 12, 16), "day"),
    ("13.05.2025", D(2025, 5, 13), "day"),
    ("2016-05-03T10:00:00", D(2016, 5, 3), "day"),
    ("2016-05-03 23:30:00+08:00", D(2016, 5, 3), "day"),
    ("2016-05-03T10:00:00Z", D(2016, 5, 3), "day"),
    ("２０１６年５月３日", D(2016, 5, 3), "day"),
    ("２０１６－０５－０３", D(2016, 5, 3), "day"),
    ("May 2016", D(2016, 5, 1), "month"),
    ("3 May 2016", D(2016, 5, 3), "day"),
    ("Sept. 3, 2019", D(2019, 9, 3), "day"),
    ("  2016-05-03  ", D(2016, 5, 3), "day"),
    (2016, D(2016, 1, 1), "year"),
    (2016.0, D(2016, 1, 1), "year"),
    (20001229, D(2000, 12, 29), "day"),
    (np.int64(19970509), D(1997, 5, 9), "day"),
    (D(2020, 1, 2), D(2020, 1, 2), "day"),
    (dt.datetime(2020, 1, 2, 23, 59), D(2020, 1, 2), "day"),
    (pd.Timestamp("2020-01-02 10:00"), D(2020, 1, 2), "day"),
    (np.datetime64("2020-01-02"), D(2020, 1, 2), "day"),
]


@pytest.mark.parametrize("text,value,precision", CASES)
def test_formats(text, value, precision):
    assert parse_date(text) == ParsedDate(value, precision)


@pytest.mark.parametrize("text", [None, float("nan"), "", "  ", "n/a", "NA", "-", pd.NaT, pd.NA])
def test_empty_is_none(text):
    assert parse_date(text) is None


@pytest.mark.parametrize(
    "text,why",
    [("2016-02-30", "no such day"), ("2015-02-29", "no such day"), ("2016-13", "no such day"),
     ("2016-13-01", "no such day"), ("20161301", "no such day"), ("32.01.2020", "no such day"),
     ("13/5/2025", "month/day/year"), ("abc", "unrecognised"), ("0", "unrecognised"),
     ("16-05-03", "unrecognised"), ("0999-01-01", "outside"), (2016.5, "whole year"),
     (42000, "serial"), (True, "yes/no")],
)
def test_garbage_and_impossible_dates(text, why):
    with pytest.raises(ParseError) as err:
        parse_date(text)
    assert repr(text) in str(err.value) and why in str(err.value)
    assert err.value.value is text or err.value.value == text


def test_leap_day_is_fine():
    assert parse_date("2016-02-29").value == D(2016, 2, 29)


def test_excel_serials_only_when_asked():
    assert parse_date(43831, serial=True) == ParsedDate(D(2020, 1, 1), "day")
    assert parse_date(43831.75, serial=True).value == D(2020, 1, 1)
    assert parse_date(42000, serial=True).value == D(2014, 12, 27)
    with pytest.raises(ParseError):
        parse_date(2016, serial=True)  # outside the plausible serial range
    df = parse_date_series(pd.Series([43831, 42000.5, None]))  # auto: all plausible serials
    assert df.value.iloc[0] == pd.Timestamp("2020-01-01")
    assert df.precision.tolist() == ["day", "day", None]
    df = parse_date_series(pd.Series([2016, 20001229, 42000]))  # mixed: not serials
    assert df.precision.tolist()[:2] == ["year", "day"] and df.error.iloc[2] is not None


@pytest.mark.parametrize(
    "text,year",
    [("2016", 2016), ("2016年", 2016), ("FY2016", 2016), ("fy 2016", 2016), ("2016年度", 2016),
     (2016.0, 2016), (2016, 2016), ("2016-05-03", 2016), ("２０１６", 2016), (None, None),
     (float("nan"), None), ("", None)],
)
def test_parse_year(text, year):
    assert parse_year(text) == year


@pytest.mark.parametrize("text", ["FY16", "abc", 2016.5, "16"])
def test_parse_year_rejects(text):
    with pytest.raises(ParseError, match="as a year"):
        parse_year(text)


MIXED = [c[0] for c in CASES] + [
    None, float("nan"), "", "2016-02-30", "abc", "13/5/2025", "0999-01-01", "2016-05-03",
    "2016-05-03", 42000,
]


@pytest.mark.parametrize("dtype", [object, "str"])
def test_series_agrees_with_scalar(dtype):
    values = MIXED if dtype is object else [v for v in MIXED if isinstance(v, str) or v is None]
    s = pd.Series(values, dtype=dtype, index=np.arange(len(values)) * 3)
    df = parse_date_series(s)
    assert list(df.columns) == ["value", "precision", "error"]
    assert list(df.index) == list(s.index)
    assert str(df.value.dtype).startswith("datetime64")
    for v, row in zip(values, df.itertuples()):
        try:
            p = parse_date(v)
        except ParseError as exc:
            assert row.error == str(exc) and pd.isna(row.value) and row.precision is None
            continue
        assert row.error is None
        if p is None:
            assert pd.isna(row.value) and row.precision is None
        else:
            assert row.value.date() == p.value and row.precision == p.precision


def test_series_of_timestamps_and_integers():
    df = parse_date_series(pd.Series(pd.to_datetime(["2020-01-01 10:00", None])))
    assert df.value.iloc[0] == pd.Timestamp("2020-01-01") and df.precision.iloc[0] == "day"
    assert pd.isna(df.value.iloc[1]) and df.precision.iloc[1] is None
    df = parse_date_series(pd.Series([20001229, 19970509, 0]))
    assert df.value.dt.year.tolist()[:2] == [2000, 1997]
    assert "0" in df.error.iloc[2]


def test_iso_column_of_a_million(capsys):
    s = pd.Series(pd.date_range("1990-01-01", periods=1_000_000, freq="h").strftime("%Y-%m-%d"))
    df = parse_date_series(s)  # speed: benchmarks/bench_parsers.py
    assert df.error.isna().all() and (df.precision == "day").all()
    assert df.value.iloc[-1] == pd.Timestamp(s.iloc[-1])


@pytest.mark.shared
def test_patent_file_dates_all_parse(shared):
    path = shared("patents_ai_assignee_dates.csv")
    df = pd.read_csv(path, dtype=str)
    for col in ["priority date", "filing/creation date", "publication date", "grant date"]:
        got = parse_date_series(df[col])
        assert got.error.isna().all(), got.error.dropna().head().tolist()
        assert (got.value.notna() == df[col].notna()).all()
    row = df.index[df["id"] == "US-12299796-B2"][0]
    got = parse_date_series(df["publication date"])
    assert got.value.loc[row] == pd.Timestamp("2025-05-13")


@pytest.mark.shared
def test_ashare_listing_dates(shared):
    path = shared("cn_ashare_listed_2019.csv")
    df = pd.read_csv(path)
    got = parse_date_series(df["timeToMarket"])
    ok = df["timeToMarket"] != 0  # tushare writes 0 for "no listing date yet"
    assert got.error[ok].isna().all() and got.error[~ok].notna().all()
    assert got.value[ok].max() <= pd.Timestamp("2019-04-29")  # the list's own date
    assert got.value.loc[df.code == 600336].item() == pd.Timestamp("2000-12-29")
