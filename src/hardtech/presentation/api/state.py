"""What one running server holds: its settings, the store's snapshots, the answers, the pools, recent screenings.

How a read is answered (`AppState.read`):
- every read runs on a snapshot of the store (`store.snapshot`), never on the store file, so reads
  never wait for a write, writes never wait for reads, and CLI writes work while the server runs;
- answers are kept in memory with the store state they were computed on; an answer for the current
  state is sent at once from the event loop;
- after the store changed, the previous answer is still sent at once (marked stale in the
  `X-Hardtech-Stale` header) while the new one is computed in the background, on spare workers only;
  `Cache-Control: no-cache` asks to wait for the current state instead;
- anything to compute goes to the `reads` pool (bounded; 429 when full). Reports and screening go to
  the `jobs` pool, imports to the `writes` pool, each with workers of their own, so reads never wait
  behind them. All three run in worker processes (`jobs.py`), so that no computation holds the
  interpreter lock that the event loop needs to send cached answers.
"""

from __future__ import annotations

import asyncio
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Hashable

from hardtech.presentation.api.jobs import on_snapshot, warm, warm_reads, warm_writes
from hardtech.presentation.api.pool import Busy, WorkPool
from hardtech.services.store_file import open_file, snapshots


@dataclass(frozen=True)
class ApiConfig:
    db: Path
    read_only: bool = True
    max_upload_bytes: int = 5 * 1024 * 1024
    max_upload_rows: int = 5000
    cache_entries: int = 2048
    kept_screenings: int = 32
    read_workers: int = 2
    read_queue: int = 256
    job_workers: int = 1
    job_queue: int = 2
    write_queue: int = 4
    processes: bool = True  # reports, screening and imports in worker processes (False: threads, for tests)


class Answers:
    """Computed answers per key (least recently used dropped), each with the store state it belongs to.

    A value computed on an older snapshot (a late background refresh) never replaces one of a newer
    snapshot: `seq` orders the snapshots."""

    def __init__(self, entries: int) -> None:
        self.entries = entries
        self._values: OrderedDict[Hashable, tuple[str, Any, int]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> tuple[str, Any] | None:
        with self._lock:
            hit = self._values.get(key)
            if hit is None:
                return None
            self._values.move_to_end(key)
            return hit[0], hit[1]

    def put(self, key: Hashable, state: str, value: Any, seq: int = 0) -> None:
        with self._lock:
            old = self._values.get(key)
            if old is not None and old[2] > seq:
                return
            self._values[key] = (state, value, seq)
            self._values.move_to_end(key)
            while len(self._values) > self.entries:
                self._values.popitem(last=False)

    def drop(self, which: Callable[[Hashable, Any], bool]) -> None:
        """Forget the answers for which which(key, value) is true."""
        with self._lock:
            for key in [k for k, (_, v, _) in self._values.items() if which(k, v)]:
                del self._values[key]

    def clear(self) -> None:
        with self._lock:
            self._values.clear()


class Screenings:
    """Recent screening results in memory, under unguessable ids: the download links of the dashboard."""

    def __init__(self, keep: int) -> None:
        self.keep = keep
        self._items: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, result: Any) -> str:
        rid = secrets.token_urlsafe(16)
        with self._lock:
            self._items[rid] = result
            while len(self._items) > self.keep:
                self._items.popitem(last=False)
        return rid

    def get(self, rid: str) -> Any:
        with self._lock:
            return self._items.get(rid)


@dataclass(frozen=True)
class Answer:
    value: Any
    state: str
    stale: bool = False

    def headers(self) -> dict[str, str]:
        h = {"X-Hardtech-State": self.state}
        if self.stale:
            h["X-Hardtech-Stale"] = "1"
        return h


