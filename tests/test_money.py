"""Money parsing: every written form we promise, ranges never collapsing to a point, speed."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from hardtech.errors import ParseError
from hardtech.sources import money as money_mod
from hardtech.sources.money import Money, parse_money, parse_money_series, parse_unit

POINTS = [
    ("1.2亿元", 1.2e8, "CNY"),
    ("5000万人民币", 5e7, "CNY"),
    ("5,000万元", 5e7, "CNY"),
    ("3亿美元", 3e8, "USD"),
    ("$3.5M", 3.5e6, "USD"),
    ("US$ 3.5 million", 3.5e6, "USD"),
    ("€12m", 12e6, "EUR"),
    ("EUR 12 million", 12e6, "EUR"),
    ("£4.5bn", 4.5e9, "GBP"),
    ("¥100万", 1e6, "CNY"),
    ("HK$2亿", 2e8, "HKD"),
    ("HK$2亿元", 2e8, "HKD"),
    ("RMB 50 million", 5e7, "CNY"),
    ("$8B", 8e9, "USD"),
    ("$180B", 1.8e11, "USD"),
    ("1,234.5", 1234.5, None),
    ("1.2e6", 1.2e6, None),
    ("(1,234)", -1234.0, None),
    ("-5", -5.0, None),
    ("-5万", -5e4, None),
    ("１２３", 123.0, None),
    ("１，２３４．５万元", 12_345_000.0, "CNY"),
    ("约1.2亿元", 1.2e8, "CNY"),
    ("1亿元左右", 1e8, "CNY"),
    ("5 million USD", 5e6, "USD"),
    ("3.5 billion dollars", 3.5e9, "USD"),
    ("1.5 Mio. EUR", 1.5e6, "EUR"),
    ("1亿日元", 1e8, "JPY"),
    ("2000万港元", 2e7, "HKD"),
]


@pytest.mark.parametrize("text,amount,currency", POINTS)
def test_point_values(text, amount, currency):
    m = parse_money(text)
    assert m.amount == pytest.approx(amount, rel=1e-12)
    assert (m.low, m.high) == (None, None)
    assert m.currency == currency
    assert m.disclosed is True
    assert m.text == text


RANGES = [
    ("数千万美元", 1e7, 1e8, "USD"),
    ("数百万", 1e6, 1e7, None),
    ("数亿元", 1e8, 1e9, "CNY"),
    ("数十亿", 1e9, 1e10, None),
    ("几千万", 1e7, 1e8, None),
    ("千万级", 1e7, 1e8, None),
    ("亿元级", 1e8, 1e9, "CNY"),
    ("近亿", 0.8e8, 1e8, None),
    ("近1亿元", 0.8e8, 1e8, "CNY"),
    ("1-2亿元", 1e8, 2e8, "CNY"),
    ("1亿至2亿", 1e8, 2e8, None),
    ("1~2亿", 1e8, 2e8, None),
    ("5000万-1亿元", 5e7, 1e8, "CNY"),
    ("$5–10M", 5e6, 1e7, "USD"),
    ("$5M - $10M", 5e6, 1e7, "USD"),
    ("5 to 10 million USD", 5e6, 1e7, "USD"),
    ("between 5 and 10 million", 5e6, 1e7, None),
    ("several million euros", 1e6, 1e7, "EUR"),
    ("tens of millions of dollars", 1e7, 1e8, "USD"),
]


@pytest.mark.parametrize("text,low,high,currency", RANGES)
def test_ranges_never_become_points(text, low, high, currency):
    m = parse_money(text)
    assert m.amount is None
    assert m.low == pytest.approx(low) and m.high == pytest.approx(high)
    assert m.currency == currency and m.disclosed


LOWER = [
    ("超过1亿元", 1e8), ("over $10M", 1e7), ("1亿元以上", 1e8), ("亿元及以上", 1e8),
    ("超亿", 1e8), ("过亿", 1e8), ("逾亿元", 1e8), ("上亿", 1e8), ("上千万", 1e7),
    ("5000余万元", 5e7), ("1亿多元", 1e8), ("more than $2B", 2e9), ("$10M+", 1e7),
    ("at least 3 million", 3e6), ("10万起", 1e5),
]


@pytest.mark.parametrize("text,low", LOWER)
def test_lower_bounds_only(text, low):
    m = parse_money(text)
    assert (m.amount, m.high) == (None, None)
    assert m.low == pytest.approx(low)
    assert m.lower_bound == pytest.approx(low) and m.upper_bound is None


@pytest.mark.parametrize("text,high", [("不超过500万元", 5e6), ("up to $5M", 5e6),
                                       ("低于1亿", 1e8), ("1000万以下", 1e7)])
def test_upper_bounds_only(text, high):
    m = parse_money(text)
    assert (m.amount, m.low) == (None, None)
    assert m.high == pytest.approx(high)


@pytest.mark.parametrize(
    "text", ["未透露", "未披露", "不详", "undisclosed", "n/a", "NA", "N/A", "-", "—", "", "  ",
             None, float("nan"), "Unknown", pd.NA],
)
def test_undisclosed(text):
    m = parse_money(text, default_currency="EUR")
    assert m == Money(None, None, None, "EUR", False, m.text)
    assert not m.disclosed


@pytest.mark.parametrize("text,why", [("NaN", "not a number"), ("nan", "not a number"), ("inf", "infinite"),
                                      ("-Infinity", "infinite"), ("1e309", "too large"), ("1e309万元", "too large")])
def test_special_floats_are_refused_with_their_reason(text, why):
    """A NaN text is not "undisclosed": it is refused, so it cannot pass as a missing figure (issue 13)."""
    with pytest.raises(ParseError, match=why):
        parse_money(text)


@pytest.mark.parametrize("text,decimal,amount", [("1.234,5", "comma", 1234.5), ("1.234,5万元", "comma", 12_345_000),
                                                 ("1,234.5", "point", 1234.5), ("1 234 567", "point", 1234567),
                                                 ("12,34,567.5", "point", 1234567.5), ("1'234.5", "point", 1234.5),
                                                 ("1,5 Mio. €", "comma", 1.5e6), ("１，２３４", "point", 1234)])
def test_numbers_in_every_locale(text, decimal, amount):
    assert parse_money(text, decimal=decimal).amount == pytest.approx(amount)


@pytest.mark.parametrize("text,decimal", [("1.234,5", "point"), ("1,5", "point"), ("1,234.5", "comma"),
                                          ("1.5", "comma"), ("1 5", "point")])
def test_a_number_in_the_other_notation_is_refused_not_misread(text, decimal):
    with pytest.raises(ParseError) as exc:
        parse_money(text, decimal=decimal)
    assert "decimal" in str(exc.value) or "not a number" in str(exc.value)


def test_about_is_an_approximate_figure_and_in_total_is_exact():
    m = parse_money("约1亿")
    assert m.amount == 1e8 and m.approximate
    assert parse_money("1亿元左右").approximate
    assert not parse_money("累计1亿元").approximate and parse_money("累计1亿元").amount == 1e8
    assert not parse_money("1亿").approximate


def test_undisclosed_keeps_a_named_currency():
    m = parse_money("人民币未披露")
    assert (m.amount, m.currency, m.disclosed) == (None, "CNY", False)


@pytest.mark.parametrize(
    "text", ["abc", "12 apples", "5%", "1,2亿", "USD", "$¥5", "10-5M", "(1-2亿)", "2016-05",
             "1e999", "EUR 5 USD", True],
)
def test_garbage_raises_naming_the_value(text):
    with pytest.raises(ParseError) as err:
        parse_money(text)
    assert repr(text) in str(err.value)
    assert err.value.value == text


def test_unit_applies_to_plain_numbers_only():
    assert parse_money("3.5", "EUR", unit=1e6) == Money(3.5e6, None, None, "EUR", True, "3.5")
    assert parse_money(3.5, "EUR", unit=1e6).amount == 3.5e6
    assert parse_money("1,234.5", unit=1e6).amount == pytest.approx(1.2345e9)
    assert parse_money("$3.5", unit=1e6).amount == 3.5e6  # a currency sign is not a unit
    assert parse_money("3.5万", unit=1e6).amount == 3.5e4  # a magnitude word is
    assert parse_money("$2M", unit=1e6).amount == 2e6
    assert parse_money("1-2", unit=1e6) == Money(None, 1e6, 2e6, None, True, "1-2")


def test_currency_conventions():
    assert parse_money("¥5").currency == "CNY"
    assert parse_money("¥5", default_currency="JPY").currency == "JPY"
    assert parse_money("$5").currency == "USD"
    assert parse_money("$5", default_currency="HKD").currency == "HKD"
    assert parse_money("$5", default_currency="EUR").currency == "USD"
    assert parse_money("5", default_currency="GBP").currency == "GBP"
    assert parse_money("5元").currency == "CNY"


@pytest.mark.parametrize(
    "spec,expected",
    [("EUR million", (1e6, "EUR")), ("million", (1e6, None)), ("万元", (1e4, "CNY")),
     ("亿元", (1e8, "CNY")), ("千元", (1e3, "CNY")), ("thousand USD", (1e3, "USD")),
     ("USD bn", (1e9, "USD")), ("billion", (1e9, None)), ("", (1.0, None)), ("USD", (1.0, "USD")),
     ("万美元", (1e4, "USD")), ("百万元", (1e6, "CNY")), ("RMB 10k", (1e4, "CNY")),
     ("EUR m", (1e6, "EUR"))],
)
def test_parse_unit(spec, expected):
    assert parse_unit(spec) == expected


@pytest.mark.parametrize("spec", ["furlongs", "MEUR", "EUR USD", "per cent"])
def test_parse_unit_rejects(spec):
    with pytest.raises(ParseError, match="as a unit"):
        parse_unit(spec)


MIXED = [
    "1.2亿元", "5000万人民币", "数千万美元", "$3.5M", "12 apples", None, float("nan"), "1,234.5",
    "1.2e6", "-5", "(1,234)", "未披露", "  42 ", "1e999", "１２３", 7, 3.25, "Unknown", "",
    "+5", "1.", ".5", "超过1亿元", "近亿", "$5–10M", "0.1", "123456789.123456789", True,
]


def _same(a: float | None, b: float) -> bool:
    return (a is None and math.isnan(b)) or (a is not None and a == b)


@pytest.mark.parametrize("dtype", [object, "str"])
def test_series_agrees_with_scalar(dtype):
    values = MIXED if dtype is object else [v for v in MIXED if isinstance(v, str) or v is None]
    s = pd.Series(values, dtype=dtype, index=range(100, 100 + len(values)))
    df = parse_money_series(s, "EUR", 1e6)
    assert list(df.columns) == ["amount", "low", "high", "currency", "disclosed", "error"]
    assert list(df.index) == list(s.index)
    for v, row in zip(values, df.itertuples()):
        try:
            m = parse_money(v, "EUR", 1e6)
        except ParseError as exc:
            assert row.error == str(exc)
            assert not row.disclosed
            continue
        assert row.error is None
        assert _same(m.amount, row.amount) and _same(m.low, row.low) and _same(m.high, row.high)
        assert (m.currency, m.disclosed) == (row.currency, row.disclosed)


def test_series_of_numbers():
    df = parse_money_series(pd.Series([1.5, np.nan, -2, np.inf]), "USD", 1e3)
    assert df.amount.iloc[0] == 1500.0 and df.amount.iloc[2] == -2000.0
    assert df.amount.iloc[[1, 3]].isna().all()
    assert df.disclosed.tolist() == [True, False, True, False]
    assert df.error.iloc[3] is not None and df.error.iloc[:3].isna().all()
    assert (df.currency == "USD").all()


def test_plain_numeric_strings_take_the_fast_path(monkeypatch, capsys):
    """A million numeric strings must not touch the per-value parser (speed: benchmarks/bench_parsers.py)."""
    rng = np.random.default_rng(7)
    s = pd.Series([repr(float(v)) for v in rng.uniform(-1e9, 1e9, 1_000_000)])

    def boom(*args, **kwargs):
        raise AssertionError("fell back to the per-value parser")

    monkeypatch.setattr(money_mod, "parse_money", boom)
    df = money_mod.parse_money_series(s, "USD", 1e6)
    assert df.disclosed.all() and df.error.isna().all()
    assert df.amount.iloc[12345] == float(s.iloc[12345]) * 1e6


@pytest.mark.shared
def test_unicorn_file_values_all_parse(shared):
    path = shared("unicorns_2022.csv")
    df = pd.read_csv(path)
    val = parse_money_series(df["Valuation"])
    fund = parse_money_series(df["Funding"])
    assert val.error.isna().all() and fund.error.isna().all()
    assert (val.currency == "USD").all()
    assert val.amount.min() >= 1e9  # a unicorn is worth at least $1B by definition
    assert val.amount.loc[df.Company == "Bytedance"].item() == 180e9
    assert (~fund.disclosed).sum() == (df.Funding == "Unknown").sum() > 0
