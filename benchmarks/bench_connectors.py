"""Connector benchmark: SEC company facts from a bulk archive, extract + validated load.

The real `companyfacts.zip` holds about 18,000 companies; this builds an archive of N companies
by repeating the two real fixture files (Tesla, Snowflake) under distinct CIKs, so every company
carries a real fact history. Ours is `hardtech import … --mapping sec_companyfacts` end to end:
reading the archive, assigning fiscal years per filing, choosing each year's figure, validation,
provenance and one transaction. The baseline is what a quick script does: `json.loads` each
member, keep the 10-K `ResearchAndDevelopmentExpense` facts by the filing's `fy` (no comparative
years, no amendments, no revenue concepts), and write them to SQLite. Each side runs in a fresh
child process; the rows are flagged synthetic.

    python benchmarks/bench_connectors.py [--companies 2000]
"""

from __future__ import annotations

import argparse
import json
import platform
import sqlite3
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from common import in_child, peak_mb

ROOT = Path(__file__).resolve().parents[1]
FIX = ROOT / "tests" / "fixtures" / "sources" / "sec" / "companyfacts.zip"


def build_archive(path: Path, companies: int) -> None:
    with zipfile.ZipFile(FIX) as z:
        docs = [json.loads(z.read(n)) for n in sorted(z.namelist())]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for i in range(companies):
            doc = dict(docs[i % len(docs)])
            doc["cik"] = 9_000_000 + i
            doc["entityName"] = f"{doc['entityName']} (synthetic copy {i})"
            out.writestr(f"CIK{9_000_000 + i:010d}.json", json.dumps(doc, separators=(",", ":")))


def run_ours(db: str, archive: str, q) -> None:
    from hardtech.store.connection import Store
    from hardtech.store.connector_load import run_connector

    with Store(db) as store:
        t = time.perf_counter()
        r = run_connector(store, "sec_companyfacts", archive, synthetic=True)
        secs = time.perf_counter() - t
    q.put({"seconds": secs, "rows": sum(x.inserted for x in r.targets if x.table == "financials"),
           "rejected": r.rejected, "peak_mb": peak_mb()})


def run_baseline(db: str, archive: str, q) -> None:
    t = time.perf_counter()
    rows = []
    with zipfile.ZipFile(archive) as z:
        for name in z.namelist():
            doc = json.loads(z.read(name))
            facts = doc["facts"]["us-gaap"].get("ResearchAndDevelopmentExpense", {}).get("units", {}).get("USD", [])
            seen = {}
            for f in facts:
                if f.get("form") == "10-K" and f.get("fp") == "FY":
                    seen[f["fy"]] = f["val"]
            rows += [(doc["cik"], fy, v) for fy, v in seen.items()]
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE f (cik, fy, rd)")
    con.executemany("INSERT INTO f VALUES (?, ?, ?)", rows)
    con.commit()
    con.close()
    q.put({"seconds": time.perf_counter() - t, "rows": len(rows), "peak_mb": peak_mb()})


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--companies", type=int, default=2000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        archive = Path(d) / "companyfacts.zip"
        build_archive(archive, args.companies)
        ours = in_child(run_ours, str(Path(d) / "ours.duckdb"), str(archive))
        base = in_child(run_baseline, str(Path(d) / "base.sqlite"), str(archive))
        mb = archive.stat().st_size / 1e6
    print(json.dumps({
        "machine": f"{platform.machine()}, Python {platform.python_version()}",
        "companies": args.companies, "archive_mb": round(mb, 1),
        "ours_s": round(ours["seconds"], 2), "ours_financial_rows": ours["rows"], "ours_rejected": ours["rejected"],
        "ours_companies_per_s": round(args.companies / ours["seconds"]), "ours_peak_mb": round(ours["peak_mb"]),
        "baseline_s": round(base["seconds"], 2), "baseline_rows": base["rows"],
        "baseline_companies_per_s": round(args.companies / base["seconds"]), "baseline_peak_mb": round(base["peak_mb"]),
        "ratio_time": round(ours["seconds"] / base["seconds"], 2),
    }, indent=2))


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    main()
