"""The classifier users call: fields and typology together, with evidence, saved as one versioned file.

`HardTechClassifier` analyses a batch once (text, lexicons, embedding, codes), asks the field
and typology models, and writes for each input its fields with probabilities, top field,
typology with probabilities, a TRL estimate and the evidence behind each verdict. The default
model is fitted by `scripts/build_classifier.py` on our own labelled data and shipped in
`data/models/`; `hardtech classify fit` makes a user's own.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import io
import json
import zipfile
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from hardtech import __version__
from hardtech.analytics.classify import orgkind
from hardtech.analytics.classify.features import Docs, analyse, as_records, code_matrix, get_encoder, typology_hints
from hardtech.analytics.classify.fields import FEATURES, FieldClassifier
from hardtech.analytics.classify.lexicon import NEG, POS, TRL, TYP, load_lexicon
from hardtech.analytics.classify.typology import TypologyClassifier
from hardtech.analytics.taxonomy import FIELD_IDS, TYPOLOGY_IDS, load_taxonomy
from hardtech.errors import SourceError, UsageError

MODEL_FORMAT = "hardtech-classifier-3"
DEFAULT_MODEL = "classifier-default.npz"
INSUFFICIENT = "insufficient evidence"
DEFAULT_THRESHOLD = 0.35
BATCH = 4096  # texts analysed together: large enough for numpy to pay, small enough to bound memory


class HardTechClassifier:
    def __init__(self, field_threshold: float = DEFAULT_THRESHOLD, field_l2: float = 1.0, typology_l2: float = 1.0,
                 encoder: str = "static"):
        self.encoder = encoder
        self.field_threshold = field_threshold
        self.field_l2 = field_l2
        self.typology_l2 = typology_l2

    # -- training ----------------------------------------------------------------------------
    def fit(self, X, fields, typology, sample_weight=None) -> "HardTechClassifier":
        """`typology` may be empty for some examples (weak labels that say nothing about it): those
        train the field model only."""
        docs = analyse(X, self.encoder)
        w = np.ones(len(docs)) if sample_weight is None else np.asarray(sample_weight, dtype=float)
        self.fields_ = FieldClassifier(threshold=self.field_threshold, l2=self.field_l2).fit(
            docs, list(fields), sample_weight=w)
        typ = [str(t).strip() if t is not None else "" for t in typology]
        has = [i for i, t in enumerate(typ) if t in TYPOLOGY_IDS]
        bad = sorted({t for t in typ if t and t not in TYPOLOGY_IDS and t != "none"})
        if bad:
            raise UsageError(f"unknown typology {bad[0]!r}; expected one of: {', '.join(TYPOLOGY_IDS)} (or empty)")
        if not has:
            raise UsageError("no example has a typology class: the typology model cannot be fitted")
        sub = docs.subset(has)
        self.typology_ = TypologyClassifier(l2=self.typology_l2).fit(
            sub, [typ[i] for i in has], sample_weight=w[has], sources=[sub.source_of(i) for i in range(len(sub))],
            vocabulary=self.fields_.text_, field_proba=self.fields_.oof_proba_[has])
        self.n_examples_ = len(docs)
        self.trained_at_ = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.version_ = self._version()
        return self

    def _version(self) -> str:
        enc = get_encoder(self.encoder)
        h = hashlib.sha256(self.fields_.coef_.tobytes() + self.typology_.coef_.tobytes()).hexdigest()[:10]
        return f"hardtech-clf-{load_taxonomy().version}-{enc.version}-n{self.n_examples_}-{h}"

    # -- prediction --------------------------------------------------------------------------
    def classify(self, X, threshold: float | None = None) -> list[dict[str, Any]]:
        """One result per input, in input order. `threshold`: the field probability a field needs
        to be assigned (default: the model's, 0.35)."""
        if not hasattr(self, "fields_"):
            raise RuntimeError("classifier is not fitted; fit() it or use load_classifier()")
        thr = self.field_threshold if threshold is None else float(threshold)
        if not 0.0 < thr <= 1.0:
            raise UsageError(f"threshold {thr} is outside (0, 1]")
        if not isinstance(X, Docs):
            recs = as_records(X)
            if len(recs) > BATCH:  # texts are judged one by one: batches bound the memory, not the result
                return [r for s in range(0, len(recs), BATCH) for r in self._classify(recs[s:s + BATCH], thr)]
            X = recs
        return self._classify(X, thr)

    def _classify(self, X, thr: float) -> list[dict[str, Any]]:
        docs = analyse(X, self.encoder)
        n = len(docs)
        pf, contrib = self.fields_.proba_and_contributions(docs)
        pt, drivers = self.typology_.proba_and_drivers(docs, field_proba=pf)
        _, code_ev = code_matrix(docs)
        hits = docs.hits
        # everything per batch as plain Python values: the loop below only assembles them
        ev = _BatchEvidence(self, docs, contrib)
        hint_rows = typology_hints(docs).any(axis=1).tolist()
        empty = docs.empty.tolist()
        n_units = docs.n_units.tolist()
        no_emb = (~docs.emb.any(axis=1)).tolist()
        any_term = ((hits.pos.sum(axis=1) + hits.typ.sum(axis=1)) > 0).tolist()
        trls = hits.trl.astype(int).tolist()
        orders = np.argsort(-pf, axis=1, kind="stable").tolist()
        pf = np.round(pf.astype(np.float64), 4).tolist()
        pt = np.round(pt.astype(np.float64), 4)
        t_best = pt.argmax(axis=1).tolist()
        pt = pt.tolist()
        out = []
        for i in range(n):
            kind = docs.kinds[i]
            if empty[i]:
                out.append({"fields": [], "top_field": None, "field_probabilities": dict.fromkeys(FIELD_IDS, 0.0),
                            "typology": None, "typology_probabilities": {}, "trl": None, "kind": kind,
                            "evidence": INSUFFICIENT + ": no text and no codes", "insufficient": True})
                continue
            row = pf[i]
            chosen = [{"field": FIELD_IDS[j], "probability": row[j]} for j in orders[i] if row[j] >= thr]
            weak = not docs.texts[i] or (no_emb[i] and not any_term[i] and not docs.codes[i])
            insufficient = bool(weak and not chosen)
            # a bare name ("Bytedance") says nothing about the kind of technology: no typology from it
            thin = n_units[i] < 4 and not any_term[i] and not hint_rows[i]
            gated = not orgkind.gets_typology(kind)
            if insufficient or thin or gated:
                tprobs, typ = {}, None
            else:
                tprobs = dict(zip(TYPOLOGY_IDS, pt[i]))
                typ = TYPOLOGY_IDS[t_best[i]]
            trl = trls[i] or None
            if insufficient:
                e = INSUFFICIENT + ": no known words, terms or codes"
            else:
                e = ev.fields(i, chosen, code_ev[i], weak)
                if typ:
                    e += " | " + ev.typology(i, typ, drivers[i], trl)
                elif gated:
                    e += f" | typology: none for a {kind} (only companies and projects get one)"
                else:
                    e += " | typology: " + INSUFFICIENT + " (too little text)"
            out.append({"fields": chosen, "top_field": chosen[0]["field"] if chosen else None,
                        "field_probabilities": dict(zip(FIELD_IDS, row)), "typology": typ,
                        "typology_probabilities": tprobs, "trl": trl, "kind": kind, "evidence": e,
                        "insufficient": insufficient})
        return out

    # -- persistence -------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        path = Path(path)
        arrays = {f"f_{k}": v for k, v in self.fields_.state().items()}
        arrays.update({f"t_{k}": v for k, v in self.typology_.state().items()})
        digest = _digest(arrays)
        meta = {"format": MODEL_FORMAT, "version": self.version_, "hardtech": __version__,
                "trained_at": self.trained_at_, "n_examples": self.n_examples_,
                "taxonomy": load_taxonomy().version, "encoder": get_encoder(self.encoder).version,
                "params": {"encoder": self.encoder, "field_threshold": self.field_threshold, "field_l2": self.field_l2,
                           "typology_l2": self.typology_l2,
                           "fields": self.fields_.get_params(), "typology": self.typology_.get_params()},
                "training": getattr(self, "training_", {}),
                "sha256": digest}
        buf = io.BytesIO()
        np.savez_compressed(buf, meta=np.array(json.dumps(meta, ensure_ascii=False)), **arrays)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(buf.getvalue())
        return path

    @classmethod
    def load(cls, path: str | Path) -> "HardTechClassifier":
        path = Path(path)
        if not path.exists():
            raise SourceError(f"model file {path} does not exist")
        try:
            with np.load(path, allow_pickle=False) as z:
                data = {k: z[k] for k in z.files}
        except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
            raise SourceError(f"model file {path.name} is corrupt or not a hardtech model ({exc})") from exc
        try:
            meta = json.loads(str(data.pop("meta")))
        except (KeyError, json.JSONDecodeError) as exc:
            raise SourceError(f"model file {path.name} has no readable metadata") from exc
        if meta.get("format") != MODEL_FORMAT:
            raise SourceError(f"model file {path.name} is format {meta.get('format')!r}, expected {MODEL_FORMAT}: "
                              f"refit it with `hardtech classify fit`")
        if _digest(data) != meta.get("sha256"):
            raise SourceError(f"model file {path.name} failed its checksum: it was changed or damaged")
        p = meta["params"]
        name = p.get("encoder", "static")
        enc = get_encoder(name).version
        if meta.get("encoder") != enc:
            raise SourceError(f"model file {path.name} was fitted with encoder {meta.get('encoder')}, "
                              f"this installation has {enc}: refit it with `hardtech classify fit`")
        self = cls(p["field_threshold"], p["field_l2"], p["typology_l2"], encoder=name)
        self.fields_ = FieldClassifier.from_state(p["fields"], _state(data, "f"), name)
        self.typology_ = TypologyClassifier.from_state(p["typology"], _state(data, "t"), name)
        self.version_, self.n_examples_, self.trained_at_ = meta["version"], meta["n_examples"], meta["trained_at"]
        self.training_ = meta.get("training", {})
        return self


class _BatchEvidence:
    """The evidence strings of one batch, from arrays computed once for the batch: matched terms per
    text, the learned-word weights of each text's features for every field, the strongest signal
    groups per field."""

    def __init__(self, clf: HardTechClassifier, docs: Docs, contrib: np.ndarray):
        self.lex = load_lexicon()
        h = docs.hits
        bounds = np.searchsorted(h.doc, np.arange(len(docs) + 1)).tolist()
        kinds, targets = self.lex.kind[h.term], self.lex.target[h.term]
        self.terms = [(h.term[a:b].tolist(), kinds[a:b].tolist(), targets[a:b].tolist())
                      for a, b in zip(bounds[:-1], bounds[1:])]
        tm = clf.fields_.text_
        self.names = tm.feature_names()
        X = tm.matrix(docs.units, cache=docs)
        self.indptr, self.cols = X.indptr.tolist(), X.indices
        self.coef = tm.coef_
        top2 = np.argsort(-contrib, axis=2)[:, :, :2]
        val = np.take_along_axis(contrib, top2, axis=2)
        self.strongest = np.where(val > 0, top2, -1).tolist()

    def _terms(self, i: int, kind: int, target: int | None = None) -> list[str]:
        t, k, g = self.terms[i]
        return [self.lex.terms[x] for x, kk, gg in zip(t, k, g) if kk == kind and (target is None or gg == target)]

    def fields(self, i: int, chosen: list[dict], codes: list, weak: bool) -> str:
        parts = []
        cols = self.cols[self.indptr[i]:self.indptr[i + 1]]
        W = self.coef[cols] if len(cols) and chosen else None
        for c in chosen[:3]:
            f = c["field"]
            j = FIELD_IDS.index(f)
            why = []
            found = self._terms(i, POS, j)
            if found:
                why.append("terms: " + ", ".join(dict.fromkeys(found))[:120])
            if W is not None:
                w = W[:, j]
                top = np.argsort(-w)[:4].tolist()
                learned = [self.names[cols[k]] for k in top if w[k] > 0.05]
                if learned:
                    why.append("learned words: " + ", ".join(learned))
            cm = [f"{x.scheme}:{x.code}" for x in codes if x.field_id == f]
            if cm:
                why.append("codes: " + ", ".join(dict.fromkeys(cm)))
            strongest = [FEATURES[k].replace("_", " ") for k in self.strongest[i][j] if k >= 0]
            if strongest:
                why.append("strongest signals: " + ", ".join(strongest))
            parts.append(f"{f} {c['probability']:.2f} ({'; '.join(why)})")
        if not chosen:
            parts.append("none of the eight fields" + (" (" + INSUFFICIENT + ")" if weak else ""))
        negs = self._terms(i, NEG)
        if negs:
            parts.append("counter-evidence: " + ", ".join(dict.fromkeys(negs))[:120])
        return " | ".join(parts)

    def typology(self, i: int, typ: str, drivers: list[tuple[str, float]], trl: int | None) -> str:
        crit = "; ".join(c for c, _ in drivers) or "prior"
        cues = self._terms(i, TYP, TYPOLOGY_IDS.index(typ))
        t = f"typology {typ}: {crit}" + (f" (cues: {', '.join(dict.fromkeys(cues))[:100]})" if cues else "")
        if trl is not None:
            t += f"; TRL ≈ {trl} from " + ", ".join(dict.fromkeys(self._terms(i, TRL)))[:80]
        return t


def _state(data: dict, prefix: str) -> dict:
    return {k[len(prefix) + 1:]: v for k, v in data.items() if k.startswith(prefix + "_")}


def _digest(arrays: dict) -> str:
    h = hashlib.sha256()
    for k in sorted(arrays):
        a = np.asarray(arrays[k])
        h.update(k.encode())
        h.update(a.astype(str).tobytes() if a.dtype.kind in "OUS" else np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def default_model_path() -> Path:
    return Path(str(resources.files("hardtech.data") / "models" / DEFAULT_MODEL))


def neural_model_path() -> Path:
    """The neural model is fitted on first use (it needs hardtech[neural]) and kept in the user's cache."""
    import os

    base = Path(os.environ.get("HARDTECH_CACHE", Path.home() / ".cache" / "hardtech"))
    return base / "classifier-neural.npz"


def load_neural_classifier() -> HardTechClassifier:
    p = neural_model_path()
    if p.exists():
        return load_classifier(p)
    recs, fields, typ, w = training_examples(weights=True)
    clf = HardTechClassifier(encoder="neural").fit(recs, fields, typ, sample_weight=w)
    clf.save(p)
    return clf


@functools.lru_cache(maxsize=4)
def _load_cached(path: str, mtime: float) -> HardTechClassifier:
    return HardTechClassifier.load(path)


def load_classifier(path: str | Path | None = None) -> HardTechClassifier:
    p = Path(path) if path else default_model_path()
    if not p.exists():
        if path is None:
            raise SourceError(f"the default model {p} is missing; rebuild it with `python scripts/build_classifier.py`")
        raise SourceError(f"model file {p} does not exist")
    return _load_cached(str(p), p.stat().st_mtime)


def training_examples(include_demo: bool = False, weights: bool = False):
    """The default model's labelled data: our development set plus, when ../shared/data is there, the
    train parts of the weakly labelled sources (`training_data.py`).

    The demo organisations stay out (a held-out test set, docs/evaluation.md) unless asked for.
    Returns (records, fields, typology) and, with `weights`, the per-example weights as a fourth item.
    """
    from hardtech.analytics.classify.training_data import default_training_set

    try:
        ex = default_training_set()
    except FileNotFoundError as exc:
        raise UsageError(f"no labelled examples found ({exc.filename} is missing)") from exc
    recs, fields, typ, w = list(ex.records), list(ex.fields), list(ex.typology), list(ex.weights)
    if include_demo:
        r2, f2, t2 = demo_examples()
        recs, fields, typ, w = recs + r2, fields + f2, typ + t2, w + [1.0] * len(r2)
    return (recs, fields, typ, w) if weights else (recs, fields, typ)


def demo_examples() -> tuple[list[dict], list[str], list[str]]:
    """The demo organisations with our expected labels (English and Chinese descriptions as two inputs)."""
    import pandas as pd

    recs, fields, typ = [], [], []
    demo = Path(str(resources.files("hardtech.data") / "demo" / "organizations.csv"))
    o = pd.read_csv(demo, dtype=str, keep_default_na=False)
    o = o[o.expected_typology != ""]
    for r in o.itertuples():
        text = r.description_en or r.description_zh
        recs.append({"text": f"{r.name_en}. {text}", "codes": r.industry_codes})
        fields.append(r.expected_fields)
        typ.append(r.expected_typology)
        if r.description_zh and r.description_en:
            recs.append({"text": f"{r.name_zh}。{r.description_zh}", "codes": r.industry_codes})
            fields.append(r.expected_fields)
            typ.append(r.expected_typology)
    return recs, fields, typ
