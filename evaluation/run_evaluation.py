"""Reproduce every number in docs/evaluation.md.

    python evaluation/run_evaluation.py [--shared ../shared/data] [--out evaluation/results.json]

1. Our development set (evaluation/devset.csv): 5-fold cross-validation, so every description
   is judged by a model that never saw it — once trained on the dev set alone, once with the demo
   organisations' labels added to every training fold.
2. Third-party patents from ../shared/data, classified from their title and abstract only (codes
   withheld):
   - the 31k AI patents: the field read from the text against the field given by their own CPC
     codes through our concordance;
   - the 3D-printing export: share judged intelligent manufacturing;
   - the stem-cell export: share judged biotechnology.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from pathlib import Path

import numpy as np
import pandas as pd

from hardtech.errors import ParseError

ROOT = Path(__file__).resolve().parents[1]


def devset_cv() -> dict:
    from hardtech.analytics.classify.evaluate import evaluate
    d = pd.read_csv(ROOT / "evaluation" / "devset.csv", dtype=str, keep_default_na=False)
    out = {}
    r = evaluate(d.text.tolist(), d.fields.tolist(), d.typology.tolist(), cv=5)
    out["devset_only"] = _summary(r)
    for lang in ("en", "zh"):
        m = (d.lang == lang).values
        out[f"by_language_{lang}"] = _lang(r, m, d[m])
    return out


def demo_held_out() -> dict:
    """The shipped default model (trained on the dev set only) on the demo organisations it never saw."""
    from hardtech.analytics.classify import load_classifier
    from hardtech.analytics.classify.pipeline import demo_examples

    recs, f, t = demo_examples()
    r = evaluate_model(recs, f, t, load_classifier())
    return _summary(r)


def evaluate_model(recs, f, t, model):
    from hardtech.analytics.classify.evaluate import evaluate

    return evaluate(recs, f, t, model=model)


def _summary(r: dict) -> dict:
    return {k: r[k] for k in ("model", "n", "threshold", "macro_f1", "typology_accuracy", "ece", "auc_hard_vs_model",
                              "fields", "confusion")}


def _lang(r: dict, mask: np.ndarray, sub: pd.DataFrame) -> dict:
    from hardtech.analytics.classify.features import as_label_matrix
    from hardtech.analytics.classify.metrics import field_report, macro_f1
    from hardtech.analytics.taxonomy import FIELD_IDS

    Y = as_label_matrix(sub.fields.tolist(), FIELD_IDS)
    rows = field_report(Y, r["field_probabilities"][mask], r["threshold"])
    pred = [p for p, k in zip(r["typology_predictions"], mask) if k]
    return {"n": int(mask.sum()), "macro_f1": round(macro_f1(rows), 3),
            "typology_accuracy": round(float(np.mean([a == b for a, b in zip(pred, sub.typology)])), 3)}


def ai_patents(shared: Path) -> dict:
    from hardtech.analytics.classify import load_classifier
    from hardtech.analytics.taxonomy import FIELD_IDS, load_taxonomy

    df = pd.read_csv(shared / "patents_ai_cpc_31k.csv", dtype=str, keep_default_na=False)
    df = df.drop_duplicates("publication_number")
    tax = load_taxonomy()
    cpc_fields = []
    for codes in df.cpc_codes:
        scores = {}
        for c in re.split(r"[,|]", codes):
            try:
                for f, w in tax.field_scores([f"cpc:{c.strip()}"]).items():
                    scores[f] = max(w, scores.get(f, 0))
            except ParseError:
                continue
        cpc_fields.append({f for f, w in scores.items() if w >= 0.5})
    clf = load_classifier()
    t = time.perf_counter()
    res = clf.classify([{"text": f"{a}. {b}"} for a, b in zip(df.title, df.abstract)])
    secs = time.perf_counter() - t
    has = [i for i, s in enumerate(cpc_fields) if s]
    top_in = np.mean([res[i]["top_field"] in cpc_fields[i] for i in has])
    any_overlap = np.mean([bool({x["field"] for x in res[i]["fields"]} & cpc_fields[i]) for i in has])
    per = {}
    for f in FIELD_IDS:
        y = np.array([f in cpc_fields[i] for i in has])
        p = np.array([f in {x["field"] for x in res[i]["fields"]} for i in has])
        tp = int((y & p).sum())
        per[f] = {"cpc_count": int(y.sum()), "text_count": int(p.sum()),
                  "precision_vs_cpc": round(tp / p.sum(), 3) if p.sum() else None,
                  "recall_vs_cpc": round(tp / y.sum(), 3) if y.sum() else None}
    ai_text = np.mean([any(x["field"] == "ai" for x in r["fields"]) for r in res])
    return {"patents": len(df), "with_cpc_field": len(has), "seconds": round(secs, 1),
            "top_text_field_in_cpc_fields": round(float(top_in), 3),
            "any_text_field_in_cpc_fields": round(float(any_overlap), 3),
            "share_text_says_ai": round(float(ai_text), 3), "per_field": per}


def export_share(shared: Path, name: str, field: str) -> dict:
    from hardtech.analytics.classify import load_classifier

    df = pd.read_csv(shared / name, dtype=str, keep_default_na=False)
    res = load_classifier().classify([{"text": f"{a}. {b}"} for a, b in zip(df["발명의 명칭"], df["요약"])])
    return {"patents": len(df), "field": field,
            "share_in_fields": round(float(np.mean([field in {x['field'] for x in r['fields']} for r in res])), 3),
            "share_top_field": round(float(np.mean([r["top_field"] == field for r in res])), 3)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--out", type=Path, default=ROOT / "evaluation" / "results.json")
    args = ap.parse_args()
    results = {"devset": devset_cv(), "demo_held_out": demo_held_out()}
    if (args.shared / "patents_ai_cpc_31k.csv").exists():
        results["ai_patents"] = ai_patents(args.shared)
        results["printing_3d"] = export_share(args.shared, "patents_3dprinting_us_cn_312.csv",
                                              "intelligent_manufacturing")
        results["stem_cell"] = export_share(args.shared, "patents_stemcell_us_761.csv", "biotech")
    else:
        print(f"{args.shared} absent: third-party evaluations skipped")
    args.out.write_text(json.dumps(results, indent=2, ensure_ascii=False))
    print(json.dumps({k: ({kk: vv for kk, vv in v.items() if kk not in ("fields", "confusion", "per_field")}
                          if isinstance(v, dict) else v) for k, v in results.items()}, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
