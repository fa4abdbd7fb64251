"""TypologyClassifier: hard & core, deep, black, high tech or business-model innovation.

The seeds separate the five by criteria — physical vs virtual world, science base, product
orientation and industrial basis, maturity (TRL), barrier to imitation. Each criterion is
measured from evidence (cue terms, similarity to each class's definition and to labelled
examples, field evidence, TRL cues, R&D intensity and patents when known), and one multinomial
logistic model weighs them. The verdict names the criteria that pushed it.
"""

from __future__ import annotations

import math

import numpy as np

from hardtech.analytics.classify.features import (Docs, analyse, as_label_matrix, centroids, typology_hints,
                                                   typology_prototypes)
from hardtech.analytics.classify.bow import BowModel, out_of_fold
from hardtech.analytics.classify.linear import fit_conditional_logit, softmax
from hardtech.analytics.taxonomy import FIELD_IDS, TYPOLOGY_IDS

# feature name -> the seeds' criterion it measures (used to explain a verdict)
CRITERIA = {
    "definition_similarity": "closeness to the class definition",
    "example_similarity": "closeness to labelled examples of the class",
    "cue_terms": "wording typical of the class",
    "learned_words": "words that separated the classes in labelled examples",
    "field_evidence": "science base / physical product (hard-tech field terms)",
    "virtual_cues": "virtual world / business model (platform, app, delivery terms)",
    "maturity": "maturity (TRL)",
    "maturity_unknown": "maturity not stated",
    "rd_intensity": "R&D intensity",
    "patents": "barrier to imitation (invention patents)",
}


A_KINDS = ("definition_similarity", "definition_similarity", "example_similarity", "example_similarity",
           "cue_terms", "learned_words")
D_KINDS = ("field_evidence", "virtual_cues", "maturity", "maturity_unknown", "rd_intensity", "patents")


