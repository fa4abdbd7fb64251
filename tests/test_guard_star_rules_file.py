"""The STAR rules file is checked as data: each bound accepted at its edge and refused just beyond, each error
naming the file and the dotted key, optional keys optional (issue 17, from the mutation run's survivors).

Also: industry codes are matched to the negative list whatever their case, width or spacing.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hardtech.analytics import star
from hardtech.analytics.star import evaluate_star, load_star_rules
from hardtech.errors import SourceError

RULES_FILE = Path(star.__file__).resolve().parents[2] / "data" / "rules" / "star_versions.toml"
T2024 = '[versions."2024-04-30".thresholds]\n'
SOFTWARE_2020 = '[versions."2020-03-20".carve_outs.software]\ndefault = true\nwaives = "invention_patents"\n'


def edited(tmp_path: Path, old: str, new: str) -> Path:
    text = RULES_FILE.read_text(encoding="utf-8")
    assert old in text, old
    path = tmp_path / "edited_star_versions.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def threshold(key: str, value) -> tuple[str, str]:
    """(old, new) that sets one threshold of the 2024 version."""
    block = RULES_FILE.read_text(encoding="utf-8").split(T2024, 1)[1].split("\n\n", 1)[0]
    new = re.sub(rf"(?m)^{key} = .*$", f"{key} = {value}", block)
    assert new != block, key
    return T2024 + block, T2024 + new


# key, accepted at the edge, refused beyond, the span the message states
BOUNDS = [
    ("rd_ratio_min", ["0.0", "1.0"], "1.01", "in [0.0, 1.0]"),
    ("rd_staff_share_min", ["0.0", "1.0"], "1.01", "in [0.0, 1.0]"),
    ("rd_cumulative_min_cny", ["0", "0.5"], "-1", ">= 0.0"),
    ("revenue_last_year_min_cny", ["0", "0.5"], "-1", ">= 0.0"),
    ("revenue_cagr_min", ["-1.0"], "-1.01", ">= -1.0"),
]


@pytest.mark.parametrize("key, good, bad, span", BOUNDS, ids=[b[0] for b in BOUNDS])
def test_each_threshold_is_accepted_at_its_bound_and_refused_beyond(tmp_path, key, good, bad, span):
    for value in good:
        old, new = threshold(key, value)
        got = getattr(load_star_rules(edited(tmp_path, old, new))["2024-04-30"].thresholds, key)
        assert got == float(value), (key, value)
    old, new = threshold(key, bad)
    path = edited(tmp_path, old, new)
    with pytest.raises(SourceError) as err:
        load_star_rules(path)
    assert str(err.value) == f"{path}: 'versions.2024-04-30.thresholds.{key}' must be {span}, got {float(bad)}"


@pytest.mark.parametrize("value, ok", [("1.0", True), ("1.01", False)])
def test_a_carve_outs_ratio_is_bounded_like_a_threshold(tmp_path, value, ok):
    path = edited(tmp_path, SOFTWARE_2020 + "rd_ratio_min = 0.10", SOFTWARE_2020 + f"rd_ratio_min = {value}")
    if ok:
        assert load_star_rules(path)["2020-03-20"].carve_out("software").rd_ratio_min == 1.0
    else:
        with pytest.raises(SourceError, match=r"carve_outs\.software\.rd_ratio_min' must be in \[0.0, 1.0\]"):
            load_star_rules(path)


@pytest.mark.parametrize("old, new, message", [
    # a missing top-level key is named without a leading dot
    ('current = "2024-04-30"\n', "\n", "missing key 'current'"),
    # a type error names the type wanted and the type found
    (T2024 + "rd_ratio_min = 0.05", T2024 + 'rd_ratio_min = "5%"',
     "'versions.2024-04-30.thresholds.rd_ratio_min' must be float, got str"),
    # an exception with both a flag and a patent count
    ('number = 1\nid = "international_leading"\nflag = "international_leading"\n',
     'number = 1\nid = "international_leading"\nflag = "international_leading"\nmin_invention_patents = 3\n',
     "versions.2020-03-20.exceptions[0] needs exactly one of 'flag' or 'min_invention_patents'"),
    # two exceptions with one number
    ('number = 2\n', 'number = 1\n', "versions.2020-03-20.exceptions: numbers repeat: [1, 1, 3, 4, 5]"),
    # a carve-out waiving what is not an indicator
    (SOFTWARE_2020, SOFTWARE_2020.replace('"invention_patents"', '"charm"'),
     "versions.2020-03-20.carve_outs.software.waives 'charm' is not an indicator of this version"),
    # a carve-out without its trigger table
    ("[carve_out_triggers.red_chip]\n", "[carve_out_triggers.red_chip_renamed]\n",
     "carve-out 'red_chip' has no 'carve_out_triggers.red_chip' table"),
])
def test_a_bad_rules_file_says_which_file_and_key(tmp_path, old, new, message):
    path = edited(tmp_path, old, new)
    with pytest.raises(SourceError) as err:
        load_star_rules(path)
    msg = str(err.value)
    assert msg.startswith(f"{path}: "), msg
    if message:
        assert message in msg


def test_an_exception_that_is_not_a_table_is_named(tmp_path):
    import tomllib

    path = tmp_path / "x.toml"
    raw = tomllib.loads(RULES_FILE.read_text(encoding="utf-8"))
    raw["versions"]["2024-04-30"]["exceptions"][0] = 7
    with pytest.raises(SourceError) as err:
        star._parse(raw, str(path))
    assert str(err.value) == f"{path}: versions.2024-04-30.exceptions[0] must be a table"


def test_an_industry_code_without_a_scheme_is_named(tmp_path):
    path = edited(tmp_path, '[carve_out_triggers.pre_revenue]\nflags = ["listing_standard_5"]\nveto_flags = []\ncodes = []',
                  '[carve_out_triggers.pre_revenue]\nflags = ["listing_standard_5"]\nveto_flags = []\ncodes = ["Semi"]')
    with pytest.raises(SourceError) as err:
        load_star_rules(path)
    assert str(err.value) == f"{path}: carve_out_triggers.pre_revenue.codes[0] 'Semi' must be 'scheme:code'"


@pytest.mark.parametrize("key", ["waives", "veto_flags"])
def test_optional_keys_of_a_carve_out_may_be_left_out(tmp_path, key):
    if key == "waives":
        path = edited(tmp_path, SOFTWARE_2020, SOFTWARE_2020.replace('waives = "invention_patents"\n', ""))
        assert load_star_rules(path)["2020-03-20"].carve_out("software").waives is None
    else:
        path = edited(tmp_path, '[carve_out_triggers.red_chip]\nflags = ["red_chip"]\nveto_flags = []\n',
                      '[carve_out_triggers.red_chip]\nflags = ["red_chip"]\n')
        assert load_star_rules(path)["2024-04-30"].carve_out("red_chip").veto_flags == ()


@pytest.mark.parametrize("code", ["gics:  DIVERSIFIED   banks ", "gics:Ｄｉｖｅｒｓｉｆｉｅｄ Ｂａｎｋｓ",
                                  "crunchbase:REAL\tESTATE", "crunchbase:Category:  Real Estate"])
def test_industry_names_match_the_negative_list_whatever_their_case_width_or_spacing(code):
    from test_star import STRONG, fin

    star._code_key.cache_clear()  # fresh caches: the normalisation itself runs, not an earlier test's answer
    star._code_matches.cache_clear()
    res = evaluate_star("acme", fin(**STRONG), version="2024-04-30", industry_codes=[code])
    assert res.verdict == "prohibited", (code, res.decided_by)


@pytest.mark.parametrize("item, shown", [('""', "''"), ('"  "', "'  '"), ("7", "7")])
def test_an_empty_or_non_text_list_item_is_named(tmp_path, item, shown):
    path = edited(tmp_path, '[carve_out_triggers.red_chip]\nflags = ["red_chip"]',
                  f'[carve_out_triggers.red_chip]\nflags = ["red_chip", {item}]')
    with pytest.raises(SourceError) as err:
        load_star_rules(path)
    assert str(err.value) == f"{path}: carve_out_triggers.red_chip.flags[1] must be non-empty text, got {shown}"


@pytest.mark.parametrize("old, new, message", [
    ("schema = 1\n", "schema = 2\n", "'schema' must be 1 (this program reads schema 1)"),
    ('fx_month_day = "12-31"', 'fx_month_day = "12/31"', "'evaluation.fx_month_day' must be MM-DD, got '12/31'"),
    ('fx_month_day = "12-31"', 'fx_month_day = "02-30"', "'evaluation.fx_month_day' must be MM-DD, got '02-30'"),
    ("tolerance_rel = 1e-9", "tolerance_rel = 0.02", "'evaluation.tolerance_rel' must be in [0.0, 0.01], got 0.02"),
    ("tolerance_rel = 1e-9", "tolerance_rel = -1e-9", "'evaluation.tolerance_rel' must be in [0.0, 0.01], got -1e-09"),
])
def test_the_evaluation_settings_are_checked_and_named(tmp_path, old, new, message):
    path = edited(tmp_path, old, new)
    with pytest.raises(SourceError) as err:
        load_star_rules(path)
    assert str(err.value) == f"{path}: {message}"


def test_a_tolerance_at_its_bound_is_accepted(tmp_path):
    v = load_star_rules(edited(tmp_path, "tolerance_rel = 1e-9", "tolerance_rel = 0.01"))["2024-04-30"]
    assert v.tolerance_rel == 0.01


def test_optional_evaluation_settings_default_to_the_strict_reading(tmp_path):
    """Without `patent_filings_proxy` filings never stand in; without `fx_max_age_days` no age limit is set."""
    text = RULES_FILE.read_text(encoding="utf-8")
    text = re.sub(r"(?m)^patent_filings_proxy = .*$", "", text)
    text = re.sub(r"(?m)^fx_max_age_days = .*$", "", text)
    path = tmp_path / "optional.toml"
    path.write_text(text, encoding="utf-8")
    versions = load_star_rules(path)
    assert all(v.patent_filings_proxy is False and v.fx_max_age_days is None for v in versions.values())
    import pandas as pd

    df = pd.DataFrame([{"org_id": "f", "fiscal_year": y, "currency": "CNY", "revenue": 500e6, "rd_expense": 50e6,
                        "rd_staff": 30, "employees": 100, "patent_filings_cn": 20} for y in (2020, 2021, 2022)])
    res = evaluate_star("f", df, rules=versions)
    assert next(i for i in res.indicators if i.name == "invention_patents").passed is None and not res.proxies


def test_a_file_without_versions_is_refused_by_name(tmp_path):
    text = RULES_FILE.read_text(encoding="utf-8")
    head = text.split("\n[versions.", 1)[0]
    path = tmp_path / "no_versions.toml"
    path.write_text(head + "\n[versions]\n", encoding="utf-8")
    with pytest.raises(SourceError) as err:
        load_star_rules(path)
    assert str(err.value) == f"{path}: 'versions' is empty"


def test_a_negative_list_category_with_typology_hints_must_say_which_schemes_they_read(tmp_path):
    text = RULES_FILE.read_text(encoding="utf-8")
    head, rest = text.split("[negative_list_categories.model_innovation]", 1)
    block, tail = rest.split("\n[", 1)
    block = re.sub(r"(?m)^hint_schemes = .*$", "", block)
    path = tmp_path / "no_schemes.toml"
    path.write_text(head + "[negative_list_categories.model_innovation]" + block + "\n[" + tail, encoding="utf-8")
    with pytest.raises(SourceError) as err:
        load_star_rules(path)
    assert "hint_schemes" in str(err.value) and "model_innovation" in str(err.value)
