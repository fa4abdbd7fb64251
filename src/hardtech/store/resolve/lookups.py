"""Small reads the resolution services decide with: records' identifiers, rejections, redirects,
organisation ids and identifiers, patent applicants.

Why here: these are DuckDB queries, and engine-specific SQL lives in `store/` (issue 14);
`services/resolve.py` applies the rules (unique schemes, conflicts, first applicant) to the rows.
"""

from __future__ import annotations


def record_identifiers(con) -> list[tuple[str, list[str]]]:
    """(record id, its identifiers) for every name record that carries any."""
    return con.execute("SELECT record_id, any_value(ids) FROM resolve_records WHERE ids IS NOT NULL "
                       "GROUP BY record_id").fetchall()


def rejected_pairs(con) -> list[tuple[str, str]]:
    """(record a, record b) of every pair a reviewer rejected."""
    return con.execute("SELECT record_a, record_b FROM resolve_decisions WHERE decision = 'reject'").fetchall()


def redirects(con) -> dict[str, str]:
    """Each merged-away id → the organisation it now belongs to (`org_redirects`)."""
    return dict(con.execute("SELECT from_id, org_id FROM org_redirects").fetchall())


def organisation_ids(con) -> set[str]:
    """Every id in `organizations`."""
    return {r[0] for r in con.execute("SELECT org_id FROM organizations").fetchall()}


def identifier_rows(con, a: str, b: str) -> list[tuple]:
    """(org_id, exchange, ticker, identifiers) of organisations `a` and `b` (those that exist)."""
    return con.execute("SELECT org_id, exchange, ticker, identifiers FROM organizations WHERE org_id IN (?, ?)",
                       [a, b]).fetchall()


def applicant_texts(con) -> list[str]:
    """Every distinct `patents.applicant` text (one text may name several applicants)."""
    return [t for (t,) in con.execute("SELECT DISTINCT applicant FROM patents WHERE applicant IS NOT NULL").fetchall()]
