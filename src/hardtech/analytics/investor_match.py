"""Investors for one startup, scored in the engine against precomputed investor profiles.

Why: `matching.match_startup` is asked one startup at a time (CLI, API, report). Reading the store
whole for each request cost 15 s at 100,000 organisations; here a request reads the startup's own
rows, the profiles (`investor_profiles.py`: kept in the store, recomputed only when stale) and the
investors table, and ranks investors with one Ibis expression that returns the top k. The score is
`matching.py`'s, component by component (`DEFAULT_WEIGHTS`, `SMOOTH`, the declared thesis, regions,
stages and tickets), and so are the reasons; `tests/test_matching.py` checks every investor's score,
components and reasons against the in-memory version (`matching.match_startup_in_memory`).

Ties are broken by investor id (scores compared to 9 decimals), the same on every engine.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import ibis
import ibis.expr.types as ir
import pandas as pd
import pyarrow as pa

from hardtech.analytics.investor_profiles import (
    PROFILE_RULES,
    Inputs,
    Profiles,
    build_profiles,
    inputs_of,
)

_F = "float64"


@dataclass
class Query:
    """What the request knows about the startup: its tags, places, latest round and existing investors."""

    org_id: str
    city: str | None = None  # as written (reasons quote it)
    country: str | None = None
    place: dict[str, str | None] = field(default_factory=dict)  # city/province/country normalised
    tags: dict[str, float] = field(default_factory=dict)  # field:/code: → weight
    places: dict[str, float] = field(default_factory=dict)  # city:/country: → weight
    stage: str | None = None
    ticket: float = float("nan")  # the round's cheque per investor, USD
    existing: set[str] = field(default_factory=set)


# --------------------------------------------------------------------------- profiles


def profiles_for(store_or_tables, inp: Inputs, exclude_rounds: set[str] | None = None) -> tuple[Profiles, str]:
    """The profiles a request reads, and where they came from: `kept` (fresh in the store), `saved` (stale or
    missing: recomputed and saved), `kept-here` (recomputed for this open store, which cannot be written) or
    `computed` (in-memory tables, or rounds excluded: computed within the request)."""
    from hardtech.store import investor_profiles as kept

    if exclude_rounds or isinstance(store_or_tables, dict):
        return build_profiles(inp, exclude_rounds), "computed"
    store = store_or_tables
    if kept.can_keep(store):
        fp = kept.fingerprint(store, PROFILE_RULES)
        state = kept.stored_state(store)
        if state and state["fingerprint"] == fp:
            p, i = kept.tables(store)
            return Profiles(p, i, float(state["typical_round_size"])), "kept"
        if not getattr(store, "read_only", False):
            started = time.perf_counter()
            prof = build_profiles(inp)
            state = kept.save(store, prof.profiles, prof.items, prof.typical_round_size, fp, started)
            p, i = kept.tables(store)
            return Profiles(p, i, float(state["typical_round_size"])), "saved"
        here = kept.kept_here(store, fp)
        if here is None:
            prof = build_profiles(inp)
            p, i = kept.keep_here(store, prof.profiles, prof.items, prof.typical_round_size, fp)
            here = (p, i, prof.typical_round_size)
        return Profiles(*here), "kept-here"
    # an engine that keeps no store tables (Spark reads): cached for this open store and state of it
    from hardtech.store.engine import state_key

    key = state_key(store)
    held = getattr(store, "_investor_profiles", None)
    if held is not None and held[0] == key:
        return held[1], "kept-here"
    from hardtech.analytics.engine import can_keep

    prof = build_profiles(inp)
    if can_keep(prof.items):
        backend = prof.items._find_backend(use_default=True)
        if getattr(backend, "name", "") == "pyspark":  # as analytics.engine.Kept: register the memtables first
            backend._run_pre_execute_hooks(prof.items)
        prof = Profiles(prof.profiles.cache(), prof.items.cache(), prof.typical_round_size)
    try:
        store._investor_profiles = (key, prof)
    except AttributeError:  # a store object that takes no attributes: recomputed next time
        pass
    return prof, "kept-here"


def profiles_fresh(store) -> bool:
    """Whether `store` keeps investor profiles computed from its current rows (False on engines that keep none)."""
    from hardtech.store import investor_profiles as kept

    if not kept.can_keep(store):
        return False
    state = kept.stored_state(store)
    return bool(state) and state["fingerprint"] == kept.fingerprint(store, PROFILE_RULES)


# --------------------------------------------------------------------------- the startup


def _one(t: ir.Table) -> dict | None:
    rows = t.limit(1).to_pyarrow().to_pylist()
    return rows[0] if rows else None


def query_of(inp: Inputs, org_id: str, typical_round_size: float, exclude_rounds: set[str] | None = None) -> Query:
    """The startup's side of the score; KeyError when it is neither an organisation nor in any round."""
    from hardtech.analytics.matching import _as_list, _norm_place, _org_tags

    orgs, rounds = inp.organizations, inp.funding_rounds
    row = _one(orgs.filter(orgs.org_id == org_id).select("city", "province", "country", "industry_codes"))
    mine = rounds.filter(rounds.org_id == org_id).select("round_id", "date", "stage", "amount_usd", "investor_ids")
    r = mine.to_pyarrow().to_pandas()
    if row is None and not len(r):
        raise KeyError(f"unknown organisation {org_id!r}")
    row = row or {}
    q = Query(org_id=org_id, city=row.get("city"), country=row.get("country"),
              place={k: _norm_place(row.get(k)) for k in ("city", "province", "country")})
    # the startup's tags by the in-memory rule itself (one organisation: no engine round trip is cheaper)
    cls = inp.classifications
    mine_cls = cls.filter((cls.entity_id == org_id) & (cls.entity_type == "organization"))
    mine_cls = mine_cls.select("entity_id", "fields", "classified_at", "model_version").to_pyarrow().to_pandas()
    codes = [row.get("industry_codes")] if row else [None]
    q.tags = _org_tags(pd.DataFrame({"org_id": [org_id], "industry_codes": codes}), mine_cls)[0]
    for key, w in (("city", 0.6), ("country", 0.4)):
        if q.place[key]:
            q.places[f"{key}:{q.place[key]}"] = w
    r = r[~r["round_id"].isin(exclude_rounds or set())]
    if len(r):
        ids = sorted({x for v in r["investor_ids"] for x in _as_list(v)})
        inv = inp.investors
        known = inv.filter(inv.investor_id.isin(ids)).select("investor_id").distinct().to_pyarrow() if ids else None
        q.existing = set(known.column("investor_id").to_pylist()) if known is not None else set()
        r = r.assign(date=pd.to_datetime(r["date"], errors="coerce")).sort_values(["date", "round_id"],
                                                                                   na_position="first")
        last = r.iloc[-1]
        q.stage = last["stage"] if isinstance(last["stage"], str) else None
        amt = pd.to_numeric(pd.Series([last["amount_usd"]]), errors="coerce").iloc[0]
        q.ticket = amt / typical_round_size if amt and amt > 0 else float("nan")
    return q


