"""What `hardtech demo` shows: the demo store's contents, its summary tables and the white paper.

The store and the tables come from `hardtech.demo` (built and computed through the services); this
module only prints them and writes the paper through `presentation/report/paper.py`, so the demo's
data side never imports the presentation.
"""

from __future__ import annotations

import os
from pathlib import Path

from hardtech.demo import (ROUNDS_COMMAND, build_demo_store, china_regions, default_shared, hardness_leaders,
                           hardness_summary, panel_ranking, star_panel, summary_tables, us_10k_rd, xian_vs_hangzhou)


def build_demo(directory: Path, out, shared: Path | None = None, resolve: bool = False) -> Path:
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    db = directory / "hardtech.duckdb"
    for p in (db, Path(str(db) + ".wal")):
        if p.exists():
            p.unlink()
    shared = shared or default_shared()
    with out.console.status("building the demo store …") as status:
        info = build_demo_store(db, shared, progress=lambda m: status.update(f"demo store: {m} …"))
    out.message(f"[bold]demo store:[/bold] {db}")
    for n in info["notes"]:
        out.message(f"  {n}")
    out.emit([{"table": k, "rows": v} for k, v in info["counts"].items() if k not in ("rejects", "imports")],
             title="demo store contents")
    _resolve_step(db, out, resolve)
    rank = panel_ranking(db)
    tables = summary_tables(db, year=rank["year"])
    out.emit(tables["by_field"], title="companies by field (classified from their descriptions and codes; multi-label)")
    out.emit(tables["by_typology"], title="companies by typology")
    out.emit(tables["by_city"], title="organisations by city")
    out.emit(rank["top"], title=f"R&D ranking {rank['year']}: {rank['ranked']:,} companies ranked (`hardtech rank "
                                f"--year {rank['year']}`; EUR, JRC–OECD panel 2015–2018), the first {len(rank['top'])}")
    us = us_10k_rd(db)
    out.emit(us["top"], title=f"US 10-K R&D (NYSE fundamentals, CC0): {us['companies']:,} companies with an R&D line "
                              f"in {us['first']}–{us['last']}, {us['with_rd']:,} of them above zero; largest in "
                              f"{us['last']}")
    hs = hardness_summary(db)
    out.emit(hardness_leaders(db, min_confidence=0.5),
             title=f"hardness leaders with confidence ≥ 0.5: {hs['scored']:,} organisations scored, {hs['confident']:,} "
                   f"with confidence ≥ {hs['min_confidence']}, the highest {hs['best_confidence'] or 0:.2f} "
                   f"(confidence = share of the criteria with data)")
    out.emit(star_panel(db), title="STAR test of the panel's Chinese companies: the panel has no R&D staff and no "
                                   "granted patents (filings stand in, said on every verdict); see docs/bundled-data.md")
    reg = china_regions(db)
    out.emit(reg["provinces"], title=f"China by province: companies (the A-share list and ours) and universities "
                                     f"(MOE list); {reg['n_provinces']} provinces (`hardtech regions list --level "
                                     f"province`)")
    out.emit(reg["cities"], title=f"China by city, the most universities first ({reg['n_cities']} cities)")
    out.emit(xian_vs_hangzhou(db), title="Xi'an vs Hangzhou: the seeds' ecosystem factors (`hardtech regions compare "
                                         "西安 杭州`)")
    if info["counts"].get("funding_rounds"):
        from hardtech.services.ecosystem import shift_rows

        shift = [{k: v for k, v in r.items() if k != "view"} for r in shift_rows(db)
                 if r["view"] == "technology vs model innovation"]
        out.emit(shift[-9:], title="funding: technology vs model innovation, latest periods (`hardtech flows --shift`)")
    else:
        out.message("[bold]funding rounds:[/bold] none in the demo. No openly licensed round-level funding data "
                    f"exists for us to ship. Import your own: `{ROUNDS_COMMAND}`")
    _write_white_paper(db, directory / "report", out)
    return db


def _resolve_step(db: Path, out, resolve: bool) -> None:
    """Entity resolution on the demo store, when asked (`--resolve`); otherwise the one command that does it.

    Not in the default demo: the bundled lists are linked through their explicit ids (`demo_links`), the
    figures the demo prints are checked against the bundled files as they are, and a merge is an analyst's
    decision to review (docs/resolve.md, "The demo store")."""
    if not resolve:
        out.message(f"[bold]one organisation across sources:[/bold] `hardtech resolve --db {db}` merges the "
                    "bundled lists' duplicates (the JRC panel's MICROSOFT is the S&P 500's Microsoft), or "
                    "`hardtech demo --resolve`")
        return
    from hardtech.services.resolve import resolve_store

    with out.console.status("entity resolution …"):
        r = resolve_store(db)
    out.message(f"[bold]entity resolution:[/bold] {r['merged']:,} organisations merged, {r['linked']:,} patent "
                f"applicants linked, {r['review']:,} pairs waiting for review ({r['seconds']:.1f} s; "
                f"`hardtech resolve merges --db {db}`, `hardtech resolve review --db {db}`)")


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
    with out.console.status(f"writing the white paper ({', '.join(langs)}) …"):
        if len(langs) > 1 and (os.cpu_count() or 1) > 1:
            import multiprocessing as mp
            from concurrent.futures import ProcessPoolExecutor

            with ProcessPoolExecutor(len(langs), mp_context=mp.get_context("spawn")) as pool:
                done = dict(zip(langs, pool.map(_white_paper, [db] * len(langs), [folder] * len(langs), langs)))
        else:
            done = {lang: _white_paper(db, folder, lang) for lang in langs}
    for lang in langs:
        out.message(f"[bold]white paper ({lang}):[/bold] {done[lang]['html']}  and  {done[lang]['pdf']}")
    if langs == ["en"]:
        out.message("  no CJK font found (fc-list :lang=zh): the Chinese white paper was skipped; "
                    "install fonts-noto-cjk and run `hardtech report --lang zh --pdf --out DIR`")
