"""Screening a batch of applicants (incubator intake, innovation contests): score, rank, shortlist, explain.

Why a rubric file: each jury weighs field, typology, maturity, R&D, patents and the STAR test
differently; the weights live in `data/rules/screening_rubric.toml` so they can be read and changed
without touching code. Why re-normalise over present criteria: applicants rarely send complete
financials, and a missing number must not read as a bad one; it lowers `confidence` instead, so a
jury sees which high scores rest on little evidence. Why reasons as sentences: a shortlist is
challenged row by row, and each row must say what drove its score and what was not known.
"""

from __future__ import annotations

import csv
import html
import math
import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from hardtech.errors import SourceError

RUBRIC_FILE = "screening_rubric.toml"
CRITERIA = ("hard_tech_field", "typology", "maturity", "r_and_d", "patents", "star")
_THRESHOLDS = {"shortlist_top_n": (int, 0), "shortlist_min_score": ((int, float), 0),
               "trl_full": ((int, float), 1e-9), "rd_intensity_full": ((int, float), 1e-9),
               "patents_full": ((int, float), 1e-9), "default_currency": (str, None)}
_STAR_VERDICTS = ("sci-tech", "not sci-tech", "restricted", "prohibited")
NOT_CHECKED = "not checked: no financials"
COLUMNS = ("rank", "name", "score", "confidence", "shortlisted", "top_field", "field_probability", "typology",
           "hard_core_or_deep", "trl", "rd_intensity", "invention_patents", "star_verdict", "star_decided_by",
           "insufficient", "missing", "warnings", "reasons", "city", "founded", "stage", "line")


# =========================================================================== the rubric


@dataclass(frozen=True)
class Rubric:
    version: str
    weights: dict[str, float]
    shortlist_top_n: int
    shortlist_min_score: float
    trl_full: float
    rd_intensity_full: float
    patents_full: float
    default_currency: str
    star_scores: dict[str, float]
    path: str = ""


def load_rubric(path: str | Path | None = None) -> Rubric:
    p = Path(path) if path else Path(str(resources.files("hardtech.data") / "rules" / RUBRIC_FILE))
    where = p.name if path is None else str(p)
    if not p.exists():
        raise SourceError(f"rubric file {where} does not exist")
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SourceError(f"rubric file {where} is not valid TOML: {exc}") from None

    def bad(msg: str) -> SourceError:
        return SourceError(f"rubric file {where}: {msg}")

    version = raw.get("version")
    if not isinstance(version, str) or not version:
        raise bad("missing key 'version' (a string)")
    w = raw.get("weights")
    if not isinstance(w, dict):
        raise bad("missing table [weights]")
    unknown = sorted(set(w) - set(CRITERIA))
    if unknown:
        raise bad(f"weights: unknown criterion {', '.join(unknown)} (known: {', '.join(CRITERIA)})")
    weights = {}
    for c in CRITERIA:
        v = w.get(c, 0.0)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
            raise bad(f"weights.{c} must be a number >= 0, got {v!r}")
        weights[c] = float(v)
    total = sum(weights.values())
    if abs(total - 1.0) > 1e-6:
        raise bad(f"weights must sum to 1, they sum to {total:.6g}")
    t = raw.get("thresholds")
    if not isinstance(t, dict):
        raise bad("missing table [thresholds]")
    th: dict[str, Any] = {}
    for k, (kind, low) in _THRESHOLDS.items():
        if k not in t:
            raise bad(f"thresholds: missing key {k!r}")
        v = t[k]
        if isinstance(v, bool) or not isinstance(v, kind) or (low is not None and v < low):
            raise bad(f"thresholds.{k} has a bad value {v!r}")
        th[k] = v
    if th["shortlist_min_score"] > 100:
        raise bad("thresholds.shortlist_min_score must be within 0..100")
    s = raw.get("star_scores", {})
    if not isinstance(s, dict):
        raise bad("[star_scores] must be a table")
    star_scores = {}
    for k, v in s.items():
        if k not in _STAR_VERDICTS:
            raise bad(f"star_scores: unknown verdict {k!r} (known: {', '.join(_STAR_VERDICTS)})")
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v <= 1:
            raise bad(f"star_scores.{k} must be within 0..1, got {v!r}")
        star_scores[k] = float(v)
    return Rubric(version=version, weights=weights, star_scores=star_scores, path=str(p), **th)


# =========================================================================== the result


