"""FX table: the shipped ECB rates, lookup policies, cross rates, errors naming what's missing."""

from __future__ import annotations

import csv
import datetime as dt
import os
import time

import numpy as np
import pandas as pd
import pytest

from hardtech.errors import FXError, SourceError, UsageError
from hardtech.sources.fx import ENV_VAR, FXTable, Rate, default_fx_path, load_fx

D = dt.date


@pytest.fixture
def table() -> FXTable:
    return FXTable.from_csv(default_fx_path())


def write(tmp_path, name: str, text: str):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_shipped_table(table):
    assert default_fx_path().name == "fx_rates.csv" and default_fx_path().exists()
    assert table.version == "ecb-yearend-2010-2024-r1"
    assert table.currencies == ["CNY", "EUR", "GBP", "HKD", "JPY", "KRW", "USD"]
    with open(default_fx_path(), encoding="utf-8") as fh:
        rows = list(csv.DictReader(line for line in fh if not line.startswith("#")))
    assert len(rows) == 15 * 6
    years = {}
    for r in rows:
        day = D.fromisoformat(r["date"])
        assert r["base"] == "EUR" and day.month == 12 and day.day >= 29 and day.weekday() < 5
        assert r["source"] == f"ECB euro foreign exchange reference rate, {r['date']}"
        assert r["checked"] in ("mirror", "no")
        years.setdefault(day.year, set()).add(r["quote"])
    assert sorted(years) == list(range(2010, 2025))
    assert all(q == {"USD", "CNY", "GBP", "JPY", "HKD", "KRW"} for q in years.values())


def test_known_values(table):
    assert table.rate("EUR", "USD", D(2018, 12, 31)).value == 1.145
    assert table.rate("EUR", "CNY", D(2024, 12, 31)).value == 7.5833
    assert table.rate("EUR", "JPY", "2013-12-31").value == 144.72


def test_same_currency_is_identity(table):
    r = table.rate("cny", "CNY", D(2001, 1, 1))  # even outside the table's years
    assert r == Rate("CNY", "CNY", 1.0, D(2001, 1, 1), "identity (same currency)", "identity")
    assert table.convert(5.0, "USD", "USD", D(2030, 1, 1))[0] == 5.0


def test_inverse_and_cross_rates(table):
    inv = table.rate("USD", "EUR", D(2018, 12, 31))
    assert inv.value == 1 / 1.145 and inv.via == "inverse"
    cross = table.rate("USD", "CNY", D(2018, 12, 31))
    assert cross.value == 7.8751 / 1.145
    assert cross.via == "cross via EUR" and cross.date == D(2018, 12, 31)
    assert cross.source == "ECB euro foreign exchange reference rate, 2018-12-31"
    back = table.rate("CNY", "USD", D(2018, 12, 31))
    assert back.value * cross.value == pytest.approx(1.0, rel=1e-15)
    assert 6.8 < cross.value < 6.95  # USD/CNY ended 2018 near 6.88


@pytest.mark.parametrize(
    "on,expected",
    [(D(2019, 6, 30), D(2018, 12, 31)), (D(2018, 12, 31), D(2018, 12, 31)),
     (D(2018, 12, 30), D(2017, 12, 29)), (D(2024, 12, 31), D(2024, 12, 31)),
     (D(2040, 1, 1), D(2024, 12, 31)), ("2011-12-30", D(2011, 12, 30))],
)
def test_on_or_before_takes_the_latest_earlier_rate(table, on, expected):
    assert table.rate("EUR", "USD", on).date == expected


def test_nearest(table, tmp_path):
    assert table.rate("EUR", "USD", D(2019, 11, 30), "nearest").date == D(2019, 12, 31)
    assert table.rate("EUR", "USD", D(2019, 3, 1), "nearest").date == D(2018, 12, 31)
    assert table.rate("EUR", "USD", D(2005, 1, 1), "nearest").date == D(2010, 12, 31)
    body = "date,base,quote,rate\n2020-01-01,EUR,USD,1\n2020-01-03,EUR,USD,2\n"
    p = write(tmp_path, "t.csv", body)
    assert FXTable.from_csv(p).rate("EUR", "USD", D(2020, 1, 2), "nearest").value == 1.0  # tie


def test_missing_rates_name_currency_and_date(table):
    with pytest.raises(FXError) as err:
        table.rate("EUR", "XYZ", D(2012, 5, 1))
    msg = str(err.value)
    assert "XYZ" in msg and "2012-05-01" in msg and "fx_rates.csv" in msg
    with pytest.raises(FXError) as err:
        table.rate("EUR", "USD", D(2009, 5, 1))
    msg = str(err.value)
    assert "EUR→USD" in msg and "on or before 2009-05-01" in msg and "2010-12-31" in msg
    with pytest.raises(FXError, match="USD→CNY.*needs EUR→USD"):
        table.rate("USD", "CNY", D(2009, 5, 1))


