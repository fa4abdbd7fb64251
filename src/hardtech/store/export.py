"""The store's tables as Parquet files: what `hardtech export --parquet DIR` writes and a Spark engine reads.

Why Parquet: it keeps every column's type (lists, dates, timestamps, doubles) exactly, every engine
reads it, and a cluster can read it from shared storage. One file per table, `<DIR>/<table>.parquet`,
and a `manifest.json` that says which store state (schema version, fingerprint) the files hold, so a
reader can tell a stale export from a current one. The copy is DuckDB's own `COPY … TO`: the SQL for
it lives here, in the store.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import tempfile
from pathlib import Path

from hardtech.errors import StoreError

MANIFEST = "manifest.json"
FORMAT = "hardtech-parquet"
# Tables written with their columns but none of their rows, and why: an export goes to shared storage
# (a cluster's disks, S3), and nothing that reads it needs these. Token checks run on the DuckDB file.
KEPT_BACK = {"api_tokens": "API credentials (token hashes) stay in the DuckDB file"}


def table_file(folder: str | Path, name: str) -> Path:
    """Where a table lies in an export folder."""
    return Path(folder) / f"{name}.parquet"


def export_parquet(store, out_dir: str | Path, source: str | None = None) -> list[dict]:
    """Every table of the store (and its schema_migrations) into `out_dir`; one row per table written.
    The tables in KEPT_BACK are written empty (their columns, no rows).

    Written into a temporary folder beside `out_dir` first and then moved in, so a reader never sees
    half an export; files of tables the store does not have are left alone.
    """
    from hardtech.schema import TABLES
    from hardtech.store.snapshot import fingerprint

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    names = ["schema_migrations", *TABLES]
    tmp = Path(tempfile.mkdtemp(prefix=".export-", dir=out))
    rows = []
    try:
        for name in names:
            target = tmp / f"{name}.parquet"
            # the path is ours (a temporary folder); quotes doubled all the same
            path_sql = str(target).replace("'", "''")
            where = " WHERE false" if name in KEPT_BACK else ""
            store.con.execute(f"COPY (SELECT * FROM \"{name}\"{where}) TO '{path_sql}' (FORMAT parquet, COMPRESSION zstd)")
            rows.append({"table": name, "rows": 0 if where else store.count(name), "file": str(table_file(out, name))})
        manifest = {"format": FORMAT, "schema_version": store.schema_version(),
                    "tables": {r["table"]: r["rows"] for r in rows},
                    "source": source or (str(store.path) if store.path else ":memory:"),
                    "fingerprint": list(fingerprint(store.path))[1:] if store.path else None,
                    "exported_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}
        for name in names:
            (tmp / f"{name}.parquet").replace(table_file(out, name))
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        (tmp / MANIFEST).replace(out / MANIFEST)
    except Exception as exc:
        if isinstance(exc, StoreError):
            raise
        raise StoreError(f"cannot export the store to {out}: {exc}") from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return rows


def read_manifest(folder: str | Path) -> dict | None:
    """The export's manifest, or None when `folder` holds no hardtech export."""
    p = Path(folder) / MANIFEST
    if not p.exists():
        return None
    try:
        m = json.loads(p.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise StoreError(f"{p} is not a hardtech export manifest: {exc}") from exc
    if m.get("format") != FORMAT:
        raise StoreError(f"{p} is not a hardtech export manifest (format {m.get('format')!r})")
    return m


def current_export(db: str | Path, folder: str | Path) -> Path:
    """`folder` holding an export of the DuckDB store `db` as it is now: exported again when the store changed."""
    from hardtech.store.connection import Store
    from hardtech.store.snapshot import fingerprint

    m = read_manifest(folder)
    if m is not None and m.get("fingerprint") == list(fingerprint(db))[1:]:
        return Path(folder)
    with Store(db, read_only=True) as store:
        export_parquet(store, folder)
    return Path(folder)
