"""Ranking, STAR and decade services: resolve names, gather inputs from the store, call the analytics."""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path

import ibis

from hardtech.errors import NotFound, NothingToShow
from hardtech.services.opened import is_store, opened


def resolve_org(store, text: str) -> str:
    """An organisation by id, English or Chinese name, or alias (case-insensitive): `analytics.lookup`'s one rule;
    an id merged into another organisation by `hardtech resolve` finds that organisation."""
    from hardtech.analytics.lookup import find

    if not store.count("organizations"):
        raise NothingToShow(f"no organisation {text!r}: the store has no organisations yet; build the demo "
                            "(`hardtech demo`) or import them (`hardtech import organizations FILE`)",
                            key="empty.no_orgs", name=text)
    try:
        return find(store.table("organizations"), text)
    except NotFound:
        redirects = store.table("org_redirects")
        moved = redirects.filter(redirects.from_id == text).select("org_id").to_pyarrow().column(0).to_pylist()
        if moved:
            return moved[0]
        raise


def field_table(store):
    """(org_id, field) from the latest saved classification of each organisation, or None."""
    from hardtech.analytics.verdicts import latest_verdicts

    c = latest_verdicts(store.table("classifications"))
    if not int(c.count().execute()):
        return None
    return c.select(org_id=c.entity_id, field=c.fields.unnest()).to_pyarrow()


def rank_rows(store, year: int, by: str = "rd", scope: str = "world", top: int | None = None,
              currency: str = "EUR", fx_convention: str = "scoreboard", acfic: bool = False) -> list[dict]:
    from hardtech.analytics.ranking import RankingSpec, rank

    with opened(store) as st:
        spec = RankingSpec(year=year, by=by, scope=scope, top=top, currency=currency, fx_convention=fx_convention,
                           acfic=acfic)
        return rank(st, spec, fields=field_table(st)).to_pylist()


def ranking_years(store) -> list[int]:
    """The fiscal years with R&D figures to rank, oldest first (`analytics.ranking.available_years`)."""
    from hardtech.analytics.ranking import available_years

    with opened(store) as st:
        return available_years(st)


def decade_rows(store, org: str, start: int, end: int, currency: str | None = None) -> dict:
    from hardtech.analytics.ranking import decade

    with opened(store) as st:
        return decade(st, resolve_org(st, org), start, end, currency)


def _org_inputs(store, org_ids: list[str] | None = None, kinds: tuple[str, ...] | None = None):
    """(organisations with their newest typology, their financials) as pandas frames, in org_id order.

    `org_ids` selects organisations by id, `kinds` by kind (an organisation of no kind counts as one);
    neither: all of them."""
    import numpy as np
    import pandas as pd

    from hardtech.analytics.verdicts import latest_verdicts
    from hardtech.schema import PATENT_FILING_COLUMNS

    o = store.table("organizations")
    if org_ids is not None:
        o = o.filter(o.org_id.isin(list(org_ids)))
    if kinds is not None:
        o = o.filter(o.kind.isin(list(kinds)) | o.kind.isnull())
    latest = latest_verdicts(store.table("classifications"))
    latest = latest.select(entity_id=latest.entity_id, typology=latest.typology)
    orgs = (o.left_join(latest, o.org_id == latest.entity_id)
            .select("org_id", "flags", "industry_codes", "typology").order_by("org_id").to_pandas())
    f = store.table("financials")
    f = f.filter(f.org_id.isin(o.org_id)) if (org_ids is not None or kinds is not None) else f
    fin = f.select("org_id", "fiscal_year", "currency", "revenue", "rd_expense", "rd_staff", "employees",
                   "invention_patents", *PATENT_FILING_COLUMNS, "source_name", "imported_at")
    # rows of one year in `figures.pick_order` (newest import, then source): the STAR test's tie-break
    fin = fin.order_by(["org_id", "fiscal_year", ibis.desc("imported_at", nulls_first=False),
                        ibis.asc("source_name", nulls_first=False)]).to_pandas()
    for col in ("flags", "industry_codes"):
        orgs[col] = orgs[col].apply(lambda v: [str(x) for x in v] if isinstance(v, (list, tuple, np.ndarray)) else [])
    orgs["typology"] = orgs["typology"].astype(object).where(orgs["typology"].notna(), None)
    return orgs, fin if len(fin) else pd.DataFrame(columns=fin.columns)


