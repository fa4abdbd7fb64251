"""Matching technology with capital: which investors fit a startup, which startups fit an investor.

An investor's profile is learnt from what it actually funded (fields, cities, stages, cheque sizes,
co-investors) plus what it declares (thesis fields, stages, regions, ticket range). Every score is a
weighted sum of components in [0, 1] so a ranking can always be explained by its parts, and the
weights are a plain dict the caller may replace.

Everything is computed as matrix products over (organisation × investor) so the hold-out evaluation
can remove each startup's own links "leave one company out" for all startups at once: a profile
minus the held-out company's contribution is a subtraction, not a recomputation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

from hardtech.errors import UsageError

# Default weights of the score components (they need not sum to 1: only the ranking matters). Relevance
# (field, region) counts most; activity was raised from 0.15 to 0.25 and SMOOTH from 1 to 5 after the
# unicorn hold-out showed small investors with one matching deal crowding out active ones (see
# docs/matching.md: those numbers were therefore measured on the data the two settings were chosen on).
DEFAULT_WEIGHTS: dict[str, float] = {
    "field": 0.30,     # share of the investor's portfolio in the startup's fields/industries (or declared thesis)
    "region": 0.20,    # share of the portfolio in the startup's city / country (or declared regions)
    "stage": 0.10,     # share of the investor's rounds at the stage being raised (or declared stages)
    "ticket": 0.10,    # closeness of typical cheque to the round's cheque, in orders of magnitude
    "network": 0.15,   # co-investments with the startup's existing investors
    "activity": 0.25,  # log number of portfolio companies: active investors are likelier to reply
}
SMOOTH = 5.0  # added to portfolio sizes so one lucky deal does not make a perfect specialist
UNINFORMATIVE_STAGES = {None, "", "unknown", "cumulative"}


# --------------------------------------------------------------------------- loading


def _tables(store_or_tables) -> dict[str, pd.DataFrame]:
    """A store (any engine) or a dict of DataFrames or Ibis tables → the four DataFrames matching needs."""
    cols = {
        "organizations": ("org_id", "kind", "name_en", "name_zh", "city", "province", "country", "industry_codes"),
        "funding_rounds": ("round_id", "org_id", "date", "stage", "amount_usd", "investors", "investor_ids"),
        "investors": ("investor_id", "name_en", "name_zh", "thesis_fields", "stages", "regions", "ticket_min",
                      "ticket_max", "currency"),
        "classifications": ("entity_id", "fields", "top_field", "classified_at", "model_version"),
    }
    if isinstance(store_or_tables, dict):
        t = {k: v.copy() if isinstance(v, pd.DataFrame) else v.to_pandas() for k, v in store_or_tables.items()}
    else:  # Ibis, not the engine's SQL: the same read on DuckDB and Spark
        t = {}
        for name, keep in cols.items():
            tbl = store_or_tables.table(name)
            if name == "classifications":
                tbl = tbl.filter(tbl.entity_type == "organization")
            t[name] = tbl.select(*keep).to_pandas()
    for name in ("organizations", "funding_rounds", "investors", "classifications"):
        t.setdefault(name, pd.DataFrame())
    return t


def _as_list(v) -> list:
    if v is None or (pd.api.types.is_scalar(v) and pd.isna(v)):
        return []
    if isinstance(v, str):
        return [s for s in v.split("|") if s]
    return [x for x in v if x is not None and not (isinstance(x, float) and math.isnan(x))]


def _org_tags(orgs: pd.DataFrame, cls: pd.DataFrame) -> list[dict[str, float]]:
    """Per organisation: `field:<id>` weights (latest classification, else taxonomy of its codes) and
    `code:<scheme:code>` tags, each group normalised to sum 1 so neither dominates by count."""
    latest: dict[str, list[str]] = {}
    if len(cls):
        c = cls.sort_values([x for x in ("classified_at", "model_version") if x in cls.columns])
        for eid, fields in zip(c["entity_id"], c["fields"]):
            latest[eid] = _as_list(fields)
    from hardtech.analytics.taxonomy import load_taxonomy

    tax = load_taxonomy()
    cache: dict[tuple, dict[str, float]] = {}
    out = []
    for oid, codes in zip(orgs["org_id"], orgs.get("industry_codes", pd.Series([None] * len(orgs)))):
        codes = tuple(sorted(str(x).strip().lower() for x in _as_list(codes)))
        if latest.get(oid):
            fs = {f: 1.0 for f in latest[oid]}
        else:
            if codes not in cache:
                try:
                    cache[codes] = tax.field_scores(codes)
                except UsageError:  # a code of an unknown scheme: no field from it
                    cache[codes] = {}
            fs = cache[codes]
        tags: dict[str, float] = {}
        groups = [({f"field:{k}": v for k, v in fs.items()}), ({f"code:{c}": 1.0 for c in codes})]
        groups = [g for g in groups if g]
        for g in groups:
            s = sum(g.values())
            for k, v in g.items():
                tags[k] = tags.get(k, 0.0) + v / s / len(groups)
        out.append(tags)
    return out


def _norm_place(v) -> str | None:
    return str(v).strip().lower() if isinstance(v, str) and v.strip() else None


@dataclass
class _Model:
    orgs: pd.DataFrame
    inv: pd.DataFrame
    rounds: pd.DataFrame  # one row per round with `_o` (org index) and `_ids` (investor indices)
    org_ix: dict[str, int]
    inv_ix: dict[str, int]
    F: sparse.csr_matrix  # org × tag weights
    tag_names: list[str]
    G: sparse.csr_matrix  # org × place tokens (city 0.6, country 0.4)
    place_names: list[str]
    stages: list[str]
    declared_fields: list[set]
    declared_stages: list[set]
    declared_regions: list[set]
    declared_ticket: np.ndarray  # I × 2 (USD) or nan
    typical_round_size: float


def _build(tables: dict[str, pd.DataFrame]) -> _Model:
    orgs = tables["organizations"].drop_duplicates("org_id").reset_index(drop=True)
    rounds = tables["funding_rounds"]
    known = set(orgs["org_id"])
    missing = sorted(set(rounds["org_id"]) - known) if len(rounds) else []
    if missing:  # rounds of organisations not in the table still count as portfolio, without features
        orgs = pd.concat([orgs, pd.DataFrame({"org_id": missing})], ignore_index=True)
    inv = tables["investors"].drop_duplicates("investor_id").reset_index(drop=True)
    org_ix = {o: i for i, o in enumerate(orgs["org_id"])}
    inv_ix = {o: i for i, o in enumerate(inv["investor_id"])}
    r = rounds.copy()
    r["_o"] = r["org_id"].map(org_ix)
    r["_ids"] = [sorted({inv_ix[x] for x in _as_list(ids) if x in inv_ix}) for ids in r["investor_ids"]]
    r["_n"] = [max(len(_as_list(n)), len(i)) for n, i in zip(r["investors"], r["_ids"])]
    r["date"] = pd.to_datetime(r["date"], errors="coerce")
    r = r.sort_values(["_o", "date", "round_id"], na_position="first").reset_index(drop=True)

    tags = _org_tags(orgs, tables["classifications"])
    tag_names = sorted({k for t in tags for k in t})
    F = _sparse_rows(tags, {k: i for i, k in enumerate(tag_names)})
    places = []
    for c, p, k in zip(orgs.get("city", [None] * len(orgs)), orgs.get("province", [None] * len(orgs)),
                       orgs.get("country", [None] * len(orgs))):
        d = {}
        if _norm_place(c):
            d["city:" + _norm_place(c)] = 0.6
        if _norm_place(k):
            d["country:" + _norm_place(k)] = 0.4
        places.append(d)
    place_names = sorted({k for d in places for k in d})
    G = _sparse_rows(places, {k: i for i, k in enumerate(place_names)})
    stages = sorted({s for s in r["stage"].dropna()} | {"unknown"})
    usd = inv.get("currency", pd.Series([None] * len(inv))).fillna("USD").str.upper() == "USD"
    tick = np.full((len(inv), 2), np.nan)
    for j, col in enumerate(("ticket_min", "ticket_max")):
        if col in inv:
            tick[:, j] = np.where(usd, pd.to_numeric(inv[col], errors="coerce"), np.nan)
    sizes = [n for n in r["_n"] if n > 0]
    return _Model(
        orgs=orgs, inv=inv, rounds=r, org_ix=org_ix, inv_ix=inv_ix, F=F, tag_names=tag_names, G=G,
        place_names=place_names, stages=stages,
        declared_fields=[set(_as_list(x)) for x in inv.get("thesis_fields", [None] * len(inv))],
        declared_stages=[set(_as_list(x)) for x in inv.get("stages", [None] * len(inv))],
        declared_regions=[{str(v).strip().lower() for v in _as_list(x)} for x in inv.get("regions", [None] * len(inv))],
        declared_ticket=tick, typical_round_size=float(np.median(sizes)) if sizes else 1.0,
    )


def _sparse_rows(rows: list[dict[str, float]], ix: dict[str, int]) -> sparse.csr_matrix:
    data, ri, ci = [], [], []
    for n, d in enumerate(rows):
        for k, v in d.items():
            ri.append(n)
            ci.append(ix[k])
            data.append(v)
    return sparse.csr_matrix((data, (ri, ci)), shape=(len(rows), max(len(ix), 1)))


# --------------------------------------------------------------------------- history matrices


@dataclass
class _History:
    """Counts from the visible rounds: who funded whom, at what stage, with whom, at what cheque."""

    A: sparse.csr_matrix      # org × investor, 1 when linked by any visible round
    n: np.ndarray             # portfolio companies per investor
    P: np.ndarray             # investor × tag sums over portfolio
    PG: np.ndarray            # investor × place sums over portfolio
    SC: np.ndarray            # investor × stage round counts
    nr: np.ndarray            # rounds per investor
    lt_sum: np.ndarray        # sum of log10 cheque per investor
    lt_cnt: np.ndarray        # rounds with a cheque per investor
    C: sparse.csr_matrix      # investor × investor co-investment round counts (zero diagonal)


def _round_matrix(m: _Model, rows: pd.DataFrame) -> sparse.csr_matrix:
    """round × investor incidence."""
    ri = [k for k, ids in enumerate(rows["_ids"]) for _ in ids]
    ci = [i for ids in rows["_ids"] for i in ids]
    return sparse.csr_matrix((np.ones(len(ri)), (ri, ci)), shape=(len(rows), len(m.inv)))


def _history(m: _Model, visible: pd.DataFrame) -> _History:
    R = _round_matrix(m, visible)
    O = sparse.csr_matrix((np.ones(len(visible)), (visible["_o"].to_numpy(), np.arange(len(visible)))),
                          shape=(len(m.orgs), len(visible)))
    A = (O @ R).tocsr()
    A.data[:] = 1.0
    st = visible["stage"].fillna("unknown").map({s: k for k, s in enumerate(m.stages)}).to_numpy()
    S = sparse.csr_matrix((np.ones(len(visible)), (np.arange(len(visible)), st)), shape=(len(visible), len(m.stages)))
    tick = _round_ticket(visible)
    ok = ~np.isnan(tick)
    RT = R.T.tocsr()
    C = (RT @ R).tolil()
    C.setdiag(0)
    return _History(
        A=A, n=np.asarray(A.sum(0)).ravel(), P=np.asarray((A.T @ m.F).todense()),
        PG=np.asarray((A.T @ m.G).todense()), SC=np.asarray((RT @ S).todense()),
        nr=np.asarray(R.sum(0)).ravel(), lt_sum=RT @ np.where(ok, np.log10(np.where(ok, tick, 1.0)), 0.0),
        lt_cnt=RT @ ok.astype(float), C=C.tocsr(),
    )


def _round_ticket(rows: pd.DataFrame) -> np.ndarray:
    amt = pd.to_numeric(rows["amount_usd"], errors="coerce").to_numpy(dtype=float)
    n = rows["_n"].to_numpy(dtype=float)
    return np.where((amt > 0) & (n > 0), amt / np.maximum(n, 1), np.nan)


# --------------------------------------------------------------------------- scoring


def _components(m: _Model, h: _History, q_org: np.ndarray, q_stage: list, q_ticket: np.ndarray,
                E: sparse.csr_matrix, D: sparse.csr_matrix | None = None, H: sparse.csr_matrix | None = None,
                held_ticket: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Component scores (query × investor), each in [0, 1].

    `E` marks each query's existing investors (for the network). `D` marks links to remove from the
    history for that query only (leave-one-company-out) and `H` the investors of a held-out round
    (their stage/cheque/co-investment counts from that round are removed too).
    """
    nq, ni = len(q_org), len(m.inv)
    D = D if D is not None else sparse.csr_matrix((nq, ni))
    H = H if H is not None else sparse.csr_matrix((nq, ni))
    Dd, Hd = D.toarray(), H.toarray()
    Fq, Gq = m.F[q_org], m.G[q_org]
    n = h.n[None, :] - Dd
    # fields: portfolio share, minus the query's own contribution where its links are held out
    ff = np.asarray(Fq.multiply(Fq).sum(1)).ravel()
    ov = np.asarray(Fq @ h.P.T) - Dd * ff[:, None]
    field = np.where(ff[:, None] > 0, ov / ((n + SMOOTH) * np.where(ff > 0, ff, 1)[:, None]), 0.0)
    fq_fields = [[t[6:] for t in (m.tag_names[j] for j in Fq[k].indices) if t.startswith("field:")] for k in range(nq)]
    for k, fl in enumerate(fq_fields):
        if fl:
            # the declared thesis as a set overlap (cosine / Ochiai): covering the startup's fields counts, and so
            # does focus, as the portfolio share does for the learnt profile; a thesis naming all eight fields
            # fits every startup, so it fits none especially
            dec = np.array([len(set(fl) & d) / math.sqrt(len(fl) * len(d)) if d else 0.0 for d in m.declared_fields])
            field[k] = np.maximum(field[k], dec)
    gg = np.asarray(Gq.multiply(Gq).sum(1)).ravel()
    ovg = np.asarray(Gq @ h.PG.T) - Dd * gg[:, None]
    region = np.where(gg[:, None] > 0, ovg / ((n + SMOOTH) * np.where(gg > 0, gg, 1)[:, None]), 0.0)
    for k, o in enumerate(q_org):
        row = m.orgs.iloc[o]
        city, prov, ctry = (_norm_place(row.get(c)) for c in ("city", "province", "country"))
        if city or prov or ctry:
            dec = np.array([1.0 if (city in d or prov in d) and (city or prov) else 0.5 if ctry in d else 0.0
                            for d in m.declared_regions])
            region[k] = np.maximum(region[k], dec)
    # stage of the round being raised
    stage = np.zeros((nq, ni))
    for k, s in enumerate(q_stage):
        if s in UNINFORMATIVE_STAGES or s not in m.stages:
            continue
        c = h.SC[:, m.stages.index(s)][None, :] - Hd[k]
        stage[k] = np.clip(c / (h.nr - Hd[k] + SMOOTH), 0, 1)
        stage[k] = np.maximum(stage[k], [1.0 if s in d else 0.0 for d in m.declared_stages])
    # cheque size: geometric mean of past cheques vs the round's cheque per investor
    ticket = np.zeros((nq, ni))
    for k, t in enumerate(q_ticket):
        if not t > 0:
            continue
        lt = math.log10(t)
        ht = held_ticket[k] if held_ticket is not None and held_ticket[k] > 0 else None
        cnt = h.lt_cnt - (Hd[k] if ht else 0)
        less = Hd[k] * math.log10(ht) if ht else 0
        mean = np.where(cnt > 0, (h.lt_sum - less) / np.where(cnt > 0, cnt, 1), np.nan)
        ticket[k] = np.where(np.isnan(mean), 0.0, 1.0 / (1.0 + np.abs(np.nan_to_num(mean) - lt)))
        lo, hi = m.declared_ticket[:, 0], m.declared_ticket[:, 1]
        inside = (np.nan_to_num(lo, nan=0) <= t) & (t <= np.nan_to_num(hi, nan=np.inf)) & ~(np.isnan(lo) & np.isnan(hi))
        ticket[k] = np.where(inside, 1.0, ticket[k])
    # network: co-investments with existing investors, minus those made in the held-out round itself
    co = np.asarray((E @ h.C).todense()) if E.nnz else np.zeros((nq, ni))
    if E.nnz and H.nnz:
        shared_held = np.asarray(E.multiply(H).sum(1)).ravel()
        co = co - Hd * shared_held[:, None]
    network = 1.0 - np.exp(-np.clip(co, 0, None) / 2.0)
    activity = np.log1p(np.clip(n, 0, None)) / math.log1p(max(h.n.max() if len(h.n) else 1, 1))
    return {"field": np.clip(field, 0, 1), "region": np.clip(region, 0, 1), "stage": stage, "ticket": ticket,
            "network": network, "activity": activity}


