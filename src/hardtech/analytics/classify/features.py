"""Turn inputs (texts, codes, indicators) into the evidence both classifiers read.

A batch is analysed once — cleaned, matched against the lexicons, embedded — and the result
(`Docs`) is shared by the field and typology classifiers, so classifying an organisation costs
one embedding and one lexicon pass however many verdicts are drawn from it.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from hardtech.analytics.classify import orgkind
from hardtech.analytics.classify.lexicon import Lexicon, LexiconHits, load_lexicon
from hardtech.analytics.classify.text import clean
from hardtech.analytics.classify.units import Units, units
from hardtech.analytics.taxonomy import FIELD_IDS, TYPOLOGY_IDS, load_taxonomy
from hardtech.errors import UsageError

INDICATORS = ("rd_intensity", "invention_patents", "revenue")


@dataclass
class Docs:
    """A batch analysed once: cleaned texts, codes, indicators, organisation kinds, the embedding,
    the units and the lexicon hits. Every model reads from here."""

    texts: list[str]
    codes: list[list[str]]
    indicators: list[dict[str, float | None]]
    emb: np.ndarray
    units: Units
    hits: LexiconHits
    kinds: list[str | None]
    encoder: str = "static"  # which embedding space `emb` lives in
    sources: list[str | None] | None = None  # where a training label came from (weak sources get own priors)

    def __len__(self) -> int:
        return len(self.texts)

    def subset(self, idx) -> "Docs":
        idx = list(idx)
        return Docs([self.texts[i] for i in idx], [self.codes[i] for i in idx], [self.indicators[i] for i in idx],
                    self.emb[idx], self.units.subset(idx), self.hits.subset(idx), [self.kinds[i] for i in idx],
                    self.encoder, [self.source_of(i) for i in idx])

    def source_of(self, i: int) -> str | None:
        return self.sources[i] if self.sources is not None else None

    @staticmethod
    def concat(a: "Docs", b: "Docs") -> "Docs":
        return Docs(a.texts + b.texts, a.codes + b.codes, a.indicators + b.indicators, np.vstack([a.emb, b.emb]),
                    Units.concat(a.units, b.units), LexiconHits.concat(a.hits, b.hits), a.kinds + b.kinds,
                    a.encoder, [a.source_of(i) for i in range(len(a))] + [b.source_of(i) for i in range(len(b))])

    @property
    def empty(self) -> np.ndarray:
        """No text and no codes: nothing to base a verdict on."""
        return np.array([not t and not c for t, c in zip(self.texts, self.codes)], dtype=bool)

    @property
    def n_units(self) -> np.ndarray:
        return self.units.counts()


def as_records(X: Any) -> list[dict]:
    """Inputs as a list of record dicts (a text, a list of texts or dicts, or a DataFrame)."""
    if isinstance(X, Docs):
        raise TypeError("already analysed")
    if isinstance(X, str):
        return [{"text": X}]
    if hasattr(X, "to_dict") and hasattr(X, "columns"):
        if "text" not in X.columns:
            raise UsageError(f"the input needs a `text` column; it has: {', '.join(map(str, X.columns))}")
        return X.to_dict(orient="records")
    out = []
    for x in X:
        out.append(x if isinstance(x, dict) else {"text": x})
    return out


def _codes(v: Any) -> list[str]:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return []
    if isinstance(v, str):
        return [c.strip() for c in v.replace(";", "|").split("|") if c.strip()]
    return [str(c) for c in v if c]


def _num(v: Any) -> float | None:
    if v is None:  # the common case (texts without indicators): no exception raised and caught
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) or math.isinf(f) else f


def analyse(X: Any, encoder: str | None = None, lexicon: Lexicon | None = None) -> Docs:
    """`encoder`: "static" (MiniLM static), "e5units" (multilingual-e5 over our units; both numpy
    only) or "neural" (hardtech[neural])."""
    name = encoder or "static"
    if isinstance(X, Docs):
        if encoder is not None and X.encoder != name:
            raise UsageError(f"these inputs were embedded with the {X.encoder} encoder, the model needs {name}")
        return X
    recs = as_records(X)
    texts = [clean(r.get("text")) for r in recs]
    codes = [_codes(r.get("codes")) for r in recs]
    ind = [{k: _num(r.get(k)) for k in INDICATORS} for r in recs]
    kinds = []
    for r, t in zip(recs, texts):
        declared = orgkind.normalise(r.get("kind"))
        kinds.append(declared if declared is not None else orgkind.detect(t))
    lex = lexicon or load_lexicon()
    u = units(texts)
    hits = lex.match(u)
    enc = get_encoder(name)
    if not texts:
        emb = np.zeros((0, enc.dim), dtype=np.float32)
    elif hasattr(enc, "encode_units"):  # pools the units already cut: no second tokeniser pass
        emb = enc.encode_units(u)
    elif u.words is not None and getattr(enc, "reuses_words", False):  # the words `units` looked up
        emb = enc.encode(texts, words=u.words)
    else:
        emb = enc.encode(texts)
    sources = [r.get("source") for r in recs]
    return Docs(texts, codes, ind, emb, u, hits, kinds, name, sources if any(sources) else None)


@functools.lru_cache(maxsize=2)
def get_encoder(name: str = "static"):
    """The static model ships with hardtech; the neural one needs `pip install 'hardtech[neural]'`."""
    from hardtech.analytics.embeddings import NeuralEncoder, load_encoder

    if name == "static":
        return load_encoder()
    if name == "e5units":
        from hardtech.analytics.classify.unitvectors import load_unit_encoder

        return load_unit_encoder()
    if name == "neural":
        return NeuralEncoder()
    raise UsageError(f"unknown encoder {name!r}: static, e5units or neural")


def default_encoder():
    return get_encoder("static")


def _unit(v: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(v)
    return v / n if n > 0 else v


@functools.lru_cache(maxsize=4)
def field_prototypes(encoder: str = "static") -> np.ndarray:
    """One unit vector per field from the taxonomy's own words (names, descriptions, subfields, keywords)."""
    tax = load_taxonomy()
    enc = get_encoder(encoder)
    rows = []
    for f in FIELD_IDS:
        fd = tax.fields[f]
        texts = [f"{fd.name_en}. {fd.description_en}", f"{fd.name_zh}。{fd.description_zh}"]
        texts += [s.name_en for s in fd.subfields] + [s.name_zh for s in fd.subfields]
        kws = list(fd.keywords_en) + list(fd.keywords_zh)
        texts += [", ".join(kws[i:i + 8]) for i in range(0, len(kws), 8)]
        rows.append(_unit(enc.encode(texts).mean(axis=0)))
    return np.vstack(rows).astype(np.float32)


