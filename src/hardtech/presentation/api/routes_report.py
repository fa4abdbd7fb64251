"""The white paper over HTTP: `hardtech.services.report.write_report` into a server-made temporary folder."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import List, Literal, Optional

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from hardtech.presentation.api.deps import state
from hardtech.presentation.api.errors import ApiProblem

router = APIRouter(prefix="/api/v1", tags=["report"])


def build_report(db, lang: str, pdf: bool, scopes: tuple[str, ...], title: str | None) -> tuple[bytes, str]:
    try:
        from hardtech.services.report import write_report
    except ImportError:
        raise ApiProblem(501, "the report is not available in this installation (hardtech.services.report is missing)")
    folder = Path(tempfile.mkdtemp(prefix="hardtech-report-"))
    try:
        out = write_report(db, folder, lang=lang, pdf=pdf, scopes=scopes, title=title)
        if pdf:
            if not out.get("pdf"):
                raise ApiProblem(501, "this installation could not make the PDF; ask for the HTML report")
            return Path(out["pdf"]).read_bytes(), "application/pdf"
        return Path(out["html"]).read_bytes(), "text/html; charset=utf-8"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@router.get("/report", summary="The white paper (HTML or PDF)",
            responses={200: {"content": {"text/html": {}, "application/pdf": {}}},
                       501: {"description": "report module missing"}})
def report(request: Request, lang: Literal["en", "zh"] = "en", format: Literal["html", "pdf"] = "html",
           scope: Optional[List[str]] = Query(None, max_length=8, description="field:F, region:R or year:Y"),
           title: Optional[str] = Query(None, max_length=200)):
    """Landscape, rankings, hardness leaders, STAR-ready companies, flows, regions and guidelines, self-contained."""
    st = state(request)
    scopes = tuple(s[:100] for s in (scope or ()))
    body, media = st.read(("report", lang, format, scopes, title),
                          lambda: build_report(st.config.db, lang, format == "pdf", scopes, title))
    return Response(body, media_type=media)
