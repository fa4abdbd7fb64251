"""A STAR batch judges each organisation as `evaluate_star` judges it alone, and rules are data (issue 17).

Mutation testing of analytics/star.py showed the batch's own set-up unguarded: loading the shipped FX
table when a batch holds foreign currencies, honouring a caller's FX table and rules file, treating no or
empty financials as "insufficient data", and its error texts. The promises here are general: any rules
file with its own version ids works everywhere a version is chosen, and a batch never gives an
organisation another verdict than it gets alone.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from hardtech.analytics import star
from hardtech.analytics.star import (
    CURRENT_VERSION,
    evaluate_star,
    evaluate_star_batch,
    load_star_rules,
    star_version,
    version_in_force,
)
from hardtech.errors import UsageError
from hardtech.sources.fx import FXTable, load_fx

M = 1_000_000
RULES_FILE = Path(star.__file__).resolve().parents[2] / "data" / "rules" / "star_versions.toml"


def fin(org, currency="CNY", revenue=1000 * M, rd=100 * M, first_year=2021):
    """Three fiscal years; at the defaults every indicator of every version passes."""
    return pd.DataFrame([dict(org_id=org, fiscal_year=first_year + i, currency=currency, revenue=revenue,
                              rd_expense=rd, rd_staff=30, employees=100, invention_patents=10) for i in range(3)])


ORGS = pd.DataFrame([
    {"org_id": "cny", "flags": None, "industry_codes": ["gics:Application Software"], "typology": None},
    {"org_id": "usd", "flags": None, "industry_codes": None, "typology": None},
    {"org_id": "weak", "flags": "national_award", "industry_codes": None, "typology": None},
    {"org_id": "bank", "flags": [], "industry_codes": "cn_industry:银行", "typology": None},
    {"org_id": "nodata", "flags": None, "industry_codes": None, "typology": None},
])
FIN = pd.concat([fin("cny"), fin("usd", currency=" usd "), fin("weak", revenue=100 * M, rd=1 * M), fin("bank")])


def alone(oid: str, **kw):
    rec = ORGS.set_index("org_id").loc[oid]
    rows = FIN[FIN["org_id"] == oid].to_dict("records")
    as_list = lambda v: [v] if isinstance(v, str) else (list(v) if isinstance(v, list) else [])  # noqa: E731
    return evaluate_star(oid, rows, flags=as_list(rec["flags"]), industry_codes=as_list(rec["industry_codes"]),
                         typology=rec["typology"], **kw)


def same(a, b) -> bool:
    return a.to_dict() == b.to_dict()


@pytest.fixture(scope="module")
def fake_fx(tmp_path_factory) -> FXTable:
    """A USD table whose rate (1 USD = 0.01 CNY) makes the USD company too small to pass on revenue."""
    path = tmp_path_factory.mktemp("fx") / "usd.csv"
    path.write_text("date,base,quote,rate,source\n" + "".join(f"{y}-12-31,USD,CNY,0.01,synthetic test table\n"
                                                            for y in range(2019, 2025)), encoding="utf-8")
    return FXTable.from_csv(path)


@pytest.fixture(scope="module")
def own_rules(tmp_path_factory) -> Path:
    """The shipped rules with two versions renumbered (2020-03-20 → 2020-05-01, 2024-04-30 → 2026-01-01)
    and the 2026 R&D ratio raised to 50 %: a rules file of one's own, with ids the shipped file lacks."""
    text = RULES_FILE.read_text(encoding="utf-8").replace("2020-03-20", "2020-05-01").replace("2024-04-30", "2026-01-01")
    old = '[versions."2026-01-01".thresholds]\nrd_ratio_min = 0.05'
    assert old in text
    path = tmp_path_factory.mktemp("rules") / "own_star_versions.toml"
    path.write_text(text.replace(old, '[versions."2026-01-01".thresholds]\nrd_ratio_min = 0.5'), encoding="utf-8")
    return path


def test_a_batch_gives_every_organisation_its_verdict_alone_and_loads_fx_for_foreign_currencies():
    got = {r.org_id: r for r in evaluate_star_batch(ORGS, FIN)}  # no FX table given: the shipped one is read
    shipped = load_fx()
    assert set(got) == set(ORGS["org_id"])
    for oid in ORGS["org_id"]:
        assert same(got[oid], alone(oid, fx=shipped)), oid
    assert got["usd"].verdict == "sci-tech" and got["usd"].fx, "USD figures were not converted with the shipped rates"
    assert {got[o].verdict for o in ("cny", "weak")} == {"sci-tech"} and got["bank"].verdict == "prohibited"
    assert got["nodata"].verdict == "insufficient data"


def test_a_batch_uses_the_fx_table_it_is_given(fake_fx):
    got = {r.org_id: r for r in evaluate_star_batch(ORGS, FIN, fx=fake_fx)}
    for oid in ORGS["org_id"]:
        assert same(got[oid], alone(oid, fx=fake_fx)), oid
    assert got["usd"].verdict != "sci-tech", "the batch ignored the FX table it was given"


@pytest.mark.parametrize("financials", [None, pd.DataFrame(), pd.DataFrame(columns=["org_id", "revenue"])],
                         ids=["none", "empty", "empty with some columns"])
def test_no_financials_means_insufficient_data_for_everyone_never_an_error(financials):
    got = evaluate_star_batch(ORGS, financials)
    assert [r.org_id for r in got] == list(ORGS["org_id"])
    assert {r.org_id: r.verdict for r in got} == {"cny": "insufficient data", "usd": "insufficient data",
                                                  "weak": "sci-tech", "bank": "prohibited",
                                                  "nodata": "insufficient data"}


