"""The server under load (issue 13): 150 clients on search and profile for 60 s while an import and a report run.

Targets: 0 failed requests (a connection error, a timeout or any status but 200 — a 429 counts as a
failure), p99 ≤ 500 ms for the reads, and the store's row counts exactly as expected afterwards (the
import's rows added once, nothing else changed).

Set-up: the demo store (with ../shared/data when present: 1,320 organisations) in a temporary folder,
an API token, and `hardtech serve` (write-enabled, default pools) in a subprocess on loopback.
Clients: 150 keep-alive HTTP/1.1 connections on one asyncio loop in this process (closed loop: each
sends its next request when the last answer arrived), each picking, with its own seeded generator,
a search (half the requests: one of the SEARCHES, or with probability --unique a search nobody asked
before) or a profile (one of --orgs organisations). Before the measured window every distinct URL is
asked once (a priming pass, timed and reported: what the first minute of a fresh server costs).
During the window: at 5 s an import of --import-rows organisations starts
(`POST /api/v1/imports/organizations`, with the token, rows flagged synthetic), at 10 s a report
(`GET /api/v1/report`, HTML, with the token); both are authorised requests on their own connections.
After it: the server is stopped and the store's row counts compared with those before plus the import.
Baseline in the same run: `/health` (no store, no computation) under the same 150 clients.

    .venv/bin/python benchmarks/bench_load.py [--seconds 60] [--clients 150] [--orgs 200] [--unique 0.01]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_api import build_store, free_port  # noqa: E402
from common import call_in_child, serve, stop_server  # noqa: E402

SEARCHES = [
    "", "field=ai", "field=photonics_chips", "field=biotech", "field=new_energy", "field=aerospace",
    "city=%E8%A5%BF%E5%AE%89", "city=Hangzhou", "city=Shenzhen", "country=CN", "country=US", "country=DE",
    "kind=university", "kind=startup", "typology=hard_core", "typology=model_innovation", "q=chip", "q=battery",
    "q=robot", "q=%E7%A7%91%E6%8A%80", "score_min=50", "score_min=70&sort=-score", "sort=name", "sort=-founded",
    "field=ai&country=CN", "field=ai&city=%E8%A5%BF%E5%AE%89", "field=it&country=US&sort=name",
    "q=semiconductor&limit=50", "offset=25", "offset=50&sort=name",
]


def pick_orgs(db: Path, n: int) -> list[str]:
    from hardtech.store.connection import Store

    with Store(db, read_only=True) as s:  # scored companies first (the heaviest profiles), then the rest
        rows = s.con.execute("""
            SELECT o.org_id FROM organizations o LEFT JOIN (SELECT DISTINCT org_id FROM scores) sc USING (org_id)
            WHERE o.org_id NOT LIKE '%/%'  -- a path segment cannot hold a slash
            ORDER BY sc.org_id IS NULL, hash(o.org_id) LIMIT ?""", [n]).fetchall()
    return [r[0] for r in rows]


def counts(db: Path) -> dict[str, int]:
    from hardtech.store.connection import Store

    with Store(db, read_only=True) as s:
        return s.counts()


def make_token(db: Path) -> str:
    from hardtech.services.tokens import create_token

    return create_token(db, "bench-load")["token"]


def import_file(folder: Path, n: int) -> Path:
    path = folder / "bench-import.csv"
    lines = ["org_id,kind,name_en,country,city,description_en"]
    lines += [f"bench-load-{i:05d},startup,Bench Load Startup {i},CN,Hangzhou,"
              f"synthetic startup {i} for the load benchmark: silicon photonics and lidar" for i in range(n)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def start_server(db: Path, port: int) -> subprocess.Popen:
    return serve(["--db", str(db)], port, "bench-load-server-", 120)


def stop(proc: subprocess.Popen) -> str:
    return stop_server(proc, 30)


# --------------------------------------------------------------------------- clients


class Stats:
    def __init__(self) -> None:
        self.lat: dict[str, list[float]] = {"search": [], "profile": [], "health": []}
        self.failures: list[str] = []
        self.status: dict[str, int] = {}
        self.stale = 0


async def _request(reader, writer, path: str) -> tuple[bytes, dict[bytes, bytes]]:
    writer.write(f"GET {path} HTTP/1.1\r\nHost: bench\r\n\r\n".encode())
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = lines[0].split(b" ", 2)[1]
    headers = {}
    for line in lines[1:]:
        if b":" in line:
            k, v = line.split(b":", 1)
            headers[k.strip().lower()] = v.strip()
    await reader.readexactly(int(headers.get(b"content-length", b"0")))
    return status, headers


async def _client(port: int, k: int, choose, stop_at: float, stats: Stats, record: bool, timeout: float) -> None:
    rng = random.Random(k)
    conn = None
    while time.perf_counter() < stop_at:
        kind, path = choose(rng)
        t0 = time.perf_counter()
        try:
            if conn is None:
                conn = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), timeout)
            status, headers = await asyncio.wait_for(_request(*conn, path), timeout)
        except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, ValueError) as exc:
            if record:
                stats.failures.append(f"{kind} {path}: {type(exc).__name__}")
                stats.lat[kind].append(time.perf_counter() - t0)
            if conn is not None:
                conn[1].close()
            conn = None
            continue
        if not record:
            continue
        stats.lat[kind].append(time.perf_counter() - t0)
        code = status.decode()
        stats.status[code] = stats.status.get(code, 0) + 1
        if code != "200":
            stats.failures.append(f"{kind} {path}: {code}")
        if headers.get(b"x-hardtech-stale") == b"1":
            stats.stale += 1
    if conn is not None:
        conn[1].close()


async def _load(port: int, clients: int, seconds: float, choose, stats: Stats, record: bool = True,
                timeout: float = 60.0) -> float:
    t0 = time.perf_counter()
    await asyncio.gather(*(_client(port, k, choose, t0 + seconds, stats, record, timeout) for k in range(clients)))
    return time.perf_counter() - t0


def quantiles(lat: list[float]) -> dict:
    if not lat:
        return {"requests": 0}
    s = sorted(lat)
    q = lambda p: s[min(len(s) - 1, int(p * len(s)))] * 1000  # noqa: E731
    return {"requests": len(s), "p50": q(0.50), "p90": q(0.90), "p99": q(0.99), "max": s[-1] * 1000}


# --------------------------------------------------------------------------- the authorised writer and reporter


class MemoryWatch(threading.Thread):
    """The server's resident memory with its worker processes, sampled every second; `peak_mb` the largest sum."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak_mb = 0.0
        self.processes = 0
        self.halt = threading.Event()

    def run(self) -> None:
        import psutil

        root = psutil.Process(self.pid)
        while not self.halt.wait(1.0):
            try:
                procs = [root] + root.children(recursive=True)
                mb = sum(p.memory_info().rss for p in procs) / 2**20
            except psutil.Error:
                continue
            if mb > self.peak_mb:
                self.peak_mb, self.processes = mb, len(procs)


