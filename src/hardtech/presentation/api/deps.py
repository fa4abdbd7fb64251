"""Request dependencies shared by the routers: the server state, the one filter syntax, the writer's token.

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


def org_filters(
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


def bearer(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def require_writer(request: Request, token: str | None = None) -> str:
    """The name of the caller's token; 403 on a read-only server, 401 without a valid token.

    `token` lets the dashboard's forms send the token as a field (browsers cannot set headers on forms).
    """
    from hardtech.services.tokens import verify_token
    from hardtech.store.connection import Store

    st = state(request)
    if st.config.read_only:
        raise ApiProblem(403, "this server is read-only (started with --read-only or read_only=True): "
                              "imports, screening uploads and watchlist changes are refused")
    secret = bearer(request) or token
    if not secret:
        raise ApiProblem(401, "this request changes data and needs an API token: send `Authorization: Bearer <token>` "
                              "(create one with `hardtech token create NAME`)", {"WWW-Authenticate": "Bearer"})
    with st.gate.read():
        with Store(st.config.db, read_only=True) as store:
            name = verify_token(store, secret)
    if name is None:
        raise ApiProblem(401, "the API token is not valid (unknown or revoked)",
                         {"WWW-Authenticate": 'Bearer error="invalid_token"'})
    return name