@functools.lru_cache(maxsize=4)
def field_term_vectors(encoder: str = "static") -> tuple[np.ndarray, np.ndarray]:
    """Every subfield name and keyword of every field embedded on its own, and the field of each row.

    A field is a union of subfields: a text about lithium batteries sits near "battery" even when
    it is far from the average of everything new energy covers.
    """
    tax = load_taxonomy()
    enc = get_encoder(encoder)
    texts, owner = [], []
    for j, f in enumerate(FIELD_IDS):
        fd = tax.fields[f]
        items = [s.name_en for s in fd.subfields] + [s.name_zh for s in fd.subfields]
        items += list(fd.keywords_en) + list(fd.keywords_zh)
        texts += items
        owner += [j] * len(items)
    return enc.encode(texts).astype(np.float32), np.array(owner)


def term_similarity(emb: np.ndarray, k: int = 3, encoder: str = "static") -> np.ndarray:
    """(n, fields): mean of the k highest similarities between a text and the field's terms."""
    V, owner = field_term_vectors(encoder)
    out = np.zeros((len(emb), len(FIELD_IDS)), dtype=np.float32)
    # rows are stored field by field (`field_term_vectors`): each field's terms are one slice, no copy
    bounds = np.searchsorted(owner, np.arange(len(FIELD_IDS) + 1)).tolist()
    assert (np.diff(owner) >= 0).all()
    for lo in range(0, len(emb), 4096):  # bounded memory: (rows, terms) similarities per chunk
        S = emb[lo:lo + 4096] @ V.T
        for j in range(len(FIELD_IDS)):
            sub = S[:, bounds[j]:bounds[j + 1]]
            kk = min(k, sub.shape[1])
            out[lo:lo + 4096, j] = np.partition(sub, sub.shape[1] - kk, axis=1)[:, -kk:].mean(axis=1)
    return out


