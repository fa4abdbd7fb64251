"""The hardness weights file is checked as data, and the score keeps its promises (issue 17, written from the
`hardness` mutation run's survivors).

The weights file: every refusal is a SourceError naming the file and saying exactly which key is wrong and why;
each bound is accepted at its edge and refused just beyond; what the file says is what the weights hold (every
indicator's transform, bounds, direction and cohort; the windows, reference intensities, patent settings, checks,
criteria and evidence-of-kind classes), whatever indicator or key it is.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hardtech.analytics import hardness as h
from hardtech.analytics.hardness.weights import _resolve_weights
from hardtech.analytics.kind_evidence import ACTIVITIES, OECD_GROUPS as KIND_GROUPS, PRIOR_CLASSES
from hardtech.errors import SourceError, UsageError

PACKAGED = Path(h.load_weights().path)
TEXT = PACKAGED.read_text(encoding="utf-8")
DOC = tomllib.loads(TEXT)
CRITERIA = ", ".join(DOC["criteria"])


def _sql(con, query: str, params=None) -> list:
    """Run a statement and fetch its result, so none is left unfinished on the store's connection."""
    return con.execute(query, params or []).fetchall()


def edited(tmp_path: Path, *changes: tuple[str, str], name: str = "my_weights.toml") -> Path:
    """A copy of the packaged file with each (old, new) replaced once (old must be there)."""
    text = TEXT
    for old, new in changes:
        assert old in text, old
        text = text.replace(old, new, 1)
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def block(indicator: str) -> str:
    """The packaged file's [indicators.<id>] table, as written."""
    head = f"[indicators.{indicator}]\n"
    return head + TEXT.split(head, 1)[1].split("\n\n", 1)[0]


def in_block(indicator: str, old: str, new: str) -> tuple[str, str]:
    """(old, new) that changes one line of an indicator's table."""
    b = block(indicator)
    changed = re.sub(rf"(?m)^{re.escape(old)}.*$", new, b, count=1) if old else b + "\n" + new
    assert changed != b, (indicator, old)
    return b, changed


def refusal(path: Path) -> str:
    """The reason a file is refused, after checking that the error names the file."""
    with pytest.raises(SourceError) as err:
        h.load_weights(path)
    prefix = f"hardness weights {path.resolve()} are malformed: "
    assert str(err.value).startswith(prefix), str(err.value)
    return str(err.value)[len(prefix):]


# ------------------------------------------------------------------------------ what the file says is what is held


def test_every_indicator_holds_what_its_table_says():
    w = h.load_weights()
    assert w.path == str(PACKAGED.resolve())
    assert list(w.indicators) == list(h.INDICATORS)
    for i, d in DOC["indicators"].items():
        s = w.indicators[i]
        assert (s.id, s.label, s.criterion, s.weight, s.transform) == (
            i, d["label"], d["criterion"], d["weight"], d["transform"]), i
        assert (s.lo, s.hi) == ((d["lo"], d["hi"]) if d["transform"] == "linear" else (None, None)), i
        assert s.half == (d["half"] if d["transform"] == "saturating" else None), i
        assert s.higher_is_harder is d.get("higher_is_harder", True), i
        assert s.cohort == tuple(d.get("cohort", [])), i
        assert w.weight(i) == d["weight"]
        assert isinstance(s.weight, float) and all(isinstance(x, float) for x in (s.lo, s.hi, s.half) if x is not None)


def test_the_windows_references_patents_checks_criteria_and_kind_are_read_as_written(tmp_path):
    # distinct values everywhere, so a value read into the wrong field shows
    p = edited(tmp_path, ('version = "3"', 'version = "  mine  "'),
               ("rd_years = 5 ", "rd_years = 7 "), ("persistence_min_years = 2 ", "persistence_min_years = 3 "),
               ("volatility_min_years = 3 ", "volatility_min_years = 4 "), ("growth_min_years = 2 ", "growth_min_years = 5 "),
               ("founded_tolerance = 1 ", "founded_tolerance = 6 "),
               ('cohort_field = "class"', 'cohort_field = "section"'), ('normalise = "mean_ratio"', 'normalise = "percentile"'),
               ("max_rd_intensity = 100.0", "max_rd_intensity = 50"), ("max_capital_intensity = 100.0", "max_capital_intensity = 70"),
               ("unknown = 0.2 ", "unknown = 0.3 "))
    w = h.load_weights(p)
    assert w.version == "mine"  # surrounding spaces are not part of it
    assert (w.rd_years, w.persistence_min_years, w.volatility_min_years, w.growth_min_years, w.founded_tolerance) == (
        7, 3, 4, 5, 6)
    assert (w.patent_cohort, w.patent_normalise) == ("section", "percentile")
    assert (w.max_rd_intensity, w.max_capital_intensity) == (50.0, 70.0)
    assert isinstance(w.max_rd_intensity, float) and isinstance(w.max_capital_intensity, float)
    assert w.reference_intensity == {g: DOC["reference_intensity"][g] for g in h.OECD_GROUPS}
    assert {c: (x.id, x.text, x.weight, x.reading) for c, x in w.criteria.items()} == {
        c: (c, d["text"], d["weight"], d["reading"]) for c, d in DOC["criteria"].items()}
    k = DOC["kind"]
    assert (w.kind.indicators, w.kind.fallback, w.kind.unknown) == (tuple(k["indicators"]), k["fallback"], 0.3)
    assert w.kind.oecd_group == {g: k["oecd_group"][g] for g in KIND_GROUPS}
    assert w.kind.activity == {a: k["activity"][a] for a in ACTIVITIES}
    assert w.kind.prior == {c: k["prior"][c] for c in PRIOR_CLASSES}
    assert w.path == str(p.resolve())
    assert h.load_weights(edited(tmp_path, ('version = "3"', "version = 4"), name="v4.toml")).version == "4"


@pytest.mark.parametrize("field", list(h.PATENT_COHORT))
def test_every_patent_cohort_field_is_accepted(tmp_path, field):
    p = edited(tmp_path, ('cohort_field = "class"', f'cohort_field = "{field}"'))
    assert h.load_weights(p).patent_cohort == field