# --------------------------------------------------------------------------- the score


def wanted_items(q: Query) -> list[dict]:
    """The profile items one request reads, each with the startup's weight and the sum it feeds (`grp`)."""
    from hardtech.analytics.matching import UNINFORMATIVE_STAGES

    rows = [{"item": k, "qw": float(v), "grp": "tag"} for k, v in q.tags.items()]
    rows += [{"item": k, "qw": float(v), "grp": "place"} for k, v in q.places.items()]
    rows += [{"item": f"thesis:{k[6:]}", "qw": 1.0, "grp": "thesis"} for k in q.tags if k.startswith("field:")]
    city, prov, ctry = (q.place.get(k) for k in ("city", "province", "country"))
    rows += [{"item": f"declared_region:{p}", "qw": 1.0, "grp": "near"} for p in sorted({x for x in (city, prov) if x})]
    if ctry:
        rows.append({"item": f"declared_region:{ctry}", "qw": 1.0, "grp": "ctry"})
    if q.stage not in UNINFORMATIVE_STAGES:
        rows += [{"item": f"stage:{q.stage}", "qw": 1.0, "grp": "stage"},
                 {"item": f"declared_stage:{q.stage}", "qw": 1.0, "grp": "dstage"}]
    rows += [{"item": f"co:{e}", "qw": 1.0, "grp": "co"} for e in sorted(q.existing)]
    return rows


