"""The records entity resolution compares, one row per name variant, as a DuckDB temp table.

A record is an organisation (every name it has: `name_en`, `name_zh`, `aliases`) or a patent
applicant not yet linked to one (the first applicant of `patents.applicant`). Each name becomes
one row with its comparison keys (`sources.names`), so the model compares names one to
one and an organisation pair scores as its best-matching pair of names. Organisation-level
features (identifiers, country, kind) are repeated on each of its rows.

Names are normalised once per distinct name (in parallel processes when there are many: a million
organisations bring about two million names) and joined back in SQL. A blocking key shared by more
than `KEY_CAP` rows is not blocked on (its pairs would grow with the square of the group), which only
matters for names so common that they say little.
"""

from __future__ import annotations

import os

import pyarrow as pa

from hardtech.sources.applicants import RECORD_PREFIX, first_applicant
from hardtech.sources.identifiers import org_identifiers, unique_schemes
from hardtech.sources.names import OrgName, normalise

RECORDS = "resolve_records"  # temp table name
KIND_CLASS = {"company": "firm", "startup": "firm", "university": "university", "institute": "institute",
              "investor": "investor", "government": "government"}
KEY_CAP = {"head": 40, "norm_key": 100, "core_key": 100, "roman_core_key": 50, "roman_brand_key": 30,
           "token_key": 50}
PARALLEL_FROM = 150_000  # distinct names; below this one process is faster than starting workers

