"""What the benchmarks share: a process's own peak memory, and a synthetic store built quickly."""

from __future__ import annotations


def status_mb(key: str) -> float | None:
    """A memory figure of this process from /proc/self/status (VmHWM, VmRSS), in MB; None elsewhere."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def peak_mb() -> float:
    """This process's own peak RSS (VmHWM). Not ru_maxrss: a spawned child inherits its parent's."""
    hwm = status_mb("VmHWM")
    if hwm is not None:
        return hwm
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load_synthetic(store, tables: dict, names: tuple[str, ...], seed: int, sources: int | None = None) -> None:
    """Insert generated Arrow tables straight into the store (flagged synthetic), skipping the importer.

    Every row's source_name is 'synthetic seed <seed>'; with `sources` = N it is instead one of N names,
    'synthetic source <i>', i from a hash of the row's organisation id (of its first column), so stores of
    every size and chunking have the same N sources (an organisation's rows all share one)."""
    from hardtech.schema import TABLES

    for name in names:
        tbl = tables[name]
        store.con.register("src", tbl)
        data_cols = [c for c in TABLES[name].data_names if c in tbl.column_names]
        cols = ", ".join(f'"{c}"' for c in data_cols)
        source = f"'synthetic seed {seed}'"
        if sources is not None:
            key = "org_id" if "org_id" in tbl.column_names else tbl.column_names[0]
            source = f"'synthetic source ' || (hash(coalesce(\"{key}\"::VARCHAR, '')) % {int(sources)})"
        store.con.execute(
            f'INSERT INTO "{name}" ({cols}, source_name, synthetic, imported_at) '
            f"SELECT {cols}, {source}, TRUE, now() FROM src")
        store.con.unregister("src")


def load_truth_classifications(store, truth) -> None:
    """The generator's hidden themes written as classifications (model_version 'synthetic-truth'): a field
    theme becomes the organisation's field, any other theme (model innovation) its typology."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from hardtech.analytics.taxonomy import FIELD_IDS

    is_field = pc.is_in(truth.column("theme"), value_set=pa.array(list(FIELD_IDS)))
    store.con.register("truth_src", pa.table({"org_id": truth.column("org_id"), "theme": truth.column("theme"),
                                              "is_field": is_field}))
    store.con.execute(
        "INSERT INTO classifications (entity_type, entity_id, model_version, top_field, fields, typology, "
        "classified_at) SELECT 'organization', org_id, 'synthetic-truth', "
        "CASE WHEN is_field THEN theme END, CASE WHEN is_field THEN [theme] ELSE []::VARCHAR[] END, "
        "CASE WHEN is_field THEN NULL ELSE theme END, TIMESTAMP '2026-01-01' FROM truth_src")
    store.con.unregister("truth_src")


_FAILED = "__child_failed__"


def _guarded(target, args: tuple, q) -> None:
    try:
        target(*args, q)
    except BaseException as exc:  # the parent must hear about it instead of waiting forever
        q.put({_FAILED: f"{type(exc).__name__}: {exc}"})
        raise


def _returning(fn, args: tuple, q) -> None:
    q.put(fn(*args))


def call_in_child(fn, *args):
    """`fn(*args)` in a fresh spawned process (e.g. building a store, so its memory is freed before timing)."""
    return in_child(_returning, fn, args)


def in_child(target, *args) -> dict:
    """Run `target(*args, queue)` in a fresh spawned process and return what it put on the queue,
    so each measurement's peak memory is its own."""
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=_guarded, args=(target, args, q))
    p.start()
    res = q.get()
    p.join()
    if isinstance(res, dict) and _FAILED in res:
        what = args[0] if target is _returning else target
        raise RuntimeError(f"child {getattr(what, '__name__', what)} failed: {res[_FAILED]}")
    return res


def serve(args: list[str], port: int, prefix: str, wait_s: float) -> "subprocess.Popen":
    """`hardtech serve --port PORT` plus `args` in a subprocess, its stderr in a temporary log file (a full pipe
    would stall it); returns once /health answers, or exits with the log's tail."""
    import subprocess
    import sys
    import tempfile
    import time
    import urllib.request
    from pathlib import Path

    cmd = [sys.executable, "-m", "hardtech", "serve", "--port", str(port), *args]
    log = tempfile.NamedTemporaryFile(prefix=prefix, suffix=".log", delete=False)
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log)
    proc.log = log.name
    deadline = time.time() + wait_s
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1).read()
            return proc
        except OSError:
            if proc.poll() is not None:
                raise SystemExit(f"server exited: {Path(log.name).read_text()[-2000:]}")
            time.sleep(0.25)
    proc.kill()
    raise SystemExit(f"server did not start in {wait_s:.0f} s")


def stop_server(proc, wait_s: float) -> str:
    """Stop a server from `serve`; returns its log, which is then deleted."""
    import subprocess
    from pathlib import Path

    proc.terminate()
    try:
        proc.wait(timeout=wait_s)
    except subprocess.TimeoutExpired:
        proc.kill()
    text = Path(proc.log).read_text(errors="replace")
    Path(proc.log).unlink(missing_ok=True)
    return text
