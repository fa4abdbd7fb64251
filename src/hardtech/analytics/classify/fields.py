"""FieldClassifier: which of the eight fields a text (plus codes) belongs to, with probabilities.

Scikit-learn style: parameters in `__init__`, learned state ending in `_`. Two learned models read
the text — the linear text model over units and word pairs (`textmodel.py`) and a linear model
over the static sentence embedding — and their out-of-fold decisions join the zero-shot signals
(similarity to each field's own description and terms), the lexicon hits, negative terms and
codes. One logistic model combines them: weights shared across fields plus, for the two learned
signals, a per-field weight and a per-field bias, so a field whose text model is reliable can
lean on it while a few labelled examples still move every field.
"""

from __future__ import annotations

import numpy as np

from hardtech.analytics.classify.features import (Docs, analyse, as_label_matrix, code_matrix, field_prototypes,
                                                   term_similarity)
from hardtech.analytics.classify.linear import fit_binary, sigmoid
from hardtech.analytics.classify.textmodel import TextModel, fit_linear, out_of_fold
from hardtech.analytics.taxonomy import FIELD_IDS

FEATURES = ("learned_words", "learned_words_margin", "embedding_model", "embedding_model_margin",
            "zero_shot_similarity", "zero_shot_margin", "term_similarity", "term_margin",
            "lexicon_hits", "negative_terms", "codes_elsewhere")
PER_FIELD = (0, 2, 8)  # features that also get a weight per field (learned words, embedding, lexicon)


class FieldClassifier:
    def __init__(self, threshold: float = 0.5, l2: float = 1.0, text_l2: float = 1.0, emb_l2: float = 1.0,
                 code_strength: float = 0.8):
        self.threshold = threshold
        self.l2 = l2
        self.text_l2 = text_l2
        self.emb_l2 = emb_l2
        self.code_strength = code_strength

    def _text_params(self) -> dict:
        return {"l2": self.text_l2, "multiclass": False}

    # -- features ---------------------------------------------------------------------------
    def _features(self, docs: Docs, oof: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
        """(n, 8 fields, k features)."""
        if oof is not None:
            B, E = oof
        else:
            B = self.text_.decision(docs.units)
            E = docs.emb @ self.emb_coef_ + self.emb_intercept_
        B = np.clip(B, -12, 12) / 4
        E = np.clip(E, -12, 12) / 4
        P = field_prototypes(docs.encoder)
        zs = docs.emb @ P.T
        ts = term_similarity(docs.emb, encoder=docs.encoder)
        code, _ = code_matrix(docs)
        has_codes = (code.max(axis=1, keepdims=True) > 0).astype(np.float32)
        return np.stack([B, B - B.max(axis=1, keepdims=True), E, E - E.max(axis=1, keepdims=True),
                         zs, zs - zs.max(axis=1, keepdims=True), ts, ts - ts.max(axis=1, keepdims=True),
                         np.log1p(docs.hits.pos), np.log1p(docs.hits.neg), has_codes * (code == 0)],
                        axis=2).astype(np.float32)

    @staticmethod
    def _design(feats: np.ndarray) -> np.ndarray:
        n, F, k = feats.shape
        onehot = np.tile(np.eye(F, dtype=np.float32), (n, 1))
        flat = feats.reshape(n * F, k)
        inter = [onehot * flat[:, [j]] for j in PER_FIELD]
        return np.hstack([flat, onehot, *inter])

    # -- estimator API -----------------------------------------------------------------------
    def fit(self, X, y, sample_weight=None, encoder: str | None = None) -> "FieldClassifier":
        """`y`: per document a list of field ids (or a `|`-separated string; `none` for none)."""
        docs = analyse(X, encoder)
        self.encoder_ = docs.encoder
        Y = as_label_matrix(list(y), FIELD_IDS)
        w = np.ones(len(docs)) if sample_weight is None else np.asarray(sample_weight, dtype=float)
        oof_b = out_of_fold(docs.units, Y, self._text_params(), w)
        oof_e = out_of_fold(docs.units, Y, {"l2": self.emb_l2, "multiclass": False}, w, X_dense=docs.emb)
        feats = self._features(docs, (oof_b, oof_e))
        self.text_ = TextModel(**self._text_params()).fit(docs.units, Y, w)
        self.emb_coef_, self.emb_intercept_ = fit_linear(docs.emb, Y, self.emb_l2, False, w)
        Xd = self._design(feats)
        sw = np.repeat(w, len(FIELD_IDS))
        self.coef_, self.intercept_ = fit_binary(Xd, Y.reshape(-1), l2=self.l2, sample_weight=sw)
        self.prior_ = np.clip((w[:, None] * Y).sum(axis=0) / w.sum(), 0.02, 0.5)
        self.classes_ = list(FIELD_IDS)
        self.n_examples_ = int(len(docs))
        return self

    def _check(self) -> None:
        if not hasattr(self, "coef_"):
            raise RuntimeError("FieldClassifier is not fitted; call fit() or load a model")

    def code_log_odds(self, docs: Docs) -> np.ndarray:
        """Evidence from codes added to the learned log-odds, naive-Bayes style.

        A concordance weight w reads as "P(field | code) ≈ w"; its log-odds against the field's
        base rate are added, damped by `code_strength` because codes and text are not independent.
        Labelled examples rarely carry codes, so this is a rule, not a learned weight.
        """
        code, _ = code_matrix(docs)
        prior = getattr(self, "prior_", np.full(len(FIELD_IDS), 0.12))
        w = np.clip(code, 0.05, 0.95)
        lo = np.log(w / (1 - w)) - np.log(prior / (1 - prior))
        return np.where(code > 0, self.code_strength * lo, 0.0)

    def predict_proba(self, X) -> np.ndarray:
        return self.proba_and_contributions(analyse(X, getattr(self, "encoder_", "static")))[0]

    def proba_and_contributions(self, docs: Docs) -> tuple[np.ndarray, np.ndarray]:
        """Probabilities (n, F) and each signal's signed contribution to each field's log-odds (n, F, k)."""
        self._check()
        feats = self._features(docs)
        z = (self._design(feats) @ self.coef_ + self.intercept_).reshape(len(docs), len(FIELD_IDS))
        p = sigmoid(z + self.code_log_odds(docs))
        p[docs.empty] = 0.0  # no text and no codes: insufficient evidence, all mass on "none"
        k = feats.shape[2]
        w = np.tile(self.coef_[:k], (len(FIELD_IDS), 1))
        for m, j in enumerate(PER_FIELD):
            w[:, j] += self.coef_[k + len(FIELD_IDS) * (1 + m): k + len(FIELD_IDS) * (2 + m)]
        return p, feats * w[None]

    def predict(self, X) -> list[list[str]]:
        p = self.predict_proba(X)
        return [[f for f, v in zip(FIELD_IDS, row) if v >= self.threshold] for row in p]

    def get_params(self) -> dict:
        return {"threshold": self.threshold, "l2": self.l2, "text_l2": self.text_l2, "emb_l2": self.emb_l2,
                "code_strength": self.code_strength}