def timed_call(fn, out: dict, key: str) -> None:
    t0 = time.perf_counter()
    try:
        out[key] = {"status": fn(), "seconds": time.perf_counter() - t0}
    except Exception as exc:  # reported, and it fails the run below
        out[key] = {"status": f"{type(exc).__name__}: {exc}", "seconds": time.perf_counter() - t0}


def get_report(port: int, token: str) -> int:
    import httpx

    r = httpx.get(f"http://127.0.0.1:{port}/api/v1/report", params={"lang": "en", "title": "Load benchmark"},
                  headers={"Authorization": f"Bearer {token}"}, timeout=600)
    return r.status_code if r.status_code != 200 or b"<html" in r.content[:500].lower() else -1


def post_import(port: int, token: str, path: Path) -> int:
    import httpx

    with path.open("rb") as fh:
        r = httpx.post(f"http://127.0.0.1:{port}/api/v1/imports/organizations",
                       params={"source": "load benchmark (synthetic)", "synthetic": "true"},
                       files={"file": (path.name, fh, "text/csv")},
                       headers={"Authorization": f"Bearer {token}"}, timeout=600)
    if r.status_code == 200:
        body = r.json()
        return 200 if body["tables"][0]["inserted"] and not body["rejected"] else -1
    return r.status_code


