"""From raw indicators to the score (phase 2): transforms to 0..1, weights, confidence, percentiles.

Why separate from the indicators: the raw values come back as one Arrow table and mapping, weighting
and adding up are a few vectorised array operations; only cohort statistics (medians, ranks) go back
to an engine, on narrow in-memory tables.
"""

from __future__ import annotations

import math
from typing import Any

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute  # noqa: F401 - pa.compute.is_in
from hardtech.analytics.hardness.weights import HardnessWeights, INDICATORS, IndicatorSpec
from hardtech.analytics.hardness.raw_indicators import _mid_percentile, _nullf

# =============================================================================== weighting (phase 2)
# The raw indicators come back as one Arrow table; mapping them to 0..1, weighting and adding up
# are a few vectorised array operations. Only cohort statistics (medians, ranks) go back to the
# engine, on narrow in-memory tables, because sorting there is parallel and exact.


def _np(tbl: pa.Table, name: str) -> np.ndarray:
    """A float column as numpy, NULL as NaN (filling first is several times faster than converting nulls)."""
    filled = pa.compute.fill_null(tbl.column(name).cast(pa.float64()), np.nan)
    if filled.num_chunks == 0:
        return np.empty(0)
    return np.concatenate([c.to_numpy(zero_copy_only=False) for c in filled.chunks])  # one writable copy


def _codes(col: pa.ChunkedArray) -> pa.Array:
    """Small integer codes of a key column: sorting integers beats sorting strings."""
    return col.combine_chunks().dictionary_encode().indices


def _cohort_values(tbl: pa.Table, raw: dict[str, np.ndarray], specs: list[IndicatorSpec]) -> dict[str, np.ndarray]:
    """0..1 values of the cohort-relative transforms (cohort_median, percentile), ranked by the engine."""
    cols: dict[str, Any] = {"_i": pa.array(np.arange(tbl.num_rows, dtype=np.int64)), "year": tbl.column("year")}
    for c in sorted({c for s in specs for c in s.cohort}):
        cols[c] = _codes(tbl.column(c))
    for s in specs:
        x = raw[s.id]
        cols[f"x_{s.id}"] = pa.array(x, mask=np.isnan(x))
    m = ibis.memtable(pa.table(cols))
    out = {}
    for s in specs:
        x = m[f"x_{s.id}"]
        part = [m.year, *[m[c] for c in s.cohort]]
        if s.transform == "percentile":
            v = _mid_percentile(x, part)
        else:  # x / (x + median of the cohort's positive values): the cohort's middle maps to 0.5
            med = x.median(where=x > 0).over(ibis.window(group_by=part))
            v = ibis.cases((x <= 0, 0.0), (med.notnull(), x / (x + med)), else_=_nullf())
        out[s.id] = v.fill_null(float("nan"))
    res = m.select("_i", **out).to_pyarrow()
    order = np.asarray(res.column("_i"))
    values = {}
    for s in specs:
        arr = np.empty(tbl.num_rows)
        arr[order] = np.asarray(res.column(s.id))
        values[s.id] = arr
    return values


MIN_PERCENTILE_COHORT = 5  # fewer scored organisations of one field and year give no percentile (1 of 1 is not "top")


def _cume_percentile(year: pa.ChunkedArray, field: pa.ChunkedArray, score: np.ndarray) -> np.ndarray:
    """Share (×100) of the organisations of the same field and year whose score is at or below this one;
    NaN in a group of fewer than MIN_PERCENTILE_COHORT scored organisations, where a rank says nothing."""
    ok = ~np.isnan(score)
    out = np.full(len(score), np.nan)
    if not ok.any():
        return out
    idx = np.flatnonzero(ok)
    take = pa.array(idx)
    m = ibis.memtable(pa.table({"_i": idx, "year": year.take(take), "field": _codes(field).take(take),
                                "score": score[idx]}))
    win = ibis.window(group_by=[m.year, m.field], order_by=m.score)
    group = ibis.window(group_by=[m.year, m.field])
    res = m.select("_i", p=ibis.cume_dist().over(win) * 100.0, n=m.score.count().over(group)).to_pyarrow()
    p = np.asarray(res.column("p"), dtype=float).copy()
    p[np.asarray(res.column("n")) < MIN_PERCENTILE_COHORT] = np.nan
    out[np.asarray(res.column("_i"))] = p
    return out


