"""TypologyClassifier: hard & core, deep, black, high tech or business-model innovation.

The seeds separate the five by criteria — physical vs virtual world, science base, product
orientation and industrial basis, maturity (TRL), barrier to imitation. One multinomial logistic
model reads evidence for each: the units and word pairs of the text (the field model's features,
so one sparse matrix serves both), the sentence embedding, the typology cue terms (SaaS, reseller,
一键叫车 … as positive evidence for high tech and business-model innovation), similarity to each
class's definition, hard-tech field terms (science base, physical product), software/AI terms,
counter-evidence terms (trading, distribution, installation), TRL cues, R&D intensity and
invention patents when known. A code's typology hint (Fintech → business-model innovation) and the
seeds' cue words of each class are added as rules (fixed log-odds), the rest is learned. The verdict names the criteria that pushed it most.

Weak labels (YC tags, IT桔子 industries) say something about a company's typology but come with
their own base rates (most YC companies are software or marketplaces). Each such source gets its
own intercept while fitting (`source offsets`), and predictions use ours (the development set's):
the evidence weights learn from every source, the class priors from our labelling only.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np
from scipy import sparse

from hardtech.analytics.classify.features import Docs, analyse, as_label_matrix, typology_hints, typology_prototypes
from hardtech.analytics.classify.linear import softmax
from hardtech.analytics.classify.textmodel import TextModel, fit_linear
from hardtech.analytics.taxonomy import FIELD_IDS, TYPOLOGY_IDS

# criterion of each signal group, as the seeds name it (used to explain a verdict)
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
    "field_model": "the fields it is in (hard-tech fields: science base, physical product; none: services)",
}
_DIGITAL = [FIELD_IDS.index("ai"), FIELD_IDS.index("it")]
_PHYSICAL = [j for j in range(len(FIELD_IDS)) if j not in _DIGITAL]
K, F = len(TYPOLOGY_IDS), len(FIELD_IDS)
# the dense columns, in order, and the criterion each belongs to
DENSE_GROUPS = (["cue_terms"] * K + ["definition_similarity"] * K
                + ["digital_evidence" if j in _DIGITAL else "field_evidence" for j in range(F)]
                + ["virtual_cues", "field_evidence", "digital_evidence", "maturity", "maturity_unknown",
                   "rd_intensity", "patents"]
                + ["field_model"] * (F + 3))
REFERENCE_SOURCES = (None, "", "devset", "user")


def _log_ratio(v) -> float:
    """R&D intensity on a log scale centred near 5% (the STAR threshold); 0 when unknown."""
    if v is None or v <= 0:
        return 0.0
    return float(np.clip(math.log(v / 0.05), -3, 3))


class TypologyClassifier:
    def __init__(self, l2: float = 1.0, emb_scale: float = 1.0, dense_scale: float = 0.5, hint_strength: float = 2.0,
                 source_offsets: bool = True, field_scale: float = 2.0, cue_strength: float = 2.0):
        self.l2 = l2
        self.emb_scale = emb_scale
        self.dense_scale = dense_scale
        self.hint_strength = hint_strength
        self.source_offsets = source_offsets
        self.field_scale = field_scale
        self.cue_strength = cue_strength

    # -- design -----------------------------------------------------------------------------
    def dense_features(self, docs: Docs, field_proba: np.ndarray | None = None) -> np.ndarray:
        """Facts about the document; `field_proba` (n, 8): the field model's probabilities (zeros
        when the typology is used alone)."""
        H = docs.hits
        ds = docs.emb @ typology_prototypes(docs.encoder).T
        trl = H.trl.astype(np.float64) / 9.0
        rd = np.array([_log_ratio(i.get("rd_intensity")) for i in docs.indicators])
        pat = np.array([math.log1p(i["invention_patents"]) / 5 if i.get("invention_patents") else 0.0
                        for i in docs.indicators])
        pf = np.zeros((len(docs), F)) if field_proba is None else np.asarray(field_proba, dtype=np.float64)
        fm = np.column_stack([pf, pf[:, _PHYSICAL].max(axis=1), pf[:, _DIGITAL].max(axis=1), 1 - pf.max(axis=1)])
        if field_proba is None:
            fm[:] = 0.0
        return np.column_stack([np.log1p(H.typ), ds - ds.mean(axis=1, keepdims=True), np.log1p(H.pos),
                                np.log1p(H.neg.sum(axis=1)), np.log1p(H.pos[:, _PHYSICAL].sum(axis=1)),
                                np.log1p(H.pos[:, _DIGITAL].sum(axis=1)), trl, trl == 0, rd, pat,
                                fm * self.field_scale / self.dense_scale]).astype(np.float32)

    def _blocks(self, docs: Docs, field_proba: np.ndarray | None = None) -> list:
        return [self.text_.matrix(docs.units, cache=docs), docs.emb * self.emb_scale,
                self.dense_features(docs, field_proba) * self.dense_scale]

    # -- estimator API -----------------------------------------------------------------------
    def fit(self, X, y, sample_weight=None, encoder: str | None = None, sources=None,
            vocabulary: TextModel | None = None, field_proba: np.ndarray | None = None) -> "TypologyClassifier":
        """`sources`: per example where its label came from (None/devset/user = our labelling);
        `vocabulary`: a text model whose features to share (the field model's); `field_proba`: the
        field model's out-of-fold probabilities of these examples (then give its probabilities when
        predicting too)."""
        docs = analyse(X, encoder)
        self.encoder_ = docs.encoder
        labels = [str(v).strip() for v in y]
        Y = as_label_matrix(labels, TYPOLOGY_IDS)
        if (Y.sum(axis=1) != 1).any():
            bad = [lab for lab, row in zip(labels, Y) if row.sum() != 1][:3]
            raise ValueError(f"each example needs exactly one typology class; got {bad}")
        w = np.ones(len(docs)) if sample_weight is None else np.asarray(sample_weight, dtype=float)
        self.text_ = TextModel(multiclass=True)
        if vocabulary is not None:
            self.text_.share_vocabulary(vocabulary)
        else:
            self.text_.vocabulary(docs.units)
        blocks = self._blocks(docs, field_proba)
        src = [None] * len(docs) if sources is None else [s if s not in REFERENCE_SOURCES else None for s in sources]
        self.sources_ = sorted({s for s in src if s is not None}) if self.source_offsets else []
        S = np.array([[s == name for name in self.sources_] for s in src], dtype=np.float32).reshape(len(docs), -1)
        X_ = sparse.hstack([blocks[0], sparse.csr_matrix(blocks[1]), sparse.csr_matrix(blocks[2]),
                            sparse.csr_matrix(S * 3.0)]).tocsr()
        offset = self.hint_strength * typology_hints(docs) + self.cue_strength * np.log1p(docs.hits.typ)
        W, b = fit_linear(X_, Y, self.l2, True, w, offset=offset)
        d = self.text_.n_features_
        e = docs.emb.shape[1]
        W[:d + e] = W[:d + e].astype(np.float16).astype(np.float32)  # as stored: a saved model predicts the same
        self.text_.coef_, self.text_.intercept_ = W[:d], b
        self.emb_coef_ = W[d:d + e]
        self.dense_coef_ = W[d + e:d + e + len(DENSE_GROUPS)]
        self.source_coef_ = W[d + e + len(DENSE_GROUPS):] * 3.0  # the intercept shift of each weak source
        self.intercept_ = b
        self.coef_ = W
        self.classes_ = list(TYPOLOGY_IDS)
        return self

    def _check(self) -> None:
        if not hasattr(self, "coef_"):
            raise RuntimeError("TypologyClassifier is not fitted; call fit() or load a model")

    def _parts(self, docs: Docs, field_proba=None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Logits and their parts: text (n, K), embedding (n, K), dense (n, dense, K), hint (n, K)."""
        Xt, E, D = self._blocks(docs, field_proba)
        text = np.asarray(Xt @ self.text_.coef_)
        emb = E @ self.emb_coef_
        dense = D[:, :, None] * self.dense_coef_[None, :, :]
        # rules, not learned weights: a code's typology hint, and the seeds' own cue words for each
        # class (the seeds define the classes by them; weak labels rarely use them, so a learned
        # weight would stay near zero)
        hint = self.hint_strength * typology_hints(docs) + self.cue_strength * np.log1p(docs.hits.typ)
        return text + emb + dense.sum(axis=1) + self.intercept_ + hint, text, emb, dense, hint

    def predict_proba(self, X) -> np.ndarray:
        self._check()
        docs = analyse(X, getattr(self, "encoder_", "static"))
        return softmax(self._parts(docs)[0])

    def predict(self, X) -> list[str]:
        p = self.predict_proba(X)
        return [TYPOLOGY_IDS[i] for i in p.argmax(axis=1)]

    def proba_and_drivers(self, docs: Docs, top: int = 3, field_proba: np.ndarray | None = None
                          ) -> tuple[np.ndarray, list[list[tuple[str, float]]]]:
        """Probabilities and, per document, the criteria that most favoured its predicted class:
        each signal group's logit for that class minus its expectation under the probabilities."""
        P, why = self.proba_and_reasons(docs, top, field_proba)
        return P, [why(i) for i in range(len(docs))]

    def proba_and_reasons(self, docs: Docs, top: int = 3, field_proba: np.ndarray | None = None
                          ) -> tuple[np.ndarray, Callable[[int], list[tuple[str, float]]]]:
        """As `proba_and_drivers`, the drivers of row i given by the returned function when asked."""
        self._check()
        Z, text, emb, dense, hint = self._parts(docs, field_proba)
        P = softmax(Z)
        n = len(docs)
        raw = self.dense_features(docs, field_proba)
        names = ["an industry code or cue words typical of the class", CRITERIA["learned_words"],
                 CRITERIA["embedding_model"]]
        parts = [hint, text, emb]
        present = [np.ones(n, bool)] * 3
        for g in dict.fromkeys(DENSE_GROUPS):
            cols = [c for c, name in enumerate(DENSE_GROUPS) if name == g]
            names.append(CRITERIA[g])
            parts.append(dense[:, cols].sum(axis=1))
            # an absent fact is no reason (issue 12); similarity to the definitions is always there
            always = g in ("definition_similarity", "field_model")
            present.append(np.ones(n, bool) if always else (np.abs(raw[:, cols]) > 1e-9).any(axis=1))
        G = np.stack(parts, axis=1)  # (n, groups, K)
        k = P.argmax(axis=1)
        rel = G[np.arange(n), :, k] - np.einsum("ngk,nk->ng", G, P)
        rel[~np.stack(present, axis=1)] = 0.0
        order = np.argsort(-rel, axis=1)[:, :top]

        def why(i: int) -> list[tuple[str, float]]:
            return [(names[g], float(rel[i, g])) for g in order[i].tolist() if rel[i, g] > 0]

        return P, why

    def get_params(self) -> dict:
        return {"l2": self.l2, "emb_scale": self.emb_scale, "dense_scale": self.dense_scale,
                "hint_strength": self.hint_strength, "source_offsets": self.source_offsets,
                "field_scale": self.field_scale, "cue_strength": self.cue_strength}

    # -- persistence -------------------------------------------------------------------------
    def state(self) -> dict:
        st = {f"text_{k}": v for k, v in self.text_.state().items()}
        st.update({"emb_coef": self.emb_coef_.astype(np.float16), "dense_coef": self.dense_coef_,
                   "intercept": self.intercept_, "source_coef": self.source_coef_,
                   "sources": np.array(self.sources_, dtype=str)})
        return st

    @classmethod
    def from_state(cls, params: dict, st: dict, encoder: str) -> "TypologyClassifier":
        m = cls(**params)
        m.text_ = TextModel.from_state({"multiclass": True}, {k[5:]: v for k, v in st.items() if k.startswith("text_")})
        m.emb_coef_ = st["emb_coef"].astype(np.float32)
        m.dense_coef_ = st["dense_coef"].astype(np.float32)
        m.intercept_ = st["intercept"].astype(np.float32)
        m.source_coef_ = st["source_coef"].astype(np.float32)
        m.sources_ = [str(s) for s in st["sources"]]
        m.coef_ = np.vstack([m.text_.coef_, m.emb_coef_, m.dense_coef_])
        m.classes_ = list(TYPOLOGY_IDS)
        m.encoder_ = encoder
        return m
