"""Import benchmark: hardtech's validated import against a plain pandas → SQLite load.

Two workloads, each run in this script in fresh child processes (so each side's peak memory is
its own): the 31k-patent file from ../shared/data with its shipped mapping, and a synthetic
financials CSV of 1,000,000 rows (organisations preloaded, not timed). The baseline is what a
spreadsheet user's script would do: `pandas.read_csv` + `DataFrame.to_sql` into SQLite, with no
validation, no provenance and no idempotency.

    python benchmarks/bench_import.py [--rows 1000000] [--shared ../shared/data]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from common import in_child, peak_mb

ROOT = Path(__file__).resolve().parents[1]


def run_ours(db: str, table: str, path: str, mapping: str | None, preload: str | None, q) -> None:
    import hardtech.sources.dates  # noqa: F401 - import cost is paid before timing, as pandas is for the baseline
    import hardtech.sources.money  # noqa: F401
    from hardtech.store.connection import Store
    from hardtech.store.importer import import_file

    with Store(db) as store:
        if preload:
            import_file(store, "organizations", preload)
        t = time.perf_counter()
        r = import_file(store, table, path, mapping=mapping)
        secs = time.perf_counter() - t
        rows = sum(x.inserted for x in r.targets)
    q.put({"seconds": secs, "rows": rows, "rejected": r.rejected, "peak_mb": peak_mb()})


def run_baseline(db: str, path: str, q) -> None:
    import pandas as pd

    t = time.perf_counter()
    df = pd.read_csv(path)
    con = sqlite3.connect(db)
    df.to_sql("t", con, index=False)
    con.commit()
    con.close()
    q.put({"seconds": time.perf_counter() - t, "rows": len(df), "peak_mb": peak_mb()})


def compare(name: str, ours: dict, base: dict) -> dict:
    o_rps, b_rps = ours["rows"] / ours["seconds"], base["rows"] / base["seconds"]
    row = {"workload": name, "rows": ours["rows"], "ours_s": round(ours["seconds"], 2),
           "ours_rows_per_s": round(o_rps), "ours_peak_mb": round(ours["peak_mb"]),
           "baseline_s": round(base["seconds"], 2), "baseline_rows_per_s": round(b_rps),
           "baseline_peak_mb": round(base["peak_mb"]), "speedup": round(o_rps / b_rps, 2)}
    print(f"{name:>24}: ours {ours['seconds']:.2f} s ({o_rps:,.0f} rows/s, peak {ours['peak_mb']:.0f} MB) | "
          f"pandas+SQLite {base['seconds']:.2f} s ({b_rps:,.0f} rows/s, peak {base['peak_mb']:.0f} MB) | "
          f"ratio {o_rps / b_rps:.2f}×", flush=True)
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args()
    print(f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        patents = args.shared / "patents_ai_cpc_31k.csv"
        if patents.exists():
            ours = in_child(run_ours, str(tmp / "p.duckdb"), "patents", str(patents), "patents_ai_cpc", None)
            base = in_child(run_baseline, str(tmp / "p.sqlite"), str(patents))
            results.append(compare("31k AI patents", ours, base))
        else:
            print(f"skipping the patent workload: {patents} is absent")

        from hardtech.tools.synthetic import iter_financials_csv

        fin = tmp / "financials.csv"
        t = time.perf_counter()
        iter_financials_csv(fin, rows=args.rows, seed=0)
        import pandas as pd

        ids = pd.read_csv(fin, usecols=["org_id"]).org_id.unique()
        orgs = tmp / "orgs.csv"
        pd.DataFrame({"org_id": ids, "kind": "company", "synthetic": "true"}).to_csv(orgs, index=False)
        print(f"generated {args.rows:,} synthetic financial rows for {len(ids):,} organisations "
              f"in {time.perf_counter() - t:.1f} s")
        ours = in_child(run_ours, str(tmp / "f.duckdb"), "financials", str(fin), None, str(orgs))
        base = in_child(run_baseline, str(tmp / "f.sqlite"), str(fin))
        results.append(compare(f"{args.rows:,} financial rows", ours, base))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    sys.exit(main())
