"""What `hardtech demo` shows: the demo store's contents, its summary tables and the white paper.

The store and the tables come from `hardtech.demo` (built and computed through the services); this
module only prints them and writes the paper through `presentation/report/paper.py`, so the demo's
data side never imports the presentation.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from hardtech.demo import (ROUNDS_COMMAND, build_demo_store, china_regions, default_shared, hardness_leaders,
                           hardness_summary, panel_ranking, star_panel, summary_tables, us_10k_rd, xian_vs_hangzhou)
from hardtech.presentation.cli.views import compare_rows


def build_demo(directory: Path, out, shared: Path | None = None, resolve: bool = False) -> Path:
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    db = directory / "hardtech.duckdb"
    for p in (db, Path(str(db) + ".wal")):
        if p.exists():
            p.unlink()
    shared = shared or default_shared()
    t = out.t
    with out.console.status(t("demo.building")) as status:
        info = build_demo_store(db, shared, progress=lambda key, **a: status.update(
            t("demo.step", step=t(f"demo.progress.{key}", **a))))
    out.message(t("demo.store", db=db))
    for note in info["notes"]:
        out.message("  " + _note(t, note))
    out.emit([{"table": k, "rows": v} for k, v in info["counts"].items() if k not in ("rejects", "imports")],
             title=t("demo.title.contents"))
    _resolve_step(db, out, resolve)
    rank = panel_ranking(db)
    tables = summary_tables(db, year=rank["year"])
    out.emit(tables["by_field"], title=t("demo.title.by_field"))
    # each class by its name in the reader's language, companies without one (too little evidence) too
    out.emit([{"typology": t.typology(r["typology"]), "companies": r["companies"]} for r in tables["by_typology"]],
             title=t("demo.title.by_typology"))
    out.emit(tables["by_city"], title=t("demo.title.by_city"))
    out.emit(rank["top"], title=t("demo.title.ranking", year=rank["year"], ranked=f"{rank['ranked']:,}",
                                  n=len(rank["top"])))
    us = us_10k_rd(db)
    out.emit(us["top"], title=t("demo.title.us_10k", companies=f"{us['companies']:,}", first=us["first"],
                                last=us["last"], with_rd=f"{us['with_rd']:,}"))
    hs = hardness_summary(db)
    out.emit(hardness_leaders(db, min_confidence=0.5),
             title=t("demo.title.hardness", scored=f"{hs['scored']:,}", confident=f"{hs['confident']:,}",
                     min_confidence=hs["min_confidence"], best=f"{hs['best_confidence'] or 0:.2f}"))
    out.emit(star_panel(db), title=t("demo.title.star"))
    reg = china_regions(db)
    out.emit(reg["provinces"], title=t("demo.title.provinces", n=reg["n_provinces"]))
    out.emit(reg["cities"], title=t("demo.title.cities", n=reg["n_cities"]))
    out.emit(compare_rows(xian_vs_hangzhou(db), t), title=t("demo.title.xian_hangzhou"))
    if info["counts"].get("funding_rounds"):
        from hardtech.services.ecosystem import shift_rows

        shift = [{k: v for k, v in r.items() if k != "view"} for r in shift_rows(db)
                 if r["view"] == "technology vs model innovation"]
        out.emit(shift[-9:], title=t("demo.title.shift"))
    else:
        out.message(t("demo.no_rounds", command=ROUNDS_COMMAND))
    _write_white_paper(db, directory / "report", out)
    return db


def _note(t, note: dict) -> str:
    """One line of what the demo loaded, in the output's language (`[demo.note]`)."""
    args = {k: v for k, v in note.items() if k not in ("key", "mapping")}
    # a bundled file's licence in the reader's words (`[source_licence]`, keyed by its mapping), its first clause
    if note.get("mapping") and t.has(f"source_licence.{note['mapping']}"):
        args["licence"] = re.split("[;；]", t(f"source_licence.{note['mapping']}"))[0].strip()
    if "rows" in args:  # {table: rows} → "1,234 organisations, 56 financial figures"
        args["rows"] = t("demo.list_sep").join(
            t("demo.table_rows", n=f"{n:,}", table=t(f"table.{k}") if t.has(f"table.{k}") else k)
            for k, n in args["rows"].items())
    for k in ("companies", "investors"):
        if isinstance(args.get(k), int):
            args[k] = f"{args[k]:,}"
    return t(f"demo.note.{note['key']}", **args)


def _resolve_step(db: Path, out, resolve: bool) -> None:
    """Entity resolution on the demo store, when asked (`--resolve`); otherwise the one command that does it.

    Not in the default demo: the bundled lists are linked through their explicit ids (`demo_links`), the
    figures the demo prints are checked against the bundled files as they are, and a merge is an analyst's
    decision to review (docs/resolve.md, "The demo store")."""
    t = out.t
    if not resolve:
        out.message(t("demo.resolve_hint", db=db))
        return
    from hardtech.services.resolve import resolve_store

    with out.console.status(t("demo.resolving")):
        r = resolve_store(db)
    out.message(t("demo.resolved", merged=f"{r['merged']:,}", linked=f"{r['linked']:,}", review=f"{r['review']:,}",
                  seconds=f"{r['seconds']:.1f}", db=db))


def _white_paper(db: Path, folder: Path, lang: str) -> dict:
    from hardtech.presentation.report.paper import write_report

    r = write_report(db, folder, lang=lang, pdf=True)
    return {"html": r["html"], "pdf": r["pdf"]}


def _write_white_paper(db: Path, folder: Path, out) -> None:
    """The demo ends with the white paper (HTML and PDF): English, and Chinese when a CJK font is installed.

    The two editions are written side by side in two processes when the machine has two cores: each is
    most of a minute of queries, charts and PDF layout over a store of 9,000 organisations.
    """
    from hardtech.presentation.report.fonts import cjk_fonts

    langs = ["en", "zh"] if cjk_fonts() else ["en"]
    with out.console.status(out.t("demo.writing_paper", langs=", ".join(langs))):
        if len(langs) > 1 and (os.cpu_count() or 1) > 1:
            import multiprocessing as mp
            from concurrent.futures import ProcessPoolExecutor

            with ProcessPoolExecutor(len(langs), mp_context=mp.get_context("spawn")) as pool:
                done = dict(zip(langs, pool.map(_white_paper, [db] * len(langs), [folder] * len(langs), langs)))
        else:
            done = {lang: _white_paper(db, folder, lang) for lang in langs}
    for lang in langs:
        out.message(out.t("demo.paper", lang=lang, html=done[lang]["html"], pdf=done[lang]["pdf"]))
    if langs == ["en"]:
        out.message("  " + out.t("demo.no_cjk_font"))
