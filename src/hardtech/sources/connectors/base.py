"""What a connector is: declared input files, declared outputs, and one extract function.

A connector (in the style of dlt's `@dlt.resource`) is a small decorated function. The
decorator records what the source *is* — the files a user downloads, the columns (or JSON
keys) each must carry, the tables and columns it fills, its licence — so `hardtech sources`
can list it and a file in another layout is refused with a message naming what differs.
The function only extracts and normalises: it returns text tables named like our tables.
Loading is the ordinary importer's job (`store/connector_load.py`), so validation, rejects,
idempotence and provenance are those of every other import.
"""

from __future__ import annotations

import fnmatch
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

import pyarrow as pa

from hardtech.errors import SourceError, UsageError
from hardtech.sources.readers import LINE, file_sha256, json_objects

REGISTRY: dict[str, "Connector"] = {}


class LayoutError(SourceError):
    """A source file is not in the layout the connector reads: the message names what differs."""


@dataclass(frozen=True)
class FileSpec:
    """One file of a source: how to recognise it and which columns (or JSON keys) it must have."""

    key: str
    patterns: tuple[str, ...]  # fnmatch patterns on the lower-cased file name
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    renamed: dict[str, str] = field(default_factory=dict)  # name in an older layout → name now
    layout: str = ""  # which published layout `required` describes
    needed: bool = True  # False: the source works without this file


@dataclass(frozen=True)
class Output:
    """One table a connector fills, with the columns it gives and how the importer merges them."""

    table: str
    columns: tuple[str, ...]
    units: dict[str, str] = field(default_factory=dict)  # column → unit, e.g. {"revenue": "EUR million"}
    distinct: bool = False
    patch: bool = False
    insert_only: bool = False
    relax: tuple[str, ...] = ()
    role: str = ""  # e.g. "stub": organisations a file refers to but does not describe


@dataclass
class Extract:
    """Rows for one output: text columns named like the table's, plus each row's source line."""

    output: Output
    rows: pa.Table
    source_file: Path
    file_hash: str
    source: str | None = None  # provenance source name when it differs per file (e.g. per edition)


@dataclass
class Extraction:
    """Everything one run of a connector produced, with notes for the user (what was skipped and why)."""

    extracts: list[Extract] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Connector:
    name: str
    title: str
    description: str
    licence: str
    source_url: str
    files: tuple[FileSpec, ...]
    outputs: tuple[Output, ...]
    unresolved: str  # what happens to a row whose organisation is not described by the source
    point_at: str  # what the user passes as FILE
    fn: Callable[["SourceFiles"], Extraction]
    version: str = "1"

    @property
    def label(self) -> str:
        return f"connector:{self.name}@{self.version}"

    def output(self, table: str, role: str = "") -> Output:
        for o in self.outputs:
            if o.table == table and o.role == role:
                return o
        raise KeyError(f"{self.name} declares no output {table!r} {role!r}")  # pragma: no cover - programming error

    def extract(self, path: str | Path, workdir: Path) -> Extraction:
        return self.fn(SourceFiles(Path(path), self, workdir))


def connector(*, name: str, title: str, description: str, licence: str, source_url: str,
              files: Iterable[FileSpec], outputs: Iterable[Output], unresolved: str, point_at: str,
              version: str = "1") -> Callable:
    """Register the decorated extract function as connector `name`."""

    def deco(fn: Callable[["SourceFiles"], Extraction]) -> Callable:
        REGISTRY[name] = Connector(name, title, description, licence, source_url, tuple(files), tuple(outputs),
                                   unresolved, point_at, fn, version)
        return fn

    return deco


def _norm(name: str) -> str:
    return re.sub(r"\s+", " ", str(name).strip().lower())


def check_layout(spec: FileSpec, found: Iterable[str], where: str) -> list[str]:
    """Raise LayoutError naming missing and renamed columns; return the columns the spec does not know."""
    found = [str(c) for c in found if c != LINE]
    have = {_norm(c) for c in found}
    missing = [c for c in spec.required if _norm(c) not in have]
    known = {_norm(c) for c in spec.required + spec.optional}
    extra = [c for c in found if _norm(c) not in known]
    if not missing:
        return extra
    renamed = [(old, new) for old, new in spec.renamed.items() if _norm(old) in have and new in missing]
    still = [m for m in missing if m not in {new for _, new in renamed}]
    parts = []
    if renamed:
        parts.append("columns renamed since that layout: " + ", ".join(f"{old!r} is now {new!r}" for old, new in renamed))
    if still:
        parts.append("missing columns: " + ", ".join(repr(m) for m in still))
    shown = ", ".join(found[:15]) + (" …" if len(found) > 15 else "")
    layout = f"the {spec.layout} layout" if spec.layout else "the layout this connector reads"
    raise LayoutError(f"{where}: not {layout} — {'; '.join(parts)}. The file's columns are: {shown or '(none)'}")


