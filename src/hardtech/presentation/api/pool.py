"""A bounded worker pool for the server's expensive work, with a queue limit and one computation per key.

Why: a request that computes (a first-time profile, a search nobody asked before, a report, a
screening upload) must not take a thread per client: under 150 clients that is 150 computations
fighting for two cores, and every cached answer waits behind them. Here at most `workers` run at
once and at most `queue` more wait; past that the request is refused at once with `Busy` (HTTP 429
with `Retry-After`, estimated from recent durations) instead of queueing without end. Requests for
the same key share one computation, and a client that gives up does not cancel work that others
(or the cache) will use.

Bookkeeping uses `concurrent.futures` and a lock, not the event loop, so the pool works from any
thread and under any loop (uvicorn, the test client, schemathesis). With `processes=True` the
workers are spawned processes (for work that would hold the interpreter lock for seconds: see
`jobs.py`); the function and its arguments must then be picklable.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections import deque
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from typing import Any, Callable, Hashable


class Busy(Exception):
    """The pool is full: the caller should answer 429 with `Retry-After: retry_after`."""

    def __init__(self, pool: str, retry_after: int) -> None:
        super().__init__(f"the server is busy with other {pool} work; try again in {retry_after} s")
        self.pool = pool
        self.retry_after = retry_after


class WorkPool:
    def __init__(self, name: str, workers: int, queue: int, processes: bool = False,
                 initializer: Callable[[], None] | None = None) -> None:
        self.name = name
        self.workers = max(1, int(workers))
        self.queue = max(0, int(queue))
        self.processes = processes
        self.initializer = initializer
        self._executor: Executor | None = None  # started on first use, again after `close`
        self._lock = threading.Lock()
        self._inflight: dict[Hashable, Future] = {}
        self._durations: deque[float] = deque(maxlen=50)

    @property
    def pending(self) -> int:
        """Computations running or waiting."""
        with self._lock:
            return len(self._inflight)

    def has_room(self, spare_only: bool = False) -> bool:
        """Whether a new computation would be accepted; `spare_only`: would start at once and still leave a
        worker free for the next request (background work never takes the last one)."""
        with self._lock:
            if spare_only:
                return len(self._inflight) < max(1, self.workers - 1)
            return len(self._inflight) < self.workers + self.queue

    def submit(self, key: Hashable, fn: Callable[..., Any], *args: Any) -> Future:
        """The future of fn(*args) for this key: the one already running, a new one, or `Busy`."""
        with self._lock:
            fut = self._inflight.get(key)
            if fut is not None:
                return fut
            if len(self._inflight) >= self.workers + self.queue:
                raise Busy(self.name, self._retry_after())
            if self._executor is None:
                self._executor = self._start()
            t0 = time.perf_counter()
            fut = self._executor.submit(fn, *args)
            self._inflight[key] = fut
        fut.add_done_callback(lambda _f, key=key, t0=t0: self._forget(key, _f, t0))
        return fut

    def _start(self) -> Executor:
        if self.processes:
            import multiprocessing

            return ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"),
                                       initializer=self.initializer)
        return ThreadPoolExecutor(self.workers, thread_name_prefix=f"hardtech-{self.name}")

    async def run(self, key: Hashable, fn: Callable[..., Any], *args: Any) -> Any:
        """Await fn(*args) computed in the pool (shared with any request for the same key)."""
        fut = self.submit(key, fn, *args)
        return await asyncio.shield(asyncio.wrap_future(fut))

    def call(self, key: Hashable, fn: Callable[..., Any], *args: Any) -> Any:
        """The blocking form of `run`, for code already on a worker thread."""
        return self.submit(key, fn, *args).result()

    def _forget(self, key: Hashable, fut: Future, t0: float) -> None:
        self._durations.append(time.perf_counter() - t0)  # from submission: waiting included, so a safe estimate
        with self._lock:
            if self._inflight.get(key) is fut:
                del self._inflight[key]

    def _retry_after(self) -> int:
        typical = (sum(self._durations) / len(self._durations)) if self._durations else 1.0
        waves = (len(self._inflight) + 1) / self.workers
        return max(1, min(600, math.ceil(typical * waves)))

    def close(self) -> None:
        """Stop the threads (running work finishes; waiting work is cancelled); a later submit starts anew."""
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)
