"""OpenAlex institutions and works: universities and institutes, and their scientific output by field.

Reads JSON Lines as the OpenAlex snapshot ships them (`data/institutions/…/part_000.gz`,
`data/works/…/part_000.gz`) or as saved from the API, one object per line, plain or gzipped;
point at one file or at a folder. Each line is routed by its id (`…/I…` institution,
`…/W…` work), so one folder may hold both.

- An institution becomes an organisation `openalex:<id>` with its names (English, Chinese from
  `international.display_name`, acronyms and alternatives as aliases), city, region, country,
  homepage and kind (`education` → university; `company` → company; government research
  bodies, facilities, healthcare, nonprofit, archive, other → institute).
- A work becomes one `publications` row per distinct institution of its authors, with the
  field of its primary topic (`Computer Science`, …). Works from snapshots before topics
  existed (2024) carry only `concepts`: their strongest level-0 concept is the field then,
  and `field_scheme` says which.
- An institution a work names but the institutions file does not describe is added from the
  work's own (shorter) institution record, without overwriting a fuller one.

Output by field = `SELECT org_id, field, count(*) FROM publications GROUP BY ALL`.
"""

from __future__ import annotations

from pathlib import Path

from hardtech.errors import SourceError
from hardtech.sources.connectors.base import (Extraction, FileSpec, LayoutError, Output, check_layout, connector,
                                              extract_of, iter_json_lines)
from hardtech.sources.readers import file_sha256

FILES = (
    FileSpec("institutions", ("*.jsonl", "*.json", "*.gz"), required=("id", "display_name", "type"),
             optional=("ror", "country_code", "geo", "homepage_url", "display_name_acronyms",
                       "display_name_alternatives", "international"),
             layout="OpenAlex institution objects (snapshot or API)"),
    FileSpec("works", ("*.jsonl", "*.json", "*.gz"), required=("id", "publication_year", "authorships"),
             optional=("primary_topic", "concepts", "doi", "title", "display_name", "type", "cited_by_count"),
             layout="OpenAlex work objects (snapshot or API)"),
)
ORGS = Output("organizations", ("org_id", "kind", "name_en", "name_zh", "aliases", "country", "province", "city",
                                "website"), patch=True, distinct=True)
ORG_STUBS = Output("organizations", ("org_id", "kind", "name_en", "country"), insert_only=True, distinct=True,
                   role="stub")
PUBS = Output("publications", ("work_id", "org_id", "year", "title", "doi", "work_type", "field", "subfield", "topic",
                               "field_scheme", "cited_by_count"))
# OpenAlex's `government` institutions are public research bodies (the Chinese Academy of Sciences, NIH):
# research institutes in our terms, as facilities, hospitals and non-profits publishing research are
KINDS = {"education": "university", "company": "company", "government": "institute", "facility": "institute",
         "healthcare": "institute", "nonprofit": "institute", "archive": "institute", "other": "institute",
         "funder": "institute"}


