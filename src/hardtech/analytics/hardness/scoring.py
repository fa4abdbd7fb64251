"""The hardness score's public functions: score, indicators, explain, save_scores.

Why a thin module: it checks what it is asked (organisations, year, weights), chains phase 1
(`raw_indicators.py`) and phase 2 (`weighting.py`) into one engine expression (`score_table`), and
shapes the answer; the rules live in those two, so the whole store's scores and the explanation of
one organisation are the same expression.
"""

from __future__ import annotations

import datetime as dt
import math

import ibis
import ibis.expr.types as ir
import pandas as pd
import pyarrow as pa

from hardtech.analytics.engine import kept
from hardtech.store.list_lambdas import arrow_lambdas
from hardtech.analytics.lookup import missing as not_there
from hardtech.errors import NotFound, NothingToShow, UsageError
from hardtech.analytics.hardness.weights import INDICATORS, _resolve_weights
from hardtech.analytics.hardness.raw_indicators import INPUTS, _phase1, _tables, _years_text
from hardtech.analytics.hardness.weighting import MIN_PERCENTILE_COHORT, _frame, weigh

SCORE_COLUMNS = ("org_id", "name", "year", "score", "confidence", "percentile_in_field_year", "field",
                 "weights_version", "warnings")
# =============================================================================== public API


def _years_of(t: dict, org_id: str) -> list[int]:
    fin = t["financials"]
    ys = fin.filter(fin.org_id == org_id).select("fiscal_year").distinct().to_pyarrow().column(0).to_pylist()
    return sorted(int(y) for y in ys)


def _check_year(t: dict, year) -> int | None:
    if year is None:
        return None
    try:
        y = int(year)
    except (TypeError, ValueError):
        raise UsageError(f"the year must be a year such as 2022, not {year!r}") from None
    fin = t["financials"]
    if int(fin.filter(fin.fiscal_year == y).count().execute()) == 0:
        years = fin.select("fiscal_year").distinct().to_pyarrow().column(0).to_pylist()
        raise UsageError(f"no financial figures for {y} in the store; years with figures: {_years_text(years)}")
    return y


def _check_orgs(t: dict, org_ids) -> list[str] | None:
    if org_ids is None:
        return None
    ids = [org_ids] if isinstance(org_ids, str) else [str(i) for i in org_ids]
    missing = not_there(t["organizations"], ids)
    if missing:
        shown = ", ".join(repr(m) for m in missing[:10]) + (" …" if len(missing) > 10 else "")
        raise NotFound(f"no organisation {shown} in the store")
    return ids


def score_table(store_or_tables, year: int | None = None, org_ids: list[str] | None = None, weights=None,
                detail: bool = False, keep=None) -> ir.Table:
    """The score as an Ibis expression (both phases, nothing collected): one row per organisation-year with
    SCORE_COLUMNS, value_<i> and part_<i> of every indicator and, with `detail`, the raw values, inputs and
    missing reasons `indicators()` shows. Percentiles are over every organisation; `org_ids` narrows after.

    `keep` (an `analytics.engine.kept()` block): phase 1 is kept in the engine and phase 2 built on it.
    Why: Ibis's SQL compiler takes seconds on the two phases as one expression (about 0.8 s per compile
    on the demo store, several compiles per answer), far more than the query itself on a small store.
    """
    w = _resolve_weights(weights)
    t = _tables(store_or_tables)
    y = _check_year(t, year)
    ids = _check_orgs(t, org_ids)
    p1 = _phase1(t, y, w, detail)
    if keep is not None:
        with arrow_lambdas(p1):
            p1 = keep(p1)
    expr = weigh(p1, w).mutate(weights_version=ibis.literal(w.version))
    if ids is not None:  # after the windows: percentiles and cohort medians are over everyone
        expr = expr.filter(expr.org_id.isin(ids))
    return expr


def score_columns(detail: bool = False) -> list[str]:
    """The columns of `score()` (or, with `detail`, of `indicators()`), in order."""
    if not detail:
        return [*SCORE_COLUMNS, *[f"part_{i}" for i in INDICATORS], *[f"value_{i}" for i in INDICATORS]]
    inputs = sorted({c for cols in INPUTS.values() for c in cols} - set(SCORE_COLUMNS) - {"currency", "city"})
    cols = [*SCORE_COLUMNS, "indicators_present", "kind_known", "currency", "city", *inputs, "intensity_standing"]
    for i in INDICATORS:
        cols += [f"raw_{i}", f"value_{i}", f"part_{i}", f"missing_{i}"]
    return list(dict.fromkeys(cols))


