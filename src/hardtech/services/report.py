"""The white paper service: the same store and options give the same HTML (and PDF), every figure from the services.

`write_report` is what the CLI (`hardtech report`), the demo and the REST API call.
"""

from __future__ import annotations

from pathlib import Path

from hardtech.errors import StoreError
from hardtech.store.connection import Store


def write_report(db: str | Path, out_dir: str | Path, lang: str = "en", pdf: bool = False, scopes=(),
                 title: str | None = None, progress=None) -> dict:
    """Write `report-<lang>.html` (and `.pdf`) into `out_dir`.

    `progress(step, done, total)` is called as each step starts (chapters, HTML, PDF), for progress bars.

    Returns {"html", "pdf" (None without pdf), "chapters" (ids and titles), "missing" (chapter, what),
    "synthetic" (chapter ids that use synthetic rows), "figures" (the service rows behind the numbers)}.
    """
    from hardtech.presentation.report.build import collect
    from hardtech.presentation.report.fonts import require_cjk_font
    from hardtech.presentation.report.i18n import Translator
    from hardtech.presentation.report.render import render_html
    from hardtech.presentation.report.scope import parse_scopes

    say = progress or (lambda step, done, total: None)
    steps = 3 if pdf else 2
    Translator(lang)  # an unknown language fails before any work
    if lang == "zh":
        require_cjk_font()
    db = Path(db)
    if not db.exists():
        raise StoreError(f"no store at {db}; build one with `hardtech import` or `hardtech demo`")
    with Store(db, read_only=True) as store:
        scope = parse_scopes(scopes, store)
    say("computing the chapters from the store", 0, steps)
    report = collect(db, scope, lang)
    say("writing the HTML", 1, steps)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    html = render_html(report, title, db.name)
    html_path = out / f"report-{lang}.html"
    html_path.write_text(html, encoding="utf-8")
    pdf_path = None
    if pdf:
        from hardtech.presentation.report.pdf import write_pdf

        say("printing the PDF", 2, steps)
        pdf_path = write_pdf(html, out / f"report-{lang}.pdf")
    return {"html": html_path, "pdf": pdf_path,
            "chapters": [{"id": c["id"], "title": c["title"]} for c in report["chapters"]],
            "missing": [{"chapter": c, "what": m} for c, m in report["missing"]],
            "synthetic": [c["id"] for c in report["chapters"] if c["synthetic"]],
            "figures": report["figures"]}
