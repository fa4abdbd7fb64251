"""Labelled examples for the default model: our development set plus weak labels from real data.

Weak labels come from third parties' own vocabularies mapped to our fields and typology by
concordances we wrote (`data/concordances/yc_tags.csv`, `itjuzi_industries.csv`), and from
patents' CPC codes through `ipc_cpc.csv`. The third-party files are read from `../shared/data`
and never copied into the package (shared/data/SOURCES.md): the model trained on them ships, the
data does not.

Every source is split once, deterministically, into `train` (70 %) and `test` (30 %) by a hash
of the source name and the record's key (company name, publication number), so the held-out
part never changes with the order of a file and never depends on a random seed. The default
model is fitted on the `train` parts only; `evaluation/run_evaluation.py` reports on `test`.
"""

from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from hardtech.analytics.taxonomy import FIELD_IDS, TYPOLOGY_IDS

TEST_SHARE = 30  # percent of each source held out
FIELD_MIN_WEIGHT = 0.5  # a concordance row gives a field label at this weight or more
# when several tags hint different typology classes, the most specific wins
HINT_PRIORITY = {"deep": 5, "black": 4, "hard_core": 3, "model_innovation": 2, "high": 1}
# how much one weakly labelled example counts against one of our hand-labelled ones (or a user's).
# Rule: our own labels (563) weigh about as much as all weak examples together (~4,000 × these
# weights ≈ 480), because they follow our definitions and the weak ones only approximate them. At
# four times these weights (the first weak-label model) the weak sources outvoted our labels, and the
# development set's held-out folds and the held-out demo organisations got worse (docs/evaluation.md).
SOURCE_WEIGHT = {"devset": 1.0, "yc": 0.15, "itjuzi": 0.25, "patents_ai": 0.075, "patents_stemcell": 0.075,
                 "patents_3dprinting": 0.125}


def split_of(source: str, key: str) -> str:
    h = int(hashlib.sha256(f"{source}:{key}".encode("utf-8")).hexdigest()[:8], 16)
    return "test" if h % 100 < TEST_SHARE else "train"


@dataclass
class Examples:
    records: list[dict] = field(default_factory=list)
    fields: list[str] = field(default_factory=list)
    typology: list[str] = field(default_factory=list)
    weights: list[float] = field(default_factory=list)
    source: list[str] = field(default_factory=list)
    split: list[str] = field(default_factory=list)
    extra: list[dict] = field(default_factory=list)  # per example: source labels kept for evaluation

    def __len__(self) -> int:
        return len(self.records)

    def add(self, source: str, key: str, text: str, fields: set[str], typology: str | None, extra: dict,
            codes: str | None = None) -> None:
        # the source travels with the record: the typology gives each weak source its own base rates
        self.records.append({"text": text, **({"codes": codes} if codes else {}),
                             **({"source": source} if source != "devset" else {})})
        self.fields.append("|".join(sorted(fields)) or "none")
        self.typology.append(typology or "")
        self.weights.append(SOURCE_WEIGHT.get(source, 1.0))
        self.source.append(source)
        self.split.append(split_of(source, key))
        self.extra.append(extra)

    def where(self, keep) -> "Examples":
        out = Examples()
        for i in range(len(self)):
            if keep(i):
                for name in ("records", "fields", "typology", "weights", "source", "split", "extra"):
                    getattr(out, name).append(getattr(self, name)[i])
        return out

    def __add__(self, other: "Examples") -> "Examples":
        out = Examples()
        for name in ("records", "fields", "typology", "weights", "source", "split", "extra"):
            setattr(out, name, getattr(self, name) + getattr(other, name))
        return out


# -- concordances ---------------------------------------------------------------------------------

def _concordance_path(name: str) -> Path:
    return Path(str(resources.files("hardtech.data") / "concordances" / name))


