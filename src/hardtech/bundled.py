"""The open data bundled with the package (`hardtech/data/bundled/`), and how it enters a store.

Why a module of its own: the demo, the tests and the docs all need the same facts about the bundled
files (which mapping imports each, its licence, its row count), and those facts live in one place,
the manifest `scripts/bundle_data.py` writes. Importing goes through the shipped mappings, so every
row carries the mapping's source and licence, exactly as importing the original CSV would.

`links` lets a caller attach a bundled row to an organisation it already holds under another id: the
demo's own `alphabet` row (bilingual, described, placed in Mountain View) is the panel's company `jrc:…`
through the demo file's explicit `jrc_company_id`, so the panel's figures land on `huawei` instead of
making a second Alphabet. The linked organisation's own row is left alone; the bundled figures move
onto it, with their source and licence.
"""

from __future__ import annotations

import functools
import json
import re
import tempfile
from importlib import resources
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from hardtech.errors import SourceError
from hardtech.sources.mapping import ColumnSpec, Mapping, load_mapping
from hardtech.store.connection import Store
from hardtech.store.importer import ImportResult, import_file

LINKED_ID = "_hardtech_org_id"
_ORG_KEYED = ("organizations", "financials", "funding_rounds")


def bundled_dir() -> Path:
    return Path(str(resources.files("hardtech.data") / "bundled"))


@functools.lru_cache(maxsize=1)
def manifest() -> dict[str, dict]:
    """File stem → its manifest entry (title, licence, citation, origin, rows, mapping, …)."""
    path = bundled_dir() / "manifest.json"
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SourceError(f"bundled data manifest {path} is missing or unreadable: {exc}") from None
    return {Path(e["file"]).stem: e for e in doc["files"]}


def bundled_path(name: str) -> Path:
    entry = manifest().get(name)
    if entry is None:
        raise SourceError(f"no bundled file {name!r}; bundled: {', '.join(manifest())}")
    return bundled_dir() / entry["file"]


def _template_ids(table: pa.Table, template: str) -> list[str | None]:
    """The ids a mapping template would give ("jrc:{company_id}"), computed here so they can be relinked."""
    names = re.findall(r"\{([^{}]+)\}", template)
    cols = {n: table.column(n).to_pylist() for n in names}
    out = []
    for i in range(table.num_rows):
        vals = {n: cols[n][i] for n in names}
        if all(v in (None, "") for v in vals.values()):
            out.append(None)
            continue
        text = template
        for n, v in vals.items():
            text = text.replace("{" + n + "}", "" if v is None else str(v).strip())
        out.append(text)
    return out


def _linked_mapping(mp: Mapping) -> Mapping:
    """The mapping with every organisation id read from LINKED_ID; existing organisations left alone."""
    targets = {}
    for name, t in mp.targets.items():
        cols = dict(t.columns)
        if name in _ORG_KEYED and "org_id" in cols:
            cols["org_id"] = ColumnSpec("org_id", columns=(LINKED_ID,))
        insert_only = t.insert_only or name == "organizations"
        targets[name] = type(t)(t.table, cols, t.distinct, t.explode, t.patch, insert_only, t.relax)
    return Mapping(mp.name, mp.version, mp.source, targets, mp.synthetic, mp.source_url, mp.licence, mp.path,
                   dict(mp.options))


def import_bundled(store: Store, name: str, links: dict[str, str] | None = None,
                   drop_ids: set[str] | None = None) -> ImportResult:
    """Import one bundled file through its shipped mapping (source and licence on every row).

    `links` maps the id the mapping would give (`jrc:1134`) to an organisation already in the store
    (`huawei`); `drop_ids` leaves out the rows of those ids altogether (a company whose own reports
    are its series).
    """
    entry = manifest()[name]
    path = bundled_path(name)
    mp = load_mapping(entry["mapping"])
    spec = next((t.columns["org_id"] for t in mp.targets.values() if "org_id" in t.columns), None)
    if spec is None or (not links and not drop_ids):  # patents: no organisation to link
        return import_file(store, "auto", path, mapping=mp)
    table = pq.read_table(path)
    if spec.template:
        ids = _template_ids(table, spec.template)
    else:
        ids = [None if v is None else str(v).strip() for v in table.column(spec.columns[0]).to_pylist()]
    table = table.append_column(LINKED_ID, pa.array([(links or {}).get(i, i) for i in ids], pa.string()))
    if drop_ids:
        keep = pc.invert(pc.is_in(pa.array(ids, pa.string()), value_set=pa.array(sorted(drop_ids), pa.string())))
        table = table.filter(pc.fill_null(keep, True))
    with tempfile.TemporaryDirectory() as tmp:
        linked = Path(tmp) / path.name  # same file name: provenance names the bundled file
        pq.write_table(table, linked)
        return import_file(store, "auto", linked, mapping=_linked_mapping(mp))
