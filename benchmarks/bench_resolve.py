"""Entity resolution benchmark: `hardtech resolve` against exact-normalised-name grouping.

Two workloads, each side in a fresh child process (its own peak memory):

- **bundled data** — the sources hardtech bundles or reads from ../shared/data (JRC–OECD panel, NYSE
  and S&P 500 lists, A-share list, MOE universities, the AI patents' assignees) plus the demo
  organisations, imported with the shipped mappings (not timed), then one `hardtech resolve`;
- **synthetic** — `hardtech synth`'s organisations (every row flagged synthetic; default 1,000,000),
  each name made unique (see `unique_names`), with duplicates injected: for 5% of them a second record under another id with the name rewritten
  as another source would write it (another legal form, upper case, a dropped or added descriptor,
  the city in front, punctuation, a one-letter typo, only the Chinese name, traditional characters).

The baseline is what a spreadsheet user would do: group records whose name, lower-cased with every
non-alphanumeric character removed, is identical. Both are scored pairwise on the injected duplicates
(precision over the pairs either puts together that involve an injected record; recall over the
injected pairs).

    python benchmarks/bench_resolve.py [--orgs 1000000] [--dup-rate 0.05] [--shared ../shared/data] [--skip-bundled]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sys
import tempfile
import time
from pathlib import Path

from common import in_child, load_synthetic, peak_mb

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
DUP_PREFIX = "dup:"


def inject_duplicates(orgs, rate: float, seed: int):
    """Second records for a `rate` share of organisations, names rewritten; returns (table, truth pairs)."""
    import numpy as np
    import pyarrow as pa

    from hardtech.sources.text import _t2s_table

    rng = np.random.default_rng(seed)
    n = orgs.num_rows
    pick = np.sort(rng.choice(n, size=int(n * rate), replace=False))
    s2t = {v: chr(k) for k, v in _t2s_table().items() if len(v) == 1}
    cols = {c: orgs.column(c).take(pa.array(pick)).to_pylist() for c in ("org_id", "kind", "name_en", "name_zh",
                                                                         "country", "city")}
    forms = [" Co., Ltd.", " Ltd", " Limited", " Inc.", " Corporation", "", " Holdings"]
    out = {k: [] for k in ("org_id", "kind", "name_en", "name_zh", "aliases", "country", "city")}
    truth = []
    for i in range(len(pick)):
        en, zh, how = cols["name_en"][i], cols["name_zh"][i], int(rng.integers(0, 8))
        base = re.sub(r"( Co\., Ltd\.| Ltd\.?| Inc\.| Corporation| Limited| GmbH| AG| S\.A\.| PLC)$", "", en or "")
        if how == 0:
            en = base + forms[int(rng.integers(0, len(forms)))]
        elif how == 1:
            en = (en or "").upper()
        elif how == 2:
            en = base.replace(" ", "-") + ", Inc."
        elif how == 3 and len(base) >= 10:  # one letter dropped
            k = int(rng.integers(3, len(base) - 2))
            en = base[:k] + base[k + 1:] + " Ltd."
        elif how == 4 and cols["city"][i]:
            en = f"{cols['city'][i]} {base} Technology Co., Ltd."
        elif how == 5 and zh:
            en = None
        elif how == 6 and zh:
            en, zh = None, "".join(s2t.get(c, c) for c in zh)
        else:
            en = base + " Group"
        out["org_id"].append(f"{DUP_PREFIX}{i}")
        out["kind"].append(cols["kind"][i])
        out["name_en"].append(en)
        out["name_zh"].append(zh if how in (5, 6) or rng.random() < 0.5 else None)
        out["aliases"].append(None)
        out["country"].append(cols["country"][i] if rng.random() < 0.8 else None)
        out["city"].append(None)
        truth.append((cols["org_id"][i], f"{DUP_PREFIX}{i}"))
    return pa.table(out), truth


def unique_names(orgs):
    """Give every synthetic organisation a name of its own. `hardtech synth` draws names from a small
    vocabulary (at a million organisations, 129,000 groups of distinct organisations share one exact name),
    which no name-based method can tell apart; a distinct four-syllable word (in pinyin and in characters)
    goes in front of each name and alias, so that the truth is, nearly, only what was injected."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from hardtech.tools.synthetic import _SYL

    import numpy as np

    n, k = orgs.num_rows, len(_SYL)
    codes = np.random.default_rng(11).permutation(k ** 4)[:n]  # distinct, in no order
    idx = [(c // k ** 3 % k, c // k ** 2 % k, c // k % k, c % k) for c in codes.tolist()]
    en = ["".join(_SYL[d][0].lower() if j else _SYL[d][0] for j, d in enumerate(t)) for t in idx]
    zh = ["".join(_SYL[d][1] for d in t) for t in idx]
    en_a, zh_a = pa.array(en), pa.array(zh)
    cols = {c: orgs.column(c) for c in orgs.column_names}
    cols["name_en"] = pc.binary_join_element_wise(en_a, orgs.column("name_en"), " ")
    cols["name_zh"] = pc.binary_join_element_wise(zh_a, orgs.column("name_zh"), "")
    aliases = orgs.column("aliases").to_pylist()
    cols["aliases"] = pa.array([[(zh[i] if any("\u4e00" <= ch <= "\u9fff" for ch in a) else en[i] + " ") + a
                                 for a in (al or [])] or None for i, al in enumerate(aliases)], pa.list_(pa.string()))
    return pa.table(cols)


def build_synthetic(db: str, n: int, rate: float, seed: int) -> dict:
    from hardtech.tools.synthetic import SynthConfig, generate
    from hardtech.store.connection import Store

    t = time.perf_counter()
    tables = generate(SynthConfig(orgs=n, seed=seed, rounds_per_org=0.0, patents_per_org=0.0))
    orgs = tables["organizations"] = unique_names(tables["organizations"])
    dups, truth = inject_duplicates(orgs, rate, seed)
    with Store(db) as s:
        load_synthetic(s, tables, ("organizations",), seed)
        load_synthetic(s, {"organizations": dups}, ("organizations",), seed)
        count = s.count("organizations")
    Path(db + ".truth.json").write_text(json.dumps(truth))
    return {"organizations": count, "injected": len(truth), "build_s": round(time.perf_counter() - t, 1)}


def build_bundled(db: str, shared: str) -> dict:
    sys.path.insert(0, str(ROOT / "evaluation" / "resolve"))
    from run_evaluation import build_store

    return build_store(Path(db), Path(shared))


def _cpu() -> float:
    """CPU seconds of this process (all its threads) and of its finished children (the name workers)."""
    import resource

    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def run_ours(db: str, q) -> None:
    from hardtech.services.resolve import resolve_store
    from hardtech.store.connection import Store

    t, c = time.perf_counter(), _cpu()
    r = resolve_store(Path(db), by="benchmark")
    secs, cpu = time.perf_counter() - t, _cpu() - c
    with Store(db, read_only=True) as s:
        redirect = dict(s.con.execute("SELECT from_id, org_id FROM org_redirects").fetchall())
    q.put({"seconds": secs, "cpu_seconds": round(cpu, 1), "peak_mb": peak_mb(), "merged": r["merged"],
           "linked": r["linked"],
           "review": r["review"], "pairs": r["pairs"], "name_rows": r["records"]["name_rows"],
           "timings": {k: round(v, 1) for k, v in r["timings"].items()}, "clusters": _clusters(redirect)})


def run_baseline(db: str, q) -> None:
    """Exact-normalised-name grouping: lower case, every non-alphanumeric character removed, same key = same."""
    import duckdb

    con = duckdb.connect(db, read_only=True)
    t, c = time.perf_counter(), _cpu()
    cjk = chr(0x3400) + "-" + chr(0x9FFF)
    rows = con.execute(f"""
        WITH n AS (SELECT org_id, unnest(list_filter([name_en, name_zh], lambda x: x IS NOT NULL)) AS name
                   FROM organizations),
        k AS (SELECT DISTINCT org_id, regexp_replace(lower(name), '[^a-z0-9{cjk}]', '', 'g') AS key FROM n)
        SELECT key, list(DISTINCT org_id) FROM k WHERE key <> '' GROUP BY key HAVING count(DISTINCT org_id) > 1
    """).fetchall()
    # union the groups (an organisation may share keys with several)
    parent: dict[str, str] = {}

    def find(x):
        while parent.get(x, x) != x:
            parent[x] = parent.get(parent[x], parent[x])
            x = parent[x]
        return x

    for _, ids in rows:
        r0 = find(ids[0])
        for x in ids[1:]:
            rx = find(x)
            if rx != r0:
                parent[rx] = r0
    redirect = {x: find(x) for x in list(parent)}
    secs, cpu = time.perf_counter() - t, _cpu() - c
    q.put({"seconds": secs, "cpu_seconds": round(cpu, 1), "peak_mb": peak_mb(), "groups": len(rows),
           "clusters": _clusters(redirect)})


def _clusters(redirect: dict[str, str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for x, root in redirect.items():
        out.setdefault(root, [root]).append(x)
    return {k: sorted(set(v)) for k, v in out.items()}


def score(clusters: dict[str, list[str]], truth: list[tuple[str, str]]) -> dict:
    """Pairwise precision and recall on the injected duplicates."""
    where = {x: root for root, members in clusters.items() for x in members}
    truth_set = {tuple(sorted(p)) for p in truth}
    injected = {b for _, b in truth} | {a for a, _ in truth}
    tp = sum(1 for a, b in truth_set if where.get(a) is not None and where.get(a) == where.get(b))
    predicted = 0
    for members in clusters.values():
        m = [x for x in members if x in injected]
        predicted += len(m) * (len(m) - 1) // 2 + (len(members) - len(m)) * len([x for x in m if x.startswith(DUP_PREFIX)])
    return {"true_pairs": len(truth_set), "found": tp, "predicted_pairs": predicted,
            "recall": round(tp / len(truth_set), 4) if truth_set else None,
            "precision": round(tp / predicted, 4) if predicted else None}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--orgs", type=int, default=1_000_000)
    ap.add_argument("--dup-rate", type=float, default=0.05)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--shared", default=str(ROOT.parent / "shared" / "data"))
    ap.add_argument("--skip-bundled", action="store_true")
    ap.add_argument("--skip-synthetic", action="store_true")
    args = ap.parse_args(argv)
    from common import call_in_child

    report = {"machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
              "date": time.strftime("%Y-%m-%d %H:%M")}
    with tempfile.TemporaryDirectory() as tmp:
        if not args.skip_bundled and Path(args.shared, "jrc_oecd_rd_top2000_2015_2018.csv").exists():
            db = str(Path(tmp) / "bundled.duckdb")
            report["bundled_store"] = call_in_child(build_bundled, db, args.shared)
            ours = in_child(run_ours, db)
            ours.pop("clusters")
            report["bundled_ours"] = ours
            print("bundled:", json.dumps(report["bundled_store"]), json.dumps(ours), flush=True)
        if not args.skip_synthetic:
            db = str(Path(tmp) / "synthetic.duckdb")
            report["synthetic_store"] = call_in_child(build_synthetic, db, args.orgs, args.dup_rate, args.seed)
            print("synthetic store:", report["synthetic_store"], flush=True)
            truth = json.loads(Path(db + ".truth.json").read_text())
            base = in_child(run_baseline, db)
            base["score"] = score(base.pop("clusters"), truth)
            report["synthetic_baseline"] = base
            print("baseline:", json.dumps(base), flush=True)
            ours = in_child(run_ours, db)
            ours["score"] = score(ours.pop("clusters"), truth)
            report["synthetic_ours"] = ours
            print("ours:", json.dumps(ours), flush=True)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
