"""Errors as JSON problem bodies (RFC 9457): the HardtechError hierarchy mapped to HTTP status codes.

Every refusal names what is wrong in `detail`, as the CLI does; an unexpected failure says only
that it was internal (no traceback leaves the server). No file-system path leaves it either: a
message that names a server file (an upload's temporary copy, the store, a snapshot) is sent with
the file's name only (`scrub_paths`).
"""

from __future__ import annotations

import logging
import os
import re

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from hardtech.errors import (FXError, HardtechError, MappingError, NotFound, ParseError, RejectedRows, SourceError,
                             StoreError, UsageError)
from hardtech.presentation.api.pool import Busy

log = logging.getLogger("hardtech.api")

STATUS = ((NotFound, 404), (MappingError, 422), (SourceError, 422), (ParseError, 422), (FXError, 422),
          (RejectedRows, 422), (UsageError, 422), (StoreError, 503), (HardtechError, 400))
TITLES = {400: "Bad request", 401: "Unauthorized", 403: "Forbidden", 404: "Not found", 405: "Method not allowed",
          413: "Content too large", 422: "Unprocessable content", 429: "Too many requests",
          500: "Internal server error", 501: "Not implemented", 503: "Service unavailable"}
# an absolute path of two or more parts (quoted or not); only those whose top folder exists here are scrubbed
_PATH = re.compile(r"(?<![\w:/.])(/[^\s'\"`/():,;]+(?:/[^\s'\"`/():,;]+)+/?)")


class ApiProblem(Exception):
    """Raised by endpoints for HTTP-level refusals (401, 403, 413) with a clear detail."""

    def __init__(self, status: int, detail: str, headers: dict[str, str] | None = None):
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.headers = headers or {}


def status_of(exc: HardtechError) -> int:
    for cls, code in STATUS:
        if isinstance(exc, cls):
            return code
    return 400


def scrub_paths(text: str) -> str:
    """`text` with every absolute path on this machine replaced by its last part (`/tmp/x/upload.csv` →
    `upload.csv`); URL paths such as `/api/v1/…` are left alone because their top folder does not exist here."""
    def short(m: re.Match) -> str:
        path = m.group(1)
        top = "/" + path.strip("/").split("/", 1)[0]
        return os.path.basename(path.rstrip("/")) if os.path.isdir(top) else path
    return _PATH.sub(short, text)


def problem(status: int, detail: str, headers: dict[str, str] | None = None, **extra) -> JSONResponse:
    detail = scrub_paths(detail)
    body = {"type": "about:blank", "title": TITLES.get(status, "Error"), "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, headers=headers, media_type="application/problem+json")


def _where(loc) -> str:
    parts = [str(x) for x in loc]
    if parts and parts[0] in ("query", "path", "body", "header", "cookie"):
        kind = {"query": "query parameter", "path": "path parameter", "body": "body field",
                "header": "header", "cookie": "cookie"}[parts[0]]
        return f"{kind} {'.'.join(parts[1:]) or '(body)'}"
    return ".".join(parts)


def install(app: FastAPI) -> None:
    @app.exception_handler(HardtechError)
    async def _hardtech(request: Request, exc: HardtechError):
        code = status_of(exc)
        return problem(code, str(exc), {"Retry-After": "2"} if code == 503 else None)

    @app.exception_handler(Busy)
    async def _busy(request: Request, exc: Busy):
        return problem(429, str(exc), {"Retry-After": str(exc.retry_after)})

    @app.exception_handler(ApiProblem)
    async def _api(request: Request, exc: ApiProblem):
        return problem(exc.status, exc.detail, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        errors = [{"where": _where(e.get("loc", ())), "message": scrub_paths(str(e.get("msg", "")))}
                  for e in exc.errors()]
        detail = "; ".join(f"{e['where']}: {e['message']}" for e in errors) or "invalid request"
        return problem(422, detail, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        return problem(exc.status_code, str(exc.detail), getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception):
        log.exception("internal error on %s %s", request.method, request.url.path)
        return problem(500, "internal error; the server log has the details")
