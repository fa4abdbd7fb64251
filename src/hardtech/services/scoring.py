"""Ranking, STAR and decade services: resolve names, gather inputs from the store, call the analytics."""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path

from hardtech.errors import NotFound, NothingToShow
from hardtech.store.connection import Store


def resolve_org(store: Store, text: str) -> str:
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


def field_table(store: Store):
    """(org_id, field) from the latest saved classification of each organisation, or None."""
    from hardtech.analytics.verdicts import latest_verdicts

    c = latest_verdicts(store.table("classifications"))
    if not int(c.count().execute()):
        return None
    return c.select(org_id=c.entity_id, field=c.fields.unnest()).to_pyarrow()


def rank_rows(db: str | Path, year: int, by: str = "rd", scope: str = "world", top: int | None = None,
              currency: str = "EUR", fx_convention: str = "scoreboard", acfic: bool = False) -> list[dict]:
    from hardtech.analytics.ranking import RankingSpec, rank

    with Store(db, read_only=True) as store:
        spec = RankingSpec(year=year, by=by, scope=scope, top=top, currency=currency, fx_convention=fx_convention,
                           acfic=acfic)
        return rank(store, spec, fields=field_table(store)).to_pylist()


def decade_rows(db: str | Path, org: str, start: int, end: int, currency: str | None = None) -> dict:
    from hardtech.analytics.ranking import decade

    with Store(db, read_only=True) as store:
        return decade(store, resolve_org(store, org), start, end, currency)


def _org_inputs(store: Store, org_ids: list[str] | None):
    import numpy as np
    import pandas as pd

    where = "" if org_ids is None else "WHERE o.org_id IN (SELECT unnest(?))"
    params = [] if org_ids is None else [org_ids]
    orgs = store.con.execute(f"""
        WITH latest AS (
            -- the newest verdict, as analytics.verdicts.latest_verdicts picks it (parameters keep large id lists cheap)
            SELECT entity_id, typology,
                   row_number() OVER (PARTITION BY entity_id ORDER BY classified_at DESC, model_version DESC) AS rn
            FROM classifications WHERE entity_type = 'organization')
        SELECT o.org_id, o.flags, o.industry_codes, l.typology
        FROM organizations o LEFT JOIN latest l ON l.entity_id = o.org_id AND l.rn = 1 {where}
        ORDER BY o.org_id""", params).df()
    from hardtech.store.schema import PATENT_FILING_COLUMNS

    fin = store.con.execute(
        "SELECT org_id, fiscal_year, currency, revenue, rd_expense, rd_staff, employees, invention_patents, "
        + "".join(f"{c}, " for c in PATENT_FILING_COLUMNS)
        + "source_name, imported_at FROM financials " + ("WHERE org_id IN (SELECT unnest(?))" if org_ids is not None else "")
        # rows of one year in `figures.pick_order` (newest import, then source): the STAR test's tie-break
        + " ORDER BY org_id, fiscal_year, imported_at DESC NULLS LAST, source_name NULLS LAST",
        params).df()
    for col in ("flags", "industry_codes"):
        orgs[col] = orgs[col].apply(lambda v: [str(x) for x in v] if isinstance(v, (list, tuple, np.ndarray)) else [])
    return orgs, fin if len(fin) else pd.DataFrame(columns=fin.columns)


def star_result(db: str | Path, org: str, version: str | None = None, year: int | None = None,
                carve_outs: dict | None = None):
    from hardtech.analytics.star import CURRENT_VERSION, evaluate_star

    with Store(db, read_only=True) as store:
        org_id = resolve_org(store, org)
        orgs, fin = _org_inputs(store, [org_id])
    row = orgs.iloc[0].to_dict()  # not attribute access: Series.flags is a pandas attribute
    typology = row["typology"] if isinstance(row["typology"], str) else None
    return evaluate_star(org_id, fin, year=year, version=version or CURRENT_VERSION, flags=row["flags"],
                         industry_codes=row["industry_codes"], typology=typology, carve_outs=carve_outs)


def star_rows(db: str | Path, org: str, version: str | None = None, year: int | None = None,
              reasons: bool = False) -> tuple[dict, list[dict]]:
    """The verdict and one row per indicator and exception; `reasons` adds the keys other languages render."""
    r = star_result(db, org, version, year)
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


def star_results(db: str | Path, org_ids: list[str], version: str | None = None, year: int | None = None):
    """The STAR test's full results (indicators, proxies, notes) for the given organisations."""
    from hardtech.analytics.star import CURRENT_VERSION, evaluate_star_batch

    with Store(db, read_only=True) as store:
        orgs, fin = _org_inputs(store, list(org_ids))
    return evaluate_star_batch(orgs, fin, year=year, version=version or CURRENT_VERSION)