def _collect(store_or_tables, year, org_ids, weights, detail: bool) -> pd.DataFrame:
    w = _resolve_weights(weights)
    cols = score_columns(detail)
    with kept() as keep:
        expr = score_table(store_or_tables, year, org_ids, w, detail, keep=keep).select(*cols)
        with arrow_lambdas(expr):
            tbl = expr.to_pyarrow()
    return _frame(tbl, cols, w)


def score(store_or_tables, year: int | None = None, org_ids: list[str] | None = None,
          weights=None) -> pd.DataFrame:
    """The hardness score (0–100) per organisation-year, its confidence, field percentile and parts.

    Columns: SCORE_COLUMNS, then part_<indicator> (adding up to `score`) and value_<indicator>
    (0..1; NaN = missing) for every indicator. `df.attrs` holds the weights used. Collects every row
    asked for: over a whole large store, use `score_table` and let the engine keep the rows.
    """
    return _collect(store_or_tables, year, org_ids, weights, detail=False)


def indicators(store_or_tables, year: int | None = None, org_ids: list[str] | None = None,
               weights=None) -> pd.DataFrame:
    """One row per organisation-year: every indicator's raw value, 0..1 value, part, missing reason and inputs."""
    return _collect(store_or_tables, year, org_ids, weights, detail=True)


def _py(v):
    """numpy / pandas scalars to plain JSON-able Python (NaN and NA to None)."""
    if v is None or v is pd.NA:
        return None
    if hasattr(v, "item"):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()
    return v


def explain(store_or_tables, org_id: str, year: int | None = None, weights=None, table_for=None) -> dict:
    """Why an organisation scores what it does: every indicator's weight, value, inputs and share of the score.

    `table_for(year)`, when given, returns `indicators()` of the whole store for that year: a caller that
    explains many organisations (the REST API) computes the cohort once instead of once per organisation.
    """
    w = _resolve_weights(weights)
    t = _tables(store_or_tables)
    _check_orgs(t, [org_id])
    orgs = t["organizations"]
    names = orgs.filter(orgs.org_id == org_id).select("name_en", "name_zh").to_pyarrow().to_pylist()[0]
    name = names["name_en"] or names["name_zh"] or org_id
    who = f"{org_id} ({name})" if name != org_id else org_id
    years = _years_of(t, org_id)
    if not years:
        raise NothingToShow(f"{who} has no financial figures in the store, so no hardness score (a score is per fiscal year); "
                            "import its financials",
                            key="empty.score_org", who=who)
    if year is None:
        year = years[-1]
    elif int(year) not in years:
        raise NothingToShow(f"{who} has no financial figures for {year} in the store; years it has: {_years_text(years)}",
                            key="empty.score_year", who=who, year=year, years=_years_text(years))
    whole = table_for(int(year)) if table_for is not None else None
    hit = whole[whole["org_id"] == org_id] if whole is not None else None
    if hit is not None and len(hit):
        row = hit.iloc[0]
    else:
        row = indicators(t, year=int(year), org_ids=[org_id], weights=w).iloc[0]
    kind_known = bool(_py(row["kind_known"]))
    kind_ids = set(w.kind.indicators)
    parts, missing = [], []
    for i, s in w.indicators.items():
        value = _py(row[f"value_{i}"])
        stand_in = i == w.kind.fallback and not kind_known and value is not None
        if value is None or stand_in:
            missing.append(i)
        part = {
            "indicator": i, "label": s.label, "criterion": w.criteria[s.criterion].text, "criterion_id": s.criterion,
            "weight": s.weight, "transform": s.transform, "value_0_1": value, "raw_value": _py(row[f"raw_{i}"]),
            "inputs": {c: _py(row[c]) for c in INPUTS[i]},
            "contribution": _py(row[f"part_{i}"]), "missing": value is None or stand_in,
            "missing_reason": _py(row[f"missing_{i}"]),
        }
        if i in kind_ids:
            part["evidence_of_kind"] = True
        if stand_in:
            part["stand_in"] = (f"no evidence of kind at all: scored at kind.unknown = {w.kind.unknown:g}, "
                                "which does not count towards confidence")
        parts.append(part)
    criteria = []
    for c in w.criteria.values():
        got = [p["contribution"] for p in parts if p["criterion_id"] == c.id and p["contribution"] is not None]
        criteria.append({"criterion": c.text, "criterion_id": c.id, "weight": c.weight, "reading": c.reading,
                         "contribution": math.fsum(got) if got else None})
    conf = _py(row["confidence"]) or 0.0
    sc = _py(row["score"])
    kind_w = math.fsum(w.weight(i) for i in kind_ids)
    if sc is None:
        note = "no indicator could be computed for this organisation and year, so there is no score."
    else:
        note = (f"score = sum of the contributions. An R&D, patent or funding indicator that is missing is left "
                f"out and the others re-weighted: it is never counted as 0. The evidence of kind keeps its whole "
                f"weight ({kind_w:.4g}) whatever is missing: the evidence present shares it, and with none the "
                f"documented unknown-kind value ({w.kind.unknown:g}) stands in. Confidence {conf:.4g} is the weight "
                f"of what was really present.")
    warnings = _py(row["warnings"])
    pct = _py(row["percentile_in_field_year"])
    if sc is not None and pct is None:
        note += (f" No percentile: fewer than {MIN_PERCENTILE_COHORT} organisations of its field were scored for "
                 f"{int(year)}, too few to rank against.")
    return {
        "org_id": org_id, "name": name, "year": int(year), "score": sc, "confidence": conf,
        "percentile_in_field_year": _py(row["percentile_in_field_year"]), "field": _py(row["field"]),
        "weights_version": w.version, "weights_file": w.path, "parts": parts, "criteria": criteria,
        "kind_evidence": _kind_evidence(t, org_id, row), "missing": missing,
        "warnings": warnings.split("; ") if warnings else [], "note": note,
    }


