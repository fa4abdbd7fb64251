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

from hardtech.analytics.classify.features import (Docs, analyse, as_label_matrix, typology_hints,
                                                   typology_prototypes)
from hardtech.analytics.classify.linear import fit_conditional_logit, softmax
from hardtech.analytics.classify.textmodel import TextModel, fit_linear, out_of_fold
from hardtech.analytics.taxonomy import FIELD_IDS, TYPOLOGY_IDS

# feature name -> the seeds' criterion it measures (used to explain a verdict)
CRITERIA = {
    "definition_similarity": "closeness to the class definition",
    "embedding_model": "closeness to labelled examples of the class (embedding)",
    "cue_terms": "wording typical of the class",
    "learned_words": "words that separated the classes in labelled examples",
    "field_evidence": "science base / physical product (hard-tech field terms)",
    "digital_evidence": "software and AI terms",
    "virtual_cues": "trading, distribution or services rather than making (counter-evidence terms)",
    "maturity": "maturity (TRL)",
    "maturity_unknown": "maturity not stated",
    "rd_intensity": "R&D intensity",
    "patents": "barrier to imitation (invention patents)",
}


A_KINDS = ("definition_similarity", "definition_similarity", "cue_terms", "learned_words", "embedding_model")
D_KINDS = ("field_evidence", "digital_evidence", "virtual_cues", "maturity", "maturity_unknown", "rd_intensity",
           "patents")


class TypologyClassifier:
    def __init__(self, l2: float = 1.0, iters: int = 1500, hint_strength: float = 2.0, text_l2: float = 1.0,
                 emb_l2: float = 1.0, cue_prior: float = 5.0):
        self.cue_prior = cue_prior
        self.hint_strength = hint_strength
        self.l2 = l2
        self.iters = iters
        self.text_l2 = text_l2
        self.emb_l2 = emb_l2

    def _features(self, docs: Docs, oof: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(A, D): A[i, class, kind] evidence about each class; D[i, :] facts about the document."""
        P = typology_prototypes(docs.encoder)
        ds = docs.emb @ P.T
        cues = np.log1p(docs.hits.typ)
        if oof is not None:
            B, E = oof
        else:
            B = self.text_.decision(docs.units)
            E = docs.emb @ self.emb_coef_ + self.emb_intercept_
        B = B - B.mean(axis=1, keepdims=True)
        E = E - E.mean(axis=1, keepdims=True)
        A = np.stack([ds, ds - ds.max(axis=1, keepdims=True), cues, np.clip(B, -12, 12) / 4,
                      np.clip(E, -12, 12) / 4], axis=2)
        digital = [FIELD_IDS.index("ai"), FIELD_IDS.index("it")]
        physical = [j for j in range(len(FIELD_IDS)) if j not in digital]
        field_ev = np.log1p(docs.hits.pos[:, physical].sum(axis=1))
        digital_ev = np.log1p(docs.hits.pos[:, digital].sum(axis=1))
        neg_ev = np.log1p(docs.hits.neg.sum(axis=1))
        trl = docs.hits.trl.astype(float) / 9.0
        rd = np.array([_log_ratio(i.get("rd_intensity")) for i in docs.indicators])
        pat = np.array([math.log1p(i["invention_patents"]) / 5 if i.get("invention_patents") else 0.0
                        for i in docs.indicators])
        D = np.stack([field_ev, digital_ev, neg_ev, trl, (trl == 0).astype(float), rd, pat], axis=1)
        return A.astype(np.float64), D

    def fit(self, X, y, sample_weight=None, encoder: str | None = None) -> "TypologyClassifier":
        docs = analyse(X, encoder)
        self.encoder_ = docs.encoder
        labels = [str(v).strip() for v in y]
        Y = as_label_matrix(labels, TYPOLOGY_IDS)
        if (Y.sum(axis=1) != 1).any():
            bad = [lab for lab, row in zip(labels, Y) if row.sum() != 1][:3]
            raise ValueError(f"each example needs exactly one typology class; got {bad}")
        w = np.ones(len(docs)) if sample_weight is None else np.asarray(sample_weight, dtype=float)
        tp = {"l2": self.text_l2, "multiclass": True}
        oof_b = out_of_fold(docs.units, Y, tp, w)
        oof_e = out_of_fold(docs.units, Y, {"l2": self.emb_l2, "multiclass": True}, w, X_dense=docs.emb)
        A, D = self._features(docs, (oof_b, oof_e))
        self.text_ = TextModel(**tp).fit(docs.units, Y, w)
        self.emb_coef_, self.emb_intercept_ = fit_linear(docs.emb, Y, self.emb_l2, True, w)
        self.d_mean_, self.d_scale_ = D.mean(axis=0), D.std(axis=0) + 1e-6
        # the seeds define the classes by their cue terms: that weight is held near `cue_prior`
        # (a penalty as strong as a quarter of the data) instead of being left to weak labels, which
        # rarely use the seeds' words
        prior = np.zeros(A.shape[2])
        a_l2 = np.full(A.shape[2], self.l2)
        prior[A_KINDS.index("cue_terms")] = self.cue_prior
        a_l2[A_KINDS.index("cue_terms")] = 0.25 * len(docs)
        a, W, b = fit_conditional_logit(A, (D - self.d_mean_) / self.d_scale_, Y.argmax(axis=1), l2=self.l2,
                                        iters=self.iters, sample_weight=w, a_prior=prior, a_l2=a_l2)
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
        D = Dn * self.d_scale_ + self.d_mean_
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
            for name, v, raw in zip(D_KINDS, rel_d, D[i]):
                if abs(raw) < 1e-9:  # the absence of a fact is no reason to name it (issue 12)
                    continue
                agg[CRITERIA[name]] = agg.get(CRITERIA[name], 0.0) + float(v)
            out.append(sorted(((c, v) for c, v in agg.items() if v > 0), key=lambda t: -t[1])[:top])
        return P, out

    def get_params(self) -> dict:
        return {"l2": self.l2, "iters": self.iters, "hint_strength": self.hint_strength, "text_l2": self.text_l2,
                "emb_l2": self.emb_l2, "cue_prior": self.cue_prior}


def _log_ratio(v) -> float:
    """R&D intensity on a log scale centred near 5% (the STAR threshold); 0 when unknown."""
    if v is None or v <= 0:
        return 0.0
    return float(np.clip(math.log(v / 0.05), -3, 3))
