"""Entity resolution on the labelled pairs, from a real run.

    .venv/bin/python evaluation/resolve/run_evaluation.py [--shared ../shared/data] [--sweep]

Builds a store the way a user would (the shipped mappings over the JRC–OECD panel, the NYSE and S&P 500
lists, the A-share list, the MOE university list and the AI patents' assignees in ../shared/data, plus the
demo organisations), runs `hardtech resolve` once with the shipped model and thresholds, and scores its
merges on `org_pairs.csv` (pairwise precision and recall by split and stratum). `--sweep` also reruns
the whole resolution at other thresholds and reports the **train** split only: that is how the shipped
threshold was chosen. Writes `results.json` beside this file.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "src"))

SOURCES = [("jrc_oecd", "jrc_oecd_rd_top2000_2015_2018.csv"), ("nyse_securities", "nyse_securities_gics.csv"),
           ("sp500_gics", "sp500_constituents_gics.csv"), ("nyse_fundamentals", "nyse_fundamentals_2012_2016.csv"),
           ("cn_ashare_2019", "cn_ashare_listed_2019.csv"), ("moe_universities_2017", "cn_universities_moe_2017.csv"),
           ("patents_ai_cpc", "patents_ai_cpc_31k.csv"), ("patents_ai_assignee_dates", "patents_ai_assignee_dates.csv")]


def build_store(db: Path, shared: Path) -> dict:
    """The labelled sources imported with the shipped mappings, and the demo organisations."""
    from hardtech.demo import DEMO_SOURCE, _identity, demo_dir
    from hardtech.sources.mapping import parse_mapping
    from hardtech.store.connection import Store
    from hardtech.store.importer import import_file

    with Store(db) as s:
        for mapping, name in SOURCES:
            import_file(s, "auto", shared / name, mapping=mapping)
        cols = ["org_id", "kind", "name_en", "name_zh", "aliases", "country", "province", "city", "founded",
                "description_en", "description_zh", "exchange", "ticker", "ownership", "industry_codes", "website"]
        import_file(s, "organizations", demo_dir() / "organizations.csv", source=DEMO_SOURCE,
                    mapping=parse_mapping(_identity("organizations", cols)))
        return {t: s.count(t) for t in ("organizations", "financials", "patents")}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", default=str(ROOT.parent / "shared" / "data"))
    ap.add_argument("--sweep", action="store_true", help="also rerun at other thresholds (train split only)")
    args = ap.parse_args(argv)
    from hardtech.services.resolve import evaluate_labels, resolve_store, thresholds

    labels = HERE / "org_pairs.csv"
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "base.duckdb"
        t = time.perf_counter()
        sizes = build_store(base, Path(args.shared))
        build_s = time.perf_counter() - t
        db = Path(tmp) / "run.duckdb"
        shutil.copy(base, db)
        run = resolve_store(db, by="evaluation")
        res = evaluate_labels(db, labels)
        sweep = []
        if args.sweep:
            for thr in (0.05, 0.1, 0.15, 0.25, 0.5, 0.9):
                shutil.copy(base, db)
                r = resolve_store(db, threshold=thr, by="evaluation")
                g = evaluate_labels(db, labels)["groups"]["split:train"]
                sweep.append({"threshold": thr, "merged": r["merged"], "linked": r["linked"], "review": r["review"],
                              **{k: g[k] for k in ("tp", "fp", "fn", "precision", "recall")}})
    out = {
        "command": "evaluation/resolve/run_evaluation.py" + (" --sweep" if args.sweep else ""),
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()}, {platform.system()}, Python {platform.python_version()}",
        "git": subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True).stdout.strip(),
        "store": sizes, "import_seconds": round(build_s, 1),
        "resolve": {k: v for k, v in run.items() if k != "merges"},
        "thresholds": thresholds(),
        "labels": str(labels.relative_to(ROOT)), "pairs": res["pairs"], "not_in_store": res["not_in_store"],
        "groups": res["groups"], "train_sweep": sweep,
    }
    (HERE / "results.json").write_text(json.dumps(out, indent=1, ensure_ascii=False, default=str) + "\n",
                                       encoding="utf-8")
    g = res["groups"]
    for key in ("all", "split:train", "split:test"):
        print(key, {k: (round(v, 3) if isinstance(v, float) else v) for k, v in g[key].items()})
    print("resolve seconds", round(run["seconds"], 1), run["timings"])


if __name__ == "__main__":
    main()
