"""Fit the default classifier on our own labelled data and write it into the package.

    python scripts/build_classifier.py

Training data: evaluation/devset.csv (563 descriptions we wrote). The demo organisations'
expected labels are kept out of training: they are a held-out test set (docs/evaluation.md).
The result, src/hardtech/data/models/classifier-default.npz, is what `hardtech classify` uses
unless given `--model`. Deterministic: the same data give the same file contents (apart from
the training timestamp in its metadata).
"""

from __future__ import annotations

import time

from hardtech.analytics.classify.pipeline import HardTechClassifier, default_model_path, training_examples


def main() -> None:
    t = time.perf_counter()
    recs, fields, typ = training_examples()
    clf = HardTechClassifier().fit(recs, fields, typ)
    path = clf.save(default_model_path())
    print(f"fitted on {len(recs)} examples in {time.perf_counter() - t:.1f} s → {path} ({path.stat().st_size / 1e6:.2f} MB)")
    print(f"version {clf.version_}")


if __name__ == "__main__":
    main()
