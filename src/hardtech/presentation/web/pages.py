"""Dashboard pages: each reads the same cached service calls as the API and renders one Jinja2 template.

Why autoescape everywhere: organisation names, descriptions and uploaded applicants are data from
outside; Jinja2's environment is created with `autoescape=True` so every value is escaped in HTML,
chart data goes through `tojson` (which escapes `<`, `>`, `&`, `'`), and no page has an inline script
(the Content-Security-Policy forbids them).
Why the language in the query string and a cookie: a shared link (`?lang=zh`) opens in the language
it was sent in, and the choice sticks while the analyst browses.
"""

from __future__ import annotations

from dataclasses import fields, replace
from functools import lru_cache, partial
from typing import Any, Optional
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, FastAPI, File, Form, Path, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from hardtech.errors import HardtechError
from hardtech.presentation.api.deps import no_cache, require_writer, state
from hardtech.presentation.api.errors import ApiProblem, scrub_paths, status_of
from hardtech.presentation.api.pool import Busy
from hardtech.presentation.markup import code_spans
from hardtech.presentation.web import charts
from hardtech.presentation.web.i18n import LANGS, translator
from hardtech.services import search
from hardtech.services.search import Filters

router = APIRouter(include_in_schema=False)


class PageProblem(ApiProblem):
    """A refusal whose detail is already written in the page's language (from i18n.json)."""

    translated = True
FILTER_KEYS = tuple(f.name for f in fields(Filters))


@lru_cache(maxsize=1)
def env():
    from jinja2 import Environment, PackageLoader, StrictUndefined

    e = Environment(loader=PackageLoader("hardtech.presentation.web", "templates"), autoescape=True,
                    undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    e.filters["num"] = _num
    e.filters["input"] = _input
    e.filters["codes"] = code_spans
    return e


def _input(v: Any, key: str) -> str:
    """An indicator input: years and counts as written (2014, not 2,014.000), amounts with separators."""
    if isinstance(v, (int, float)) and not isinstance(v, bool) and float(v).is_integer() and (
            "year" in key or key in ("founded", "window_start") or key.endswith("_n")):
        return str(int(v))
    if isinstance(v, float) and v.is_integer():
        return _num(int(v))
    return _num(v, 3)


def _num(v: Any, digits: int = 1) -> str:
    if v is None:
        return "—"
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, (int, float)):
        if abs(v) >= 1e6:
            return f"{v:,.0f}"
        return f"{v:,.{digits}f}" if isinstance(v, float) else f"{v:,}"
    return str(v)


def language(request: Request) -> str:
    lang = request.query_params.get("lang") or request.cookies.get("lang") or "en"
    return lang if lang in LANGS else "en"


async def page_places(request: Request) -> dict[str, str]:
    """English place names → Chinese for a Chinese page (empty for English), once per store state."""
    from hardtech.presentation.labels import place_names

    if language(request) != "zh":
        return {}
    return (await state(request).read(("places",), place_names, fresh=no_cache(request))).value


def render(request: Request, template: str, status: int = 200, places: dict[str, str] | None = None,
           **ctx) -> HTMLResponse:
    from hardtech.presentation.labels import Labels

    lang = language(request)
    st = state(request)
    params = dict(request.query_params)
    L = Labels(lang)

    def url(path: str, **changes) -> str:
        # the path percent-encoded too: it carries ids users import as free text ('?', '#', quotes, spaces)
        q = {k: v for k, v in changes.items() if v not in (None, "")}
        return quote(path, safe="/") + ("?" + urlencode(q, doseq=True) if q else "")

    def here(**changes) -> str:
        q = {**params, **changes}
        return url(request.url.path, **q)

    html = env().get_template(template).render(
        t=translator(lang), lang=lang, url=url, here=here, read_only=st.config.read_only,
        other_lang="zh" if lang == "en" else "en", path=request.url.path, L=L,
        place=lambda name: L.place(name, places), group=lambda by, v: L.group(by, v, places),
        fields=lambda ids: L.join(L.field(x) for x in ids or () if x), **ctx)
    resp = HTMLResponse(html, status_code=status)
    if request.query_params.get("lang") in LANGS:
        resp.set_cookie("lang", lang, max_age=365 * 86400, samesite="lax", httponly=True)
    return resp


