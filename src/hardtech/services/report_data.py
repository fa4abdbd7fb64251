"""The white paper's own figures: what the paper asks the store that no other service answers.

The paper (`presentation/report/`) builds its chapters from the service functions; the few questions
only the paper asks (which organisations a scope covers, how many rows each source gave, which years
a company reported R&D in) are answered here, so the presentation never opens the store or runs SQL
itself (issue 14 item 5). Each function takes the store the paper opened once (`services.opened`:
DuckDB or Spark) and asks it in Ibis, so `--engine spark` computes every figure of the paper on Spark;
a path is still accepted and opened for the call.
`flows_window` is the paper's sum over its window of the flow service's rows (and their CAGR).
"""

from __future__ import annotations

import ibis

from hardtech.services.opened import opened

# which tables (and which organisation column) stand behind each chapter, for the synthetic banner
ORG_COLUMN = {"organizations": "org_id", "financials": "org_id", "funding_rounds": "org_id",
              "patents": "applicant_org_id"}
SOURCE_TABLES = ("organizations", "financials", "funding_rounds", "patents", "investors", "regions")


def _rows(expr) -> list[dict]:
    return expr.to_pyarrow().to_pylist()


def _only(table, column: str, ids):
    """`table`'s rows whose `column` is one of `ids` (a semi-join on an in-memory list: no SQL literal list)."""
    keep = ibis.memtable({"_id": sorted(ids)}, schema={"_id": "string"})
    return table.semi_join(keep, table[column] == keep._id)


def population(store, fields: tuple[str, ...] = (), regions: tuple[dict, ...] = ()) -> dict:
    """The organisations a paper covers: {"names": org_id → (name_en, name_zh), "fields": org_id → sorted
    latest fields, "org_ids": the scope's organisations (None: the whole store), "table_counts": table →
    (rows, synthetic rows) in scope}. A scope of fields keeps organisations with one of them; a scope of
    regions keeps those whose city (or province) resolves to one of them; both narrow."""
    from hardtech.services.scoring import field_table

    out: dict = {"names": {}, "fields": {}, "org_ids": None, "table_counts": {}}
    with opened(store) as st:
        o = st.table("organizations")
        rows = [(r["org_id"], r["name_en"], r["name_zh"], r["kind"], r["city"], r["province"])
                for r in _rows(o.select("org_id", "name_en", "name_zh", "kind", "city", "province").order_by("org_id"))]
        ft = field_table(st)
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
                ids &= _in_regions(st, rows, regions)
            out["org_ids"] = frozenset(ids)
        for table, col in ORG_COLUMN.items():
            t = st.table(table)
            if out["org_ids"] is not None:
                t = _only(t, col, out["org_ids"])
            r = t.aggregate(n=t.count(), s=t.synthetic.cast("int64").sum()).to_pyarrow().to_pylist()[0]
            out["table_counts"][table] = (int(r["n"] or 0), int(r["s"] or 0))
    return out


def _in_regions(store, rows, regions: tuple[dict, ...]) -> set[str]:
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


def store_regions(store) -> list[dict]:
    """The store's `regions` rows, which a scope's places are resolved against (with the shipped list)."""
    with opened(store) as st:
        return _rows(st.table("regions"))


def scoped_typologies(store, org_ids=None) -> tuple[list[tuple], int | None]:
    """(org_id, fields, typology) of the classified companies and startups among `org_ids` (None: all), and
    the busiest financial year of the store (`analytics.landscape.busiest_year`)."""
    from hardtech.analytics.landscape import busiest_year

    with opened(store) as st:
        c, o = st.table("classifications"), st.table("organizations")
        o = o.filter(o.kind.isin(["company", "startup"]))
        c = c.filter(c.entity_type == "organization")
        if org_ids is not None:
            c = _only(c, "entity_id", org_ids)
        j = c.join(o, c.entity_id == o.org_id).select(c.entity_id, c.fields, c.typology)
        rows = [(r["entity_id"], list(r["fields"]) if r["fields"] is not None else None, r["typology"])
                for r in _rows(j.order_by("entity_id"))]
        year = busiest_year(st.table("financials")).to_pyarrow().as_py()
    return rows, year


def rd_years(store, org_ids: list[str], up_to: int | None = None) -> dict[str, set[int]]:
    """org_id → the fiscal years (up to `up_to`, when given) in which it reported an R&D expense."""
    years: dict[str, set[int]] = {}
    with opened(store) as st:
        f = st.table("financials")
        f = _only(f.filter(f.rd_expense.notnull()), "org_id", org_ids)
        if up_to:
            f = f.filter(f.fiscal_year <= up_to)
        for r in _rows(f.select("org_id", "fiscal_year").distinct()):
            years.setdefault(r["org_id"], set()).add(int(r["fiscal_year"]))
    return years


def ranking_year(store) -> int | None:
    """The latest fiscal year with nearly as many R&D figures as the best-covered one
    (`analytics.landscape.latest_covered_year`)."""
    from hardtech.analytics.landscape import latest_covered_year

    with opened(store) as st:
        return latest_covered_year(st.table("financials")).to_pyarrow().as_py()


def source_counts(store) -> list[list]:
    """[table, source name, rows, synthetic rows] for every source of the imported tables, largest first."""
    src = []
    with opened(store) as st:
        for table in SOURCE_TABLES:
            t = st.table(table)
            g = t.group_by("source_name").aggregate(n=t.count(), k=t.synthetic.cast("int64").sum())
            src += [[table, r["source_name"] or "", int(r["n"]), int(r["k"] or 0)]
                    for r in _rows(g.order_by([ibis.desc("n"), g.source_name.asc()]))]
    return src


def table_rows(store) -> list[dict]:
    """{table, rows, synthetic_rows (None for a table without provenance)} for every declared table: the
    paper's method chapter, on whichever engine the store runs (`services.data.store_status` is DuckDB's,
    with its integrity check)."""
    from hardtech.schema import TABLES

    out = []
    with opened(store) as st:
        for name, decl in TABLES.items():
            t = st.table(name)
            if decl.provenance:
                r = t.aggregate(n=t.count(), s=t.synthetic.cast("int64").sum()).to_pyarrow().to_pylist()[0]
                out.append({"table": name, "rows": int(r["n"] or 0), "synthetic_rows": int(r["s"] or 0)})
            else:
                out.append({"table": name, "rows": int(t.count().to_pyarrow().as_py()), "synthetic_rows": None})
    return out


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


def chinese_place_names(store) -> list[tuple]:
    """(name_en, name_zh, aliases) of every region with a Chinese name, cities first, countries last:
    what a place written in English is shown as on Chinese pages (`presentation.labels.place_names`)."""
    with opened(store) as st:
        r = st.table("regions")
        r = r.filter(r.name_zh.notnull())
        order = r.level.cases(("country", 0), ("province", 1), else_=2)
        return [(x["name_en"], x["name_zh"], x["aliases"])
                for x in _rows(r.mutate(_o=order).order_by([ibis.desc("_o"), "region_id"]))]
