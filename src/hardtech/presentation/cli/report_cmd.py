"""`hardtech report`: the white paper as one self-contained HTML file (and a PDF), in English or Chinese."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from hardtech.presentation.cli.app import app
from hardtech.presentation.cli.output import Output, command, step_progress


@command(app, "report")
def report_cmd(
    out_dir: Path = typer.Option(..., "--out", help="Folder for report-<lang>.html (and .pdf)."),
    lang: str = typer.Option("en", "--lang", help="en | zh"),
    pdf: bool = typer.Option(False, "--pdf", help="Also print the report to PDF (WeasyPrint)."),
    scope: Optional[List[str]] = typer.Option(None, "--scope", help="field:F, region:R or year:Y; repeat to combine "
                                                                    "(same kind: either; different kinds: both)."),
    title: Optional[str] = typer.Option(None, "--title", help="Title of the paper (default: by language)."),
    *, out: Output,
) -> None:
    """The white paper: landscape, rankings, hardness, STAR, capital flows, regions and investment guidelines."""
    from hardtech.presentation.report.paper import write_report

    t = out.t
    with step_progress(out.console, t("progress.report", lang=lang), out.lang) as advance:
        r = write_report(out.db, out_dir, lang=lang, pdf=pdf, scopes=scope or (), title=title, progress=advance,
                         store=out.data() if out.db.exists() else None)
    rows = [{"file": str(r["html"]), "kind": "html"}] + ([{"file": str(r["pdf"]), "kind": "pdf"}] if r["pdf"] else [])
    rows += [{"file": "", "kind": t("word.missing_in", chapter=m["chapter"]), "what": m["what"]} for m in r["missing"]]
    out.emit(rows, title=t("title.report"), columns=["kind", "file", "what"])