def load_label_concordance(name: str) -> dict[tuple[str, str], list[tuple[str, float, str]]]:
    """(kind, label) → [(field_id, weight, typology_hint)], checked row by row."""
    from hardtech.errors import SourceError

    path = _concordance_path(name)
    out: dict[tuple[str, str], list[tuple[str, float, str]]] = {}
    with path.open(encoding="utf-8", newline="") as f:
        for line, rec in enumerate(csv.DictReader(f), start=2):
            fid, hint = rec["field_id"].strip(), rec["typology_hint"].strip()
            try:
                w = float(rec["weight"])
            except ValueError:
                raise SourceError(f"{path.name} line {line}, column weight: {rec['weight']!r} is not a number") from None
            if fid != "none" and fid not in FIELD_IDS:
                raise SourceError(f"{path.name} line {line}, column field_id: unknown field {fid!r}")
            if hint and hint not in TYPOLOGY_IDS:
                raise SourceError(f"{path.name} line {line}, column typology_hint: unknown class {hint!r}")
            if not (fid == "none" and w == 0) and not 0 < w <= 1:
                raise SourceError(f"{path.name} line {line}, column weight: {w} outside (0, 1]")
            if not rec.get("reason", "").strip():
                raise SourceError(f"{path.name} line {line}, column reason: empty")
            out.setdefault((rec["kind"].strip(), rec["name"].strip()), []).append((fid, w, hint))
    return out


def labels_from(conc: dict, keys: list[tuple[str, str]]) -> tuple[set[str], str | None, list[str]]:
    """Fields (weight ≥ FIELD_MIN_WEIGHT), the winning typology hint, and the labels not in the concordance."""
    fields: set[str] = set()
    hints: list[str] = []
    unknown = []
    for k in keys:
        rows = conc.get(k)
        if rows is None:
            unknown.append(f"{k[0]}:{k[1]}")
            continue
        for fid, w, hint in rows:
            if fid != "none" and w >= FIELD_MIN_WEIGHT:
                fields.add(fid)
            if hint:
                hints.append(hint)
    hint = max(hints, key=lambda h: HINT_PRIORITY[h]) if hints else None
    return fields, hint, unknown


# -- sources --------------------------------------------------------------------------------------

def devset(root: Path | None = None) -> Examples:
    import pandas as pd

    root = root or Path(__file__).resolve().parents[4]
    d = pd.read_csv(root / "evaluation" / "devset.csv", dtype=str, keep_default_na=False)
    ex = Examples()
    for r in d.itertuples():
        ex.add("devset", r.id, r.text, set() if r.fields == "none" else set(r.fields.split("|")), r.typology,
               {"lang": r.lang, "name": r.name})
    return ex


def yc(shared: Path) -> Examples:
    """YC companies: one-liner + long description; fields and typology from industry, subindustry and tags."""
    import pandas as pd

    conc = load_label_concordance("yc_tags.csv")
    d = pd.read_csv(shared / "yc_companies_half.csv", dtype=str, keep_default_na=False)
    ex = Examples()
    for r in d.itertuples():
        text = ". ".join(t.strip() for t in (r.one_liner, r.long_description) if t.strip())
        if len(text) < 20:
            continue
        tags = json.loads(r.tags) if r.tags.strip().startswith("[") else []
        keys = [("industry", r.industry), ("subindustry", r.subindustry)] + [("tag", t) for t in tags]
        fields, hint, _ = labels_from(conc, [k for k in keys if k[1]])
        ex.add("yc", r.name, text, fields, hint, {"lang": "en", "name": r.name, "industry": r.industry,
                                                    "subindustry": r.subindustry, "tags": tags})
    return ex


def itjuzi(shared: Path) -> Examples:
    """IT桔子 AI companies: 公司简介; fields from the list itself (AI suppliers) and 行业/子行业."""
    import pandas as pd

    conc = load_label_concordance("itjuzi_industries.csv")
    d = pd.read_csv(shared / "itjuzi_ai_companies_half.csv", dtype=str, keep_default_na=False)
    d = d[d["公司名称"].str.strip() != ""]  # funding rounds sit on rows without a name: one row per company
    ex = Examples()
    for r in d.to_dict("records"):
        text = r["公司简介"].strip()
        if len(text) < 10:
            continue
        keys = [("source", "IT桔子人工智能企业"), ("industry", r["行业"]), ("subindustry", r["子行业"])]
        fields, hint, _ = labels_from(conc, [k for k in keys if k[1]])
        sub_fields, _, _ = labels_from(conc, [("subindustry", r["子行业"])])
        ex.add("itjuzi", r["公司名称"], text, fields, hint,
               {"lang": "zh", "name": r["公司名称"], "industry": r["行业"], "subindustry": r["子行业"],
                "subindustry_fields": sorted(sub_fields)})
    return ex


