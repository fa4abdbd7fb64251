"""`hardtech sources` speaks the reader's language: kinds, licences and what to point at come from cli.toml.

Issue 15: with --lang zh the sources table showed `connector`, `mapping` and the English licence and
usage texts. Every source needs its translation, so a connector or mapping added later without one fails.
"""

from __future__ import annotations

import re

from typer.testing import CliRunner

from hardtech.presentation.cli.app import app
from hardtech.presentation.cli.text import CliText
from hardtech.services.sources import source_rows


def test_every_source_has_its_licence_and_usage_in_both_languages():
    for lang in ("en", "zh"):
        t = CliText(lang)
        for r in source_rows():
            assert t.has(f"source_licence.{r['name']}"), (lang, r["name"])
            where = r["name"] if r["kind"] == "connector" else "mapping"
            assert t.has(f"source_point_at.{where}"), (lang, r["name"])


def test_the_chinese_sources_table_carries_no_english_words_of_ours():
    res = CliRunner().invoke(app, ["sources", "--lang", "zh"], env={"COLUMNS": "250"})
    assert res.exit_code == 0, res.output
    out = res.stdout
    assert "连接器" in out and "映射文件" in out
    for english in ("connector", "mapping", "Proprietary", "never bundled", "one CSV", "Public domain", "none stated"):
        assert not re.search(rf"(?<!--)\b{english}\b", out), english  # `--mapping` is an option: a code
    en = CliRunner().invoke(app, ["sources", "--lang", "en"], env={"COLUMNS": "250"}).stdout
    assert "connector" in en and "never bundled" in en