def _total(comp: dict[str, np.ndarray], weights: dict[str, float]) -> np.ndarray:
    return sum(weights.get(k, 0.0) * v for k, v in comp.items())


def _reasons(m: _Model, h: _History, o: int, i: int, comp: dict[str, float], weights: dict[str, float],
             existing: set[int]) -> list[str]:
    """Readable reasons for one (startup, investor) pair, strongest component first."""
    out = []
    col = h.A[:, i].toarray().ravel()
    col[o] = 0
    port = np.flatnonzero(col)
    n = len(port)
    for name in sorted(comp, key=lambda k: -weights.get(k, 0) * comp[k]):
        v = comp[name]
        if v <= 0 or weights.get(name, 0) <= 0:
            continue
        if name == "field":
            tags = [m.tag_names[j] for j in m.F[o].indices]
            hits = []
            for t in tags:
                j = m.tag_names.index(t)
                c = int((m.F[port, j].toarray().ravel() > 0).sum()) if n else 0
                label = t.split(":", 1)[1] if t.startswith("field:") else t.split(":", 2)[-1]
                if c:
                    hits.append(f"field {label}: {c} of {n} portfolio companies")
                elif t.startswith("field:") and t[6:] in m.declared_fields[i]:
                    hits.append(f"field {label}: in declared thesis")
            out.extend(hits or [f"field fit {v:.2f}"])
        elif name == "region":
            row = m.orgs.iloc[o]
            for key, w in (("city", "city"), ("country", "country")):
                p = _norm_place(row.get(key))
                if not p:
                    continue
                tok = f"{key}:{p}"
                c = 0
                if tok in m.place_names and n:
                    c = int((m.G[port, m.place_names.index(tok)].toarray().ravel() > 0).sum())
                if c:
                    out.append(f"region {row.get(key)}: {c} of {n} portfolio companies")
                elif p in m.declared_regions[i]:
                    out.append(f"region {row.get(key)}: in declared regions")
        elif name == "network":
            out.append(f"co-invested with {len(existing)} existing investor(s) of the startup" if existing
                       else f"network fit {v:.2f}")
        elif name == "activity":
            out.append(f"active: {n} portfolio companies")
        else:
            out.append(f"{name} fit {v:.2f}")
    if i in existing:
        out.append("already an investor (follow-on)")
    return out