def _kind_evidence(t: dict, org_id: str, row) -> list[dict]:
    """Every source of evidence of kind for one organisation: what it says, where it comes from, or that it is absent."""
    orgs = t["organizations"]
    kind = orgs.filter(orgs.org_id == org_id).select("kind").to_pyarrow().column(0).to_pylist()[0]
    group = _py(row["oecd_group"])
    out = [{
        "evidence": "OECD R&D-intensity group of the ISIC/NACE code", "indicator": "sector_rd_group",
        "value": group if group != "unknown" else None,
        "source": _py(row["sector_rule"]) or _py(row["missing_sector_rd_group"]),
    }, {
        "evidence": "manufacturing or services (industry codes)", "indicator": "sector_activity",
        "value": _py(row["raw_sector_activity"]),
        "source": _py(row["activity_sources"]) or _py(row["missing_sector_activity"]),
    }, {
        "evidence": "typology prior of the industry codes and the organisation kind", "indicator": "kind_prior",
        "value": _py(row["raw_kind_prior"]),
        "source": _py(row["kind_sources"]) or _py(row["missing_kind_prior"]),
    }]
    mv = _py(row["model_version"])
    probs = {k: _py(row[c]) for k, c in (("hard_core", "p_hard_core"), ("deep", "p_deep"),
                                          ("model_innovation", "p_model_innovation"))}
    said = ", ".join(f"P({k}) = {v:.3g}" for k, v in probs.items() if v is not None)
    out.append({
        "evidence": "classifier's typology (from the description)", "indicator": "hardness_of_kind, physical_product",
        "value": said or None,
        "source": f"classifications, model {mv}" if said else (_py(row["missing_hardness_of_kind"]) or "not classified"),
    })
    out.append({"evidence": "organisation kind", "indicator": "kind_prior", "value": kind,
                "source": "organizations.kind"})
    return out


def save_scores(store, df: pd.DataFrame) -> int:
    """Write score() rows into the `scores` table, replacing rows with the same (org_id, year, weights_version).

    `parts` holds, per indicator, its weight (from `df.attrs`, when score() made the frame), 0..1
    value, raw value (when the frame has it) and contribution.
    """
    need = ["org_id", "year", "score", "confidence", "percentile_in_field_year", "field", "weights_version"]
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise UsageError(f"save_scores needs a score() frame; missing column(s): {', '.join(missing)}")
    if df.empty:
        return 0
    ids = [i for i in INDICATORS if f"part_{i}" in df.columns]
    data = pa.Table.from_pandas(df[need + [c for i in ids for c in (f"part_{i}", f"value_{i}", f"raw_{i}")
                                           if c in df.columns]], preserve_index=False)
    return _write(store, data, df.attrs.get("weights", {}))


def save_score_table(store, table: ir.Table, weights=None) -> int:
    """Write a `score_table` (or a kept copy of one) into `scores` from the engine: nothing collected.

    The same rows and parts as `save_scores(store, score(...))`; the store must write (DuckDB).
    """
    w = _resolve_weights(weights)
    with arrow_lambdas(table):
        return _write(store, table, {i: s.weight for i, s in w.indicators.items()})


def _write(store, data, weights: dict) -> int:
    from hardtech.store.scores_write import write_scores

    cols = data.column_names if isinstance(data, pa.Table) else data.columns
    ids = [i for i in INDICATORS if f"part_{i}" in cols]
    parts = {i: {"weight": repr(float(weights[i])) if i in weights else None,
                 **{k: c if c in cols else None
                    for k, c in (("value", f"value_{i}"), ("raw", f"raw_{i}"), ("contribution", f"part_{i}"))}}
             for i in ids}
    return write_scores(store, data, parts)
