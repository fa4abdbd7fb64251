"""Import validation (`sources/validate.py`): every typed column of every importable table reads what its
cell means or refuses the row naming line, column, value and the real reason — enumerated from the schema,
so a column added later is checked without editing this file.

Written from the mutation run of `validation` (docs/testing.md): each test states one promise over every
column it applies to, not one example.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest

from hardtech.schema import IMPORTABLE, table
from hardtech.sources.validate import YEAR_COLUMNS
from hardtech.store.importer import import_file
from test_guard_dates import DERIVED, ORG, row_for

TODAY = dt.date(2025, 6, 30)
NUMERIC = ("DOUBLE", "INTEGER", "BIGINT")


def columns(pred) -> list[tuple[str, str]]:
    return [(t, c.name) for t in IMPORTABLE for c in table(t).columns
            if c.name in table(t).data_names and (t, c.name) not in DERIVED and pred(t, c)]


def column(tbl: str, name: str):
    return next(c for c in table(tbl).columns if c.name == name)


def base_row(tbl: str, line: int) -> dict:
    """test_guard_dates' row that passes every rule of `tbl`, with a publication number written as the
    importer normalises it."""
    row = row_for(tbl, line)
    if "publication_number" in row:
        row["publication_number"] = f"CN{100000 + line}A"
    return row


def with_orgs(store, tmp_path):
    f = tmp_path / "orgs.csv"
    with f.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([["org_id", "kind", "name_en"]] + [[f"{ORG}-{i}", "startup", f"Guard Org {i}"]
                                                                     for i in range(2, 40)])
    assert import_file(store, "organizations", f).rejected == 0
    return store


@pytest.fixture
def org_store(store, tmp_path):
    return with_orgs(store, tmp_path)


def run(store, tmp_path: Path, tbl: str, col: str | None, values: list, **kw):
    """Import one row per value into `tbl` (column `col` set to it, or a dict of columns when `col` is None);
    ({line: stored row}, {line: [rejects]})."""
    rows = []
    for i, v in enumerate(values):
        row = base_row(tbl, i + 2) | (v if col is None else {col: v})
        rows.append({k: x for k, x in row.items() if x is not None})
    header = sorted({k for r in rows for k in r})
    f = tmp_path / f"{tbl}-{col or 'rows'}.csv"
    with f.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, header)
        w.writeheader()
        w.writerows(rows)
    result = import_file(store, tbl, f, source="guard (synthetic)", today=TODAY, **kw)
    cur = store.con.execute(f'SELECT * FROM "{tbl}" WHERE source_file = ?', [f.name])
    names = [d[0] for d in cur.description]
    stored = {r["source_line"]: r for r in (dict(zip(names, x)) for x in cur.fetchall())}
    refused = {}
    for r in result.rejects:
        refused.setdefault(r["line"], []).append(r)
    return stored, refused


def only_reject(refused: dict, line: int, col: str) -> dict:
    rs = refused.get(line, [])
    assert len(rs) == 1 and rs[0]["column_name"] == col, f"line {line}: expected one reject in {col}, got {rs}"
    return rs[0]


# ------------------------------------------------------------------------------------------ years


YEARS_READ = [("2016", 2016), ("2016年", 2016), ("FY2016", 2016), ("2016-12-31", 2016), ("2016年5月", 2016),
              ("2016/12/31", 2016)]
NOT_YEARS = ["abc", "20x6", "二〇一六?"]


@pytest.mark.parametrize("tbl, col", columns(lambda t, c: c.name in YEAR_COLUMNS), ids=str)
def test_every_year_column_reads_a_year_or_a_date_and_names_what_is_not_a_year(org_store, tmp_path, tbl, col):
    values = [v for v, _ in YEARS_READ] + NOT_YEARS
    if col == "fiscal_year":  # part of the key: one organisation per line keeps the keys apart
        pass
    stored, refused = run(org_store, tmp_path, tbl, col, values)
    for i, (v, year) in enumerate(YEARS_READ):
        line = i + 2
        assert line not in refused, f"{tbl}.{col} {v!r} refused: {refused.get(line)}"
        assert stored[line][col] == year, f"{tbl}.{col} {v!r} stored as {stored[line][col]!r}, not {year}"
    for j, v in enumerate(NOT_YEARS):
        line = len(YEARS_READ) + j + 2
        r = only_reject(refused, line, col)
        assert (r["value"], r["reason"]) == (v, f"not a year: {v!r}")
        assert line not in stored


# ------------------------------------------------------------------------------------------ numbers


APPROXIMATE = ["约100", "about 100", "100左右"]


EXACT = [(t, c) for t, c in columns(lambda t, c: c.type in NUMERIC and c.name not in YEAR_COLUMNS)
         if (t, c) != ("funding_rounds", "amount")]


@pytest.mark.parametrize("tbl", sorted({t for t, _ in EXACT}, key=IMPORTABLE.index))
def test_every_exact_number_column_refuses_an_approximate_figure_and_a_range(org_store, tmp_path, tbl):
    cols = [c for t, c in EXACT if t == tbl]
    values = APPROXIMATE + ["100-200", "2000"]  # 2000: above every column's minimum
    # a funding round's amount is left empty (it keeps approximations): the other columns are exact
    stored, refused = run(org_store, tmp_path, tbl, None, [dict.fromkeys(cols, v) for v in values])
    for col in cols:
        spec = column(tbl, col)
        for i, v in enumerate(APPROXIMATE):
            r = next(r for r in refused[i + 2] if r["column_name"] == col)
            assert r["value"] == v and r["reason"].startswith(f"{v!r} is an approximate figure"), r
            assert "approximate amounts are kept only for funding rounds" in r["reason"]
        r = next(r for r in refused[len(APPROXIMATE) + 2] if r["column_name"] == col)
        why = ("a range (100-200) is not a figure; give one number" if spec.unit == "money"
               else "not a number: '100-200'")
        assert r["reason"] == why, (col, r)
        assert stored[len(values) + 1][col] == 2000, col


def test_a_funding_amount_keeps_approximate_figures_and_ranges(org_store, tmp_path):
    stored, refused = run(org_store, tmp_path, "funding_rounds", "amount", ["约100", "100-200", "100"])
    assert not refused
    assert (stored[2]["amount"], stored[2]["amount_approx"], stored[2]["disclosed"]) == (100, True, True)
    assert (stored[3]["amount"], stored[3]["amount_low"], stored[3]["amount_high"]) == (None, 100, 200)
    assert (stored[4]["amount"], stored[4]["amount_approx"]) == (100, False)


# ------------------------------------------------------------------------------------------ words and codes


@pytest.mark.parametrize("tbl, col", columns(lambda t, c: c.type == "BOOLEAN" and c.name != "amount_approx"), ids=str)
def test_every_boolean_column_reads_each_written_truth_and_names_any_other_word(org_store, tmp_path, tbl, col):
    truths = {"1": True, "true": True, "T": True, " Yes ": True, "y": True, "是": True,
              "0": False, "FALSE": False, "f": False, "no": False, "N": False, "否": False}
    values = list(truths) + ["maybe", "2"]
    stored, refused = run(org_store, tmp_path, tbl, col, values)
    for i, (v, b) in enumerate(truths.items()):
        assert i + 2 not in refused, (v, refused.get(i + 2))
        assert stored[i + 2][col] is b, f"{tbl}.{col} {v!r} stored as {stored[i + 2][col]!r}"
    for j, v in enumerate(["maybe", "2"]):
        r = only_reject(refused, len(truths) + j + 2, col)
        assert (r["value"], r["reason"]) == (v, f"{v!r} is not true/false")


CURRENCY_WORDS = {"RMB": "CNY", "rmb": "CNY", "人民币": "CNY", "元": "CNY", " CNH ": "CNY", "美元": "USD",
                  "us$": "USD", "欧元": "EUR", "港元": "HKD", "港币": "HKD", "日元": "JPY", "英镑": "GBP",
                  "韩元": "KRW", " usd ": "USD", "eur": "EUR"}


@pytest.mark.parametrize("tbl", [t for t in IMPORTABLE if "currency" in table(t).data_names])
def test_every_currency_column_reads_currency_words_as_their_iso_code(org_store, tmp_path, tbl):
    stored, refused = run(org_store, tmp_path, tbl, "currency", list(CURRENCY_WORDS))
    assert not refused
    assert [stored[i + 2]["currency"] for i in range(len(CURRENCY_WORDS))] == list(CURRENCY_WORDS.values())


NOT_CURRENCIES = ["CNYY", "RNB", "XQZ", "US", "元人民币"]


@pytest.mark.parametrize("tbl", [t for t in IMPORTABLE if "currency" in table(t).data_names])
def test_every_currency_column_keeps_iso_4217_codes_current_or_withdrawn_and_names_any_other(org_store, tmp_path, tbl):
    """A typo in a currency is refused where it is written (it would stop every later conversion of the row's
    figures); codes ISO withdrew (LTL, HRK) are real currencies of past figures and are kept."""
    good = ["cny", " USD ", "EUR", "LTL", "HRK", "ZWG"]
    stored, refused = run(org_store, tmp_path, tbl, "currency", good + NOT_CURRENCIES)
    assert [stored[i + 2]["currency"] for i in range(len(good))] == ["CNY", "USD", "EUR", "LTL", "HRK", "ZWG"]
    for i, v in enumerate(NOT_CURRENCIES, start=len(good) + 2):
        r = only_reject(refused, i, "currency")
        assert r["value"] == v and f"{v!r} is not an ISO 4217 currency code" in r["reason"], r
        assert i not in stored
    assert set(refused) == set(range(len(good) + 2, len(good) + len(NOT_CURRENCIES) + 2))


@pytest.mark.parametrize("col", ["cpc_codes", "ipc_codes"])
def test_every_patent_code_spelling_is_normalised_and_a_non_code_is_named(org_store, tmp_path, col):
    good = "G06N 3/08|G06N0003/08|b29c-047/00|Y02E10/50|G06N3|G06N|G06|H01L 21/0274"
    stored, refused = run(org_store, tmp_path, "patents", col, [good, "G06N3/08|XYZ|G6|G06N3/08x", "A01B1/00"])
    assert not refused.get(2) and not refused.get(4)
    assert stored[2][col] == ["G06N3/08", "G06N3/08", "B29C47/00", "Y02E10/50", "G06N3", "G06N", "G06",
                              "H01L21/0274"]
    assert stored[4][col] == ["A01B1/00"]
    r = only_reject(refused, 3, col)
    assert (r["value"], r["reason"]) == ("XYZ, G6, G06N3/08x", "'XYZ, G6, G06N3/08x' is not a CPC/IPC code "
                                         "(expected e.g. G06N3/08, G06N 3/08 or the subclass G06N)")


# ------------------------------------------------------------------------------------------ figures
# one file per table, every numeric column of the table set to each value: the promise holds per column


def numeric_columns(tbl: str, pred=lambda c: True) -> list[str]:
    return [c for t, c in columns(lambda t, c: c.type in NUMERIC and c.name not in YEAR_COLUMNS and pred(c))
            if t == tbl]


TABLES = [t for t in IMPORTABLE if numeric_columns(t)]


def run_all(store, tmp_path, tbl: str, cols: list[str], values: list[str], **kw):
    return run(store, tmp_path, tbl, None, [dict.fromkeys(cols, v) for v in values], **kw)


def rejects_of(refused: dict, line: int) -> dict[str, dict]:
    return {r["column_name"]: r for r in refused.get(line, [])}


@pytest.mark.parametrize("decimal", ["point", "comma"])
@pytest.mark.parametrize("tbl", TABLES)
def test_every_number_column_reads_grouped_thousands_in_its_files_convention(org_store, tmp_path, tbl, decimal):
    cases = ({"1,234,567": 1234567, "2,001": 2001, "+1,234": 1234, "1500": 1500, "1.5e3": 1500} if decimal == "point"
             else {"1.234.567": 1234567, "2.001": 2001, "+1.234": 1234, "1500": 1500})
    cols = numeric_columns(tbl)
    stored, refused = run_all(org_store, tmp_path, tbl, cols, list(cases), decimal=decimal)
    assert not refused, refused
    for col in cols:
        got = [stored[i + 2][col] for i in range(len(cases))]
        assert got == list(cases.values()), f"{tbl}.{col} ({decimal}): {dict(zip(cases, got))}"


@pytest.mark.parametrize("tbl", [t for t in TABLES if numeric_columns(t, lambda c: c.type == "DOUBLE" and c.minimum is None)])
def test_a_decimal_fraction_is_read_in_its_files_convention(org_store, tmp_path, tbl):
    cols = numeric_columns(tbl, lambda c: c.type == "DOUBLE" and c.minimum is None)
    for decimal, cases in (("point", {"1.5": 1.5, "-2.25": -2.25, "1,234.5": 1234.5}),
                           ("comma", {"1,5": 1.5, "-2,25": -2.25, "1.234,5": 1234.5})):
        (tmp_path / decimal).mkdir()
        stored, refused = run_all(org_store, tmp_path / decimal, tbl, cols, list(cases), decimal=decimal)
        assert not refused, (decimal, refused)
        for col in cols:
            assert [stored[i + 2][col] for i in range(len(cases))] == list(cases.values()), (col, decimal)


NOT_NUMBERS = ["nan", "inf", "-Infinity", "1e309", "lots", "1_500"]


@pytest.mark.parametrize("tbl", TABLES)
def test_special_floats_words_and_underscores_are_refused_naming_the_value(org_store, tmp_path, tbl):
    cols = numeric_columns(tbl)
    stored, refused = run_all(org_store, tmp_path, tbl, cols, NOT_NUMBERS)
    for i, v in enumerate(NOT_NUMBERS):
        got = rejects_of(refused, i + 2)
        assert set(got) == set(cols), (v, set(cols) - set(got))
        assert all(r["value"] == v and v in r["reason"] for r in got.values()), got
        assert i + 2 not in stored


@pytest.mark.parametrize("tbl", [t for t in TABLES if numeric_columns(t, lambda c: c.type != "DOUBLE")])
def test_a_whole_number_column_refuses_a_fraction_and_keeps_a_whole_written_with_a_point(org_store, tmp_path, tbl):
    cols = numeric_columns(tbl, lambda c: c.type != "DOUBLE")
    stored, refused = run_all(org_store, tmp_path, tbl, cols, ["2001.5", "2002.0", "2,003"])
    got = rejects_of(refused, 2)
    assert {c: (r["value"], r["reason"]) for c, r in got.items()} == dict.fromkeys(
        cols, ("2001.5", "2001.5 is not a whole number"))
    for col in cols:
        assert (stored[3][col], stored[4][col]) == (2002, 2003), col


@pytest.mark.parametrize("tbl", [t for t in TABLES if numeric_columns(t, lambda c: c.type != "DOUBLE")])
def test_a_whole_number_column_refuses_a_decimal_comma_fraction_in_a_decimal_comma_file(org_store, tmp_path, tbl):
    """'2001,5' in a decimal-comma file is a fraction: refused by a whole-number column as written, never read as
    20015 or a rounded 2002; '2.003' there is a grouped 2003 and '2002,0' a whole 2002. A cell refused as a
    fraction keeps that one reason: '2,5' is not also 'below 1000: 3' (the rounded value nobody wrote)."""
    cols = numeric_columns(tbl, lambda c: c.type != "DOUBLE")
    stored, refused = run_all(org_store, tmp_path, tbl, cols, ["2001,5", "2.003", "2002,0", "2,5"], decimal="comma")
    for line, written in ((2, "2001,5"), (5, "2,5")):
        got = sorted((r["column_name"], r["value"], r["reason"]) for r in refused.get(line, []))
        assert got == sorted((c, written, f"{written} is not a whole number") for c in cols), got
        assert line not in stored
    for col in cols:
        assert (stored[3][col], stored[4][col]) == (2003, 2002), col


BOUNDED = [(t, c) for t, c in columns(lambda t, c: c.type in NUMERIC and c.minimum is not None)]


@pytest.mark.parametrize("tbl", sorted({t for t, _ in BOUNDED}, key=IMPORTABLE.index))
def test_a_figure_below_its_columns_minimum_is_refused_and_the_minimum_accepted(org_store, tmp_path, tbl):
    cols = [c for t, c in BOUNDED if t == tbl]
    at = {c: column(tbl, c).minimum for c in cols}
    stored, refused = run(org_store, tmp_path, tbl, None, [{c: str(m) for c, m in at.items()},
                                                            {c: str(m - 1) for c, m in at.items()}])
    assert 2 not in refused and all(stored[2][c] == m for c, m in at.items()), (refused.get(2), stored.get(2))
    got = rejects_of(refused, 3)
    for col, low in at.items():
        label = "negative" if low == 0 else f"below {low:g}"
        assert got[col]["reason"] in (f"{col} is {label}: {low - 1}", f"{col} is {label}: {float(low - 1)}"), got[col]


# ------------------------------------------------------------------------------------------ rules across columns


def test_country_names_and_codes_are_read_and_an_unknown_country_is_named(org_store, tmp_path):
    for tbl in [t for t in IMPORTABLE if "country" in table(t).data_names]:
        (tmp_path / tbl).mkdir()
        stored, refused = run(org_store, tmp_path / tbl, tbl, "country", ["CN", "china", " 中国 ", "USA", "de",
                                                                         "Atlantis"])
        assert [stored[i]["country"] for i in range(2, 7)] == ["CN", "CN", "CN", "US", "DE"], tbl
        r = only_reject(refused, 7, "country")
        assert r["reason"] == ("'Atlantis' is not a country: give an ISO 3166 code (CN, USA, DE) or a country's "
                               "English or Chinese name"), tbl


def test_rd_staff_may_equal_employees_never_exceed_them(org_store, tmp_path):
    stored, refused = run(org_store, tmp_path, "financials", None,
                          [{"rd_staff": "10", "employees": "10"}, {"rd_staff": "11", "employees": "10"},
                           {"rd_staff": "11"}])
    assert 2 in stored and 4 in stored and 2 not in refused
    assert only_reject(refused, 3, "rd_staff")["reason"] == "R&D staff 11 exceeds employees"


def test_rd_above_100_times_revenue_is_a_unit_error_unless_relaxed(org_store, tmp_path):
    from hardtech.sources.mapping import parse_mapping

    rows = [{"revenue": "1", "rd_expense": "100"}, {"revenue": "1", "rd_expense": "100.5"},
            {"revenue": "0", "rd_expense": "5000"}, {"revenue": "-1", "rd_expense": "5000"}]
    stored, refused = run(org_store, tmp_path, "financials", None, rows)
    assert set(refused) == {3}, refused
    r = only_reject(refused, 3, "revenue")
    assert (r["value"], r["reason"]) == ("1.0", "revenue 1.0 is below R&D by more than 100×: a unit error?")
    relaxed = parse_mapping({"targets": {"financials": {
        "columns": {c: c for c in ("org_id", "fiscal_year", "currency", "revenue", "rd_expense")},
        "relax": ["rd_far_above_revenue"]}}})
    (tmp_path / "relaxed").mkdir()
    stored, refused = run(org_store, tmp_path / "relaxed", "financials", None, rows, mapping=relaxed)
    assert not refused and len(stored) == 4


@pytest.mark.parametrize("tbl", IMPORTABLE)
def test_a_key_repeated_in_a_file_is_refused_after_its_first_line_naming_both(org_store, tmp_path, tbl):
    key = [k for k in table(tbl).key if k != "source_name"]
    row = {k: v for k, v in base_row(tbl, 2).items() if k in key}
    other = {k: v for k, v in base_row(tbl, 3).items() if k in key}
    stored, refused = run(org_store, tmp_path, tbl, None, [row, other, row, dict(row)])
    assert set(stored) == {2, 3} and set(refused) == {4, 5}
    keyval = " / ".join(str(base_row(tbl, 2)[k]) for k in key)
    for line in (4, 5):
        r = only_reject(refused, line, ",".join(key))
        assert (r["value"], r["reason"]) == (keyval, f"duplicate key ({', '.join(key)}) = {keyval}: also on line 2")


@pytest.mark.parametrize("tbl", IMPORTABLE)
def test_an_empty_required_cell_is_named_once_and_an_unreadable_one_only_as_unreadable(org_store, tmp_path, tbl):
    required = [c.name for c in table(tbl).columns if c.required and c.name in table(tbl).data_names]
    for col in required:
        (tmp_path / col).mkdir()
        bad = "abc" if column(tbl, col).type in NUMERIC else None
        stored, refused = run(org_store, tmp_path / col, tbl, None, [{col: ""}, {col: bad}, {}])
        assert 4 in stored and 2 not in stored
        r = [x for x in refused[2] if x["column_name"] == col]
        assert [x["reason"] for x in r] == [f"{col} is required but empty"], (tbl, col, refused[2])
        if bad:
            assert [x["reason"] for x in refused[3] if x["column_name"] == col] == ["not a year: 'abc'"
                                                                                     if col in YEAR_COLUMNS else
                                                                                     "not a number: 'abc'"]


@pytest.mark.parametrize("tbl", [t for t in IMPORTABLE if any(c.choices for c in table(t).columns)])
def test_a_word_outside_a_columns_choices_is_refused_listing_them(org_store, tmp_path, tbl):
    cols = [c for c in table(tbl).columns if c.choices and (tbl, c.name) not in DERIVED
            and c.name not in ("date_precision", "stage", "patent_type", "kind", "ownership")]
    for c in cols:
        (tmp_path / c.name).mkdir()
        stored, refused = run(org_store, tmp_path / c.name, tbl, c.name, [c.choices[-1], "nonsense"])
        assert 2 in stored
        r = only_reject(refused, 3, c.name)
        assert r["reason"] == f"'nonsense' is not one of: {', '.join(c.choices)}"


# ------------------------------------------------------------------------------------------ a row's currency


def mapping(tbl: str, cols: dict):
    from hardtech.sources.mapping import parse_mapping

    return parse_mapping({"targets": {tbl: {"columns": cols}}})


@pytest.mark.parametrize("tbl", [t for t in IMPORTABLE if "currency" in table(t).data_names
                                 and any(c.unit == "money" for c in table(t).columns)])
def test_a_currency_written_in_an_amount_is_the_rows_and_never_contradicts_its_currency_column(org_store, tmp_path,
                                                                                               tbl):
    money = [c.name for c in table(tbl).columns if c.unit == "money"]
    m = money[0]
    rows = [{"currency": "USD", m: "$5"}, {"currency": "USD", m: "5亿元"}, {"currency": None, m: "€3"},
            {"currency": "EUR", m: "3"}]
    if tbl != "financials":  # currency is not required there: a row may state it only in the amount
        stored, refused = run(org_store, tmp_path, tbl, None, rows)
        assert stored[4]["currency"] == "EUR" and stored[4][m] == 3
    else:
        stored, refused = run(org_store, tmp_path, tbl, None, [r for r in rows if r["currency"]])
    assert (stored[2]["currency"], stored[2][m]) == ("USD", 5)
    r = only_reject(refused, 3, "currency")
    assert (r["value"], r["reason"]) == ("USD", f"currency USD conflicts with CNY written in {m}")
    last = max(stored)
    assert (stored[last]["currency"], stored[last][m]) == ("EUR", 3)
    if len(money) > 1:  # two amounts of one row in two currencies, the row's currency not given
        a, b = money[0], money[1]
        (tmp_path / "two").mkdir()
        rows = [{"currency": None, a: "$1", b: "1000万元"}, {"currency": None, a: "$1", b: "$2"}]
        if tbl == "financials":
            rows = [r | {"currency": "CNY"} for r in rows]
        stored, refused = run(org_store, tmp_path / "two", tbl, None, rows)
        if tbl != "financials":
            r = only_reject(refused, 2, b)
            assert (r["value"], r["reason"]) == ("1000万元", f"{b} is written in CNY but {a} in USD: one row has one "
                                                "currency")
            assert (stored[3]["currency"], stored[3][a], stored[3][b]) == ("USD", 1, 2)


def test_a_mappings_unit_scales_the_figure_and_gives_the_rows_currency_and_negate_flips_it(org_store, tmp_path):
    cols = {"investor_id": "investor_id", "ticket_min": {"column": "lo", "unit": "万元"},
            "ticket_max": {"column": "hi", "unit": "万元"}}
    stored, refused = run(org_store, tmp_path, "investors", None,
                          [{"lo": "3", "hi": None}, {"lo": "1.5亿", "hi": None}, {"lo": None, "hi": "2"},
                           {"lo": "$3", "hi": None}, {"lo": "RMB 3", "hi": None}], mapping=mapping("investors", cols))
    assert (stored[2]["ticket_min"], stored[2]["currency"]) == (30_000, "CNY")
    assert (stored[3]["ticket_min"], stored[3]["currency"]) == (150_000_000, "CNY")
    assert (stored[4]["ticket_max"], stored[4]["currency"]) == (20_000, "CNY")
    # a currency written in the cell wins over the unit's; the unit's magnitude still applies ($3 万 = $30,000)
    assert (stored[5]["ticket_min"], stored[5]["currency"]) == (30_000, "USD")
    assert (stored[6]["ticket_min"], stored[6]["currency"]) == (30_000, "CNY")  # read by the parser, scaled alike
    (tmp_path / "eur").mkdir()
    cols = {"investor_id": "investor_id", "currency": "currency", "ticket_max": {"column": "hi", "unit": "USD million"}}
    stored, refused = run(org_store, tmp_path / "eur", "investors", None, [{"currency": "EUR", "hi": "1.5亿"}],
                          mapping=mapping("investors", cols))
    r = only_reject(refused, 2, "currency")  # the unit's currency is the amount's: the row cannot say EUR
    assert r["reason"] == "currency EUR conflicts with USD written in ticket_max"
    (tmp_path / "neg").mkdir()
    cols = {"org_id": "org_id", "fiscal_year": "fiscal_year", "currency": "currency",
            "capex": {"column": "capex", "negate": True},
            "operating_profit": {"column": "op", "negate": True, "unit": "万元"}}
    stored, refused = run(org_store, tmp_path / "neg", "financials", None,
                          [{"capex": "-5", "op": "2"}, {"capex": "-1.5亿", "op": "-1.5"}, {"capex": "未披露", "op": "n/a"}],
                          mapping=mapping("financials", cols))
    assert not refused, refused
    assert (stored[4]["capex"], stored[4]["operating_profit"]) == (None, None)  # not disclosed: empty, either sign
    assert (stored[2]["capex"], stored[2]["operating_profit"]) == (5, -20_000)
    assert (stored[3]["capex"], stored[3]["operating_profit"]) == (150_000_000, 15_000)


def test_a_rows_currency_comes_from_the_unit_of_the_amount_it_gives(org_store, tmp_path):
    """Two amounts mapped with units in two currencies: a row giving only the second is in the second's (it was
    put in the first's, which the row leaves empty, until this test)."""
    cols = {"investor_id": "investor_id", "ticket_min": {"column": "lo", "unit": "万元"},
            "ticket_max": {"column": "hi", "unit": "USD million"}}
    stored, refused = run(org_store, tmp_path, "investors", None, [{"lo": "3", "hi": None}, {"lo": None, "hi": "2"}],
                          mapping=mapping("investors", cols))
    assert (stored[2]["ticket_min"], stored[2]["currency"]) == (30_000, "CNY")
    assert (stored[3]["ticket_max"], stored[3]["currency"]) == (2_000_000, "USD")


