"""Faults as tests (issue 13), in the spirit of DuckDB's storage fuzzer: random writes killed at random points.

A seeded sequence of at least 60 actions — imports of organisations, financials, rounds and patents
(new files, changed files, files with bad rows, re-imports) and hardness scoring — runs against one
store. Each action runs in a child process that is killed (SIGKILL) at a random moment, or while it
waits between writing everything and committing, or not at all. The same action also runs,
uninterrupted, on a copy of the store taken just before. After every action the store is reopened and
a checksum of every table is compared: it must equal the state before the action or the state the
uninterrupted copy reached, never anything in between; an action that finished must have reached the
second. Every tenth action, `check_store` reads every block.

Checksums leave out the columns that record when and by which run (import ids, timestamps), which
differ between two runs doing the same work.
"""

from __future__ import annotations

import csv
import multiprocessing
import os
import random
import shutil
import signal
import sys
import time
from pathlib import Path

import pytest

from hardtech.store.connection import Store
from hardtech.store.integrity import check_store, checksums

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fault_actions  # noqa: E402

ACTIONS = 60
SEED = int(os.environ.get("HARDTECH_FAULT_SEED", "13"))


def write(path: Path, header: list[str], rows: list[list]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


def make_files(tmp: Path, rng: random.Random) -> list[tuple]:
    """A pool of files: overlapping organisation batches with renamed and bad rows, financials that refer
    to organisations that may not be imported yet (rejected until they are), rounds and patents."""
    pool = []
    for k in range(5):
        ids = rng.sample(range(600), 300)
        rows = [[f"org{i}", rng.choice(["company", "startup", "university"]), f"Org {i} v{k % 2}", f"机构{i}",
                 rng.choice(["CN", "US", "Germany", "中国", "Atlantis"]), rng.choice(["", str(1950 + i % 70)])]
                for i in ids]
        pool.append(("import", "organizations",
                     str(write(tmp / f"orgs{k}.csv", ["org_id", "kind", "name_en", "name_zh", "country", "founded"],
                               rows))))
    for k in range(4):
        rows = [[f"org{rng.randrange(600)}", y, "CNY", rng.choice([str(rng.randrange(10**9)), "1.2亿", "NaN"]),
                 str(rng.randrange(10**7)), str(rng.randrange(5000))] for y in range(2015, 2021) for _ in range(50)]
        seen, uniq = set(), []
        for r in rows:
            if (r[0], r[1]) not in seen:
                seen.add((r[0], r[1]))
                uniq.append(r)
        pool.append(("import", "financials",
                     str(write(tmp / f"fin{k}.csv", ["org_id", "fiscal_year", "currency", "revenue", "rd_expense",
                                                     "employees"], uniq))))
    for k in range(3):
        rows = [[f"r{k}-{n}", f"org{rng.randrange(600)}", f"20{rng.randrange(10, 24)}-0{rng.randrange(1, 10)}-15",
                 rng.choice(["A轮", "B轮", "天使轮"]), rng.choice(["5000万元", "$3M", "未透露", "约1亿"])]
                for n in range(200)]
        pool.append(("import", "funding_rounds",
                     str(write(tmp / f"rounds{k}.csv", ["round_id", "org_id", "date", "stage", "amount"], rows))))
    for k in range(2):
        rows = [[f"CN{100000 + k * 5000 + n}A", f"Applicant {n}", "G06N 3/08|H01L 21/00", f"Title {n}",
                 f"201{n % 10}-01-0{1 + n % 9}"] for n in range(500)]
        pool.append(("import", "patents",
                     str(write(tmp / f"pat{k}.csv", ["publication_number", "applicant", "cpc_codes", "title",
                                                     "filing_date"], rows))))
    return pool


def copy_store(src: Path, dst: Path) -> None:
    for suffix in ("", ".wal"):
        if Path(str(dst) + suffix).exists():
            os.remove(str(dst) + suffix)
        if Path(str(src) + suffix).exists():
            shutil.copy(str(src) + suffix, str(dst) + suffix)


def state(db: Path) -> dict:
    with Store(db) as s:  # read-write: replays the WAL a killed writer left, as the next user would
        return checksums(s.con)


@pytest.mark.slow
def test_random_writes_killed_at_random_points_leave_a_consistent_store(tmp_path):
    rng = random.Random(SEED)
    pool = make_files(tmp_path, rng)
    db, shadow = tmp_path / "store.duckdb", tmp_path / "shadow.duckdb"
    Store(db).close()
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(fault_actions.PRELOAD)
    outcomes = {"killed": 0, "killed before commit": 0, "finished": 0}
    now = state(db)
    for step in range(ACTIONS):
        action = ("score",) if step % 20 == 19 else rng.choice(pool)  # scoring: ~8 s of Ibis compiling
        before = now
        copy_store(db, shadow)
        t = time.perf_counter()
        fault_actions.run(str(shadow), action)
        took = time.perf_counter() - t
        after = state(shadow)
        mode = rng.choice(["random", "random", "commit", "finish"])
        proc = ctx.Process(target=fault_actions.run, args=(str(db), action, 30.0 if mode == "commit" else 0.0))
        proc.start()
        wait = {"random": rng.uniform(0, 1.5 * took + 0.2), "commit": 1.2 * took + 0.5, "finish": 300}[mode]
        proc.join(wait)
        killed = proc.is_alive()
        if killed:
            os.kill(proc.pid, signal.SIGKILL)
            proc.join()
        else:
            assert proc.exitcode == 0, f"step {step}: {action} failed in the child"
        now = state(db)
        where = f"step {step}: {action} ({mode}, {'killed' if killed else 'finished'} after {wait:.2f} s)"
        if not killed:
            assert now == after, f"{where}: a finished action did not reach the state of the uninterrupted run"
            outcomes["finished"] += 1
        elif mode == "commit":
            assert now == before, f"{where}: a kill before the commit changed the store"
            outcomes["killed before commit"] += 1
        else:
            assert now in (before, after), f"{where}: the store is neither as before nor as after"
            outcomes["killed"] += 1
        if step % 10 == 9:
            bad = [r for r in check_store(db) if not r["ok"]]
            assert not bad, f"{where}: {bad}"
    print(f"\n{ACTIONS} actions: {outcomes}")
    assert outcomes["killed"] >= 10 and outcomes["killed before commit"] >= 5 and outcomes["finished"] >= 5
    with Store(db, read_only=True) as s:
        assert s.count("organizations") > 0 and s.count("financials") > 0
