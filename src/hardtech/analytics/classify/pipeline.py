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
import os
import zipfile
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from hardtech import __version__
from hardtech.analytics.classify import orgkind, parallel
from hardtech.analytics.classify.features import Docs, analyse, as_records, code_matrix, get_encoder, typology_hints
from hardtech.analytics.classify.evidence import BatchEvidence
from hardtech.analytics.classify.fields import FieldClassifier
from hardtech.analytics.classify.typology import TypologyClassifier
from hardtech.analytics.classify.verdicts import INSUFFICIENT, Lazy, Verdicts
from hardtech.analytics.taxonomy import TYPOLOGY_IDS, load_taxonomy
from hardtech.errors import SourceError, UsageError

MODEL_FORMAT = "hardtech-classifier-3"
DEFAULT_MODEL = "classifier-default.npz"
DEFAULT_THRESHOLD = 0.35
# Texts analysed together: large enough for numpy to pay (a step's fixed cost, ~14 ms of CPU on the
# loaded 2-core machine, against ~0.27 s for 2,048 texts), small enough to bound memory. The step
# also fixes the float bits (a matrix product's last bit depends on its number of rows,
# `parallel.py`), so a call over several processes splits the input along whole steps; 2,048
# rather than 4,096 so that the common large inputs split evenly over two cores (20,000 texts:
# 5 + 5 steps, where 4,096 gave 2 + 3 and the larger part set the time). It is also the static
# encoder's own step (`embeddings._STEP`).
BATCH = 2048


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
    def classify(self, X, threshold: float | None = None, jobs: int | None = None) -> list[dict[str, Any]]:
        """One result per input, in input order. `threshold`: the field probability a field needs
        to be assigned (default: the model's, 0.35); `jobs`: as in `classify_batch`."""
        return self.classify_batch(X, threshold, jobs=jobs, evidence=True).rows()

    def classify_batch(self, X, threshold: float | None = None, jobs: int | None = None,
                       evidence: bool = False) -> Verdicts:
        """The same verdicts as `classify()`, as columns (`verdicts.Verdicts`); each row's evidence is
        written only when read, so a bulk caller that stores probabilities pays nothing for it.

        `jobs`: processes for an input of more than one step (`BATCH` rows), forked from this one
        (`parallel.py`; default: the cores this process may use, 1 = in this process only; the neural
        encoder always runs here); the verdicts do not depend on it. `evidence`: every row's evidence will be read, so a worker
        writes it where the rest of its verdicts are made (otherwise this process writes a
        worker's rows' evidence, by analysing them again, only if one is read)."""
        if not hasattr(self, "fields_"):
            raise RuntimeError("classifier is not fitted; fit() it or use load_classifier()")
        thr = self.field_threshold if threshold is None else float(threshold)
        if not 0.0 < thr <= 1.0:
            raise UsageError(f"threshold {thr} is outside (0, 1]")
        if jobs is not None and int(jobs) < 1:
            raise UsageError(f"jobs {jobs} must be 1 or more")
        if not isinstance(X, Docs):
            recs = as_records(X)
            if len(recs) > BATCH:  # texts are judged one by one: batches bound the memory, not the result
                parts = parallel.plan(len(recs), parallel.cores() if jobs is None else int(jobs), BATCH)
                # torch's thread pools are not safe to fork: the neural path stays in this process
                if len(parts) > 1 and parallel.can_fork() and self.encoder != "neural":
                    return self._in_workers(recs, thr, parts, evidence)
                return self._in_steps(recs, thr)
            X = recs
        return self._classify(X, thr)

    def _in_steps(self, recs: list[dict], thr: float) -> Verdicts:
        return Verdicts.concat([self._classify(recs[s:s + BATCH], thr) for s in range(0, len(recs), BATCH)])

    def _in_workers(self, recs: list[dict], thr: float, parts: list[tuple[int, int]], evidence: bool) -> Verdicts:
        """The first part here, the others in forked workers (`parallel.run_parts`), each in the same
        steps the in-process path takes (parts start on a step), so the columns are the same bits."""
        home = os.getpid()
        self._warm()  # what every step loads on first use is loaded once, before the fork

        def part(lo: int, hi: int):
            v = self._in_steps(recs[lo:hi], thr)
            return v if os.getpid() == home else v.detached(evidence)

        out = parallel.run_parts(part, parts, parallel.lock_owners(get_encoder(self.encoder)))
        for (lo, hi), v in zip(parts[1:], out[1:]):
            if not v._evidence:  # not written by the worker: analysed again here if a row's is read
                v._evidence.append((0, hi - lo, Lazy(functools.partial(self._evidence_of, recs[lo:hi], thr))))
        return Verdicts.concat(out)

    def _evidence_of(self, recs: list[dict], thr: float):
        return self._in_steps(recs, thr).evidence

    def _warm(self) -> None:
        """Once per process (a second call found everything loaded: ~7 ms saved on every large call's
        path to the fork); a forked child that calls again warms itself."""
        if getattr(self, "_warm_pid", None) != os.getpid():
            self._classify([{"text": "warm"}], self.field_threshold)
            self._warm_pid = os.getpid()

    def _classify(self, X, thr: float) -> Verdicts:
        docs = analyse(X, self.encoder)
        n = len(docs)
        pf, contrib = self.fields_.proba_and_contributions(docs)
        pt, why = self.typology_.proba_and_reasons(docs, field_proba=pf)
        hits = docs.hits
        empty = docs.empty
        no_emb = ~docs.emb.any(axis=1)
        any_term = (hits.pos.sum(axis=1) + hits.typ.sum(axis=1)) > 0
        has_text = np.array([bool(t) for t in docs.texts], dtype=bool)
        has_codes = np.array([bool(c) for c in docs.codes], dtype=bool)
        order = np.argsort(-pf, axis=1, kind="stable")
        pf = np.round(pf.astype(np.float64), 4)
        pt = np.round(pt.astype(np.float64), 4)
        assigned = (pf >= thr) & ~empty[:, None]
        weak = ~has_text | (no_emb & ~any_term & ~has_codes)
        insufficient = weak & ~assigned.any(axis=1) & ~empty
        # a bare name ("Bytedance") says nothing about the kind of technology: no typology from it
        thin = (docs.n_units < 4) & ~any_term & ~typology_hints(docs).any(axis=1)
        gated = np.array([not orgkind.gets_typology(k) for k in docs.kinds], dtype=bool)
        none = empty | insufficient | thin | gated
        typ = np.where(none, -1, pt.argmax(axis=1))
        pt[none] = np.nan
        trl = hits.trl.astype(np.int64)
        v = Verdicts(pf, order, assigned, typ, pt, trl, list(docs.kinds), insufficient | empty, [])
        # what the evidence reads, and nothing else of the batch (texts, embedding, units) is kept for it
        words = self.fields_.text_.matrix(docs.units, cache=docs)
        code_ev = code_matrix(docs)[1]
        kinds = v.kinds
        flags = [x.tolist() for x in (empty, insufficient, weak, gated)]
        del docs

        def build():
            ev = BatchEvidence(self, n, hits, words, code_ev, contrib)

            def write(i: int) -> str:
                if flags[0][i]:
                    return INSUFFICIENT + ": no text and no codes"
                if flags[1][i]:
                    return INSUFFICIENT + ": no known words, terms or codes"
                e = ev.fields(i, v.fields(i), code_ev[i], flags[2][i])
                t = int(typ[i])
                if t >= 0:
                    r = int(trl[i]) or None
                    return e + " | " + ev.typology(i, TYPOLOGY_IDS[t], why(i), r)
                if flags[3][i]:
                    return e + f" | typology: none for a {kinds[i]} (only companies and projects get one)"
                return e + " | typology: " + INSUFFICIENT + " (too little text)"

            return write

        v._evidence.append((0, n, Lazy(build)))
        return v

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
