"""What one running server holds: its settings, the store gate, the response cache and recent screenings.

Why a gate: DuckDB refuses, inside one process, a read-write connection to a file that is open
read-only (and the reverse). Reads (which open short read-only connections through the service
functions) share the gate; a write waits until no read is running, then has the file to itself.
Why a cache keyed by the store's fingerprint: profiles and aggregates are pure functions of the
store, and computing a hardness explanation takes ~0.5 s; when the file changes, everything is dropped.
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

from hardtech.services.search import fingerprint


@dataclass(frozen=True)
class ApiConfig:
    db: Path
    read_only: bool = True
    max_upload_bytes: int = 5 * 1024 * 1024
    max_upload_rows: int = 5000
    cache_entries: int = 2048
    kept_screenings: int = 32


class Gate:
    """A readers-writer lock: many readers, or one writer."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writer = False

    @contextmanager
    def read(self) -> Iterator[None]:
        with self._cond:
            while self._writer:
                self._cond.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                if not self._readers:
                    self._cond.notify_all()

    @contextmanager
    def write(self) -> Iterator[None]:
        with self._cond:
            while self._writer:
                self._cond.wait()
            self._writer = True
            while self._readers:
                self._cond.wait()
        try:
            yield
        finally:
            with self._cond:
                self._writer = False
                self._cond.notify_all()


class Cache:
    """Least-recently-used values per key, dropped whenever the store's fingerprint changes."""

    def __init__(self, db: Path, entries: int) -> None:
        self.db = db
        self.entries = entries
        self._values: OrderedDict[Any, Any] = OrderedDict()
        self._key_locks: dict[Any, threading.Lock] = {}
        self._lock = threading.Lock()
        self._fp = fingerprint(db)

    def _check(self) -> None:
        fp = fingerprint(self.db)
        if fp != self._fp:
            self._values.clear()
            self._fp = fp

    def peek(self, key: Any) -> Any:
        """The cached value or None, without computing (cheap: used on the event loop)."""
        with self._lock:
            self._check()
            v = self._values.get(key)
            if v is not None:
                self._values.move_to_end(key)
            return v

    def get(self, key: Any, compute: Callable[[], Any]) -> Any:
        """The value for key, computing it once even when many requests ask at the same time."""
        v = self.peek(key)
        if v is not None:
            return v
        with self._lock:
            klock = self._key_locks.setdefault(key, threading.Lock())
        with klock:
            v = self.peek(key)
            if v is None:
                v = compute()
                with self._lock:
                    self._values[key] = v
                    while len(self._values) > self.entries:
                        self._values.popitem(last=False)
        with self._lock:
            self._key_locks.pop(key, None)
        return v

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


class AppState:
    def __init__(self, config: ApiConfig) -> None:
        self.config = config
        self.gate = Gate()
        self.cache = Cache(config.db, config.cache_entries)
        self.screenings = Screenings(config.kept_screenings)

    def read(self, key: Any, compute: Callable[[], Any]) -> Any:
        """A cached read of the store under the shared side of the gate."""
        def run():
            with self.gate.read():
                return compute()
        return self.cache.get(key, run)
