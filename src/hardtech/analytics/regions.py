"""Regional ecosystems: where hard-tech firms cluster, how specialised a region is, and what it has.

Sources write places in many ways (`西安市`, `Xi'an`, `Xian`, a full street address, or only a
province), so every organisation is first resolved against the bilingual region list; what does
not resolve is reported in `unresolved()`, never silently dropped. The measures follow domain.md §6
(location quotient, Herfindahl–Hirschman index) and the ecosystem factors of §1; what counts as a
firm, how a field is assigned and how each factor is computed are data in
`hardtech/data/rules/ecosystem_factors.toml` (explained in docs/regions.md). Counting and the
ratios run as Ibis expressions over a small resolved membership table.
"""

from __future__ import annotations

import csv
import functools
import json
import re
import tomllib
import unicodedata
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from hardtech.analytics.taxonomy import FIELD_IDS, load_taxonomy
from hardtech.analytics.figures import latest
from hardtech.analytics.verdicts import latest_verdicts
from hardtech.errors import NotFound, ParseError, SourceError, UsageError

from hardtech.analytics.region_places import (  # noqa: F401 - re-exported: the place API lives there
    LEVELS, _describe, _index, _Index, _region_rows, place_key, place_resolver, resolve_place)


# ------------------------------------------------------------------------------- rules


@functools.lru_cache(maxsize=4)
def load_rules(path: str | None = None) -> dict[str, Any]:
    """The ecosystem rules (default: the packaged TOML); a malformed file is a SourceError."""
    p = Path(path) if path else Path(str(resources.files("hardtech.data") / "rules" / "ecosystem_factors.toml"))
    try:
        doc = tomllib.loads(p.read_text(encoding="utf-8"))
        for key in ("level", "country", "field_source", "measure"):
            if key not in doc["defaults"]:
                raise KeyError(f"defaults.{key}")
        list(doc["counting"]["firm_kinds"]), float(doc["counting"]["industry_min_weight"])
        for name, f in doc["factors"].items():
            if not f.get("user_table") and not f.get("inputs"):
                raise ValueError(f"factors.{name} needs inputs or user_table = true")
    except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as exc:
        raise SourceError(f"ecosystem rules {p} are malformed or unreadable: {exc}") from None
    return doc


# ------------------------------------------------------------------------------- inputs


def _get(src, name: str) -> ir.Table | None:
    if hasattr(src, "table") and not isinstance(src, Mapping):
        return src.table(name)
    if isinstance(src, Mapping):
        t = src.get(name)
        if t is None or isinstance(t, ir.Table):
            return t
        return ibis.memtable(t)
    raise UsageError("regional analytics take a Store or a mapping of tables ('organizations' at least)")


def _rows(t: ir.Table | None, cols: tuple[str, ...]) -> list[dict]:
    if t is None:
        return []
    have = [c for c in cols if c in t.columns]
    if not have:
        return [{c: None for c in cols} for _ in range(t.count().execute())]
    d = t.select(*have).to_pyarrow().to_pydict()  # column-wise: far cheaper than a dict per row from Arrow
    n = len(d[have[0]])
    columns = [d[c] if c in d else [None] * n for c in cols]
    return [dict(zip(cols, vals)) for vals in zip(*columns)]


def _matches(tax, codes: list[str]) -> list:
    """Concordance matches of the codes a taxonomy knows; an unknown scheme maps to no field."""
    out = []
    for code in codes:
        try:
            out.extend(tax.map_codes([code]))
        except (UsageError, ParseError):
            pass  # a scheme or code the concordances do not cover: no field, not an error
    return out


def _latest(src, column: str) -> dict[str, tuple[float, str | None]]:
    """org_id → (latest year's figure, its currency), picked by the one rule of `analytics.figures`."""
    f = _get(src, "financials")
    if f is None or column not in f.columns:
        return {}
    t = latest(f, column).to_pyarrow()
    ccy = t.column(f"{column}_ccy") if f"{column}_ccy" in t.column_names else t.column("currency")
    return {o: (float(v), c) for o, v, c in zip(t.column("org_id").to_pylist(), t.column(column).to_pylist(),
                                                 ccy.to_pylist())}