def test_an_indicator_s_optional_keys_take_their_documented_defaults(tmp_path):
    old, new = in_block("rd_volatility", "higher_is_harder", "")
    w = h.load_weights(edited(tmp_path, (old, new)))
    assert w.indicators["rd_volatility"].higher_is_harder is True and w.indicators["rd_volatility"].cohort == ()
    old, new = in_block("rd_growth", "", "higher_is_harder = false")
    assert h.load_weights(edited(tmp_path, (old, new), name="b.toml")).indicators["rd_growth"].higher_is_harder is False
    old, new = in_block("rd_cumulative", "transform", 'transform = "percentile"')
    s = h.load_weights(edited(tmp_path, (old, new), name="c.toml")).indicators["rd_cumulative"]
    assert s.transform == "percentile" and s.cohort == ("currency",) and (s.lo, s.hi, s.half) == (None, None, None)


# ------------------------------------------------------------------------------ bounds: accepted at the edge, refused beyond


def _whole_line(key: str, value) -> tuple[str, str]:
    line = re.search(rf"(?m)^{key} = \S+", TEXT).group(0)
    return line, f"{key} = {value}"


@pytest.mark.parametrize("key, minimum", [("rd_years", 1), ("persistence_min_years", 1), ("volatility_min_years", 2),
                                          ("growth_min_years", 2), ("founded_tolerance", 0)])
def test_each_window_is_a_whole_number_from_its_minimum(tmp_path, key, minimum):
    assert getattr(h.load_weights(edited(tmp_path, _whole_line(key, minimum))), key) == minimum
    for bad in (minimum - 1, f"{minimum}.0", "true", '"5"'):
        shown = {"true": "True", '"5"': "'5'", f"{minimum}.0": f"{float(minimum)}"}.get(str(bad), str(bad))
        assert refusal(edited(tmp_path, _whole_line(key, bad))) == (
            f"windows.{key} must be a whole number >= {minimum}, not {shown}"), bad


@pytest.mark.parametrize("key", ["max_rd_intensity", "max_capital_intensity"])
def test_each_check_is_a_number_not_below_zero(tmp_path, key):
    assert getattr(h.load_weights(edited(tmp_path, _whole_line(key, 0))), key) == 0.0
    assert refusal(edited(tmp_path, _whole_line(key, -0.5))) == f"checks.{key} must be >= 0.0, not -0.5"
    assert refusal(edited(tmp_path, _whole_line(key, '"100"'))) == f"checks.{key} must be a number, not '100'"


@pytest.mark.parametrize("group", h.OECD_GROUPS)
def test_each_reference_intensity_must_be_above_zero(tmp_path, group):
    old = "[reference_intensity]" + TEXT.split("[reference_intensity]", 1)[1].split("\n\n", 1)[0]
    line = re.search(rf"(?m)^{group}\s*= \S+", old).group(0)
    new = old.replace(line, f"{group} = 1e-9", 1)
    assert h.load_weights(edited(tmp_path, (old, new))).reference_intensity[group] == 1e-9
    assert refusal(edited(tmp_path, (old, old.replace(line, f"{group} = 0", 1)))) == (
        f"reference_intensity.{group} must be above 0, not 0.0")
    assert refusal(edited(tmp_path, (old, old.replace(line, f"{group} = nan", 1)))) == (
        f"reference_intensity.{group} must be a number, not nan")


@pytest.mark.parametrize("indicator", [i for i, d in DOC["indicators"].items() if d["transform"] == "saturating"])
def test_a_saturating_half_must_be_above_zero(tmp_path, indicator):
    old, new = in_block(indicator, "half", "half = 1e-9")
    assert h.load_weights(edited(tmp_path, (old, new))).indicators[indicator].half == 1e-9
    old, new = in_block(indicator, "half", "half = 0")
    assert refusal(edited(tmp_path, (old, new))) == f"indicators.{indicator}.half must be above 0, not 0.0"
    old, new = in_block(indicator, "half", "")
    assert refusal(edited(tmp_path, (old, new))) == "missing key 'half'"


@pytest.mark.parametrize("indicator", [i for i, d in DOC["indicators"].items() if d["transform"] == "linear"])
def test_a_linear_hi_must_be_above_its_lo(tmp_path, indicator):
    lo = DOC["indicators"][indicator]["lo"]
    old, new = in_block(indicator, "hi", f"hi = {lo + 1e-6}")
    s = h.load_weights(edited(tmp_path, (old, new))).indicators[indicator]
    assert (s.lo, s.hi) == (lo, lo + 1e-6)
    old, new = in_block(indicator, "hi", f"hi = {lo}")
    assert refusal(edited(tmp_path, (old, new))) == f"indicators.{indicator}: hi ({float(lo)}) must be above lo ({float(lo)})"
    old, new = in_block(indicator, "lo", "")
    assert refusal(edited(tmp_path, (old, new))) == "missing key 'lo'"
    old, new = in_block(indicator, "hi", 'hi = "1"')
    assert refusal(edited(tmp_path, (old, new))) == f"indicators.{indicator}.hi must be a number, not '1'"


@pytest.mark.parametrize("bad, shown", [("-0.01", "must be >= 0.0, not -0.01"), ("true", "must be a number, not True"),
                                        ("inf", "must be a number, not inf"), ('"0.05"', "must be a number, not '0.05'")])
@pytest.mark.parametrize("indicator", ["rd_intensity", "physical_product"])
def test_a_weight_is_a_finite_number_not_below_zero(tmp_path, indicator, bad, shown):
    old, new = in_block(indicator, "weight", f"weight = {bad}")
    assert refusal(edited(tmp_path, (old, new))) == f"indicators.{indicator}.weight {shown}"


