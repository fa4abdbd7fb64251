"""Small, dependency-free logistic models (numpy only) for combining evidence into probabilities.

The classifiers combine a handful of signals, so a regularised logistic model with few weights
is enough, gives calibrated probabilities, and cannot memorise a small labelled set.
"""

from __future__ import annotations

import numpy as np


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -35, 35)))


def fit_binary(X: np.ndarray, y: np.ndarray, l2: float = 1.0, sample_weight: np.ndarray | None = None,
               iters: int = 50) -> tuple[np.ndarray, float]:
    """L2-regularised logistic regression by Newton's method (the intercept is not penalised)."""
    n, d = X.shape
    w = np.zeros(d + 1)
    Xb = np.hstack([X, np.ones((n, 1))])
    sw = np.ones(n) if sample_weight is None else sample_weight
    reg = np.full(d + 1, l2)
    reg[-1] = 1e-6
    for _ in range(iters):
        p = sigmoid(Xb @ w)
        g = Xb.T @ (sw * (p - y)) + reg * w
        h = (Xb * (sw * p * (1 - p))[:, None]).T @ Xb + np.diag(reg)
        step = np.linalg.solve(h, g)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w[:-1], float(w[-1])


def softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def fit_multinomial(X: np.ndarray, y: np.ndarray, k: int, l2: float = 1.0,
                    sample_weight: np.ndarray | None = None, iters: int = 3000, lr: float = 0.05
                    ) -> tuple[np.ndarray, np.ndarray]:
    """L2-regularised multinomial logistic regression by full-batch Adam (small problems only)."""
    n, d = X.shape
    W = np.zeros((d, k))
    b = np.zeros(k)
    Y = np.eye(k)[y]
    sw = (np.ones(n) if sample_weight is None else sample_weight)[:, None]
    sw = sw / sw.mean()
    m_w = np.zeros_like(W); v_w = np.zeros_like(W); m_b = np.zeros_like(b); v_b = np.zeros_like(b)
    b1, b2, eps = 0.9, 0.999, 1e-8
    for t in range(1, iters + 1):
        P = softmax(X @ W + b)
        G = sw * (P - Y) / n
        gW = X.T @ G + l2 * W / n
        gb = G.sum(axis=0)
        m_w = b1 * m_w + (1 - b1) * gW; v_w = b2 * v_w + (1 - b2) * gW ** 2
        m_b = b1 * m_b + (1 - b1) * gb; v_b = b2 * v_b + (1 - b2) * gb ** 2
        W -= lr * (m_w / (1 - b1 ** t)) / (np.sqrt(v_w / (1 - b2 ** t)) + eps)
        b -= lr * (m_b / (1 - b1 ** t)) / (np.sqrt(v_b / (1 - b2 ** t)) + eps)
    return W, b


def fit_conditional_logit(A: np.ndarray, D: np.ndarray, y: np.ndarray, l2: float = 1.0, iters: int = 2000,
                          lr: float = 0.05, sample_weight: np.ndarray | None = None,
                          a_prior: np.ndarray | None = None, a_l2: np.ndarray | None = None
                          ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Multinomial logit with tied per-class evidence: z[i,c] = A[i,c,:]·a + D[i,:]·W[:,c] + b[c].

    `A` holds evidence *about each class* (similarity to its definition, its cue terms): one weight
    per kind of evidence serves every class, so a rare class is judged by the same rule as a common
    one. `D` holds facts about the document (maturity, R&D intensity) that favour classes differently.
    """
    n, k, m = A.shape
    p = D.shape[1]
    a = np.zeros(m); W = np.zeros((p, k)); b = np.zeros(k)
    Y = np.eye(k)[y]
    sw = (np.ones(n) if sample_weight is None else np.asarray(sample_weight, float))
    sw = (sw / sw.mean())[:, None]
    params = [a, W, b]
    mom = [np.zeros_like(x) for x in params]
    vel = [np.zeros_like(x) for x in params]
    for t in range(1, iters + 1):
        Z = np.einsum("ikm,m->ik", A, a) + D @ W + b
        G = sw * (softmax(Z) - Y) / n
        a_ref = a if a_prior is None else a - a_prior
        a_pen = l2 * a_ref / n if a_l2 is None else a_l2 * a_ref / n
        grads = [np.einsum("ik,ikm->m", G, A) + a_pen, D.T @ G + l2 * W / n, G.sum(axis=0)]
        for x, g, mo, ve in zip(params, grads, mom, vel):
            mo *= 0.9; mo += 0.1 * g
            ve *= 0.999; ve += 0.001 * g * g
            x -= lr * (mo / (1 - 0.9 ** t)) / (np.sqrt(ve / (1 - 0.999 ** t)) + 1e-8)
    return a, W, b
