"""What `hardtech classify` reads from the store: the texts and codes of organisations or patents, and the
keys a user's `--where` selects among them.

Why here: these are DuckDB queries (and the FROM clauses a `--where` condition is evaluated against), and
engine-specific SQL lives in `store/` (issue 14); `services/classify.py` turns the rows into classifier
records. The selected keys are bound as one list parameter, never pasted into the query.
"""

from __future__ import annotations

from pathlib import Path

from hardtech.store.connection import Store

# The rows `--where` sees: organisations with their latest financials (`o`, `f`), or patents.
ORG_SOURCE = """organizations o LEFT JOIN (
        SELECT org_id, rd_expense / NULLIF(revenue, 0) AS rd_intensity, invention_patents, revenue,
               row_number() OVER (PARTITION BY org_id ORDER BY fiscal_year DESC) AS rn
        FROM financials) f ON f.org_id = o.org_id AND f.rn = 1"""
PATENT_SOURCE = "patents"


def selected_keys(db: str | Path | None, table: str, where: str) -> list:
    """The keys (org_id or publication_number) of `table`'s rows for which the user's condition holds, evaluated
    in the sandbox (`store.where.keys_where`)."""
    from hardtech.store.where import keys_where

    if table == "organizations":
        return keys_where(db, "o.org_id", ORG_SOURCE, where)
    return keys_where(db, "publication_number", PATENT_SOURCE, where)


def _selected(sql: str, key: str, ids: list[str] | None, limit: int | None) -> tuple[str, list]:
    """The query restricted to the keys a `--where` selected (bound, never pasted), in key order."""
    params: list = []
    if ids is not None:
        sql += f" WHERE {key} IN (SELECT unnest(?))"
        params.append(ids)
    sql += f" ORDER BY {key}"
    if limit:
        sql += " LIMIT ?"
        params.append(int(limit))
    return sql, params


def organisation_rows(store: Store, ids: list[str] | None, limit: int | None) -> list[tuple]:
    """(org_id, English name and description, Chinese ones, industry codes, R&D intensity, invention patents,
    revenue, kind) per organisation, from its latest financials; only `ids` when given, in org_id order."""
    sql = ("SELECT o.org_id, concat_ws('. ', o.name_en, o.description_en) AS en, "
           "concat_ws('。', o.name_zh, o.description_zh) AS zh, o.industry_codes, f.rd_intensity, "
           f"f.invention_patents, f.revenue, o.kind FROM {ORG_SOURCE}")
    return store.con.execute(*_selected(sql, "o.org_id", ids, limit)).fetchall()


def patent_rows(store: Store, ids: list[str] | None, limit: int | None) -> list[tuple]:
    """(publication number, title and abstract, CPC codes, IPC codes) per patent; only `ids` when given."""
    sql = f"SELECT publication_number, concat_ws('. ', title, abstract), cpc_codes, ipc_codes FROM {PATENT_SOURCE}"
    return store.con.execute(*_selected(sql, "publication_number", ids, limit)).fetchall()
