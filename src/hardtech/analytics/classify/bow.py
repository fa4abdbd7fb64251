"""A learned lexicon: per-field weights for the words (English stems, Chinese jieba words) seen in labelled examples.

The hand-written lexicons know the fields' vocabulary; this model learns which words actually
separate the fields in examples (and how "platform" or "AI" alone mislead). It is a linear model
over word presence, so prediction is one dictionary lookup per word.
"""

from __future__ import annotations

import numpy as np

from hardtech.analytics.classify.linear import sigmoid

MIN_DF = 2


class BowModel:
    def __init__(self, l2: float = 2.0, iters: int = 400, lr: float = 0.1):
        self.l2 = l2
        self.iters = iters
        self.lr = lr

    def fit(self, token_lists: list[list[str]], Y: np.ndarray) -> "BowModel":
        df: dict[str, int] = {}
        for toks in token_lists:
            for t in set(toks):
                df[t] = df.get(t, 0) + 1
        vocab = sorted(t for t, c in df.items() if c >= MIN_DF)
        index = {t: i for i, t in enumerate(vocab)}
        X = self._matrix(token_lists, index)
        n, d = X.shape
        k = Y.shape[1]
        W = np.zeros((d, k), dtype=np.float32)
        b = np.log((Y.mean(axis=0) + 1e-3) / (1 - Y.mean(axis=0) + 1e-3)).astype(np.float32)
        m = np.zeros_like(W); v = np.zeros_like(W)
        for t in range(1, self.iters + 1):
            P = sigmoid(X @ W + b)
            G = X.T @ (P - Y) / n + self.l2 * W / n
            m = 0.9 * m + 0.1 * G
            v = 0.999 * v + 0.001 * G * G
            W -= self.lr * (m / (1 - 0.9 ** t)) / (np.sqrt(v / (1 - 0.999 ** t)) + 1e-8)
            b -= self.lr * (P - Y).mean(axis=0)
        self.weights_ = {t: W[i].copy() for t, i in index.items() if np.abs(W[i]).max() > 1e-3}
        self.bias_ = b
        return self

    @staticmethod
    def _matrix(token_lists, index) -> np.ndarray:
        X = np.zeros((len(token_lists), len(index)), dtype=np.float32)
        for r, toks in enumerate(token_lists):
            for t in set(toks):
                j = index.get(t)
                if j is not None:
                    X[r, j] = 1.0
        return X

    def decision(self, token_lists: list[list[str]]) -> np.ndarray:
        """(n, fields) log-odds."""
        k = len(self.bias_)
        out = np.tile(self.bias_, (len(token_lists), 1))
        w = self.weights_
        zero = np.zeros(k, dtype=np.float32)
        for r, toks in enumerate(token_lists):
            acc = zero.copy()
            for t in set(toks):
                vec = w.get(t)
                if vec is not None:
                    acc += vec
            out[r] += acc
        return out

    def top_words(self, tokens: list[str], j: int, n: int = 5) -> list[str]:
        """The words that pushed field `j` up most, for evidence."""
        scored = sorted({t: float(self.weights_[t][j]) for t in set(tokens) if t in self.weights_}.items(),
                        key=lambda kv: -kv[1])
        return [t for t, v in scored[:n] if v > 0]


def out_of_fold(token_lists: list[list[str]], Y: np.ndarray, folds: int = 5) -> np.ndarray:
    """Each example's learned-words log-odds from a model that did not see it.

    A combiner trained on in-sample log-odds would trust this signal far more than it deserves on
    unseen text; out-of-fold values show it as it behaves in use.
    """
    oof = np.zeros(Y.shape, dtype=np.float32)
    fold = np.arange(len(token_lists)) % folds
    for k in range(folds):
        tr, te = np.where(fold != k)[0], np.where(fold == k)[0]
        if len(te) and len(tr):
            oof[te] = BowModel().fit([token_lists[i] for i in tr], Y[tr]).decision([token_lists[i] for i in te])
    return oof