@functools.lru_cache(maxsize=4)
def typology_prototypes(encoder: str = "static") -> np.ndarray:
    """One unit vector per typology class from its definition and cues (never the seeds' examples,
    which are kept for testing)."""
    tax = load_taxonomy()
    enc = get_encoder(encoder)
    rows = []
    for c in TYPOLOGY_IDS:
        tc = tax.typology[c]
        texts = [tc.definition_en, tc.definition_zh]
        cues = list(tc.cues_en) + list(tc.cues_zh)
        texts += [", ".join(cues[i:i + 8]) for i in range(0, len(cues), 8)]
        rows.append(_unit(enc.encode(texts).mean(axis=0)))
    return np.vstack(rows).astype(np.float32)


# A patent file repeats the same few thousand codes: each code's concordance facts are looked up
# once. The taxonomy is an argument (it hashes by identity), fetched once per batch: `load_taxonomy()`
# resolves its folder on disk each call, which cost more than the lookup itself (~10 s for the 31k-
# patent file), and a reloaded taxonomy (`load_taxonomy.cache_clear()`) still gets fresh lookups.
@functools.lru_cache(maxsize=200_000)
def _map_code(code: str, tax=None) -> tuple:
    """One code's concordance matches."""
    scheme, _, value = code.partition(":")
    try:
        return tuple((tax or load_taxonomy()).map_code(scheme.strip().lower(), value.strip())) if value else ()
    except Exception:  # noqa: BLE001 - an unknown scheme or malformed code is no evidence
        return ()


@functools.lru_cache(maxsize=200_000)
def _typology_hint(code: str, tax=None) -> str | None:
    scheme, _, value = code.partition(":")
    try:
        return (tax or load_taxonomy()).typology_hint(scheme.strip().lower(), value.strip()) if value else None
    except Exception:  # noqa: BLE001 - an unknown scheme or malformed code gives no hint
        return None


def typology_hints(docs: Docs) -> np.ndarray:
    """(n, classes): 1 where one of the document's codes hints the class (Fintech → business-model innovation)."""
    out = np.zeros((len(docs), len(TYPOLOGY_IDS)))
    col = {c: j for j, c in enumerate(TYPOLOGY_IDS)}
    tax = load_taxonomy() if any(docs.codes) else None
    for i, codes in enumerate(docs.codes):
        for code in codes:
            h = _typology_hint(code, tax)
            if h in col:
                out[i, col[h]] = 1.0
    return out


def code_matrix(docs: Docs) -> tuple[np.ndarray, list[list]]:
    """Strongest concordance weight per field for each document's codes, and the matches as evidence.

    Computed once per batch and kept on the `Docs`.
    """
    cached = getattr(docs, "_codes_cache", None)
    if cached is not None:
        return cached
    out = np.zeros((len(docs), len(FIELD_IDS)), dtype=np.float32)
    evidence: list[list] = []
    col = {f: j for j, f in enumerate(FIELD_IDS)}
    tax = load_taxonomy() if any(docs.codes) else None
    for i, codes in enumerate(docs.codes):
        ev = []
        for code in codes:
            for m in _map_code(code, tax):
                if m.field_id in col and m.weight > out[i, col[m.field_id]]:
                    out[i, col[m.field_id]] = m.weight
                ev.append(m)
        evidence.append(ev)
    docs._codes_cache = (out, evidence)
    return out, evidence


def centroids(emb: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """Per-class unit centroid of the labelled examples (zero when a class has no example)."""
    out = np.zeros((Y.shape[1], emb.shape[1]), dtype=np.float32)
    for j in range(Y.shape[1]):
        sel = Y[:, j] > 0
        if sel.any():
            out[j] = _unit(emb[sel].mean(axis=0))
    return out


def as_label_matrix(labels: Sequence, classes: Sequence[str]) -> np.ndarray:
    idx = {c: j for j, c in enumerate(classes)}
    Y = np.zeros((len(labels), len(classes)), dtype=np.float32)
    for i, lab in enumerate(labels):
        items = lab.split("|") if isinstance(lab, str) else list(lab)
        for item in items:
            item = item.strip()
            if item in ("", "none"):
                continue
            if item not in idx:
                raise UsageError(f"unknown label {item!r}; expected one of: {', '.join(classes)} or none")
            Y[i, idx[item]] = 1
    return Y
