"""The white paper's own figures: what the paper asks the store that no other service answers.

The paper (`presentation/report/`) builds its chapters from the service functions; the few questions
only the paper asks (which organisations a scope covers, how many rows each source gave, which years
a company reported R&D in) are answered here, so the presentation never opens the store or runs SQL
itself (issue 14 item 5). Each function opens the store read-only for its call, as the paper did.
`flows_window` is the paper's sum over its window of the flow service's rows (and their CAGR).
"""

from __future__ import annotations

from pathlib import Path

from hardtech.store.connection import Store

# which tables (and which organisation column) stand behind each chapter, for the synthetic banner
ORG_COLUMN = {"organizations": "org_id", "financials": "org_id", "funding_rounds": "org_id",
              "patents": "applicant_org_id"}
SOURCE_TABLES = ("organizations", "financials", "funding_rounds", "patents", "investors", "regions")


def population(db: str | Path, fields: tuple[str, ...] = (), regions: tuple[dict, ...] = ()) -> dict:
    """The organisations a paper covers: {"names": org_id → (name_en, name_zh), "fields": org_id → sorted
    latest fields, "org_ids": the scope's organisations (None: the whole store), "table_counts": table →
    (rows, synthetic rows) in scope}. A scope of fields keeps organisations with one of them; a scope of
    regions keeps those whose city (or province) resolves to one of them; both narrow."""
    from hardtech.services.scoring import field_table

    out: dict = {"names": {}, "fields": {}, "org_ids": None, "table_counts": {}}
    with Store(db, read_only=True) as store:
        rows = store.con.execute("SELECT org_id, name_en, name_zh, kind, city, province FROM organizations "
                                 "ORDER BY org_id").fetchall()
        ft = field_table(store)
        by_org = out["fields"]
        if ft is not None:
            for oid, f in zip(ft.column("org_id").to_pylist(), ft.column("field").to_pylist()):
                by_org.setdefault(oid, []).append(f)
        for oid in by_org:
            by_org[oid].sort()
        out["names"] = {r[0]: (r[1], r[2]) for r in rows}
        if fields or regions:
            ids = {r[0] for r in rows}
            if fields:
                ids = {o for o in ids if set(by_org.get(o, ())) & set(fields)}
            if regions:
                ids &= _in_regions(store, rows, regions)
            out["org_ids"] = frozenset(ids)
        for table, col in ORG_COLUMN.items():
            where, params = ("", []) if out["org_ids"] is None else (f"WHERE {col} IN (SELECT unnest(?))",
                                                                      [sorted(out["org_ids"])])
            n, s = store.con.execute(f"SELECT count(*), count(*) FILTER (WHERE synthetic) FROM {table} {where}",
                                     params).fetchall()[0]
            out["table_counts"][table] = (int(n), int(s or 0))
    return out


def _in_regions(store: Store, rows, regions: tuple[dict, ...]) -> set[str]:
    """Organisations whose city (or, failing that, province) resolves to one of the regions."""
    from hardtech.analytics.regions import place_resolver

    resolve = place_resolver(store)  # the store's regions read and indexed once
    cache: dict[str, dict | None] = {}

    def place(text):
        if text not in cache:
            cache[text] = resolve(text) if text else None
        return cache[text]

    out = set()
    for oid, _en, _zh, _kind, city, province in rows:
        c, p = place(city), place(province)
        for r in regions:
            if r["level"] == "city" and c and c["region_id"] == r["region_id"]:
                out.add(oid)
            elif r["level"] == "province" and ((p and p["region_id"] == r["region_id"])
                                               or (c and c.get("province") == r["name_en"])):
                out.add(oid)
    return out


def store_regions(db: str | Path) -> list[dict]:
    """The store's `regions` rows, which a scope's places are resolved against (with the shipped list)."""
    with Store(db, read_only=True) as store:
        return store.table("regions").to_pyarrow().to_pylist()