def star_result(store, org: str, version: str | None = None, year: int | None = None,
                carve_outs: dict | None = None):
    from hardtech.analytics.star import CURRENT_VERSION, evaluate_star

    with opened(store) as st:
        org_id = resolve_org(st, org)
        orgs, fin = _org_inputs(st, [org_id])
    row = orgs.iloc[0].to_dict()  # not attribute access: Series.flags is a pandas attribute
    typology = row["typology"] if isinstance(row["typology"], str) else None
    return evaluate_star(org_id, fin, year=year, version=version or CURRENT_VERSION, flags=row["flags"],
                         industry_codes=row["industry_codes"], typology=typology, carve_outs=carve_outs)


def star_rules_version() -> str:
    """The STAR rules version in force (the newest in the shipped rules file): what a verdict without one uses."""
    from hardtech.analytics.star import CURRENT_VERSION

    return CURRENT_VERSION


def star_rules(version: str | None = None):
    """The STAR rules of `version` (thresholds, carve-outs) for the text of its reasons; the version in force when
    `version` is None or not in the rules file (a verdict stored under a version since removed still reads)."""
    from hardtech.analytics.star import CURRENT_VERSION, load_star_rules

    rules = load_star_rules()
    return rules.get(version or CURRENT_VERSION) or rules[CURRENT_VERSION]


def star_rows(store, org: str, version: str | None = None, year: int | None = None,
              reasons: bool = False) -> tuple[dict, list[dict]]:
    """The verdict and one row per indicator and exception; `reasons` adds the keys other languages render."""
    r = star_result(store, org, version, year)
    head = {"org_id": r.org_id, "version": r.version, "year": r.year, "verdict": r.verdict, "decided_by": r.decided_by,
            "carve_outs": ", ".join(r.carve_outs_applied), "negative_list": ", ".join(r.negative_list),
            "fx": "; ".join(r.fx), "warnings": "; ".join(r.warnings)}
    if reasons:
        head["reasons"] = r.reasons
    rows = []
    for kind, items in (("indicator", r.indicators), ("exception", r.exceptions)):
        for it in items:
            row = {"kind": kind, "name": it.label or it.name, "value": it.value, "threshold": it.threshold,
                   "passed": it.passed, "note": it.note}
            if reasons:
                row.update(id=it.name, number=it.number, proxy=bool(it.proxy), inputs=it.inputs)
            rows.append(row)
    return head, rows


def star_results(store, org_ids: list[str], version: str | None = None, year: int | None = None):
    """The STAR test's full results (indicators, proxies, notes) for the given organisations."""
    from hardtech.analytics.star import CURRENT_VERSION, evaluate_star_batch

    with opened(store) as st:
        orgs, fin = _org_inputs(st, list(org_ids))
    return evaluate_star_batch(orgs, fin, year=year, version=version or CURRENT_VERSION)


def star_batch_rows(store, version: str | None = None, year: int | None = None,
                    kinds: tuple[str, ...] = ("company", "startup"), reasons: bool = False) -> list[dict]:
    """Every company's verdict; `reasons` adds the reasons as keys with their figures (for other languages)."""
    from hardtech.analytics.star import CURRENT_VERSION, evaluate_star_batch

    with opened(store) as st:
        orgs, fin = _org_inputs(st, kinds=tuple(kinds))
        if not len(orgs):
            return []
    results = evaluate_star_batch(orgs, fin, year=year, version=version or CURRENT_VERSION)
    return [{"org_id": r.org_id, "year": r.year, "version": r.version, "verdict": r.verdict,
             "decided_by": r.decided_by, **({"reasons": r.reasons} if reasons else {})} for r in results]


def _star_verdicts(store, version: str | None, year: int | None, kinds: tuple[str, ...]):
    """The engine batch (`analytics.star_batch`) over the companies and startups (or `kinds`) of the store."""
    from hardtech.analytics.star_batch import star_verdict_table

    o = store.table("organizations")
    chosen = o.filter(o.kind.isin(list(kinds)) | o.kind.isnull())  # a filter, not a semi-join of the table to itself
    return star_verdict_table(chosen, store.table("classifications"), store.table("financials"),
                              year=year, version=version)