def _column(t: pa.Table, name: str) -> pa.Array:
    col = t.column(name).combine_chunks() if name in t.column_names else pa.nulls(t.num_rows, pa.string())
    return col


def _codes(arr: pa.Array) -> tuple[np.ndarray, list]:
    """Dictionary codes (-1 for null) and the distinct values, so Python runs once per distinct value."""
    enc = pc.dictionary_encode(arr)
    if isinstance(enc, pa.ChunkedArray):
        enc = enc.combine_chunks()
    idx = pc.fill_null(enc.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    return idx, enc.dictionary.to_pylist()


class _Members:
    """Organisations of one country resolved to regions of one level, with their field.

    A million organisations share a few thousand (country, province, city) values, so places are
    resolved once per distinct value and everything else stays columnar; the per-row dicts that
    `regions_table`, `clusters` and `unresolved` walk are built only when they ask for them.
    """

    _COLS = ("org_id", "kind", "name_en", "name_zh", "country", "province", "city", "industry_codes")

    def __init__(self, src, level: str, country: str, field_source: str, rules: dict):
        if level not in LEVELS:
            raise UsageError(f"level must be one of {', '.join(LEVELS)}, not {level!r}")
        self.src, self.level, self.country, self.rules = src, level, country.upper(), rules
        self.ix = _index(_get(src, "regions"))
        orgs = self._load(_get(src, "organizations"))
        ci, cv = _codes(_column(orgs, "country"))
        pi, pv = _codes(_column(orgs, "province")) if level == "province" else (np.full(orgs.num_rows, -1, np.int64), [])
        yi, yv = _codes(_column(orgs, "city"))
        ny, np_ = len(yv) + 1, len(pv) + 1
        combo = ((ci + 1) * np_ + (pi + 1)) * ny + (yi + 1)
        uniq, inv = np.unique(combo, return_inverse=True)
        rids, keep_u = [], np.zeros(len(uniq), bool)
        for j, k in enumerate(uniq.tolist()):
            y, rest = k % ny - 1, k // ny
            p, c = rest % np_ - 1, rest // np_ - 1
            o = {"country": cv[c] if c >= 0 else None, "province": pv[p] if p >= 0 else None,
                 "city": yv[y] if y >= 0 else None}
            r = self._place(o)
            ctry = (o.get("country") or (r or {}).get("country") or "").upper()
            keep_u[j] = ctry == self.country
            rids.append(r["region_id"] if r else None)
        keep = keep_u[inv.ravel()] if len(uniq) else np.zeros(0, bool)
        t = orgs.filter(pa.array(keep, pa.bool_()))
        rid_u = pa.array(rids, pa.string())
        region = rid_u.take(pa.array(inv.ravel()[keep], pa.int64())) if len(uniq) else pa.nulls(0, pa.string())
        self._t = t.append_column("region_id", region).append_column(
            "field", self._fields(src, t, field_source, rules))
        self.n_unresolved = region.null_count
        self._rows: list[dict] | None = None
        self._unresolved: list[dict] | None = None

    @classmethod
    def _load(cls, t: ir.Table | None) -> pa.Table:
        if t is None:
            return pa.table({c: pa.nulls(0, pa.string()) for c in cls._COLS})
        have = [c for c in cls._COLS if c in t.columns]
        if not have:
            n = t.count().execute()
            return pa.table({c: pa.nulls(n, pa.string()) for c in cls._COLS})
        d = t.select(*have).to_pyarrow()
        for c in cls._COLS:
            if c not in d.column_names:
                d = d.append_column(c, pa.nulls(d.num_rows, pa.list_(pa.string()) if c == "industry_codes"
                                                else pa.string()))
        return d.select(list(cls._COLS))

    @staticmethod
    def _fields(src, t: pa.Table, field_source: str, rules: dict) -> pa.Array:
        """One field per organisation (aligned with `t`), so shares over fields add up to one."""
        if field_source == "industry":
            tax, floor = load_taxonomy(), float(rules["counting"]["industry_min_weight"])
            seen: dict[tuple, str | None] = {}
            out = []
            for codes in t.column("industry_codes").to_pylist():
                key = tuple(codes or ())
                if key not in seen:
                    best = None
                    for m in _matches(tax, list(key)):
                        if best is None or (-m.weight, FIELD_IDS.index(m.field_id)) < (-best.weight, FIELD_IDS.index(best.field_id)):
                            best = m
                    seen[key] = best.field_id if best is not None and best.weight >= floor else None
                out.append(seen[key])
            return pa.array(out, pa.string())
        if field_source != "classification":
            raise UsageError(f"field_source must be 'classification' or 'industry', not {field_source!r}")
        c = _get(src, "classifications")
        if c is None or t.num_rows == 0:
            return pa.nulls(t.num_rows, pa.string())
        c = latest_verdicts(c.filter(c.top_field.notnull())).select("entity_id", "top_field").to_pyarrow()
        ids = c.column("entity_id").combine_chunks().cast(pa.string())
        org = t.column("org_id").combine_chunks().cast(pa.string())
        pos = pc.index_in(org, value_set=ids)
        return c.column("top_field").combine_chunks().cast(pa.string()).take(pos)

    def _place(self, o: dict) -> dict | None:
        if self.level == "city":
            return self.ix.up(self.ix.find(o.get("city") or "", "city"), "city")
        hit = self.ix.up(self.ix.find(o.get("province") or "", "province"), "province")
        return hit or self.ix.up(self.ix.find(o.get("city") or "", "city"), "province")

    @property
    def rows(self) -> list[dict]:
        if self._rows is None:
            d = self._t.select(["org_id", "name_en", "name_zh", "kind", "region_id", "field",
                                "industry_codes"]).to_pydict()
            self._rows = [{"org_id": oid, "name": en or zh, "kind": k, "region_id": rid, "field": f,
                           "industry_codes": codes or []}
                          for oid, en, zh, k, rid, f, codes in zip(d["org_id"], d["name_en"], d["name_zh"],
                                                                   d["kind"], d["region_id"], d["field"],
                                                                   d["industry_codes"])]
        return self._rows

    @property
    def unresolved(self) -> list[dict]:
        if self._unresolved is None:
            t = self._t.filter(pc.is_null(self._t.column("region_id")))
            d = t.select(["org_id", "name_en", "name_zh", "province", "city"]).to_pydict()
            out = []
            for oid, en, zh, prov, city in zip(d["org_id"], d["name_en"], d["name_zh"], d["province"], d["city"]):
                place = city if self.level == "city" else (prov or city)
                out.append({"org_id": oid, "name": en or zh, "place": place,
                            "reason": f"no {self.level} given" if not place else f"{place!r} not in regions"})
            self._unresolved = out
        return self._unresolved

    def firm_table(self) -> pa.Table:
        """The firms (kinds counted as firms; no kind = a company), in organisation order."""
        kinds = set(self.rules["counting"]["firm_kinds"])
        ki, kv = _codes(self._t.column("kind").combine_chunks())
        ok = np.array([(v or "company") in kinds for v in kv] + ["company" in kinds], bool)
        return self._t.filter(pa.array(ok[ki], pa.bool_()))

    def firms(self) -> list[dict]:
        kinds = set(self.rules["counting"]["firm_kinds"])
        return [r for r in self.rows if (r["kind"] or "company") in kinds]

    def name(self, region_id: str) -> tuple[str | None, str | None]:
        r = self.ix.by_id.get(region_id, {})
        return r.get("name_en"), r.get("name_zh")


def _members(src, level, country, field_source) -> _Members:
    rules = load_rules()
    return _Members(src, level or rules["defaults"]["level"], country or rules["defaults"]["country"],
                    field_source or rules["defaults"]["field_source"], rules)


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


# ------------------------------------------------------------------------------- per-region inputs


def _inputs(m: _Members) -> dict[str, dict[str, Any]]:
    """region_id → the raw measures the scorecard factors combine; None where the data has none."""
    src, out = m.src, {}
    staff, rd = _latest(src, "rd_staff"), _latest(src, "rd_expense")
    fr = _get(src, "funding_rounds")
    rounds = _rows(fr, ("org_id", "amount_usd", "investor_ids"))
    has_institutions = any(r["kind"] in ("university", "institute") for r in m.rows)
    tax = load_taxonomy()

    def sector(code: str) -> str | None:
        scheme, _, c = str(code).partition(":")
        try:
            return tax.sector(scheme.strip().lower(), c.strip())
        except (UsageError, ParseError):
            return None  # unknown scheme: no sector

    by_org = {}
    for r in rounds:
        by_org.setdefault(r["org_id"], []).append(r)
    for r in m.rows:
        if r["region_id"] is None:
            continue
        d = out.setdefault(r["region_id"], {"universities": 0, "institutes": 0, "rd_staff": None, "rd": {},
                                            "rounds": 0, "usd_raised": None, "secondary_companies": None,
                                            "orgs": 0})
        d["orgs"] += 1
        d["universities"] += r["kind"] == "university"
        d["institutes"] += r["kind"] == "institute"
        if r["org_id"] in staff:
            d["rd_staff"] = (d["rd_staff"] or 0) + int(staff[r["org_id"]][0])
        if r["org_id"] in rd:
            v, ccy = rd[r["org_id"]]
            d["rd"][ccy] = d["rd"].get(ccy, 0.0) + v
        for fr_row in by_org.get(r["org_id"], []):
            d["rounds"] += 1
            if fr_row["amount_usd"] is not None:
                d["usd_raised"] = (d["usd_raised"] or 0.0) + float(fr_row["amount_usd"])
        if (r["kind"] or "company") in ("company", "startup") and r["industry_codes"]:
            sec = any(sector(c) == "secondary" for c in r["industry_codes"])
            d["secondary_companies"] = (d["secondary_companies"] or 0) + int(sec)
    for d in out.values():
        if not has_institutions:
            d["universities"] = d["institutes"] = None
        if not rounds:
            d["rounds"] = None
    return out


def regions_table(store_or_tables, level: str = "city", country: str = "CN",
                  field_source: str = "classification") -> pa.Table:
    """One row per region: hard-tech firms and LQ per field, R&D, funding, institutions, HHI."""
    m = _members(store_or_tables, level, country, field_source)
    lq = _lq_table(m, "firms").to_pylist()
    hhi = {r["region_id"]: r["hhi"] for r in _hhi(m).to_pylist()}
    inputs = _inputs(m)
    rows = []
    for rid in sorted(inputs):
        d = inputs[rid]
        en, zh = m.name(rid)
        row = {"region_id": rid, "region": en, "region_zh": zh, "organizations": d["orgs"]}
        for f in FIELD_IDS:
            hit = next((x for x in lq if x["region_id"] == rid and x["field"] == f), None)
            row[f"n_{f}"] = int(hit["count"]) if hit else 0
            row[f"lq_{f}"] = hit["lq"] if hit else None
        ccys = sorted(d["rd"])
        row["rd_total"] = d["rd"][ccys[0]] if len(ccys) == 1 else None
        row["rd_currency"] = "+".join(map(str, ccys)) if ccys else None  # several: not added up, see rd_by_currency
        row["rd_by_currency"] = json.dumps(d["rd"], sort_keys=True) if ccys else None
        row["funding_usd"] = d["usd_raised"]
        row["rounds"] = d["rounds"]
        row["universities"], row["institutes"] = d["universities"], d["institutes"]
        row["hhi"] = hhi.get(rid)
        rows.append(row)
    table = pa.Table.from_pylist(rows) if rows else pa.table({"region_id": pa.array([], pa.string())})
    return table.replace_schema_metadata({"unresolved": str(m.n_unresolved), "level": m.level,
                                          "country": m.country})


# ------------------------------------------------------------------------------- scorecards


def _user_factors(src, region: dict) -> dict[str, dict]:
    """Factors a user supplies in a `region_factors` table (region, factor, value, unit, source)."""
    t = _get(src, "region_factors") if isinstance(src, Mapping) else None
    out = {}
    for r in _rows(t, ("region", "factor", "value", "unit", "source")):
        if place_key(r.get("region") or "") in {place_key(region["name_en"] or ""), place_key(region["name_zh"] or ""),
                                            place_key(region["region_id"])}:
            out[r["factor"]] = r
    return out


def _card(m: _Members, inputs: dict, region: dict) -> dict:
    d = inputs.get(region["region_id"], {})
    user = _user_factors(m.src, region)
    factors = {}
    for name, spec in load_rules()["factors"].items():
        entry = {"label": spec["label"], "definition": spec["definition"],
                 "higher_is_better": bool(spec.get("higher_is_better", True)), "unit": spec.get("unit") or None}
        if spec.get("user_table"):
            u = user.get(name)
            value = float(u["value"]) if u and u.get("value") is not None else None
            entry["unit"] = (u.get("unit") or None) if u else None
            entry["inputs"] = {"region_factors": {k: u.get(k) for k in ("value", "unit", "source")} if u else None}
        else:
            ins = {k: d.get(k) for k in spec["inputs"]}
            entry["inputs"] = ins
            present = [v for v in ins.values() if v is not None]
            if not present:
                value = None
            elif spec.get("combine") == "first":
                value = ins[spec["inputs"][0]]
            else:
                value = sum(present)
        entry["value"] = value
        entry["status"] = "ok" if value is not None else "no data"
        factors[name] = entry
    return {"region": region, "level": m.level, "organizations": d.get("orgs", 0), "factors": factors}


def _resolve_region(m_src, name: str) -> dict:
    r = resolve_place(name, _get(m_src, "regions"))
    if r is None or r["level"] not in LEVELS:
        raise NotFound(f"region {name!r} is not a known city or province; see the regions list (docs/regions.md)")
    return r


def scorecard(store_or_tables, region: str, country: str = "CN") -> dict:
    """The seeds' ecosystem factors for one region, each with its inputs, or "no data" where there are none."""
    r = _resolve_region(store_or_tables, region)
    m = _members(store_or_tables, r["level"], r.get("country") or country, "industry")
    return _card(m, _inputs(m), r)


def compare(store_or_tables, names: list[str], country: str = "CN") -> dict:
    """Scorecards side by side, and per factor the region that leads (None when no region has data)."""
    if len(names) < 2:
        raise UsageError("compare needs at least two regions")
    regions = [_resolve_region(store_or_tables, n) for n in names]
    cache: dict[str, tuple[_Members, dict]] = {}
    cards = {}
    for n, r in zip(names, regions):
        if r["level"] not in cache:
            m = _members(store_or_tables, r["level"], r.get("country") or country, "industry")
            cache[r["level"]] = (m, _inputs(m))
        cards[n] = _card(*cache[r["level"]], r)
    leaders = {}
    for factor, spec in load_rules()["factors"].items():
        vals = {n: c["factors"][factor]["value"] for n, c in cards.items() if c["factors"][factor]["value"] is not None}
        if not vals:
            leaders[factor] = None
            continue
        best = (max if spec.get("higher_is_better", True) else min)(vals.values())
        top = [n for n, v in vals.items() if v == best]
        leaders[factor] = top[0] if len(top) == 1 else "tie: " + ", ".join(top)
    return {"regions": cards, "leaders": leaders}


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
