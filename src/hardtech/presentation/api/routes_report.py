"""The white paper over HTTP: behind a token, in the jobs pool, cached by what it is made of.

Why a token: one report costs tens of seconds of CPU (the PDF more), so an open endpoint let anyone
keep the server busy. Why the jobs pool: at most `job_workers` reports (and screenings) run at once
and at most `job_queue` wait; more are refused with 429 and `Retry-After`, and reads have their own
workers, so they never wait behind a report. Why two caches: the analysis (every chapter's figures)
depends on the store state, the language and the scope only; the title is a parameter of the
rendered text, so a new title costs a render (and a PDF print), not a new analysis.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import List, Literal, Optional

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from hardtech.presentation.api.deps import require_token, state
from hardtech.presentation.api.errors import ApiProblem
from hardtech.presentation.api.state import AppState

router = APIRouter(prefix="/api/v1", tags=["report"])


def build_report(st: AppState, snap, lang: str, pdf: bool, scopes: tuple[str, ...],
                 title: str | None) -> tuple[bytes, str]:
    """The report's bytes and media type for a snapshot of the store; runs in the jobs pool."""
    try:
        from hardtech.services.report import render_report, report_analysis
    except ImportError:
        raise ApiProblem(501, "the report is not available in this installation (hardtech.services.report is missing)")
    label = st.config.db.name  # the store's name, not the snapshot's
    key = (lang, "pdf" if pdf else "html", scopes, title)
    hit = st.report_renders.get(key)
    if hit is not None and hit[0] == snap.state:
        return hit[1]
    got = st.report_analyses.get((lang, scopes))
    if got is not None and got[0] == snap.state:
        analysis = got[1]
    else:
        analysis = report_analysis(snap.path, lang, scopes)
        st.report_analyses.put((lang, scopes), snap.state, analysis)
    if pdf:
        folder = Path(tempfile.mkdtemp(prefix="hardtech-report-"))
        try:
            path = folder / f"report-{lang}.pdf"
            render_report(analysis, title, label, path)
            if not path.exists():
                raise ApiProblem(501, "this installation could not make the PDF; ask for the HTML report")
            out = (path.read_bytes(), "application/pdf")
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    else:
        out = (render_report(analysis, title, label).encode("utf-8"), "text/html; charset=utf-8")
    st.report_renders.put(key, snap.state, out)
    return out


@router.get("/report", summary="The white paper (HTML or PDF)",
            responses={200: {"content": {"text/html": {}, "application/pdf": {}}},
                       401: {"description": "no or invalid token"},
                       429: {"description": "reports already running or queued; see Retry-After"},
                       501: {"description": "report module missing"}})
async def report(request: Request, lang: Literal["en", "zh"] = "en", format: Literal["html", "pdf"] = "html",
                 scope: Optional[List[str]] = Query(None, max_length=8, description="field:F, region:R or year:Y"),
                 title: Optional[str] = Query(None, max_length=200),
                 caller: str = Depends(require_token)):
    """Landscape, rankings, hardness leaders, STAR-ready companies, flows, regions and guidelines, self-contained.
    Needs a token; computed once per store state, language and scope (a new title only re-renders)."""
    st = state(request)
    scopes = tuple(s[:100] for s in (scope or ()))
    body, media = await st.job(("report", lang, format, scopes, title), build_report, lang, format == "pdf",
                               scopes, title)
    return Response(body, media_type=media)
