"""Writing hardness scores into the `scores` table: DuckDB SQL, so it lives in the store.

The table is declared once, in `hardtech.schema` (migration 3 creates it); a store opened before
that migration gets it from the same declaration. Rows of the same (org_id, year, weights_version)
are replaced in one transaction, so scoring twice never duplicates.
"""

from __future__ import annotations

import datetime as dt

import pyarrow as pa

from hardtech.store.migrations import create_table_sql
from hardtech.schema import TABLES

_COLUMNS = ("org_id", "year", "score", "confidence", "percentile_in_field_year", "field", "weights_version")


def write_scores(store, data, parts: dict[str, dict[str, str | None]]) -> int:
    """Replace the rows of `data` (the `_COLUMNS` plus the part columns `parts` names) in `scores`.

    `data` is an Arrow table, or an Ibis table on the store's own connection: then the rows go from the
    engine into `scores` without passing through Python (a whole store's scores, issue 14).
    `parts[indicator]` names the columns of its `value`, `raw` and `contribution` (None: absent) and
    its `weight` (a number as text, or None); they are stored as one JSON object per row.
    """
    def member(i: str, spec: dict) -> str:
        def col(key):
            c = spec.get(key)
            return f'"{c}"' if c else "NULL::DOUBLE"
        wt = spec.get("weight") or "NULL::DOUBLE"
        return (f"{i} := struct_pack(weight := {wt}, value := {col('value')}, raw := {col('raw')}, "
                f"contribution := {col('contribution')})")

    parts_json = ("to_json(struct_pack(" + ", ".join(member(i, s) for i, s in parts.items()) + "))::VARCHAR"
                  if parts else "'{}'")
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    con = store.con
    con.execute(create_table_sql(TABLES["scores"]))
    if isinstance(data, pa.Table):
        con.register("_hardness_new", data)
        rows = data.num_rows
    else:  # an Ibis expression: a view of it, its in-memory inputs registered as a query would
        store.ibis._run_pre_execute_hooks(data)
        con.execute(f"CREATE OR REPLACE TEMP VIEW _hardness_new AS {store.ibis.compile(data)}")
        rows = int(con.execute("SELECT count(*) FROM _hardness_new").fetchall()[0][0])
    try:
        with store.transaction():
            con.execute("DELETE FROM scores s USING (SELECT DISTINCT org_id, CAST(year AS INTEGER) AS year, "
                        "weights_version FROM _hardness_new) n WHERE s.org_id = n.org_id AND s.year = n.year "
                        "AND s.weights_version = n.weights_version")
            con.execute(
                "INSERT INTO scores (org_id, year, score, confidence, percentile_in_field_year, field, "
                "weights_version, parts, scored_at) SELECT org_id, CAST(year AS INTEGER), score, confidence, "
                f"percentile_in_field_year, field, weights_version, {parts_json}, ? FROM _hardness_new", [now])
    finally:
        if isinstance(data, pa.Table):
            con.unregister("_hardness_new")
        else:
            con.execute("DROP VIEW IF EXISTS _hardness_new")
    return rows
