"""The records entity resolution compares, one row per name variant, as a DuckDB temp table.

A record is an organisation (every name it has: `name_en`, `name_zh`, `aliases`) or a patent
applicant not yet linked to one (the first applicant of `patents.applicant`). Each name becomes
one row with its comparison keys (`analytics.resolve.names`), so the model compares names one to
one and an organisation pair scores as its best-matching pair of names. Organisation-level
features (identifiers, country, kind) are repeated on each of its rows.
"""

from __future__ import annotations

import pyarrow as pa

from hardtech.analytics.resolve.applicants import applicant_record_id, first_applicant
from hardtech.analytics.resolve.identifiers import org_identifiers, unique_schemes
from hardtech.analytics.resolve.names import OrgName, name_variants

RECORDS = "resolve_records"  # temp table name
KIND_CLASS = {"company": "firm", "startup": "firm", "university": "university", "institute": "institute",
              "investor": "investor", "government": "government"}
HEAD_CAP = 400  # a blocking head shared by more records than this is too common to block on

_FIELDS = [
    ("rec_id", pa.string()), ("record_id", pa.string()), ("record_kind", pa.string()), ("name", pa.string()),
    ("script", pa.string()), ("norm_key", pa.string()), ("core_key", pa.string()), ("brand_key", pa.string()),
    ("roman_core_key", pa.string()), ("roman_brand_key", pa.string()), ("core_tokens", pa.list_(pa.string())),
    ("token_key", pa.string()),
    ("head", pa.string()), ("kind_class", pa.string()), ("country", pa.string()), ("ids", pa.list_(pa.string())),
    ("unique_schemes", pa.list_(pa.string())),
]


def _head(n: OrgName) -> str | None:
    """Blocking key for fuzzy and containment comparisons: the start of the distinctive part."""
    base = n.brand or n.core
    if not base:
        return None
    if n.script == "cjk":
        return n.script + ":" + base.replace(" ", "")[:2]
    first = base.split()[0]
    return n.script + ":" + first[:4] if len(first) >= 3 else None


def _rows_for(out: dict[str, list], record_id: str, record_kind: str, variants: list[OrgName],
              kind_class: str | None, country: str | None, ids: list[str]) -> None:
    uniq = unique_schemes(ids) or None
    for i, n in enumerate(variants):
        out["rec_id"].append(f"{record_id}#{i}")
        out["record_id"].append(record_id)
        out["record_kind"].append(record_kind)
        out["name"].append(n.raw)
        out["script"].append(n.script)
        out["norm_key"].append(OrgName.key(n.norm))
        out["core_key"].append(OrgName.key(n.core))
        out["brand_key"].append(OrgName.key(n.brand))
        out["roman_core_key"].append(OrgName.key(n.roman_core))
        out["roman_brand_key"].append(OrgName.key(n.roman_brand))
        out["core_tokens"].append(list(n.tokens) or None)
        words = n.norm.split()
        out["token_key"].append(" ".join(sorted(words)) if n.script == "latin" and len(words) > 1 else None)
        out["head"].append(_head(n))
        out["kind_class"].append(kind_class or (_inferred_kind(n)))
        out["country"].append(country)
        out["ids"].append(ids or None)
        out["unique_schemes"].append(uniq)


def _inferred_kind(n: OrgName) -> str | None:
    return n.institution


def build_records(con, include_applicants: bool = True) -> dict[str, int]:
    """Write the temp table `resolve_records` from `organizations` (and unlinked patent applicants)."""
    out: dict[str, list] = {name: [] for name, _ in _FIELDS}
    orgs = con.sql("""SELECT org_id, kind, name_en, name_zh, aliases, country, exchange, ticker, identifiers
                          FROM organizations""").to_arrow_table()
    cols = {c: orgs.column(c).to_pylist() for c in orgs.column_names}
    n_orgs = orgs.num_rows
    for i in range(n_orgs):
        oid = cols["org_id"][i]
        variants = name_variants(cols["name_en"][i], cols["name_zh"][i], aliases=cols["aliases"][i])
        if not variants:
            continue
        ids = org_identifiers(oid, cols["exchange"][i], cols["ticker"][i], cols["identifiers"][i])
        kind = KIND_CLASS.get((cols["kind"][i] or "").lower())
        _rows_for(out, oid, "organization", variants, kind, (cols["country"][i] or None), ids)
    n_app = 0
    if include_applicants:
        texts = [r[0] for r in con.execute(
            "SELECT DISTINCT applicant FROM patents WHERE applicant IS NOT NULL AND applicant_org_id IS NULL").fetchall()]
        seen = set()
        for t in texts:
            first = first_applicant(t)
            if not first or first in seen:
                continue
            seen.add(first)
            variants = name_variants(first)
            if not variants:
                continue
            _rows_for(out, applicant_record_id(first), "patent_applicant", variants[:1], None, None, [])
            n_app += 1
    table = pa.table({name: pa.array(out[name], typ) for name, typ in _FIELDS})
    con.register("resolve_records_arrow", table)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {RECORDS} AS SELECT * FROM resolve_records_arrow")
    con.unregister("resolve_records_arrow")
    # heads shared by too many records would make blocks quadratic: drop them (exact-key rules still apply)
    con.execute(f"""UPDATE {RECORDS} SET head = NULL WHERE head IN (
                    SELECT head FROM {RECORDS} WHERE head IS NOT NULL GROUP BY head HAVING count(*) > {HEAD_CAP})""")
    return {"organizations": n_orgs, "applicants": n_app, "name_rows": table.num_rows}