def test_max_age_and_year_end(table):
    assert table.rate("EUR", "USD", D(2019, 1, 30), max_age_days=30).date == D(2018, 12, 31)
    with pytest.raises(FXError, match="within 29 days"):
        table.rate("EUR", "USD", D(2019, 1, 30), max_age_days=29)
    r = table.year_end("CNY", "EUR", 2016)
    assert r.date == D(2016, 12, 30) and r.value == 1 / 7.3202
    with pytest.raises(FXError):
        table.year_end("CNY", "EUR", 2025)  # the shipped table stops at 2024


def test_bad_policy(table):
    with pytest.raises(UsageError, match="policy"):
        table.rate("EUR", "USD", D(2019, 1, 1), policy="latest")


def test_convert(table):
    value, rate = table.convert(100.0, "CNY", "USD", D(2021, 3, 1))
    assert rate.date == D(2020, 12, 31)
    assert value == 100.0 * (1.2271 / 8.0225)


def test_convert_series_agrees_with_scalar(table):
    rng = np.random.default_rng(3)
    n = 5_000
    ccy = rng.choice(["USD", "CNY", "EUR", "GBP", "JPY", "HKD", "KRW"], n)
    days = pd.Series(pd.Timestamp("2011-01-01") + pd.to_timedelta(rng.integers(0, 5500, n), "D"))
    amounts = pd.Series(rng.uniform(0, 1e9, n))
    for policy in ("on_or_before", "nearest"):
        values, rates, dates = table.convert_series(amounts, pd.Series(ccy), "USD", days, policy)
        for i in range(0, n, 97):
            r = table.rate(ccy[i], "USD", days[i].date(), policy)
            assert rates[i] == r.value, (ccy[i], days[i])
            assert dates[i] == np.datetime64(r.date)
            assert values[i] == amounts[i] * r.value


def test_convert_series_errors(table):
    with pytest.raises(FXError, match=r"XYZ.*1 row cannot"):
        table.convert_series([1.0, 2.0], ["USD", "XYZ"], "EUR", D(2019, 1, 1))
    with pytest.raises(FXError, match=r"2005-01-01.*1 row cannot"):
        table.convert_series([1.0, 2.0], "USD", "CNY", [D(2019, 1, 1), D(2005, 1, 1)])
    values, rates, _ = table.convert_series(
        [1.0, 2.0, np.nan], ["USD", "XYZ", "XYZ"], "EUR", D(2019, 1, 1), errors="nan"
    )
    assert values[0] == 1 / 1.145 and np.isnan(values[1:]).all()
    # a row without an amount never fails the batch; a same-currency row needs no date
    values, _, _ = table.convert_series([np.nan, 3.0], ["XYZ", "EUR"], "EUR", [D(2019, 1, 1), None])
    assert np.isnan(values[0]) and values[1] == 3.0
    with pytest.raises(FXError, match="row 1 has an amount but no date"):
        table.convert_series([1.0, 2.0], "USD", "EUR", [D(2019, 1, 1), None])


def test_convert_series_a_million_rows(table, capsys):
    rng = np.random.default_rng(0)
    n = 1_000_000
    ccy = rng.choice(["USD", "CNY", "EUR", "GBP", "JPY"], n)
    days = pd.Series(pd.Timestamp("2011-01-01") + pd.to_timedelta(rng.integers(0, 5000, n), "D"))
    values, rates, _ = table.convert_series(np.ones(n), ccy, "USD", days)  # speed: benchmarks/bench_parsers.py
    assert not np.isnan(rates).any()


@pytest.mark.parametrize(
    "body,line,fragment",
    [
        ("2018-12-31,EUR,USD,1.145\n2018-13-31,EUR,USD,1.1\n", 3, "not YYYY-MM-DD"),
        ("2018-12-31,EUR,USD,abc\n", 2, "not a number"),
        ("2018-12-31,EUR,USD,-1\n", 2, "positive"),
        ("2018-12-31,EURO,USD,1\n", 2, "three-letter"),
        ("2018-12-31,EUR,EUR,1\n", 2, "both EUR"),
        ("2018-12-31,EUR,USD,1.1\n\n2018-12-31,EUR,USD,1.2\n", 4, "line 2"),
    ],
)
def test_bad_rows_name_file_and_line(tmp_path, body, line, fragment):
    p = write(tmp_path, "bad.csv", "date,base,quote,rate\n" + body)
    with pytest.raises(SourceError) as err:
        FXTable.from_csv(p)
    assert "bad.csv" in str(err.value) and f"line {line}:" in str(err.value)
    assert fragment in str(err.value)


