"""Data services: importing, listing rejects, store status, mappings, taxonomy, synthetic data."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from hardtech.errors import UsageError
from hardtech.store.connection import Store


def import_file(db: str | Path, table: str, file: str | Path, mapping=None, source: str | None = None,
                synthetic: bool | None = None, sheet: str | None = None, progress=None, encoding: str | None = None,
                decimal: str | None = None, licence: str | None = None):
    """Import one file through a mapping (file or shipped) or, when `mapping` names one, a source connector."""
    from hardtech.sources.connectors import is_connector
    from hardtech.store.importer import import_file as _import

    if is_connector(mapping) and not Path(mapping).exists():
        if encoding or decimal:
            from hardtech.errors import UsageError

            raise UsageError(f"connector {mapping} reads its files as their source writes them; "
                             "--encoding and --decimal are for imports through a mapping")
        from hardtech.services.sources import import_source

        return import_source(db, mapping, file, table, source=source, synthetic=synthetic, progress=progress)
    with Store(db) as store:
        return _import(store, table, file, mapping=mapping, source=source, synthetic=synthetic, sheet=sheet,
                       progress=progress, encoding=encoding, decimal=decimal, licence=licence)


def preload_importer() -> None:
    """Import the importer (readers, checks, mappings) now, when a worker process starts, so that the first
    upload does not wait for it."""
    import hardtech.store.importer  # noqa: F401


def list_rejects(db: str | Path, import_id: str | None = None, limit: int = 100) -> list[dict]:
    from hardtech.store.rejects_read import reject_rows

    with Store(db, read_only=True) as store:
        return reject_rows(store, import_id, limit)


def store_status(db: str | Path) -> list[dict]:
    from hardtech.schema import TABLES

    from hardtech.store.integrity import damaged, truncation
    from hardtech.store.table_stats import synthetic_count

    with Store(db, read_only=True) as store:
        why = truncation(store.con, store.path)
        if why:  # its counts would still read as normal: refuse to print them
            raise damaged(str(db), why)
        version = store.schema_version()
        rows = []
        for name, t in TABLES.items():
            n = store.count(name)
            synth = None
            if t.provenance:
                synth = synthetic_count(store, name)
            rows.append({"table": name, "rows": n, "synthetic_rows": synth, "schema_version": version})
        return rows


def check_store_rows(db: str | Path) -> list[dict]:
    """`hardtech check`: every integrity check on the store file (see store.integrity)."""
    from hardtech.store.integrity import check_store

    return check_store(db)


def shipped_mapping_names() -> list[str]:
    """The names of the mappings shipped with hardtech (what an upload may name; never a path)."""
    from hardtech.sources.mapping import shipped_mappings

    return sorted(shipped_mappings())


def count_file_rows(path: str | Path) -> int:
    """Data rows in a table file (CSV/TSV/Excel/JSONL/Parquet), read as an import reads it: an upload's size check."""
    from hardtech.sources.readers import read_table

    return read_table(path).table.num_rows


def shipped_mapping_rows() -> list[dict]:
    from hardtech.sources.mapping import load_mapping, shipped_mappings

    rows = []
    for name, path in sorted(shipped_mappings().items()):
        m = load_mapping(path)
        rows.append({"name": name, "version": m.version, "tables": ", ".join(m.targets), "source": m.source,
                     "licence": m.licence})
    return rows


def taxonomy_rows(action: str, codes: Iterable[str] = (), scheme: str | None = None) -> list[dict]:
    from hardtech.analytics.taxonomy import SCHEMES, load_taxonomy

    tax = load_taxonomy()
    if action == "fields":
        return [{"id": f.id, "name_en": f.name_en, "name_zh": f.name_zh, "star_category": f.star_category,
                 "subfields": len(f.subfields), "keywords_en": len(f.keywords_en), "keywords_zh": len(f.keywords_zh)}
                for f in tax.fields.values()]
    if action == "subfields":
        return [{"field": f.id, "subfield": s.id, "name_en": s.name_en, "name_zh": s.name_zh}
                for f in tax.fields.values() for s in f.subfields]
    if action == "typology":
        return [{"id": t.id, "name_en": t.name_en, "name_zh": t.name_zh, "definition": t.definition_en,
                 "examples": "; ".join(t.examples_en)} for t in tax.typology.values()]
    if action == "schemes":
        return [{"scheme": s} for s in SCHEMES]
    if action == "map":
        codes = list(codes)
        if not codes:
            raise UsageError("`taxonomy map` needs one or more codes, e.g. `hardtech taxonomy map --scheme cpc G06N3/08`")
        rows = []
        for code in codes:
            if scheme:
                matches = tax.map_code(scheme, code)
            elif ":" in code:
                matches = tax.map_codes([code])
            else:
                raise UsageError(f"say which scheme {code!r} is in: --scheme cpc, or write it as cpc:{code}")
            if not matches:
                rows.append({"code": code, "scheme": scheme or code.split(":", 1)[0], "field": None, "weight": None,
                             "rule": None, "reason": "no mapping: not in any of the eight fields by this scheme"})
            for m in matches:
                rows.append({"code": code, "scheme": m.scheme, "field": m.field_id, "weight": m.weight,
                             "rule": m.rule, "reason": m.reason, "source": m.source})
        return rows
    raise UsageError(f"unknown taxonomy action {action!r}: fields, subfields, typology, schemes or map")


def synth_universe(orgs: int, seed: int, out_dir: str | Path, file_format: str = "parquet",
                   load_into: str | Path | None = None) -> list[dict]:
    from hardtech.tools.synthetic import SynthConfig, generate, write

    if orgs <= 0:
        raise UsageError("--orgs must be positive")
    tables = generate(SynthConfig(orgs=orgs, seed=seed))
    paths = write(tables, Path(out_dir), file_format)
    rows = [{"table": name, "rows": tables[name].num_rows, "file": str(paths[name])} for name in tables]
    if load_into is not None:
        from hardtech.store.importer import import_file as _import

        with Store(load_into) as store:
            for name in ("organizations", "investors", "financials", "patents", "funding_rounds"):
                if name in paths:
                    _import(store, name, paths[name], source=f"synthetic seed {seed}", synthetic=True)
    return rows


def export_store(db: str | Path, out_dir: str | Path) -> list[dict]:
    """Every table of the DuckDB store as Parquet in `out_dir` (with a manifest): what `--engine spark` and a
    cluster read. One row per table written."""
    from hardtech.store.connection import Store
    from hardtech.store.export import export_parquet

    with Store(db, read_only=True) as store:
        return export_parquet(store, out_dir)
