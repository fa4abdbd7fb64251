"""`hardtech evaluate`: score a model (or k-fold cross-validation) against labelled descriptions."""

from __future__ import annotations

import numpy as np

from hardtech.analytics.classify.features import Docs, analyse, as_label_matrix
from hardtech.analytics.classify.metrics import (confusion, expected_calibration_error, field_report,
                                                 hard_vs_model_auc, macro_f1)
from hardtech.analytics.classify.pipeline import HardTechClassifier
from hardtech.analytics.taxonomy import FIELD_IDS, TYPOLOGY_IDS


def evaluate(records, fields, typology, model: HardTechClassifier | None = None, cv: int | None = None,
             seed: int = 0, extra_train: tuple | None = None, encoder: str | None = None) -> dict:
    """Metrics of `model` on the labelled records, or of k-fold cross-validation when `cv` is given.

    In cross-validation every record is predicted by a model that never saw it; `extra_train`
    (records, fields, typology[, weights]) is added to every training fold (never to a test fold);
    `encoder` chooses the embedding of the models fitted there (default: the default model's).
    """
    encoder = model.encoder if model is not None else (encoder or HardTechClassifier().encoder)
    docs = analyse(records, encoder)
    n = len(docs)
    Y = as_label_matrix(list(fields), FIELD_IDS)
    typ = [str(t).strip() or "" for t in typology]
    P = np.zeros((n, len(FIELD_IDS)))
    T: list[dict] = [{} for _ in range(n)]
    if cv:
        rng = np.random.default_rng(seed)
        folds = rng.permutation(n) % cv
        extra = analyse(extra_train[0], encoder) if extra_train else None
        threshold = HardTechClassifier().field_threshold
        for k in range(cv):
            tr, te = np.where(folds != k)[0], np.where(folds == k)[0]
            train_docs = docs.subset(tr)
            f_lab = [fields[i] for i in tr]
            t_lab = [typ[i] for i in tr]
            w = [1.0] * len(tr)
            if extra is not None:
                train_docs = Docs.concat(train_docs, extra)
                f_lab += list(extra_train[1])
                t_lab += list(extra_train[2])
                w += list(extra_train[3]) if len(extra_train) > 3 else [1.0] * len(extra_train[1])
            clf = HardTechClassifier(encoder=encoder).fit(train_docs, f_lab, t_lab, sample_weight=w)
            res = clf.classify(docs.subset(te))
            for i, r in zip(te, res):
                P[i] = [r["field_probabilities"][f] for f in FIELD_IDS]
                T[i] = r["typology_probabilities"]
        label = f"{cv}-fold cross-validation (seed {seed})"
    else:
        threshold = model.field_threshold
        res = model.classify(docs)
        for i, r in enumerate(res):
            P[i] = [r["field_probabilities"][f] for f in FIELD_IDS]
            T[i] = r["typology_probabilities"]
        label = model.version_
    rows = field_report(Y, P, threshold)
    pred_t = [max(t, key=t.get) if t else "none" for t in T]
    has_t = [i for i, t in enumerate(typ) if t in TYPOLOGY_IDS]
    acc = float(np.mean([pred_t[i] == typ[i] for i in has_t])) if has_t else None
    typed = [i for i in has_t if T[i]]
    acc_typed = float(np.mean([pred_t[i] == typ[i] for i in typed])) if typed else None
    return {
        "model": label, "n": n, "threshold": threshold, "fields": rows, "macro_f1": round(macro_f1(rows), 3),
        "typology_accuracy": None if acc is None else round(acc, 3),
        # rows withheld from the typology (organisation kind, too little text) count as wrong above;
        # here is the accuracy over the rows that were given a typology, and how many those were
        "typology_accuracy_given": None if acc_typed is None else round(acc_typed, 3),
        "typology_given": len(typed), "typology_labelled": len(has_t),
        "confusion": confusion([typ[i] for i in has_t], [pred_t[i] for i in has_t]),
        "ece": round(expected_calibration_error(Y, P), 3),
        "auc_hard_vs_model": _round(hard_vs_model_auc([typ[i] for i in has_t], [T[i] for i in has_t])),
        # the same over the rows given a typology (a withheld row has no score to rank; above it scores 0)
        "auc_hard_vs_model_given": _round(hard_vs_model_auc([typ[i] for i in typed], [T[i] for i in typed])),
        "field_probabilities": P, "typology_predictions": pred_t,
    }


def _round(v):
    return None if v is None else round(v, 3)


