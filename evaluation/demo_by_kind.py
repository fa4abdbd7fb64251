"""The demo organisations by kind: all labelled inputs, and companies and start-ups alone.

    PYTHONPATH=src python evaluation/demo_by_kind.py [MODEL.npz]

Universities, institutes, investors and government bodies get no typology since issue 12, while
the demo's labels give them one; comparing models on the companies and start-ups alone is the fair
comparison. Uses only `load_classifier`, `evaluate` and the demo file, so the same script runs on
older versions of the code (point PYTHONPATH at their `src`) to measure their models the same way.
"""

from __future__ import annotations

import json
import sys
from importlib import resources
from pathlib import Path

import pandas as pd

from hardtech.analytics.classify import load_classifier
from hardtech.analytics.classify.evaluate import evaluate


def main() -> None:
    o = pd.read_csv(Path(str(resources.files("hardtech.data") / "demo" / "organizations.csv")), dtype=str,
                    keep_default_na=False)
    o = o[o.expected_typology != ""]
    recs, fields, typ, kind = [], [], [], []
    for r in o.itertuples():  # as pipeline.demo_examples: English (or the only) text, then Chinese
        texts = [f"{r.name_en}. {r.description_en or r.description_zh}"]
        if r.description_zh and r.description_en:
            texts.append(f"{r.name_zh}。{r.description_zh}")
        for text in texts:
            recs.append({"text": text, "codes": r.industry_codes})
            fields.append(r.expected_fields)
            typ.append(r.expected_typology)
            kind.append(r.kind)
    clf = load_classifier(sys.argv[1] if len(sys.argv) > 1 else None)
    out = {"model": clf.version_}
    for name, keep in (("all", lambda k: True), ("companies_and_startups", lambda k: k in ("company", "startup"))):
        idx = [i for i, k in enumerate(kind) if keep(k)]
        r = evaluate([recs[i] for i in idx], [fields[i] for i in idx], [typ[i] for i in idx], model=clf)
        out[name] = {k: r.get(k) for k in ("n", "macro_f1", "typology_accuracy", "auc_hard_vs_model")}
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