class SourceFiles:
    """The files a user pointed at — one file, a folder or a zip — found by the connector's file specs."""

    def __init__(self, path: Path, conn: Connector, workdir: Path):
        if not path.exists():
            raise SourceError(f"{path}: no such file or folder")
        self.path = path
        self.connector = conn
        self.workdir = workdir
        self._found: dict[str, Path | None] = {}

    # -- what is there -----------------------------------------------------------------
    def candidates(self) -> list[tuple[str, Path | None]]:
        """(file name, path on disk — None for a member of the zip the user pointed at) under the path."""
        p = self.path
        if p.is_dir():
            return [(f.name, f) for f in sorted(p.rglob("*")) if f.is_file()]
        if zipfile.is_zipfile(p):
            with zipfile.ZipFile(p) as z:
                return [(Path(n).name, None) for n in z.namelist() if not n.endswith("/")]
        return [(p.name, p)]

    def find(self, key: str) -> Path | None:
        """The file for spec `key`, unzipped into the work folder when needed; None when absent."""
        if key in self._found:
            return self._found[key]
        spec = self.spec(key)
        single = len(self.connector.files) == 1 and self.path.is_file() and not zipfile.is_zipfile(self.path)
        hit: Path | None = None
        for name, on_disk in self.candidates():
            if single or any(fnmatch.fnmatch(name.lower(), pat) for pat in spec.patterns):
                hit = on_disk if on_disk is not None else self._extract_member(self.path, name)
                break
        if hit is not None and zipfile.is_zipfile(hit):  # PatentsView ships one table per zip: g_patent.tsv.zip
            with zipfile.ZipFile(hit) as z:
                inner = [n for n in z.namelist() if not n.endswith("/")]
            if len(inner) != 1:
                raise SourceError(f"{hit.name}: expected one file inside, found {len(inner)}")
            hit = self._extract_member(hit, Path(inner[0]).name)
        self._found[key] = hit
        return hit

    def require(self, key: str) -> Path:
        hit = self.find(key)
        if hit is None:
            spec = self.spec(key)
            raise SourceError(f"{self.path.name}: no {key} file here (looked for {', '.join(spec.patterns)}); "
                              f"{self.connector.title} needs it: point at {self.connector.point_at}")
        return hit

    def files(self, pattern: str = "*") -> list[Path]:
        """Every file (members of the zip unzipped) whose lower-cased name matches `pattern`."""
        out = []
        for name, on_disk in self.candidates():
            if fnmatch.fnmatch(name.lower(), pattern):
                out.append(on_disk if on_disk is not None else self._extract_member(self.path, name))
        return out

    def spec(self, key: str) -> FileSpec:
        for s in self.connector.files:
            if s.key == key:
                return s
        raise UsageError(f"{self.connector.name} has no file {key!r}")  # pragma: no cover - programming error

    def _extract_member(self, archive: Path, basename: str) -> Path:
        """Unzip one member; the archive's name stays in the file name so provenance says which download."""
        target = self.workdir / f"{archive.name.split('.')[0]}!{basename}"
        with zipfile.ZipFile(archive) as z:
            member = next(n for n in z.namelist() if Path(n).name == basename)
            with z.open(member) as src, open(target, "wb") as dst:
                while chunk := src.read(1 << 20):
                    dst.write(chunk)
        return target


def text_table(rows: list[dict], columns: Iterable[str], lines: list[int]) -> pa.Table:
    """A text table with exactly `columns` (lists stay lists of text) and the LINE column."""
    cols = {}
    for c in columns:
        values = [r.get(c) for r in rows]
        if any(isinstance(v, list) for v in values):
            cols[c] = pa.array([None if v is None else [str(x) for x in v] for v in values], pa.list_(pa.string()))
        else:
            cols[c] = pa.array([None if v is None or v == "" else str(v) for v in values], pa.string())
    cols[LINE] = pa.array(lines, pa.int64())
    return pa.table(cols)


def extract_of(output: Output, rows: list[dict], lines: list[int], path: Path, file_hash: str | None = None,
               source: str | None = None) -> Extract:
    """An Extract for `output` from row dicts (keys = table columns) and their source lines."""
    return Extract(output, text_table(rows, output.columns, lines), path,
                   file_hash or file_sha256(path), source)


def slug(text: str) -> str:
    """Lower-case ASCII words joined by `-`; other scripts (Chinese names) are kept as they are."""
    t = re.sub(r"[\s/|,;:()\"'&.+]+", "-", str(text).strip().lower())
    return re.sub(r"-{2,}", "-", t).strip("-")


def has_cjk(text: str | None) -> bool:
    return bool(text) and re.search(r"[\u3400-\u9fff]", text) is not None


def iter_json_lines(path: Path) -> Iterator[tuple[int, dict]]:
    """(line number, object) of a JSON Lines file, plain or gzip-compressed (OpenAlex snapshot parts)."""
    import gzip

    opener = gzip.open if path.suffix.lower() == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        yield from json_objects(f, path.name)


def read_rows(src: SourceFiles, key: str, quoted: bool = True) -> tuple[pa.Table, Path, list[str]] | None:
    """Read the file for spec `key` as text (with LINE) and check its layout; None when the file is absent.

    Returns (table, path, columns the spec does not know). `quoted=False` reads tab-separated files
    whose fields are never quoted (SEC's Form D data sets: a `"` is part of a name there).
    """
    from hardtech.sources.readers import read_table

    path = src.find(key)
    if path is None:
        return None
    table = read_table(path).table if quoted else _read_tsv_unquoted(path)
    extra = check_layout(src.spec(key), table.column_names, path.name)
    return table, path, extra


def _read_tsv_unquoted(path: Path) -> pa.Table:
    import duckdb

    from hardtech.sources.transform import lit

    con = duckdb.connect()
    try:
        con.execute("SET preserve_insertion_order = true")
        for enc in ("utf-8", "latin-1"):
            try:
                t = con.sql(f"SELECT * FROM read_csv({lit(str(path))}, delim = '\\t', quote = '', escape = '', "
                            f"header = true, all_varchar = true, null_padding = true, encoding = {lit(enc)})"
                            ).to_arrow_table()
                break
            except duckdb.Error as exc:
                err = exc
        else:
            raise SourceError(f"{path.name}: cannot read as tab-separated text ({err})")
    finally:
        con.close()
    return t.append_column(LINE, pa.array(range(2, t.num_rows + 2), pa.int64()))
