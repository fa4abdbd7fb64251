"""How the analyses scale: 1,000,000 and 10,000,000 synthetic organisations on DuckDB, 1,000,000 on local Spark.

    python benchmarks/bench_scale.py [--orgs 1000000,10000000] [--spark-orgs 1000000] [--keep DIR]
                                     [--steps rank,score,flows,lq,star] [--no-spark]

Issue 14 asks that the scaling be measured, not assumed: rank + score of one year, capital flows,
location quotients and the STAR batch, each timed with its own peak memory at 1M and 10M organisations
on DuckDB (target: <= 16 GB peak on the 24 GB machine, each step <= 12x its 1M time), and the same
analyses on a local Spark session at 1M.

The stores are built from `hardtech.tools.synthetic` in chunks of 1,000,000 organisations (each chunk
its own seed, its ids prefixed `c<k>.` so they never collide; every row flagged synthetic), with the
generator's hidden themes written as classifications (model_version `synthetic-truth`), as
bench_analytics does. Each step runs in its own spawned process, so its peak (VmHWM) is its own; the
baseline in the same process is plain DuckDB SQL answering the simplest form of each question (the
year's R&D sorted, rounds counted by stage, firms counted by city), so a step's cost over the engine's
own floor is visible. Results are aggregated in the engine where the analysis allows (STAR verdicts
counted, not collected).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

from common import call_in_child, in_child, load_synthetic, load_truth_classifications, peak_mb

YEAR = 2021
CHUNK = int(os.environ.get("BENCH_SCALE_CHUNK", 1_000_000))  # organisations generated at once
TABLES = ("organizations", "financials", "patents", "funding_rounds")
TOP = 10  # rows the score step shows


def _prefixed(tbl, cols, prefix: str):
    """The table with each named id column (or list of ids) prefixed, so chunks never share an id."""
    import pyarrow as pa
    import pyarrow.compute as pc

    for c in cols:
        if c not in tbl.column_names:
            continue
        col = tbl.column(c)
        if pa.types.is_list(col.type):
            continue
        # a NULL id stays NULL (the join emits null for a null input)
        tbl = tbl.set_column(tbl.column_names.index(c), c,
                             pc.binary_join_element_wise(pa.scalar(prefix), col.cast(pa.string()), ""))
    return tbl


def build_store(db: str, orgs: int, sources: int) -> dict:
    """A synthetic store of `orgs` organisations, generated and loaded one chunk at a time.

    Every row's source_name is one of `sources` names at every size (`common.load_synthetic`), so the
    stores compared are alike: with one name the figures rule sees one row per organisation-year and
    skips its pick window (`figures.one_row_per_year`), with several it runs it, at 1M as at 10M."""
    from hardtech.tools.synthetic import SynthConfig, generate, truth
    from hardtech.store.connection import Store

    t0 = time.perf_counter()
    gen_s = 0.0
    with Store(db) as store:
        for k in range(0, (orgs + CHUNK - 1) // CHUNK):
            n = min(CHUNK, orgs - k * CHUNK)
            cfg = SynthConfig(orgs=n, seed=100 + k, investors=max(50, CHUNK // 200))
            t = time.perf_counter()
            tables = generate(cfg)
            gen_s += time.perf_counter() - t
            p = f"c{k}."
            tables["organizations"] = _prefixed(tables["organizations"], ["org_id"], p)
            tables["financials"] = _prefixed(tables["financials"], ["org_id"], p)
            tables["patents"] = _prefixed(tables["patents"], ["publication_number", "applicant_org_id"], p)
            tables["funding_rounds"] = _prefixed(tables["funding_rounds"], ["round_id", "org_id"], p)
            names = TABLES + (("investors",) if k == 0 else ())  # one investor list: every chunk draws from the same ids
            load_synthetic(store, tables, names, cfg.seed, sources=sources)
            load_truth_classifications(store, _prefixed(truth(cfg), ["org_id"], p))
            del tables
        counts = {t: store.count(t) for t in TABLES}
    return {"orgs": orgs, "sources": sources, "generate_s": round(gen_s, 1), "build_s": round(time.perf_counter() - t0, 1),
            "rows": counts, "store_gb": round(os.path.getsize(db) / 1e9, 2)}


# ------------------------------------------------------------------------------------------ steps
def _rank(store):
    from hardtech.analytics.ranking import RankingSpec, rank
    from hardtech.services.scoring import field_table

    out = rank(store, RankingSpec(year=YEAR, by="rd", currency="EUR"), fields=field_table(store))
    return {"rows": out.num_rows}


def _score(store):
    """What `hardtech score --year Y --top 10 --no-save` runs (`services.scoring.score_rows`): phase 1 kept in
    the engine, phase 2 built on it and kept, the top rows sorted out of it; the scores are not written."""
    from hardtech.services.scoring import score_rows

    rows = score_rows(store, year=YEAR, save=False, top=TOP)
    return {"shown": len(rows), "top_score": round(float(rows[0]["score"]), 6) if rows else None}


def _flows(store):
    from hardtech.analytics.flows import flows

    out = {}
    for by in ("field", "stage", "region"):
        res = flows(store, by=by, period="year", metric="amount", currency="USD")
        out[by] = getattr(res, "num_rows", None) or len(res)
    return {"rows": out}


def _lq(store):
    from hardtech.analytics.regions import location_quotients

    res = location_quotients(store, level="city")
    return {"rows": getattr(res, "num_rows", None) or len(res)}


def _star(store):
    from hardtech.services.scoring import _star_verdicts

    t = _star_verdicts(store, None, YEAR, ("company", "startup"))
    counts = t.group_by("verdict").aggregate(n=t.count()).to_pyarrow().to_pylist()
    return {"verdicts": {r["verdict"]: r["n"] for r in counts}}


STEPS = {"rank": _rank, "score": _score, "flows": _flows, "lq": _lq, "star": _star}

# the plain floor on DuckDB, same process: the simplest SQL for each question
BASELINE = {
    "rank": f"SELECT org_id, rd_expense FROM financials WHERE fiscal_year = {YEAR} AND rd_expense IS NOT NULL "
            "ORDER BY rd_expense DESC",
    "score": f"SELECT org_id, avg(rd_expense / NULLIF(revenue, 0)) FROM financials WHERE fiscal_year BETWEEN {YEAR - 4} "
             f"AND {YEAR} GROUP BY org_id",
    "flows": "SELECT stage, year(date) AS y, sum(amount_usd), count(*) FROM funding_rounds GROUP BY ALL",
    "lq": "SELECT city, count(*) FROM organizations GROUP BY city",
    "star": f"SELECT org_id, sum(rd_expense) / NULLIF(sum(revenue), 0) FROM financials WHERE fiscal_year BETWEEN "
            f"{YEAR - 2} AND {YEAR} GROUP BY org_id",
}


def run_step(db: str, engine: str, step: str, q) -> None:
    from hardtech.store.engine import open_store

    t = time.perf_counter()
    store = open_store(db, engine=engine)
    opened_s = time.perf_counter() - t
    out = {"step": step, "engine": engine, "open_s": round(opened_s, 2)}
    try:
        t = time.perf_counter()
        out.update(STEPS[step](store))
        out["seconds"] = round(time.perf_counter() - t, 2)
        out["peak_mb"] = round(peak_mb())
        if engine == "duckdb":
            t = time.perf_counter()
            store.con.execute(BASELINE[step]).to_arrow_table()
            out["baseline_s"] = round(time.perf_counter() - t, 2)
    finally:
        store.close()
    q.put(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--orgs", default="1000000,10000000", help="comma-separated store sizes for DuckDB")
    ap.add_argument("--spark-orgs", type=int, default=1_000_000)
    ap.add_argument("--no-spark", action="store_true")
    ap.add_argument("--steps", default=",".join(STEPS))
    ap.add_argument("--sources", type=int, default=10,
                    help="source names in every store (1: the figures rule's pick window is skipped)")
    ap.add_argument("--keep", type=Path, help="build the stores here (and reuse them on the next run)")
    args = ap.parse_args()
    sizes = [int(x) for x in args.orgs.split(",") if x]
    steps = [s for s in args.steps.split(",") if s]
    report: dict = {"machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} cores",
                    "started": time.strftime("%Y-%m-%d %H:%M:%S"), "year": YEAR, "sources": args.sources, "runs": []}
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        plan = [(n, "duckdb") for n in sizes] + ([] if args.no_spark else [(args.spark_orgs, "spark")])
        built: dict[int, dict] = {}
        for n, engine in plan:
            db = folder / f"scale-{n}-s{args.sources}.duckdb"
            if not db.exists():
                built[n] = call_in_child(build_store, str(db), n, args.sources)
                print(json.dumps({"built": built[n]}), flush=True)
            for step in steps:
                res = in_child(run_step, str(db), engine, step)
                res["orgs"] = n
                print(json.dumps(res), flush=True)
                report["runs"].append(res)
        report["built"] = built
    by = {(r["orgs"], r["engine"], r["step"]): r for r in report["runs"]}
    if len(sizes) >= 2:
        small, big = sizes[0], sizes[-1]
        report["ratios"] = {s: round(by[(big, "duckdb", s)]["seconds"] / max(by[(small, "duckdb", s)]["seconds"], 1e-9), 2)
                            for s in steps if (big, "duckdb", s) in by and (small, "duckdb", s) in by}
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
