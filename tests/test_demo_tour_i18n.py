"""`hardtech demo` speaks the output's language: every line it writes comes from the CLI's translation file.

The tour's data calls are replaced by small stand-ins (the demo itself is built by tests/test_demo.py), so
this checks the words only: each progress step and note the demo reports has a key in both languages,
and a Chinese tour prints no English words but names, codes, commands and file names.
"""

from __future__ import annotations

import ast
import io
import re
import tomllib
from importlib import resources
from pathlib import Path

import pytest
from rich.console import Console

import hardtech.demo as demo_mod
from hardtech.presentation.cli import demo_tour
from hardtech.presentation.cli.output import Output

CLI_TOML = tomllib.loads(resources.files("hardtech").joinpath("data/i18n/cli.toml").read_text(encoding="utf-8"))


def _demo_keys() -> tuple[set[str], set[str]]:
    """The progress keys (`say("key", …)`) and note keys (`{"key": "…"}`) written in hardtech/demo.py."""
    tree = ast.parse(Path(demo_mod.__file__).read_text(encoding="utf-8"))
    progress, notes = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "say" and node.args:
            assert isinstance(node.args[0], ast.Constant), f"line {node.lineno}: say() takes a literal key"
            progress.add(node.args[0].value)
        if isinstance(node, ast.Dict):
            for k, v in zip(node.keys, node.values):
                if isinstance(k, ast.Constant) and k.value == "key" and isinstance(v, ast.Constant):
                    notes.add(v.value)
    return progress, notes


def test_every_progress_step_and_note_of_the_demo_has_words_in_both_languages():
    progress, notes = _demo_keys()
    assert {"own_files", "bundled", "classifying", "scoring", "unicorns"} <= progress
    assert {"bundled", "no_rounds", "unicorns"} <= notes
    for lang in ("en", "zh"):
        words = CLI_TOML[lang]["demo"]
        assert progress <= set(words["progress"]), (lang, progress - set(words["progress"]))
        assert notes <= set(words["note"]), (lang, notes - set(words["note"]))


def test_the_demo_module_hands_the_tour_no_english_sentences():
    """Notes and progress are keys and values, never English text built in hardtech/demo.py."""
    src = Path(demo_mod.__file__).read_text(encoding="utf-8")
    for phrase in ("funding rounds: none", "unicorn list 2022", "classifying organisations", "scoring hardness"):
        assert phrase not in src


def _stub_tour(monkeypatch, tmp_path, cjk: bool):
    calls = []
    monkeypatch.setenv("COLUMNS", "400")  # tables for people wrap at the screen's width (80 under xdist)

    def fake_store(db, shared, progress=None, base=None):
        for key, args in (("own_files", {}), ("bundled", {"file": "jrc_oecd_2019.csv"}), ("unicorns", {}),
                          ("classifying", {}), ("scoring", {})):
            progress(key, **args)
            calls.append(key)
        return {"counts": {"organizations": 9000, "financials": 12000, "funding_rounds": 0},
                "notes": [{"key": "bundled", "file": "jrc_oecd_2019.csv", "licence": "CC BY 4.0",
                           "rows": {"organizations": 2500, "financials": 10000}},
                          # the licence of a file with a mapping is said from [source_licence], in the reader's words
                          {"key": "bundled", "file": "cn_ashare_listed_2019.parquet", "mapping": "cn_ashare_2019",
                           "licence": "none stated", "rows": {"organizations": 3700}},
                          {"key": "no_rounds", "command": demo_mod.ROUNDS_COMMAND},
                          {"key": "unicorns", "companies": 1200, "investors": 800}]}

    rows = [{"table": "organizations", "rows": 5}]
    monkeypatch.setattr(demo_tour, "build_demo_store", fake_store)
    monkeypatch.setattr(demo_tour, "panel_ranking", lambda db: {"year": 2018, "ranked": 2500, "top": rows})
    typ = [{"typology": "hard_core", "companies": 7}, {"typology": None, "companies": 2}]  # None: no typology
    monkeypatch.setattr(demo_tour, "summary_tables", lambda db, year: {"by_field": rows, "by_typology": typ,
                                                                       "by_city": rows})
    monkeypatch.setattr(demo_tour, "us_10k_rd", lambda db: {"top": rows, "companies": 300, "first": 2012, "last": 2016,
                                                            "with_rd": 120})
    monkeypatch.setattr(demo_tour, "hardness_summary", lambda db: {"scored": 1570, "confident": 900,
                                                                   "min_confidence": 0.5, "best_confidence": 0.93})
    monkeypatch.setattr(demo_tour, "hardness_leaders", lambda db, min_confidence: rows)
    monkeypatch.setattr(demo_tour, "star_panel", lambda db: rows)
    monkeypatch.setattr(demo_tour, "china_regions", lambda db: {"provinces": rows, "cities": rows, "n_provinces": 31,
                                                                "n_cities": 300})
    card = {"factors": {"basic_research": {"value": 68, "unit": "universities and institutes"},
                        "policy": {"value": None, "status": "no data"},
                        "capital": {"value": 2.5e9, "unit": "USD", "inputs": {"rounds": 12}}}}
    monkeypatch.setattr(demo_tour, "xian_vs_hangzhou", lambda db: {
        "regions": {"西安": card, "杭州": card},
        "leaders": {"basic_research": "西安", "policy": None, "capital": "tie: 西安, 杭州"}})
    monkeypatch.setattr(demo_tour, "_white_paper", lambda db, folder, lang: {"html": folder / f"paper_{lang}.html",
                                                                            "pdf": folder / f"paper_{lang}.pdf"})
    monkeypatch.setattr(demo_tour.os, "cpu_count", lambda: 1)
    import hardtech.presentation.report.fonts as fonts

    monkeypatch.setattr(fonts, "cjk_fonts", lambda: ["Noto Sans CJK"] if cjk else [])
    return calls


