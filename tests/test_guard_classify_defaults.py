"""The classifier's defaults are the ones the shipped model was built with, read from the model file itself.

`classify fit` and every cross-validation build models with `HardTechClassifier()`'s defaults; the shipped
model records the parameters it was fitted with. If the code's defaults drift from what the file records
(a threshold edited, the model retrained with other settings), models fitted by users, cross-validation
figures and the shipped verdicts stop agreeing without anyone noticing. These tests read the file, so a
retrained model with new settings moves the expectation with it; only a disagreement fails.
"""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest


def shipped_params() -> dict:
    from hardtech.analytics.classify.pipeline import default_model_path

    with np.load(default_model_path(), allow_pickle=False) as z:
        return json.loads(str(z["meta"]))["params"]


def test_the_default_constructor_is_the_shipped_models_settings():
    from hardtech.analytics.classify.pipeline import HardTechClassifier, load_classifier

    p = shipped_params()
    clf = HardTechClassifier()
    assert {k: getattr(clf, k) for k in ("encoder", "field_threshold", "field_l2", "typology_l2")} == \
        {k: p[k] for k in ("encoder", "field_threshold", "field_l2", "typology_l2")}
    shipped = load_classifier()  # and the loaded model carries them
    assert shipped.field_threshold == p["field_threshold"] == shipped.fields_.threshold


@pytest.fixture(scope="module")
def labels(tmp_path_factory):
    """A small labelled set: two examples for each field, in both languages."""
    rows = [
        ("Deep learning models for machine vision and large language model training", "ai", "hard_core"),
        ("人工智能语音识别与大模型训练平台", "ai", "hard_core"),
        ("Commercial launch vehicles, rocket engines and small satellites", "aerospace", "hard_core"),
        ("商业运载火箭发动机与卫星制造", "aerospace", "hard_core"),
        ("Semiconductor wafer fabrication and integrated circuit design", "photonics_chips", "hard_core"),
        ("半导体晶圆制造与集成电路设计", "photonics_chips", "hard_core"),
        ("Monoclonal antibody drugs and gene therapy research", "biotech", "hard_core"),
        ("单克隆抗体药物与基因治疗研发", "biotech", "deep"),
        ("Cloud database, operating systems and industrial software", "it", "high"),
        ("云计算数据库与工业软件", "it", "high"),
        ("Carbon fibre composites and high-performance ceramics", "new_materials", "hard_core"),
        ("碳纤维复合材料与高性能陶瓷", "new_materials", "hard_core"),
        ("Lithium-ion battery cathode materials and hydrogen fuel cells", "new_energy", "hard_core"),
        ("锂离子电池正极材料与光伏组件", "new_energy", "hard_core"),
        ("Industrial robots and CNC machine tools for smart factories", "intelligent_manufacturing", "hard_core"),
        ("工业机器人与数控机床智能制造", "intelligent_manufacturing", "hard_core"),
        ("Food delivery app connecting restaurants with customers", "", "model_innovation"),
        ("社区团购电商平台", "", "model_innovation"),
    ]
    path = tmp_path_factory.mktemp("guard-classify") / "labels.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["text", "fields", "typology"])
        w.writerows(rows)
    return path


def test_a_model_fitted_with_the_defaults_records_the_shipped_settings(labels, tmp_path):
    """`hardtech classify fit` (services.fit_model) writes the same parameters the shipped file records."""
    from hardtech.services import fit_model

    out = fit_model(labels, tmp_path / "mine.npz", include_default=False)
    with np.load(out["model"], allow_pickle=False) as z:
        mine = json.loads(str(z["meta"]))["params"]
    assert mine == shipped_params()


def test_cross_validation_uses_the_shipped_threshold(labels):
    from hardtech.services.classify import evaluate_labels

    r = evaluate_labels(labels, cv=2)
    assert r["threshold"] == shipped_params()["field_threshold"]
