"""Sources services: what each source connector and shipped mapping provides, and importing through one.

`hardtech sources` and `hardtech import … --mapping NAME` call these; connectors and mapping
files share one namespace of source names.
"""

from __future__ import annotations

from pathlib import Path


def _tables(outputs) -> str:
    seen = []
    for o in outputs:
        if o.table not in seen:
            seen.append(o.table)
    return ", ".join(seen)


def source_rows(name: str | None = None) -> list[dict]:
    """One row per source (connector or shipped mapping); with `name`, one row per table it fills."""
    from hardtech.errors import UsageError
    from hardtech.sources.connectors import connectors
    from hardtech.sources.mapping import load_mapping, shipped_mappings

    conns = connectors()
    maps = shipped_mappings()
    if name is not None:
        if name in conns:
            c = conns[name]
            files = "; ".join(f"{f.key}{'' if f.needed else ' (optional)'}: {', '.join(f.patterns[:2])}" for f in c.files)
            return [{"source": name, "table": o.table + (" (stubs)" if o.role == "stub" else ""),
                     "columns": ", ".join(o.columns),
                     "units": ", ".join(f"{k}: {v}" for k, v in o.units.items()) or None,
                     "merge": "fills in, never blanks" if o.patch else ("adds new keys only" if o.insert_only
                                                                       else "replaces changed rows"),
                     "files": files, "licence": c.licence, "unresolved": c.unresolved} for o in c.outputs]
        if name in maps:
            m = load_mapping(maps[name])
            return [{"source": name, "table": t.table, "columns": ", ".join(t.columns),
                     "units": ", ".join(f"{k}: {s.unit}" for k, s in t.columns.items() if s.unit) or None,
                     "merge": "fills in, never blanks" if t.patch else ("adds new keys only" if t.insert_only
                                                                       else "replaces changed rows"),
                     "files": "one file (see docs/import.md)", "licence": m.licence or None, "unresolved": None}
                    for t in m.targets.values()]
        raise UsageError(f"no source {name!r}; sources: {', '.join(sorted([*conns, *maps]))}")
    rows = [{"name": n, "kind": "connector", "title": c.title, "tables": _tables(c.outputs),
             "columns": "; ".join(f"{o.table}: {', '.join(o.columns)}" for o in c.outputs if o.role != "stub"),
             "licence": c.licence,
             "point_at": c.point_at, "description": c.description, "source_url": c.source_url}
            for n, c in conns.items()]
    for n, path in sorted(maps.items()):
        m = load_mapping(path)
        rows.append({"name": n, "kind": "mapping", "title": m.source, "tables": ", ".join(m.targets),
                     "columns": "; ".join(f"{t}: {', '.join(s.columns)}" for t, s in m.targets.items()),
                     "licence": m.licence or None, "point_at": "one CSV/TSV/Parquet/JSONL/Excel file",
                     "description": m.source, "source_url": m.source_url or None})
    return rows


def import_source(db: str | Path, name: str, path: str | Path, table: str = "auto", source: str | None = None,
                  synthetic: bool | None = None, progress=None):
    """Import a downloaded file (or folder, or zip) through source connector `name`."""
    from hardtech.store.connection import Store
    from hardtech.store.connector_load import run_connector

    with Store(db) as store:
        return run_connector(store, name, path, table=table, source=source, synthetic=synthetic, progress=progress)