def test_a_plain_figure_under_a_units_currency_is_in_that_currency_like_a_parsed_one(org_store, tmp_path):
    """A unit naming a currency ("USD million") says what currency the column's figures are in, whether a cell is
    a plain 2 or a parsed 1.5亿: a row currency that says otherwise is a conflict (a plain 2 beside EUR was stored
    as EUR 2,000,000), and two amounts under units in two currencies make no row currency (the first's was taken)."""
    cols = {"investor_id": "investor_id", "currency": "currency", "ticket_max": {"column": "hi", "unit": "USD million"}}
    stored, refused = run(org_store, tmp_path, "investors", None,
                          [{"currency": "EUR", "hi": "2"}, {"currency": "USD", "hi": "2"}, {"currency": None, "hi": "2"}],
                          mapping=mapping("investors", cols))
    r = only_reject(refused, 2, "currency")
    assert (r["value"], r["reason"]) == ("EUR", "currency EUR conflicts with USD written in ticket_max")
    assert 2 not in stored
    assert [(stored[i]["ticket_max"], stored[i]["currency"]) for i in (3, 4)] == [(2_000_000, "USD")] * 2
    (tmp_path / "two").mkdir()
    cols = {"investor_id": "investor_id", "ticket_min": {"column": "lo", "unit": "万元"},
            "ticket_max": {"column": "hi", "unit": "USD million"}}
    stored, refused = run(org_store, tmp_path / "two", "investors", None,
                          [{"lo": "3", "hi": "2"}, {"lo": "3", "hi": None}], mapping=mapping("investors", cols))
    r = only_reject(refused, 2, "ticket_max")
    assert (r["value"], r["reason"]) == ("2", "ticket_max is written in USD but ticket_min in CNY: one row has one "
                                              "currency")
    assert (stored[3]["ticket_min"], stored[3]["currency"]) == (30_000, "CNY")


