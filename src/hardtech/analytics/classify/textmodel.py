"""The learned text model: a regularised linear model over a text's units and English word pairs.

Replaces summed word weights (issue 12): features are the *presence* of units (English stems
without stop words, Chinese character bigrams) and of adjacent English word pairs, each text's
row scaled to unit length, so a long text does not pile up evidence word by word (the old model's
false-positive rate grew fivefold with length). Units seen in fewer than `min_df` training texts
or in more than `max_df` of them are not features. Fitted by L-BFGS on a penalised logistic loss:
independent per output for fields (several may hold), softmax for the typology (one holds).

Prediction is a sparse matrix product over integer unit ids, no per-word Python.
"""

from __future__ import annotations

import hashlib

import numpy as np
from scipy import sparse

from hardtech.analytics.classify.units import VOCAB, Units

BIGRAM_SHIFT = np.int64(1) << np.int64(32)


def fit_linear(X, Y: np.ndarray, l2: float, multiclass: bool, sample_weight: np.ndarray | None = None,
               iters: int = 300, offset: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Penalised logistic (independent outputs) or softmax regression; X sparse or dense; `offset`:
    fixed log-odds added to every example's scores (rules the fit works around, not learns)."""
    n, d = X.shape
    k = Y.shape[1]
    sw = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=float)
    sw = sw / sw.sum()
    Y = Y.astype(float)
    prior = np.clip((sw[:, None] * Y).sum(axis=0), 1e-3, 1 - 1e-3)
    b0 = np.log(prior) if multiclass else np.log(prior / (1 - prior))

    def f(theta):
        W = theta[: d * k].reshape(d, k)
        b = theta[d * k:]
        Z = np.asarray(X @ W) + b
        if offset is not None:
            Z = Z + offset
        if multiclass:
            Z = Z - Z.max(axis=1, keepdims=True)
            lse = np.log(np.exp(Z).sum(axis=1, keepdims=True))
            P = np.exp(Z - lse)
            loss = -(sw[:, None] * Y * (Z - lse)).sum()
            G = sw[:, None] * (P - Y)
        else:
            loss = (sw[:, None] * (np.logaddexp(0, Z) - Y * Z)).sum()
            G = sw[:, None] * (1 / (1 + np.exp(-np.clip(Z, -35, 35))) - Y)
        loss += 0.5 * l2 / n * (W * W).sum()
        gW = np.asarray(X.T @ G) + l2 / n * W
        return loss, np.concatenate([gW.ravel(), G.sum(axis=0)])

    theta0 = np.concatenate([np.zeros(d * k), b0])
    x = lbfgs(f, theta0, iters)
    return x[: d * k].reshape(d, k).astype(np.float32), x[d * k:].astype(np.float32)


def lbfgs(f, x: np.ndarray, iters: int = 300, m: int = 10, tol: float = 1e-6) -> np.ndarray:
    """Minimise a smooth convex `f` (returning value and gradient) by L-BFGS with backtracking.

    Written out because scipy's L-BFGS-B spends most of its time in bound handling we do not need
    (about 0.1 s per step at 400k parameters here, against 5 ms for the two-loop recursion).
    """
    def dot(a, b):  # einsum: BLAS ddot is several times slower on some builds here
        return float(np.einsum("i,i->", a, b))

    fx, g = f(x)
    S, Yh, rho = [], [], []
    for _ in range(iters):
        q = g.copy()
        alpha = []
        for s_, y_, r_ in zip(reversed(S), reversed(Yh), reversed(rho)):
            a = r_ * dot(s_, q)
            alpha.append(a)
            q -= a * y_
        if S:
            q *= dot(S[-1], Yh[-1]) / dot(Yh[-1], Yh[-1])
        for (s_, y_, r_), a in zip(zip(S, Yh, rho), reversed(alpha)):
            q += s_ * (a - r_ * dot(y_, q))
        direction = -q
        slope = dot(g, direction)
        if slope >= 0:  # not a descent direction: restart from the gradient
            S, Yh, rho = [], [], []
            direction, slope = -g, -dot(g, g)
        step = 1.0 if S else 1.0 / max(np.abs(g).max(), 1e-12)
        for _ in range(30):
            x_new = x + step * direction
            f_new, g_new = f(x_new)
            if f_new <= fx + 1e-4 * step * slope:
                break
            step *= 0.5
        else:
            return x
        s_, y_ = x_new - x, g_new - g
        sy = dot(s_, y_)
        if sy > 1e-12:
            S.append(s_); Yh.append(y_); rho.append(1.0 / sy)
            if len(S) > m:
                S.pop(0); Yh.pop(0); rho.pop(0)
        converged = abs(fx - f_new) <= tol * max(abs(fx), 1e-12)
        x, fx, g = x_new, f_new, g_new
        if converged:
            break
    return x