def scoped_typologies(db: str | Path, org_ids) -> tuple[list[tuple], int | None]:
    """(org_id, fields, typology) of the classified companies and startups among `org_ids`, and the
    busiest financial year of the store (`analytics.landscape.busiest_year`)."""
    from hardtech.analytics.landscape import busiest_year

    with Store(db, read_only=True) as store:
        rows = store.con.execute("""
            SELECT c.entity_id, c.fields, c.typology FROM classifications c JOIN organizations o ON o.org_id = c.entity_id
            WHERE c.entity_type = 'organization' AND o.kind IN ('company', 'startup')
              AND c.entity_id IN (SELECT unnest(?))""", [sorted(org_ids)]).fetchall()
        year = busiest_year(store.table("financials")).to_pyarrow().as_py()
    return rows, year


def rd_years(db: str | Path, org_ids: list[str], up_to: int | None = None) -> dict[str, set[int]]:
    """org_id → the fiscal years (up to `up_to`, when given) in which it reported an R&D expense."""
    years: dict[str, set[int]] = {}
    with Store(db, read_only=True) as store:
        for oid, y in store.con.execute(
                "SELECT DISTINCT org_id, fiscal_year FROM financials WHERE rd_expense IS NOT NULL AND org_id IN "
                "(SELECT unnest(?))" + (" AND fiscal_year <= ?" if up_to else ""),
                [org_ids] + ([up_to] if up_to else [])).fetchall():
            years.setdefault(oid, set()).add(int(y))
    return years


def ranking_year(db: str | Path) -> int | None:
    """The latest fiscal year with nearly as many R&D figures as the best-covered one
    (`analytics.landscape.latest_covered_year`)."""
    from hardtech.analytics.landscape import latest_covered_year

    with Store(db, read_only=True) as store:
        return latest_covered_year(store.table("financials")).to_pyarrow().as_py()


def source_counts(db: str | Path) -> list[list]:
    """[table, source name, rows, synthetic rows] for every source of the imported tables, largest first."""
    src = []
    with Store(db, read_only=True) as store:
        for table in SOURCE_TABLES:
            src += [[table, s or "", int(n), int(k or 0)] for s, n, k in store.con.execute(
                f"SELECT source_name, count(*), count(*) FILTER (WHERE synthetic) FROM {table} "
                "GROUP BY 1 ORDER BY 2 DESC, 1").fetchall()]
    return src


def flows_window(rows: list[dict], window: list[str]) -> list[dict]:
    """Per group over the window: amount, rounds and the CAGR of analytics.flows.cagr (first to last period)."""
    import pyarrow as pa

    from hardtech.analytics.flows import cagr

    sub = [r for r in rows if r["period"] in window]
    rates = {}
    if sub:
        table = pa.Table.from_pylist([{"period": r["period"], "group": r["group"], "value": r["value"]} for r in sub])
        rates = {r["group"]: r["cagr"] for r in cagr(table).to_pylist()}
    out = {}
    for r in sub:
        s = out.setdefault(r["group"], {"group": r["group"], "amount": 0.0, "rounds": 0, "disclosed_rounds": 0})
        s["amount"] += r["value"] or 0.0
        s["rounds"] += r["rounds"]
        s["disclosed_rounds"] += r["disclosed_rounds"]
    for s in out.values():
        s["cagr"] = rates.get(s["group"])
    return sorted(out.values(), key=lambda s: (-s["amount"], s["group"]))


def scope_place(text: str, regions=None) -> dict | None:
    """A scope's place as written (`西安`, `region:Hangzhou`'s value) → its region, None when unknown
    (`analytics.regions.resolve_place`, over the shipped list and `regions`)."""
    from hardtech.analytics.regions import resolve_place

    return resolve_place(text, regions)


def chinese_place_names(db: str | Path) -> list[tuple]:
    """(name_en, name_zh, aliases) of every region with a Chinese name, cities first, countries last:
    what a place written in English is shown as on Chinese pages (`presentation.labels.place_names`)."""
    with Store(db, read_only=True) as store:
        return store.con.execute("SELECT name_en, name_zh, aliases FROM regions WHERE name_zh IS NOT NULL "
                                 "ORDER BY CASE level WHEN 'country' THEN 0 WHEN 'province' THEN 1 "
                                 "ELSE 2 END DESC").fetchall()
