"""Snapshots of the store for a long-running reader (the server), so that it never holds the store file.

Why: DuckDB lets a process write a store file only while no other process has it open, and inside
one process it refuses a read-write connection beside a read-only one. A server that kept the store
open would lock out `hardtech import` and every other CLI write; a server that opened it for each
request paid ~85 ms per open, made its own writes wait for every read and every read wait behind a
queued write. Instead the server copies the store file (and its write-ahead log) while it holds a
read-only connection for the instant of the copy, and answers every read from the copy, which one
connection (the anchor) keeps open so that opening it again costs microseconds. When the store
changes (its size or modification time, or its WAL's), the next request starts a new copy; requests
already running finish on theirs, and a copy is deleted when its last reader is done.

The server's own writes go through `writing()`: they are serialised with the copies (a read-only and
a read-write connection to one file cannot coexist in one process) and followed by a fresh copy.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import threading
import time
import weakref
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from hardtech.errors import StoreError


def fingerprint(db: str | Path) -> tuple:
    """Changes whenever the store file (or its write-ahead log) changes: the key of every cache."""
    p = str(Path(db).resolve())
    return _stat_key(p, p + ".wal")


def _stat_key(path: str, wal: str) -> tuple:
    out: list = [path]
    for f in (path, wal):
        try:
            st = os.stat(f)
            out += [st.st_mtime_ns, st.st_size]
        except FileNotFoundError:
            out += [None, None]
    return tuple(out)


class Snapshot:
    """One copy of the store, open read-only while anyone reads it; `state` names the store state it holds."""

    def __init__(self, path: Path, fp: tuple, seq: int = 0) -> None:
        from hardtech.store.connection import Store

        self.path = path
        self.seq = seq  # later copies have larger numbers
        self.fingerprint = fp
        self.state = hashlib.sha256(repr(fp[1:]).encode()).hexdigest()[:16]
        self.anchor = Store(path, read_only=True)  # keeps DuckDB's instance open: later opens are cheap
        self._users = 0
        self._retired = False
        self._lock = threading.Lock()

    def _take(self) -> None:
        with self._lock:
            self._users += 1

    def release(self) -> None:
        with self._lock:
            self._users -= 1
            drop = self._retired and not self._users
        if drop:
            self._delete()

    def retire(self) -> None:
        with self._lock:
            self._retired = True
            drop = not self._users
        if drop:
            self._delete()

    def _delete(self) -> None:
        self.anchor.close()
        for f in (self.path, self.path.with_name(self.path.name + ".wal")):
            f.unlink(missing_ok=True)
        # the Parquet export the Spark engine read this snapshot through (store.engine), when there is one
        shutil.rmtree(self.path.with_name(self.path.name + ".parquet"), ignore_errors=True)


class Snapshots:
    """The current snapshot of one store, renewed when the store changes.

    `lease()` never waits for a copy unless asked to (`fresh=True`, or when there is none yet): while
    one thread copies, the others go on reading the previous snapshot. When another process is writing
    the store (its lock refuses even a read-only open), the previous snapshot is kept and the copy is
    tried again at most every `retry_s` seconds.
    """

    def __init__(self, db: str | Path, retry_s: float = 0.25) -> None:
        self.db = Path(db).resolve()
        self._file, self._wal = str(self.db), str(self.db) + ".wal"
        self.retry_s = retry_s
        self._current: Snapshot | None = None
        self._copying = threading.Lock()  # held while copying and while the server writes the store
        self._swap = threading.Lock()  # makes "take the current copy" and "replace it" atomic
        self._folder: Path | None = None
        self._n = 0
        self._failed_at = 0.0

    def changed(self) -> bool:
        """Whether the store differs from the current copy (two `stat` calls: cheap enough for every request)."""
        cur = self._current
        return cur is None or _stat_key(self._file, self._wal) != cur.fingerprint

    def due(self) -> bool:
        """Changed, and not refused a moment ago (another process writing the store): time to copy it."""
        return time.monotonic() - self._failed_at >= self.retry_s and self.changed()

    def state(self) -> str | None:
        """The state of the current copy (None before the first one)."""
        cur = self._current
        return cur.state if cur is not None else None

    @contextmanager
    def lease(self, fresh: bool = False) -> Iterator[Snapshot]:
        """The snapshot to read, held until the block ends (a retired copy is deleted after its last reader)."""
        snap = self.acquire(fresh)
        try:
            yield snap
        finally:
            snap.release()

    def acquire(self, fresh: bool = False) -> Snapshot:
        """The snapshot to read, held until `release()`. Copied anew first only when the store changed and
        `fresh` is asked, or when there is no copy yet."""
        if self._current is None or (fresh and self.changed()):
            with self._copying:
                try:
                    if self._current is None or self.changed():
                        self._copy()
                except StoreError:
                    if self._current is None:  # another process writes it, and there is no copy to fall back on
                        raise
        with self._swap:
            snap = self._current
            if snap is None:
                raise StoreError("the server is shutting down")
            snap._take()
        return snap

    def renew(self) -> bool:
        """Copy now if the store changed and nobody else is copying; False when it could not (yet)."""
        if not self.due():
            return False
        if not self._copying.acquire(blocking=False):
            return False
        try:
            if self.changed():
                self._copy()
            return True
        except StoreError:
            if self._current is None:
                raise
            self._failed_at = time.monotonic()  # another process is writing: keep reading the last copy
            return False
        finally:
            self._copying.release()

    @contextmanager
    def writing(self) -> Iterator[None]:
        """The server's own write: no copy runs meanwhile; a fresh copy follows it."""
        with self._copying:
            yield
            if self.changed():
                self._copy()

    def _copy(self) -> None:
        import duckdb

        if self._folder is None:
            self._folder = Path(tempfile.mkdtemp(prefix="hardtech-serve-"))
            weakref.finalize(self, shutil.rmtree, str(self._folder), True)
        self._n += 1
        dst = self._folder / f"snapshot-{self._n}.duckdb"
        try:
            con = duckdb.connect(str(self.db), read_only=True)  # a shared lock: no writer in the meantime
        except duckdb.Error as exc:
            raise StoreError(f"the store is busy or cannot be opened ({type(exc).__name__}); try again") from exc
        try:
            fp = _stat_key(self._file, self._wal)
            shutil.copyfile(self.db, dst)
            wal = self.db.with_name(self.db.name + ".wal")
            if wal.exists():
                shutil.copyfile(wal, dst.with_name(dst.name + ".wal"))
        finally:
            con.close()
        snap = Snapshot(dst, fp, self._n)
        with self._swap:
            old, self._current = self._current, snap
        if old is not None:
            old.retire()

    def close(self) -> None:
        """Retire the current copy (deleted when its last reader is done); a later lease copies anew."""
        with self._copying:
            with self._swap:
                old, self._current = self._current, None
            if old is not None:
                old.retire()
