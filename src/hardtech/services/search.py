"""Organisation search, aggregates and profiles over the store: what the REST API and dashboard show.

Why one `Filters` value: the entity list, the aggregates and the rankings must select the same
organisations for the same query string, so the filter is parsed and validated once and turned
into one Ibis condition on one table of organisations (`analytics.org_search`; values are literals,
no user text is ever pasted into SQL), which runs on the store's engine, DuckDB or Spark.
Why the STAR verdict is computed on demand: it is not stored, and evaluating every company costs
a second on the demo store, so it is only computed (and cached per store state) when a request
filters or groups by it.
"""

from __future__ import annotations

import json
import math
import threading
from collections import OrderedDict
from dataclasses import asdict, dataclass, fields
from functools import lru_cache
from typing import Any

import ibis

from hardtech.analytics.org_search import GROUPS  # the groupings an aggregate offers (re-exported)
from hardtech.errors import HardtechError, NotFound, UsageError
from hardtech.services.opened import opened, state_key
from hardtech.store.list_lambdas import arrow_lambdas
from hardtech.store.snapshot import fingerprint  # the key of every per-store cache (re-exported)

STAR_VERDICTS = ("sci-tech", "not sci-tech", "restricted", "prohibited", "insufficient data")
STAR_ALIASES = {"pass": "sci-tech", "fail": "not sci-tech", "unknown": "insufficient data"}
SORTS = ("score", "-score", "name", "-name", "founded", "-founded", "org_id")
MAX_LIMIT = 200


@dataclass(frozen=True)
class Filters:
    """One filter syntax for entity and aggregate queries (the query string of the API and dashboard)."""

    field: str | None = None
    typology: str | None = None
    country: str | None = None
    city: str | None = None
    kind: str | None = None
    score_min: float | None = None
    score_max: float | None = None
    star: str | None = None
    q: str | None = None

    def validated(self) -> "Filters":
        """Normalised copy, or UsageError naming the parameter that is wrong and what it may be.

        Remembered per value (a frozen dataclass): the server validates the same few filters on every
        request, and looking the taxonomy up cost ~1 ms each time."""
        return _validated(self)

    def _validate(self) -> "Filters":
        from hardtech.analytics.taxonomy import load_taxonomy
        from hardtech.schema import ORG_KINDS

        tax = load_taxonomy()
        clean = {k: (v.strip() if isinstance(v, str) else v) for k, v in asdict(self).items()}
        clean = {k: (None if v == "" else v) for k, v in clean.items()}
        if clean["field"] is not None and clean["field"] not in tax.fields:
            raise UsageError(f"unknown field {clean['field']!r}; fields are: {', '.join(tax.fields)}")
        if clean["typology"] is not None and clean["typology"] not in tax.typology:
            raise UsageError(f"unknown typology {clean['typology']!r}; classes are: {', '.join(tax.typology)}")
        if clean["kind"] is not None and clean["kind"] not in ORG_KINDS:
            raise UsageError(f"unknown kind {clean['kind']!r}; kinds are: {', '.join(ORG_KINDS)}")
        if clean["country"] is not None:
            c = clean["country"].upper()
            if len(c) != 2 or not c.isalpha() or not c.isascii():
                raise UsageError(f"country {clean['country']!r} is not an ISO 3166-1 alpha-2 code such as CN or US")
            clean["country"] = c
        for k in ("score_min", "score_max"):
            v = clean[k]
            if v is not None and (not isinstance(v, (int, float)) or not math.isfinite(v) or not 0 <= v <= 100):
                raise UsageError(f"{k} must be a number within 0..100, got {v!r}")
        if clean["score_min"] is not None and clean["score_max"] is not None and clean["score_min"] > clean["score_max"]:
            raise UsageError(f"score_min {clean['score_min']} is above score_max {clean['score_max']}")
        if clean["star"] is not None:
            s = STAR_ALIASES.get(clean["star"].lower(), clean["star"].lower())
            if s not in STAR_VERDICTS:
                raise UsageError(f"unknown STAR verdict {clean['star']!r}; use one of: "
                                 f"{', '.join(STAR_VERDICTS)} (or pass, fail, unknown)")
            clean["star"] = s
        for k in ("q", "city"):
            if clean[k] is not None and len(clean[k]) > 200:
                raise UsageError(f"{k} is {len(clean[k])} characters long; at most 200")
        return Filters(**clean)

    def active(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None}


