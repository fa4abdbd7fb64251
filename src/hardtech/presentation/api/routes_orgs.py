"""Organisations: search with the shared filters and pagination, aggregates, and one organisation's profile."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from starlette.concurrency import run_in_threadpool

from hardtech.presentation.api.deps import org_filters, state
from hardtech.presentation.api.encode import JSONBytes, dumps
from hardtech.services import search
from hardtech.services.search import Filters

router = APIRouter(prefix="/api/v1", tags=["organisations"])

Sort = Literal["score", "-score", "name", "-name", "founded", "-founded", "org_id"]
Group = Literal["field", "typology", "city", "country", "kind", "star"]


@router.get("/organizations", response_class=JSONBytes, summary="Search organisations")
def organizations(request: Request, filters: Filters = Depends(org_filters),
                  sort: Sort = Query("-score", description="Order; a leading `-` means descending."),
                  limit: int = Query(25, ge=1, le=search.MAX_LIMIT), offset: int = Query(0, ge=0, le=10_000_000),
                  with_star: bool = Query(False, description="Add each company's STAR verdict (slower the first time).")):
    """Organisations matching the filters, one page at a time, with the total count."""
    st = state(request)
    key = ("orgs", filters, sort, limit, offset, with_star)
    return JSONBytes(st.read(key, lambda: dumps(search.search_orgs(st.config.db, filters, sort, limit, offset,
                                                                     with_star))))


@router.get("/organizations/aggregate", response_class=JSONBytes, summary="Count organisations per group")
def aggregate(request: Request, by: Group = Query("field"), filters: Filters = Depends(org_filters)):
    """Counts and mean hardness score of the filtered organisations per field, typology, city, country, kind or STAR verdict."""
    st = state(request)
    rows = st.read(("agg", by, filters), lambda: search.aggregate_orgs(st.config.db, by, filters))
    return JSONBytes({"by": by, "filters": filters.active(), "rows": rows})


def profile_bytes(request: Request, org_id: str) -> bytes:
    """The encoded profile; encoding needs no store, so only `profile_data` takes the read gate (never twice:
    a writer waiting between an outer and an inner read would deadlock)."""
    st = state(request)
    return st.cache.get(("profile-bytes", org_id), lambda: dumps(profile_data(request, org_id)))


def profile_data(request: Request, org_id: str) -> dict:
    st = state(request)
    return st.read(("profile", org_id), lambda: search.org_profile(st.config.db, org_id))


@router.get("/organizations/{org_id}", response_class=JSONBytes, summary="One organisation's profile")
async def organization(request: Request, org_id: str = Path(..., min_length=1, max_length=200)):
    """Classification (fields with probabilities, typology, evidence), hardness score with every part and its
    inputs, STAR result with each indicator, financials with their sources, and the watchlists it is on.
    Computed once per store state, then served from memory."""
    st = state(request)
    cached = st.cache.peek(("profile-bytes", org_id))
    if cached is not None:
        return JSONBytes(cached)
    return JSONBytes(await run_in_threadpool(profile_bytes, request, org_id))
