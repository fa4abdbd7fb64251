"""STAR test: a missing value never reads as a failure (nor as a pass), in every indicator, alternative and version.

The promise, stated so it can be checked mechanically: when one input is missing, the test may only
say what every possible value of that input would say. If some value would make an indicator (or an
exception, or the verdict) pass and another would make it fail, the answer with the value missing must
be "cannot tell" (None / "insufficient data"). So for every version in the shipped rules file, several
companies (passing everything, failing everything, failing only one indicator), with and without the
software carve-out, we blank each input in turn — each year's revenue and R&D, the staff counts, the
patents, a whole year's row — and compare the verdict with the verdicts for a low and a high value put
in its place.
"""

from __future__ import annotations

import pandas as pd
import pytest

from hardtech.analytics.star import evaluate_star, load_star_rules

M = 1_000_000
YEARS = (2020, 2021, 2022)
LAST = YEARS[-1]
VERSIONS = list(load_star_rules())  # every version in data/rules/star_versions.toml

BASES = {  # one row per year: revenue, R&D; the last year's counts
    "passes everything": dict(revenue=(1000 * M,) * 3, rd_expense=(100 * M,) * 3, rd_staff=30, employees=100,
                              invention_patents=10),
    "fails everything": dict(revenue=(100 * M,) * 3, rd_expense=(1 * M,) * 3, rd_staff=1, employees=100,
                             invention_patents=1),
    "fails only revenue growth": dict(revenue=(150 * M, 170 * M, 200 * M), rd_expense=(20 * M,) * 3, rd_staff=30,
                                      employees=100, invention_patents=10),
    "fails only R&D": dict(revenue=(1000 * M,) * 3, rd_expense=(10 * M,) * 3, rd_staff=30, employees=100,
                           invention_patents=10),
}
FLAGS = {"no carve-out": (), "software carve-out": ("software",)}

# each input that can be missing, with a low and a high value that could stand in for it
MONEY_PROBES = {"revenue": (1 * M, 5000 * M), "rd_expense": (0.0, 500 * M)}
COUNT_PROBES = {"rd_staff": (0, 100), "employees": (100, 10_000), "invention_patents": (0, 100)}
ROW_PROBES = (  # a whole year's row
    dict(revenue=5000 * M, rd_expense=0.0, rd_staff=0, employees=10_000, invention_patents=0),
    dict(revenue=1 * M, rd_expense=500 * M, rd_staff=100, employees=100, invention_patents=100),
)
CELLS = ([(col, y) for col in MONEY_PROBES for y in YEARS] + [(col, LAST) for col in COUNT_PROBES]
         + [("row", y) for y in YEARS])


def frame(base: dict, cell: tuple[str, int] | None = None, value=None, blank: bool = False) -> pd.DataFrame:
    """The company's three years, with `cell` blanked (blank=True) or set to `value`."""
    rows = []
    for i, y in enumerate(YEARS):
        row = {"org_id": "guard", "fiscal_year": y, "currency": "CNY", "revenue": base["revenue"][i],
               "rd_expense": base["rd_expense"][i]}
        row.update({c: base[c] for c in COUNT_PROBES})
        if cell is not None and cell[1] == y:
            col = cell[0]
            if col == "row":
                if blank:
                    continue
                row.update(value)
            else:
                row[col] = None if blank else value
        rows.append(row)
    return pd.DataFrame(rows)


def probes(cell: tuple[str, int]):
    col = cell[0]
    if col == "row":
        return ROW_PROBES
    return MONEY_PROBES.get(col) or COUNT_PROBES[col]


def outcomes(result) -> dict[str, object]:
    """Everything a verdict rests on: each indicator, each exception, and the verdict itself."""
    out = {f"indicator {i.name}": i.passed for i in result.indicators}
    out.update({f"exception {e.number}": e.passed for e in result.exceptions})
    out["verdict"] = result.verdict
    return out


UNKNOWN = {None, "insufficient data"}


def sound(blank, filled: list) -> bool:
    """A missing input's answer is sound when it is 'cannot tell', or what every filled-in value says."""
    return blank in UNKNOWN or all(f == blank for f in filled)


@pytest.mark.parametrize("version", VERSIONS)
def test_a_missing_value_never_decides_an_indicator_or_the_verdict(version):
    failures, undecided = [], 0
    for base_name, base in BASES.items():
        for flag_name, flags in FLAGS.items():
            for cell in CELLS:
                blank = outcomes(evaluate_star("guard", frame(base, cell, blank=True), year=LAST, version=version,
                                               flags=flags))
                filled = [outcomes(evaluate_star("guard", frame(base, cell, v), year=LAST, version=version,
                                                 flags=flags)) for v in probes(cell)]
                for key, said in blank.items():
                    could_be = [f[key] for f in filled]
                    if not sound(said, could_be):
                        failures.append(f"{base_name}, {flag_name}, {cell[0]} {cell[1]} missing: {key} is {said!r}, "
                                        f"but the values it could have give {could_be!r}")
                    if said in UNKNOWN and len(set(map(repr, could_be))) > 1:
                        undecided += 1
    assert not failures, f"version {version}: a missing value read as a verdict:\n" + "\n".join(failures[:15])
    assert undecided > 20, "the probes never made a missing value matter; the check would be vacuous"


@pytest.mark.parametrize("version", VERSIONS)
def test_missing_first_year_revenue_with_a_small_last_year_is_insufficient_data(version):
    """The case that slipped through: first-year revenue unknown, last year RMB 200 m (below the RMB 300 m
    alternative), everything else met: growth might be anything, so the answer is 'cannot tell'."""
    base = BASES["fails only revenue growth"]
    r = evaluate_star("guard", frame(base, ("revenue", YEARS[0]), blank=True), year=LAST, version=version)
    growth = next(i for i in r.indicators if i.name == "revenue_growth")
    assert growth.passed is None, growth.note
    assert r.verdict == "insufficient data", r.decided_by
    assert "revenue missing for fiscal year 2020" in r.decided_by
