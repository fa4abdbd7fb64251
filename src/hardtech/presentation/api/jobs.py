"""The server's heavy work as plain functions of plain arguments, so that it can run in worker processes.

Why processes: a report is tens of seconds of Python (the PDF more), a screening classifies a whole
upload, an import parses and checks every row. On a thread of the server they hold the interpreter
lock for most of that time, and every cached answer the event loop sends waits its turn behind
them. In a process of their own they only share the cores. Each function takes paths and values,
not the server's objects, and returns what the response needs.

`report_job` keeps the last analyses (per store state, language and scope) in the worker process: a
new title for the same store is a render, not a new analysis.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
from collections import OrderedDict
from pathlib import Path

_analyses: OrderedDict = OrderedDict()
_lock = threading.Lock()
KEPT_ANALYSES = 4


_anchors: OrderedDict = OrderedDict()  # snapshot path → an open connection, in this worker process


READ_NICE, WRITE_NICE, JOB_NICE = 2, 5, 10  # worker processes yield the cores to the server's event loop


def _lower_priority(step: int) -> None:
    """In a worker process: a lower scheduling priority, so that the event loop, which sends the cached answers
    most requests get, is not starved of a core by a computation; harmless where `os.nice` is missing."""
    import os

    try:
        os.nice(step)
    except (AttributeError, OSError):
        pass


def warm_reads() -> None:
    """Import what reads need once, when a reads worker process starts; lower its priority."""
    _lower_priority(READ_NICE)
    import hardtech.services.ecosystem  # noqa: F401
    import hardtech.services.scoring  # noqa: F401
    import hardtech.services.search  # noqa: F401


def ping() -> bool:
    """Nothing: submitted at start so that the worker processes are spawned before the first request."""
    return True


def on_snapshot(path: str, compute):
    """compute(path) with a connection to the snapshot held open in this worker, so that the service's own
    short opens of it cost microseconds instead of ~85 ms; the connections of older snapshots are closed."""
    from hardtech.services.store_file import hold_open

    with _lock:
        if path in _anchors:
            _anchors.move_to_end(path)
        else:
            _anchors[path] = hold_open(path)  # one core per worker: the workers are the parallelism
            while len(_anchors) > 2:
                _anchors.popitem(last=False)[1].close()
    return compute(path)


def warm_writes() -> None:
    """Import what imports need once, when the writes worker starts; lower its priority (less than a report's:
    an import holds the store's write side while it runs)."""
    _lower_priority(WRITE_NICE)
    from hardtech.services.data import preload_importer

    preload_importer()


def warm() -> None:
    """Import what the jobs need once, when a worker process starts (not in the first request); lower its
    priority."""
    _lower_priority(JOB_NICE)
    import hardtech.presentation.report.paper  # noqa: F401
    import hardtech.services.screening  # noqa: F401
    from hardtech.services.data import preload_importer

    preload_importer()


def _analysis(path: str, state: str, lang: str, scopes: tuple[str, ...]):
    from hardtech.presentation.report.paper import report_analysis

    key = (state, lang, scopes)
    with _lock:
        if key in _analyses:
            _analyses.move_to_end(key)
            return _analyses[key]
    report = report_analysis(path, lang, scopes)
    with _lock:
        _analyses[key] = report
        while len(_analyses) > KEPT_ANALYSES:
            _analyses.popitem(last=False)
    return report


def report_job(path: str, state: str, label: str, lang: str, pdf: bool, scopes: tuple[str, ...],
               title: str | None) -> tuple[bytes, str]:
    """The white paper of the snapshot at `path` (store state `state`) as (bytes, media type)."""
    from hardtech.errors import UsageError
    from hardtech.presentation.report.paper import render_report
    from hardtech.services.store_file import open_file

    with open_file(path, read_only=True):  # held open: the report's many short opens reuse it
        analysis = _analysis(path, state, lang, scopes)
    if not pdf:
        return render_report(analysis, title, label).encode("utf-8"), "text/html; charset=utf-8"
    folder = Path(tempfile.mkdtemp(prefix="hardtech-report-"))
    try:
        out = folder / f"report-{lang}.pdf"
        render_report(analysis, title, label, out)
        if not out.exists():
            raise UsageError("this installation could not make the PDF; ask for the HTML report")
        return out.read_bytes(), "application/pdf"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def screening_job(upload: str):
    """The ranked shortlist of an uploaded file of applicants (a `ScreenResult`)."""
    from hardtech.services.screening import screen_file

    return screen_file(upload)


def import_job(db: str, table: str, upload: str, mapping: str | None, source: str, synthetic: bool) -> dict:
    """Import an uploaded file into the store at `db` (the caller holds the store's write side meanwhile)."""
    from hardtech.services.data import import_file

    result = import_file(db, table, upload, mapping=mapping, source=source, synthetic=True if synthetic else None)
    return {"import_id": result.import_id, "tables": result.summary_rows(), "rejected": result.rejected,
            "rejects": result.rejects[:100], "ignored_columns": result.ignored_columns}