def _name(row) -> str:
    for c in ("name_en", "name_zh"):
        v = row.get(c)
        if isinstance(v, str) and v:
            return v
    return str(row.get("investor_id", row.get("org_id")))


def _query_round(m: _Model, o: int, visible: pd.DataFrame) -> tuple[str | None, float]:
    """Stage and per-investor cheque of the startup's latest visible round: what it raises next."""
    rr = visible[visible["_o"] == o]
    if not len(rr):
        return None, float("nan")
    last = rr.iloc[-1]
    amt = pd.to_numeric(pd.Series([last["amount_usd"]]), errors="coerce").iloc[0]
    return last["stage"], (amt / m.typical_round_size) if amt and amt > 0 else float("nan")


# --------------------------------------------------------------------------- public API


def investor_profiles(store_or_tables) -> pd.DataFrame:
    """One row per investor: what its history and its declaration say it funds."""
    m = _build(_tables(store_or_tables))
    h = _history(m, m.rounds)
    rows = []
    tick = _round_ticket(m.rounds)
    per_inv: dict[int, list[float]] = {}
    for t, ids in zip(tick, m.rounds["_ids"]):
        if not math.isnan(t):
            for i in ids:
                per_inv.setdefault(i, []).append(t)
    for i, r in m.inv.iterrows():
        port = np.flatnonzero(h.A[:, i].toarray().ravel())
        fields = {t[6:] for j in port for t in (m.tag_names[x] for x in m.F[j].indices) if t.startswith("field:")}
        co = h.C[i]
        rows.append({
            "investor_id": r["investor_id"], "name": _name(r), "portfolio": len(port),
            "rounds": int(h.nr[i]),
            "fields": sorted(fields | m.declared_fields[i]),
            "stages": sorted({m.stages[k] for k in np.flatnonzero(h.SC[i])} | m.declared_stages[i]),
            "regions": sorted({str(v) for j in port for v in (m.orgs.iloc[j].get("city"), m.orgs.iloc[j].get("country"))
                               if isinstance(v, str) and v} | set(_as_list(r.get("regions")))),
            "ticket_usd": float(np.median(per_inv[i])) if i in per_inv else float("nan"),
            "co_investors": [m.inv.iloc[j]["investor_id"] for j in co.indices[np.argsort(-co.data)]],
        })
    return pd.DataFrame(rows)


