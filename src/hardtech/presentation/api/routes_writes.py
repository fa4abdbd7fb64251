"""Watchlists and imports: the writes, each behind a token and the write side of the store gate."""

from __future__ import annotations

from functools import partial
from typing import Literal, Optional

from fastapi import APIRouter, Body, Depends, File, Path, Query, Request, UploadFile
from pydantic import BaseModel, Field

from hardtech.errors import UsageError
from hardtech.presentation.api.deps import require_writer, state
from hardtech.presentation.api.encode import JSONBytes
from hardtech.presentation.api.uploads import count_rows, saved_upload
from hardtech.services import watchlists as wl
from hardtech.services.store_file import open_file

router = APIRouter(prefix="/api/v1", tags=["watchlists", "imports"])
WRITE_ERRORS = {401: {"description": "no or invalid token"}, 403: {"description": "read-only server"}}

ListName = Path(..., min_length=1, max_length=80, description="Watchlist name.")
OrgId = Path(..., min_length=1, max_length=200, description="`organizations.org_id`.")


class WatchItem(BaseModel):
    note: Optional[str] = Field(None, max_length=wl.MAX_NOTE)


def write(request: Request, fn, touches: str | None = None):
    """fn(store) on a read-write connection to the store (reads go on, on their snapshot), then a fresh snapshot.

    Answers of the previous state are served (marked stale) until recomputed; the profiles that show the
    watchlist `touches` are dropped at once, so the writer sees its change on the next page."""
    st = state(request)
    out = st.write(fn)
    if touches is not None:
        st.answers.drop(lambda key, value: key[0] == "profile" and (
            value[0].get("org_id") == touches or touches in (value[0].get("watchlists") or ())))
    return out


def _watchlists(db) -> list[dict]:
    with open_file(db, read_only=True) as store:
        return wl.watchlist_rows(store)


def _watchlist(db, name: str) -> list[dict]:
    with open_file(db, read_only=True) as store:
        return wl.watchlist_items(store, name)


async def watchlists_data(request: Request) -> list[dict]:
    """Watchlists on the current store state (cheap, so never a stale answer)."""
    return (await state(request).read(("watchlists",), _watchlists, fresh=True)).value


async def watchlist_data(request: Request, name: str) -> list[dict]:
    return (await state(request).read(("watchlist", name), partial(_watchlist, name=name), fresh=True)).value


@router.get("/watchlists", response_class=JSONBytes, summary="Watchlists", tags=["watchlists"])
async def watchlists(request: Request):
    return JSONBytes({"rows": await watchlists_data(request)})


@router.get("/watchlists/{name}", response_class=JSONBytes, summary="One watchlist", tags=["watchlists"])
async def watchlist(request: Request, name: str = ListName):
    return JSONBytes({"name": name, "rows": await watchlist_data(request, name)})


@router.put("/watchlists/{name}/items/{org_id}", response_class=JSONBytes, summary="Add to a watchlist",
            tags=["watchlists"], responses=WRITE_ERRORS)
def watchlist_add(request: Request, name: str = ListName, org_id: str = OrgId,
                  item: Optional[WatchItem] = Body(None), writer: str = Depends(require_writer)):
    """Adds the organisation (creating the list with its first organisation); adding again replaces the note."""
    note = item.note if item else None
    return JSONBytes(write(request, lambda s: wl.add_to_watchlist(s, name, org_id, note, writer), touches=org_id))


@router.delete("/watchlists/{name}/items/{org_id}", response_class=JSONBytes, summary="Remove from a watchlist",
               tags=["watchlists"], responses=WRITE_ERRORS)
def watchlist_remove(request: Request, name: str = ListName, org_id: str = OrgId,
                     writer: str = Depends(require_writer)):
    return JSONBytes(write(request, lambda s: wl.remove_from_watchlist(s, name, org_id), touches=org_id))


@router.delete("/watchlists/{name}", response_class=JSONBytes, summary="Delete a watchlist", tags=["watchlists"],
               responses=WRITE_ERRORS)
def watchlist_delete(request: Request, name: str = ListName, writer: str = Depends(require_writer)):
    return JSONBytes(write(request, lambda s: wl.remove_from_watchlist(s, name), touches=name))


@router.post("/imports/{table}", response_class=JSONBytes, summary="Import a file", tags=["imports"],
             responses={**WRITE_ERRORS, 413: {"description": "file too large or too many rows"}})
def import_upload(request: Request,
                  table: Literal["auto", "organizations", "financials", "patents", "funding_rounds", "investors",
                                 "regions"] = Path(...),
                  file: UploadFile = File(...),
                  mapping: Optional[str] = Query(None, max_length=64, description="Name of a shipped mapping "
                                                                                  "(`hardtech mappings`); never a path."),
                  source: Optional[str] = Query(None, max_length=200, description="Source name recorded on every row."),
                  synthetic: bool = Query(False, description="Flag every row `synthetic` (generated, not real data)."),
                  writer: str = Depends(require_writer)):
    """Validated, idempotent, atomic import, as `hardtech import`; refused rows are listed and kept in `rejects`.
    Runs in the writes worker process, one import at a time; reads go on meanwhile on the previous state."""
    from hardtech.presentation.api.jobs import import_job
    from hardtech.services.data import shipped_mapping_names

    if mapping is not None and mapping not in (names := shipped_mapping_names()):
        raise UsageError(f"unknown mapping {mapping!r}; shipped mappings: {', '.join(names)}")
    if table == "auto" and mapping is None:
        raise UsageError("table `auto` needs a mapping (it imports every table the mapping feeds)")
    st = state(request)
    with saved_upload(file, st.config.max_upload_bytes) as path:
        count_rows(path, st.config.max_upload_rows)
        result = st.write_job(import_job, table, str(path), mapping, source or f"upload by token {writer}",
                              synthetic)
    return JSONBytes(result)
