"""Load what a source connector extracted, through the ordinary importer, in one transaction.

Each extract becomes one `import_file` call with the connector's own mapping (our column
names, the units it declares, its merge options) and the rows it already read, so a
connector's rows are validated, rejected, merged and stamped with provenance exactly like a
mapped CSV. All extracts of one run share an import id (`<id>.1`, `<id>.2`, …) and one
transaction: a failure leaves the store as it was.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from hardtech.errors import UsageError
from hardtech.sources.connectors import get_connector
from hardtech.sources.connectors.base import Connector, Extract
from hardtech.sources.mapping import ColumnSpec, Mapping, TargetSpec
from hardtech.sources.readers import ReadResult
from hardtech.store.connection import Store
from hardtech.store.importer import ORDER, ImportResult, TargetResult, import_file, new_import_id


@dataclass
class ConnectorResult:
    """What one connector run did: the same shape as an ImportResult, one target per extract."""

    import_id: str
    path: Path
    source: str
    mapping: str
    encoding: str | None = None
    targets: list[TargetResult] = field(default_factory=list)
    parts: list[str] = field(default_factory=list)  # source file of each target
    rejects: list[dict] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rejected(self) -> int:
        return sum(t.rejected for t in self.targets)

    def summary_rows(self) -> list[dict]:
        return [{"table": t.table, "file": part, "read": t.rows_read, "inserted": t.inserted, "updated": t.updated,
                 "unchanged": t.unchanged, "merged": t.merged, "rejected": t.rejected}
                for t, part in zip(self.targets, self.parts)]


def mapping_for(conn: Connector, extract: Extract) -> Mapping:
    """The importer's mapping for one extract: our columns as they are, the connector's units and options."""
    o = extract.output
    cols = {c: ColumnSpec(c, columns=(c,), unit=o.units.get(c)) for c in o.columns}
    target = TargetSpec(o.table, cols, distinct=o.distinct, patch=o.patch, insert_only=o.insert_only,
                        relax=frozenset(o.relax))
    return Mapping(name=conn.name, version=conn.version, source=conn.title, targets={o.table: target},
                   licence=conn.licence, source_url=conn.source_url)


def run_connector(store: Store, name: str, path: str | Path, table: str = "auto", source: str | None = None,
                  synthetic: bool | None = None, progress=None) -> ConnectorResult:
    """Extract `path` with connector `name` and import every table it fills (or only `table`)."""
    conn = get_connector(name)
    tables = {o.table for o in conn.outputs}
    if table != "auto" and table not in tables:
        raise UsageError(f"connector {name} fills {', '.join(sorted(tables))}; not {table!r} (or use `auto`)")
    say = progress or (lambda step, done, total: None)
    started = time.perf_counter()
    path = Path(path)
    base_id = new_import_id()
    result = ConnectorResult(base_id, path, source or conn.title, conn.label)
    with tempfile.TemporaryDirectory(prefix="hardtech-") as work:
        say(f"reading {path.name}", 0, 1)
        ex = conn.extract(path, Path(work))
        result.notes, result.ignored_columns = ex.notes, ex.ignored_columns
        extracts = [e for e in ex.extracts if table == "auto" or e.output.table == table]
        extracts.sort(key=lambda e: (ORDER.index(e.output.table), e.output.role == "stub"))
        with store.transaction():
            for n, e in enumerate(extracts, start=1):
                say(f"{e.output.table} from {e.source_file.name}", n - 1, len(extracts))
                rr = ReadResult(e.rows, e.source_file, "connector", None, e.file_hash)
                r: ImportResult = import_file(store, e.output.table, e.source_file, mapping=mapping_for(conn, e),
                                              source=source or e.source or conn.title, synthetic=synthetic, read=rr,
                                              import_id=f"{base_id}.{n}")
                result.targets.extend(r.targets)
                result.parts.extend([e.source_file.name] * len(r.targets))
                result.rejects.extend(r.rejects)
    result.seconds = time.perf_counter() - started
    return result
