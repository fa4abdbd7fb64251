"""scripts/mutation.py's --survivors selection: which mutants a rerun after adding tests retests, and which
verdicts it keeps. mutmut resets every verdict of a module when its test list changes, so the survivors must
be remembered from the module's last result (result.json), not read back from mutmut's reset files."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "mutation.py"


@pytest.fixture(scope="module")
def mutation():
    spec = importlib.util.spec_from_file_location("mutation_script", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


EARLIER = {"m.x_f__mutmut_1": 1, "m.x_f__mutmut_2": 0, "m.x_f__mutmut_3": 36, "m.x_f__mutmut_4": None,
           "m.x_f__mutmut_5": 3, "m.x_f__mutmut_6": 0}


def test_after_mutmut_reset_every_earlier_survivor_is_retested(mutation):
    reset = dict.fromkeys(EARLIER)  # the test list changed: mutmut forgot every verdict
    assert mutation.survivor_names(EARLIER, reset) == ["m.x_f__mutmut_2", "m.x_f__mutmut_3", "m.x_f__mutmut_6"]


def test_a_rerun_cut_short_resumes_with_the_survivors_not_yet_killed(mutation):
    # the first rerun killed _2 and was stopped before _3 and _6; mutmut's files hold only _2's new verdict
    after_cut = dict.fromkeys(EARLIER) | {"m.x_f__mutmut_2": 1}
    kept = mutation.carry_verdicts(EARLIER, after_cut)
    assert kept == EARLIER | {"m.x_f__mutmut_2": 1}
    assert mutation.survivor_names(kept, after_cut) == ["m.x_f__mutmut_3", "m.x_f__mutmut_6"]


def test_mutmut_own_verdict_wins_over_the_earlier_one(mutation):
    current = {"m.x_f__mutmut_1": 0, "m.x_f__mutmut_6": 1}
    assert mutation.survivor_names(EARLIER, current) == ["m.x_f__mutmut_1", "m.x_f__mutmut_2", "m.x_f__mutmut_3"]
    assert mutation.carry_verdicts(EARLIER, current) == current  # mutants no longer there are not carried


def test_mutants_listed_as_equivalent_are_not_retested(mutation):
    assert mutation.survivor_names(EARLIER, {}, skip={"m.x_f__mutmut_3"}) == ["m.x_f__mutmut_2", "m.x_f__mutmut_6"]


def test_no_survivors_runs_nothing_not_everything(mutation):
    assert mutation.survivor_names({"a.x_f__mutmut_1": 1}, {}) == []
    assert mutation.mutmut_command(1, []) is None  # mutmut given no names would run every mutant
    assert mutation.mutmut_command(1, ["a.x_f__mutmut_2"])[-1] == "a.x_f__mutmut_2"
    assert mutation.mutmut_command(1, None)[-3:] == ["run", "--max-children", "1"]


def test_rewriting_one_modules_scores_keeps_the_other_modules_rows_and_survivors(mutation, tmp_path):
    doc = tmp_path / "testing.md"
    doc.write_text("intro\n<!-- mutation:start -->\n| module | mutants |\n|---|---:|\n| a | old a |\n| b | old b |\n\n"
                   "#### Survivors: a\n\n| mutant | verdict | change |\n|---|---|---|\n| `x` | survived | `-y` |\n\n"
                   "#### Survivors: b\n\n| b's survivor |\n<!-- mutation:end -->\nafter\n", encoding="utf-8")
    res = {"seconds": 1.0, "verdicts": {"m.x_f__mutmut_1": 1, "m.x_f__mutmut_2": 0},
           "survivors": {"m.x_f__mutmut_2": "- a\n+ b"}}
    s = mutation.score(res, {})
    mutation.write_markdown(doc, [("a", res, s)], {}, order=["b", "a", "c"])
    text = doc.read_text(encoding="utf-8")
    assert text.startswith("intro\n<!-- mutation:start -->\n") and text.endswith("<!-- mutation:end -->\nafter\n")
    rows = [ln for ln in text.splitlines() if ln.startswith("| a |") or ln.startswith("| b |")]
    assert rows == ["| b | old b |", "| a | 2 | 2 | 1 | 0 | 1 | 0 | 50.0 | 50.0 | 1.0 |"]  # configured order
    assert "| b's survivor |" in text and "`-y`" not in text  # a's old survivors replaced, b's kept
    assert text.index("#### Survivors: b") < text.index("#### Survivors: a")
    assert "| `x_f__mutmut_2` | survived | `- a`<br>`+ b` |" in text
    mutation.write_markdown(doc, [("a", res, s)], {})  # no order: the whole section is rewritten
    assert "| b |" not in doc.read_text(encoding="utf-8")


def test_a_listed_equivalent_belongs_to_its_own_module_methods_too(mutation):
    """A method's mutant ('…fx.xǁFXTableǁrate__mutmut_35') belongs to its module, so scoring another module never
    reports it as "listed as equivalent but no longer a mutant"."""
    assert mutation._module_of("hardtech.sources.fx.xǁFXTableǁrate__mutmut_35") == "hardtech.sources.fx"
    assert mutation._module_of("hardtech.sources.validate.xǁ_Errorsǁadd__mutmut_1") == "hardtech.sources.validate"
    assert mutation._module_of("hardtech.sources.money.x_parse_unit__mutmut_9") == "hardtech.sources.money"
    assert mutation._module_of("templates.base.safe_1") == "templates"
    verdicts = {"hardtech.sources.validate.xǁ_Errorsǁadd__mutmut_1": 1, "hardtech.sources.validate.x_validate__mutmut_2": 1}
    equiv = {"hardtech.sources.fx.xǁFXTableǁrate__mutmut_35": {}, "hardtech.sources.validate.x_validate__mutmut_9": {}}
    s = mutation.score({"verdicts": verdicts, "survivors": {}}, equiv)
    assert s["stale_equivalents"] == ["hardtech.sources.validate.x_validate__mutmut_9"]