class TextModel:
    def __init__(self, l2: float = 1.0, multiclass: bool = False, min_df: int = 2, max_df: float = 0.25,
                 bigrams: bool = True):
        self.l2 = l2
        self.multiclass = multiclass
        self.min_df = min_df
        self.max_df = max_df
        self.bigrams = bigrams

    # -- feature space ------------------------------------------------------------------------------
    @staticmethod
    def _pairs(u: Units) -> tuple[np.ndarray, np.ndarray]:
        """(doc, bigram key) of adjacent English units."""
        if len(u.ids) < 2:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        doc = u.doc
        ok = (doc[:-1] == doc[1:]) & u.english[:-1] & u.english[1:]
        return doc[:-1][ok], u.ids[:-1][ok] * BIGRAM_SHIFT + u.ids[1:][ok]

    def vocabulary(self, u: Units) -> "TextModel":
        """Choose the features (units and word pairs by document frequency) from training units."""
        self._vocabulary(u)
        return self

    def share_vocabulary(self, other: "TextModel") -> "TextModel":
        """Use another model's features, so one sparse matrix per batch serves both (fields, typology)."""
        self.unigrams_, self.bigrams_ = list(other.unigrams_), list(other.bigrams_)
        self._index()
        return self

    def _vocabulary(self, u: Units, weight: np.ndarray | None = None) -> None:
        n = len(u)
        doc = u.doc
        uni = np.unique(doc * (len(VOCAB) + 1) + u.ids)
        uid, df = np.unique(uni % (len(VOCAB) + 1), return_counts=True)
        keep = (df >= self.min_df) & (df <= max(self.min_df, self.max_df * n))
        self.unigrams_ = [VOCAB.strings[i] for i in uid[keep]]
        if self.bigrams:
            d, key = self._pairs(u)
            pk = np.unique(np.stack([d, key], axis=1), axis=0) if len(d) else np.zeros((0, 2), np.int64)
            bk, bdf = np.unique(pk[:, 1], return_counts=True) if len(pk) else (np.zeros(0, np.int64), np.zeros(0))
            bk = bk[bdf >= max(self.min_df, 2)]
            self.bigrams_ = [f"{VOCAB.strings[k // BIGRAM_SHIFT]} {VOCAB.strings[k % BIGRAM_SHIFT]}" for k in bk.tolist()]
        else:
            self.bigrams_ = []
        self._index()

    def _index(self) -> None:
        """Map the stored unit strings onto this process's unit ids."""
        uni = np.array([VOCAB.unit(s) for s in self.unigrams_], dtype=np.int64)
        self._umap = np.full(len(VOCAB) + 1, -1, dtype=np.int64)  # units added later are no features
        self._umap[uni] = np.arange(len(uni))
        keys = []
        for s in self.bigrams_:
            a, b = s.split(" ")
            keys.append(VOCAB.unit(a) * int(BIGRAM_SHIFT) + VOCAB.unit(b))
        keys = np.array(keys, dtype=np.int64)
        order = np.argsort(keys)
        self._bkeys = keys[order]
        self._bcols = (len(uni) + order).astype(np.int64)
        self.n_features_ = len(uni) + len(keys)
        h = hashlib.sha256("\n".join(self.unigrams_).encode() + b"\0" + "\n".join(self.bigrams_).encode())
        self.vocab_key_ = h.hexdigest()[:16]

    def matrix(self, u: Units, cache=None) -> sparse.csr_matrix:
        """(texts, features) presence matrix, rows at unit length. `cache`: an object (the batch's
        `Docs`) on which the matrix is kept per vocabulary, so the field and typology models and the
        evidence build it once per batch."""
        if cache is not None:
            store = cache.__dict__.setdefault("_text_matrices", {})
            key = (self.vocab_key_, id(u))
            if key not in store:
                store[key] = self.matrix(u)
            return store[key]
        n = len(u)
        doc = u.doc
        ids = u.ids
        m = self._umap
        col = np.where(ids < len(m), m[np.minimum(ids, len(m) - 1)], -1) if len(ids) else np.zeros(0, np.int64)
        rows = [doc[col >= 0]]
        cols = [col[col >= 0]]
        if len(self._bkeys):
            d, key = self._pairs(u)
            p = np.searchsorted(self._bkeys, key)
            p[p >= len(self._bkeys)] = 0
            hit = self._bkeys[p] == key if len(key) else np.zeros(0, bool)
            rows.append(d[hit])
            cols.append(self._bcols[p[hit]])
        r = np.concatenate(rows)
        c = np.concatenate(cols)
        nf = max(self.n_features_, 1)
        # presence, not counts: the conversion merges repeated (text, feature) pairs, then every
        # entry becomes 1 / sqrt(features of its text) (rows at unit length)
        X = sparse.csr_matrix((np.ones(len(r), np.float32), (r, c)), shape=(n, nf))
        X.sum_duplicates()
        cnt = np.diff(X.indptr)
        X.data = (1.0 / np.sqrt(np.repeat(np.maximum(cnt, 1), cnt))).astype(np.float32)
        return X

    # -- estimator ----------------------------------------------------------------------------------
    def fit(self, u: Units, Y: np.ndarray, sample_weight: np.ndarray | None = None, cache=None) -> "TextModel":
        """Fits the vocabulary too unless one was set (`share_vocabulary`)."""
        w = np.ones(len(u)) if sample_weight is None else np.asarray(sample_weight, float)
        if not hasattr(self, "vocab_key_"):
            self._vocabulary(u, w)
        X = self.matrix(u, cache=cache)
        self.coef_, self.intercept_ = fit_linear(X, Y, self.l2, self.multiclass, w)
        return self

    def decision(self, u: Units, cache=None) -> np.ndarray:
        if self.n_features_ == 0:
            return np.tile(self.intercept_, (len(u), 1))
        return np.asarray(self.matrix(u, cache=cache) @ self.coef_) + self.intercept_

    def feature_names(self) -> list[str]:
        """Unit and word-pair strings by column (built once per model)."""
        names = self.__dict__.get("_names")
        if names is None:
            names = self._names = self.unigrams_ + self.bigrams_
        return names

    def state(self) -> dict:
        return {"unigrams": np.array(self.unigrams_, dtype=str), "bigrams": np.array(self.bigrams_, dtype=str),
                "coef": self.coef_.astype(np.float16), "intercept": self.intercept_}

    @classmethod
    def from_state(cls, params: dict, st: dict) -> "TextModel":
        m = cls(**params)
        m.unigrams_ = [str(s) for s in st["unigrams"]]
        m.bigrams_ = [str(s) for s in st["bigrams"]]
        m.coef_ = st["coef"].astype(np.float32)
        m.intercept_ = st["intercept"].astype(np.float32)
        m._index()
        return m

    def get_params(self) -> dict:
        return {"l2": self.l2, "multiclass": self.multiclass, "min_df": self.min_df, "max_df": self.max_df,
                "bigrams": self.bigrams}
