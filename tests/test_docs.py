"""Docs cannot fall behind the code: generated pages must be current, every command and data file documented."""

from __future__ import annotations

from pathlib import Path

import pytest

from hardtech.presentation import docs_gen

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("page", sorted(docs_gen.PAGES))
def test_generated_reference_pages_are_current(page):
    expected = docs_gen.PAGES[page]()
    current = (ROOT / page).read_text(encoding="utf-8")
    assert current == expected, f"{page} is stale: run `python -m hardtech.presentation.docs_gen`"


def test_every_command_is_in_the_readme_tour():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [name for name in docs_gen.cli_commands() if f"hardtech {name}" not in readme]
    assert not missing, f"README's command tour does not mention: {missing}"


def test_every_shared_option_on_every_command():
    for name, cmd in docs_gen.cli_commands().items():
        opts = {o for p in cmd.params for o in getattr(p, "opts", [])}
        assert {"--db", "--format", "--output"} <= opts, name


def test_every_data_file_is_documented():
    data = ROOT / "src" / "hardtech" / "data"
    undocumented = []
    for f in data.rglob("*"):
        if f.is_dir() or f.name in ("README.md", "__init__.py", "NOTICE", "LICENSE") or "__pycache__" in f.parts:
            continue
        folder_docs = "".join(p.read_text(encoding="utf-8") for p in f.parent.glob("*.md"))
        folder_docs += "".join(p.read_text(encoding="utf-8") for p in (ROOT / "docs").glob("*.md"))
        if f.name not in folder_docs:
            undocumented.append(str(f.relative_to(data)))
    assert not undocumented, f"data files no README or doc mentions: {undocumented}"
