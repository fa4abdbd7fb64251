"""Regional measures over the membership table: location quotients, Herfindahl index, clusters, unresolved places.

The formulas follow domain.md §6; they run as Ibis expressions over the small resolved membership table.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
import numpy as np
import pyarrow as pa

from hardtech.errors import UsageError
from hardtech.analytics.regions.membership import _Members, _get, _latest, _members, _rows

def _weighted(m: _Members, measure: str) -> ir.Table:
    """Membership table (org_id, region_id, field, value): value = 1 per firm, or its latest R&D."""
    firms = m.firm_table()
    org = firms.column("org_id").combine_chunks().cast(pa.string())
    region = firms.column("region_id").combine_chunks().cast(pa.string())
    field = firms.column("field").combine_chunks().cast(pa.string())
    if measure == "firms":
        value = pa.array(np.ones(firms.num_rows), pa.float64())
    elif measure == "rd":
        rd = _latest(m.src, "rd_expense")
        ids = org.to_pylist()
        ccys = {rd[o][1] for o in ids if o in rd}
        if len(ccys) > 1:
            raise UsageError(f"measure 'rd' needs one currency; the firms report {', '.join(sorted(map(str, ccys)))}")
        has = pa.array([o in rd for o in ids], pa.bool_())
        org, region, field = org.filter(has), region.filter(has), field.filter(has)
        value = pa.array([rd[o][0] for o in org.to_pylist()], pa.float64())
    else:
        raise UsageError(f"measure must be 'firms' or 'rd', not {measure!r}")
    schema = pa.schema([("org_id", pa.string()), ("region_id", pa.string()), ("field", pa.string()),
                        ("value", pa.float64())])
    return ibis.memtable(pa.Table.from_arrays([org, region, field, value], schema=schema))


# ------------------------------------------------------------------------------- measures


def _lq_table(m: _Members, measure: str) -> pa.Table:
    t = _weighted(m, measure)
    total = t.aggregate(national_total=t.value.sum())
    nat = t.filter(t.field.notnull()).group_by("field").aggregate(field_national=lambda x: x.value.sum())
    reg = t.filter(t.region_id.notnull()).group_by("region_id").aggregate(region_total=lambda x: x.value.sum())
    cell = (t.filter(t.region_id.notnull() & t.field.notnull()).group_by(["region_id", "field"])
            .aggregate(count=lambda x: x.value.sum()))
    j = cell.join(reg, "region_id").join(nat, "field")
    j = j.cross_join(total)
    j = j.mutate(lq=(j["count"] / j.region_total) / (j.field_national / j.national_total))
    out = j.select("region_id", "field", "count", "region_total", "field_national", "national_total", "lq")
    out = out.order_by(["region_id", "field"]).to_pyarrow()
    names = [m.name(r) for r in out.column("region_id").to_pylist()]
    out = out.add_column(1, "region", pa.array([n[0] for n in names], pa.string()))
    out = out.add_column(2, "region_zh", pa.array([n[1] for n in names], pa.string()))
    return out.replace_schema_metadata({"unresolved": str(m.n_unresolved), "level": m.level,
                                        "country": m.country, "measure": measure})


def location_quotients(store_or_tables, level: str = "city", measure: str = "firms",
                       field_source: str = "classification", country: str = "CN") -> pa.Table:
    """LQ per region and field (domain.md §6) within one country.

    National totals include the country's firms whose place did not resolve: they are part of the
    country even when we cannot say where, and leaving them out would inflate every region's share.
    """
    return _lq_table(_members(store_or_tables, level, country, field_source), measure)


def _hhi(m: _Members) -> pa.Table:
    t = _weighted(m, "firms")
    t = t.filter(t.region_id.notnull() & t.field.notnull())
    cell = t.group_by(["region_id", "field"]).aggregate(n=lambda x: x.value.sum())
    w = ibis.window(group_by=cell.region_id)
    cell = cell.mutate(share=cell.n / cell.n.sum().over(w))
    out = (cell.group_by("region_id")
           .aggregate(firms_with_field=lambda x: x.n.sum(), fields=lambda x: x.field.count(),
                      hhi=lambda x: (x.share * x.share).sum())
           .order_by("region_id").to_pyarrow())
    return out.add_column(1, "region", pa.array([m.name(r)[0] for r in out.column("region_id").to_pylist()], pa.string()))


def herfindahl(store_or_tables, level: str = "city", field_source: str = "classification",
               country: str = "CN") -> pa.Table:
    """Per region, HHI = Σ share² of its hard-tech firms over the fields (1 = a single field)."""
    return _hhi(_members(store_or_tables, level, country, field_source))


def unresolved(store_or_tables, level: str = "city", country: str = "CN") -> pa.Table:
    """Organisations of the country whose place could not be resolved at `level`, with the reason."""
    m = _members(store_or_tables, level, country, "industry")
    schema = pa.schema([(c, pa.string()) for c in ("org_id", "name", "place", "reason")])
    return pa.Table.from_pylist(m.unresolved, schema=schema)


def clusters(store_or_tables, min_members: int = 3, level: str = "city", country: str = "CN",
             field_source: str = "classification") -> pa.Table:
    """Co-located organisations of one field (region × field with ≥ min_members) and who funds them."""
    m = _members(store_or_tables, level, country, field_source)
    inv: dict[str, set] = {}
    for r in _rows(_get(store_or_tables, "funding_rounds"), ("org_id", "investor_ids")):
        inv.setdefault(r["org_id"], set()).update(r.get("investor_ids") or [])
    groups: dict[tuple[str, str], list[dict]] = {}
    for r in m.rows:
        if r["region_id"] and r["field"]:
            groups.setdefault((r["region_id"], r["field"]), []).append(r)
    rows = []
    for (rid, field), mem in sorted(groups.items()):
        if len(mem) < min_members:
            continue
        counts: dict[str, int] = {}
        for x in mem:
            for i in inv.get(x["org_id"], ()):
                counts[i] = counts.get(i, 0) + 1
        rows.append({"region_id": rid, "region": m.name(rid)[0], "field": field, "members": len(mem),
                     "member_ids": sorted(x["org_id"] for x in mem),
                     "member_names": [x["name"] for x in sorted(mem, key=lambda x: x["org_id"])],
                     "investor_ids": sorted(counts), "shared_investors": sorted(i for i, c in counts.items() if c > 1)})
    schema = pa.schema([("region_id", pa.string()), ("region", pa.string()), ("field", pa.string()),
                        ("members", pa.int64()), ("member_ids", pa.list_(pa.string())),
                        ("member_names", pa.list_(pa.string())), ("investor_ids", pa.list_(pa.string())),
                        ("shared_investors", pa.list_(pa.string()))])
    return pa.Table.from_pylist(rows, schema=schema)