def test_kind_unknown_and_every_class_value_lie_in_0_to_1(tmp_path):
    for v in (0, 1):
        assert h.load_weights(edited(tmp_path, ("unknown = 0.2 ", f"unknown = {v} "))).kind.unknown == v
    assert refusal(edited(tmp_path, ("unknown = 0.2 ", "unknown = 1.01 "))) == "kind.unknown must be in 0..1, not 1.01"
    assert refusal(edited(tmp_path, ("unknown = 0.2 ", "unknown = -0.1 "))) == "kind.unknown must be >= 0.0, not -0.1"
    for table, keys in (("oecd_group", KIND_GROUPS), ("activity", ACTIVITIES), ("prior", PRIOR_CLASSES)):
        section = f"[kind.{table}]\n" + TEXT.split(f"[kind.{table}]\n", 1)[1].split("\n\n", 1)[0]
        for key in keys:
            line = re.search(rf"(?m)^{key}\s*= \S+", section).group(0)
            for v in (0, 1):
                w = h.load_weights(edited(tmp_path, (section, section.replace(line, f"{key} = {v}", 1))))
                assert getattr(w.kind, table)[key] == v, (table, key)
            assert refusal(edited(tmp_path, (section, section.replace(line, f"{key} = 1.5", 1)))) == (
                f"kind.{table}: values must be in 0..1 ({key})")
            assert refusal(edited(tmp_path, (section, section.replace(line, f"{key} = -1", 1)))) == (
                f"kind.{table}.{key} must be >= 0.0, not -1")
            assert refusal(edited(tmp_path, (section, section.replace(line + "\n", "", 1) if line + "\n" in section
                                             else section.replace("\n" + line, "", 1)))) == f"missing key {key!r}"
        assert refusal(edited(tmp_path, (section, section + "\nzeta = 0.5\nalpha = 0.5"))) == (
            f"kind.{table} has unknown class(es) alpha, zeta; classes: {', '.join(keys)}")


# ------------------------------------------------------------------------------ structural refusals, word for word


def _criteria_block() -> str:
    return "[criteria]\n" + TEXT.split("[criteria]\n", 1)[1].split("\n\n", 1)[0]


KNOWN = ", ".join(h.INDICATORS)
REFUSALS = [
    ('version = "3"', 'version = "  "', "version must be a non-empty string"),
    ('version = "3"', "version = 3.5", "version must be a non-empty string"),
    ('version = "3"\n', "\n", "missing key 'version'"),
    ("[indicators.rd_volatility]", "[indicators.rd_wobble]",
     f"unknown indicator(s) rd_wobble; known: {KNOWN}"),
    ("[indicators.physical_product]", "[indicators.zz_b]\n[indicators.physical_product]",
     f"unknown indicator(s) zz_b; known: {KNOWN}"),
    ("rd_years = 5 ", "rd_yrs = 5 ", "missing key 'rd_years'"),
    ('cohort_field = "class"', 'cohort_field = "group"', "patents.cohort_field must be one of section, class, subclass"),
    ('normalise = "mean_ratio"', 'normalise = "mean"', "patents.normalise must be one of mean_ratio, percentile"),
    ("indicators = [\"sector_rd_group\"", "indicators = [\"rd_wobble\", \"sector_rd_group\"",
     "kind.indicators: unknown indicator(s) rd_wobble"),
    ("indicators = [\"sector_rd_group\"", "indicators = [\"rd_wobble\", 7, \"sector_rd_group\"",
     "kind.indicators: unknown indicator(s) rd_wobble, 7"),
    ('fallback = "kind_prior"', 'fallback = "rd_growth"', "kind.fallback 'rd_growth' must be one of kind.indicators"),
    ('fallback = "kind_prior"', 'fallback = "kind_priors"', "kind.fallback 'kind_priors' must be one of kind.indicators"),
    ("[kind.oecd_group]\n", "[kind.oecd_groups]\n", "missing key 'oecd_group'"),
]


@pytest.mark.parametrize("old, new, message", REFUSALS, ids=[r[2][:40] for r in REFUSALS])
def test_each_structural_error_is_named(tmp_path, old, new, message):
    assert refusal(edited(tmp_path, (old, new))) == message


def test_every_missing_indicator_is_named_in_order(tmp_path):
    a, b = block("rd_depth"), block("science_linkage")
    assert refusal(edited(tmp_path, (a, ""), (b, ""))) == (
        "indicator(s) rd_depth, science_linkage missing (a weights file lists every indicator; weight 0 leaves one out "
        "of the score)")


def test_an_indicator_table_is_checked_key_by_key(tmp_path):
    old, new = in_block("rd_growth", "", 'zeta = 1\nalpha = "x"')
    assert refusal(edited(tmp_path, (old, new))) == "indicators.rd_growth has unknown key(s) alpha, zeta"
    old, new = in_block("rd_growth", "transform", 'transform = "cubic"')
    assert refusal(edited(tmp_path, (old, new))) == (
        "indicators.rd_growth.transform must be one of linear, saturating, cohort_median, percentile, not 'cubic'")
    old, new = in_block("rd_cumulative", "cohort", 'cohort = "currency"')
    assert refusal(edited(tmp_path, (old, new))) == 'indicators.rd_cumulative.cohort must be a list such as ["currency"]'
    old, new = in_block("rd_cumulative", "cohort", 'cohort = ["currency", "country"]')
    assert refusal(edited(tmp_path, (old, new))) == "indicators.rd_cumulative.cohort: unknown ['country']; use ['currency']"
    for i in ("rd_persistence", "rd_depth"):  # linear and saturating take no cohort
        old, new = in_block(i, "", 'cohort = ["currency"]')
        assert refusal(edited(tmp_path, (old, new))) == (
            f"indicators.{i}.cohort only applies to the cohort_median and percentile transforms")
    old, new = in_block("rd_depth", "", "cohort = []")  # an empty cohort is no cohort
    assert h.load_weights(edited(tmp_path, (old, new))).indicators["rd_depth"].cohort == ()
    old, new = in_block("rd_volatility", "higher_is_harder", 'higher_is_harder = "no"')
    assert refusal(edited(tmp_path, (old, new))) == "indicators.rd_volatility.higher_is_harder must be true or false"
    old, new = in_block("rd_growth", "criterion", 'criterion = "luck"')
    assert refusal(edited(tmp_path, (old, new))) == (
        f"indicators.rd_growth.criterion 'luck' is not one of the criteria: {CRITERIA}")
    old, new = in_block("rd_growth", "criterion", "")
    assert refusal(edited(tmp_path, (old, new))) == (
        f"indicators.rd_growth.criterion '' is not one of the criteria: {CRITERIA}")
    old, new = in_block("rd_growth", "label", "")
    assert refusal(edited(tmp_path, (old, new))) == "missing key 'label'"
    text = TEXT.replace(block("rd_growth"), "[indicators]\nrd_growth = 0.035", 1)
    assert "[indicators]\nrd_growth" in text
    p = tmp_path / "flat.toml"
    p.write_text(text, encoding="utf-8")
    assert refusal(p) == "indicators.rd_growth must be a table"