@dataclass
class ScreenResult:
    rows: list[dict]  # in rank order
    rubric: Rubric
    classifier_version: str = ""
    warnings: list[str] = field(default_factory=list)
    dropped: list[dict] = field(default_factory=list)  # line, column, value, reason: values the parsers refused
    duplicates: list[dict] = field(default_factory=list)  # line, name, first_line: later lines, not ranked

    def _flat(self) -> list[list[Any]]:
        out = []
        for r in self.rows:
            out.append([" | ".join(r[c]) if isinstance(r[c], list) else r[c] for c in COLUMNS])
        return out

    def to_csv(self, path: str | Path) -> Path:
        from hardtech.cellsafety import neutralise_formula

        path = Path(path)
        with path.open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(COLUMNS)
            for row in self._flat():
                w.writerow(["" if v is None else neutralise_formula(v) for v in row])
        return path

    def to_excel(self, path: str | Path) -> Path:
        from openpyxl import Workbook
        from openpyxl.styles import Font

        from hardtech.cellsafety import neutralise_formula

        path = Path(path)
        wb = Workbook()
        ws = wb.active
        ws.title = "screening"
        ws.append(list(COLUMNS))
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for row in self._flat():
            ws.append([neutralise_formula(v) for v in row])
        ws.freeze_panes = "A2"
        wb.save(path)
        return path

    def to_html(self, path: str | Path) -> Path:
        path = Path(path)
        e = html.escape
        head = "".join(f"<th>{e(c)}</th>" for c in COLUMNS if c != "reasons")
        body = []
        for r in self.rows:
            cls = ' class="short"' if r["shortlisted"] else ""
            cells = "".join(f"<td>{e(_show(r[c]))}</td>" for c in COLUMNS if c != "reasons")
            reasons = "".join(f"<li>{e(x)}</li>" for x in r["reasons"])
            body.append(f"<tr{cls}>{cells}</tr><tr><td colspan=\"{len(COLUMNS) - 1}\"><ul>{reasons}</ul></td></tr>")
        doc = (
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{e('Applicant screening')}</title><style>"
            "body{font-family:sans-serif;margin:1em}table{border-collapse:collapse;font-size:13px}"
            "td,th{border:1px solid #ccc;padding:3px 6px;vertical-align:top}th{background:#eee}"
            "tr.short td{background:#eaf6ea}ul{margin:0;padding-left:1.2em}</style></head><body>"
            f"<h1>Applicant screening</h1><p>{e(f'rubric version {self.rubric.version}; classifier {self.classifier_version}; {len(self.rows)} applicants')}</p>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></body></html>\n"
        )
        path.write_text(doc, encoding="utf-8")
        return path


def _show(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, list):
        return "; ".join(map(str, v))
    return str(v)


# =========================================================================== screening


def screen(path_or_frame: str | Path | pd.DataFrame, rubric: Rubric | str | Path | None = None,
           name_column: str = "name", text_column: str = "description") -> ScreenResult:
    """Classify every applicant in one batch, score, STAR-check, rank and shortlist them."""
    rub = rubric if isinstance(rubric, Rubric) else load_rubric(rubric)
    from hardtech.analytics.classify.pipeline import load_classifier
    from hardtech.sources.readers import LINE
    from hardtech.store.applicants import read_applicants

    app = read_applicants(path_or_frame, name_column, text_column, rub.default_currency)
    recs = [{**r, "__line": r[LINE]} for r in app.rows]
    texts = [_text(r.get(text_column)) for r in recs]
    clf = load_classifier()
    codes = [_text(r.get("codes")) for r in recs]
    results = clf.classify([{"text": t, "codes": c} for t, c in zip(texts, codes)]) if recs else []
    rows = [_assess(i, r, texts[i], codes[i], res, rub, name_column, app)
            for i, (r, res) in enumerate(zip(recs, results))]
    rows.sort(key=lambda r: (r["score"] is None, -(r["score"] or 0.0), -r["confidence"], r["name"].casefold()))
    for k, r in enumerate(rows, start=1):
        r["rank"] = k
        r["shortlisted"] = r["score"] is not None and (k <= rub.shortlist_top_n or r["score"] >= rub.shortlist_min_score)
    return ScreenResult(rows=rows, rubric=rub, classifier_version=getattr(clf, "version_", ""),
                        dropped=app.dropped, duplicates=app.duplicates)