def test_bad_row_line_numbers_count_comments(tmp_path):
    body = "# version: x\n# note\ndate,base,quote,rate\n2018-12-31,EUR,USD,?\n"
    p = write(tmp_path, "c.csv", body)
    with pytest.raises(SourceError, match="line 4"):
        FXTable.from_csv(p)


@pytest.mark.parametrize(
    "text,fragment",
    [("", "empty"), ("a,b,c\n1,2,3\n", "unknown FX file layout"),
     ("date,base,quote,rate\n", "no rates")],
)
def test_unusable_files(tmp_path, text, fragment):
    with pytest.raises(SourceError, match=fragment):
        FXTable.from_csv(write(tmp_path, "x.csv", text))


def test_missing_file(tmp_path, monkeypatch):
    with pytest.raises(SourceError, match="not found"):
        load_fx(tmp_path / "nope.csv")
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "nope.csv"))
    with pytest.raises(SourceError, match=ENV_VAR):
        load_fx()


def test_version_from_comment_or_hash(tmp_path):
    body = "date,base,quote,rate,source\n2020-12-31,EUR,USD,1.2271,mine\n"
    assert FXTable.from_csv(write(tmp_path, "a.csv", "# version: v7\n" + body)).version == "v7"
    hashed = FXTable.from_csv(write(tmp_path, "b.csv", body))
    assert hashed.version.startswith("sha256:") and len(hashed.version) == 19
    assert hashed.rate("EUR", "USD", D(2021, 1, 1)).source == "mine"


def test_env_var_replaces_the_table(tmp_path, monkeypatch):
    p = write(tmp_path, "mine.csv", "date,base,quote,rate\n2020-06-30,USD,CHF,0.95\n")
    monkeypatch.setenv(ENV_VAR, str(p))
    assert default_fx_path() == p
    t = load_fx()
    assert t.name == "mine.csv" and t.rate("USD", "CHF", D(2020, 7, 1)).value == 0.95
    assert t.rate("CHF", "USD", D(2020, 7, 1)).source == "mine.csv"
    monkeypatch.delenv(ENV_VAR)
    assert load_fx().name == "fx_rates.csv"


def test_load_fx_caches_until_the_file_changes(tmp_path):
    p = write(tmp_path, "c.csv", "date,base,quote,rate\n2020-06-30,EUR,USD,1.1\n")
    first = load_fx(p)
    assert load_fx(p) is first
    p.write_text("date,base,quote,rate\n2020-06-30,EUR,USD,1.25\n", encoding="utf-8")
    os.utime(p, ns=(time.time_ns(), time.time_ns() + 10**9))
    assert load_fx(p).rate("EUR", "USD", D(2020, 7, 1)).value == 1.25


def test_ecb_historical_file_layout(tmp_path):
    # The layout of the ECB's eurofxref-hist.csv: newest first, N/A gaps, a trailing comma.
    text = (
        "Date,USD,JPY,CYP,CNY,\n"
        "2018-12-31,1.145,125.85,N/A,7.8751,\n"
        "2018-12-28,1.1454,126.4,N/A,7.8778,\n"
    )
    t = FXTable.from_csv(write(tmp_path, "eurofxref-hist.csv", text))
    r = t.rate("USD", "CNY", D(2018, 12, 30))
    assert r.value == 7.8778 / 1.1454 and r.date == D(2018, 12, 28)
    assert r.source == "ECB euro foreign exchange reference rate, 2018-12-28"
    with pytest.raises(FXError, match="CYP"):
        t.rate("EUR", "CYP", D(2018, 12, 31))


def test_ecb_sdmx_layout(tmp_path):
    text = (
        "KEY,FREQ,CURRENCY,CURRENCY_DENOM,EXR_TYPE,EXR_SUFFIX,TIME_PERIOD,OBS_VALUE,TITLE\n"
        "EXR.D.USD.EUR.SP00.A,D,USD,EUR,SP00,A,2024-12-30,1.0444,x\n"
        "EXR.D.USD.EUR.SP00.A,D,USD,EUR,SP00,A,2024-12-31,1.0389,x\n"
        "EXR.D.USD.EUR.EN00.A,D,USD,EUR,EN00,A,2024-12-31,9.99,nominal effective: skipped\n"
    )
    t = FXTable.from_csv(write(tmp_path, "sdmx.csv", text))
    r = t.rate("EUR", "USD", D(2025, 1, 1))
    assert r.value == 1.0389 and r.source == "ECB EXR.D.USD.EUR.SP00.A, 2024-12-31"
    monthly = text.replace("2024-12-30", "2024-12")
    with pytest.raises(SourceError, match="line 2.*not a day"):
        FXTable.from_csv(write(tmp_path, "m.csv", monthly))