@connector(
    name="openalex", title="OpenAlex",
    description="OpenAlex institutions (universities, institutes, companies doing research) and works: one "
                "publication row per work and affiliated institution, with the research field of the work.",
    licence="CC0 (OpenAlex data); cite OpenAlex (Priem, Piwowar & Orr 2022)",
    source_url="https://docs.openalex.org/download-all-data/openalex-snapshot",
    files=FILES, outputs=(ORGS, ORG_STUBS, PUBS),
    unresolved="A work's institution missing from the institutions file is added from the work's own record "
               "(`openalex:<id>`, name, type, country); an author without any institution gives no publication "
               "row (the count of such works is in the notes).",
    point_at="a JSON Lines file (plain or .gz) of institutions or works, or a snapshot folder holding both",
)
def openalex(src) -> Extraction:
    out = Extraction()
    files = [src.path] if src.path.is_file() else sorted(
        p for p in src.path.rglob("*") if p.is_file() and p.suffix.lower() in (".jsonl", ".json", ".gz"))
    if not files:
        raise SourceError(f"{src.path.name}: no OpenAlex JSON Lines here (.jsonl, .json or .gz)")
    described: set[str] = set()
    per_file = []
    for path in files:
        insts, inst_lines, pubs, pub_lines, stubs, stub_lines, orphan = [], [], [], [], [], [], 0
        for n, obj in iter_json_lines(path):
            kind = _kind_of(obj, path, n)
            if kind == "I":
                check_layout(FILES[0], obj.keys(), f"{path.name} line {n}")
                insts.append(_institution(obj))
                inst_lines.append(n)
                described.add(insts[-1]["org_id"])
            else:
                check_layout(FILES[1], obj.keys(), f"{path.name} line {n}")
                rows, refs = _publications(obj)
                if not rows:
                    orphan += 1
                pubs += rows
                pub_lines += [n] * len(rows)
                for r in refs:
                    stubs.append(r)
                    stub_lines.append(n)
        per_file.append((path, insts, inst_lines, pubs, pub_lines, stubs, stub_lines, orphan))
    orphans = 0
    for path, insts, inst_lines, pubs, pub_lines, stubs, stub_lines, orphan in per_file:
        fh = file_sha256(path)
        if insts:
            out.extracts.append(extract_of(ORGS, insts, inst_lines, path, fh))
        keep = [(s, ln) for s, ln in zip(stubs, stub_lines) if s["org_id"] not in described]
        if keep:
            out.extracts.append(extract_of(ORG_STUBS, [s for s, _ in keep], [ln for _, ln in keep], path, fh))
        if pubs:
            out.extracts.append(extract_of(PUBS, pubs, pub_lines, path, fh))
        orphans += orphan
    if orphans:
        out.notes.append(f"{orphans} works name no institution for any author: no publication row (nothing to "
                         "attach them to)")
    return out


def _short(openalex_id: str | None) -> str | None:
    return openalex_id.rstrip("/").rsplit("/", 1)[-1] if openalex_id else None


def _kind_of(obj: dict, path: Path, n: int) -> str:
    short = _short(str(obj.get("id") or ""))
    if short and short[0] in "IW" and short[1:].isdigit():
        return short[0]
    raise LayoutError(f"{path.name} line {n}: not an OpenAlex institution or work — its id is {obj.get('id')!r} "
                      "(expected https://openalex.org/I… or …/W…); keys: " + ", ".join(list(obj)[:12]))


def _institution(o: dict) -> dict:
    geo = o.get("geo") or {}
    names = (o.get("international") or {}).get("display_name") or {}
    zh = next((names[k] for k in ("zh-cn", "zh-hans", "zh") if names.get(k)), None)
    aliases = [a for a in (o.get("display_name_acronyms") or []) + (o.get("display_name_alternatives") or [])
               if a and a != o.get("display_name")]
    return {"org_id": f"openalex:{_short(o['id'])}", "kind": KINDS.get(str(o.get("type") or "").lower(), "institute"),
            "name_en": o.get("display_name"), "name_zh": zh, "aliases": aliases or None,
            "country": o.get("country_code") or geo.get("country_code"), "province": geo.get("region"),
            "city": geo.get("city"), "website": o.get("homepage_url")}


def _field(w: dict) -> tuple[str | None, str | None, str | None, str | None]:
    pt = w.get("primary_topic")
    if pt:
        return ((pt.get("field") or {}).get("display_name"), (pt.get("subfield") or {}).get("display_name"),
                pt.get("display_name"), "openalex_topics")
    level0 = [c for c in (w.get("concepts") or []) if str(c.get("level")) == "0"]
    if level0:
        best = max(level0, key=lambda c: float(c.get("score") or 0))
        return best.get("display_name"), None, None, "openalex_concepts"
    return None, None, None, None


def _publications(w: dict) -> tuple[list[dict], list[dict]]:
    field, subfield, topic, scheme = _field(w)
    seen, rows, refs = set(), [], []
    for a in w.get("authorships") or []:
        for inst in a.get("institutions") or []:
            org = f"openalex:{_short(inst.get('id'))}" if inst.get("id") else None
            if not org or org in seen:
                continue
            seen.add(org)
            rows.append({"work_id": _short(w["id"]), "org_id": org, "year": w.get("publication_year"),
                         "title": w.get("title") or w.get("display_name"), "doi": w.get("doi"),
                         "work_type": w.get("type"), "field": field, "subfield": subfield, "topic": topic,
                         "field_scheme": scheme, "cited_by_count": w.get("cited_by_count")})
            refs.append({"org_id": org, "kind": KINDS.get(str(inst.get("type") or "").lower(), "institute"),
                         "name_en": inst.get("display_name"), "country": inst.get("country_code")})
    return rows, refs
