"""Capital-flow and regional analytics benchmark on a synthetic universe, against plain pandas.

    python benchmarks/bench_analytics.py [--orgs 1000000] [--json out.json]

Builds a DuckDB store from `hardtech.tools.synthetic` (every row flagged synthetic): N
organisations and their funding rounds (~3 rounds per organisation). Fields need
classifications, and running the classifier over a million texts is another benchmark
(bench_classify.py), so a `classifications` table is written straight from the generator's hidden
themes (`synthetic.truth`) with model_version 'synthetic-truth': the theme is the one field (none
for `model_innovation`, whose typology is set instead). Then, in one spawned child (so its peak
memory is its own), times:

- `flows(by="region", metric="amount")`, `flows(by="stage", metric="count")`, `flows(by="field")`
  (amounts converted to USD at the rate on or before each round's date);
- `location_quotients(level="city", field_source="classification")` and `herfindahl(...)`;

and the same numbers in plain pandas on DataFrames read from the store (timed both without and
with that loading). The pandas FX step looks up one rate per distinct (currency, date) pair — a
few thousand — through the same FX table, then maps it onto the rounds; city names are resolved
once per distinct name. Results are compared: sums, counts, LQ and HHI within 1e-9 (relative).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import tempfile
import time
from pathlib import Path

from common import call_in_child, in_child, load_synthetic, load_truth_classifications, peak_mb

TARGET_S = 15.0
TOL = 1e-9


def build_store(db: Path, orgs: int, seed: int = 0) -> dict:
    from hardtech.tools.synthetic import SynthConfig, generate, truth
    from hardtech.store.connection import Store

    cfg = SynthConfig(orgs=orgs, seed=seed)
    t = time.perf_counter()
    tables = generate(cfg)
    gen = time.perf_counter() - t
    t = time.perf_counter()
    with Store(db) as store:
        load_synthetic(store, tables, ("organizations", "funding_rounds", "investors"), seed)
        load_truth_classifications(store, truth(cfg))
        counts = {n: store.count(n) for n in ("organizations", "funding_rounds", "classifications")}
    del tables
    return {"generate_s": round(gen, 1), "load_s": round(time.perf_counter() - t, 1), **counts}


# ------------------------------------------------------------------------------- plain pandas


def _pandas_load(store) -> dict:
    q = store.con.execute
    return {
        "rounds": q("SELECT round_id, org_id, date, stage, amount, currency FROM funding_rounds").df(),
        "orgs": q("SELECT org_id, kind, country, province, city FROM organizations").df(),
        "cls": q("SELECT entity_id AS org_id, top_field, fields, classified_at, model_version FROM classifications "
                 "WHERE entity_type = 'organization'").df(),
    }


def _pandas_compute(d: dict, fx) -> dict:
    import numpy as np
    import pandas as pd

    from hardtech.analytics.regions import resolve_place

    r = d["rounds"]
    r = r[r["date"].notna()].copy()
    r["date"] = pd.to_datetime(r["date"])
    r["period"] = r["date"].dt.year.astype(str)
    ok = r["amount"].notna() & r["currency"].notna()
    rate = pd.Series(np.where(r["currency"] == "USD", 1.0, np.nan), index=r.index)
    for c in r.loc[ok & (r["currency"] != "USD"), "currency"].unique():
        m = ok & (r["currency"] == c)
        days = pd.Series(r.loc[m, "date"].unique())
        vals, _, _ = fx.convert_series(np.ones(len(days)), c, "USD", days, policy="on_or_before", errors="nan")
        rate[m] = r.loc[m, "date"].map(pd.Series(vals, index=days))
    r["conv"] = np.where(ok, r["amount"] * rate, np.nan)

    o = d["orgs"]
    place = o["city"].where(o["city"].fillna("").str.strip() != "",
                            o["province"].where(o["province"].fillna("").str.strip() != "", o["country"]))
    place = place.where(place.fillna("").str.strip() != "", "unknown")
    r["region"] = r["org_id"].map(pd.Series(place.to_numpy(), index=o["org_id"])).fillna("unknown")
    region_amt = r.groupby(["period", "region"])["conv"].sum(min_count=1)

    stage_n = r.assign(stage=r["stage"].fillna("unknown")).groupby(["period", "stage"]).size()

    c = d["cls"].sort_values(["classified_at", "model_version"], ascending=False).drop_duplicates("org_id")
    fields = c.set_index("org_id")["fields"].map(lambda f: list(f) if f is not None and len(f) else ["none"])
    lab = r["org_id"].map(fields)
    lab = lab.where(lab.notna(), pd.Series([["unclassified"]] * len(r), index=r.index))
    ex = r[["period", "conv"]].assign(field=lab).explode("field")
    field_amt = ex.groupby(["period", "field"])["conv"].sum(min_count=1)

    # regions: firms of CN resolved to cities, one field each (latest top_field)
    top = c[c["top_field"].notna()].set_index("org_id")["top_field"]
    cities = {}
    for name in o["city"].dropna().unique():
        hit = resolve_place(name, level="city")
        cities[name] = hit if hit and hit["level"] == "city" else None
    rid = o["city"].map(lambda x: cities[x]["region_id"] if isinstance(x, str) and cities.get(x) else None)
    rctry = o["city"].map(lambda x: cities[x]["country"] if isinstance(x, str) and cities.get(x) else None)
    ctry = o["country"].where(o["country"].fillna("") != "", rctry).fillna("").str.upper()
    firm = o["kind"].fillna("company").isin(["company", "startup"]) & (ctry == "CN")
    f = pd.DataFrame({"region_id": rid[firm].to_numpy(), "field": o.loc[firm, "org_id"].map(top).to_numpy()})
    national = float(len(f))
    nat = f[f["field"].notna()].groupby("field").size()
    reg = f[f["region_id"].notna()].groupby("region_id").size()
    cell = f.dropna().groupby(["region_id", "field"]).size().rename("count").reset_index()
    cell["lq"] = (cell["count"] / cell["region_id"].map(reg)) / (cell["field"].map(nat) / national)
    share = cell["count"] / cell.groupby("region_id")["count"].transform("sum")
    hhi = (share * share).groupby(cell["region_id"]).sum()
    return {"region_amt": region_amt, "stage_n": stage_n, "field_amt": field_amt,
            "lq": cell.set_index(["region_id", "field"])["lq"], "hhi": hhi}


# ------------------------------------------------------------------------------- agreement


def _close(a, b) -> bool:
    if a is None or b is None or (isinstance(a, float) and math.isnan(a)) or (isinstance(b, float) and math.isnan(b)):
        return (a is None or a != a) and (b is None or b != b)
    return abs(a - b) <= TOL * max(1.0, abs(a), abs(b))


def _agree(ours: dict, theirs: dict) -> dict:
    """Share of keys present in both with equal values, and keys only one side has."""
    out = {}
    for name, (mine, key_cols, val) in ours.items():
        pd_ser = theirs[name]
        a = {tuple(row[k] for k in key_cols): row[val] for row in mine.to_pylist()}
        b = {(k if isinstance(k, tuple) else (k,)): (None if v != v else float(v)) for k, v in pd_ser.items()}
        common = a.keys() & b.keys()
        bad = [k for k in common if not _close(a[k], b[k])]
        out[name] = {"compared": len(common), "mismatched": len(bad), "only_ours": len(a.keys() - b.keys()),
                     "only_pandas": len(b.keys() - a.keys()), "example": [str(k) for k in bad[:3]]}
    return out


def measure(db: str, q) -> None:
    from hardtech.analytics.flows import flows
    from hardtech.analytics.regions import herfindahl, location_quotients
    from hardtech.sources.fx import load_fx
    from hardtech.store.connection import Store

    out: dict = {"ours": {}}
    fx = load_fx()
    with Store(db, read_only=True) as store:
        res = {}
        for label, fn in (
            ("flows_region_amount", lambda: flows(store, by="region", metric="amount", fx=fx)),
            ("flows_stage_count", lambda: flows(store, by="stage", metric="count", fx=fx)),
            ("flows_field_amount", lambda: flows(store, by="field", fx=fx)),
            ("location_quotients", lambda: location_quotients(store, level="city", field_source="classification")),
            ("herfindahl", lambda: herfindahl(store, level="city", field_source="classification")),
        ):
            t = time.perf_counter()
            res[label] = fn()
            out["ours"][label] = time.perf_counter() - t
            out.setdefault("rows", {})[label] = res[label].num_rows
        out["peak_after_ours_mb"] = peak_mb()
        t = time.perf_counter()
        data = _pandas_load(store)
        out["pandas_load_s"] = time.perf_counter() - t
    t = time.perf_counter()
    pdres = _pandas_compute(data, fx)
    out["pandas_compute_s"] = time.perf_counter() - t
    out["agreement"] = _agree({
        "region_amt": (res["flows_region_amount"], ("period", "group"), "value"),
        "stage_n": (res["flows_stage_count"], ("period", "group"), "value"),
        "field_amt": (res["flows_field_amount"], ("period", "group"), "value"),
        "lq": (res["location_quotients"], ("region_id", "field"), "lq"),
        "hhi": (res["herfindahl"], ("region_id",), "hhi"),
    }, pdres)
    out["peak_mb"] = peak_mb()
    q.put(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--orgs", type=int, default=1_000_000)
    ap.add_argument("--json", type=Path, help="also write the measurements to this file")
    args = ap.parse_args()
    machine = f"{platform.node()} {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    print(f"machine: {machine}")
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "synth.duckdb"
        info = call_in_child(build_store, db, args.orgs)  # its own process: the generator's memory is freed first
        print(f"synthetic store (classifications from synthetic.truth, model_version 'synthetic-truth'): {info}")
        r = in_child(measure, db.as_posix())
    ours = sum(r["ours"].values())
    for k, v in r["ours"].items():
        print(f"  {k:<22} {v:8.2f} s  ({r['rows'][k]:,} rows)")
    verdict = "met" if ours <= TARGET_S else "MISSED"
    print(f"hardtech flows ×3 + LQ + HHI: {ours:.2f} s (target ≤ {TARGET_S:.0f} s: {verdict}); "
          f"child peak {r['peak_after_ours_mb']:.0f} MB")
    pc_, pl = r["pandas_compute_s"], r["pandas_load_s"]
    print(f"plain pandas, same numbers: compute {pc_:.2f} s; with loading the tables from the store "
          f"{pc_ + pl:.2f} s (load {pl:.2f} s) → hardtech takes {ours / pc_:.1f}× the pandas compute time, "
          f"{ours / (pc_ + pl):.1f}× compute+load")
    for k, a in r["agreement"].items():
        print(f"  agree {k:<10} compared {a['compared']:,}, mismatched {a['mismatched']}, only ours "
              f"{a['only_ours']}, only pandas {a['only_pandas']} {a['example'] or ''}")
    print(f"child peak including the pandas copy: {r['peak_mb']:.0f} MB")
    if args.json:
        args.json.write_text(json.dumps({"machine": machine, "orgs": args.orgs, "store": info,
                                         "ours_total_s": ours, "target_s": TARGET_S, **r}, indent=2))


if __name__ == "__main__":
    main()
