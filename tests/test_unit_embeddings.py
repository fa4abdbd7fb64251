"""The static embedding over our units (`e5units` encoder, issue 12 item 3).

The distilled multilingual-e5 table is not shipped (docs/evaluation.md: it did not beat the MiniLM
static model on the held-out splits); `scripts/build_unit_embeddings.py` builds it. These tests
run the loader and the pooling on a small table written here (synthetic vectors).
"""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from hardtech.analytics.classify.text import clean
from hardtech.analytics.classify.units import units
from hardtech.analytics.classify.unitvectors import FORMAT, UnitEncoder
from hardtech.errors import SourceError

UNITS = ["battery", "lithium", "rocket", "satellite", "电池", "火箭", "卫星"]


def write_table(folder, rows: np.ndarray | None = None):
    """A valid table in the shipped layout: int8 rows, row scales, unit strings, checksums."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    x = rows if rows is not None else rng.normal(size=(len(UNITS), 8))
    scale = np.abs(x).max(axis=1) / 127
    np.save(folder / "embeddings.npy", np.rint(x / scale[:, None]).astype(np.int8))
    np.save(folder / "scales.npy", scale.astype(np.float32))
    (folder / "units.txt").write_text("\n".join(UNITS) + "\n", encoding="utf-8")
    files = {n: hashlib.sha256((folder / n).read_bytes()).hexdigest() for n in ("embeddings.npy", "scales.npy", "units.txt")}
    (folder / "config.json").write_text(json.dumps({"format": FORMAT, "dim": x.shape[1], "vocab_size": len(UNITS),
                                                    "files": files}), encoding="utf-8")
    return folder


def test_pooling_is_the_normalised_sum_of_unit_rows(tmp_path):
    rows = np.eye(len(UNITS), 8)
    enc = UnitEncoder(write_table(tmp_path / "t", rows))
    V = enc.encode(["Lithium batteries", "锂电池和火箭", "", "🚀🚀 🤖", "nothing known here"])
    assert V.shape == (5, 8) and V.dtype == np.float32
    want = rows[UNITS.index("battery")] + rows[UNITS.index("lithium")]
    assert np.allclose(V[0], want / np.linalg.norm(want), atol=1e-3)
    want = rows[UNITS.index("电池")] + rows[UNITS.index("火箭")]  # character bigrams of the text
    assert np.allclose(V[1], want / np.linalg.norm(want), atol=1e-3)
    assert not V[2:].any()  # empty, emoji-only, unknown words: no evidence, not a similarity of zero


def test_units_already_cut_are_pooled_without_a_second_pass(tmp_path):
    enc = UnitEncoder(write_table(tmp_path / "t"))
    texts = ["Rocket and satellite", "卫星和火箭"]
    assert np.allclose(enc.encode(texts), enc.encode_units(units([clean(t) for t in texts])))


def test_traditional_characters_are_folded_before_lookup(tmp_path):
    enc = UnitEncoder(write_table(tmp_path / "t"))
    a, b = enc.encode(["衛星和火箭", "卫星和火箭"])
    assert a.any() and np.allclose(a, b)


def test_a_changed_or_missing_file_is_refused(tmp_path):
    d = write_table(tmp_path / "a")
    raw = bytearray((d / "embeddings.npy").read_bytes())
    raw[-1] ^= 0xFF
    (d / "embeddings.npy").write_bytes(bytes(raw))
    with pytest.raises(SourceError, match="sha256"):
        UnitEncoder(d)
    d2 = write_table(tmp_path / "b")
    (d2 / "units.txt").unlink()
    with pytest.raises(SourceError, match="missing"):
        UnitEncoder(d2)
    with pytest.raises(SourceError, match="missing"):
        UnitEncoder(tmp_path / "absent")
