"""Does the hardness score rank like the seeds? Validity measures over scored companies.

Why a module of its own: the same measures are asserted by the test suite on the JRC–OECD panel
(tests/test_hardness_validity.py) and reported with their numbers by
`evaluation/hardness_validity.py` (docs/hardness.md), so they are written once here. They are
pure functions over DataFrames with one row per company: no store, no I/O.

What they measure:
- the mean score by OECD R&D-intensity group, which the seeds' reading says must fall from
  high to low;
- how well the score separates industries the seeds call hard & core candidates (pharmaceuticals
  ISIC 21, computers and electronics 26) from those they set against it (finance 64–66, trade
  45–47, hospitality 55–56, advertising 73): ROC AUC, the chance that a random company of the
  first set outscores one of the second;
- the rank correlation of the score with R&D intensity across all companies;
- a back-test: does the score of one year predict later growth of R&D and patent filings?
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd

GROUP_ORDER: tuple[str, ...] = ("high", "medium_high", "medium", "medium_low", "low")
HARD_DIVISIONS: tuple[str, ...] = ("21", "26")
SOFT_DIVISIONS: tuple[str, ...] = ("45", "46", "47", "55", "56", "64", "65", "66", "73")


def division(industry_codes) -> str | None:
    """The two-digit ISIC/NACE division of an organisation's first ISIC/NACE class code (NACE Rev. 2 and ISIC
    Rev. 4 share their divisions). OECD aggregates such as `45-47` name no single division: None."""
    for item in industry_codes if industry_codes is not None else ():
        scheme, _, code = str(item).partition(":")
        if scheme.strip().lower() in ("nace", "isic"):
            digits = re.sub(r"^[A-Za-z]", "", code.strip()).replace(".", "")
            if re.fullmatch(r"\d{2,4}", digits):
                return digits[:2]
    return None


def group_means(df: pd.DataFrame, by: str, value: str = "score") -> pd.DataFrame:
    """Mean, median and count of `value` per `by`, highest mean first."""
    g = df.dropna(subset=[value]).groupby(by)[value]
    out = pd.DataFrame({"mean": g.mean(), "median": g.median(), "n": g.size()}).reset_index()
    return out.sort_values("mean", ascending=False, ignore_index=True)


def monotone_by_group(df: pd.DataFrame, group: str = "oecd_group", value: str = "score") -> tuple[bool, dict]:
    """(True when the mean falls strictly from high to low OECD group, the means in GROUP_ORDER)."""
    means = df.dropna(subset=[value]).groupby(group)[value].mean()
    ordered = {g: float(means[g]) for g in GROUP_ORDER if g in means.index}
    vals = list(ordered.values())
    ok = len(vals) == len(GROUP_ORDER) and all(a > b for a, b in zip(vals, vals[1:]))
    return ok, ordered


def roc_auc(scores, positive) -> float | None:
    """Chance that a random positive outranks a random negative (ties count half), missing scores left out.

    The rule itself is the classifier evaluation's (`classify.metrics.roc_auc`), written once there.
    """
    from hardtech.analytics.classify.metrics import roc_auc as auc

    s, p = np.asarray(scores, dtype=float), np.asarray(positive, dtype=bool)
    keep = ~np.isnan(s)
    return auc(s[keep], p[keep])


def separation(df: pd.DataFrame, value: str = "score", div: str = "division",
               hard: tuple[str, ...] = HARD_DIVISIONS, soft: tuple[str, ...] = SOFT_DIVISIONS) -> dict:
    """ROC AUC of `value` for companies in the `hard` divisions against those in the `soft` ones."""
    sub = df[df[div].isin(hard + soft)].dropna(subset=[value])
    pos = sub[div].isin(hard).to_numpy()
    return {"auc": roc_auc(sub[value].to_numpy(), pos), "n_hard": int(pos.sum()), "n_soft": int((~pos).sum())}


def spearman(x, y) -> tuple[float | None, int]:
    """(Spearman rank correlation over the pairs where both are present, number of pairs)."""
    r, _p, n = spearman_test(x, y)
    return r, n


def spearman_test(x, y) -> tuple[float | None, float | None, int]:
    """(Spearman rank correlation, its two-sided p-value against no correlation, number of pairs)."""
    from scipy.stats import spearmanr

    a, b = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    keep = ~(np.isnan(a) | np.isnan(b))
    n = int(keep.sum())
    if n < 3 or np.ptp(a[keep]) == 0 or np.ptp(b[keep]) == 0:  # a constant has no rank correlation
        return None, None, n
    res = spearmanr(a[keep], b[keep])
    r, p = float(res.statistic), float(res.pvalue)
    return (r if math.isfinite(r) else None), (p if math.isfinite(p) else None), n


def quintile_contrast(predictor, outcome) -> dict:
    """Median outcome of the top and bottom fifth by predictor, their difference, and the share of the
    top fifth above the overall median outcome (a "hit rate"), over the pairs where both are present."""
    a, b = np.asarray(predictor, dtype=float), np.asarray(outcome, dtype=float)
    keep = ~(np.isnan(a) | np.isnan(b))
    a, b = a[keep], b[keep]
    if len(a) < 10:
        return {"n": int(len(a))}
    order = np.argsort(a, kind="stable")
    k = len(a) // 5
    bottom, top = b[order[:k]], b[order[-k:]]
    med = float(np.median(b))
    return {"n": int(len(a)), "quintile_size": int(k), "top_median": float(np.median(top)),
            "bottom_median": float(np.median(bottom)), "difference": float(np.median(top) - np.median(bottom)),
            "top_share_above_median": float(np.mean(top > med)),
            "bottom_share_above_median": float(np.mean(bottom > med))}


def log_growth(before, after) -> np.ndarray:
    """ln(after ÷ before) where both are positive; NaN elsewhere (a start from zero has no growth rate)."""
    a, b = np.asarray(before, dtype=float), np.asarray(after, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where((a > 0) & (b > 0), np.log(b / a), np.nan)


def backtest(predictor, outcome) -> dict:
    """Rank correlation and top- vs bottom-quintile contrast of a predictor against a later outcome."""
    r, p, n = spearman_test(predictor, outcome)
    return {"spearman": r, "p_value": p, "n": n,
            **{k: v for k, v in quintile_contrast(predictor, outcome).items() if k != "n"}}
