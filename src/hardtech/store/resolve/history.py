"""The merge history (`resolve_merges`) as `hardtech resolve history` and the API list it.

Why here: it is a DuckDB query, and engine-specific SQL lives in `store/` (issue 14). Filters are bound.
"""

from __future__ import annotations


def merge_rows(con, org: str | None = None, status: str = "applied", limit: int = 100) -> list[dict]:
    """Merges with `status` (or all: "all"), newest first; with `org`, those into or from it or into where it went."""
    cond, params = [], []
    if status != "all":
        cond.append("status = ?")
        params.append(status)
    if org:
        cond.append("(into_id = ? OR from_id = ? OR into_id IN (SELECT org_id FROM org_redirects WHERE from_id = ?))")
        params += [org, org, org]
    where = ("WHERE " + " AND ".join(cond)) if cond else ""
    cur = con.execute(f"""SELECT merge_id, from_id, from_name, into_id, into_name, round(probability, 3) AS
                                 probability, decision, decided_by, merged_at, status, source_ids, evidence
                          FROM resolve_merges {where} ORDER BY merged_at DESC, merge_id LIMIT ?""",
                      params + [limit])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]