def match_startup(store_or_tables, org_id: str, top: int = 10, exclude_rounds: set[str] | None = None,
                  weights: dict[str, float] | None = None) -> list[dict]:
    """Investors ranked by fit for `org_id`, each with its score, components and reasons.

    Scored in the engine against investor profiles computed once and kept in the store
    (`investor_match.py`); the same answer as `match_startup_in_memory`, ties broken by investor id.
    """
    from hardtech.analytics.investor_match import match_startup as in_engine

    return in_engine(store_or_tables, org_id, top=top, exclude_rounds=exclude_rounds, weights=weights)


def match_startup_in_memory(store_or_tables, org_id: str, top: int = 10, exclude_rounds: set[str] | None = None,
                            weights: dict[str, float] | None = None) -> list[dict]:
    """The same ranking from the four tables loaded whole and the (organisation × investor) matrices.

    The reference the engine version is checked against (tests) and measured against (benchmarks/
    bench_matching.py): it reads every organisation into Python, so it does not scale past a few
    hundred thousand.
    """
    w = weights or DEFAULT_WEIGHTS
    m = _build(_tables(store_or_tables))
    if org_id not in m.org_ix:
        raise KeyError(f"unknown organisation {org_id!r}")
    visible = m.rounds[~m.rounds["round_id"].isin(exclude_rounds or set())]
    h = _history(m, visible)
    o = m.org_ix[org_id]
    stage, tick = _query_round(m, o, visible)
    E = h.A[o]
    comp = _components(m, h, np.array([o]), [stage], np.array([tick]), E)
    score = _total(comp, w)[0]
    existing = set(E.indices)
    order = np.argsort(-score, kind="stable")[:top]
    return [{"investor_id": m.inv.iloc[i]["investor_id"], "name": _name(m.inv.iloc[i]), "score": round(float(score[i]), 4),
             "components": {k: round(float(v[0, i]), 4) for k, v in comp.items()},
             "reasons": _reasons(m, h, o, i, {k: float(v[0, i]) for k, v in comp.items()}, w, existing)}
            for i in order]


