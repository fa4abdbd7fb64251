"""What every chapter needs to know: the store, the language, the scope's organisations, names, provenance.

Built once per report with a handful of small read-only queries (names, latest fields, places);
chapters then filter the service functions' rows by `in_scope` instead of asking the store again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from hardtech.presentation.report.i18n import Translator
from hardtech.presentation.report.scope import Scope
from hardtech.store.connection import Store

# which tables (and which organisation column) stand behind each chapter, for the synthetic banner
ORG_COLUMN = {"organizations": "org_id", "financials": "org_id", "funding_rounds": "org_id",
              "patents": "applicant_org_id"}


@dataclass
class Ctx:
    db: Path
    t: Translator
    scope: Scope
    names: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    fields: dict[str, list[str]] = field(default_factory=dict)
    org_ids: frozenset[str] | None = None  # None: the whole store
    table_counts: dict[str, tuple[int, int]] = field(default_factory=dict)  # table -> (rows, synthetic) in scope
    figures: dict = field(default_factory=dict)
    missing: list[tuple[str, str]] = field(default_factory=list)

    def name(self, org_id: str, fallback: str | None = None) -> str:
        en, zh = self.names.get(org_id, (None, None))
        first = (zh or en) if self.t.lang == "zh" else (en or zh)
        return first or fallback or org_id

    def in_scope(self, org_id: str | None) -> bool:
        return self.org_ids is None or org_id in self.org_ids

    def miss(self, chapter: str, text: str) -> str:
        self.missing.append((chapter, text))
        return text

    def synthetic(self, tables: tuple[str, ...]) -> dict | None:
        """{n, of} synthetic rows among the rows of `tables` in scope, or None when none is synthetic."""
        n = sum(self.table_counts.get(tb, (0, 0))[1] for tb in tables)
        total = sum(self.table_counts.get(tb, (0, 0))[0] for tb in tables)
        return {"n": n, "of": total} if n else None


def build_context(db: str | Path, t: Translator, scope: Scope) -> Ctx:
    from hardtech.services.scoring import field_table

    ctx = Ctx(db=Path(db), t=t, scope=scope)
    with Store(db, read_only=True) as store:
        rows = store.con.execute("SELECT org_id, name_en, name_zh, kind, city, province FROM organizations "
                                 "ORDER BY org_id").fetchall()
        ft = field_table(store)
        if ft is not None:
            for oid, f in zip(ft.column("org_id").to_pylist(), ft.column("field").to_pylist()):
                ctx.fields.setdefault(oid, []).append(f)
        for oid in ctx.fields:
            ctx.fields[oid].sort()
        ctx.names = {r[0]: (r[1], r[2]) for r in rows}
        if scope.fields or scope.regions:
            ids = {r[0] for r in rows}
            if scope.fields:
                ids = {o for o in ids if set(ctx.fields.get(o, ())) & set(scope.fields)}
            if scope.regions:
                ids &= _in_regions(store, rows, scope.regions)
            ctx.org_ids = frozenset(ids)
        for table, col in ORG_COLUMN.items():
            where, params = ("", []) if ctx.org_ids is None else (f"WHERE {col} IN (SELECT unnest(?))",
                                                                   [sorted(ctx.org_ids)])
            n, s = store.con.execute(f"SELECT count(*), count(*) FILTER (WHERE synthetic) FROM {table} {where}",
                                     params).fetchall()[0]
            ctx.table_counts[table] = (int(n), int(s or 0))
    return ctx


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
