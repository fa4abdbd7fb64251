"""Rankings, capital flows, regions and matching: the analytics as JSON, cached per store state.

Every route here computes on the server's engine (HARDTECH_ENGINE: DuckDB, or Spark over the snapshot's
Parquet export) and says which in `X-Hardtech-Engine`; the shared organisation filters of `/rankings`
select on the same engine and the same opened store (`services.search.matching_ids`).
"""

from __future__ import annotations

from functools import partial
from typing import List, Literal, Optional

from fastapi import APIRouter, Depends, Path, Query, Request

from hardtech.errors import UsageError
from hardtech.presentation.api.deps import engine_headers, no_cache, org_filters, state
from hardtech.presentation.api.encode import JSONBytes, encoded
from hardtech.services import search
from hardtech.services.search import Filters

router = APIRouter(prefix="/api/v1", tags=["analytics"])


async def _cached(request: Request, key, fn):
    """fn(db) on the current store state (computed and encoded in the read pool, kept in memory), as JSON.
    fn must pickle: a `partial` of a module-level function."""
    a = await state(request).read(("json",) + tuple(key), partial(encoded, fn), fresh=no_cache(request))
    return JSONBytes(a.value, headers=engine_headers(a.headers()))


async def ranking_data(request: Request, year: int | None, by: str, scope: str, top: int | None, currency: str,
                       filters: Filters):
    """A ranking for the current store state; the API and the dashboard share it (and its cache key)."""
    return await state(request).read(("rank", year, by, scope, top, currency, filters),
                                     partial(_ranking, year=year, by=by, scope=scope, top=top, currency=currency,
                                             filters=filters),
                                     fresh=no_cache(request))


def _ranking(db, year: int | None, by: str, scope: str, top: int | None, currency: str, filters: Filters) -> dict:
    """A ranking, restricted to the organisations the shared filters select (ranks stay those of the scope)."""
    from hardtech.services.opened import open_store
    from hardtech.services.scoring import rank_rows, ranking_years

    with open_store(db) as store:  # the snapshot on the server's engine, opened once for both questions
        years = ranking_years(store)
        if year is None:
            if not years:
                raise UsageError("the store has no R&D figures to rank")
            year = years[-1]
        rows = rank_rows(store, year, by, scope, None, currency)
        ids = search.matching_ids(store, filters)
    if ids is not None:
        rows = [r for r in rows if r.get("org_id") in ids]
    if top:
        rows = rows[:top]
    return {"year": year, "years": years, "by": by, "scope": scope, "currency": currency,
            "filters": filters.active(), "rows": rows}


async def flows_data(request: Request, by: str, period: str, metric: str, currency: str):
    """Funding per group and period for the current store state; the API and the dashboard share it."""
    return await state(request).read(("flows", by, period, metric, currency),
                                     partial(_flows, by=by, period=period, metric=metric, currency=currency),
                                     fresh=no_cache(request))


def _flows(db, by: str, period: str, metric: str, currency: str) -> dict:
    from hardtech.services.ecosystem import flow_rows

    return {"by": by, "period": period, "metric": metric, "currency": currency,
            "rows": flow_rows(db, by, period, metric, currency)}


def _shift(db, period: str, currency: str) -> dict:
    from hardtech.services.ecosystem import shift_rows

    return {"period": period, "currency": currency, "rows": shift_rows(db, period, currency)}


def _regions(db, level: str, country: str) -> dict:
    from hardtech.services.ecosystem import region_rows

    return {"level": level, "country": country, "rows": region_rows(db, level, country)}


def compare(db, names: tuple[str, ...]) -> dict:
    from hardtech.services.ecosystem import compare_regions

    return compare_regions(db, list(names))


def _clusters(db, min_members: int) -> dict:
    from hardtech.services.ecosystem import cluster_rows

    return {"min_members": min_members, "rows": cluster_rows(db, min_members)}


def _match(db, kind: str, name: str, top: int) -> dict:
    from hardtech.services.ecosystem import match_rows

    return {kind: name, "rows": match_rows(db, kind, name, top)}