def patents_ai(shared: Path, limit: int | None = 1500) -> Examples:
    """AI patents: title + abstract; fields from their own CPC codes through ipc_cpc.csv (weight ≥ 0.5).

    `limit`: how many of the train part to keep (the first by hash order, so deterministic); the
    31k patents would otherwise outweigh everything else.
    """
    import pandas as pd

    from hardtech.analytics.taxonomy import load_taxonomy
    from hardtech.errors import ParseError

    tax = load_taxonomy()
    d = pd.read_csv(shared / "patents_ai_cpc_31k.csv", dtype=str, keep_default_na=False)
    d = d.drop_duplicates("publication_number")
    d = d.assign(_h=[hashlib.sha256(p.encode()).hexdigest() for p in d.publication_number]).sort_values("_h")
    ex = Examples()
    kept = {"train": 0, "test": 0}
    for r in d.itertuples():
        part = split_of("patents_ai", r.publication_number)
        if limit is not None and kept[part] >= (limit if part == "train" else limit // 2):
            continue
        scores: dict[str, float] = {}
        for c in r.cpc_codes.replace("|", ",").split(","):
            try:
                for f, w in tax.field_scores([f"cpc:{c.strip()}"]).items():
                    scores[f] = max(w, scores.get(f, 0))
            except ParseError:
                continue
        fields = {f for f, w in scores.items() if w >= FIELD_MIN_WEIGHT}
        if not fields:
            continue
        kept[part] += 1
        ex.add("patents_ai", r.publication_number, f"{r.title}. {r.abstract}", fields, None,
               {"lang": "en", "cpc_fields": sorted(fields)})
    return ex


def patent_export(shared: Path, name: str, source: str, field_id: str) -> Examples:
    """The stem-cell and 3D-printing exports: every patent is in the export's field."""
    import pandas as pd

    d = pd.read_csv(shared / name, dtype=str, keep_default_na=False)
    ex = Examples()
    for i, r in enumerate(d.to_dict("records")):
        title, abstract = r.get("발명의 명칭", ""), r.get("요약", "")
        key = r.get("공개번호") or r.get("출원번호") or r.get("번호") or f"{title}|{i}"
        ex.add(source, str(key), f"{title}. {abstract}", {field_id}, None, {"lang": "en"})
    return ex


def weak_examples(shared: Path) -> Examples:
    """Every weakly labelled source found under `shared` (missing files are skipped)."""
    ex = Examples()
    if (shared / "yc_companies_half.csv").exists():
        ex = ex + yc(shared)
    if (shared / "itjuzi_ai_companies_half.csv").exists():
        ex = ex + itjuzi(shared)
    if (shared / "patents_ai_cpc_31k.csv").exists():
        ex = ex + patents_ai(shared)
    if (shared / "patents_stemcell_us_761.csv").exists():
        ex = ex + patent_export(shared, "patents_stemcell_us_761.csv", "patents_stemcell", "biotech")
    if (shared / "patents_3dprinting_us_cn_312.csv").exists():
        ex = ex + patent_export(shared, "patents_3dprinting_us_cn_312.csv", "patents_3dprinting",
                                "intelligent_manufacturing")
    return ex


def default_shared() -> Path:
    return Path(__file__).resolve().parents[4].parent / "shared" / "data"


def default_training_set(shared: Path | None = None, include_test: bool = False) -> Examples:
    """The default model's data: the whole development set and the train parts of the weak sources."""
    ex = devset() + weak_examples(shared or default_shared())
    return ex if include_test else ex.where(lambda i: ex.source[i] == "devset" or ex.split[i] == "train")