async def page_filters(request: Request) -> Filters:
    """The shared filters from a page's query string, where an HTML form sends empty fields as `x=`."""
    from hardtech.errors import UsageError

    q = request.query_params
    values: dict[str, Any] = {k: (q.get(k) or None) for k in FILTER_KEYS}
    for k in ("score_min", "score_max"):
        if values[k] is not None:
            try:
                values[k] = float(values[k])
            except ValueError:
                raise UsageError(f"{k} must be a number within 0..100, got {values[k]!r}") from None
    return Filters(**values).validated()


def _choices() -> dict:
    from hardtech.schema import ORG_KINDS

    return {"fields": search.field_choices(), "typologies": search.typology_choices(), "kinds": ORG_KINDS,
            "stars": search.STAR_VERDICTS}


# --------------------------------------------------------------------------- pages


@router.get("/", response_class=HTMLResponse)
async def landscape(request: Request, filters: Filters = Depends(page_filters)):
    from hardtech.presentation.api.routes_orgs import aggregate_data

    from hardtech.presentation.labels import Labels

    lang = language(request)
    t, L = translator(lang), Labels(lang)
    places = await page_places(request)
    agg = {by: [{**r, "label": L.group(by, r["group"], places)}
                for r in (await aggregate_data(request, by, filters)).value] for by in ("field", "typology", "city")}
    specs = {
        "fields": charts.bars(agg["field"], "label", "organisations", t("by_field"), value_title=t("organisations"),
                              category_title=t("filter_field")),
        "typology": charts.bars(agg["typology"], "label", "organisations", t("by_typology"),
                                value_title=t("organisations"), category_title=t("filter_typology")),
        "cities": charts.bars(agg["city"][:15], "label", "organisations", t("by_city"), value_title=t("organisations"),
                              category_title=t("filter_city")),
    }
    return render(request, "landscape.html", filters=filters.active(), choices=_choices(), specs=specs,
                  agg=agg, places=places)


