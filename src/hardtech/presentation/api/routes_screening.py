"""Screening uploads: a CSV of applicants in, the ranked shortlist out as JSON, CSV or Excel.

The CSV and Excel files come from `ScreenResult.to_csv/to_excel`, which neutralise formula
injection (`=`, `+`, `-`, `@` at the start of a cell); they are written into a server-made
temporary folder, read back, and the folder removed.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path as FsPath
from typing import Literal

from fastapi import APIRouter, Depends, File, Path, Request, UploadFile
from fastapi.responses import Response

from hardtech.presentation.api.deps import require_writer, state
from hardtech.presentation.api.encode import JSONBytes
from hardtech.presentation.api.errors import ApiProblem
from hardtech.presentation.api.uploads import count_rows, saved_upload

router = APIRouter(prefix="/api/v1", tags=["screening"])

MEDIA = {"csv": "text/csv; charset=utf-8",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
         "html": "text/html; charset=utf-8"}


def run_screening(request: Request, file: UploadFile) -> tuple[str, object]:
    """Check limits, screen the applicants in the jobs pool (429 when it is full), keep the result; (id, result).
    Called on a worker thread (it reads the upload), so it waits for the pool with a blocking call."""
    import secrets

    from hardtech.presentation.api.jobs import screening_job

    st = state(request)
    with saved_upload(file, st.config.max_upload_bytes) as path:
        count_rows(path, st.config.max_upload_rows)
        result = st.jobs.call(("screening", secrets.token_hex(8)), screening_job, str(path))
    return st.screenings.add(result), result


def screening_json(rid: str, result) -> dict:
    rows = [{k: v for k, v in r.items() if k != "criteria"} | {"criteria": r.get("criteria")} for r in result.rows]
    return {"id": rid, "rubric_version": result.rubric.version, "classifier_version": result.classifier_version,
            "applicants": len(rows), "shortlisted": sum(1 for r in rows if r["shortlisted"]),
            "downloads": {f: f"/api/v1/screening/{rid}.{f}" for f in ("csv", "xlsx", "html")}, "rows": rows}


def export(result, fmt: str) -> bytes:
    folder = FsPath(tempfile.mkdtemp(prefix="hardtech-export-"))
    try:
        path = folder / f"shortlist.{fmt}"
        {"csv": result.to_csv, "xlsx": result.to_excel, "html": result.to_html}[fmt](path)
        return path.read_bytes()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@router.post("/screening", response_class=JSONBytes, summary="Screen a batch of applicants",
             responses={401: {"description": "no or invalid token"}, 403: {"description": "read-only server"},
                        413: {"description": "file too large or too many rows"}})
def screening(request: Request, file: UploadFile = File(..., description="Applicants (CSV, TSV, Excel, JSONL): "
                                                                       "name, description, optional financials."),
              writer: str = Depends(require_writer)):
    """Every applicant classified, scored and STAR-checked into a ranked shortlist with reasons. The result is
    kept in memory under an unguessable id so it can be downloaded as CSV or Excel."""
    rid, result = run_screening(request, file)
    return JSONBytes(screening_json(rid, result))


@router.get("/screening/{rid}.{fmt}", summary="Download a screening result",
            responses={200: {"content": {MEDIA["csv"]: {}, MEDIA["xlsx"]: {}, MEDIA["html"]: {}}}})
def screening_download(request: Request, rid: str = Path(..., min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$"),
                       fmt: Literal["csv", "xlsx", "html"] = Path(...)):
    """The ranked shortlist as CSV or Excel (formulas neutralised) or HTML (escaped)."""
    result = state(request).screenings.get(rid)
    if result is None:
        raise ApiProblem(404, f"no screening result {rid!r} on this server (results are kept in memory for the "
                              "most recent uploads only)")
    return Response(export(result, fmt), media_type=MEDIA[fmt],
                    headers={"Content-Disposition": f'attachment; filename="shortlist-{rid[:8]}.{fmt}"'})