@pytest.mark.parametrize("orgs, financials, message", [
    (pd.DataFrame({"id": ["x"]}), FIN, "orgs needs an 'org_id' column"),
    (ORGS, FIN.drop(columns=["fiscal_year"]), "financials have no 'fiscal_year' column"),
])
def test_a_batch_missing_a_key_column_says_which(orgs, financials, message):
    with pytest.raises(UsageError) as err:
        evaluate_star_batch(orgs, financials)
    assert str(err.value) == message


def test_a_rules_file_of_ones_own_works_everywhere_a_version_is_chosen(own_rules):
    rules = load_star_rules(own_rules)
    assert list(rules) == ["2020-05-01", "2021-04-16", "2026-01-01"]
    # the batch honours the given rules and their version ids
    got = {r.org_id: r for r in evaluate_star_batch(ORGS, FIN, version="2026-01-01", rules=rules, fx=load_fx())}
    assert got["usd"].version == "2026-01-01"
    rd = next(i for i in got["usd"].indicators if i.name == "rd_investment")
    assert "R&D ratio ≥ 50%" in rd.threshold, "the batch judged by the shipped rules, not the ones it was given"
    assert same(got["usd"], alone("usd", version="2026-01-01", rules=rules, fx=load_fx()))
    # one version by id, from that file
    assert star_version("2026-01-01", own_rules).thresholds == rules["2026-01-01"].thresholds
    with pytest.raises(UsageError, match="2024-04-30"):
        star_version("2024-04-30", own_rules)
    # the version in force on a day, from that file
    assert version_in_force("2025-06-01", own_rules) == "2021-04-16"
    assert version_in_force("2026-01-01", own_rules) == "2026-01-01"
    with pytest.raises(UsageError) as err:
        version_in_force("2020-04-01", own_rules)
    assert str(err.value) == "no STAR rules version was in force on 2020-04-01; the first is 2020-05-01"


def test_star_version_defaults_to_the_current_one_and_reads_ids_loosely():
    assert star_version().id == CURRENT_VERSION == list(load_star_rules())[-1]
    assert star_version(" 2021-04-16 ").id == "2021-04-16"
    with pytest.raises(UsageError) as err:
        star_version("2023-01-01")
    assert "'2023-01-01'" in str(err.value) and all(v in str(err.value) for v in load_star_rules())


def test_an_unknown_carve_out_names_itself_and_the_known_ones():
    v = star_version()
    with pytest.raises(UsageError) as err:
        v.carve_out("softwear")
    msg = str(err.value)
    assert "'softwear'" in msg and v.id in msg and all(c.id in msg for c in v.carve_outs)


@pytest.mark.parametrize("year, expected_year", [(None, 1992), (1991, 1991)])
def test_an_organisation_the_fx_table_cannot_convert_is_reported_whole(year, expected_year):
    """Its result still says which version, which year (the one asked, else its latest) and why, as a warning."""
    orgs = pd.DataFrame({"org_id": ["old", "cny"], "flags": [[], []], "industry_codes": [[], []],
                         "typology": [None, None]})
    old = fin("old", currency="USD", first_year=1990)
    got = {r.org_id: r for r in evaluate_star_batch(orgs, pd.concat([old, fin("cny")]), year=year,
                                                     version="2021-04-16")}
    r = got["old"]
    assert (r.org_id, r.version, r.year, r.verdict) == ("old", "2021-04-16", expected_year, "insufficient data")
    assert r.decided_by.startswith("cannot tell: ") and r.warnings == [r.decided_by.removeprefix("cannot tell: ")]
    assert "USD" in r.warnings[0]
    assert got["cny"].version == "2021-04-16"


def test_a_batch_passes_year_version_and_carve_outs_to_every_organisation():
    kw = dict(year=2023, version="2021-04-16", carve_outs={"software": False})
    got = {r.org_id: r for r in evaluate_star_batch(ORGS, FIN, fx=load_fx(), **kw)}
    for oid in ORGS["org_id"]:
        assert same(got[oid], alone(oid, fx=load_fx(), **kw)), oid
    assert got["cny"].year == 2023 and got["cny"].version == "2021-04-16" and not got["cny"].carve_outs_applied
    default = {r.org_id: r for r in evaluate_star_batch(ORGS, FIN, fx=load_fx(), year=2023, version="2021-04-16")}
    assert default["cny"].carve_outs_applied, "the software company's carve-out does not apply: the check is vacuous"
    older = {r.org_id: r for r in evaluate_star_batch(ORGS, FIN, fx=load_fx(), year=2022)}
    assert older["cny"].year == 2022 and same(older["cny"], alone("cny", fx=load_fx(), year=2022))


class _HintEverything:
    """A taxonomy of one's own: every industry code hints at the model-innovation typology."""

    def typology_hint(self, scheme: str, code: str) -> str:
        return "model_innovation"


def test_a_batch_uses_the_taxonomy_it_is_given():
    orgs = pd.DataFrame([{"org_id": "cny", "flags": None, "industry_codes": ["gics:Semiconductors"], "typology": None}])
    shipped = evaluate_star_batch(orgs, FIN)[0]
    own = evaluate_star_batch(orgs, FIN, taxonomy=_HintEverything())[0]
    assert shipped.verdict == "sci-tech"
    assert own.verdict == "restricted" and "taxonomy typology hint model_innovation" in repr(own.negative_list)
    assert same(own, evaluate_star("cny", FIN[FIN["org_id"] == "cny"].to_dict("records"),
                                   industry_codes=["gics:Semiconductors"], taxonomy=_HintEverything()))