def test_weights_must_add_up_to_one_within_a_billionth(tmp_path):
    old, new = in_block("rd_growth", "weight", "weight = 0.0350000005")  # criteria too are checked to 1e-9
    assert h.load_weights(edited(tmp_path, (old, new))).weight("rd_growth") == 0.0350000005
    old, new = in_block("rd_growth", "weight", "weight = 0.035000002")
    assert refusal(edited(tmp_path, (old, new))) == "the indicator weights add up to 1, not 1"
    old, new = in_block("rd_growth", "weight", "weight = 0.045")
    assert refusal(edited(tmp_path, (old, new))) == "the indicator weights add up to 1.01, not 1"


def test_each_criterion_is_checked(tmp_path):
    crit = _criteria_block()
    assert refusal(edited(tmp_path, (crit, "[criteria]"))) == "criteria must be a table with one line per criterion"
    assert refusal(edited(tmp_path, (crit, ""), ('version = "3"', 'version = "3"\ncriteria = 1'))) == (
        "criteria must be a table with one line per criterion")
    line = re.search(r"(?m)^good_returns .*$", crit).group(0)
    assert refusal(edited(tmp_path, (line, "good_returns = 0.0"))) == (
        "criteria.good_returns must be an inline table { weight = …, text = …, reading = … }")
    assert refusal(edited(tmp_path, (line, line.replace("weight = 0.0,", "weight = 0.0, colour = 1, area = 2,")))) == (
        "criteria.good_returns has unknown key(s) area, colour")
    assert refusal(edited(tmp_path, (line, line.replace("weight = 0.0,", "weight = -0.0001,")))) == (
        "criteria.good_returns.weight must be >= 0.0, not -0.0001")
    assert refusal(edited(tmp_path, (line, line.replace(' text = "brings good returns",', "")))) == "missing key 'text'"
    line = re.search(r"(?m)^long_term_investment .*$", crit).group(0)
    assert refusal(edited(tmp_path, (line, line.replace("weight = 0.16", "weight = 0.17")))) == (
        "criteria.long_term_investment.weight is 0.17 but its indicators' weights add up to 0.16")
    # within a billionth is equal
    w = h.load_weights(edited(tmp_path, (line, line.replace("weight = 0.16", "weight = 0.1600000005"))))
    assert w.criteria["long_term_investment"].weight == 0.1600000005
    assert refusal(edited(tmp_path, (line, line.replace("weight = 0.16", "weight = 0.160000002")))) == (
        "criteria.long_term_investment.weight is 0.16 but its indicators' weights add up to 0.16")
    # a criterion no indicator names weighs 0, within a billionth
    line = re.search(r"(?m)^good_returns .*$", crit).group(0)
    assert h.load_weights(edited(tmp_path, (line, line.replace("weight = 0.0,", "weight = 1e-9,")))).criteria[
        "good_returns"].weight == 1e-9
    assert refusal(edited(tmp_path, (line, line.replace("weight = 0.0,", "weight = 2e-9,")))) == (
        "criteria.good_returns.weight is 2e-09 but its indicators' weights add up to 0")


def test_the_evidence_of_kind_block_is_checked(tmp_path):
    line = re.search(r"(?m)^indicators = \[.*$", TEXT).group(0)
    for bad in ("indicators = []", 'indicators = "kind_prior"'):
        assert refusal(edited(tmp_path, (line, bad))) == 'kind.indicators must be a list of indicators, e.g. ["kind_prior"]'
    # the fallback carries the block when nothing says what kind of business an organisation is: it needs a weight
    both = line.replace('["sector_rd_group"', '["institutions_nearby", "sector_rd_group"')
    assert refusal(edited(tmp_path, (line, both), ('fallback = "kind_prior"', 'fallback = "institutions_nearby"'))) == (
        "kind.fallback 'institutions_nearby' must have a weight above 0: it carries the block when nothing says what "
        "kind of business an organisation is")
    # ... unless the block itself weighs nothing
    w = h.load_weights(edited(tmp_path, (line, 'indicators = ["institutions_nearby"]'),
                              ('fallback = "kind_prior"', 'fallback = "institutions_nearby"')))
    assert w.kind.indicators == ("institutions_nearby",) and w.kind.fallback == "institutions_nearby"
    section = "[kind.activity]\n" + TEXT.split("[kind.activity]\n", 1)[1].split("\n\n", 1)[0]
    assert refusal(edited(tmp_path, (section, ""), ("unknown = 0.2 ", "activity = 1\nunknown = 0.2 "))) == (
        "kind.activity must be a table")


# ------------------------------------------------------------------------------ reading the file


def test_a_file_that_cannot_be_read_is_named_with_the_reason(tmp_path):
    absent = tmp_path / "absent.toml"
    with pytest.raises(SourceError) as err:
        h.load_weights(absent)
    assert str(err.value) == f"cannot read hardness weights {absent}: No such file or directory"
    bad = tmp_path / "bad.toml"
    bad.write_text('version = "3"\nversion = "4"\n', encoding="utf-8")
    with pytest.raises(SourceError) as err:
        h.load_weights(bad)
    assert str(err.value).startswith(f"cannot read hardness weights {bad.resolve()}: ") and "line 2" in str(err.value)
    latin = tmp_path / "latin.toml"
    latin.write_bytes(TEXT.replace('version = "3"', 'version = "caf\u00e9"').encode("latin-1", "replace"))
    with pytest.raises(SourceError) as err:
        h.load_weights(latin)
    assert str(err.value).startswith(f"cannot read hardness weights {latin.resolve()}: ") and "utf-8" in str(err.value)
    # the file read is the one named, and a relative path is the file in the working directory
    here = os.getcwd()
    try:
        os.chdir(tmp_path)
        (tmp_path / "rel.toml").write_text(TEXT.replace('version = "3"', 'version = "rel"'), encoding="utf-8")
        assert h.load_weights("rel.toml").version == "rel"
        assert h.load_weights(Path("rel.toml")).path == str((tmp_path / "rel.toml").resolve())
    finally:
        os.chdir(here)


