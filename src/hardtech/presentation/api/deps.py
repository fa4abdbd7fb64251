"""Request dependencies shared by the routers: the server state, the one filter syntax, the caller's token.

Why one filter dependency: `/organizations`, `/organizations/aggregate`, `/rankings` and the
dashboard pages read the same query parameters through `org_filters`, so a shared link means the
same selection everywhere; unknown values are refused with a 422 naming the allowed ones.
"""

from __future__ import annotations

from typing import Optional

from fastapi import Query, Request

from hardtech.presentation.api.errors import ApiProblem
from hardtech.presentation.api.state import AppState
from hardtech.services.search import Filters


def state(request: Request) -> AppState:
    return request.app.state.hardtech


async def org_filters(
    field: Optional[str] = Query(None, max_length=64, description="Hard-tech field id (ai, aerospace, photonics_chips, "
                                                                 "biotech, it, new_materials, new_energy, intelligent_manufacturing)."),
    typology: Optional[str] = Query(None, max_length=64, description="Typology class: hard_core, deep, black, high, model_innovation."),
    country: Optional[str] = Query(None, max_length=8, description="ISO 3166-1 alpha-2 country, e.g. CN."),
    city: Optional[str] = Query(None, max_length=200, description="City in English or Chinese (Xi'an, 西安)."),
    kind: Optional[str] = Query(None, max_length=32, description="company, startup, university, institute, investor, government."),
    score_min: Optional[float] = Query(None, ge=0, le=100, description="Lowest hardness score (latest scored year)."),
    score_max: Optional[float] = Query(None, ge=0, le=100, description="Highest hardness score."),
    star: Optional[str] = Query(None, max_length=32, description="STAR verdict: sci-tech (pass), not sci-tech (fail), "
                                                                 "restricted, prohibited, insufficient data."),
    q: Optional[str] = Query(None, max_length=200, description="Text in the name, aliases, id or description."),
) -> Filters:
    return Filters(field=field, typology=typology, country=country, city=city, kind=kind, score_min=score_min,
                   score_max=score_max, star=star, q=q).validated()


ENGINE_HEADER = "X-Hardtech-Engine"


def engine_headers(headers: dict[str, str]) -> dict[str, str]:
    """`headers` and which engine computed the answer: the server's (HARDTECH_ENGINE); a search, its aggregates and
    the shared filters run there too. Answers without it were computed on DuckDB (app.py)."""
    from hardtech.services.opened import engine_name

    return {**headers, ENGINE_HEADER: engine_name()}


def no_cache(request: Request) -> bool:
    """`Cache-Control: no-cache` (or `Pragma: no-cache`): wait for an answer on the current store state."""
    cc = request.headers.get("cache-control", "").lower()
    return "no-cache" in cc or "no-store" in cc or request.headers.get("pragma", "").lower() == "no-cache"


def bearer(request: Request) -> str | None:
    """The token from `Authorization: Bearer …`, the only place a token is read from (never the URL or a form,
    which end up in logs, history and Referer headers)."""
    auth = request.headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def require_token(request: Request) -> str:
    """The name of the caller's valid token (read-only servers too); 401 without one."""
    from hardtech.services.store_file import open_file
    from hardtech.services.tokens import verify_token

    st = state(request)
    secret = bearer(request)
    if not secret:
        raise ApiProblem(401, "this request needs an API token: send `Authorization: Bearer <token>` "
                              "(create one with `hardtech token create NAME`)", {"WWW-Authenticate": "Bearer"})
    with st.snapshots.lease(fresh=True) as snap:  # a token created or revoked a moment ago counts
        with open_file(snap.path, read_only=True) as store:
            name = verify_token(store, secret)
    if name is None:
        raise ApiProblem(401, "the API token is not valid (unknown or revoked)",
                         {"WWW-Authenticate": 'Bearer error="invalid_token"'})
    return name


def require_writer(request: Request) -> str:
    """The name of the caller's token; 403 on a read-only server, 401 without a valid token."""
    if state(request).config.read_only:
        raise ApiProblem(403, "this server is read-only (started with --read-only or read_only=True): "
                              "imports, screening uploads and watchlist changes are refused")
    return require_token(request)