def test_a_missing_date_word_between_written_dates_leaves_the_later_dates_read(tmp_path):
    from hardtech.store.connection import Store

    for tbl, col in columns(lambda t, c: c.type == "DATE"):
        here = tmp_path / f"{tbl}-{col}"
        here.mkdir()
        store = with_orgs(Store(here / "s.duckdb"), here)  # a fresh store: no row is "unchanged" from another file
        stored, refused = run(store, here, tbl, col, ["2016年5月3日", "n/a", "2017年1月2日", "-"])
        store.close()
        assert not refused, (tbl, col, refused)
        got = [stored[i][col] if i in stored else "missing" for i in range(2, 6)]
        assert got == [dt.date(2016, 5, 3), None, dt.date(2017, 1, 2), None], (tbl, col, got)


def test_a_rounds_date_precision_comes_from_its_date_alone(org_store, tmp_path):
    rows = [{"date": "2016-05-03", "fx_rate_date": "2016年5月"}, {"date": "2016年5月", "fx_rate_date": "2016-05-03"},
            {"date": "2016", "fx_rate_date": "2016年5月3日"}]
    stored, refused = run(org_store, tmp_path, "funding_rounds", None, rows)
    assert not refused, refused
    assert [stored[i]["date_precision"] for i in (2, 3, 4)] == ["day", "month", "year"]