def test_a_changed_file_is_read_again(tmp_path):
    p = tmp_path / "w.toml"
    p.write_text(TEXT.replace('version = "3"', 'version = "a"'), encoding="utf-8")
    assert h.load_weights(p).version == "a"
    p.write_text(TEXT.replace('version = "3"', 'version = "bb"'), encoding="utf-8")  # another size
    assert h.load_weights(p).version == "bb"
    st = p.stat()
    p.write_text(TEXT.replace('version = "3"', 'version = "cc"'), encoding="utf-8")  # the same size, a later time
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    assert h.load_weights(p).version == "cc"


def test_weights_are_given_as_weights_a_path_or_nothing():
    w = h.load_weights()
    assert _resolve_weights(None) == w and _resolve_weights(str(PACKAGED)) == w and _resolve_weights(PACKAGED) == w
    assert _resolve_weights(w) is w
    assert h.load_weights("") == w  # an empty path is no path: the packaged file
    for bad, name in ((3, "int"), ({"rd_growth": 1.0}, "dict"), (b"w.toml", "bytes")):
        with pytest.raises(UsageError) as err:
            _resolve_weights(bad)
        assert str(err.value) == f"weights must be a HardnessWeights, a path to a TOML file or None, not {name}"
    assert math.isclose(math.fsum(w.weight(i) for i in h.INDICATORS), 1.0)


# ------------------------------------------------------------------------------ phase 2, recomputed apart


def _variant(kind: str) -> str:
    """The packaged file with every indicator's transform set by `kind` (weights unchanged)."""
    def one(m: re.Match) -> str:
        b = m.group(0)
        i = b.split("]", 1)[0].split(".", 1)[1]
        body = re.sub(r"(?m)^(transform|lo|hi|half|cohort|higher_is_harder) = .*\n?", "", b).rstrip("\n")
        n = h.INDICATORS.index(i)
        if kind == "percentile":
            extra = 'transform = "percentile"' + ('\ncohort = ["currency"]' if n % 2 else "")
        elif kind == "linear":  # narrow ranges, every other one flipped, so clipping at both ends happens
            extra = f'transform = "linear"\nlo = {0.01 * (n % 3)}\nhi = {0.2 + 0.1 * (n % 4)}'
        else:  # saturating, every other one flipped
            extra = f'transform = "saturating"\nhalf = {0.05 + 0.5 * (n % 3)}'
        if kind in ("linear", "saturating") and n % 2:
            extra += "\nhigher_is_harder = false"
        return body + "\n" + extra
    return re.sub(r"(?ms)^\[indicators\.\w+\]\n.*?(?=\n\n|\Z)", one, TEXT)


def _mid_rank(x: pd.Series) -> pd.Series:
    """(values below + values at or below) / 2n within x's present values."""
    v = x.dropna()
    n = len(v)
    out = pd.Series(np.nan, index=x.index)
    for k, val in v.items():
        out[k] = ((v < val).sum() + (v <= val).sum()) / (2.0 * n)
    return out


def _values(df: pd.DataFrame, w) -> dict[str, pd.Series]:
    """Each indicator's 0..1 value from its raw value and its spec, computed in pandas from docs/hardness.md."""
    out = {}
    for i, s in w.indicators.items():
        x = (df.intensity_standing if i == "rd_intensity" else df[f"raw_{i}"]).astype(float)
        keys = [df.year] + [df[c].fillna("\x00") for c in s.cohort]
        if s.transform == "linear":
            v = ((x - s.lo) / (s.hi - s.lo)).clip(0.0, 1.0)
        elif s.transform == "saturating":
            m = x.clip(lower=0.0)
            v = m / (m + s.half)
        elif s.transform == "percentile":
            v = x.groupby(keys, dropna=False).transform(_mid_rank)
        else:
            med = x.where(x > 0).groupby(keys, dropna=False).transform("median")
            v = pd.Series(np.where(x <= 0, 0.0, x / (x + med)), index=x.index).where(x.notna())
        out[i] = v if s.higher_is_harder else 1.0 - v
    return out


def _check_phase2(df: pd.DataFrame, w) -> None:
    vals = _values(df, w)
    kind = list(w.kind.indicators)
    kind_total = math.fsum(w.weight(i) for i in kind)
    for k, r in df.iterrows():
        v = {i: vals[i][k] for i in w.indicators}
        present = [i for i in w.indicators if not math.isnan(v[i])]
        seen = round(math.fsum(w.weight(i) for i in present if i in kind), 12)
        no_kind = seen <= 0
        if no_kind and kind_total > 0:
            v[w.kind.fallback] = w.kind.unknown
        for i in w.indicators:  # the values the score shows
            assert (math.isnan(v[i]) and math.isnan(r[f"value_{i}"])) or r[f"value_{i}"] == pytest.approx(v[i], abs=1e-9), (
                r.org_id, r.year, i, v[i], r[f"value_{i}"])
        confidence = round(math.fsum(w.weight(i) for i in present), 12)
        assert r.confidence == pytest.approx(confidence, abs=1e-12), (r.org_id, r.year)
        assert bool(r.kind_known) is (not no_kind)
        assert r.indicators_present == len(present)
        other = math.fsum(w.weight(i) for i in present if i not in kind)
        denom = other + kind_total
        if confidence <= 0:
            assert math.isnan(r.score) and all(math.isnan(r[f"part_{i}"]) for i in w.indicators)
            continue
        scale = 100.0 / denom
        kind_scale = kind_total / (w.weight(w.kind.fallback) if no_kind else seen)
        parts = {i: v[i] * scale * w.weight(i) * (kind_scale if i in kind else 1.0) for i in w.indicators}
        for i, p in parts.items():
            assert (math.isnan(p) and math.isnan(r[f"part_{i}"])) or r[f"part_{i}"] == pytest.approx(p, abs=1e-9), (
                r.org_id, r.year, i)
        assert r.score == pytest.approx(math.fsum(p for p in parts.values() if p > 0), abs=1e-9)
    # the percentile: share of the field and year's scored organisations at or below, from 5 of them
    for _, g in df[df.score.notna()].groupby(["year", "field"]):
        for _, r in g.iterrows():
            want = 100.0 * (g.score <= r.score).sum() / len(g) if len(g) >= h.MIN_PERCENTILE_COHORT else np.nan
            assert (math.isnan(want) and math.isnan(r.percentile_in_field_year)) or \
                r.percentile_in_field_year == pytest.approx(want), (r.org_id, r.year)
    assert df[df.score.isna()].percentile_in_field_year.isna().all()


