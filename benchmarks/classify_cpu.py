"""Process CPU time of the default classifier, for comparing code versions on a busy machine.

Wall-clock rates on the shared 2-core VM measure its load; CPU time of one process moves far less.
Run it with each version's `src` on PYTHONPATH (the same model file in both), alternating:

    PYTHONPATH=src python benchmarks/classify_cpu.py [--n 8000] [--stages]

`--stages` also times each step of a batch of 4,096 (cleaning, organisation kind, units, lexicon,
encoder, both models). Reads the 31k-patent file from ../shared/data (abstracts cut to 500 characters).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def best_cpu(f, runs: int = 3) -> float:
    best = float("inf")
    for _ in range(runs):
        t = time.process_time()
        f()
        best = min(best, time.process_time() - t)
    return best


def main() -> int:
    import pandas as pd

    from hardtech.analytics.classify import features as F
    from hardtech.analytics.classify import load_classifier, orgkind
    from hardtech.analytics.classify.lexicon import load_lexicon
    from hardtech.analytics.classify.text import clean
    from hardtech.analytics.classify.units import units

    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=8000)
    ap.add_argument("--stages", action="store_true")
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    a = ap.parse_args()
    path = a.shared / "patents_ai_cpc_31k.csv"
    if not path.exists():
        print(f"skipped: {path} is absent")
        return 0
    abstracts = pd.read_csv(path, usecols=["abstract"]).abstract.dropna().tolist()
    texts = [x[:500] for x in abstracts[: a.n] if x.strip()]
    clf = load_classifier()
    clf.classify(texts[:4096])  # warm: word caches, lazily built tables
    s = best_cpu(lambda: clf.classify(texts))
    print(f"classify: {len(texts):,} texts, best of 3 {s:.2f} s CPU = {len(texts) / s:,.0f} texts/s CPU ({clf.version_})")
    if hasattr(clf, "classify_batch"):  # the bulk path: columns, evidence written only when read
        s = best_cpu(lambda: clf.classify_batch(texts))
        print(f"classify_batch: {len(texts):,} texts, best of 3 {s:.2f} s CPU = {len(texts) / s:,.0f} texts/s CPU")
    if a.stages:
        b = texts[:4096]
        ct = [clean(t) for t in b]
        u = units(ct)
        docs = F.analyse(b)
        pf = clf.fields_.proba_and_contributions(docs)[0]
        rows = {"clean": lambda: [clean(t) for t in b], "organisation kind": lambda: [orgkind.detect(t) for t in ct],
                "unit ids": lambda: units(ct), "lexicon match": lambda: load_lexicon().match(u),
                "encoder (its own word lookup)": lambda: F.get_encoder("static").encode(ct),
                "encoder reusing the unit ids' word lookup": lambda: F.get_encoder("static").encode(ct, words=u.words),
                "analyse (all of the above; the encoder reusing)": lambda: F.analyse(b),
                "field model": lambda: clf.fields_.proba_and_contributions(docs),
                "typology model": lambda: clf.typology_.proba_and_drivers(docs, field_proba=pf),
                "_classify (everything; evidence lazy after issue 12's bulk path)": lambda: clf._classify(b, 0.35)}
        for name, f in rows.items():
            print(f"  {name:64s} {best_cpu(f) * 1000:7.0f} ms CPU for {len(b):,}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
