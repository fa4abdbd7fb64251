"""The STAR batch in the engine (analytics/star_batch.py) against the plain Python batch, same process.

    python benchmarks/bench_star_batch.py [--orgs 1000000] [--db PATH] [--sample 5000]

Builds (or reuses, with --db) a DuckDB store from `hardtech.tools.synthetic` (every row flagged
synthetic): N organisations with their financials in CNY, USD and EUR. Then, in one child process
(so its peak memory is its own), times:

- the engine batch: the verdict of every company and startup (`services.scoring.star_verdict_rows`,
  one Ibis query plus the small Python side: rules, distinct code/flag combinations, FX rates);
- the plain baseline: the Python batch (`services.scoring.star_batch_rows` → `evaluate_star_batch`)
  on the first `--sample` companies only (the whole store would take hours), its per-company time
  extrapolated to N; and the engine's verdicts for that sample are checked equal to the baseline's.
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path

from common import call_in_child, in_child, load_synthetic, peak_mb


def build_store(db: Path, orgs: int, seed: int = 1) -> dict:
    from hardtech.tools.synthetic import SynthConfig, generate
    from hardtech.store.connection import Store

    t = time.perf_counter()
    tables = generate(SynthConfig(orgs=orgs, seed=seed))
    with Store(db) as store:
        load_synthetic(store, tables, ("organizations", "financials"), seed)
    return {"build_s": round(time.perf_counter() - t, 1)}


def measure(db: str, sample: int, q) -> None:
    from hardtech.analytics.star import CURRENT_VERSION, evaluate_star_batch
    from hardtech.services.scoring import _org_inputs, star_verdict_rows
    from hardtech.store.connection import Store

    out: dict = {}
    with Store(db, read_only=True) as store:
        out["financial_rows"] = store.count("financials")
    t = time.perf_counter()
    engine = star_verdict_rows(db)
    out["engine_s"] = time.perf_counter() - t
    out["engine_rows"] = len(engine)
    out["peak_after_engine_mb"] = peak_mb()
    verdicts: dict[str, int] = {}
    for r in engine:
        verdicts[r["verdict"]] = verdicts.get(r["verdict"], 0) + 1
    out["verdicts"] = verdicts

    ids = [r["org_id"] for r in engine[:sample]]
    with Store(db, read_only=True) as store:
        t = time.perf_counter()
        orgs, fin = _org_inputs(store, ids)
        out["baseline_load_s"] = time.perf_counter() - t
    t = time.perf_counter()
    res = evaluate_star_batch(orgs, fin, version=CURRENT_VERSION)
    out["baseline_s"] = time.perf_counter() - t
    out["baseline_rows"] = len(res)
    out["baseline_ms_per_company"] = 1000 * out["baseline_s"] / max(len(res), 1)
    out["baseline_extrapolated_s"] = out["baseline_ms_per_company"] / 1000 * len(engine)
    mine = {r["org_id"]: (r["year"], r["verdict"]) for r in engine[:sample]}
    theirs = {r.org_id: (r.year, r.verdict) for r in res}
    out["sample_equal"] = mine == theirs
    out["peak_mb"] = peak_mb()
    q.put(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--orgs", type=int, default=1_000_000)
    ap.add_argument("--db", type=Path, help="reuse (or build once into) this store")
    ap.add_argument("--sample", type=int, default=5000)
    args = ap.parse_args()
    info: dict = {"machine": f"{platform.node()} {platform.machine()}", "orgs": args.orgs,
                  "started": time.strftime("%Y-%m-%d %H:%M:%S")}
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or Path(tmp) / "star.duckdb"
        if not db.exists():
            info.update(call_in_child(build_store, db, args.orgs))
        info.update(in_child(measure, str(db), args.sample))
    for k, v in list(info.items()):
        if isinstance(v, float):
            info[k] = round(v, 2)
    print(json.dumps(info, indent=1))


if __name__ == "__main__":
    main()