@lru_cache(maxsize=4096)
def _validated(f: Filters) -> Filters:
    return f._validate()


# --------------------------------------------------------------------------- store state


_star_lock = threading.Lock()
_star_cache: OrderedDict[tuple, Any] = OrderedDict()
STAR_STATES = 2  # the current store state and the one before (or the same data on two engines)


def _star_table(store):
    """(org_id, verdict) of every company and startup (current rules) as an Arrow table, computed in the engine
    (`analytics.star_batch`) once per store state: it costs most of a second on the demo store."""
    key = state_key(store)
    with _star_lock:
        if key in _star_cache:
            _star_cache.move_to_end(key)
        else:
            from hardtech.services.scoring import star_verdict_pairs

            _star_cache[key] = star_verdict_pairs(store)
            while len(_star_cache) > STAR_STATES:
                _star_cache.popitem(last=False)
        return _star_cache[key]


def star_verdicts(store) -> dict[str, str]:
    """org_id → STAR verdict (current rules) for every company and startup, cached per store state."""
    with opened(store) as st:
        t = _star_table(st)
    return dict(zip(t.column(0).to_pylist(), t.column(1).to_pylist()))


# --------------------------------------------------------------------------- the engine's expressions


def _selected(store, f: Filters, need_star: bool):
    """The organisations the validated filters select, as one expression on the store's engine."""
    from hardtech.analytics.org_search import matching, org_rows

    star = ibis.memtable(_star_table(store)) if need_star else None
    rows = org_rows(store.table("organizations"), store.table("classifications"), store.table("scores"), star)
    return matching(rows, f.active(), store.table("regions") if f.city is not None else None)


def _engine_rows(expr) -> list[dict]:
    with arrow_lambdas(expr):
        return expr.to_pyarrow().to_pylist()


def _scalar(expr):
    with arrow_lambdas(expr):
        return expr.execute()


def search_orgs(store, filters: Filters = Filters(), sort: str = "-score", limit: int = 25,
                offset: int = 0, with_star: bool = False) -> dict:
    """A page of organisations matching the filters, with the total, in a stable order.

    `store`: an opened store on any engine, or a DuckDB path opened for the call."""
    from hardtech.analytics.org_search import TOTAL, page_with_total

    f = filters.validated()
    if sort not in SORTS:
        raise UsageError(f"unknown sort {sort!r}; use one of: {', '.join(SORTS)}")
    if not 1 <= int(limit) <= MAX_LIMIT:
        raise UsageError(f"limit must be within 1..{MAX_LIMIT}, got {limit}")
    if int(offset) < 0:
        raise UsageError(f"offset must be 0 or more, got {offset}")
    with opened(store) as st:
        t = _selected(st, f, with_star or f.star is not None)
        items = _engine_rows(page_with_total(t, sort, int(limit), int(offset)))
        total = items[0][TOTAL] if items else _scalar(t.count())
    for r in items:
        del r[TOTAL]
    return {"total": int(total), "limit": int(limit), "offset": int(offset), "sort": sort, "filters": f.active(),
            "items": items}


def matching_ids(store, filters: Filters) -> set[str] | None:
    """The org_ids a filter selects, or None when no filter is set (everything)."""
    f = filters.validated()
    if not f.active():
        return None
    with opened(store) as st:
        t = _selected(st, f, f.star is not None).select("org_id")
        with arrow_lambdas(t):
            return set(t.to_pyarrow().column(0).to_pylist())


def aggregate_orgs(store, by: str = "field", filters: Filters = Filters()) -> list[dict]:
    """Counts (and mean hardness score) of the filtered organisations per field, typology, city, country, kind or STAR verdict.

    A multi-field organisation counts once in each of its fields, as the landscape reports do.
    """
    from hardtech.analytics.org_search import groups

    f = filters.validated()
    if by not in GROUPS:
        raise UsageError(f"cannot group by {by!r}; use one of: {', '.join(GROUPS)}")
    with opened(store) as st:
        rows = _engine_rows(groups(_selected(st, f, by == "star" or f.star is not None), by))
    for r in rows:
        r["by"] = by
    return rows