# --------------------------------------------------------------------------- main


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--clients", type=int, default=150)
    ap.add_argument("--orgs", type=int, default=200, help="distinct organisations whose profiles are asked")
    ap.add_argument("--unique", type=float, default=0.01, help="share of searches nobody asked before")
    ap.add_argument("--import-rows", type=int, default=500)
    ap.add_argument("--health-seconds", type=float, default=10.0)
    args = ap.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="bench-load-"))
    db = call_in_child(build_store, folder)
    token = make_token(db)
    orgs = pick_orgs(db, args.orgs)
    before = counts(db)
    upload = import_file(folder, args.import_rows)
    profiles = [f"/api/v1/organizations/{urllib.parse.quote(o, safe='')}" for o in orgs]
    searches = [f"/api/v1/organizations?{q}" for q in SEARCHES]
    unique = [0]

    def choose(rng: random.Random) -> tuple[str, str]:
        if rng.random() < 0.5:
            if rng.random() < args.unique:
                unique[0] += 1
                return "search", f"/api/v1/organizations?q=never-asked-{rng.random():.12f}"
            return "search", rng.choice(searches)
        return "profile", rng.choice(profiles)

    port = free_port()
    proc = start_server(db, port)
    memory = MemoryWatch(proc.pid)
    memory.start()
    log = ""
    try:
        health = Stats()
        asyncio.run(_load(port, args.clients, 2, lambda r: ("health", "/health"), health, record=False))
        wall_h = asyncio.run(_load(port, args.clients, args.health_seconds, lambda r: ("health", "/health"), health))

        t0 = time.perf_counter()  # priming: every distinct URL once, one after the other
        prime = Stats()
        urls = [("search", u) for u in searches] + [("profile", u) for u in profiles]
        for kind, u in urls:
            t1 = time.perf_counter()
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{u}", timeout=120) as r:
                r.read()
            prime.lat[kind].append(time.perf_counter() - t1)
        priming_s = time.perf_counter() - t0

        stats = Stats()
        side: dict = {}
        report = threading.Timer(10.0, timed_call, (lambda: get_report(port, token), side, "report"))
        imp = threading.Timer(5.0, timed_call, (lambda: post_import(port, token, upload), side, "import"))
        report.start()
        imp.start()
        wall = asyncio.run(_load(port, args.clients, args.seconds, choose, stats))
        report.join(600)
        imp.join(600)
    finally:
        memory.halt.set()
        log = stop(proc)
    after = counts(db)
    expected = dict(before)
    expected["organizations"] += args.import_rows
    expected["imports"] += 1

    reads = stats.lat["search"] + stats.lat["profile"]
    result = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "store_orgs": before["organizations"], "clients": args.clients, "seconds": args.seconds,
        "distinct_profiles": len(profiles), "distinct_searches": len(searches), "unique_searches": unique[0],
        "health": {**quantiles(health.lat["health"]), "rps": len(health.lat["health"]) / wall_h,
                   "failures": len(health.failures)},
        "priming_s": priming_s, "priming_profile": quantiles(prime.lat["profile"]),
        "priming_search": quantiles(prime.lat["search"]),
        "reads": {**quantiles(reads), "rps": len(reads) / wall}, "search": quantiles(stats.lat["search"]),
        "profile": quantiles(stats.lat["profile"]), "failed": len(stats.failures),
        "first_failures": stats.failures[:5], "status": stats.status, "stale_answers": stats.stale,
        "report": side.get("report"), "import": side.get("import"),
        "counts_as_expected": after == expected,
        "count_differences": {k: (expected.get(k), after.get(k)) for k in set(after) | set(expected)
                              if after.get(k) != expected.get(k)},
        "server_errors_logged": log.count("Traceback"),
        "server_peak_rss_mb": round(memory.peak_mb), "server_processes_at_peak": memory.processes,
    }
    print(json.dumps(result, indent=2, default=str))
    ok = (result["failed"] == 0 and result["reads"].get("p99", 1e9) <= 500 and result["counts_as_expected"]
          and (side.get("report") or {}).get("status") == 200 and (side.get("import") or {}).get("status") == 200)
    print("targets met" if ok else "targets NOT met")


if __name__ == "__main__":
    main()
