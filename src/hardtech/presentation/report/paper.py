"""The white paper: the same store and options give the same HTML (and PDF), every figure from the services.

`write_report` is what the CLI (`hardtech report`), the demo and the REST API call. Assembling and
rendering a paper is presentation (it lived in `services/` once, which made the services import the
renderer); the figures behind it come from the service functions (`build.collect`).
"""

from __future__ import annotations

from pathlib import Path

from hardtech.errors import StoreError


def report_analysis(db: str | Path, lang: str = "en", scopes=(), store=None) -> dict:
    """The white paper's content for a store, a language and a scope: every chapter's figures and blocks.

    This is the expensive part (every service behind every chapter); the title, the store's label and
    the format are applied afterwards by `render_report`, so one analysis serves any title. The store is
    opened once for the whole paper, on the engine chosen (`--engine`, HARDTECH_ENGINE: DuckDB or Spark),
    and handed to every chapter; `store` hands in one already open (its opener closes it).
    """
    from hardtech.presentation.report.build import collect
    from hardtech.presentation.report.fonts import require_cjk_font
    from hardtech.presentation.report.i18n import Translator
    from hardtech.presentation.report.scope import parse_scopes
    from hardtech.services.opened import open_store
    from hardtech.services.report_data import store_regions

    Translator(lang)  # an unknown language fails before any work
    if lang == "zh":
        require_cjk_font()
    db = Path(db)
    if store is not None:
        return collect(store, parse_scopes(scopes, store_regions(store)), lang, db)
    if not db.exists():
        raise StoreError(f"no store at {db}; build one with `hardtech import` or `hardtech demo`")
    with open_store(db) as opened:
        return collect(opened, parse_scopes(scopes, store_regions(opened)), lang, db)


def render_report(report: dict, title: str | None, db_label: str, pdf_path: Path | None = None) -> str:
    """The analysis as one self-contained HTML document (and, with `pdf_path`, printed to that PDF)."""
    from hardtech.presentation.report.render import render_html

    html = render_html(report, title, db_label)
    if pdf_path is not None:
        from hardtech.presentation.report.pdf import write_pdf

        write_pdf(html, pdf_path)
    return html


def write_report(db: str | Path, out_dir: str | Path, lang: str = "en", pdf: bool = False, scopes=(),
                 title: str | None = None, progress=None, store=None) -> dict:
    """Write `report-<lang>.html` (and `.pdf`) into `out_dir`.

    `store`: the store already opened by the caller (the CLI's, on its engine); else `db` is opened once here.
    `progress(step, done, total)` is called as each step starts (chapters, HTML, PDF), for progress bars.

    Returns {"html", "pdf" (None without pdf), "chapters" (ids and titles), "missing" (chapter, what),
    "synthetic" (chapter ids that use synthetic rows), "figures" (the service rows behind the numbers)}.
    """
    say = progress or (lambda step, done, total: None)
    steps = 3 if pdf else 2
    db = Path(db)
    say("computing the chapters from the store", 0, steps)
    report = report_analysis(db, lang, scopes, store)
    say("writing the HTML", 1, steps)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    html = render_report(report, title, db.name)
    html_path = out / f"report-{lang}.html"
    html_path.write_text(html, encoding="utf-8")
    pdf_path = None
    if pdf:
        say("printing the PDF", 2, steps)
        from hardtech.presentation.report.pdf import write_pdf

        pdf_path = out / f"report-{lang}.pdf"
        write_pdf(html, pdf_path)
    return {"html": html_path, "pdf": pdf_path,
            "chapters": [{"id": c["id"], "title": c["title"]} for c in report["chapters"]],
            "missing": [{"chapter": c, "what": m} for c, m in report["missing"]],
            "synthetic": [c["id"] for c in report["chapters"] if c["synthetic"]],
            "figures": report["figures"]}