def _weigh(tbl: pa.Table, w: HardnessWeights, in_place: bool = False) -> dict[str, np.ndarray]:
    """value_, part_, score, confidence and percentile columns from the raw indicator table.

    NaN is "missing" throughout and every transform keeps it: the parts of a missing indicator stay
    NaN, and the score adds up only the parts present. Two kinds of weight:

    - an R&D, patent or funding indicator that is missing is re-weighted away (the score is the
      weighted mean of those present);
    - the evidence-of-kind block (`w.kind.indicators`) always keeps its whole weight: the evidence
      present shares it, and with none the fallback indicator stands in at `w.kind.unknown`. So the
      kind of business is never re-weighted onto the R&D figures, and unknown kind is not neutral.

    `confidence` is the weight of what was really present (the stand-in does not count).
    `in_place` turns the raw arrays into the values instead of copying them (score() does not return
    raw values).
    """
    n = tbl.num_rows
    raw = {i: _np(tbl, "intensity_standing" if i == "rd_intensity" else f"raw_{i}") for i in INDICATORS}
    cohort_specs = [s for s in w.indicators.values() if s.transform in ("percentile", "cohort_median")]
    cohort = _cohort_values(tbl, raw, cohort_specs) if cohort_specs and n else {}
    out: dict[str, np.ndarray] = {}
    conf, scratch, present = np.zeros(n), np.empty(n), np.empty(n, dtype=bool)
    kind_ids = set(w.kind.indicators)
    kind_total = math.fsum(w.weight(i) for i in kind_ids)
    kind_seen = np.zeros(n)  # weight of the evidence of kind present
    other = np.zeros(n)      # weight of the other indicators present
    # In place wherever possible: on large stores fresh memory, not arithmetic, is what costs.
    with np.errstate(divide="ignore", invalid="ignore"):
        for i, s in w.indicators.items():
            x = raw[i]
            if s.transform == "linear":
                v = np.subtract(x, s.lo, out=x if in_place else None)
                v *= 1.0 / (s.hi - s.lo)
                np.clip(v, 0.0, 1.0, out=v)
            elif s.transform == "saturating":
                v = np.maximum(x, 0.0, out=x if in_place else None)  # keeps NaN
                np.add(v, s.half, out=scratch)
                v /= scratch
            else:
                v = cohort[i] if n else np.empty(0)
            if not s.higher_is_harder:
                np.subtract(1.0, v, out=v)
            out[f"value_{i}"] = v
            np.isnan(v, out=present)
            np.logical_not(present, out=present)
            np.add(conf, s.weight, out=conf, where=present)
            np.add(kind_seen if i in kind_ids else other, s.weight, out=kind_seen if i in kind_ids else other,
                   where=present)
        np.round(conf, 12, out=conf)  # 0.18 + 0.08 + … must give 1, not 1.0000000000000002
        np.round(kind_seen, 12, out=kind_seen)
        # effective weight of each present indicator: its own, or (evidence of kind) its share of the block
        kind_scale = np.divide(kind_total, kind_seen)
        no_kind = kind_seen <= 0
        kind_scale[no_kind] = 0.0
        if kind_total > 0:
            fb = out[f"value_{w.kind.fallback}"]
            fb[no_kind] = w.kind.unknown  # the stand-in: kind unknown is scored at its documented value
            kind_scale[no_kind] = kind_total / w.weight(w.kind.fallback)
        denom = other + (kind_total if kind_total > 0 else 0.0)
        scale = np.divide(100.0, denom)
        score = np.zeros(n)
        for i, s in w.indicators.items():
            part = np.multiply(out[f"value_{i}"], scale)
            part *= s.weight
            if i in kind_ids:
                part *= kind_scale
            out[f"part_{i}"] = part
            score += np.fmax(part, 0.0, out=scratch)  # fmax drops NaN: a missing part adds nothing
    none = conf <= 0
    score[none] = np.nan
    for i in INDICATORS:
        out[f"part_{i}"][none] = np.nan
    out["confidence"] = conf
    out["score"] = score
    out["kind_known"] = ~no_kind
    count = np.zeros(n, dtype=np.int64)
    for i in INDICATORS:
        np.isnan(out[f"value_{i}"], out=present)
        count += ~present
    count -= (no_kind & (kind_total > 0)).astype(np.int64)  # the stand-in is not an indicator present
    out["indicators_present"] = count
    out["percentile_in_field_year"] = _cume_percentile(tbl.column("year"), tbl.column("field"), score)
    return out


def _frame(tbl: pa.Table, computed: dict[str, np.ndarray], columns: list[str], w: HardnessWeights) -> pd.DataFrame:
    """A DataFrame without copying: strings stay Arrow-backed, numbers stay the arrays computed."""
    data: dict[str, Any] = {}
    for c in columns:
        if c in computed:
            data[c] = computed[c]
        elif c == "weights_version":  # one value for every row, built without a Python list of them
            same = pa.DictionaryArray.from_arrays(pa.array(np.zeros(tbl.num_rows, dtype=np.int8)),
                                                  pa.array([w.version])).cast(pa.string())
            data[c] = pd.array(same, dtype=pd.StringDtype("pyarrow"))
        else:
            col = tbl.column(c)
            if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
                data[c] = pd.array(col, dtype=pd.StringDtype("pyarrow")) if tbl.num_rows else \
                    pd.array([], dtype=pd.StringDtype("pyarrow"))
            else:
                data[c] = col.to_numpy(zero_copy_only=False)
    df = pd.DataFrame(data, copy=False)
    df.attrs.update(weights_version=w.version, weights_file=w.path,
                    weights={i: s.weight for i, s in w.indicators.items()})
    return df


