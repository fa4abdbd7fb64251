"""Evaluation metrics for the classifiers: per-field precision/recall/F1, macro-F1, typology
accuracy and confusion, calibration error, and ROC AUC of hard tech against model innovation."""

from __future__ import annotations

import numpy as np

from hardtech.analytics.taxonomy import FIELD_IDS, TYPOLOGY_IDS


def field_report(Y: np.ndarray, P: np.ndarray, threshold: float) -> list[dict]:
    pred = P >= threshold
    rows = []
    for j, f in enumerate(FIELD_IDS):
        y = Y[:, j] > 0
        tp, fp, fn = int((pred[:, j] & y).sum()), int((pred[:, j] & ~y).sum()), int((~pred[:, j] & y).sum())
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        rows.append({"field": f, "precision": round(p, 3), "recall": round(r, 3), "f1": round(f1, 3),
                     "support": int(y.sum()), "predicted": int(pred[:, j].sum())})
    return rows


def macro_f1(rows: list[dict]) -> float:
    return float(np.mean([r["f1"] for r in rows if r["support"] > 0])) if rows else 0.0


def expected_calibration_error(Y: np.ndarray, P: np.ndarray, bins: int = 10) -> float:
    """ECE over every (document, field) probability: |accuracy − confidence| weighted by bin size."""
    y, p = Y.reshape(-1), P.reshape(-1)
    edges = np.linspace(0, 1, bins + 1)
    total = 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        sel = (p >= lo) & (p < hi) if hi < 1 else (p >= lo) & (p <= hi)
        if sel.any():
            total += sel.mean() * abs(y[sel].mean() - p[sel].mean())
    return float(total)


def confusion(true: list[str], pred: list[str], classes=TYPOLOGY_IDS) -> list[dict]:
    rows = []
    for t in classes:
        row = {"true \\ predicted": t}
        for c in classes:
            row[c] = int(sum(1 for a, b in zip(true, pred) if a == t and b == c))
        rows.append(row)
    return rows


def roc_auc(scores: np.ndarray, positive: np.ndarray) -> float | None:
    """Probability that a random positive outranks a random negative (ties count half)."""
    pos, neg = scores[positive], scores[~positive]
    if not len(pos) or not len(neg):
        return None
    order = np.argsort(np.concatenate([pos, neg]), kind="mergesort")
    ranks = np.empty(len(order))
    allv = np.concatenate([pos, neg])[order]
    # average ranks for ties
    i = 0
    while i < len(allv):
        j = i
        while j + 1 < len(allv) and allv[j + 1] == allv[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2 + 1
        i = j + 1
    r_pos = ranks[: len(pos)].sum()
    return float((r_pos - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def hard_vs_model_auc(true_typology: list[str], probs: list[dict]) -> float | None:
    """AUC of P(hard & core or deep) separating those two classes from business-model innovation."""
    keep = [i for i, t in enumerate(true_typology) if t in ("hard_core", "deep", "model_innovation")]
    if not keep:
        return None
    score = np.array([probs[i].get("hard_core", 0) + probs[i].get("deep", 0) for i in keep])
    positive = np.array([true_typology[i] != "model_innovation" for i in keep])
    return roc_auc(score, positive)