class TypologyClassifier:
    def __init__(self, l2: float = 1.0, use_examples: bool = True, iters: int = 1500, hint_strength: float = 2.0):
        self.hint_strength = hint_strength
        self.l2 = l2
        self.use_examples = use_examples
        self.iters = iters

    def _features(self, docs: Docs) -> tuple[np.ndarray, np.ndarray]:
        """(A, D): A[i, class, kind] evidence about each class; D[i, :] facts about the document."""
        n, K = len(docs), len(TYPOLOGY_IDS)
        P = typology_prototypes(docs.encoder)
        ds = docs.emb @ P.T
        C = getattr(self, "centroids_", None)
        es = docs.emb @ C.T if (C is not None and self.use_examples) else np.zeros((n, K))
        cues = np.log1p(np.array([[m.typology_score(c) for c in TYPOLOGY_IDS] for m in docs.matches]))
        B = getattr(self, "_oof_bow", None)
        if B is None:
            bow = getattr(self, "bow_", None)
            B = bow.decision([m.tokens for m in docs.matches]) if bow is not None else np.zeros((n, K))
        A = np.stack([ds, ds - ds.max(axis=1, keepdims=True), es, es - es.max(axis=1, keepdims=True), cues,
                      np.tanh(B / 4)], axis=2)
        field_ev = np.log1p(np.array([sum(m.field_score(f) for f in FIELD_IDS) for m in docs.matches]))
        neg_ev = np.log1p(np.array([sum(m.neg_score(f) for f in FIELD_IDS) for m in docs.matches]))
        trl = np.array([m.trl_estimate() or 0 for m in docs.matches], dtype=float) / 9.0
        rd = np.array([_log_ratio(i.get("rd_intensity")) for i in docs.indicators])
        pat = np.array([math.log1p(i["invention_patents"]) / 5 if i.get("invention_patents") else 0.0
                        for i in docs.indicators])
        D = np.stack([field_ev, neg_ev, trl, (trl == 0).astype(float), rd, pat], axis=1)
        return A.astype(np.float64), D

    def fit(self, X, y, encoder: str | None = None) -> "TypologyClassifier":
        docs = analyse(X, encoder)
        self.encoder_ = docs.encoder
        labels = [str(v).strip() for v in y]
        Y = as_label_matrix(labels, TYPOLOGY_IDS)
        if (Y.sum(axis=1) != 1).any():
            bad = [lab for lab, row in zip(labels, Y) if row.sum() != 1][:3]
            raise ValueError(f"each example needs exactly one typology class; got {bad}")
        self.centroids_ = centroids(docs.emb, Y)
        toks = [m.tokens for m in docs.matches]
        oof = out_of_fold(toks, Y)
        self._oof_bow = oof
        A, D = self._features(docs)
        del self._oof_bow
        self.bow_ = BowModel().fit(toks, Y)
        self.d_mean_, self.d_scale_ = D.mean(axis=0), D.std(axis=0) + 1e-6
        a, W, b = fit_conditional_logit(A, (D - self.d_mean_) / self.d_scale_, Y.argmax(axis=1), l2=self.l2,
                                        iters=self.iters)
        self.class_weights_, self.coef_, self.intercept_ = a, W, b
        self.classes_ = list(TYPOLOGY_IDS)
        return self

    def _check(self) -> None:
        if not hasattr(self, "coef_"):
            raise RuntimeError("TypologyClassifier is not fitted; call fit() or load a model")

    def _logits(self, docs: Docs) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        A, D = self._features(docs)
        Dn = (D - self.d_mean_) / self.d_scale_
        # a code's typology hint (Fintech, e-commerce → business-model innovation) is a rule, not a learned
        # weight: labelled examples rarely carry codes
        hint = self.hint_strength * typology_hints(docs)
        return np.einsum("ikm,m->ik", A, self.class_weights_) + Dn @ self.coef_ + self.intercept_ + hint, A, Dn

    def predict_proba(self, X) -> np.ndarray:
        self._check()
        docs = analyse(X, getattr(self, "encoder_", "static"))
        return softmax(self._logits(docs)[0])

    def predict(self, X) -> list[str]:
        p = self.predict_proba(X)
        return [TYPOLOGY_IDS[i] for i in p.argmax(axis=1)]

    def proba_and_drivers(self, docs: Docs, top: int = 3) -> tuple[np.ndarray, list[list[tuple[str, float]]]]:
        """Probabilities and, per document, the criteria that most favoured its predicted class."""
        self._check()
        Z, A, Dn = self._logits(docs)
        P = softmax(Z)
        hints = typology_hints(docs)
        out = []
        for i in range(len(docs)):
            k = int(P[i].argmax())
            agg: dict[str, float] = {}
            if hints[i, k]:
                agg["an industry code typical of the class"] = self.hint_strength * (1 - P[i, k])
            per_class = A[i] * self.class_weights_  # (K, m)
            rel = per_class[k] - P[i] @ per_class
            for name, v in zip(A_KINDS, rel):
                agg[CRITERIA[name]] = agg.get(CRITERIA[name], 0.0) + float(v)
            rel_d = Dn[i] * (self.coef_[:, k] - self.coef_ @ P[i])
            for name, v in zip(D_KINDS, rel_d):
                agg[CRITERIA[name]] = agg.get(CRITERIA[name], 0.0) + float(v)
            out.append(sorted(((c, v) for c, v in agg.items() if v > 0), key=lambda t: -t[1])[:top])
        return P, out

    def get_params(self) -> dict:
        return {"l2": self.l2, "use_examples": self.use_examples, "iters": self.iters,
                "hint_strength": self.hint_strength}


def _log_ratio(v) -> float:
    """R&D intensity on a log scale centred near 5% (the STAR threshold); 0 when unknown."""
    if v is None or v <= 0:
        return 0.0
    return float(np.clip(math.log(v / 0.05), -3, 3))
