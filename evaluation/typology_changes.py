"""Which typology verdicts on YC's held-out part change between two model files, and how.

    PYTHONPATH=src python evaluation/typology_changes.py OLD.npz [NEW.npz]   # NEW: the shipped default

Prints each changed row (label, old → new, the text's start) and the counts of (old, new, label).
Used for docs/evaluation.md (consumer drones: what the fix cost).
"""

from __future__ import annotations

import sys
from collections import Counter

from hardtech.analytics.classify import load_classifier
from hardtech.analytics.classify.training_data import default_shared, weak_examples


def main(old: str, new: str | None = None) -> None:
    ex = weak_examples(default_shared())
    idx = [i for i in range(len(ex)) if ex.source[i] == "yc" and ex.split[i] == "test" and ex.typology[i]]
    recs = [ex.records[i] for i in idx]
    a = load_classifier(old).classify(recs)
    b = load_classifier(new).classify(recs)
    counts = Counter()
    for i, x, y in zip(idx, a, b):
        if x["typology"] != y["typology"]:
            counts[(x["typology"], y["typology"], ex.typology[i])] += 1
            print(f"{ex.typology[i]}: {x['typology']} -> {y['typology']} | {ex.records[i]['text'][:90]}")
    print(f"{sum(counts.values())} of {len(idx)} changed; (old, new, label): {counts.most_common()}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
