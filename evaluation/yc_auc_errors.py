"""Where the YC AUC (hard & core + deep vs business-model innovation) loses its pairs.

    PYTHONPATH=src python evaluation/yc_auc_errors.py [--n 15]

The shipped model on YC's held-out part, the companies whose tags hint hard & core, deep or model
innovation (`data/concordances/yc_tags.csv`): the AUC of P(hard & core) + P(deep) as
`hardtech evaluate` computes it, the same with 1 − P(model innovation) as the score, and the lowest-
scored positives and highest-scored negatives with their tags and the start of their text, to read
whether the model or the tag hint is wrong.
"""

from __future__ import annotations

import argparse

import numpy as np

from hardtech.analytics.classify import load_classifier
from hardtech.analytics.classify.metrics import roc_auc
from hardtech.analytics.classify.training_data import default_shared, weak_examples
from hardtech.analytics.taxonomy import TYPOLOGY_IDS


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=15)
    args = ap.parse_args()
    w, clf = weak_examples(default_shared()), load_classifier()
    idx = [i for i in range(len(w)) if w.source[i] == "yc" and w.split[i] == "test"
           and w.typology[i] in ("hard_core", "deep", "model_innovation")]
    v = clf.classify_batch([w.records[i] for i in idx])
    pt = np.nan_to_num(v.typology_proba)  # no typology given (too little text): probability 0, as evaluate counts it
    label = np.array([w.typology[i] for i in idx])
    pos = label != "model_innovation"
    h, d, m = (TYPOLOGY_IDS.index(x) for x in ("hard_core", "deep", "model_innovation"))
    score = pt[:, h] + pt[:, d]
    print(f"{clf.version_}: {len(idx)} companies, {int(pos.sum())} hinted hard & core or deep, "
          f"{int((~pos).sum())} model innovation")
    print(f"AUC, P(hard & core) + P(deep): {roc_auc(score, pos):.3f}; 1 - P(model innovation): {roc_auc(1 - pt[:, m], pos):.3f}")

    def show(j: int) -> str:
        i, t = idx[j], int(v.typology[j])
        return (f"{score[j]:.2f}  hint {label[j]:<16} model {TYPOLOGY_IDS[t] if t >= 0 else 'none':<16} "
                f"tags {w.extra[i].get('tags')}  | {w.records[i]['text'][:100]!r}")

    order = np.argsort(score, kind="stable")
    print("lowest-scored companies hinted hard & core or deep:")
    for j in [j for j in order if pos[j]][:args.n]:
        print("  " + show(j))
    print("highest-scored companies hinted model innovation:")
    for j in [j for j in order[::-1] if not pos[j]][:args.n]:
        print("  " + show(j))


if __name__ == "__main__":
    main()