def star_verdict_rows(store, version: str | None = None, year: int | None = None,
                      kinds: tuple[str, ...] = ("company", "startup")) -> list[dict]:
    """The STAR verdict (no reasoning) of every company and startup, computed in the engine: what the
    dashboard's filter needs, at any store size."""
    with opened(store) as st:
        return _star_verdicts(st, version, year, kinds).order_by("org_id").to_pyarrow().to_pylist()


def star_verdict_pairs(store, version: str | None = None, year: int | None = None,
                       kinds: tuple[str, ...] = ("company", "startup")):
    """(org_id, verdict) of every company and startup as an Arrow table, computed in the engine: what the
    search's STAR filter joins (`services.search`), without a Python object per organisation."""
    with opened(store) as st:
        return _star_verdicts(st, version, year, kinds).select("org_id", "verdict").to_pyarrow()


def score_rows(store, org: str | None = None, year: int | None = None, weights: str | Path | None = None,
               save: bool | None = True, where: str | None = None, top: int | None = None) -> list[dict]:
    """Hardness scores over the store (or one organisation); saved with the weights version.

    `save=None`: saved when the engine writes (DuckDB), computed only on one that reads (Spark)."""
    import ibis

    from hardtech.analytics.engine import kept
    from hardtech.analytics.hardness import load_weights, save_score_table, score_table
    from hardtech.analytics.hardness.scoring import SCORE_COLUMNS, _frame, score_columns
    from hardtech.analytics.hardness.weights import _resolve_weights
    from hardtech.store.engine import capabilities
    from hardtech.store.list_lambdas import arrow_lambdas

    if save is None:
        save = capabilities(store).writes if is_store(store) else True
    w = _resolve_weights(load_weights(weights) if weights else None)
    selected = None
    if where is not None:  # the user's condition runs in the sandbox; its keys are bound by `score`
        selected = _where_keys(store, "o.org_id", "organizations o", where)
    shown_columns = [c for c in SCORE_COLUMNS if c != "warnings"]
    with opened(store, read_only=not save, task="saving scores") as st:
        org_ids = [resolve_org(st, org)] if org else None
        if selected is not None:
            org_ids = [o for o in selected if o in org_ids] if org_ids else selected
        # computed once in the engine (kept where it keeps), saved from there, and only the rows shown come back
        with kept() as keeping:
            expr = score_table(st, year=year, org_ids=org_ids, weights=w, keep=keeping).select(*score_columns())
            with arrow_lambdas(expr):
                t = keeping(expr)
            if save:
                save_score_table(st, t, w)
            shown = t.select(*shown_columns).order_by([ibis.desc("year"), ibis.desc("score"), "org_id"])
            if top:
                shown = shown.limit(top)
            df = _frame(shown.to_pyarrow(), shown_columns, w)
    return df.to_dict(orient="records")


def _where_keys(store, key: str, source: str, where: str) -> list:
    """The keys a user's `--where` selects: DuckDB SQL, run in the store's sandbox (DuckDB engine only)."""
    from hardtech.store.engine import require
    from hardtech.store.where import keys_where

    if is_store(store):
        require(store, "duckdb_sql", "--where")
        store = store.path
    return keys_where(store, key, source, where)


_cohorts_lock = threading.Lock()
_cohorts: OrderedDict = OrderedDict()  # (store fingerprint, year, weights) → indicators of the whole store


def explain_score(store, org: str, year: int | None = None, weights: str | Path | None = None) -> dict:
    """The score's parts and inputs. The whole store's indicators for that year are computed once per store
    state and kept (a few entries), so explaining a second organisation costs a lookup, not a recomputation:
    percentiles need the whole cohort either way."""
    from hardtech.analytics.hardness import explain, indicators, load_weights
    from hardtech.store.engine import state_key

    w = load_weights(weights) if weights else None
    wkey = None
    if weights:
        st = Path(weights).stat()
        wkey = (str(Path(weights).resolve()), st.st_mtime_ns, st.st_size)
    with opened(store) as st:
        def table_for(y: int):
            key = (state_key(st), y, wkey)
            with _cohorts_lock:
                if key in _cohorts:
                    _cohorts.move_to_end(key)
                    return _cohorts[key]
                df = indicators(st, year=y, weights=w)
                _cohorts[key] = df
                while len(_cohorts) > 8:
                    _cohorts.popitem(last=False)
                return df

        return explain(st, resolve_org(st, org), year=year, weights=w, table_for=table_for)
