"""A large classification call split over worker processes forked from the caller (issue 12: speed).

Why processes, not threads: about half of a verdict's cost is Python that holds the GIL (cleaning,
cutting words, organisation kinds, building records); only the matrix products would run on a
second thread. Why fork: a forked worker starts with everything the caller already loaded — the
model, the lexicon, the encoder and its word caches — so nothing is loaded or pickled on the way
in (the inputs are read from the inherited memory); only each part's columns, and its evidence
strings when asked, come back. Where fork does not exist (Windows) the call runs in-process.

Why parts along the in-process steps: a matrix product's last float bit depends on its number of
rows (BLAS picks its kernel by shape), so each part is a run of whole steps of `step` rows starting
where the in-process path starts one. Every part then computes exactly what the in-process path
computes, and any number of workers gives the same verdicts bit for bit.

Why one BLAS thread per process while the parts run: numpy's OpenBLAS starts as many threads as
there are cores, so two processes on two cores run four BLAS threads, which wait on each other
and spin (on a shared 2-core machine a 324-row product took 10 ms of CPU on two threads and
4 ms on one). The processes already fill the cores, so each part's products run on one thread (the
caller's count is restored after). OpenBLAS never splits a product's inner sum over its threads,
so the bits do not depend on the thread count (tests/test_classify_batch.py checks the verdicts
under both counts).

Why a bare fork and a pipe per worker, not a process pool: a pool costs a manager thread, queues
and their feeder threads, and a join of its workers at shutdown; on the shared 2-core machine that
was ~65 ms a call against ~12 ms for fork + pipe (measured with a loaded classifier), out of a
~1 s budget for 20,000 texts. A worker writes its pickled result (or its exception) to its pipe
and leaves with os._exit; a worker that ends without writing (killed, out of memory) is an error
here (BrokenProcessPool, as a pool would raise), never a hang.
"""

from __future__ import annotations

import ctypes
import functools
import gc
import multiprocessing as mp
import os
import pickle
import signal
import threading
from concurrent.futures.process import BrokenProcessPool
from contextlib import ExitStack, contextmanager
from typing import Any, Callable