_GROUPS = ("tag", "place", "thesis", "near", "ctry", "stage", "dstage", "co")


def scored(inp: Inputs, prof: Profiles, q: Query, weights: dict[str, float]) -> ir.Table:
    """Every investor with its six components and `score` (`matching._components` for one startup): the
    profiles joined once with the sums of the profile items the startup asks about."""
    from hardtech.analytics.matching import SMOOTH, UNINFORMATIVE_STAGES

    t = prof.profiles
    rows = wanted_items(q)
    if rows:
        qi = ibis.memtable(pa.Table.from_pylist(rows, schema=pa.schema(
            [("item", pa.string()), ("qw", pa.float64()), ("grp", pa.string())])))
        items = prof.items
        m = items.filter(items.item.isin(sorted({r["item"] for r in rows}))).join(qi, "item")
        sums = m.group_by("investor_id").aggregate(
            **{f"s_{g}": ibis.cases((m.grp == g, m.qw * m.weight), else_=0.0).sum() for g in _GROUPS})
        t = _lj(t, sums)
        s = {g: t[f"s_{g}"].fill_null(0.0) for g in _GROUPS}
    else:
        s = {g: ibis.literal(0.0) for g in _GROUPS}
    n = t.portfolio.cast(_F)
    # fields: portfolio share, or the declared thesis as a set overlap (cosine), whichever is higher
    ff = sum(v * v for v in q.tags.values())
    nf = sum(1 for k in q.tags if k.startswith("field:"))
    fld = s["tag"] / ((n + SMOOTH) * ff) if ff > 0 else ibis.literal(0.0)
    if nf:
        dn = t.thesis_n.cast(_F)
        fld = ibis.greatest(fld, ibis.cases((dn > 0, s["thesis"] / (nf * dn).sqrt()), else_=0.0))
    # region: portfolio share in the startup's city and country, or the declared regions
    gg = sum(v * v for v in q.places.values())
    reg = s["place"] / ((n + SMOOTH) * gg) if gg > 0 else ibis.literal(0.0)
    if any(q.place.get(k) for k in ("city", "province", "country")):
        reg = ibis.greatest(reg, ibis.cases((s["near"] > 0, 1.0), (s["ctry"] > 0, 0.5), else_=0.0))
    # stage of the round being raised
    if q.stage not in UNINFORMATIVE_STAGES:
        stage = ibis.greatest((s["stage"] / (t.rounds.cast(_F) + SMOOTH)).clip(0.0, 1.0),
                              ibis.cases((s["dstage"] > 0, 1.0), else_=0.0))
    else:
        stage = ibis.literal(0.0)
    # cheque: geometric mean of past cheques against the round's, or inside the declared USD range
    tk = q.ticket
    if tk > 0:
        cnt = t.log_ticket_count.cast(_F)
        mean = t.log_ticket_sum / cnt
        ticket = ibis.cases((cnt > 0, 1.0 / (1.0 + (mean - math.log10(tk)).abs())), else_=0.0)
        lo, hi = t.ticket_lo_usd, t.ticket_hi_usd
        inside = (lo.fill_null(0.0) <= tk) & (hi.isnull() | (hi >= tk)) & ~(lo.isnull() & hi.isnull())
        ticket = ibis.cases((inside, 1.0), else_=ticket)
    else:
        ticket = ibis.literal(0.0)
    # network: rounds shared with the startup's existing investors (co-investment counts are symmetric)
    network = 1.0 - (-(s["co"].clip(lower=0.0)) / 2.0).exp() if q.existing else ibis.literal(0.0)
    activity = (n.clip(lower=0.0) + 1.0).ln() / (ibis.greatest(n.max(), 1.0) + 1.0).ln()
    comps = {"field": fld.clip(0.0, 1.0), "region": reg.clip(0.0, 1.0), "stage": stage, "ticket": ticket,
             "network": network, "activity": activity}
    score = ibis.literal(0.0)
    for k, v in comps.items():
        score = score + weights.get(k, 0.0) * v
    return t.select("investor_id", "name_en", "name_zh", n=n, **{f"c_{k}": v.cast(_F) for k, v in comps.items()},
                    score=score)


