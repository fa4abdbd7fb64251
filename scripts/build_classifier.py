"""Fit the default classifier and write it into the package.

    python scripts/build_classifier.py [--shared ../shared/data] [--encoder e5units|static] [--out M.npz]

Training data (analytics/classify/training_data.py): our development set (evaluation/devset.csv,
563 descriptions we wrote) and the *train* parts (70 %, split by a hash of each record's key) of
the weakly labelled third-party sources in ../shared/data — YC companies (fields and typology from
YC's industry, subindustry and tags through data/concordances/yc_tags.csv), IT桔子 AI companies
(行业/子行业 through itjuzi_industries.csv), AI patents (fields from their CPC codes), and the
stem-cell and 3D-printing patent exports. The held-out 30 % of each source and the demo
organisations are never used for training (docs/evaluation.md reports on them).

The third-party texts are not copied into the package: only the fitted weights ship. Their
licences (shared/data/SOURCES.md) allow learning and evaluation, not redistribution of the data;
the model file records which sources and how many examples of each it was fitted on. Without
../shared/data the script fits on the development set alone and says so.

Each weak source keeps its own typology base rates while fitting (its records carry `source`):
the evidence weights learn from every source, the class priors from our labelling only.

Deterministic: the same data give the same weights (the training timestamp in the metadata aside).
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from pathlib import Path

from hardtech.analytics.classify.pipeline import HardTechClassifier, default_model_path
from hardtech.analytics.classify.training_data import default_shared, default_training_set


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", type=Path, default=default_shared())
    ap.add_argument("--out", type=Path, default=default_model_path())
    ap.add_argument("--encoder", default=HardTechClassifier().encoder,
                    help="sentence embedding: e5units (multilingual, over our units) or static (MiniLM)")
    args = ap.parse_args()
    t = time.perf_counter()
    ex = default_training_set(args.shared)
    counts = Counter(ex.source)
    if set(counts) == {"devset"}:
        print(f"{args.shared} has none of the weakly labelled sources: fitting on the development set alone")
    clf = HardTechClassifier(encoder=args.encoder).fit(ex.records, ex.fields, ex.typology, sample_weight=ex.weights)
    clf.training_ = {"sources": dict(sorted(counts.items())), "split": "train parts only (70 % by key hash)",
                     "licence_note": "third-party texts used for fitting only; the data are not shipped"}
    path = clf.save(args.out)
    print(f"fitted on {len(ex)} examples {dict(counts)} in {time.perf_counter() - t:.1f} s → {path} "
          f"({path.stat().st_size / 1e6:.2f} MB)")
    print(f"version {clf.version_}")


if __name__ == "__main__":
    main()
