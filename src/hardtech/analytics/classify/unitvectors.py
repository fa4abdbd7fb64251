"""A static multilingual embedding over the classifier's own units (`e5-units`).

The table (`data/models/e5-units`, built by `scripts/build_unit_embeddings.py`) holds one vector
per unit — an English stem or a Chinese character bigram — distilled from multilingual-e5-small.
A text's vector is the L2-normalised sum of its units' rows. The units are the ones the lexicon
and the learned text model already read (`units.py`), so embedding a batch costs one sparse
product over ids that are already there: no second tokeniser pass, and Chinese text gets a real
embedding (the MiniLM static model knows 244 CJK characters).

A text with no known unit gets a zero row: callers read that as "insufficient evidence".

The table is not shipped: on the held-out splits it did no better than the MiniLM static model
(docs/evaluation.md), which stays the default. `hardtech classify` uses it when a model was fitted
with `scripts/build_classifier.py --encoder e5units` after building the table.
"""

from __future__ import annotations

import functools
import hashlib
import json
from importlib import resources
from pathlib import Path
from typing import Sequence

import numpy as np
from scipy import sparse

from hardtech.analytics.classify.units import VOCAB, Units, units
from hardtech.errors import SourceError

FORMAT = "e5-units-1"


def default_model_dir() -> Path:
    return Path(str(resources.files("hardtech") / "data" / "models" / "e5-units"))


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class UnitEncoder:
    """numpy + scipy only; loading checks every file against the sha256 in config.json."""

    def __init__(self, model_dir: Path | None = None):
        model_dir = Path(model_dir) if model_dir is not None else default_model_dir()
        cfg_path = model_dir / "config.json"
        try:
            config = json.loads(cfg_path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise SourceError(f"unit embedding file missing: {cfg_path} (build the table with "
                              f"scripts/build_unit_embeddings.py; it is not shipped)") from exc
        except (OSError, ValueError) as exc:
            raise SourceError(f"unit embedding file corrupt: {cfg_path} ({exc})") from exc
        if config.get("format") != FORMAT:
            raise SourceError(f"{cfg_path}: format {config.get('format')!r}, this version reads {FORMAT!r}")
        for name, expected in config["files"].items():
            path = model_dir / name
            if not path.is_file():
                raise SourceError(f"unit embedding file missing: {path}")
            if _sha256(path) != expected:
                raise SourceError(f"unit embedding file corrupt (sha256 mismatch): {path}")
        q = np.load(model_dir / "embeddings.npy", allow_pickle=False)
        scales = np.load(model_dir / "scales.npy", allow_pickle=False)
        strings = (model_dir / "units.txt").read_text(encoding="utf-8").split("\n")[: q.shape[0]]
        if q.shape != (config["vocab_size"], config["dim"]) or len(strings) != q.shape[0]:
            raise SourceError(f"unit embedding file corrupt: {model_dir} has {q.shape}, config says "
                              f"{(config['vocab_size'], config['dim'])}")
        self.table = (q.astype(np.float32) * scales[:, None]).astype(np.float32)
        self.dim = int(config["dim"])
        self.version = f"{FORMAT}-{config['files']['embeddings.npy'][:8]}"
        self.model_dir = model_dir
        self._ids = np.array([VOCAB.unit(s) for s in strings], dtype=np.int64)
        self._map = np.zeros(0, dtype=np.int64)

    def _rows(self, ids: np.ndarray) -> np.ndarray:
        """Table row of each unit id, -1 where the unit has no vector (ids grow as text is read)."""
        if len(self._map) < len(VOCAB):
            m = np.full(len(VOCAB) + 1024, -1, dtype=np.int64)
            m[self._ids] = np.arange(len(self._ids))
            self._map = m
        return self._map[ids] if len(ids) else np.zeros(0, np.int64)

    def encode_units(self, u: Units) -> np.ndarray:
        """(n, dim) float32 unit rows of a batch already cut into units."""
        n = len(u)
        rows = self._rows(u.ids)
        keep = rows >= 0
        M = sparse.csr_matrix((np.ones(int(keep.sum()), np.float32), (u.doc[keep], rows[keep])),
                              shape=(n, len(self.table)))
        out = np.asarray(M @ self.table, dtype=np.float32)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        np.divide(out, norms, out=out, where=norms > 1e-12)
        out[norms[:, 0] <= 1e-12] = 0.0
        return out

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        from hardtech.analytics.classify.text import clean

        return self.encode_units(units([clean(t) for t in texts]))


@functools.lru_cache(maxsize=2)
def load_unit_encoder(model_dir: str | None = None) -> UnitEncoder:
    return UnitEncoder(Path(model_dir) if model_dir else None)