def star_batch_rows(db: str | Path, version: str | None = None, year: int | None = None,
                    kinds: tuple[str, ...] = ("company", "startup"), reasons: bool = False) -> list[dict]:
    """Every company's verdict; `reasons` adds the reasons as keys with their figures (for other languages)."""
    from hardtech.analytics.star import CURRENT_VERSION, evaluate_star_batch

    with Store(db, read_only=True) as store:
        ids = [r[0] for r in store.con.execute(
            "SELECT org_id FROM organizations WHERE kind IN (SELECT unnest(?)) OR kind IS NULL ORDER BY org_id",
            [list(kinds)]).fetchall()]
        if not ids:
            return []
        orgs, fin = _org_inputs(store, ids)
    results = evaluate_star_batch(orgs, fin, year=year, version=version or CURRENT_VERSION)
    return [{"org_id": r.org_id, "year": r.year, "version": r.version, "verdict": r.verdict,
             "decided_by": r.decided_by, **({"reasons": r.reasons} if reasons else {})} for r in results]


def _star_verdicts(store: Store, version: str | None, year: int | None, kinds: tuple[str, ...]):
    """The engine batch (`analytics.star_batch`) over the companies and startups (or `kinds`) of the store."""
    from hardtech.analytics.star_batch import star_verdict_table

    o = store.table("organizations")
    chosen = o.filter(o.kind.isin(list(kinds)) | o.kind.isnull()).select("org_id")
    return star_verdict_table(o, store.table("classifications"), store.table("financials"), chosen,
                              year=year, version=version)


def star_verdict_rows(db: str | Path, version: str | None = None, year: int | None = None,
                      kinds: tuple[str, ...] = ("company", "startup")) -> list[dict]:
    """The STAR verdict (no reasoning) of every company and startup, computed in the engine: what the
    dashboard's filter needs, at any store size."""
    with Store(db, read_only=True) as store:
        return _star_verdicts(store, version, year, kinds).order_by("org_id").to_pyarrow().to_pylist()


def star_verdict_map(db: str | Path, version: str | None = None, year: int | None = None,
                     kinds: tuple[str, ...] = ("company", "startup")) -> dict[str, str]:
    """org_id → STAR verdict, as `star_verdict_rows` without building a dict per row."""
    with Store(db, read_only=True) as store:
        t = _star_verdicts(store, version, year, kinds).select("org_id", "verdict").to_pyarrow()
    return dict(zip(t.column(0).to_pylist(), t.column(1).to_pylist()))


def score_rows(db: str | Path, org: str | None = None, year: int | None = None, weights: str | Path | None = None,
               save: bool = True, where: str | None = None, top: int | None = None) -> list[dict]:
    """Hardness scores over the store (or one organisation); saved with the weights version."""
    from hardtech.analytics.hardness import load_weights, save_scores, score

    w = load_weights(weights) if weights else None
    selected = None
    if where is not None:  # the user's condition runs in the sandbox; its keys are bound by `score`
        from hardtech.store.where import keys_where

        selected = keys_where(db, "o.org_id", "organizations o", where)
    with Store(db, read_only=not save) as store:
        org_ids = [resolve_org(store, org)] if org else None
        if selected is not None:
            org_ids = [o for o in selected if o in org_ids] if org_ids else selected
        df = score(store, year=year, org_ids=org_ids, weights=w)
        if save and len(df):
            save_scores(store, df)
    df = df.sort_values(["year", "score"], ascending=[False, False]) if len(df) else df
    if top:
        df = df.head(top)
    keep = [c for c in ("org_id", "name", "year", "score", "confidence", "percentile_in_field_year", "field",
                        "weights_version") if c in df.columns]
    return df[keep].to_dict(orient="records")


_cohorts_lock = threading.Lock()
_cohorts: OrderedDict = OrderedDict()  # (store fingerprint, year, weights) → indicators of the whole store


def explain_score(db: str | Path, org: str, year: int | None = None, weights: str | Path | None = None) -> dict:
    """The score's parts and inputs. The whole store's indicators for that year are computed once per store
    state and kept (a few entries), so explaining a second organisation costs a lookup, not a recomputation:
    percentiles need the whole cohort either way."""
    from hardtech.analytics.hardness import explain, indicators, load_weights
    from hardtech.services.search import fingerprint

    w = load_weights(weights) if weights else None
    wkey = None
    if weights:
        st = Path(weights).stat()
        wkey = (str(Path(weights).resolve()), st.st_mtime_ns, st.st_size)
    with Store(db, read_only=True) as store:
        def table_for(y: int):
            key = (fingerprint(db), y, wkey)
            with _cohorts_lock:
                if key in _cohorts:
                    _cohorts.move_to_end(key)
                    return _cohorts[key]
                df = indicators(store, year=y, weights=w)
                _cohorts[key] = df
                while len(_cohorts) > 8:
                    _cohorts.popitem(last=False)
                return df

        return explain(store, resolve_org(store, org), year=year, weights=w, table_for=table_for)