def test_a_unit_below_one_scales_down_written_and_parsed_cells_alike(org_store, tmp_path):
    cols = {"investor_id": "investor_id", "ticket_min": {"column": "cents", "unit": "0.01 CNY"}}
    stored, refused = run(org_store, tmp_path, "investors", None, [{"cents": "250"}, {"cents": "RMB 250"}],
                          mapping=mapping("investors", cols))
    assert not refused, refused
    assert [(stored[i]["ticket_min"], stored[i]["currency"]) for i in (2, 3)] == [(2.5, "CNY"), (2.5, "CNY")]


@pytest.mark.parametrize("tbl", TABLES)
def test_every_number_column_reads_chinese_magnitudes(org_store, tmp_path, tbl):
    cases = {"1.2万": 12_000, "3千": 3_000, "2亿": 200_000_000}
    cols = numeric_columns(tbl)
    stored, refused = run_all(org_store, tmp_path, tbl, cols, list(cases))
    assert not refused, refused
    for col in cols:
        assert [stored[i + 2][col] for i in range(len(cases))] == list(cases.values()), col


@pytest.mark.parametrize("currency", ["CNY", "USD"])
def test_screening_applicants_figures_are_read_like_an_import_in_the_default_currency(currency):
    """The screening reads an applicants file through the same validation as an import, with no mapping: a figure
    written with a magnitude word, a plain one and one with grouped thousands are all read, each in the screening's
    default currency unless the cell names another."""
    import pandas as pd

    from hardtech.store.applicants import read_applicants

    a = read_applicants(pd.DataFrame({"name": ["A Co", "B Co", "C Co", "D Co"], "description": ["x"] * 4,
                                      "revenue": ["1.5亿", "2000000", "1,234.5", "$3M"],
                                      "rd_expense": ["3000万", "300000", "1", "1"]}),
                        default_currency=currency)
    got = {line: (f["revenue"].iloc[0], f["rd_expense"].iloc[0], f["currency"].iloc[0])
           for line, f in a.financials.items()}
    assert got == {2: (150_000_000, 30_000_000, currency), 3: (2_000_000, 300_000, currency),
                   4: (1234.5, 1, currency), 5: (3_000_000, 1, "USD")}, got


def test_a_mappings_default_currency_yields_to_the_rows_own_currency_for_plain_and_parsed_figures(org_store, tmp_path):
    """`currency:` on a column is a default: a row whose own currency column says EUR keeps EUR for a plain 2 and
    for a parsed 1.5亿 alike (a parsed cell was refused as a conflict, a plain one not); a row without one takes
    the default; a currency written in the cell is the amount's own and still conflicts."""
    cols = {"investor_id": "investor_id", "currency": "currency",
            "ticket_max": {"column": "hi", "currency": "USD"}}
    stored, refused = run(org_store, tmp_path, "investors", None,
                          [{"currency": "EUR", "hi": "2"}, {"currency": "EUR", "hi": "1.5亿"},
                           {"currency": None, "hi": "1.5亿"}, {"currency": "EUR", "hi": "$3"}],
                          mapping=mapping("investors", cols))
    assert [(stored[i]["ticket_max"], stored[i]["currency"]) for i in (2, 3, 4)] == [
        (2, "EUR"), (150_000_000, "EUR"), (150_000_000, "USD")]
    r = only_reject(refused, 5, "currency")
    assert (r["value"], r["reason"]) == ("EUR", "currency EUR conflicts with USD written in ticket_max")
