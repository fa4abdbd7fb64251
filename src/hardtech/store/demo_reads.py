"""What `hardtech demo` reads from its store for the tables it prints, as DuckDB queries.

Why here: engine-specific SQL lives in `store/` (issue 14); `hardtech/demo.py` (at the services' level)
turns these rows into the demo's tables. Each function takes an open `Store` and returns plain rows.
(The demo's hardness tables read scores through `analytics.score_versions`, as search does.)
"""

from __future__ import annotations

from hardtech.store.connection import Store

# The organisations the demo classifies: every one but the bundled universities (counted by place, never by
# field; our own universities, which have descriptions, are classified), optionally only the unclassified.
_CLASSIFY_DEMO = "(o.kind IS DISTINCT FROM 'university' OR o.source_name = '{source}')"
_NOT_CLASSIFIED = " AND o.org_id NOT IN (SELECT entity_id FROM classifications WHERE entity_type = 'organization')"


def classify_condition(demo_source: str, only_new: bool = False) -> str:
    """The `--where` condition (`hardtech classify`) selecting what the demo classifies."""
    if "'" in demo_source:
        raise ValueError(f"a demo source name holds a quote: {demo_source!r}")
    return _CLASSIFY_DEMO.format(source=demo_source) + (_NOT_CLASSIFIED if only_new else "")


def _dicts(cur) -> list[dict]:
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def orgs_with_financials(store: Store) -> set[str]:
    return {r[0] for r in store.con.execute("SELECT DISTINCT org_id FROM financials").fetchall()}


def financial_currencies(store: Store) -> list[str]:
    return [r[0] for r in store.con.execute("SELECT DISTINCT currency FROM financials ORDER BY 1").fetchall() if r[0]]


def companies_by_field(store: Store) -> list[tuple[str, int, int]]:
    """(field or 'none', companies and startups classified in it, of which hard & core), most first."""
    return store.con.execute("""
        WITH c AS (SELECT c.entity_id, c.fields, c.typology FROM classifications c
                   JOIN organizations o ON o.org_id = c.entity_id
                   WHERE c.entity_type = 'organization' AND o.kind IN ('company', 'startup'))
        SELECT coalesce(f, 'none') AS field, count(*) AS n, count(*) FILTER (WHERE typology = 'hard_core')
        FROM (SELECT entity_id, typology, unnest(CASE WHEN len(fields) = 0 THEN [NULL] ELSE fields END) AS f FROM c)
        GROUP BY 1 ORDER BY 2 DESC, 1""").fetchall()


def companies_by_typology(store: Store) -> list[tuple[str | None, int]]:
    """(typology id, or None for companies without one, companies and startups), most first."""
    return store.con.execute("""
        SELECT c.typology, count(*) FROM classifications c
        JOIN organizations o ON o.org_id = c.entity_id
        WHERE c.entity_type = 'organization' AND o.kind IN ('company', 'startup')
        GROUP BY 1 ORDER BY 2 DESC, 1 NULLS LAST""").fetchall()


def orgs_by_city_and_kind(store: Store) -> list[tuple[str, str, int]]:
    return store.con.execute("SELECT city, kind, count(*) FROM organizations WHERE city IS NOT NULL "
                             "GROUP BY ALL ORDER BY 1, 2").fetchall()


def latest_year_of_source(store: Store, source: str) -> int | None:
    return store.con.execute("SELECT max(fiscal_year) FROM financials WHERE source_name = ?", [source]).fetchall()[0][0]


def rd_summary(store: Store, source: str, first: int, last: int) -> tuple[int, int, int | None, int | None]:
    """(organisations with an R&D line, of them above zero, first year, last year) of a source's years."""
    return store.con.execute(
        "SELECT count(DISTINCT org_id), count(DISTINCT org_id) FILTER (WHERE rd_expense > 0), "
        "min(fiscal_year), max(fiscal_year) FROM financials WHERE source_name = ? AND rd_expense IS NOT NULL "
        "AND fiscal_year BETWEEN ? AND ?", [source, first, last]).fetchall()[0]


def largest_rd(store: Store, source: str, year: int, top: int) -> list[dict]:
    """A source's largest R&D figures of one year (in billions of the figure's currency), with intensity."""
    return _dicts(store.con.execute("""
        SELECT f.org_id, coalesce(o.name_en, o.name_zh) AS name, f.fiscal_year AS year,
               round(f.rd_expense / 1e9, 2) AS rd_usd_bn, round(f.rd_expense / NULLIF(f.revenue, 0), 3) AS intensity,
               f.source_name AS source
        FROM financials f JOIN organizations o USING (org_id)
        WHERE f.source_name = ? AND f.fiscal_year = ? AND f.rd_expense > 0
        ORDER BY f.rd_expense DESC, f.org_id LIMIT ?""", [source, year, top]))


def orgs_of_source_in(store: Store, source: str, country: str) -> list[str]:
    """The organisations a source has financial figures for, in one country, by id."""
    return [r[0] for r in store.con.execute(
        "SELECT DISTINCT f.org_id FROM financials f JOIN organizations o USING (org_id) "
        "WHERE f.source_name = ? AND o.country = ? ORDER BY 1", [source, country]).fetchall()]
