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
from hardtech.analytics.classify.bow import BowModel
from hardtech.analytics.classify.features import Docs, analyse, code_matrix, get_encoder, typology_hints
from hardtech.analytics.classify.fields import FEATURES, FieldClassifier
from hardtech.analytics.classify.typology import TypologyClassifier
from hardtech.analytics.taxonomy import FIELD_IDS, TYPOLOGY_IDS, load_taxonomy
from hardtech.errors import SourceError, UsageError

MODEL_FORMAT = "hardtech-classifier-1"
DEFAULT_MODEL = "classifier-default.npz"
INSUFFICIENT = "insufficient evidence"


class HardTechClassifier:
    def __init__(self, field_threshold: float = 0.35, field_l2: float = 1.0, typology_l2: float = 1.0,
                 encoder: str = "static"):
        self.encoder = encoder
        self.field_threshold = field_threshold
        self.field_l2 = field_l2
        self.typology_l2 = typology_l2

    # -- training ----------------------------------------------------------------------------
    def fit(self, X, fields, typology) -> "HardTechClassifier":
        docs = analyse(X, self.encoder)
        self.fields_ = FieldClassifier(threshold=self.field_threshold, l2=self.field_l2).fit(docs, list(fields))
        self.typology_ = TypologyClassifier(l2=self.typology_l2).fit(docs, list(typology))
        self.n_examples_ = len(docs)
        self.trained_at_ = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.version_ = self._version()
        return self

    def _version(self) -> str:
        enc = get_encoder(self.encoder)
        h = hashlib.sha256(self.fields_.coef_.tobytes() + self.typology_.coef_.tobytes()).hexdigest()[:10]
        return f"hardtech-clf-{load_taxonomy().version}-{enc.version}-n{self.n_examples_}-{h}"

    # -- prediction --------------------------------------------------------------------------
    def classify(self, X) -> list[dict[str, Any]]:
        """One result per input, in input order."""
        if not hasattr(self, "fields_"):
            raise RuntimeError("classifier is not fitted; fit() it or use load_default_classifier()")
        docs = analyse(X, self.encoder)
        pf, contrib = self.fields_.proba_and_contributions(docs)
        pt, drivers = self.typology_.proba_and_drivers(docs)
        _, code_ev = code_matrix(docs)
        hint_rows = typology_hints(docs)
        empty = docs.empty
        out = []
        for i in range(len(docs)):
            if empty[i]:
                out.append({"fields": [], "top_field": None, "field_probabilities": {f: 0.0 for f in FIELD_IDS},
                            "typology": None, "typology_probabilities": {}, "trl": None,
                            "evidence": INSUFFICIENT + ": no text and no codes", "insufficient": True})
                continue
            probs = {f: round(float(p), 4) for f, p in zip(FIELD_IDS, pf[i])}
            chosen = [{"field": f, "probability": probs[f]} for f in sorted(FIELD_IDS, key=lambda f: -probs[f])
                      if probs[f] >= self.field_threshold]
            m = docs.matches[i]
            weak = not docs.texts[i] or ((docs.emb[i] == 0).all() and not any(m.field_pos.values())
                                         and not any(m.typology.values()) and not docs.codes[i])
            top = max(probs, key=probs.get)
            insufficient = bool(weak and not chosen)
            # a bare name ("Bytedance") says nothing about the kind of technology: no typology from it
            thin = (len(m.tokens) < 4 and not any(m.typology.values()) and not any(m.field_pos.values())
                    and not hint_rows[i].any())
            tprobs = {} if insufficient or thin else {c: round(float(p), 4) for c, p in zip(TYPOLOGY_IDS, pt[i])}
            typ = max(tprobs, key=tprobs.get) if tprobs else None
            m = docs.matches[i]
            out.append({
                "fields": chosen,
                "top_field": top if chosen else None,
                "field_probabilities": probs,
                "typology": typ,
                "typology_probabilities": tprobs,
                "trl": m.trl_estimate(),
                "evidence": (INSUFFICIENT + ": no known words, terms or codes" if insufficient else
                             self._evidence(docs, i, chosen, contrib[i], code_ev[i], typ, drivers[i], weak)
                             if typ else self._evidence(docs, i, chosen, contrib[i], code_ev[i], "", [], weak).split(
                                 " | typology")[0] + " | typology: " + INSUFFICIENT + " (too little text)"),
                "insufficient": insufficient,
            })
        return out

    def _evidence(self, docs: Docs, i: int, chosen: list[dict], contrib: np.ndarray, codes: list, typ: str,
                  drivers: list[tuple[str, float]], weak: bool) -> str:
        m = docs.matches[i]
        parts = []
        for c in chosen[:3]:
            f = c["field"]
            j = FIELD_IDS.index(f)
            why = []
            if m.field_pos.get(f):
                why.append("terms: " + ", ".join(dict.fromkeys(m.field_pos[f]))[:120])
            learned = self.fields_.bow_.top_words(m.tokens, j, 4) if hasattr(self.fields_, "bow_") else []
            if learned:
                why.append("learned words: " + ", ".join(learned))
            cm = [f"{x.scheme}:{x.code}" for x in codes if x.field_id == f]
            if cm:
                why.append("codes: " + ", ".join(dict.fromkeys(cm)))
            top_sig = sorted(zip(FEATURES, contrib[j]), key=lambda t: -t[1])[:2]
            why.append("strongest signals: " + ", ".join(n.replace("_", " ") for n, v in top_sig if v > 0))
            parts.append(f"{f} {c['probability']:.2f} ({'; '.join(why)})")
        if not chosen:
            parts.append("none of the eight fields" + (" (" + INSUFFICIENT + ")" if weak else ""))
        negs = [t for ts in m.field_neg.values() for t in ts]
        if negs:
            parts.append("counter-evidence: " + ", ".join(dict.fromkeys(negs))[:120])
        crit = "; ".join(c for c, _ in drivers) or "prior"
        cues = m.typology.get(typ, [])
        t = f"typology {typ}: {crit}" + (f" (cues: {', '.join(dict.fromkeys(cues))[:100]})" if cues else "")
        trl = m.trl_estimate()
        if trl is not None:
            t += f"; TRL ≈ {trl} from " + ", ".join(dict.fromkeys(c for c, _, _ in m.trl))[:80]
        return " | ".join(parts + [t])

    # -- persistence -------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        path = Path(path)
        f, t = self.fields_, self.typology_
        arrays = {
            "f_examples_emb": f.examples_emb_.astype(np.float16), "f_examples_Y": f.examples_Y_.astype(np.uint8),
            "f_coef": f.coef_, "f_intercept": np.array([f.intercept_]),
            "t_centroids": t.centroids_, "t_class_weights": t.class_weights_, "t_coef": t.coef_,
            "t_intercept": t.intercept_, "t_d_mean": t.d_mean_, "t_d_scale": t.d_scale_,
        }
        for prefix, bow in (("f_bow", f.bow_), ("t_bow", t.bow_)):
            vocab = sorted(bow.weights_)
            arrays[prefix + "_vocab"] = np.array(vocab, dtype=object).astype(str)
            arrays[prefix + "_weights"] = np.vstack([bow.weights_[w] for w in vocab]) if vocab else np.zeros((0, 1))
            arrays[prefix + "_bias"] = bow.bias_
        digest = _digest(arrays)
        meta = {"format": MODEL_FORMAT, "version": self.version_, "hardtech": __version__,
                "trained_at": self.trained_at_, "n_examples": self.n_examples_,
                "taxonomy": load_taxonomy().version, "encoder": get_encoder(self.encoder).version,
                "params": {"encoder": self.encoder, "field_threshold": self.field_threshold, "field_l2": self.field_l2,
                           "typology_l2": self.typology_l2, "fields": f.get_params(), "typology": t.get_params()},
                "sha256": digest}
        buf = io.BytesIO()
        np.savez_compressed(buf, meta=np.array(json.dumps(meta)), **arrays)
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
            raise SourceError(f"model file {path.name} is format {meta.get('format')!r}, expected {MODEL_FORMAT}")
        if _digest(data) != meta.get("sha256"):
            raise SourceError(f"model file {path.name} failed its checksum: it was changed or damaged")
        p = meta["params"]
        name = p.get("encoder", "static")
        enc = get_encoder(name).version
        if meta.get("encoder") != enc:
            raise SourceError(f"model file {path.name} was fitted with encoder {meta.get('encoder')}, "
                              f"this installation has {enc}: refit it with `hardtech classify fit`")
        self = cls(p["field_threshold"], p["field_l2"], p["typology_l2"], encoder=name)
        fc = FieldClassifier(**p["fields"])
        fc.examples_emb_ = data["f_examples_emb"].astype(np.float32)
        fc.examples_Y_ = data["f_examples_Y"].astype(np.float32)
        fc.coef_, fc.intercept_ = data["f_coef"], float(data["f_intercept"][0])
        fc.classes_ = list(FIELD_IDS)
        fc.encoder_ = name
        fc.bow_ = _bow(data, "f_bow")
        tc = TypologyClassifier(**p["typology"])  # older files lack hint_strength: the default applies
        tc.centroids_, tc.class_weights_, tc.coef_ = data["t_centroids"], data["t_class_weights"], data["t_coef"]
        tc.intercept_, tc.d_mean_, tc.d_scale_ = data["t_intercept"], data["t_d_mean"], data["t_d_scale"]
        tc.classes_ = list(TYPOLOGY_IDS)
        tc.encoder_ = name
        tc.bow_ = _bow(data, "t_bow")
        self.fields_, self.typology_ = fc, tc
        self.version_, self.n_examples_, self.trained_at_ = meta["version"], meta["n_examples"], meta["trained_at"]
        return self


