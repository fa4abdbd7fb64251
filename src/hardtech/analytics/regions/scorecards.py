"""A region's ecosystem scorecard and comparisons (Xi'an vs Hangzhou): the factors of domain.md §1, as data.

What counts and how each factor is computed are in `data/rules/ecosystem_factors.toml` (docs/regions.md).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pyarrow as pa

from hardtech.analytics.taxonomy import FIELD_IDS, load_taxonomy
from hardtech.errors import NotFound, ParseError, UsageError

from hardtech.analytics.region_places import LEVELS, place_key, resolve_place
from hardtech.analytics.regions.membership import _Members, _get, _latest, _members, _rows, load_rules
from hardtech.analytics.regions.measures import _hhi, _lq_table

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
