"""FieldClassifier: which of the eight fields a text (plus codes) belongs to, with probabilities.

Scikit-learn style: parameters in `__init__`, learned state ending in `_`. The evidence is a
handful of signals per (document, field) — similarity to the field's own description, to the
labelled examples seen in `fit`, lexicon hits, negative terms, industry/patent codes — combined
by one logistic model whose weights are shared across fields (plus a per-field bias). Few
weights mean a few labelled examples per field already move it, and it cannot memorise a set.
"""

from __future__ import annotations

import numpy as np

from hardtech.analytics.classify.features import (Docs, analyse, as_label_matrix, code_matrix, field_prototypes,
                                                   term_similarity)
from hardtech.analytics.classify.bow import BowModel, out_of_fold
from hardtech.analytics.classify.linear import fit_binary, sigmoid
from hardtech.analytics.taxonomy import FIELD_IDS

FEATURES = ("zero_shot_similarity", "zero_shot_margin", "term_similarity", "term_margin",
            "example_similarity", "example_margin", "learned_words", "learned_words_margin",
            "lexicon_hits", "negative_terms", "codes_elsewhere")


class FieldClassifier:
    def __init__(self, threshold: float = 0.5, l2: float = 1.0, use_examples: bool = True, k_neighbours: int = 5,
                 code_strength: float = 0.8):
        self.threshold = threshold
        self.code_strength = code_strength
        self.k_neighbours = k_neighbours
        self.l2 = l2
        self.use_examples = use_examples

    # -- features ---------------------------------------------------------------------------
    def _knn(self, emb: np.ndarray, leave_one_out: bool) -> np.ndarray:
        """Per field: mean similarity to the k nearest labelled examples of the field minus that of
        the k nearest examples outside it (the example itself excluded while fitting)."""
        k = self.k_neighbours
        out = np.zeros((len(emb), self.examples_Y_.shape[1]), dtype=np.float32)
        masks = [(j, sign, sel) for j in range(self.examples_Y_.shape[1])
                 for sign, sel in ((1.0, self.examples_Y_[:, j] > 0), (-1.0, self.examples_Y_[:, j] == 0)) if sel.any()]
        block = 4096  # bounds memory: one block of similarities at a time
        for start in range(0, len(emb), block):
            S = emb[start:start + block] @ self.examples_emb_.T
            if leave_one_out:
                idx = np.arange(start, min(start + block, len(emb)))
                S[idx - start, idx] = -np.inf
            for j, sign, sel in masks:
                sub = S[:, sel]
                kk = min(k, sub.shape[1])
                top = -np.partition(-sub, kk - 1, axis=1)[:, :kk]
                top = np.where(np.isfinite(top), top, 0.0)
                out[start:start + block, j] += sign * top.mean(axis=1)
        return out

    def _features(self, docs: Docs, leave_one_out: bool = False) -> np.ndarray:
        """(n, 8 fields, k features)."""
        n, F = len(docs), len(FIELD_IDS)
        P = field_prototypes(docs.encoder)
        zs = docs.emb @ P.T  # (n, F)
        z_margin = zs - zs.max(axis=1, keepdims=True)
        E = getattr(self, "examples_emb_", None)
        if E is not None and self.use_examples:
            cs = self._knn(docs.emb, leave_one_out)
            c_margin = cs - cs.max(axis=1, keepdims=True)
        else:
            cs = np.zeros((n, F), dtype=np.float32)
            c_margin = cs
        ts = term_similarity(docs.emb, encoder=docs.encoder)
        t_margin = ts - ts.max(axis=1, keepdims=True)
        lex = np.array([[m.field_score(f) for f in FIELD_IDS] for m in docs.matches], dtype=np.float32)
        neg = np.array([[m.neg_score(f) for f in FIELD_IDS] for m in docs.matches], dtype=np.float32)
        B = getattr(self, "_oof_bow", None)
        if B is None:
            bow = getattr(self, "bow_", None)
            B = bow.decision([m.tokens for m in docs.matches]) if bow is not None else np.zeros((n, F))
        bow_margin = B - B.max(axis=1, keepdims=True)
        code, _ = code_matrix(docs)
        has_codes = (code.max(axis=1, keepdims=True) > 0).astype(np.float32)
        elsewhere = has_codes * (code == 0)
        return np.stack([zs, z_margin, ts, t_margin, cs, c_margin, np.tanh(B / 4), np.tanh(bow_margin / 4),
                         np.log1p(lex), np.log1p(neg), elsewhere], axis=2)

    def _design(self, feats: np.ndarray) -> np.ndarray:
        n, F, k = feats.shape
        onehot = np.tile(np.eye(F, dtype=np.float32), (n, 1))
        return np.hstack([feats.reshape(n * F, k), onehot])

    # -- estimator API -----------------------------------------------------------------------
    def fit(self, X, y, sample_weight=None, encoder: str | None = None) -> "FieldClassifier":
        """`y`: per document a list of field ids (or a `|`-separated string; `none` for none)."""
        docs = analyse(X, encoder)
        self.encoder_ = docs.encoder
        Y = as_label_matrix(list(y), FIELD_IDS)
        self.examples_emb_ = docs.emb.astype(np.float32)
        self.examples_Y_ = Y
        toks = [m.tokens for m in docs.matches]
        oof = out_of_fold(toks, Y)
        self._oof_bow = oof
        feats = self._features(docs, leave_one_out=True)
        del self._oof_bow
        self.bow_ = BowModel().fit(toks, Y)
        Xd = self._design(feats)
        sw = None if sample_weight is None else np.repeat(np.asarray(sample_weight, dtype=float), len(FIELD_IDS))
        w, b = fit_binary(Xd, Y.reshape(-1), l2=self.l2, sample_weight=sw)
        self.coef_ = w
        self.intercept_ = b
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
        prior = np.clip(self.examples_Y_.mean(axis=0), 0.02, 0.5) if hasattr(self, "examples_Y_") else np.full(8, 0.12)
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
        return p, feats * self.coef_[: feats.shape[2]]

    def predict(self, X) -> list[list[str]]:
        p = self.predict_proba(X)
        return [[f for f, v in zip(FIELD_IDS, row) if v >= self.threshold] for row in p]

    def get_params(self) -> dict:
        return {"threshold": self.threshold, "l2": self.l2, "use_examples": self.use_examples,
                "k_neighbours": self.k_neighbours, "code_strength": self.code_strength}