def _bow(data: dict, prefix: str) -> BowModel:
    b = BowModel()
    vocab = data[prefix + "_vocab"]
    W = data[prefix + "_weights"].astype(np.float32)
    b.weights_ = {str(w): W[i] for i, w in enumerate(vocab)}
    b.bias_ = data[prefix + "_bias"].astype(np.float32)
    return b


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
    recs, fields, typ = training_examples()
    clf = HardTechClassifier(encoder="neural").fit(recs, fields, typ)
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


def training_examples(include_demo: bool = False) -> tuple[list[dict], list[str], list[str]]:
    """Our own labelled data: the development set (and, on request, the demo organisations' labels).

    The default model is trained on the development set only, so the demo organisations stay a
    held-out test set (docs/evaluation.md) and the demo's verdicts are not read back from labels.
    """
    import pandas as pd

    root = Path(__file__).resolve().parents[4]
    dev = root / "evaluation" / "devset.csv"
    recs, fields, typ = [], [], []
    if dev.exists():
        d = pd.read_csv(dev, dtype=str, keep_default_na=False)
        recs += [{"text": t} for t in d.text]
        fields += d.fields.tolist()
        typ += d.typology.tolist()
    if not include_demo:
        if not recs:
            raise UsageError(f"no labelled examples found ({dev} is missing)")
        return recs, fields, typ
    recs2, fields2, typ2 = demo_examples()
    return recs + recs2, fields + fields2, typ + typ2


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
