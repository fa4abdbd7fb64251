"""Classification services: one text, a file of descriptions, or the store's organisations and patents."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from hardtech.errors import UsageError
from hardtech.store import classify_inputs
from hardtech.store.classifications_write import save_classifications
from hardtech.store.connection import Store

FLAT = ("fields", "top_field", "typology", "typology_probabilities", "trl", "evidence")
FIELD_ORDER = ("ai", "aerospace", "photonics_chips", "biotech", "it", "new_materials", "new_energy",
               "intelligent_manufacturing")


def _classifier(model: str | Path | None, neural: bool = False):
    from hardtech.analytics.classify.pipeline import load_classifier, load_neural_classifier

    if neural and model is None:
        return load_neural_classifier()
    return load_classifier(model)


def structured(result: dict) -> dict:
    """One verdict for programs (json, jsonl, parquet): `fields` as a list of {field, probability},
    `field_probabilities` for all eight fields and `typology_probabilities` as objects."""
    return {
        "fields": [{"field": x["field"], "probability": x["probability"]} for x in result["fields"]],
        "top_field": result["top_field"],
        "field_probabilities": {f: result["field_probabilities"].get(f, 0.0) for f in FIELD_ORDER},
        "typology": result["typology"],
        "typology_probabilities": dict(result["typology_probabilities"]) or None,
        "trl": result["trl"],
        "kind": result.get("kind"),
        **_evidence(result),
    }


def _evidence(result: dict) -> dict:
    """The evidence column when the verdict carries one (bulk calls may leave it out: `evidence=False`)."""
    return {"evidence": result["evidence"]} if "evidence" in result else {}


def shape(result: dict, form: str = "flat") -> dict:
    if form not in ("flat", "structured"):
        raise UsageError(f"unknown output form {form!r}: flat or structured")
    return structured(result) if form == "structured" else flatten(result)


def flatten(result: dict) -> dict:
    """One verdict as columns, structure kept: `fields` = {field: probability} of the fields chosen (highest
    first; {} when none), `typology_probabilities` = {class: probability}; csv writes them as `fields.ai`, …"""
    return {
        "fields": {x["field"]: round(float(x["probability"]), 4) for x in result["fields"]},
        "top_field": result["top_field"],
        "typology": result["typology"],
        "typology_probabilities": {k: round(float(v), 4) for k, v in sorted(
            result["typology_probabilities"].items(), key=lambda kv: -kv[1])},
        "trl": result["trl"],
        **_evidence(result),
    }


def classify_text(text: str, model: str | Path | None = None, neural: bool = False, threshold: float | None = None,
                  form: str = "flat", kind: str | None = None) -> list[dict]:
    clf = _classifier(model, neural)
    r = clf.classify([{"text": text, "kind": kind}], threshold=threshold)[0]
    return [{"text": text[:80] + ("…" if len(text) > 80 else ""), **shape(r, form), "model_version": clf.version_}]


def classify_file(path: str | Path, text_column: str = "description", id_column: str | None = None,
                  codes_column: str | None = None, model: str | Path | None = None, progress=None,
                  neural: bool = False, threshold: float | None = None, form: str = "flat",
                  kind_column: str | None = None, evidence: bool = True, jobs: int | None = None) -> list[dict]:
    """The file's rows with the verdict columns added (input columns kept, in order); without
    `evidence`, no evidence column (it is most of the cost of a verdict). `jobs`: processes to
    classify with (default: this machine's cores; 1 = this process only); verdicts do not depend on it."""
    from hardtech.sources.readers import LINE, read_table

    rr = read_table(path)
    df = rr.table.drop([LINE]).to_pandas()
    for col, what in ((text_column, "--text-column"), (id_column, "--id-column"), (codes_column, "--codes-column"),
                      (kind_column, "--kind-column")):
        if col and col not in df.columns:
            raise UsageError(f"{Path(path).name} has no column {col!r} ({what}); its columns are: "
                             f"{', '.join(map(str, df.columns))}")
    clf = _classifier(model, neural)
    if kind_column is None and "kind" in df.columns:
        kind_column = "kind"
    records = [{"text": t, "codes": (df[codes_column].iloc[i] if codes_column else None),
                "kind": (df[kind_column].iloc[i] if kind_column else None)}
               for i, t in enumerate(df[text_column].tolist())]
    out = _in_chunks(clf, records, progress, threshold=threshold, evidence=evidence, jobs=jobs)
    rows = []
    for rec, r in zip(df.to_dict(orient="records"), out):
        rows.append({**{k: v for k, v in rec.items()}, **shape(r, form)})
    return rows


def _in_chunks(clf, records: list[dict], progress=None, step: int = 20000, threshold: float | None = None,
               evidence: bool = True, jobs: int | None = None) -> list[dict]:
    """Classify in chunks so memory stays bounded and a progress bar can move; the bulk path
    (`classify_batch`, each chunk over `jobs` processes), evidence written only when asked for."""
    out: list[dict] = []
    for start in range(0, len(records), step):
        if progress:
            progress(f"classifying {start + 1}–{min(start + step, len(records))} of {len(records)}", start, len(records))
        out += clf.classify_batch(records[start:start + step], threshold=threshold, jobs=jobs,
                                  evidence=evidence).rows(evidence=evidence)
    return out


def _org_records(store: Store, ids: list[str] | None, limit: int | None) -> tuple[list[str], list[dict]]:
    out, recs = [], []
    for org_id, en, zh, codes, rdi, pats, rev, kind in classify_inputs.organisation_rows(store, ids, limit):
        text = " ".join(t for t in (en, zh) if t and t.strip(". 。"))
        out.append(org_id)
        # the store knows what each organisation is: investors, universities, institutes and
        # government bodies get no typology (analytics/classify/orgkind.py)
        recs.append({"text": text, "codes": codes or [], "rd_intensity": rdi, "invention_patents": pats,
                     "revenue": rev, "kind": kind})
    return out, recs


def _patent_records(store: Store, ids: list[str] | None, limit: int | None) -> tuple[list[str], list[dict]]:
    out, recs = [], []
    for pn, text, cpc, ipc in classify_inputs.patent_rows(store, ids, limit):
        out.append(pn)
        recs.append({"text": text, "codes": [f"cpc:{c}" for c in (cpc or [])] + [f"ipc:{c}" for c in (ipc or [])],
                     "kind": "project"})
    return out, recs


def classify_store(db: str | Path, table: str = "organizations", where: str | None = None, limit: int | None = None,
                   model: str | Path | None = None, save: bool = True, progress=None,
                   neural: bool = False, threshold: float | None = None, form: str = "flat",
                   evidence: bool = True, jobs: int | None = None) -> list[dict]:
    """Classify organisations or patents in the store; verdicts are saved with the model version and
    their evidence (`evidence=False` leaves it out of the rows returned only); `jobs` as in `classify_file`."""
    if table not in ("organizations", "patents"):
        raise UsageError("classify works on `organizations` or `patents`")
    clf = _classifier(model, neural)
    selected = None
    if where is not None:  # the user's condition runs in the sandbox; its keys are bound below
        selected = classify_inputs.selected_keys(db, table, where)
    with Store(db, read_only=not save) as store:
        ids, recs = (_org_records if table == "organizations" else _patent_records)(store, selected, limit)
        results = _in_chunks(clf, recs, progress, threshold=threshold, evidence=save or evidence, jobs=jobs)
        now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
        entity = "organization" if table == "organizations" else "patent"
        if save and ids:
            import pyarrow as pa

            data = pa.table({
                "entity_type": [entity] * len(ids), "entity_id": ids, "model_version": [clf.version_] * len(ids),
                "top_field": [r["top_field"] for r in results],
                "fields": pa.array([[x["field"] for x in r["fields"]] for r in results], pa.list_(pa.string())),
                "field_probabilities": [json.dumps(r["field_probabilities"]) for r in results],
                "typology": [r["typology"] for r in results],
                "typology_probabilities": [json.dumps(r["typology_probabilities"]) for r in results],
                "trl": pa.array([r["trl"] for r in results], pa.int32()),
                "evidence": [r["evidence"] for r in results],
                "insufficient": [r["insufficient"] for r in results],
                "classified_at": pa.array([now] * len(ids), pa.timestamp("us")),
            })
            save_classifications(store, data)
    if not evidence:
        results = [{k: v for k, v in r.items() if k != "evidence"} for r in results]
    return [{"entity_id": i, **shape(r, form)} for i, r in zip(ids, results)]


def fit_model(labels: str | Path, out: str | Path, text_column: str = "text", fields_column: str = "fields",
              typology_column: str = "typology", codes_column: str | None = None,
              include_default: bool = True) -> dict[str, Any]:
    """Learn from a user's labelled examples (plus, by default, our own) and save a versioned model file."""
    from hardtech.analytics.classify.pipeline import HardTechClassifier, training_examples

    recs, fields, typ = _labelled(labels, text_column, fields_column, typology_column, codes_column)
    n_user = len(recs)
    weights = [1.0] * n_user
    if include_default:
        r2, f2, t2, w2 = training_examples(weights=True)
        recs, fields, typ, weights = recs + r2, fields + f2, typ + t2, weights + w2
    clf = HardTechClassifier().fit(recs, fields, typ, sample_weight=weights)
    path = clf.save(out)
    return {"model": str(path), "version": clf.version_, "user_examples": n_user, "total_examples": len(recs)}


def _labelled(labels, text_column, fields_column, typology_column, codes_column):
    from hardtech.sources.readers import LINE, read_table

    df = read_table(labels).table.drop([LINE]).to_pandas().fillna("")
    need = [c for c in (text_column, fields_column, typology_column, codes_column) if c]
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise UsageError(f"{Path(labels).name} lacks column(s) {missing}; it has: {', '.join(map(str, df.columns))}")
    if df.empty:
        raise UsageError(f"{Path(labels).name} has no rows")
    recs = [{"text": t, "codes": df[codes_column].iloc[i] if codes_column else None}
            for i, t in enumerate(df[text_column].tolist())]
    return recs, df[fields_column].tolist(), df[typology_column].tolist()


def evaluate_labels(labels: str | Path, model: str | Path | None = None, cv: int | None = None,
                    text_column: str = "text", fields_column: str = "fields", typology_column: str = "typology",
                    codes_column: str | None = None) -> dict:
    from hardtech.analytics.classify.evaluate import evaluate

    recs, fields, typ = _labelled(labels, text_column, fields_column, typology_column, codes_column)
    if cv:
        if cv < 2:
            raise UsageError("--cv needs at least 2 folds")
        return evaluate(recs, fields, typ, cv=cv)
    return evaluate(recs, fields, typ, model=_classifier(model))