@pytest.fixture(scope="module")
def universe(tmp_path_factory):
    """A synthetic universe plus organisations with no evidence of kind, a field of their own, nothing at all,
    negative and zero figures: every branch of phase 2 has rows."""
    import datetime as dt

    import pyarrow as pa

    from hardtech.store.connection import Store
    from hardtech.tools.synthetic import SynthConfig, generate

    store = Store(tmp_path_factory.mktemp("hardness") / "u.duckdb")
    tables = generate(SynthConfig(orgs=80, seed=11, years=(2018, 2020)))
    t0 = dt.datetime(2024, 1, 1)
    for name in ("organizations", "financials", "patents", "funding_rounds"):
        t = tables[name]
        t = t.append_column("source_name", pa.array(["synth"] * t.num_rows)).append_column(
            "imported_at", pa.array([t0] * t.num_rows, pa.timestamp("us")))
        store.con.register("_t", t)
        _sql(store.con, f"INSERT INTO {name} BY NAME SELECT * FROM _t")
        store.con.unregister("_t")
    extra = [(f"bare{k}", 10.0 * k - 10, 100.0 * k) for k in range(7)] + [("void", None, None), ("neg", -5.0, -50.0)]
    for oid, rd, rev in extra:
        _sql(store.con, "INSERT INTO organizations (org_id, kind, name_en, source_name, imported_at) "
                          "VALUES (?, 'company', ?, 'x', ?)", [oid, oid.upper(), t0])
        for y in (2019, 2020):
            _sql(store.con, "INSERT INTO financials (org_id, fiscal_year, currency, rd_expense, revenue, source_name, "
                              "imported_at) VALUES (?, ?, 'USD', ?, ?, 'x', ?)", [oid, y, rd, rev, t0])
    ids = [r[0] for r in store.con.execute("SELECT org_id FROM organizations WHERE org_id NOT LIKE 'bare%' AND "
                                           "org_id NOT IN ('void', 'neg') ORDER BY org_id LIMIT 30").fetchall()]
    probs = '{"hard_core": %s, "deep": 0.1, "model_innovation": %s}'
    for n, oid in enumerate(ids):
        _sql(store.con, "INSERT INTO classifications (entity_type, entity_id, model_version, top_field, "
                          "typology_probabilities, classified_at) VALUES ('organization', ?, 'm', ?, ?, ?)",
                          [oid, ("ai", "biotech", "it")[n % 3], probs % (n / 40, 1 - n / 30), t0])
    yield store
    store.close()


# (no all-cohort_median variant: the packaged file has three, with and without a cohort; 23 of them are 23
# self-joins, which took DuckDB over 13 GB here)
@pytest.mark.parametrize("kind", ["packaged", "percentile", "linear", "saturating"])
def test_every_value_part_confidence_score_and_percentile_follow_the_documented_rules(universe, tmp_path, kind):
    """Phase 2 recomputed in pandas from phase 1's raw values and the weights file, for every organisation-year and
    every indicator, under each transform (both directions): the engine's expression must agree."""
    if kind == "packaged":
        w = h.load_weights()
    else:
        p = tmp_path / f"{kind}.toml"
        p.write_text(_variant(kind), encoding="utf-8")
        w = h.load_weights(p)
        assert {s.transform for s in w.indicators.values()} == {kind}
    df = h.indicators(universe, weights=w)
    assert len(df) > 150 and df.score.isna().any() and (~df.kind_known).any() and df.kind_known.any()
    _check_phase2(df, w)
    # score() is the same expression: its rows agree with indicators()'
    s = h.score(universe, weights=w).set_index(["org_id", "year"]).sort_index()
    d = df.set_index(["org_id", "year"]).sort_index()
    for c in ("score", "confidence", "percentile_in_field_year", *[f"part_{i}" for i in h.INDICATORS]):
        assert np.allclose(s[c].to_numpy(float), d[c].to_numpy(float), equal_nan=True, atol=1e-12), c


# ------------------------------------------------------------------------------ saving scores


def _saved_parts(store) -> dict[tuple[str, int], dict]:
    import json

    rows = store.con.execute("SELECT org_id, year, weights_version, parts FROM scores").fetchall()
    return {(o, y): (v, json.loads(p)) for o, y, v, p in rows}


def _same(x, y) -> bool:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return y is None
    return y is not None and y == pytest.approx(float(x), abs=1e-9)