@router.get("/rankings", response_class=JSONBytes, summary="R&D rankings")
async def rankings(request: Request, year: Optional[int] = Query(None, ge=1900, le=2100, description="Default: latest year with R&D figures."),
             by: str = Query("rd", max_length=32, description="rd | intensity | growth | cumulative:N"),
             scope: str = Query("world", max_length=100, description="world | country:CN | field:ai | city:Xi'an | private"),
             top: Optional[int] = Query(None, ge=1, le=10_000), currency: Literal["EUR", "CNY", "USD"] = "EUR",
             filters: Filters = Depends(org_filters)):
    """R&D rankings as the EU Scoreboard makes them, each figure with its source; the shared filters narrow the rows."""
    a = await ranking_data(request, year, by, scope, top, currency, filters)
    return JSONBytes(a.value, headers=engine_headers(a.headers()))


@router.get("/flows", response_class=JSONBytes, summary="Capital flows")
async def flows(request: Request, by: Literal["field", "typology", "sector", "region", "stage", "investor"] = "field",
          period: Literal["year", "quarter"] = "year", metric: Literal["amount", "count", "median"] = "amount",
          currency: Literal["USD", "EUR", "CNY"] = "USD"):
    """Funding per group and period; undisclosed amounts are counted, never guessed."""
    a = await flows_data(request, by, period, metric, currency)
    return JSONBytes(a.value, headers=engine_headers(a.headers()))


@router.get("/flows/shift", response_class=JSONBytes, summary="The shift from model innovation to technology")
async def flows_shift(request: Request, period: Literal["year", "quarter"] = "year",
                currency: Literal["USD", "EUR", "CNY"] = "USD"):
    return await _cached(request, ("shift", period, currency), partial(_shift, period=period, currency=currency))


@router.get("/regions", response_class=JSONBytes, summary="Regional ecosystems")
async def regions(request: Request, level: Literal["city", "province"] = "city",
            country: str = Query("CN", min_length=2, max_length=2, pattern="^[A-Za-z]{2}$")):
    """Organisations per field, location quotients, R&D and funding per region."""
    country = country.upper()
    return await _cached(request, ("regions", level, country), partial(_regions, level=level, country=country))


@router.get("/regions/compare", response_class=JSONBytes, summary="Compare regions")
async def regions_compare(request: Request, name: List[str] = Query(..., min_length=2, max_length=8,
                                                             description="Two or more regions: name=西安&name=杭州")):
    """Each region's scorecard (factors with their inputs, or "no data") and which region leads each factor."""
    names = [n.strip() for n in name]
    if any(not n or len(n) > 100 for n in names):
        raise UsageError("each region name must be 1–100 characters")
    return await _cached(request, ("compare", tuple(names)), partial(compare, names=tuple(names)))


@router.get("/regions/clusters", response_class=JSONBytes, summary="Clusters")
async def regions_clusters(request: Request, min_members: int = Query(3, ge=2, le=1000)):
    """Co-located organisations of one field, with the investors they share."""
    return await _cached(request, ("clusters", min_members), partial(_clusters, min_members=min_members))


async def _matches(request: Request, kind: Literal["startup", "investor"], name: str, top: int):
    return await _cached(request, ("match", kind, name, top), partial(_match, kind=kind, name=name, top=top))


@router.get("/match/startups/{org}", response_class=JSONBytes, summary="Investors for a startup")
async def match_startup(request: Request, org: str = Path(..., min_length=1, max_length=200),
                  top: int = Query(10, ge=1, le=100)):
    """Investors ranked for a startup by fields, stage, region, ticket and co-investor network, with reasons."""
    return await _matches(request, "startup", org, top)


@router.get("/match/investors/{investor}", response_class=JSONBytes, summary="Startups for an investor")
async def match_investor(request: Request, investor: str = Path(..., min_length=1, max_length=200),
                   top: int = Query(10, ge=1, le=100)):
    return await _matches(request, "investor", investor, top)
