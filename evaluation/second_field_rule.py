"""Would a second field under the threshold help? A rule checked on out-of-fold probabilities first.

    PYTHONPATH=src python evaluation/second_field_rule.py [--out evaluation/second_field_rule.json]

IT桔子's held-out companies are all AI companies; the field their 子行业 names (robots → intelligent
manufacturing, …) is often the model's second field, under the 0.35 threshold. The rule tried here: a
text's second-ranked field is also returned when its probability is at least `t2` (and the first
field is returned). `t2` must be chosen without the held-out parts, so the script refits the default
recipe (scripts/build_classifier.py's data and settings) and reads the field model's out-of-fold
probabilities of every training example (`FieldClassifier.oof_proba_`, the ones its calibration was
fitted on): macro-F1 per source for each `t2`. The held-out figures of the shipped model are printed
beside them for each `t2`, to show what the choice would cost or gain — not to choose it.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from hardtech.analytics.classify import load_classifier
from hardtech.analytics.classify.pipeline import HardTechClassifier, demo_examples
from hardtech.analytics.classify.training_data import default_shared, default_training_set, weak_examples
from hardtech.analytics.taxonomy import FIELD_IDS

ROOT = Path(__file__).resolve().parents[1]
THRESHOLD = 0.35
GRID = (None, 0.30, 0.25, 0.20, 0.15, 0.10)
YC_FIELDS = ("ai", "aerospace", "biotech", "new_energy", "intelligent_manufacturing", "new_materials")


def label_matrix(fields: list[str]) -> np.ndarray:
    y = np.zeros((len(fields), len(FIELD_IDS)), dtype=bool)
    for i, f in enumerate(fields):
        for x in f.split("|"):
            if x in FIELD_IDS:
                y[i, FIELD_IDS.index(x)] = True
    return y


def assign(p: np.ndarray, t2: float | None) -> np.ndarray:
    """Fields at or above the threshold, plus the second-ranked one at or above t2 when the first is returned."""
    a = p >= THRESHOLD
    if t2 is not None and len(p):
        order = np.argsort(-p, axis=1, kind="stable")
        r = np.arange(len(p))
        first, second = p[r, order[:, 0]], p[r, order[:, 1]]
        ok = (second >= t2) & (first >= THRESHOLD)
        a[r[ok], order[ok, 1]] = True
    return a


def macro_f1(y: np.ndarray, a: np.ndarray, only: tuple[str, ...] | None = None) -> float:
    f1 = []
    for j, f in enumerate(FIELD_IDS):
        if (only and f not in only) or not y[:, j].any():
            continue
        tp, fp, fn = (y[:, j] & a[:, j]).sum(), (~y[:, j] & a[:, j]).sum(), (y[:, j] & ~a[:, j]).sum()
        f1.append(2 * tp / (2 * tp + fp + fn))
    return round(float(np.mean(f1)), 3)


def named_field_returned(extra: list[dict], a: np.ndarray) -> float:
    hit = [bool(set(e["subindustry_fields"]) & {FIELD_IDS[j] for j in np.flatnonzero(a[k])})
           for k, e in enumerate(extra) if e.get("subindustry_fields")]
    return round(float(np.mean(hit)), 3)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=ROOT / "evaluation" / "second_field_rule.json")
    args = ap.parse_args()
    shared = default_shared()
    ex = default_training_set(shared)
    refit = HardTechClassifier().fit(ex.records, ex.fields, ex.typology, sample_weight=ex.weights)
    oof, src, y = refit.fields_.oof_proba_, np.array(ex.source), label_matrix(ex.fields)
    it_train = [e for e, s in zip(ex.extra, ex.source) if s == "itjuzi"]

    clf = load_classifier()
    weak = weak_examples(shared)
    held = {}
    for s in ("yc", "itjuzi"):
        idx = [i for i in range(len(weak)) if weak.source[i] == s and weak.split[i] == "test"]
        held[s] = (clf.classify_batch([weak.records[i] for i in idx]).field_proba,
                   label_matrix([weak.fields[i] for i in idx]), [weak.extra[i] for i in idx])
    recs, demo_f, _ = demo_examples()
    demo = (clf.classify_batch(recs).field_proba, label_matrix(demo_f))

    rows = []
    for t2 in GRID:
        row = {"t2": t2, "out_of_fold": {s: macro_f1(y[src == s], assign(oof[src == s], t2))
                                         for s in ("devset", "yc", "itjuzi", "patents_ai")}}
        row["out_of_fold"]["itjuzi_named_field_returned"] = named_field_returned(it_train, assign(oof[src == "itjuzi"], t2))
        p, yy, extra = held["yc"]
        row["held_out"] = {"yc_six_fields": macro_f1(yy, assign(p, t2), YC_FIELDS)}
        p, yy, extra = held["itjuzi"]
        row["held_out"]["itjuzi_named_field_returned"] = named_field_returned(extra, assign(p, t2))
        row["held_out"]["demo_macro_f1"] = macro_f1(demo[1], assign(demo[0], t2))
        rows.append(row)
        print(json.dumps(row, ensure_ascii=False))
    doc = {"command": "PYTHONPATH=src python evaluation/second_field_rule.py", "threshold": THRESHOLD,
           "refit": refit.version_, "shipped": clf.version_, "rows": rows}
    args.out.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
