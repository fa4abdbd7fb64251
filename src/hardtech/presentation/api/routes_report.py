"""The white paper over HTTP: behind a token, in the jobs pool, cached by what it is made of.

Why a token: one report costs tens of seconds of CPU (the PDF more), so an open endpoint let anyone
keep the server busy. Why the jobs pool: at most `job_workers` reports (and screenings) run at once,
in worker processes, and at most `job_queue` wait; more are refused with 429 and `Retry-After`, and
reads have their own workers, so they never wait behind a report. Why two caches: the analysis
(every chapter's figures) depends on the store state, the language and the scope only, and is kept
in the worker (`jobs.report_job`); the title is a parameter of the rendered text, so a new title
costs a render (and a PDF print), not a new analysis. The bytes sent are kept here per language,
format, scope and title, for the store state they were made on.
"""

from __future__ import annotations

from typing import List, Literal, Optional

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from hardtech.presentation.api.deps import engine_headers, require_token, state

router = APIRouter(prefix="/api/v1", tags=["report"])


@router.get("/report", summary="The white paper (HTML or PDF)",
            responses={200: {"content": {"text/html": {}, "application/pdf": {}}},
                       401: {"description": "no or invalid token"},
                       429: {"description": "reports already running or queued; see Retry-After"}})
async def report(request: Request, lang: Literal["en", "zh"] = "en", format: Literal["html", "pdf"] = "html",
                 scope: Optional[List[str]] = Query(None, max_length=8, description="field:F, region:R or year:Y"),
                 title: Optional[str] = Query(None, max_length=200),
                 caller: str = Depends(require_token)):
    """Landscape, rankings, hardness leaders, STAR-ready companies, flows, regions and guidelines, self-contained.
    Needs a token; computed once per store state, language and scope (a new title only re-renders)."""
    from hardtech.presentation.api.jobs import report_job

    st = state(request)
    scopes = tuple(s[:100] for s in (scope or ()))
    key = (lang, format, scopes, title)
    hit = st.reports.get(key)
    if hit is None or hit[0] != st.snapshots.state() or st.snapshots.changed():
        hit = await st.job(("report",) + key, report_job, st.config.db.name, lang, format == "pdf", scopes, title)
        st.reports.put(key, *hit)
    body, media = hit[1]
    return Response(body, media_type=media, headers=engine_headers({}))