# --------------------------------------------------------------------------- profile


def _json_or(v: Any, default: Any) -> Any:
    if not v:
        return default
    try:
        return json.loads(v)
    except (TypeError, ValueError):
        return default


def _rows(expr) -> list[dict]:
    return expr.to_pyarrow().to_pylist()


PROFILE_FINANCIALS = ("fiscal_year", "currency", "revenue", "rd_expense", "rd_staff", "employees", "capex",
                      "operating_profit", "invention_patents", "note", "source_name", "source_file", "source_line",
                      "synthetic")


def org_profile(store, org: str) -> dict:
    """Everything the profile page shows: identity, classification with evidence, the hardness score with
    its parts and inputs, the STAR result, financials with their sources, and the watchlists it is on.

    `store` is an opened store on any engine (or a DuckDB path, opened for the call): every question is Ibis,
    so the profile runs on Spark too (tests/test_parity.py `test_org_profile`). Sorts name their nulls (last,
    as DuckDB's default) because Spark sorts nulls first."""
    from hardtech.analytics.verdicts import latest_verdicts
    from hardtech.schema import ORGANIZATIONS
    from hardtech.services.opened import opened
    from hardtech.services.scoring import explain_score, resolve_org, star_rows

    with opened(store) as st:
        org_id = resolve_org(st, org)
        orgs = st.table("organizations")
        org_row = _rows(orgs.filter(orgs.org_id == org_id).select(*ORGANIZATIONS.names).limit(1))[0]
        mine = st.table("classifications")
        c = latest_verdicts(mine.filter(mine.entity_id == org_id))
        cls = _rows(c.select("model_version", "top_field", "fields", "field_probabilities", "typology",
                             "typology_probabilities", "trl", "evidence", "insufficient", "classified_at"))
        f = st.table("financials")
        fin = _rows(f.filter(f.org_id == org_id).select(*PROFILE_FINANCIALS)
                    .order_by([ibis.asc("fiscal_year", nulls_first=False), ibis.asc("source_name", nulls_first=False)]))
        w = st.table("watchlists")
        lists = sorted(r["name"] for r in _rows(w.filter(w.org_id == org_id).select("name").distinct()))
        try:
            score = {"available": True, **explain_score(st, org_id)}
        except HardtechError as exc:
            score = {"available": False, "reason": str(exc)}
        if org_row.get("kind") in ("company", "startup", None):
            try:
                head, rows = star_rows(st, org_id, reasons=True)
                star = {"available": True, **head, "details": rows}
            except HardtechError as exc:
                star = {"available": False, "reason": str(exc)}
        else:
            star = {"available": False, "reason": f"the STAR test applies to companies, not to a {org_row['kind']}"}
    classification = None
    if cls:
        c = cls[0]
        probs = _json_or(c.pop("field_probabilities"), {})
        tprobs = _json_or(c.pop("typology_probabilities"), {})
        c["field_probabilities"] = [{"field": k, "probability": v, "selected": k in (c["fields"] or [])}
                                    for k, v in sorted(probs.items(), key=lambda kv: -kv[1])]
        c["typology_probabilities"] = [{"typology": k, "probability": v}
                                       for k, v in sorted(tprobs.items(), key=lambda kv: -kv[1])]
        classification = c
    return {"org_id": org_id, "organization": org_row, "classification": classification,
            "hardness": score, "star": star, "financials": fin, "watchlists": lists}


def field_choices() -> list[dict]:
    from hardtech.analytics.taxonomy import load_taxonomy

    tax = load_taxonomy()
    return [{"id": f.id, "name_en": f.name_en, "name_zh": f.name_zh} for f in tax.fields.values()]


def typology_choices() -> list[dict]:
    from hardtech.analytics.taxonomy import load_taxonomy

    tax = load_taxonomy()
    return [{"id": t.id, "name_en": t.name_en, "name_zh": t.name_zh} for t in tax.typology.values()]


__all__ = ["Filters", "search_orgs", "aggregate_orgs", "org_profile", "matching_ids", "star_verdicts",
           "fingerprint", "NotFound"]
