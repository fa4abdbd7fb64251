"""REST API under load: an organisation profile with 100 concurrent clients on loopback (target p99 ≤ 50 ms).

The server is `hardtech serve --read-only` in a subprocess on the demo store. The clients are 100
keep-alive HTTP/1.1 connections on one asyncio loop, each sending its next request as soon as the
last answer arrives (closed loop), for a fixed time after a warm-up; latency is per request.
The client is a minimal raw-socket one so that the measurement is the server, not an HTTP library
(the client still shares the machine's cores with the server).

Baselines in the same run: `/health` (no store, no profile: the floor of FastAPI + uvicorn on this
machine) under the same load, and the profile service function called directly in-process without
any cache (what each request would cost without the per-store cache).

    .venv/bin/python benchmarks/bench_api.py [--seconds 10] [--clients 100] [--orgs 20]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import serve, stop_server  # noqa: E402


def build_store(folder: Path) -> Path:
    from hardtech.demo import build_demo_store, default_shared

    db = folder / "hardtech.duckdb"
    build_demo_store(db, shared=default_shared())
    return db


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(db: Path, port: int, workers: int) -> subprocess.Popen:
    return serve(["--db", str(db), "--read-only", "--workers", str(workers)], port, "bench-api-server-", 60)


def stop(proc: subprocess.Popen) -> None:
    stop_server(proc, 10)


async def _client(port: int, paths: list[str], offset: int, stop_at: float, lat: list[float], errors: list[str]):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    i = offset
    try:
        while time.perf_counter() < stop_at:
            path = paths[i % len(paths)]
            i += 1
            t0 = time.perf_counter()
            writer.write(f"GET {path} HTTP/1.1\r\nHost: bench\r\n\r\n".encode())
            head = await reader.readuntil(b"\r\n\r\n")
            status = head.split(b" ", 2)[1]
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            await reader.readexactly(length)
            lat.append(time.perf_counter() - t0)
            if status != b"200":
                errors.append(f"{path}: {status.decode()}")
    finally:
        writer.close()


async def _load(port: int, paths: list[str], clients: int, seconds: float) -> tuple[list[float], list[str], float]:
    lat: list[float] = []
    errors: list[str] = []
    t0 = time.perf_counter()
    await asyncio.gather(*(_client(port, paths, k, t0 + seconds, lat, errors) for k in range(clients)))
    return lat, errors, time.perf_counter() - t0


def load(port: int, paths: list[str], clients: int, seconds: float, warmup: float = 2.0) -> dict:
    asyncio.run(_load(port, paths, clients, warmup))
    lat, errors, wall = asyncio.run(_load(port, paths, clients, seconds))
    lat.sort()
    q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] * 1000  # noqa: E731
    return {"requests": len(lat), "rps": len(lat) / wall, "p50": q(0.50), "p90": q(0.90), "p99": q(0.99),
            "max": lat[-1] * 1000, "errors": len(errors), "first_errors": errors[:3]}


def cold_profiles(port: int, orgs: list[str]) -> list[float]:
    out = []
    for o in orgs:
        t0 = time.perf_counter()
        urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/organizations/{o}", timeout=60).read()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def in_process_baseline(db: Path, orgs: list[str]) -> list[float]:
    from hardtech.services.search import org_profile

    org_profile(db, orgs[0])  # imports and first-use caches out of the way
    out = []
    for o in orgs:
        t0 = time.perf_counter()
        org_profile(db, o)
        out.append((time.perf_counter() - t0) * 1000)
    return out


def pick_orgs(db: Path, n: int) -> list[str]:
    from hardtech.store.connection import Store

    with Store(db, read_only=True) as s:  # scored companies first: their profiles are the heaviest
        rows = s.con.execute("SELECT DISTINCT org_id FROM scores ORDER BY org_id LIMIT ?", [n]).fetchall()
    return [r[0] for r in rows]


def row(name: str, r: dict) -> str:
    return (f"| {name} | {r['requests']:,} | {r['rps']:,.0f} | {r['p50']:.1f} | {r['p90']:.1f} | {r['p99']:.1f} | "
            f"{r['max']:.1f} | {r['errors']} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--clients", type=int, default=100)
    ap.add_argument("--orgs", type=int, default=20)
    a = ap.parse_args()
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    with tempfile.TemporaryDirectory(prefix="bench-api-") as tmp:
        t0 = time.perf_counter()
        db = build_store(Path(tmp))
        orgs = pick_orgs(db, a.orgs)
        print(f"demo store built in {time.perf_counter() - t0:.1f} s; {len(orgs)} scored organisations profiled; "
              f"{a.clients} clients, {a.seconds:g} s per phase after a 2 s warm-up; {os.cpu_count()} CPUs")
        base = in_process_baseline(db, orgs)
        results = {}
        for workers in (1, 2):
            port = free_port()
            proc = start_server(db, port, workers)
            try:
                if workers == 1:
                    cold = cold_profiles(port, orgs)
                    results["health-1"] = load(port, ["/health"], a.clients, a.seconds)
                else:
                    cold_profiles(port, orgs)  # each worker fills its own cache; hit them all a few times
                    cold_profiles(port, orgs)
                paths = [f"/api/v1/organizations/{o}" for o in orgs]
                results[f"profile-{workers}"] = load(port, paths, a.clients, a.seconds)
            finally:
                stop(proc)
    print()
    print("| what | requests | req/s | p50 ms | p90 ms | p99 ms | max ms | errors |")
    print("|---|---|---|---|---|---|---|---|")
    print(row("`/health` baseline, 1 worker", results["health-1"]))
    print(row("profile (cached), 1 worker", results["profile-1"]))
    print(row("profile (cached), 2 workers", results["profile-2"]))
    print()
    print(f"first (uncached) profile request over HTTP: median {statistics.median(cold):.0f} ms, max {max(cold):.0f} ms")
    print(f"baseline: profile service called in-process, no cache: median {statistics.median(base):.0f} ms, "
          f"max {max(base):.0f} ms per organisation")
    best = min(results["profile-1"]["p99"], results["profile-2"]["p99"])
    print(f"target p99 ≤ 50 ms at {a.clients} clients: {'met' if best <= 50 else 'missed'} (best p99 {best:.1f} ms)")
    for k, r in results.items():
        if r["errors"]:
            print(f"{k}: {r['errors']} non-200 answers, e.g. {r['first_errors']}")


if __name__ == "__main__":
    main()