def test_saved_parts_hold_every_indicator_s_weight_value_raw_value_and_contribution(universe, tmp_path):
    """Whatever frame or table is saved: one entry per indicator, with the weight of the weights used (null when the
    frame does not say), the 0..1 value, the raw value (null when the frame has none) and the contribution."""
    universe.con.execute("DELETE FROM scores").fetchall()
    w = h.load_weights()
    for frame, has_raw in ((h.score(universe, year=2020), False), (h.indicators(universe, year=2020), True)):
        universe.con.execute("DELETE FROM scores").fetchall()
        frame = frame[frame.org_id != "void"].iloc[::-1]  # any index, any order
        assert h.save_scores(universe, frame) == len(frame)
        saved = _saved_parts(universe)
        assert len(saved) == len(frame)
        for _, r in frame.iterrows():
            version, parts = saved[(r.org_id, 2020)]
            assert version == w.version and list(parts) == list(h.INDICATORS)
            for i, p in parts.items():
                assert set(p) == {"weight", "value", "raw", "contribution"}
                assert p["weight"] == w.weight(i), (i, p)
                assert _same(r[f"value_{i}"], p["value"]) and _same(r[f"part_{i}"], p["contribution"]), (r.org_id, i)
                assert _same(r[f"raw_{i}"], p["raw"]) if has_raw else p["raw"] is None
    # a frame that does not say its weights (or not every one) saves a null weight, never a wrong one
    frame = h.score(universe, year=2020)
    frame.attrs.clear()
    universe.con.execute("DELETE FROM scores").fetchall()
    h.save_scores(universe, frame)
    assert all(p["weight"] is None for _, parts in _saved_parts(universe).values() for p in parts.values())
    frame.attrs["weights"] = {"rd_depth": 0.09}
    h.save_scores(universe, frame)
    for _, parts in _saved_parts(universe).values():
        assert parts["rd_depth"]["weight"] == 0.09 and parts["rd_growth"]["weight"] is None
    # from the engine, with weights of one's own: the parts say that file's weights
    p = tmp_path / "lin.toml"  # other transforms, and rd_intensity and rd_depth's weights swapped (one criterion)
    text = _variant("linear").replace('version = "3"', 'version = "lin"')
    for i, wt in (("rd_intensity", "0.09"), ("rd_depth", "0.05")):
        head = f"[indicators.{i}]\n"
        b = head + text.split(head, 1)[1].split("\n\n", 1)[0]
        text = text.replace(b, re.sub(r"(?m)^weight = .*$", f"weight = {wt}", b), 1)
    p.write_text(text, encoding="utf-8")
    mine = h.load_weights(p)
    assert (mine.weight("rd_intensity"), mine.weight("rd_depth")) == (0.09, 0.05)
    universe.con.execute("DELETE FROM scores").fetchall()
    assert h.save_score_table(universe, h.score_table(universe, 2020, weights=mine), mine) == len(frame)
    for version, parts in _saved_parts(universe).values():
        assert version == "lin" and {i: q["weight"] for i, q in parts.items()} == {i: mine.weight(i) for i in h.INDICATORS}
    universe.con.execute("DELETE FROM scores").fetchall()
    assert h.save_score_table(universe, h.score_table(universe, 2020, weights=p), p) == len(frame)
    assert {v for v, _ in _saved_parts(universe).values()} == {"lin"}


def test_save_scores_names_every_missing_column_and_saves_nothing_from_an_empty_frame(universe):
    frame = h.score(universe, year=2020)
    with pytest.raises(UsageError) as err:
        h.save_scores(universe, frame.drop(columns=["year", "field", "weights_version"]))
    assert str(err.value) == "save_scores needs a score() frame; missing column(s): year, field, weights_version"
    universe.con.execute("DELETE FROM scores").fetchall()
    assert h.save_scores(universe, frame.iloc[:0]) == 0
    assert universe.con.execute("SELECT count(*) FROM scores").fetchall() == [(0,)]


# ------------------------------------------------------------------------------ explain


def _expected_note(r, w, kind_w: float) -> str:
    if math.isnan(r.score):
        return "no indicator could be computed for this organisation and year, so there is no score."
    note = (f"score = sum of the contributions. An R&D, patent or funding indicator that is missing is left "
            f"out and the others re-weighted: it is never counted as 0. The evidence of kind keeps its whole "
            f"weight ({kind_w:.4g}) whatever is missing: the evidence present shares it, and with none the "
            f"documented unknown-kind value ({w.kind.unknown:g}) stands in. Confidence {r.confidence:.4g} is the weight "
            f"of what was really present.")
    if math.isnan(r.percentile_in_field_year):
        note += (f" No percentile: fewer than {h.MIN_PERCENTILE_COHORT} organisations of its field were scored for "
                 f"{int(r.year)}, too few to rank against.")
    return note


def _plain(v):
    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return None
    return v.item() if hasattr(v, "item") else v


def test_explain_says_what_the_indicators_table_says_for_every_organisation(universe):
    """Every organisation of a year, explained from the whole year's table: each part's weight, label, criterion,
    transform, value, raw value, inputs, contribution, missing flag and reason; the criteria's sums; score,
    confidence, percentile, field, the missing list, warnings and the note."""
    w = h.load_weights()
    kind_ids = set(w.kind.indicators)
    kind_w = math.fsum(w.weight(i) for i in kind_ids)
    whole = h.indicators(universe, year=2020)
    asked = []
    for oid in whole.org_id:
        got = h.explain(universe, oid, 2020, table_for=lambda y: asked.append(y) or whole)
        r = whole[whole.org_id == oid].iloc[0]
        assert (got["org_id"], got["year"], got["name"], got["field"]) == (oid, 2020, r["name"], r.field)
        assert _same(r.score, got["score"]) and got["confidence"] == pytest.approx(r.confidence)
        assert _same(r.percentile_in_field_year, got["percentile_in_field_year"])
        assert (got["weights_version"], got["weights_file"]) == (w.version, w.path)
        assert got["warnings"] == (r.warnings.split("; ") if isinstance(r.warnings, str) else [])
        assert got["note"] == _expected_note(r, w, kind_w), oid
        stand_in = not r.kind_known
        assert [p["indicator"] for p in got["parts"]] == list(w.indicators)
        for p in got["parts"]:
            i, s = p["indicator"], w.indicators[p["indicator"]]
            value = _plain(r[f"value_{i}"])
            fallback = stand_in and i == w.kind.fallback
            assert (p["label"], p["criterion"], p["criterion_id"], p["weight"], p["transform"]) == (
                s.label, w.criteria[s.criterion].text, s.criterion, s.weight, s.transform)
            assert _same(r[f"value_{i}"], p["value_0_1"]) and _same(r[f"part_{i}"], p["contribution"])
            assert _same(r[f"raw_{i}"], p["raw_value"]) and p["missing_reason"] == _plain(r[f"missing_{i}"])
            assert p["inputs"] == {c: _plain(r[c]) for c in h.INPUTS[i]}
            assert p["missing"] is (value is None or fallback), (oid, i)
            assert p.get("evidence_of_kind") is (True if i in kind_ids else None)
            assert ("stand_in" in p) is fallback
            if fallback:
                assert p["stand_in"] == (f"no evidence of kind at all: scored at kind.unknown = {w.kind.unknown:g}, "
                                         "which does not count towards confidence")
        assert got["missing"] == [p["indicator"] for p in got["parts"] if p["missing"]]
        for c in got["criteria"]:
            spec = w.criteria[c["criterion_id"]]
            assert (c["criterion"], c["weight"], c["reading"]) == (spec.text, spec.weight, spec.reading)
            mine = [p["contribution"] for p in got["parts"] if p["criterion_id"] == spec.id and p["contribution"] is not None]
            assert c["contribution"] == (pytest.approx(math.fsum(mine)) if mine else None)
        assert [c["criterion_id"] for c in got["criteria"]] == list(w.criteria)
    assert set(asked) == {2020} and len(asked) == len(whole)
    # the whole table need not hold the organisation: it is then computed alone, to the same answer
    oid = whole.org_id.iloc[0]
    assert h.explain(universe, oid, 2020, table_for=lambda y: whole.iloc[:0]) == h.explain(universe, oid, 2020)