class AppState:
    def __init__(self, config: ApiConfig) -> None:
        self.config = config
        self.snapshots = snapshots(config.db)
        self.answers = Answers(config.cache_entries)
        self.reads = WorkPool("read", config.read_workers, config.read_queue, config.processes, warm_reads)
        self.jobs = WorkPool("report and screening", config.job_workers, config.job_queue, config.processes, warm)
        self.writes = WorkPool("import", 1, config.write_queue, config.processes, warm_writes)
        self.screenings = Screenings(config.kept_screenings)
        self.reports = Answers(16)  # per (language, format, scope, title): the bytes sent
        self._renewing = threading.Lock()
        self._writers = 0  # writes running or waiting for the store
        self._writers_lock = threading.Lock()

    # -- reads ----------------------------------------------------------------------------------
    async def read(self, key: Hashable, compute: Callable[[str], Any], fresh: bool = False) -> Answer:
        """compute(snapshot path) for the current store state, answered from memory whenever possible.

        `compute` runs in the reads pool (worker processes unless `processes=False`), so it must be
        picklable: a module-level function, or a `functools.partial` of one with picklable arguments."""
        self._renew_in_background()
        hit = self.answers.get(key)
        current = self.snapshots.state()
        if hit is not None and hit[0] == current and not (fresh and self.snapshots.changed()):
            return Answer(hit[1], hit[0])
        if hit is not None and not fresh and current is not None:
            self._refresh_in_background(key, compute)
            return Answer(hit[1], hit[0], stale=True)
        if current is not None and not fresh:
            snap = self.snapshots.acquire()  # a copy exists: no waiting
        else:
            snap = await asyncio.to_thread(self.snapshots.acquire, fresh)  # may copy the store first
        try:
            hit = self.answers.get(key)
            if hit is not None and hit[0] == snap.state:
                return Answer(hit[1], hit[0])
            value = await self.reads.run(("read", key, snap.state), on_snapshot, str(snap.path), compute)
        finally:
            snap.release()
        self.answers.put(key, snap.state, value, snap.seq)
        return Answer(value, snap.state)

    def _refresh_in_background(self, key: Hashable, compute: Callable[[str], Any]) -> None:
        """Recompute a stale answer, but only on a worker that would otherwise be idle."""
        if not self.reads.has_room(spare_only=True):
            return
        snap = self.snapshots.acquire()
        try:
            fut = self.reads.submit(("read", key, snap.state), on_snapshot, str(snap.path), compute)
        except Busy:  # full after all: the next request will try again
            snap.release()
            return

        def done(f):
            snap.release()
            if not f.cancelled() and f.exception() is None:
                self.answers.put(key, snap.state, f.result(), snap.seq)

        fut.add_done_callback(done)

    def _renew_in_background(self) -> None:
        """When the store file changed, copy it on a thread of its own; reads go on meanwhile."""
        if not self.snapshots.due() or not self._renewing.acquire(blocking=False):
            return

        def renew():
            try:
                self.snapshots.renew()
            except Exception:  # no copy could be made: the next read says why (`lease` raises it)
                pass
            finally:
                self._renewing.release()

        threading.Thread(target=renew, name="hardtech-snapshot", daemon=True).start()

    # -- jobs and writes --------------------------------------------------------------------------
    async def job(self, key: Hashable, fn: Callable[..., Any], *args: Any) -> tuple[str, Any]:
        """(state, fn(snapshot path, state, *args)) in the jobs pool (reports): never in the way of reads.
        The snapshot of the current store state is held until the job is done."""
        snap = await asyncio.to_thread(self.snapshots.acquire, True)
        try:
            return snap.state, await self.jobs.run(("job", key), fn, str(snap.path), snap.state, *args)
        finally:
            snap.release()

    def write(self, fn: Callable[[Any], Any]) -> Any:
        """fn(store) on a read-write connection to the store itself (small writes: watchlists), then a fresh
        snapshot. Reads go on meanwhile, on the previous snapshot."""
        with self.snapshots.writing():
            with open_file(self.config.db) as store:
                return fn(store)

    def write_job(self, fn: Callable[..., Any], *args: Any) -> Any:
        """fn(store path, *args) in the writes pool (imports), one at a time, then a fresh snapshot; 429 when
        `write_queue` writes already wait. Blocking: call it from a worker thread."""
        import secrets

        with self._writers_lock:
            if self._writers > self.config.write_queue:
                raise Busy(self.writes.name, self.writes._retry_after())
            self._writers += 1
        try:
            with self.snapshots.writing():  # one write at a time, and no copy of the store while it is written
                return self.writes.call(("write", secrets.token_hex(8)), fn, str(self.config.db), *args)
        finally:
            with self._writers_lock:
                self._writers -= 1

    def warm_up(self) -> None:
        """At start: the first copy of the store, and the read workers started (their imports take seconds),
        so that the first requests do not pay for them."""
        from hardtech.presentation.api.jobs import ping

        self.snapshots.acquire().release()
        for k in range(self.reads.workers):
            self.reads.submit(("warm-up", k), ping)

    def close(self) -> None:
        self.reads.close()
        self.jobs.close()
        self.writes.close()
        self.snapshots.close()