def match_investor(store_or_tables, investor_id: str, top: int = 10, weights: dict[str, float] | None = None,
                   include_portfolio: bool = False) -> list[dict]:
    """Startups ranked by fit for `investor_id` (its current portfolio left out unless asked)."""
    w = weights or DEFAULT_WEIGHTS
    m = _build(_tables(store_or_tables))
    if investor_id not in m.inv_ix:
        raise KeyError(f"unknown investor {investor_id!r}")
    i = m.inv_ix[investor_id]
    h = _history(m, m.rounds)
    kinds = m.orgs.get("kind", pd.Series([None] * len(m.orgs)))
    cand = np.flatnonzero(kinds.isin(["startup", "company"]).to_numpy() | kinds.isna().to_numpy())
    if not include_portfolio:
        cand = cand[h.A[cand, i].toarray().ravel() == 0]
    if not len(cand):
        return []
    q = [_query_round(m, o, m.rounds) for o in cand]
    E = h.A[cand]
    comp = _components(m, h, cand, [s for s, _ in q], np.array([t for _, t in q]), E)
    score = _total(comp, w)[:, i]
    order = np.argsort(-score, kind="stable")[:top]
    out = []
    for k in order:
        o = cand[k]
        c = {n: float(v[k, i]) for n, v in comp.items()}
        out.append({"org_id": m.orgs.iloc[o]["org_id"], "name": _name(m.orgs.iloc[o]), "score": round(float(score[k]), 4),
                    "components": {n: round(v, 4) for n, v in c.items()},
                    "reasons": _reasons(m, h, o, i, c, w, set(E[k].indices))})
    return out


