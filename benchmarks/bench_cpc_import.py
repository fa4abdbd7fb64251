"""Bulk import benchmark (issue 11): a synthetic file shaped like PatentsView's `g_cpc_current`.

    python benchmarks/bench_cpc_import.py [--rows 10000000] [--keep FILE] [--json OUT]

The file is tab-separated with every field quoted, as PatentsView ships it: patent_id, cpc_sequence,
cpc_section, cpc_class, cpc_subclass, cpc_group, cpc_type; one row per patent and code, grouped by
patent, 1–11 codes per patent (about 1.7 million patents for 10 million rows); every row says it is
synthetic in its provenance (the import flags it). Target: ≥ 1,000,000 rows/s, peak ≤ 2 GB.

Ours is `hardtech import patents FILE` with a `collect` mapping: encoding decided and verified, limits,
every row's patent id, code (format, normalisation) and sequence checked, rows folded into
`patents.cpc_codes` in sequence order, the patent rows validated, hashed and written with provenance
(source, file, first line, import id) in one transaction. The baseline, in its own child of the same
run, is a plain DuckDB load of the same file into a table (`CREATE TABLE AS SELECT * FROM
read_csv(...)`, types sniffed, no validation, no provenance, no folding). Each side's peak is its own
process's VmHWM.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

from common import in_child, peak_mb

HEADER = ["patent_id", "cpc_sequence", "cpc_section", "cpc_class", "cpc_subclass", "cpc_group", "cpc_type"]
MAPPING = {"name": "g_cpc_current_bench", "version": "1", "source": "synthetic g_cpc_current (benchmark)",
           "synthetic": True,
           "targets": {"patents": {"collect": "cpc_codes", "order_by": "cpc_sequence", "columns": {
               "publication_number": {"template": "US{patent_id}"}, "cpc_codes": "cpc_group",
               "office": {"value": "US"}}}}}


def generate(path: Path, rows: int, seed: int = 0) -> int:
    """Write the synthetic file in chunks (bounded memory); returns the number of patents."""
    import numpy as np

    rng = np.random.default_rng(seed)
    sections = np.array(list("ABCDEFGHY"))
    letters = np.array(list("ABCDEFGHJKLMN"))
    written, patent = 0, 10_000_000
    with open(path, "w", encoding="utf-8") as f:
        f.write("\t".join(f'"{h}"' for h in HEADER) + "\n")
        while written < rows:
            per = rng.integers(1, 12, size=200_000)
            per = per[np.cumsum(per) <= rows - written] if per.sum() > rows - written else per
            if not len(per):
                per = np.array([rows - written])
            n = int(per.sum())
            pid = np.repeat(np.arange(patent, patent + len(per)), per)
            seq = np.arange(n) - np.repeat(np.cumsum(per) - per, per)
            sec = sections[rng.integers(0, 9, n)]
            cls = np.char.add(sec, np.char.zfill(rng.integers(1, 99, n).astype(str), 2))
            sub = np.char.add(cls, letters[rng.integers(0, 13, n)])
            grp = np.char.add(np.char.add(np.char.add(sub, rng.integers(1, 999, n).astype(str)), "/"),
                              np.char.zfill(rng.integers(0, 9999, n).astype(str), 2))
            typ = np.where(rng.random(n) < 0.4, "inventive", "additional")
            cols = [pid.astype(str), seq.astype(str), sec, cls, sub, grp, typ]
            lines = np.char.add(np.char.add('"', cols[0]), '"')
            for c in cols[1:]:
                lines = np.char.add(np.char.add(np.char.add(lines, '\t"'), c), '"')
            f.write("\n".join(lines.tolist()) + "\n")
            written += n
            patent += len(per)
    return patent - 10_000_000


def cpu_seconds() -> float:
    """User + system CPU of this process, all its threads: steadier than wall time on a shared machine."""
    import resource

    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def run_ours(db: str, path: str, q) -> None:
    import hardtech.sources.dates  # noqa: F401 - import cost is paid before timing, as for the baseline
    import hardtech.sources.money  # noqa: F401
    from hardtech.sources.mapping import parse_mapping
    from hardtech.store.connection import Store
    from hardtech.store.importer import import_file

    mapping = parse_mapping(MAPPING)
    with Store(db) as store:
        t, c = time.perf_counter(), cpu_seconds()
        r = import_file(store, "patents", path, mapping=mapping)
        secs, cpu = time.perf_counter() - t, cpu_seconds() - c
        patents = store.count("patents")
        synthetic = store.con.execute("SELECT count(*) FROM patents WHERE synthetic").fetchall()[0][0]
    q.put({"seconds": secs, "cpu_seconds": cpu, "rows": r.targets[0].rows_read, "patents": patents,
           "synthetic": synthetic, "rejected": r.rejected, "peak_mb": peak_mb()})


def run_baseline(db: str, path: str, q) -> None:
    import duckdb

    t, c = time.perf_counter(), cpu_seconds()
    con = duckdb.connect(db)
    con.execute(f"CREATE TABLE t AS SELECT * FROM read_csv('{path}')")
    n = con.execute("SELECT count(*) FROM t").fetchall()[0][0]
    con.close()
    q.put({"seconds": time.perf_counter() - t, "cpu_seconds": cpu_seconds() - c, "rows": n, "peak_mb": peak_mb()})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--keep", type=Path, help="write (or reuse) the synthetic file here")
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args()
    print(f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores "
          f"(affinity {len(os.sched_getaffinity(0))}), Python {platform.python_version()}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        path = args.keep or tmp / "g_cpc_current.tsv"
        if not path.exists():
            t = time.perf_counter()
            patents = generate(path, args.rows)
            print(f"generated {args.rows:,} rows ({patents:,} patents, {path.stat().st_size / 1e6:,.0f} MB) "
                  f"in {time.perf_counter() - t:.1f} s", flush=True)
        ours = in_child(run_ours, str(tmp / "ours.duckdb"), str(path))
        base = in_child(run_baseline, str(tmp / "base.duckdb"), str(path))
    o_rps, b_rps = ours["rows"] / ours["seconds"], base["rows"] / base["seconds"]
    print(f"ours: {ours['rows']:,} rows → {ours['patents']:,} patents ({ours['synthetic']:,} flagged synthetic, "
          f"{ours['rejected']} rejected) in {ours['seconds']:.2f} s = {o_rps:,.0f} rows/s "
          f"(CPU {ours['cpu_seconds']:.1f} s), peak {ours['peak_mb']:,.0f} MB")
    print(f"baseline (plain DuckDB CREATE TABLE AS read_csv): {base['rows']:,} rows in {base['seconds']:.2f} s = "
          f"{b_rps:,.0f} rows/s (CPU {base['cpu_seconds']:.1f} s), peak {base['peak_mb']:,.0f} MB; "
          f"ratio {o_rps / b_rps:.2f}×")
    if args.json:
        args.json.write_text(json.dumps({"ours": ours, "baseline": base}, indent=2))


if __name__ == "__main__":
    sys.exit(main())