# names and codes a Chinese line may carry (sources, licences, currencies, tools, file formats)
NAMES = {"JRC", "OECD", "EUR", "USD", "NYSE", "CC", "CC0", "BY", "MICROSOFT", "Microsoft", "S", "P", "fc", "list", "lang", "zh",
         "en", "fonts", "noto", "cjk", "K", "A", "docs", "md", "csv", "html", "pdf", "shared", "data", "paper",
         "bundled", "jrc_oecd_2019", "cn_ashare_listed_2019", "parquet", "organizations", "financials", "funding_rounds"}  # the last: table names (codes)


@pytest.mark.parametrize("cjk", [True, False])
def test_a_chinese_demo_tour_prints_no_english_words(monkeypatch, tmp_path, capsys, cjk):
    calls = _stub_tour(monkeypatch, tmp_path, cjk)
    buf = io.StringIO()
    out = Output(db=tmp_path / "hardtech.duckdb", lang="zh", console=Console(file=buf, width=400))
    demo_tour.build_demo(tmp_path, out)
    assert calls == ["own_files", "bundled", "unicorns", "classifying", "scoring"]
    text = buf.getvalue() + capsys.readouterr().out
    assert "演示数据库内容" in text and "西安与杭州" in text and "2018 年研发投入排名" in text
    assert "无数据" in text and "并列" in text  # the comparison's factors, values and leaders in Chinese
    assert ("白皮书（zh）" in text) == cjk and ("已跳过中文白皮书" in text) == (not cjk)
    assert "未声明许可" in text and "证据不足" in text and "硬科技" in text  # a licence; typology names, none too
    assert "CC BY 4.0" in text and "机构 2,500" in text and "2022 年独角兽名单" in text and "1,200 家公司" in text
    rest = re.sub(r"`[^`]*`|\S+\.(duckdb|csv|md|html|pdf)\b", " ", text.replace(str(tmp_path), " "))
    english = {w for w in re.findall(r"[A-Za-z][A-Za-z_0-9]*", rest)} - NAMES
    assert not english, sorted(english)


def test_an_english_demo_tour_says_the_same_in_english(monkeypatch, tmp_path, capsys):
    _stub_tour(monkeypatch, tmp_path, cjk=True)
    buf = io.StringIO()
    out = Output(db=tmp_path / "hardtech.duckdb", lang="en", console=Console(file=buf, width=400))
    demo_tour.build_demo(tmp_path, out)
    text = buf.getvalue() + capsys.readouterr().out
    assert "demo store contents" in text and "Xi'an vs Hangzhou" in text and "R&D ranking 2018: 2,500 companies" in text
    assert "Basic research" in text and "no data" in text
    assert "(none stated)" in text and "insufficient evidence" in text and "Hard & core" in text
    assert "jrc_oecd_2019.csv: 2,500 organisations, 10,000 financial figures (CC BY 4.0)" in text
    assert "unicorn list 2022 (../shared/data): 1,200 companies' cumulative funding" in text
    rest = re.sub("西安|杭州", "", text)  # the cities' names (the comparison's columns) are names
    han = [m.start() for m in re.finditer(r"[\u4e00-\u9fff]", rest)]
    assert not han, rest[max(0, han[0] - 200):han[0] + 100]


def test_the_demo_tables_column_headers_are_chinese_in_chinese():
    """The columns of the demo's own tables (STAR panel counts per verdict, by field, the US 10-K list)."""
    from hardtech.presentation.cli.text import CliText
    from hardtech.services.search import STAR_VERDICTS

    zh, en = CliText("zh"), CliText("en")
    for column in ("companies", "decided", "decided_on_a_proxy", "all_but_rd_staff_met", "organisations",
                   "of_which_hard_core", "rd_usd_bn", *STAR_VERDICTS):
        assert not re.search(r"[A-Za-z]{2,}", zh.col(column).replace("USD", "")), (column, zh.col(column))
        assert en.col(column) != "" and not re.search(r"[\u4e00-\u9fff]", en.col(column))