_KEY_FIELDS = [
    ("name", pa.string()), ("script", pa.string()), ("norm_key", pa.string()), ("core_key", pa.string()),
    ("brand_key", pa.string()), ("roman_core_key", pa.string()), ("roman_brand_key", pa.string()),
    ("core_tokens", pa.list_(pa.string())), ("token_key", pa.string()), ("head", pa.string()),
    ("institution", pa.string()),
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


def name_keys(names: list[str]) -> dict[str, list]:
    """The comparison keys of each name, as columns."""
    out: dict[str, list] = {f: [] for f, _ in _KEY_FIELDS}
    for raw in names:
        n = normalise(raw)
        words = n.norm.split()
        out["name"].append(raw)
        out["script"].append(n.script)
        out["norm_key"].append(OrgName.key(n.norm))
        out["core_key"].append(OrgName.key(n.core))
        out["brand_key"].append(OrgName.key(n.brand))
        out["roman_core_key"].append(OrgName.key(n.roman_core))
        out["roman_brand_key"].append(OrgName.key(n.roman_brand))
        out["core_tokens"].append(list(n.tokens) or None)
        out["token_key"].append(" ".join(sorted(words)) if n.script == "latin" and len(words) > 1 else None)
        out["head"].append(_head(n))
        out["institution"].append(n.institution)
    return out


def _keys_table(names: list[str]) -> pa.Table:
    workers = min(os.cpu_count() or 1, 4)
    if len(names) < PARALLEL_FROM or workers < 2:
        cols = name_keys(names)
    else:
        import concurrent.futures as cf
        import multiprocessing as mp

        size = -(-len(names) // (workers * 4))
        chunks = [names[i:i + size] for i in range(0, len(names), size)]
        cols = {f: [] for f, _ in _KEY_FIELDS}
        with cf.ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn")) as ex:
            for part in ex.map(name_keys, chunks):
                for f in cols:
                    cols[f].extend(part[f])
    return pa.table({f: pa.array(cols[f], t) for f, t in _KEY_FIELDS})


def build_records(con, include_applicants: bool = True) -> dict[str, int]:
    """Write the temp table `resolve_records` from `organizations` (and unlinked patent applicants)."""
    con.execute("""CREATE OR REPLACE TEMP TABLE resolve_org_names AS
        SELECT org_id AS record_id, 'organization' AS record_kind, pos, name FROM (
          SELECT org_id, 0 AS pos, name_en AS name FROM organizations
          UNION ALL SELECT org_id, 1, name_zh FROM organizations
          UNION ALL SELECT org_id, 2 + generate_subscripts(aliases, 1), unnest(aliases) FROM organizations)
        WHERE name IS NOT NULL AND trim(name) <> ''""")
    n_app = 0
    if include_applicants:
        texts = [r[0] for r in con.execute(
            "SELECT DISTINCT applicant FROM patents WHERE applicant IS NOT NULL AND applicant_org_id IS NULL").fetchall()]
        firsts = sorted({f for t in texts if (f := first_applicant(t))})
        n_app = len(firsts)
        if firsts:
            con.register("resolve_apps", pa.table({"record_id": [RECORD_PREFIX + f for f in firsts], "name": firsts}))
            con.execute("""INSERT INTO resolve_org_names SELECT record_id, 'patent_applicant', 0, name
                           FROM resolve_apps""")
            con.unregister("resolve_apps")
    names = [r[0] for r in con.execute("SELECT DISTINCT name FROM resolve_org_names").fetchall()]
    con.register("resolve_keys_arrow", _keys_table(names))
    con.execute("CREATE OR REPLACE TEMP TABLE resolve_name_keys AS SELECT * FROM resolve_keys_arrow")
    con.unregister("resolve_keys_arrow")
    orgs = con.sql("""SELECT org_id, kind, country, exchange, ticker, identifiers FROM organizations
                      WHERE contains(org_id, ':') OR ticker IS NOT NULL OR len(coalesce(identifiers, [])) > 0
                         OR kind IS NOT NULL OR country IS NOT NULL""").to_arrow_table()
    cols = {c: orgs.column(c).to_pylist() for c in orgs.column_names}
    ids, uniq, kinds = [], [], []
    for i in range(orgs.num_rows):
        x = org_identifiers(cols["org_id"][i], cols["exchange"][i], cols["ticker"][i], cols["identifiers"][i])
        ids.append(x or None)
        uniq.append(unique_schemes(x) or None)
        kinds.append(KIND_CLASS.get((cols["kind"][i] or "").lower()))
    con.register("resolve_org_feats", pa.table({
        "record_id": cols["org_id"], "ids": pa.array(ids, pa.list_(pa.string())),
        "unique_schemes": pa.array(uniq, pa.list_(pa.string())), "kind_class": pa.array(kinds, pa.string()),
        "country": pa.array([c or None for c in cols["country"]], pa.string())}))
    # one row per distinct normalised name of a record (its first spelling kept)
    con.execute(f"""CREATE OR REPLACE TEMP TABLE {RECORDS} AS
        WITH j AS (
          SELECT n.record_id, n.record_kind, n.pos, n.name, k.* EXCLUDE (name)
          FROM resolve_org_names n JOIN resolve_name_keys k ON k.name = n.name
          WHERE k.norm_key IS NOT NULL
          QUALIFY row_number() OVER (PARTITION BY n.record_id, k.norm_key ORDER BY n.pos) = 1)
        SELECT j.record_id || '#' || (row_number() OVER (PARTITION BY j.record_id ORDER BY j.pos) - 1) AS rec_id,
               j.record_id, j.record_kind, j.name, j.script, j.norm_key, j.core_key, j.brand_key, j.roman_core_key,
               j.roman_brand_key, j.core_tokens, j.token_key, j.head,
               coalesce(f.kind_class, j.institution) AS kind_class, f.country, f.ids, f.unique_schemes
        FROM j LEFT JOIN resolve_org_feats f ON f.record_id = j.record_id""")
    con.unregister("resolve_org_feats")
    # keys shared by too many rows are not blocked on (the `_b` columns the blocking rules use)
    for key, cap in KEY_CAP.items():
        con.execute(f"""ALTER TABLE {RECORDS} ADD COLUMN {key}_b VARCHAR""")
        con.execute(f"""UPDATE {RECORDS} r SET {key}_b = r.{key} WHERE r.{key} IS NOT NULL AND r.{key} NOT IN (
                        SELECT {key} FROM {RECORDS} WHERE {key} IS NOT NULL GROUP BY {key} HAVING count(*) > {cap})""")
    for t in ("resolve_org_names", "resolve_name_keys"):
        con.execute(f"DROP TABLE IF EXISTS {t}")
    n_rows = con.execute(f"SELECT count(*) FROM {RECORDS}").fetchall()[0][0]
    n_orgs = con.execute("SELECT count(*) FROM organizations").fetchall()[0][0]
    return {"organizations": int(n_orgs), "applicants": n_app, "name_rows": int(n_rows)}
