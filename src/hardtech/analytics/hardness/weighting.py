"""From raw indicators to the score (phase 2): transforms to 0..1, weights, confidence, percentiles.

Why an Ibis expression and not arrays in Python: the score must run over every organisation of a
large store (issue 14: 10,000,000 organisations on one machine), and collecting the raw indicators of
all of them into Python held gigabytes. Here each transform, the weights, the confidence and the
field percentile are columns computed by the engine on phase 1's table (`raw_indicators._phase1`),
so `score` and `indicators` collect only what their caller asks for, and `services.scoring` saves a
whole year into the store without the rows passing through Python. The rules are written once, here:
the score of many organisations and the explanation of one read the same expression.
"""

from __future__ import annotations

import math
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute  # noqa: F401 - pa.compute.fill_null

from hardtech.analytics.hardness.weights import HardnessWeights, INDICATORS, IndicatorSpec
from hardtech.analytics.hardness.raw_indicators import _F, _mid_percentile, _nullf

MIN_PERCENTILE_COHORT = 5  # fewer scored organisations of one field and year give no percentile (1 of 1 is not "top")


def _present(x: ir.Value) -> ir.Value:
    """A value, NaN read as missing: NULL is "missing" throughout and every transform keeps it."""
    return ibis.ifelse(x.isnan(), _nullf(), x)


_NO_COHORT = "\x00"  # a cohort column's NULL as a join key (NULL never equals NULL in a join)


def _with_medians(t: ir.Table, specs: list[IndicatorSpec]) -> ir.Table:
    """`t` with _med_<i>: the median of the positive values of indicator i (column _x_<i>) in its cohort
    (year and `cohort` columns). An aggregate joined back on a few hundred cohorts, not a window: a window
    sorts every row, all columns wide, once per indicator."""
    cohorts = sorted({c for s in specs for c in s.cohort})
    t = t.mutate(**{f"_ck_{c}": t[c].cast("string").fill_null(_NO_COHORT) for c in cohorts})
    for s in specs:
        keys = ["year", *[f"_ck_{c}" for c in s.cohort]]
        v = t.view()  # a self-join: the aggregate reads a view, so each side's columns stay its own
        x = v[f"_x_{s.id}"]
        positive = ibis.ifelse(x > 0, x, _nullf())  # not `where=`: Spark wants the median's fraction a constant
        m = v.group_by(keys).aggregate(**{f"_med_{s.id}": positive.median()}).rename(**{f"_m{k}": k for k in keys})
        t = t.left_join(m, [t[k] == m[f"_m{k}"] for k in keys]).drop(*[f"_m{k}" for k in keys])
    return t.drop(*[f"_ck_{c}" for c in cohorts])


def _value(t: ir.Table, s: IndicatorSpec, x: ir.Value) -> ir.Value:
    """The 0..1 value of one indicator by its transform (NULL stays NULL)."""
    if s.transform == "linear":
        v = (x - s.lo) * (1.0 / (s.hi - s.lo))
        v = ibis.ifelse(v < 0.0, 0.0, ibis.ifelse(v > 1.0, 1.0, v))
    elif s.transform == "saturating":
        m = ibis.ifelse(x < 0.0, 0.0, x)
        v = m / (m + s.half)
    else:
        part = [t.year, *[t[c] for c in s.cohort]]
        if s.transform == "percentile":
            v = _mid_percentile(x, part)
        else:  # x / (x + median of the cohort's positive values): the cohort's middle maps to 0.5
            med = t[f"_med_{s.id}"]  # from _with_medians
            v = ibis.cases((x <= 0, 0.0), (med.notnull(), x / (x + med)), else_=_nullf())
    return v if s.higher_is_harder else 1.0 - v


def _sum(terms: list[ir.Value]) -> ir.Value:
    out = ibis.literal(0.0, _F)
    for x in terms:
        out = out + x
    return out


