"""Every command in docs/sources.md runs, on the fixtures, from the downloaded file to the analysis.

Each `## ` section of the page is one source; its ```bash blocks are run in order against a fresh
store, with each `~/Downloads/…` path replaced by the fixture of that source.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parents[1]
FIX = ROOT / "tests" / "fixtures" / "sources"
DOWNLOADS = {
    "~/Downloads/companyfacts.zip": FIX / "sec" / "companyfacts.zip",
    "~/Downloads/2024q1_d.zip": FIX / "formd" / "2024q1_d.zip",
    "~/Downloads/SB2023_World2500.xlsx": FIX / "eu_scoreboard" / "SB2023_World2500.xlsx",
    "~/Downloads/SB2019_World2500.xlsx": FIX / "eu_scoreboard" / "SB2019_World2500.xlsx",
    "~/Downloads/patentsview/": FIX / "patentsview",
    "~/Downloads/openalex/": FIX / "openalex",
    "~/Downloads/crunchbase_export/": FIX / "crunchbase",
    "~/Downloads/itjuzi_export.csv": "itjuzi_ai_companies_half.csv",  # the real export in ../shared/data
}


def sections() -> dict[str, list[str]]:
    text = (ROOT / "docs" / "sources.md").read_text(encoding="utf-8")
    out: dict[str, list[str]] = {}
    parts = re.split(r"^## ", text, flags=re.M)
    for n, part in enumerate(parts):
        title = "(introduction)" if n == 0 else part.splitlines()[0].strip()
        cmds = []
        for block in re.findall(r"```bash\n(.*?)```", part, flags=re.S):
            for line in block.splitlines():
                line = line.split("  #", 1)[0].strip()
                if line.startswith("hardtech "):
                    cmds.append(line)
        out[title] = cmds
    return out


def test_every_connector_has_a_section_with_an_import_and_an_analysis():
    from hardtech.sources.connectors import connectors

    secs = sections()
    for name in connectors():
        hits = [t for t in secs if f"(`{name}`)" in t]
        assert hits, f"docs/sources.md has no section for {name}"
        cmds = secs[hits[0]]
        assert any(c.startswith("hardtech import ") and f"--mapping {name}" in c for c in cmds), name
        assert any(not c.startswith("hardtech import ") for c in cmds), f"{name}: no analysis after the import"
        assert all(any(k in c for k in DOWNLOADS) for c in cmds if c.startswith("hardtech import ")), name


@pytest.mark.parametrize("title", sorted(t for t, cmds in sections().items() if cmds))
def test_the_documented_commands_run_on_the_fixture(title, tmp_path, monkeypatch, shared):
    from hardtech.presentation.cli.app import app

    monkeypatch.setenv("HARDTECH_DB", str(tmp_path / "docs.duckdb"))
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    for cmd in sections()[title]:
        for download, fixture in DOWNLOADS.items():
            if download in cmd:
                path = shared(fixture) if isinstance(fixture, str) else fixture
                cmd = cmd.replace(download, str(path))
        args = shlex.split(cmd)[1:]
        result = runner.invoke(app, args)
        assert result.exit_code == 0, f"{cmd}\n{result.output}"
        assert result.stdout.strip(), f"{cmd} printed nothing"