@router.get("/search", response_class=HTMLResponse)
async def search_page(request: Request, filters: Filters = Depends(page_filters),
                      sort: str = Query("-score"), page: int = Query(1, ge=1, le=100_000)):
    st = state(request)
    size = 25
    res = (await st.read(("orgs-page", filters, sort, page),
                         partial(search.search_orgs, filters=filters, sort=sort, limit=size, offset=(page - 1) * size,
                                 with_star=False),
                         fresh=no_cache(request))).value
    pages = max(1, -(-res["total"] // size))
    return render(request, "search.html", filters=filters.active(), choices=_choices(), res=res, page=page,
                  pages=pages, sort=sort, places=await page_places(request))


@router.get("/org/{org_id}", response_class=HTMLResponse)
async def org_page(request: Request, org_id: str):
    from hardtech.presentation.api.routes_orgs import profile_data

    from hardtech.presentation.labels import Labels
    from hardtech.presentation.star_text import reasons_text
    from hardtech.presentation.web import texts

    p = (await profile_data(request, org_id)).value[0]
    lang = language(request)
    t, L = translator(lang), Labels(lang)
    spec, parts, star, why = None, [], [], ""
    if p["hardness"].get("available"):
        parts = texts.hardness_parts(t, L, p["hardness"]["parts"])
        spec = charts.contributions(parts, t("score_explanation"), t("points"), t("indicator"))
    s = p["star"]
    if s.get("available"):
        carve = (s.get("reasons") or [{}])[0].get("carve_outs") or ()
        star = texts.star_details(L, s["details"], s.get("version"), carve)
        why = reasons_text(L, s.get("reasons"), s.get("version"), fallback=s.get("decided_by") or "", year=s.get("year"))
    return render(request, "org.html", p=p, o=p["organization"], spec=spec, parts=parts, star=star, why=why,
                  places=await page_places(request))


@router.get("/rankings", response_class=HTMLResponse)
async def rankings_page(request: Request, filters: Filters = Depends(page_filters),
                        year: Optional[int] = Query(None, ge=1900, le=2100), by: str = Query("rd", max_length=32),
                        scope: str = Query("world", max_length=100)):
    from hardtech.presentation.api.routes_analytics import ranking_data

    from hardtech.presentation.labels import Labels

    data = (await ranking_data(request, year, by, scope, 50, "EUR", filters)).value
    lang = language(request)
    t, L = translator(lang), Labels(lang)
    what = L("rank_by", by)
    spec = charts.bars([{"name": r.get("name") or r.get("org_id"), "value": r.get("value")} for r in data["rows"][:20]
                        if r.get("value") is not None], "name", "value", f"{t('rankings_title')} {data['year']}",
                       value_title=what + (" (EUR)" if by == "rd" else " (%)" if by != "rd" else ""),
                       category_title=t("col_name"))
    return render(request, "rankings.html", data=data, filters=filters.active(), choices=_choices(), spec=spec,
                  by=by, scope=scope)


@router.get("/regions", response_class=HTMLResponse)
async def regions_page(request: Request, name: list[str] = Query(["西安", "杭州"], max_length=8)):
    from hardtech.presentation.api.routes_analytics import compare

    st = state(request)
    names = [n.strip() for n in name if n.strip()][:8]
    if len(names) < 2:
        raise PageProblem(422, translator(language(request))("regions_need_two"))
    d = (await st.read(("compare", tuple(names)), partial(compare, names=tuple(names)),
                       fresh=no_cache(request))).value
    rows = []
    for f in d.get("leaders", {}):
        cells = []
        label = f
        for n in names:
            fac = d["regions"].get(n, {}).get("factors", {}).get(f, {})
            label = fac.get("label") or label
            cells.append({"value": fac.get("value"), "inputs": fac.get("inputs"), "status": fac.get("status")})
        rows.append({"factor": f, "label": label, "cells": cells, "leads": d["leaders"][f]})
    cards = [{"name": n, **d["regions"].get(n, {})} for n in names]
    lang = language(request)
    for c in cards:
        reg = c.get("region") or {}
        c["shown"] = (reg.get("name_zh") if lang == "zh" else reg.get("name_en")) or c["name"]
    shown = {c["name"]: c["shown"] for c in cards}
    for r in rows:
        r["leads_shown"] = shown.get(r["leads"], r["leads"]) if r["leads"] else None
    return render(request, "regions.html", names=names, rows=rows, cards=cards)


@router.get("/flows", response_class=HTMLResponse)
async def flows_page(request: Request, by: str = Query("field", pattern="^(field|typology|sector|region|stage)$")):
    from hardtech.presentation.api.routes_analytics import flows_data

    from hardtech.presentation.labels import Labels
    from hardtech.presentation.web.texts import flow_note

    lang = language(request)
    t, L = translator(lang), Labels(lang)
    places = await page_places(request)
    rows = [{**r, "label": L.group(by, r["group"], places), "note_shown": flow_note(t, r.get("note"))}
            for r in (await flows_data(request, by, "year", "amount", "USD")).value["rows"]]
    spec = charts.stacked_periods(rows, t("flows_title"), t("amount_usd"), t("col_year"),
                                  L("flows_by", by)) if rows else None
    return render(request, "flows.html", rows=rows, spec=spec, by=by)


@router.get("/screening", response_class=HTMLResponse)
def screening_form(request: Request):
    return render(request, "screening.html", result=None, rid=None, error=None, error_kind=None)


@router.get("/screening/{rid}", response_class=HTMLResponse)
def screening_result(request: Request, rid: str = Path(..., min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")):
    """The shortlist of a recent upload (the upload answers with a redirect here)."""
    result = state(request).screenings.get(rid)
    if result is None:
        raise PageProblem(404, translator(language(request))("no_such_screening"))
    return render(request, "screening.html", result=_with_reasons(request, result), rid=rid, error=None,
                  error_kind=None)


def _with_reasons(request: Request, result: dict) -> dict:
    """The shortlist with each applicant's reasons written in the page's language (presentation/web/texts.py)."""
    from hardtech.presentation.labels import Labels
    from hardtech.presentation.web.texts import screening_reasons

    lang = language(request)
    t, L = translator(lang), Labels(lang)
    rows = [{**r, "reasons_shown": screening_reasons(t, L, r)} for r in result.rows]
    return replace(result, rows=rows)  # a ScreenResult (analytics/screening.py); the kept one unchanged


# The forms below are sent by app.js with the token in the `Authorization` header (a token is never read
# from a form field or the URL); submitted without JavaScript they arrive without one and get a 401 page.


@router.post("/screening", response_class=HTMLResponse)
async def screening_upload(request: Request, file: UploadFile = File(...)):
    from hardtech.presentation.api.routes_screening import run_screening

    def check_and_screen():  # the token check and the upload are blocking: off the event loop
        require_writer(request)
        return run_screening(request, file)

    try:
        rid, _ = await run_in_threadpool(check_and_screen)
    except (ApiProblem, HardtechError, Busy) as exc:
        code = exc.status if isinstance(exc, ApiProblem) else 429 if isinstance(exc, Busy) else status_of(exc)
        detail = exc.detail if isinstance(exc, ApiProblem) else str(exc)
        return render(request, "screening.html", status=code, result=None, rid=None, error=scrub_paths(detail),
                      error_kind=_error_kind(code))
    return RedirectResponse(f"/screening/{rid}", status_code=303)


@router.get("/watchlists", response_class=HTMLResponse)
async def watchlists_page(request: Request):
    from hardtech.presentation.api.routes_writes import watchlists_data

    return render(request, "watchlists.html", lists=await watchlists_data(request), name=None, items=None)


@router.get("/watchlists/{name}", response_class=HTMLResponse)
async def watchlist_page(request: Request, name: str):
    from hardtech.presentation.api.routes_writes import watchlist_data, watchlists_data

    return render(request, "watchlists.html", lists=await watchlists_data(request), name=name,
                  items=await watchlist_data(request, name))


@router.post("/org/{org_id}/watch")
def watch(request: Request, org_id: str, name: str = Form(..., max_length=80), note: str = Form("", max_length=2000)):
    from hardtech.presentation.api.routes_writes import write
    from hardtech.services import watchlists as wl

    writer = require_writer(request)
    write(request, lambda s: wl.add_to_watchlist(s, name, org_id, note or None, writer), touches=org_id)
    return RedirectResponse(f"/watchlists/{_quote(wl.check_name(name))}", status_code=303)


@router.post("/watchlists/{name}/remove/{org_id}")
def unwatch(request: Request, name: str, org_id: str):
    from hardtech.presentation.api.routes_writes import write
    from hardtech.services import watchlists as wl

    require_writer(request)
    write(request, lambda s: wl.remove_from_watchlist(s, name, org_id), touches=org_id)
    return RedirectResponse("/watchlists", status_code=303)


def _quote(s: str) -> str:
    from urllib.parse import quote

    return quote(s, safe="")


@router.get("/static/vega.js")
async def vega_js(request: Request):
    from hardtech.presentation.web.vega import bundle

    js, etag = await run_in_threadpool(bundle)
    if request.headers.get("if-none-match") == f'"{etag}"':
        return Response(status_code=304)
    return Response(js, media_type="text/javascript; charset=utf-8",
                    headers={"ETag": f'"{etag}"', "Cache-Control": "public, max-age=86400"})


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith(("/api/", "/openapi", "/docs", "/redoc", "/health", "/static/"))


def install(app: FastAPI) -> None:
    from importlib import resources

    from hardtech.presentation.web.vega import warm

    app.include_router(router)
    app.mount("/static", StaticFiles(directory=str(resources.files("hardtech.presentation.web") / "static")),
              name="static")
    warm()
    # dashboard pages answer errors with a page; the API keeps its JSON problems
    api_handlers = dict(app.exception_handlers)

    async def page_error(request: Request, exc: Exception):
        if not _wants_html(request):
            return await api_handlers[_base(exc, api_handlers)](request, exc)
        if isinstance(exc, ApiProblem):
            code, detail = exc.status, exc.detail
        elif isinstance(exc, Busy):
            code, detail = 429, str(exc)
        elif isinstance(exc, HardtechError):
            code, detail = status_of(exc), str(exc)
        elif hasattr(exc, "errors"):
            code = 422
            detail = "; ".join(f"{'.'.join(map(str, e.get('loc', ())))}: {e.get('msg')}" for e in exc.errors())
        elif hasattr(exc, "status_code"):
            code, detail = exc.status_code, str(getattr(exc, "detail", ""))
        else:
            code, detail = 500, ""
        resp = render(request, "error.html", status=code, code=code, detail=scrub_paths(detail),
                      kind=_error_kind(code), translated=getattr(exc, "translated", False))
        if isinstance(exc, Busy):
            resp.headers["Retry-After"] = str(exc.retry_after)
        return resp

    for exc_type in list(api_handlers):
        app.add_exception_handler(exc_type, page_error)


def _error_kind(code: int) -> str:
    """The i18n key that says in the page's language what went wrong (the detail may be the library's English)."""
    return f"err_{code}" if code in (400, 401, 403, 404, 409, 413, 415, 422, 429, 500, 503) else "err_other"


def _base(exc: Exception, handlers: dict):
    for cls in type(exc).__mro__:
        if cls in handlers:
            return cls
    return Exception
