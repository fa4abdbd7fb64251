"""FieldClassifier: which of the eight fields a text (plus codes) belongs to, with probabilities.

Scikit-learn style: parameters in `__init__`, learned state ending in `_`. One penalised logistic
model per field (one-vs-rest, fitted jointly) over one design matrix:

- the presence of units and English word pairs (`textmodel.py`), each row scaled to unit length;
- the sentence embedding;
- the lexicon evidence (field terms and negative terms per field, log-scaled) and the zero-shot
  similarities to each field's own description and terms.

Positives of rare fields count more (class weight (negatives / positives) ** `balance`), so a field
with few labelled examples still learns its words; the raw scores are then calibrated per field by
Platt scaling fitted on out-of-fold scores (each example scored by a model that did not see it),
so a probability of 0.7 means about 70 % on unseen text and one threshold serves every field.
Weakly labelled sources (YC tags, IT桔子 industries, patents' CPC codes) have their own base
rates (nearly every AI patent is "ai", most YC companies are software): each gets its own
intercepts while fitting, and predictions use ours (the development set's).
Codes (CPC, GICS …) are added afterwards as damped log-odds through the concordances: labelled
examples rarely carry codes, so that is a rule, not a learned weight.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from hardtech.analytics.classify.features import (Docs, analyse, as_label_matrix, code_matrix, field_prototypes,
                                                   term_similarity)
from hardtech.analytics.classify.linear import fit_binary, sigmoid
from hardtech.analytics.classify.textmodel import TextModel, lbfgs
from hardtech.analytics.classify.typology import REFERENCE_SOURCES
from hardtech.analytics.taxonomy import FIELD_IDS

# signal groups of the design matrix, named in the evidence ("strongest signals")
FEATURES = ("learned_words", "embedding_model", "lexicon_terms", "negative_terms", "zero_shot_similarity",
            "term_similarity", "codes")
N_DENSE = 4 * len(FIELD_IDS)  # field terms, negative terms, zero-shot and term similarity per field


def fit_one_vs_rest(X, Y: np.ndarray, SW: np.ndarray, l2: float, iters: int = 400) -> tuple[np.ndarray, np.ndarray]:
    """Independent penalised logistic models, one per column of Y, with a weight per (example, output)."""
    n, d = X.shape
    k = Y.shape[1]
    SW = SW / SW.sum(axis=0, keepdims=True)
    prior = np.clip((SW * Y).sum(axis=0), 1e-3, 1 - 1e-3)

    def f(theta):
        W = theta[: d * k].reshape(d, k)
        b = theta[d * k:]
        Z = np.asarray(X @ W) + b
        loss = float((SW * (np.logaddexp(0, Z) - Y * Z)).sum()) + 0.5 * l2 / n * float((W * W).sum())
        G = SW * (sigmoid(Z) - Y)
        gW = np.asarray(X.T @ G) + l2 / n * W
        return loss, np.concatenate([gW.ravel(), G.sum(axis=0)])

    x = lbfgs(f, np.concatenate([np.zeros(d * k), np.log(prior / (1 - prior))]), iters)
    return x[: d * k].reshape(d, k).astype(np.float32), x[d * k:].astype(np.float32)


class FieldClassifier:
    def __init__(self, threshold: float = 0.5, l2: float = 1.0, emb_scale: float = 1.0, dense_scale: float = 0.5,
                 balance: float = 0.5, code_strength: float = 1.0, folds: int = 5, source_offsets: bool = False):
        self.threshold = threshold
        self.l2 = l2
        self.emb_scale = emb_scale
        self.dense_scale = dense_scale
        self.balance = balance
        self.code_strength = code_strength
        self.folds = folds
        self.source_offsets = source_offsets

    # -- design -----------------------------------------------------------------------------
    @staticmethod
    def dense_features(docs: Docs) -> np.ndarray:
        """(n, 32): field terms, negative terms, zero-shot and term similarity (centred per text)."""
        zs = docs.emb @ field_prototypes(docs.encoder).T
        ts = term_similarity(docs.emb, encoder=docs.encoder)
        return np.hstack([np.log1p(docs.hits.pos), np.log1p(docs.hits.neg), zs - zs.mean(axis=1, keepdims=True),
                          ts - ts.mean(axis=1, keepdims=True)]).astype(np.float32)

    def _blocks(self, docs: Docs, text: TextModel) -> list:
        return [text.matrix(docs.units, cache=docs), docs.emb * self.emb_scale,
                self.dense_features(docs) * self.dense_scale]

    def _design(self, docs: Docs, text: TextModel, sources: list[str] | None = None):
        """The design matrix; with `sources` (fitting), one column per weak source: its own intercepts."""
        a, b, c = self._blocks(docs, text)
        parts = [a, sparse.csr_matrix(b), sparse.csr_matrix(c)]
        if sources:
            S = np.array([[docs.source_of(i) == s for s in sources] for i in range(len(docs))], np.float32)
            parts.append(sparse.csr_matrix(S * 3.0))
        return sparse.hstack(parts).tocsr()

    def _sources(self, docs: Docs) -> list[str]:
        if not self.source_offsets:
            return []
        return sorted({docs.source_of(i) for i in range(len(docs))} - set(REFERENCE_SOURCES))

    def _fit_raw(self, docs: Docs, Y: np.ndarray, w: np.ndarray, sources: list[str]):
        text = TextModel().vocabulary(docs.units)
        pos = Y.sum(axis=0)
        cw = np.where(Y > 0, ((len(Y) - pos) / np.maximum(pos, 1))[None, :] ** self.balance, 1.0)
        W, b = fit_one_vs_rest(self._design(docs, text, sources), Y, w[:, None] * cw, self.l2)
        return text, W, b

    # -- estimator API -----------------------------------------------------------------------
    def fit(self, X, y, sample_weight=None, encoder: str | None = None) -> "FieldClassifier":
        """`y`: per document a list of field ids (or a `|`-separated string; `none` for none)."""
        docs = analyse(X, encoder)
        self.encoder_ = docs.encoder
        Y = as_label_matrix(list(y), FIELD_IDS)
        w = np.ones(len(docs)) if sample_weight is None else np.asarray(sample_weight, dtype=float)
        # Platt scaling on out-of-fold scores: calibrated probabilities on text the model never saw
        # (scores include each weak source's own intercepts: the map is then used with ours)
        sources = self._sources(docs)
        oof = np.zeros(Y.shape, dtype=np.float32)
        fold = np.arange(len(docs)) % self.folds
        for k in range(self.folds):
            tr, te = np.where(fold != k)[0], np.where(fold == k)[0]
            if len(tr) and len(te):
                text, W, b = self._fit_raw(docs.subset(tr), Y[tr], w[tr], sources)
                oof[te] = np.asarray(self._design(docs.subset(te), text, sources) @ W) + b
        self.platt_ = np.zeros((len(FIELD_IDS), 2), dtype=np.float64)
        for j in range(len(FIELD_IDS)):
            a, c = fit_binary(oof[:, [j]].astype(np.float64), Y[:, j], l2=1e-3, sample_weight=w)
            self.platt_[j] = (max(float(a[0]), 1e-3), c)
        # each training example's probabilities from a model that did not see it (codes included):
        # the typology reads them while fitting as it will read unseen text (not saved)
        self.oof_proba_ = sigmoid(oof * self.platt_[:, 0] + self.platt_[:, 1] + self.code_log_odds(docs, Y, w))
        self.text_, W, b = self._fit_raw(docs, Y, w, sources)
        self.sources_ = sources
        self.source_coef_ = W[len(W) - len(sources):] * 3.0 if sources else np.zeros((0, len(FIELD_IDS)), np.float32)
        self._set_weights(W[: len(W) - len(sources)], b)
        self.prior_ = np.clip((w[:, None] * Y).sum(axis=0) / w.sum(), 0.02, 0.5)
        self.classes_ = list(FIELD_IDS)
        self.n_examples_ = int(len(docs))
        return self

    def _set_weights(self, W: np.ndarray, b: np.ndarray) -> None:
        """Split the joint weights by block; the text block lives in `text_` (its `coef_` are the
        learned word weights the evidence names)."""
        d = self.text_.n_features_
        W = W.copy()
        W[:-N_DENSE] = W[:-N_DENSE].astype(np.float16).astype(np.float32)  # as stored: a saved model predicts the same
        self.text_.coef_, self.text_.intercept_ = W[:d], b
        self.emb_coef_ = W[d:len(W) - N_DENSE]
        self.dense_coef_ = W[-N_DENSE:]
        self.coef_ = W  # kept whole for the version hash
        self.intercept_ = b

    def _check(self) -> None:
        if not hasattr(self, "platt_"):
            raise RuntimeError("FieldClassifier is not fitted; call fit() or load a model")

    def code_log_odds(self, docs: Docs, Y: np.ndarray | None = None, w: np.ndarray | None = None) -> np.ndarray:
        """Evidence from codes added to the learned log-odds, naive-Bayes style.

        A concordance weight w reads as "P(field | code) ≈ w"; its log-odds against the field's
        base rate are added (naive Bayes: `code_strength` 1; lower it to damp codes where they and the
        text say the same thing).
        """
        code, _ = code_matrix(docs)
        if Y is not None:  # while fitting, before `prior_` is set
            prior = np.clip((w[:, None] * Y).sum(axis=0) / w.sum(), 0.02, 0.5)
        else:
            prior = getattr(self, "prior_", np.full(len(FIELD_IDS), 0.12))
        w = np.clip(code, 0.05, 0.95)
        lo = np.log(w / (1 - w)) - np.log(prior / (1 - prior))
        return np.where(code > 0, self.code_strength * lo, 0.0)

    def predict_proba(self, X) -> np.ndarray:
        return self.proba_and_contributions(analyse(X, getattr(self, "encoder_", "static")))[0]

    def proba_and_contributions(self, docs: Docs) -> tuple[np.ndarray, np.ndarray]:
        """Probabilities (n, F) and each signal group's contribution to each field's log-odds (n, F, groups)."""
        self._check()
        Xt, E, D = self._blocks(docs, self.text_)
        a = self.platt_[:, 0][None, :]
        F = len(FIELD_IDS)
        parts = [np.asarray(Xt @ self.text_.coef_), E @ self.emb_coef_]
        Dw = D[:, :, None] * self.dense_coef_[None, :, :]  # (n, 32, F)
        parts += [Dw[:, g * F:(g + 1) * F].sum(axis=1) for g in range(4)]
        codes = self.code_log_odds(docs)
        contrib = np.stack([p * a for p in parts] + [codes], axis=2)
        z = a * (sum(parts) + self.intercept_) + self.platt_[:, 1][None, :] + codes
        p = sigmoid(z)
        p[docs.empty] = 0.0  # no text and no codes: insufficient evidence, all mass on "none"
        return p, contrib

    def predict(self, X) -> list[list[str]]:
        p = self.predict_proba(X)
        return [[f for f, v in zip(FIELD_IDS, row) if v >= self.threshold] for row in p]

    def get_params(self) -> dict:
        return {"threshold": self.threshold, "l2": self.l2, "emb_scale": self.emb_scale,
                "dense_scale": self.dense_scale, "balance": self.balance, "code_strength": self.code_strength,
                "folds": self.folds, "source_offsets": self.source_offsets}

    # -- persistence -------------------------------------------------------------------------
    def state(self) -> dict:
        st = {f"text_{k}": v for k, v in self.text_.state().items()}
        st.update({"emb_coef": self.emb_coef_.astype(np.float16), "dense_coef": self.dense_coef_,
                   "intercept": self.intercept_, "platt": self.platt_, "prior": self.prior_,
                   "source_coef": self.source_coef_, "sources": np.array(self.sources_, dtype=str)})
        return st

    @classmethod
    def from_state(cls, params: dict, st: dict, encoder: str) -> "FieldClassifier":
        m = cls(**params)
        m.text_ = TextModel.from_state({}, {k[5:]: v for k, v in st.items() if k.startswith("text_")})
        m.emb_coef_ = st["emb_coef"].astype(np.float32)
        m.dense_coef_ = st["dense_coef"].astype(np.float32)
        m.intercept_ = st["intercept"].astype(np.float32)
        m.platt_ = st["platt"].astype(np.float64)
        m.prior_ = st["prior"]
        m.source_coef_ = st["source_coef"].astype(np.float32)
        m.sources_ = [str(x) for x in st["sources"]]
        m.coef_ = np.vstack([m.text_.coef_, m.emb_coef_, m.dense_coef_])
        m.classes_ = list(FIELD_IDS)
        m.encoder_ = encoder
        return m