def cores() -> int:
    """The cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def can_fork() -> bool:
    """Fork exists here, and this process may have children (a multiprocessing pool's daemonic worker
    may not: it classifies in-process)."""
    return "fork" in mp.get_all_start_methods() and not mp.current_process().daemon


def plan(n: int, jobs: int, step: int) -> list[tuple[int, int]]:
    """Contiguous (start, stop) row ranges, one per worker, each made of whole steps of `step` rows
    (the last step may be short) and as even in steps as they can be; fewer parts than `jobs` when
    there are fewer steps."""
    steps = max(1, -(-n // step))
    k = max(1, min(jobs, steps))
    bounds = [round(i * steps / k) for i in range(k + 1)]
    return [(min(b * step, n), min(e * step, n)) for b, e in zip(bounds, bounds[1:])]


def _worker(fn: Callable[[int, int], Any], part: tuple[int, int], locks: list, out: int) -> None:
    """In a forked child: run the part, write ("ok", result) or ("error", exception) to `out`, leave
    without running the caller's exit handlers."""
    code = 1
    try:
        _fresh_locks(locks)
        try:
            with one_blas_thread():
                msg = ("ok", fn(*part))
        except BaseException as exc:  # noqa: BLE001 - every failure goes back to the caller
            msg = ("error", exc)
        try:
            data = pickle.dumps(msg, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:  # noqa: BLE001 - an exception or result that cannot be pickled
            data = pickle.dumps(("error", RuntimeError(f"a worker's result could not be sent back: {exc!r}")))
        with os.fdopen(out, "wb") as f:
            f.write(data)
        code = 0
    finally:
        os._exit(code)


def _collect(pid: int, fd: int) -> Any:
    """A worker's result, read from its pipe to the end; its exception raised here."""
    try:
        with os.fdopen(fd, "rb") as f:
            data = f.read()
    except BaseException:  # interrupted here (Ctrl-C): the worker is stopped, not awaited
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        raise
    os.waitpid(pid, 0)
    if not data:
        raise BrokenProcessPool("a classify worker process ended without a result (killed, or out of memory?)")
    status, value = pickle.loads(data)
    if status == "error":
        raise value
    return value


def _openblas() -> tuple:
    """(get, set) thread-count functions of every OpenBLAS this process has loaded (numpy's, scipy's);
    none where /proc/self/maps cannot be read (not Linux) or a library has no such functions."""
    try:
        with open("/proc/self/maps") as f:
            paths = {line.split()[-1] for line in f if "openblas" in line.rsplit("/", 1)[-1].lower()}
    except OSError:
        return ()
    return _openblas_of(tuple(sorted(p for p in paths if p.startswith("/"))))


@functools.lru_cache(maxsize=8)
def _openblas_of(paths: tuple[str, ...]) -> tuple:
    out = []
    for path in paths:
        try:
            lib = ctypes.CDLL(path, mode=getattr(os, "RTLD_NOLOAD", 0) | ctypes.RTLD_GLOBAL)
        except OSError:
            continue
        for prefix in ("scipy_openblas", "openblas"):
            for suffix in ("64_", ""):
                get = getattr(lib, f"{prefix}_get_num_threads{suffix}", None)
                set_ = getattr(lib, f"{prefix}_set_num_threads{suffix}", None)
                if get is not None and set_ is not None:
                    get.restype, set_.argtypes = ctypes.c_int, [ctypes.c_int]
                    out.append((get, set_))
                    break
            else:
                continue
            break
    return tuple(out)


@contextmanager
def one_blas_thread():
    """numpy's matrix products on one thread inside the block (the process's count restored after)."""
    libs = _openblas()
    before = [get() for get, _ in libs]
    for _, set_ in libs:
        set_(1)
    try:
        yield
    finally:
        for (_, set_), n in zip(libs, before):
            set_(n)


def _fresh_locks(owners: list[tuple[object, str]]) -> None:
    """In a worker: the locks the caller held while forking are copies in the held state; the worker
    has one thread, so it gets new, open ones."""
    reentrant = type(threading.RLock())
    for owner, attr in owners:
        setattr(owner, attr, threading.RLock() if isinstance(getattr(owner, attr), reentrant) else threading.Lock())


def run_parts(fn: Callable[[int, int], Any], parts: list[tuple[int, int]],
              locks: list[tuple[object, str]] = ()) -> list[Any]:
    """`fn(start, stop)` for every part, the first in this process and the others in forked workers;
    results in part order. `locks` ((owner, attribute) pairs) are held while forking, so no worker
    starts from a half-updated cache another thread of the caller was changing, and are replaced by
    fresh ones in each worker. A worker's exception is raised here."""
    if len(parts) <= 1 or not can_fork():
        return [fn(*p) for p in parts]
    locks = list(locks)
    children: list[tuple[int, int]] = []  # (pid, read end of its pipe)
    try:
        gc.freeze()  # the caller's objects are never collected in a worker: their pages stay shared
        try:
            with ExitStack() as held:
                for owner, attr in locks:
                    held.enter_context(getattr(owner, attr))
                for part in parts[1:]:
                    r, w = os.pipe()
                    pid = os.fork()
                    if pid == 0:  # the worker: never returns
                        os.close(r)
                        for _, other in children:
                            os.close(other)
                        _worker(fn, part, locks, w)
                    os.close(w)
                    children.append((pid, r))
        finally:
            gc.unfreeze()
        with one_blas_thread():
            first = fn(*parts[0])
        out = [first]
        while children:
            out.append(_collect(*children.pop(0)))  # reads the pipe to its end and closes it
        return out
    finally:
        for pid, fd in children:  # after an error here or in a worker: the rest are stopped, not awaited
            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            except OSError:
                pass
            os.close(fd)


def lock_owners(encoder: object) -> list[tuple[object, str]]:
    """The classifier's process-wide caches that other threads may be growing: the unit vocabulary,
    the word → units table and the encoder's word columns (when it keeps them behind a lock)."""
    from hardtech.analytics.classify.units import VOCAB, WORDS

    owners: list[tuple[object, str]] = [(VOCAB, "_lock"), (WORDS, "_lock")]
    if isinstance(getattr(encoder, "_lock", None), type(threading.Lock())):
        owners.append((encoder, "_lock"))
    return owners