def _text(v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    return str(v).strip()


def _split(v: Any) -> list[str]:
    return [x.strip() for x in _text(v).replace(";", "|").split("|") if x.strip()]


def _num(v: Any) -> float | None:
    """A typed figure (None, NaN and non-finite are "not given")."""
    if v is None:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _assess(i: int, r: dict, text: str, codes: str, res: dict, rub: Rubric, name_column: str, app) -> dict:
    from hardtech.analytics.star import evaluate_star

    name = _text(r.get(name_column)) or f"(unnamed, line {r['__line']})"
    parts: dict[str, float] = {}
    reasons: list[str] = []
    missing: list[str] = []
    warnings: list[str] = []
    if not text:
        warnings.append("empty description")
    insufficient = bool(res.get("insufficient")) or not text
    probs = res.get("field_probabilities") or {}
    top = max(probs, key=probs.get) if probs else None
    if insufficient or top is None:
        missing.append("hard-tech field")
        reasons.append("Field: insufficient evidence" + (" (empty description)." if not text else "."))
    else:
        parts["hard_tech_field"] = probs[top]
        chosen = "" if res.get("top_field") else " (below the classifier's threshold)"
        reasons.append(f"Top field {top} with probability {probs[top]:.2f}{chosen}.")
    tp = res.get("typology_probabilities") or {}
    hc = None
    if tp and not insufficient:
        hc = round(tp.get("hard_core", 0.0) + tp.get("deep", 0.0), 4)
        parts["typology"] = min(1.0, hc)
        why = _typology_why(res.get("evidence") or "")
        reasons.append(f"Typology {res.get('typology')} (P(hard_core)+P(deep) = {hc:.2f})" + (f": {why}." if why else "."))
    else:
        missing.append("typology")
        reasons.append("Typology: insufficient evidence.")
    trl = res.get("trl") if not insufficient else None
    if trl is not None:
        parts["maturity"] = min(1.0, trl / rub.trl_full)
        reasons.append(f"Estimated TRL {trl}.")
    else:
        missing.append("TRL")
    line = int(r["__line"])
    fin, year = app.financials.get(line), app.latest.get(line)
    warnings += app.notes.get(line, [])
    warnings += [f"{d['column']} {d['value']!r} not used: {d['reason']}" for d in app.dropped if d["line"] == line]
    rd_int = patents = None
    star_verdict, star_by = "", NOT_CHECKED
    if fin is not None:
        last = fin[fin.fiscal_year == year].iloc[0].to_dict()
        rev, rd = _num(last.get("revenue")), _num(last.get("rd_expense"))
        if rev and rev > 0 and rd is not None:
            rd_int = round(rd / rev, 4)
            parts["r_and_d"] = min(1.0, rd_int / rub.rd_intensity_full)
            reasons.append(f"R&D intensity {rd_int:.1%} in {year}.")
        patents = _num(last.get("invention_patents"))
        if patents is not None:
            parts["patents"] = min(1.0, patents / rub.patents_full)
            reasons.append(f"{patents:g} invention patents.")
        st = evaluate_star(f"line {r['__line']}", fin, flags=_split(r.get("flags")), industry_codes=_split(codes),
                           typology=res.get("typology"))
        warnings += st.warnings
        star_verdict, star_by = st.verdict, st.decided_by
        if st.verdict in rub.star_scores:
            parts["star"] = rub.star_scores[st.verdict]
        else:
            missing.append("STAR verdict")
        reasons.append(f"STAR test ({st.version}): {st.verdict}, {st.decided_by}.")
    else:
        reasons.append("STAR test " + NOT_CHECKED + ".")
        missing.append("financials")
    if rd_int is None:
        missing.append("R&D intensity")
    if patents is None:
        missing.append("invention patents")
    used = {c: w for c, w in rub.weights.items() if w > 0 and c in parts}
    conf = round(sum(used.values()), 4)
    score = round(100 * sum(parts[c] * w for c, w in used.items()) / conf, 1) if conf > 0 else None
    if missing:
        reasons.append("Missing: " + ", ".join(dict.fromkeys(missing)) + ".")
    if score is None:
        reasons.append("Not scored: no criterion of the rubric could be judged.")
    return {
        "rank": 0, "name": name, "score": score, "confidence": conf, "shortlisted": False,
        "top_field": top if not insufficient else None,
        "field_probability": probs.get(top) if top and not insufficient else None,
        "typology": res.get("typology") if not insufficient else None, "hard_core_or_deep": hc, "trl": trl,
        "rd_intensity": rd_int, "invention_patents": patents, "star_verdict": star_verdict or NOT_CHECKED,
        "star_decided_by": star_by, "insufficient": insufficient, "missing": list(dict.fromkeys(missing)),
        "warnings": warnings, "reasons": reasons, "criteria": parts,
        "city": _text(r.get("city")) or None, "founded": app.founded.get(line), "stage": app.stage.get(line),
        "line": line,
    }


def _typology_why(evidence: str) -> str:
    """The typology drivers from the classifier's evidence string ('typology X: a; b (cues: ..)')."""
    m = re.search(r"typology [a-z_]+: ([^|(;]*(?:;[^|(;]*){0,2})", evidence)
    return m.group(1).strip().rstrip(";") if m else ""