def test_explain_names_an_organisation_by_its_english_then_chinese_name_then_its_id(store):
    _sql(store.con, "INSERT INTO organizations (org_id, kind, name_en, name_zh, source_name, imported_at) VALUES "
                      "('en', 'company', 'Eng', '英', 's', now()), ('zh', 'company', NULL, '中文', 's', now()), "
                      "('id', 'company', NULL, NULL, 's', now())")
    _sql(store.con, "INSERT INTO financials (org_id, fiscal_year, currency, rd_expense, revenue, source_name, "
                      "imported_at) VALUES ('en', 2019, 'CNY', 1, 10, 's', now()), ('en', 2021, 'CNY', 2, 10, 's', now()), "
                      "('zh', 2020, 'CNY', 1, 10, 's', now())")
    assert h.explain(store, "zh")["name"] == "中文"
    e = h.explain(store, "en")
    assert e["name"] == "Eng" and e["year"] == 2021  # no year: the latest with figures
    assert h.explain(store, "en", "2019")["year"] == 2019
    with pytest.raises(UsageError) as err:
        h.explain(store, "id")
    assert str(err.value).startswith("id has no financial figures in the store, so no hardness score")
    with pytest.raises(UsageError) as err:
        h.explain(store, "en", 2020)
    assert str(err.value) == "en (Eng) has no financial figures for 2020 in the store; years it has: 2019, 2021"


def test_unknown_organisations_are_named_up_to_ten(universe):
    from hardtech.errors import NotFound

    for n in (1, 10, 11, 12):
        ghosts = [f"ghost{k:02d}" for k in range(n)]
        with pytest.raises(NotFound) as err:
            h.score(universe, 2020, org_ids=["bare1", *ghosts])
        shown = ", ".join(repr(g) for g in ghosts[:10]) + (" …" if n > 10 else "")
        assert str(err.value) == f"no organisation {shown} in the store"
    one = h.score(universe, 2020, org_ids="bare1")  # one id as a string is that organisation, not its letters
    assert list(one.org_id) == ["bare1"]
    assert list(h.score(universe, "2020", org_ids=("bare1", "bare2")).org_id.sort_values()) == ["bare1", "bare2"]
    for bad in ("last", [2020], {"year": 2020}):
        with pytest.raises(UsageError) as err:
            h.score(universe, bad)
        assert str(err.value) == f"the year must be a year such as 2022, not {bad!r}"


def test_the_evidence_of_kind_says_where_each_piece_comes_from(full_store_like):
    store, oid, bare = full_store_like
    ev = {e["evidence"]: e for e in h.explain(store, oid, 2020)["kind_evidence"]}
    assert list(ev) == ["OECD R&D-intensity group of the ISIC/NACE code", "manufacturing or services (industry codes)",
                        "typology prior of the industry codes and the organisation kind",
                        "classifier's typology (from the description)", "organisation kind"]
    cls = ev["classifier's typology (from the description)"]
    assert cls["value"] == "P(hard_core) = 0.6, P(deep) = 0.2, P(model_innovation) = 0.05"
    assert cls["source"] == "classifications, model m1" and cls["indicator"] == "hardness_of_kind, physical_product"
    assert ev["organisation kind"] == {"evidence": "organisation kind", "indicator": "kind_prior", "value": "company",
                                       "source": "organizations.kind"}
    grp = ev["OECD R&D-intensity group of the ISIC/NACE code"]
    assert grp["value"] == "high" and "nace_isic.csv" in grp["source"] and grp["indicator"] == "sector_rd_group"
    ev = {e["evidence"]: e for e in h.explain(store, bare, 2020)["kind_evidence"]}
    assert ev["OECD R&D-intensity group of the ISIC/NACE code"]["value"] is None
    assert ev["OECD R&D-intensity group of the ISIC/NACE code"]["source"] == "no ISIC/NACE industry code"
    cls = ev["classifier's typology (from the description)"]
    assert cls["value"] is None and cls["source"] == "not classified"
    assert ev["manufacturing or services (industry codes)"]["value"] is None


@pytest.fixture
def full_store_like(store):
    import json

    _sql(store.con, "INSERT INTO organizations (org_id, kind, name_en, industry_codes, source_name, imported_at) "
                      "VALUES ('f', 'company', 'F', ['isic:2620'], 's', now()), ('b', 'company', 'B', NULL, 's', now())")
    _sql(store.con, "INSERT INTO financials (org_id, fiscal_year, currency, rd_expense, revenue, source_name, "
                      "imported_at) VALUES ('f', 2020, 'CNY', 1, 10, 's', now()), ('b', 2020, 'CNY', 1, 10, 's', now())")
    probs = json.dumps({"hard_core": 0.6, "deep": 0.2, "black": 0.05, "high": 0.1, "model_innovation": 0.05})
    _sql(store.con, "INSERT INTO classifications (entity_type, entity_id, model_version, top_field, "
                      "typology_probabilities, classified_at) VALUES ('organization', 'f', 'm1', 'ai', ?, now())", [probs])
    return store, "f", "b"
