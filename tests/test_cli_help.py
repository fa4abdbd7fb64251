"""Help texts show what they say: square brackets are Rich markup in Typer's help, so a literal one must be escaped.

Issue 15: `classify --help` printed `pip install 'hardtech'` because `[neural]` was eaten as a markup tag.
"""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from hardtech.presentation import docs_gen
from hardtech.presentation.cli.app import app

runner = CliRunner()
COMMANDS = docs_gen.cli_commands()


def _squash(text: str) -> str:
    return re.sub(r"[\s│]+", " ", text)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_bracketed_words_in_help_survive_rendering(name):
    res = runner.invoke(app, [name, "--help"], env={"COLUMNS": "250"})
    assert res.exit_code == 0, res.output
    shown = _squash(res.output)
    for p in COMMANDS[name].params:
        intended = (getattr(p, "help", None) or "").replace("\\[", "[")
        for token in re.findall(r"\S*\[[^\]\s]+\]\S*", intended):
            if token.startswith("[default"):
                continue
            assert token in shown, f"`hardtech {name} --help` lost {token!r} from the help of {p.name}"


def test_classify_help_names_the_neural_extra():
    res = runner.invoke(app, ["classify", "--help"], env={"COLUMNS": "250"})
    assert "hardtech[neural]" in _squash(res.output)
