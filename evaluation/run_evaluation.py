"""Reproduce every number in docs/evaluation.md.

    python evaluation/run_evaluation.py [--shared ../shared/data] [--out evaluation/results.json] [--quick]

1. Our development set (evaluation/devset.csv): 5-fold cross-validation, so every description
   is judged by a model that never saw it; each training fold also holds the train parts of the
   weakly labelled sources (the default model's recipe). `--quick` skips it (five refits).
2. The held-out 30 % of each weakly labelled source (training_data.split_of), judged by the
   shipped default model, which never saw them: YC (fields from YC's own tags through
   data/concordances/yc_tags.csv), IT桔子 (the field its 子行业 names among the returned fields),
   AI patents (fields from CPC), the stem-cell and 3D-printing exports.
3. Third-party patents from ../shared/data, classified from their title and abstract only (codes
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


MODEL: Path | None = None  # --model: evaluate this file instead of the shipped default
YC_FIELDS = ("ai", "aerospace", "biotech", "new_energy", "intelligent_manufacturing", "new_materials")


def devset_cv(shared: Path) -> dict:
    from hardtech.analytics.classify.evaluate import evaluate
    from hardtech.analytics.classify.training_data import weak_examples

    d = pd.read_csv(ROOT / "evaluation" / "devset.csv", dtype=str, keep_default_na=False)
    weak = weak_examples(shared)
    weak = weak.where(lambda i: weak.split[i] == "train")
    out = {}
    from hardtech.analytics.classify import load_classifier

    r = evaluate(d.text.tolist(), d.fields.tolist(), d.typology.tolist(), cv=5, encoder=load_classifier(MODEL).encoder,
                 extra_train=(weak.records, weak.fields, weak.typology, weak.weights) if len(weak) else None)
    out["devset_only"] = _summary(r)
    for lang in ("en", "zh"):
        m = (d.lang == lang).values
        out[f"by_language_{lang}"] = _lang(r, m, d[m])
    # labels we flagged as judgement calls when writing them ("ambiguous", "可议" in the notes)
    clear = ~d.notes.str.contains("ambiguous|可议", case=False).values
    pred = np.array(r["typology_predictions"])
    out["typology_accuracy_unflagged"] = round(float((pred[clear] == d.typology.values[clear]).mean()), 3)
    out["typology_flagged_rows"] = int((~clear).sum())
    return out


def demo_held_out() -> dict:
    """The shipped default model on the demo organisations it never saw: all labelled inputs, and
    the companies and start-ups alone (universities, institutes, investors and government bodies get
    no typology by design, but the demo's labels give them one)."""
    import pandas as pd
    from importlib import resources

    from hardtech.analytics.classify import load_classifier
    from hardtech.analytics.classify.pipeline import demo_examples

    recs, f, t = demo_examples()
    clf = load_classifier(MODEL)
    out = _summary(evaluate_model(recs, f, t, clf))
    o = pd.read_csv(Path(str(resources.files("hardtech.data") / "demo" / "organizations.csv")), dtype=str,
                    keep_default_na=False)
    kinds = []
    for r in o[o.expected_typology != ""].itertuples():
        kinds += [r.kind] * (2 if r.description_zh and r.description_en else 1)
    keep = [i for i, k in enumerate(kinds) if k in ("company", "startup")]
    out["companies_and_startups"] = _summary(evaluate_model([recs[i] for i in keep], [f[i] for i in keep],
                                                            [t[i] for i in keep], clf))
    return out


def evaluate_model(recs, f, t, model):
    from hardtech.analytics.classify.evaluate import evaluate

    return evaluate(recs, f, t, model=model)


def _summary(r: dict) -> dict:
    return {k: r[k] for k in ("model", "n", "threshold", "macro_f1", "typology_accuracy", "typology_accuracy_given",
                              "typology_given", "typology_labelled", "ece", "auc_hard_vs_model",
                              "auc_hard_vs_model_given", "fields", "confusion")}


def held_out(shared: Path) -> dict:
    """The shipped model on the test part of every weakly labelled source."""
    from hardtech.analytics.classify import load_classifier
    from hardtech.analytics.classify.evaluate import evaluate
    from hardtech.analytics.classify.metrics import macro_f1
    from hardtech.analytics.classify.training_data import weak_examples

    clf = load_classifier(MODEL)
    ex = weak_examples(shared)
    out = {}
    for src in sorted(set(ex.source)):
        idx = [i for i in range(len(ex)) if ex.source[i] == src and ex.split[i] == "test"]
        recs = [ex.records[i] for i in idx]
        r = evaluate(recs, [ex.fields[i] for i in idx], [ex.typology[i] or "" for i in idx], model=clf)
        s = _summary(r)
        s["n"] = len(idx)
        if src == "yc":
            rows = [x for x in r["fields"] if x["field"] in YC_FIELDS]
            s["macro_f1_six_fields"] = round(macro_f1(rows), 3)
            s["six_fields"] = list(YC_FIELDS)
            s["label_noise"] = yc_label_noise([ex.records[i]["text"] for i in idx], [ex.fields[i] for i in idx])
        if src == "itjuzi":
            res = clf.classify(recs)
            named = [(k, i) for k, i in enumerate(idx) if ex.extra[i]["subindustry_fields"]]
            hit = [bool(set(ex.extra[i]["subindustry_fields"]) & {x["field"] for x in res[k]["fields"]})
                   for k, i in named]
            s["subindustry_field_returned"] = round(float(np.mean(hit)), 3) if hit else None
            s["subindustry_named"] = len(named)
            by = {}
            for (k, i), h in zip(named, hit):
                by.setdefault(ex.extra[i]["subindustry"], []).append(h)
            s["subindustry_field_returned_by_subindustry"] = {k: [int(sum(v)), len(v)] for k, v in sorted(by.items())}
        out[src] = s
    return out


def yc_label_noise(texts: list[str], fields: list[str]) -> dict:
    """How far YC's tags agree with what the texts say: per field, the F1 of a plain rule "the text
    uses one of the field's lexicon terms" against the tag-derived label, and the share of
    tag-labelled companies whose text uses none of the field's terms. A label the text does not
    support caps any text classifier's recall."""
    from hardtech.analytics.classify.features import as_label_matrix
    from hardtech.analytics.classify.lexicon import load_lexicon
    from hardtech.analytics.classify.metrics import field_report
    from hardtech.analytics.classify.text import clean
    from hardtech.analytics.classify.units import units
    from hardtech.analytics.taxonomy import FIELD_IDS

    from hardtech.analytics.classify.metrics import macro_f1

    hits = load_lexicon().match(units([clean(t) for t in texts])).pos
    Y = as_label_matrix(fields, FIELD_IDS)
    rows = [x for x in field_report(Y, (hits > 0).astype(float), 0.5) if x["field"] in YC_FIELDS]
    silent = {f: round(float(((hits[:, j] == 0) & (Y[:, j] > 0)).sum() / max(Y[:, j].sum(), 1)), 3)
              for j, f in enumerate(FIELD_IDS) if f in YC_FIELDS}
    return {"term_rule_f1": {x["field"]: x["f1"] for x in rows}, "term_rule_macro_f1": round(macro_f1(rows), 3),
            "labelled_but_no_field_term": silent}


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
    clf = load_classifier(MODEL)
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
    res = load_classifier(MODEL).classify([{"text": f"{a}. {b}"} for a, b in zip(df["발명의 명칭"], df["요약"])])
    return {"patents": len(df), "field": field,
            "share_in_fields": round(float(np.mean([field in {x['field'] for x in r['fields']} for r in res])), 3),
            "share_top_field": round(float(np.mean([r["top_field"] == field for r in res])), 3)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--out", type=Path, default=ROOT / "evaluation" / "results.json")
    ap.add_argument("--quick", action="store_true", help="skip the dev-set cross-validation (five refits)")
    ap.add_argument("--model", type=Path, help="a model file to evaluate instead of the shipped default "
                    "(its encoder is also used for the cross-validation refits)")
    args = ap.parse_args()
    global MODEL
    MODEL = args.model
    results = {"demo_held_out": demo_held_out()}
    if args.shared.exists():
        results["held_out"] = held_out(args.shared)
    if not args.quick:
        results["devset"] = devset_cv(args.shared)
    if (args.shared / "patents_ai_cpc_31k.csv").exists():
        results["ai_patents"] = ai_patents(args.shared)
        results["printing_3d"] = export_share(args.shared, "patents_3dprinting_us_cn_312.csv",
                                              "intelligent_manufacturing")
        results["stem_cell"] = export_share(args.shared, "patents_stemcell_us_761.csv", "biotech")
    else:
        print(f"{args.shared} absent: third-party evaluations skipped")
    args.out.write_text(json.dumps(results, indent=2, ensure_ascii=False))
    def brief(v):
        if isinstance(v, dict):
            return {kk: brief(vv) for kk, vv in v.items() if kk not in ("fields", "confusion", "per_field")}
        return v
    print(json.dumps(brief(results), indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
