"""White paper benchmark: the report for the demo store, against gathering the same figures without rendering.

    python benchmarks/bench_report.py [--repeat 2] [--json out.json]

Builds the demo store once (with ../shared/data when present, as `hardtech demo` does; not
timed), then in this one process times:

- baseline: the service calls the report makes (landscape summary, R&D ranking and growth for
  the ranking year and three years before, the decade view of the five leaders, hardness scores,
  the STAR test, flows and the shift, regions, the scorecard and clusters), rows only, no
  charts, no HTML;
- the report in English, HTML only; English HTML + PDF; Chinese HTML + PDF.

The target (issue 6) is ≤ 20 s for the report of the demo store on 2 cores. Prints each
figure (the best of --repeat runs, and the first, cold run) and the ratio to the baseline.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path


def baseline(db: Path) -> int:
    """The same questions the report asks, answered by the services, rows only."""
    from hardtech.demo import summary_tables
    from hardtech.services.ecosystem import cluster_rows, compare_regions, flow_rows, region_rows, shift_rows
    from hardtech.services.scoring import decade_rows, rank_rows, score_rows, star_batch_rows

    n = 0
    st = summary_tables(db)
    year = st["year"]
    rows = rank_rows(db, year, "rd")
    n += len(rows) + len(rank_rows(db, year, "growth")) + len(rank_rows(db, year - 3, "rd"))
    for r in rows[:5]:
        n += len(decade_rows(db, r["org_id"], year - 3, year, None)["years"])
    n += len(score_rows(db, save=False)) + len(star_batch_rows(db))
    n += len(flow_rows(db, by="field")) + len(shift_rows(db))
    regions = region_rows(db, "city")
    n += len(regions) + len(cluster_rows(db))
    top = sorted((r for r in regions if r["organizations"]), key=lambda r: -r["organizations"])[:4]
    if len(top) >= 2:
        n += len(compare_regions(db, [r["region"] for r in top])["regions"])
    return n


def timed(fn, repeat: int) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times[0], min(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    from hardtech.demo import build_demo_store, default_shared
    from hardtech.presentation.report.paper import write_report

    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "hardtech.duckdb"
        t0 = time.perf_counter()
        shared = default_shared()
        build_demo_store(db, shared)
        print(f"demo store built in {time.perf_counter() - t0:.1f} s (shared data: {'yes' if shared else 'no'}; "
              "not part of the figures)")
        out = Path(tmp) / "out"
        results = {}
        results["baseline: service rows only"] = timed(lambda: baseline(db), args.repeat)
        results["report en, HTML"] = timed(lambda: write_report(db, out, "en"), args.repeat)
        results["report en, HTML + PDF"] = timed(lambda: write_report(db, out, "en", pdf=True), args.repeat)
        results["report zh, HTML + PDF"] = timed(lambda: write_report(db, out, "zh", pdf=True), args.repeat)
        base = results["baseline: service rows only"][1]
        print(f"\n{'step':32} {'first (s)':>10} {'best (s)':>10} {'× baseline':>11}")
        for k, (first, best) in results.items():
            print(f"{k:32} {first:10.2f} {best:10.2f} {best / base:11.1f}")
        en_pdf = results["report en, HTML + PDF"][1]
        print(f"\ntarget ≤ 20 s for the demo store's report: en HTML + PDF {en_pdf:.1f} s -> "
              f"{'met' if en_pdf <= 20 else 'NOT met'}; both languages with PDF "
              f"{en_pdf + results['report zh, HTML + PDF'][1]:.1f} s")
        print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
        if args.json:
            args.json.write_text(json.dumps({k: {"first_s": a, "best_s": b} for k, (a, b) in results.items()}, indent=2))


if __name__ == "__main__":
    main()