def weigh(t: ir.Table, w: HardnessWeights) -> ir.Table:
    """Phase 1's table with value_<i>, part_<i>, score, confidence, kind_known, indicators_present and
    percentile_in_field_year added (the raw_<i> columns kept).

    Two kinds of weight:

    - an R&D, patent or funding indicator that is missing is re-weighted away (the score is the
      weighted mean of those present);
    - the evidence-of-kind block (`w.kind.indicators`) always keeps its whole weight: the evidence
      present shares it, and with none the fallback indicator stands in at `w.kind.unknown`. So the
      kind of business is never re-weighted onto the R&D figures, and unknown kind is not neutral.

    `confidence` is the weight of what was really present (the stand-in does not count). Built in
    stages (values, then weights, then parts, then the percentile) so no expression is repeated
    inside another.
    """
    kind_ids = set(w.kind.indicators)
    kind_total = math.fsum(w.weight(i) for i in kind_ids)
    t = t.mutate(**{f"_x_{i}": _present(t["intensity_standing" if i == "rd_intensity" else f"raw_{i}"].cast(_F))
                    for i in INDICATORS})
    medians = [s for s in w.indicators.values() if s.transform == "cohort_median"]
    t = _with_medians(t, medians)
    t = t.mutate(**{f"value_{i}": _value(t, s, t[f"_x_{i}"]).cast(_F) for i, s in w.indicators.items()})
    t = t.drop(*[f"_x_{i}" for i in INDICATORS], *[f"_med_{s.id}" for s in medians])

    def weight_of(ids) -> ir.Value:
        return _sum([ibis.ifelse(t[f"value_{i}"].notnull(), w.weight(i), 0.0) for i in w.indicators if i in ids])

    # 0.18 + 0.08 + … must give 1, not 1.0000000000000002
    t = t.mutate(confidence=weight_of(set(w.indicators)).round(12), _kind_seen=weight_of(kind_ids).round(12),
                 _other=weight_of(set(w.indicators) - kind_ids))
    no_kind = t._kind_seen <= 0
    stand_in = no_kind & ibis.literal(kind_total > 0)
    if kind_total > 0:  # effective weight of a present piece of evidence of kind: its share of the block
        kind_scale = ibis.ifelse(no_kind, kind_total / w.weight(w.kind.fallback), kind_total / t._kind_seen)
        fb = f"value_{w.kind.fallback}"
        t = t.mutate(**{fb: ibis.ifelse(no_kind, w.kind.unknown, t[fb])})  # the stand-in: its documented value
    else:
        kind_scale = ibis.literal(0.0, _F)
    denom = t._other + (kind_total if kind_total > 0 else 0.0)
    scale = ibis.ifelse(denom > 0, 100.0 / denom, _nullf())  # 0 only where nothing with a weight is present
    t = t.mutate(_kind_scale=kind_scale, _scale=scale, kind_known=~no_kind,
                 indicators_present=(_sum([ibis.ifelse(t[f"value_{i}"].notnull(), 1.0, 0.0) for i in INDICATORS])
                                     - ibis.ifelse(stand_in, 1.0, 0.0)).cast("int64"))
    parts = {}
    for i, s in w.indicators.items():
        p = t[f"value_{i}"] * t._scale * s.weight
        parts[i] = p * t._kind_scale if i in kind_ids else p
    scored = t.confidence > 0
    t = t.mutate(**{f"part_{i}": ibis.ifelse(scored, p, _nullf()) for i, p in parts.items()})
    total = _sum([ibis.ifelse(t[f"part_{i}"] > 0.0, t[f"part_{i}"], 0.0) for i in INDICATORS])  # missing adds nothing
    t = t.mutate(score=ibis.ifelse(scored, total, _nullf())).drop("_kind_seen", "_other", "_kind_scale", "_scale")
    # share (x100) of the organisations of the same field and year whose score is at or below this one;
    # NULL in a group of fewer than MIN_PERCENTILE_COHORT scored organisations, where a rank says nothing
    group = [t.year, t.field, t.score.isnull()]
    p = ibis.cume_dist().over(ibis.window(group_by=group, order_by=t.score)) * 100.0
    n = t.score.count().over(ibis.window(group_by=group))
    return t.mutate(percentile_in_field_year=ibis.ifelse(t.score.notnull() & (n >= MIN_PERCENTILE_COHORT), p,
                                                         _nullf()))


def _frame(tbl: pa.Table, columns: list[str], w: HardnessWeights) -> pd.DataFrame:
    """A DataFrame of the collected rows: strings stay Arrow-backed, floats are numpy with NaN for missing."""
    data: dict[str, Any] = {}
    for c in columns:
        if c == "weights_version":  # one value for every row, built without a Python list of them
            same = pa.DictionaryArray.from_arrays(pa.array(np.zeros(tbl.num_rows, dtype=np.int8)),
                                                  pa.array([w.version])).cast(pa.string())
            data[c] = pd.array(same, dtype=pd.StringDtype("pyarrow"))
            continue
        col = tbl.column(c)
        if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
            data[c] = pd.array(col, dtype=pd.StringDtype("pyarrow")) if tbl.num_rows else \
                pd.array([], dtype=pd.StringDtype("pyarrow"))
        elif pa.types.is_floating(col.type):
            filled = pa.compute.fill_null(col, np.nan)
            data[c] = (np.concatenate([ch.to_numpy(zero_copy_only=False) for ch in filled.chunks])
                       if filled.num_chunks else np.empty(0))
        else:
            data[c] = col.to_numpy(zero_copy_only=False)
    df = pd.DataFrame(data, copy=False)
    df.attrs.update(weights_version=w.version, weights_file=w.path,
                    weights={i: s.weight for i, s in w.indicators.items()})
    return df
