"""The application factory: settings, routers, error handlers, security headers and the dashboard."""

from __future__ import annotations

import os
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request

from hardtech import __version__
from hardtech.presentation.api import errors
from hardtech.presentation.api.deps import state
from hardtech.presentation.api.encode import JSONBytes
from hardtech.presentation.api.state import ApiConfig, AppState

meta = APIRouter(tags=["meta"])

# Vega compiles chart expressions with `new Function`, hence 'unsafe-eval'; no inline script is ever allowed.
CSP = ("default-src 'self'; script-src 'self' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
       "form-action 'self'")


@meta.get("/health", response_class=JSONBytes, summary="Liveness")
async def health():
    """Answers without touching the store: the baseline of the API benchmark."""
    return JSONBytes(b'{"status":"ok"}')


@meta.get("/api/v1", response_class=JSONBytes, summary="What this server offers")
def index(request: Request):
    """Version, store, write mode, the filter vocabulary and the endpoints."""
    from hardtech.services import search
    from hardtech.services.store_file import schema_version

    st = state(request)
    return JSONBytes({
        "hardtech": __version__, "schema_version": schema_version(), "read_only": st.config.read_only,
        "limits": {"max_upload_bytes": st.config.max_upload_bytes, "max_upload_rows": st.config.max_upload_rows},
        "filters": {"field": [f["id"] for f in search.field_choices()],
                    "typology": [t["id"] for t in search.typology_choices()],
                    "star": list(search.STAR_VERDICTS), "sort": list(search.SORTS), "group_by": list(search.GROUPS)},
        "endpoints": sorted(p for p in _route_paths(request.app) if p.startswith("/api/v1")),
    })


def _route_paths(app) -> set[str]:
    """Every route's path. FastAPI ≥ 0.165 keeps an included router as one nested entry of `app.routes`, so the
    top level alone lists only the routes declared on the app itself; the route contexts walk the nesting."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # older FastAPI: included routes are flattened into app.routes
        return {r.path for r in app.routes if getattr(r, "path", None)}
    return {rc.path for rc in iter_route_contexts(app.routes) if rc.path}


class Guard:
    """Pure ASGI middleware (cheaper than BaseHTTPMiddleware on every request): refuses bodies over the upload
    limit before they are read, and adds the security headers to every response."""

    HEADERS = [(b"content-security-policy", CSP.encode()), (b"x-content-type-options", b"nosniff"),
               (b"referrer-policy", b"same-origin"),
               # the engine that computed the answer: the engine-aware routes set their own (deps.engine_headers);
               # the rest (search, aggregates, watchlists, tokens, imports) run on DuckDB
               (b"x-hardtech-engine", b"duckdb")]

    def __init__(self, app, max_upload_bytes: int) -> None:
        self.app = app
        self.max_upload_bytes = max_upload_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if scope["method"] in ("POST", "PUT", "PATCH"):
            length = dict(scope["headers"]).get(b"content-length", b"")
            if length.isdigit() and int(length) > self.max_upload_bytes + 64 * 1024:
                response = errors.problem(413, f"request body is {int(length):,} bytes; this server accepts at "
                                               f"most {self.max_upload_bytes:,} bytes per upload")
                return await response(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                have = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [h for h in self.HEADERS if h[0] not in have]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(db: str | Path, read_only: bool = True, max_upload_bytes: int = 5 * 1024 * 1024,
               max_upload_rows: int = 5000, dashboard: bool = True, read_workers: int = 2, read_queue: int = 256,
               job_workers: int = 1, job_queue: int = 2, worker_processes: bool = True) -> FastAPI:
    """The REST API over one store (and the dashboard unless `dashboard=False`).

    Read-only by default; with `read_only=False`, writes are allowed to holders of an API token.
    With HARDTECH_ENGINE=spark (or `hardtech --engine spark serve`), rankings, flows, regions, matching,
    profiles and the report compute on Spark over each snapshot's Parquet export; search and every write stay
    on the DuckDB file (docs/scaling.md); each response names its engine in `X-Hardtech-Engine`.
    Computations run in two bounded pools (`state.AppState`): reads (`read_workers` at once, `read_queue`
    waiting) and jobs — reports and screening — (`job_workers`, `job_queue`); past that, 429. Jobs and
    imports run in worker processes unless `worker_processes=False` (threads: tests that hold a job use it).
    """
    from hardtech.errors import StoreError
    from hardtech.presentation.api import (docs, routes_analytics, routes_orgs, routes_report, routes_screening,
                                           routes_writes)
    from hardtech.services.opened import ENGINE_ENV, engine_name
    from hardtech.services.store_file import open_file

    db = Path(db)
    if not db.exists():
        raise StoreError(f"no store at {db}; create one with `hardtech import` or `hardtech demo`")
    # read-write: bring an older store up to the current schema once, before serving;
    # read-only: refuse now, clearly, a store this version cannot read
    open_file(db, read_only=read_only).close()
    engine = engine_name()  # --engine or HARDTECH_ENGINE; the worker processes read it from the environment
    if engine != "duckdb":
        os.environ.setdefault(ENGINE_ENV, engine)
    config = ApiConfig(db=db.resolve(), read_only=read_only, max_upload_bytes=int(max_upload_bytes),
                       max_upload_rows=int(max_upload_rows), read_workers=int(read_workers),
                       read_queue=int(read_queue), job_workers=int(job_workers), job_queue=int(job_queue),
                       processes=bool(worker_processes))
    st = AppState(config)

    @asynccontextmanager
    async def lifespan(_app):
        import asyncio

        await asyncio.to_thread(st.warm_up)  # the first snapshot; the read workers start in the background
        yield
        st.close()  # the pools' workers and the store's snapshots

    app = FastAPI(title="hardtech", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Find, classify, score, rank and map hard & core technology (硬科技). "
                              "Reads are open; writes and the report need `Authorization: Bearer <token>` "
                              "(`hardtech token create`).")
    app.state.hardtech = st
    errors.install(app)
    for r in (meta, routes_orgs.router, routes_analytics.router, routes_screening.router, routes_writes.router,
              routes_report.router, docs.router):
        app.include_router(r)
    if dashboard:
        from hardtech.presentation.web import install as install_web

        install_web(app)

    app.add_middleware(Guard, max_upload_bytes=config.max_upload_bytes)
    return app