def _lj(t: ir.Table, other: ir.Table) -> ir.Table:
    """`t` left-joined with `other` on investor_id, the key once."""
    j = t.left_join(other, "investor_id")
    return j.drop("investor_id_right") if "investor_id_right" in j.columns else j


# --------------------------------------------------------------------------- reasons


def _reasons(q: Query, row: dict, counts: dict[str, int], comp: dict[str, float], weights: dict[str, float]) -> list[str]:
    """`matching._reasons` for one investor, from its profile items (`counts`: item → organisations; the startup
    itself left out)."""
    inv = row["investor_id"]
    mine = inv in q.existing  # the startup is in this investor's portfolio
    n = int(row["n"]) - (1 if mine else 0)
    out = []
    for name in sorted(comp, key=lambda k: -weights.get(k, 0) * comp[k]):
        v = comp[name]
        if v <= 0 or weights.get(name, 0) <= 0:
            continue
        if name == "field":
            hits = []
            for t in sorted(q.tags):
                c = counts.get(t, 0) - (1 if mine and q.tags[t] > 0 else 0) if n else 0
                label = t.split(":", 1)[1] if t.startswith("field:") else t.split(":", 2)[-1]
                if c:
                    hits.append(f"field {label}: {c} of {n} portfolio companies")
                elif t.startswith("field:") and f"thesis:{t[6:]}" in counts:
                    hits.append(f"field {label}: in declared thesis")
            out.extend(hits or [f"field fit {v:.2f}"])
        elif name == "region":
            for key, raw in (("city", q.city), ("country", q.country)):
                p = q.place.get(key)
                if not p:
                    continue
                c = counts.get(f"{key}:{p}", 0) - (1 if mine else 0) if n else 0
                if c:
                    out.append(f"region {raw}: {c} of {n} portfolio companies")
                elif f"declared_region:{p}" in counts:
                    out.append(f"region {raw}: in declared regions")
        elif name == "network":
            out.append(f"co-invested with {len(q.existing)} existing investor(s) of the startup" if q.existing
                       else f"network fit {v:.2f}")
        elif name == "activity":
            out.append(f"active: {n} portfolio companies")
        else:
            out.append(f"{name} fit {v:.2f}")
    if mine:
        out.append("already an investor (follow-on)")
    return out


# --------------------------------------------------------------------------- the request


def match_startup(store_or_tables, org_id: str, top: int = 10, exclude_rounds: set[str] | None = None,
                  weights: dict[str, float] | None = None) -> list[dict]:
    """Investors ranked by fit for `org_id`, each with its score, components and reasons (see the module)."""
    from hardtech.analytics.matching import DEFAULT_WEIGHTS, _name

    w = weights or DEFAULT_WEIGHTS
    inp = inputs_of(store_or_tables)
    prof, _ = profiles_for(store_or_tables, inp, exclude_rounds)
    q = query_of(inp, org_id, prof.typical_round_size, exclude_rounds)
    t = scored(inp, prof, q, w)
    names = ("field", "region", "stage", "ticket", "network", "activity")
    rows = t.order_by([ibis.desc(t.score.round(9)), t.investor_id]).limit(top).to_pyarrow().to_pylist()
    ids = [r["investor_id"] for r in rows]
    wanted = sorted({x["item"] for x in wanted_items(q) if x["grp"] not in ("stage", "dstage", "co")})
    counts: dict[str, dict[str, int]] = {i: {} for i in ids}
    if ids and wanted:
        items = prof.items
        ev = items.filter(items.item.isin(wanted) & items.investor_id.isin(ids)).select("investor_id", "item", "orgs")
        for e in ev.to_pyarrow().to_pylist():
            counts[e["investor_id"]][e["item"]] = int(e["orgs"] or 0)
    out = []
    for r in rows:
        comp = {k: float(r[f"c_{k}"]) for k in names}
        out.append({"investor_id": r["investor_id"], "name": _name(r), "score": round(float(r["score"]), 4),
                    "components": {k: round(v, 4) for k, v in comp.items()},
                    "reasons": _reasons(q, r, counts[r["investor_id"]], comp, w)})
    return out