def evaluate_holdout(store_or_tables, k: int = 10, min_rounds: int = 1, weights: dict[str, float] | None = None,
                     batch: int = 256) -> dict:
    """Hide each startup's last round (its investor links, stage and cheque counts) from the history, rank
    investors with what is left, and count how often an actual investor of that round is in the top k.

    The popularity baseline ranks investors by portfolio size computed without the held-out links, so
    both rankings see exactly the same data.
    """
    w = weights or DEFAULT_WEIGHTS
    m = _build(_tables(store_or_tables))
    r = m.rounds
    nrounds = r.groupby("_o").size()
    last = r.groupby("_o").tail(1)
    last = last[(last["_o"].map(nrounds) >= min_rounds) & (last["_ids"].map(len) > 0)]
    h = _history(m, r)
    ni = len(m.inv)
    held = _round_matrix(m, last).tocsr()  # query × investor: the held-out round's investors
    q_org = last["_o"].to_numpy()
    # links that exist only through the held-out round
    others = r.drop(index=last.index)
    A_minus = _history_links(m, others)[q_org]
    D = (h.A[q_org] - A_minus).tocsr()
    D.data = np.clip(D.data, 0, 1)
    D.eliminate_zeros()
    held_tick = _round_ticket(last)
    tick = held_tick * last["_n"].to_numpy() / m.typical_round_size
    stages = list(last["stage"])
    hits = base_hits = 0
    rec = base_rec = 0.0
    for s in range(0, len(q_org), batch):
        sl = slice(s, s + batch)
        comp = _components(m, h, q_org[sl], stages[sl], tick[sl], A_minus[sl], D[sl], held[sl], held_tick[sl])
        score = _total(comp, w)
        pop = h.n[None, :] - D[sl].toarray()
        truth = held[sl].toarray() > 0
        for sc, name in ((score, "model"), (pop + np.arange(ni)[None, :] * -1e-9, "base")):
            top = np.argpartition(-sc, min(k, ni - 1), axis=1)[:, :k]
            got = np.take_along_axis(truth, top, axis=1).sum(1)
            hit, r_ = float((got > 0).sum()), float((got / truth.sum(1)).sum())
            if name == "model":
                hits, rec = hits + hit, rec + r_
            else:
                base_hits, base_rec = base_hits + hit, base_rec + r_
    n = len(q_org)
    return {"n": n, "k": k, "investors": ni,
            f"hit@{k}": hits / n if n else float("nan"), f"recall@{k}": rec / n if n else float("nan"),
            f"baseline_hit@{k}": base_hits / n if n else float("nan"),
            f"baseline_recall@{k}": base_rec / n if n else float("nan")}


def _history_links(m: _Model, rows: pd.DataFrame) -> sparse.csr_matrix:
    R = _round_matrix(m, rows)
    O = sparse.csr_matrix((np.ones(len(rows)), (rows["_o"].to_numpy(), np.arange(len(rows)))),
                          shape=(len(m.orgs), len(rows)))
    A = (O @ R).tocsr()
    A.data[:] = 1.0
    return A
