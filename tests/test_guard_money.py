"""Money parsing: every refusal says why and carries the text; every accepted form keeps what it was given.

Written from the mutation run's survivors (docs/testing.md): the reasons a cell is refused are what an
analyst reads in `rejects`, so each one is pinned here in full, and the bulk parser used by imports must
say exactly what the one-value parser says, refusal text included.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from hardtech.errors import ParseError
from hardtech.sources.money import MISSING_TEXT, Money, parse_money, parse_money_series, parse_unit

UNRECOGNISED = "unrecognised format (expected e.g. '1.2亿元', '$3.5M', '1-2亿元', '未披露')"
REFUSALS = [  # (value, the reason after "cannot read <value> as money: ")
    (float("inf"), "the number is not finite"),
    (-math.inf, "the number is not finite"),
    (True, "a yes/no value is not an amount"),
    (np.bool_(False), "a yes/no value is not an amount"),
    ("1e400", "the number is too large: beyond the largest a figure can hold (about 1.8e308)"),
    ("1e309亿", "the number is too large: beyond the largest a figure can hold (about 1.8e308)"),
    ("$5 EUR", "'$' next to EUR"),
    ("¥5 USD", "'¥' next to USD"),
    ("$5¥", "it has both '$' and '¥'"),
    ("USD EUR 5", "it names several currencies (EUR, USD)"),
    ("5-3亿", "the range runs backwards"),
    ("USD", "a currency without a number"),
    ("超过5万以下", "contradictory bound words"),
    ("至少5万以下", "contradictory bound words"),
    ("-5以上", "a negative figure cannot also carry a bound word"),
    ("-5多", "a negative figure cannot also carry a bound word"),
    ("1-2亿以上", "a range cannot also carry a bound word or a sign"),
    ("(5", UNRECOGNISED),
    ("5)", UNRECOGNISED),
    ("(1,234) 以上", UNRECOGNISED),
    ("lots", UNRECOGNISED),
]


@pytest.mark.parametrize("value, why", REFUSALS, ids=[repr(v) for v, _ in REFUSALS])
def test_every_refusal_names_the_value_and_the_reason(value, why):
    with pytest.raises(ParseError) as e:
        parse_money(value)
    assert str(e.value) == f"cannot read {value!r} as money: {why}"
    assert e.value.value is value or e.value.value == value


UNIT_REFUSALS = [
    ("0 million", "it must be positive"),
    ("EUR USD million", "it names several currencies"),
    ("blah", "expected e.g. 'EUR million', '万元', 'USD bn'"),
    ("-1 million", "expected e.g. 'EUR million', '万元', 'USD bn'"),
]


@pytest.mark.parametrize("spec, why", UNIT_REFUSALS)
def test_every_unit_refusal_names_the_unit_and_the_reason(spec, why):
    with pytest.raises(ParseError) as e:
        parse_unit(spec)
    assert str(e.value) == f"cannot read {spec!r} as a unit: {why}" and e.value.value == spec


@pytest.mark.parametrize("spec", ["", "1", "unit", "units", "one", "ones", "Unit", "UNITS", "One", " ones ", None])
def test_every_way_of_saying_one_is_a_unit_of_one(spec):
    assert parse_unit(spec) == (1.0, None)


@pytest.mark.parametrize("spec, want", [("HK$ million", (1e6, "HKD")), ("万元", (1e4, "CNY")), ("EUR bn", (1e9, "EUR")),
                                        ("1000 USD", (1e3, "USD")), ("million", (1e6, None)), ("1000", (1e3, None)),
                                        ("0.001", (1e-3, None)), ("10万", (1e5, None))])
def test_units_with_a_currency_and_a_magnitude(spec, want):
    assert parse_unit(spec) == want


@pytest.mark.parametrize("minus", ["-", "−", "‐", "﹣", "－"])
def test_every_minus_sign_makes_a_negative_figure(minus):
    assert parse_money(f"{minus}5").amount == -5.0
    assert parse_money(f"{minus}5万").amount == -50_000.0


@pytest.mark.parametrize("text, low, high", [
    ("a few million", 1e6, 1e7), ("several thousand", 1e3, 1e4), ("tens of millions", 1e7, 1e8),
    ("hundreds of millions", 1e8, 1e9), ("数千万", 1e7, 1e8), ("上千万", 1e7, None), ("5余万", 5e4, None),
    ("3-3亿", 3e8, 3e8), ("between 1 and 2 million", 1e6, 2e6), ("over 5 million", 5e6, None),
    ("约5万以下", None, 5e4),
])
def test_vague_amounts_are_bands_never_figures(text, low, high):
    m = parse_money(text)
    assert (m.amount, m.low, m.high, m.disclosed, m.text) == (None, low, high, True, text)


@pytest.mark.parametrize("text", sorted(MISSING_TEXT) + ["N/A", "Unknown", "NONE", " 未披露 "])
def test_every_missing_word_is_undisclosed_and_keeps_its_text(text):
    assert parse_money(text, default_currency="EUR") == Money(None, None, None, "EUR", False, text)
    # with a currency before it, every missing word is still undisclosed, the words of several too ("USD not disclosed")
    named = f"USD {text}" if text.strip() else "USD 未披露"
    assert parse_money(named) == Money(None, None, None, "USD", False, named)


@pytest.mark.parametrize("value", [None, pd.NA, pd.NaT, float("nan"), np.nan])
def test_absent_values_are_undisclosed_with_no_text(value):
    assert parse_money(value, default_currency="CNY") == Money(None, None, None, "CNY", False, "")


@pytest.mark.parametrize("value, text", [(5, "5"), (2.5, "2.5"), (np.int64(7), "7"), ("12.5", "12.5"), (" 3 ", " 3 ")])
def test_plain_numbers_keep_the_default_currency_the_unit_and_the_text(value, text):
    assert parse_money(value, default_currency="EUR", unit=1e6) == \
        Money(float(str(value).strip()) * 1e6, None, None, "EUR", True, text)


def test_a_parenthesised_figure_is_negative_only_when_closed():
    assert parse_money("(1,234)").amount == -1234.0
    assert parse_money("(1.5)").amount == -1.5


MIXED = ([v for v, _ in REFUSALS if isinstance(v, str)] + ["1.2亿元", "$3.5M", "(1,234)", "数千万美元", "未披露", "N/A",
         "5", " 7 ", "−5", "上千万", "3-3亿", "约 5 万", "USD 未披露", "", None, "12.5", "1e400"])


@pytest.mark.parametrize("dtype", [object, "string"])
def test_the_bulk_parser_says_exactly_what_the_one_value_parser_says(dtype):
    s = pd.Series(MIXED * 2, dtype=dtype)  # repeats exercise the per-text cache
    got = parse_money_series(s, default_currency="EUR", unit=1e3)
    for i, v in enumerate(s):
        row = got.iloc[i]
        v = None if v is pd.NA else v
        try:
            m = parse_money(v, "EUR", 1e3)
        except ParseError as exc:
            assert row["error"] == str(exc), v
            assert math.isnan(row["amount"]) and not row["disclosed"], v
            continue
        assert row["error"] is None, v
        for col in ("amount", "low", "high"):
            want = getattr(m, col)
            assert (math.isnan(row[col]) if want is None else row[col] == want), (v, col)
        assert row["currency"] == m.currency and bool(row["disclosed"]) == m.disclosed, v


def test_the_bulk_parser_on_numbers_refuses_infinities_and_keeps_gaps():
    got = parse_money_series(pd.Series([1.5, np.nan, np.inf, -np.inf, 2.0]), default_currency="USD", unit=10)
    assert got["amount"].tolist()[0] == 15.0 and got["amount"].tolist()[4] == 20.0
    assert math.isnan(got["amount"][1]) and got["error"][1] is None and not got["disclosed"][1]
    assert got["error"][2] == "cannot read inf as money: the number is not finite"
    assert got["error"][3] == "cannot read -inf as money: the number is not finite"
    assert got["currency"].tolist() == ["USD"] * 5
    assert got.index.equals(pd.RangeIndex(5)) and list(got.columns) == ["amount", "low", "high", "currency",
                                                                        "disclosed", "error"]
    custom = parse_money_series(pd.Series(["5万", "x"], index=[10, 20]))
    assert custom.index.tolist() == [10, 20] and custom.loc[10, "amount"] == 50_000.0
    cat = parse_money_series(pd.Series(["5万", "5万"], dtype="category"))
    assert cat["amount"].tolist() == [50_000.0, 50_000.0]


def test_the_bulk_parser_refuses_yes_no_columns_and_takes_lists_and_nullable_numbers():
    bools = parse_money_series(pd.Series([True, False]))
    assert bools["error"].tolist() == ["cannot read True as money: a yes/no value is not an amount",
                                       "cannot read False as money: a yes/no value is not an amount"]
    assert bools["amount"].isna().all() and not bools["disclosed"].any()
    listed = parse_money_series(["5万", 3])  # a list, and the default unit of one
    assert listed["amount"].tolist() == [50_000.0, 3.0] and listed["disclosed"].tolist() == [True, True]
    nullable = parse_money_series(pd.Series([1, None], dtype="Int64"))
    assert nullable["amount"].iloc[0] == 1.0 and math.isnan(nullable["amount"].iloc[1])
    assert nullable["disclosed"].tolist() == [True, False] and nullable["error"].tolist() == [None, None]
    assert parse_money_series(pd.Series([2.0]))["amount"].tolist() == [2.0]


def test_the_bulk_parser_types_and_never_mixes_up_equal_values_of_other_types():
    got = parse_money_series(pd.Series([1, True, ["a", "list"], ["a", "list"], "5万"], dtype=object))
    assert got["disclosed"].dtype == bool and got["amount"].dtype == float
    assert got["amount"].iloc[0] == 1.0 and got["disclosed"].iloc[0]  # 1 == True, but not the same value
    assert got["error"].iloc[1] == "cannot read True as money: a yes/no value is not an amount"
    assert got["error"].iloc[2] == got["error"].iloc[3] and got["error"].iloc[2].startswith("cannot read ['a', 'list']")
    assert got["amount"].iloc[4] == 50_000.0
