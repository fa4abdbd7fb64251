"""Organisations: search with the shared filters and pagination, aggregates, and one organisation's profile."""

from __future__ import annotations

from functools import partial
from typing import Literal

from fastapi import APIRouter, Depends, Path, Query, Request

from hardtech.presentation.api.deps import engine_headers, no_cache, org_filters, state
from hardtech.presentation.api.encode import JSONBytes, dumps, encoded
from hardtech.services import search
from hardtech.services.search import Filters

router = APIRouter(prefix="/api/v1", tags=["organisations"])

Sort = Literal["score", "-score", "name", "-name", "founded", "-founded", "org_id"]
Group = Literal["field", "typology", "city", "country", "kind", "star"]


@router.get("/organizations", response_class=JSONBytes, summary="Search organisations")
async def organizations(request: Request, filters: Filters = Depends(org_filters),
                        sort: Sort = Query("-score", description="Order; a leading `-` means descending."),
                        limit: int = Query(25, ge=1, le=search.MAX_LIMIT), offset: int = Query(0, ge=0, le=10_000_000),
                        with_star: bool = Query(False, description="Add each company's STAR verdict (slower the first time).")):
    """Organisations matching the filters, one page at a time, with the total count."""
    a = await state(request).read(("orgs", filters, sort, limit, offset, with_star),
                                  partial(encoded, partial(search.search_orgs, filters=filters, sort=sort, limit=limit,
                                                           offset=offset, with_star=with_star)),
                                  fresh=no_cache(request))
    return JSONBytes(a.value, headers=engine_headers(a.headers()))


async def aggregate_data(request: Request, by: str, filters: Filters):
    """Counts per group under the filters; the API and the dashboard share it (and its cache key)."""
    return await state(request).read(("agg", by, filters), partial(search.aggregate_orgs, by=by, filters=filters),
                                     fresh=no_cache(request))


@router.get("/organizations/aggregate", response_class=JSONBytes, summary="Count organisations per group")
async def aggregate(request: Request, by: Group = Query("field"), filters: Filters = Depends(org_filters),
                    lang: Literal["en", "zh"] = Query("en", description="Language of each group's `label`.")):
    """Counts and mean hardness score of the filtered organisations per field, typology, city, country, kind or STAR
    verdict; each row's `group` is the id and `label` its name in `lang` (from the translation files)."""
    from hardtech.presentation.labels import Labels, place_names

    a = await aggregate_data(request, by, filters)
    places = (await state(request).read(("places",), place_names, fresh=no_cache(request))).value if lang == "zh" else {}
    L = Labels(lang)
    rows = [{**r, "label": L.group(by, r["group"], places)} for r in a.value]
    return JSONBytes({"by": by, "lang": lang, "filters": filters.active(), "rows": rows},
                     headers=engine_headers(a.headers()))


@router.get("/labels", response_class=JSONBytes, summary="Names of ids in English or Chinese")
async def labels(lang: Literal["en", "zh"] = Query("en")):
    """The name of every field, typology, organisation kind, STAR verdict, STAR reason, stage and sector id in
    `lang`, from the translation files the dashboard and the white paper use: `{section: {id: name}}`."""
    from hardtech.presentation.labels import vocabulary_with_taxonomy

    return JSONBytes(dumps({"lang": lang, "labels": vocabulary_with_taxonomy(lang)}))


def _profile(db, org_id: str) -> tuple[dict, bytes]:
    """The profile computed on the server's engine (HARDTECH_ENGINE: DuckDB, or Spark over the snapshot's export)."""
    from hardtech.services.opened import open_store

    with open_store(db) as store:
        p = search.org_profile(store, org_id)
    return p, dumps(p)


async def profile_data(request: Request, org_id: str):
    """The profile as (dict, encoded bytes), computed once per store state for the API and the dashboard."""
    return await state(request).read(("profile", org_id), partial(_profile, org_id=org_id), fresh=no_cache(request))


@router.get("/organizations/{org_id}", response_class=JSONBytes, summary="One organisation's profile")
async def organization(request: Request, org_id: str = Path(..., min_length=1, max_length=200)):
    """Classification (fields with probabilities, typology, evidence), hardness score with every part and its
    inputs, STAR result with each indicator, financials with their sources, and the watchlists it is on.
    Computed once per store state, then served from memory."""
    a = await profile_data(request, org_id)
    return JSONBytes(a.value[1], headers=engine_headers(a.headers()))
