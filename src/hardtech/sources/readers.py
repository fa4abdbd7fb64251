"""Read any supported file into one Arrow table of text columns.

Everything downstream (mapping, typing, validation) works on text, because users' exports
mix numbers with units (`1.2亿元`), dates in several styles and codes with leading zeros
(`000720`). Reading everything as text loses nothing; typing happens once, in the validator,
where a failure can be reported with its line and column.
"""

from __future__ import annotations

import codecs
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

import pyarrow as pa

from hardtech.errors import SourceError
from hardtech.sources.encoding import TextScan, scan_text, transcode_to_utf8
from hardtech.sources.limits import MAX_COLUMNS, MAX_ROW_BYTES, human_bytes

LINE = "__line"  # spreadsheet-style line number of each data row (header = line 1)
FORMATS = {".csv": "csv", ".tsv": "tsv", ".txt": "csv", ".parquet": "parquet", ".pq": "parquet",
           ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".xlsx": "excel", ".xlsm": "excel",
           ".xls": "excel"}


@dataclass(frozen=True)
class ReadResult:
    table: pa.Table  # text (or list-of-text) columns plus LINE
    path: Path
    format: str
    encoding: str | None
    file_hash: str
    rejects: tuple = ()  # (line, column, value, reason) of records the reader could not split into cells
    checks: frozenset = frozenset({"forbidden", "breaks"})  # per-cell text checks the bytes did not rule out
    header: tuple = ()  # every column of the file, also those not read (`columns=`)

    @property
    def rows_read(self) -> int:
        return self.table.num_rows + len(self.rejects)


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def detect_encoding(path: Path, encoding: str | None = None) -> str:
    """The file's encoding, decided for the whole file and verified line by line (see `encoding`)."""
    return scan_text(Path(path), encoding).encoding


def file_format(path: Path, fmt: str | None = None) -> str:
    if fmt:
        return fmt
    try:
        return FORMATS[path.suffix.lower()]
    except KeyError:
        raise SourceError(
            f"{path.name}: unknown file type {path.suffix!r}; use CSV, TSV, Parquet, JSON Lines or Excel"
        ) from None


def read_table(path: str | Path, fmt: str | None = None, sheet: str | int | None = None,
               delimiter: str | None = None, encoding: str | None = None, con=None,
               columns: set[str] | None = None) -> ReadResult:
    """`con`: a DuckDB connection to read CSV with (the store's, to save opening one); a private one if None.
    `columns`: for a CSV file, read only these of its columns (a long file whose other columns nobody needs;
    the header still lists them all)."""
    path = Path(path)
    if not path.exists():
        raise SourceError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise SourceError(f"{path.name}: the file is empty")
    kind = file_format(path, fmt)
    enc = digest = None
    rejects: list = []
    checks = frozenset({"forbidden", "breaks"})
    try:
        if kind in ("csv", "tsv"):
            scan = scan_text(path, encoding)
            enc, digest = scan.encoding, scan.sha256
            table, rejects, checks, header = _read_csv(path, scan, "\t" if kind == "tsv" else delimiter, con, columns)
        elif kind == "parquet":
            import pyarrow.parquet as pq

            _check_columns(path, len(pq.read_schema(path).names))
            table = _as_text(pq.read_table(path))
        elif kind == "jsonl":
            scan = scan_text(path, encoding)
            enc, digest = scan.encoding, scan.sha256
            table = _read_jsonl(path, enc)
        elif kind == "excel":
            table = _read_excel(path, sheet)
        else:  # pragma: no cover - guarded by file_format
            raise SourceError(f"{path.name}: unsupported format {kind}")
    except SourceError:
        raise
    except (pa.ArrowException, ValueError, UnicodeDecodeError) as exc:
        first = (str(exc).splitlines() or [type(exc).__name__])[0]  # one line: Arrow appends its C++ trace
        raise SourceError(f"{path.name}: cannot read as {kind}: {first}") from exc
    _check_columns(path, table.num_columns)
    header = header if kind in ("csv", "tsv") else tuple(str(n).strip() for n in table.column_names)
    names = [str(n).strip() for n in table.column_names]
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise SourceError(f"{path.name}: duplicate column names {dup}")
    table = table.rename_columns(names)
    table = table.append_column(LINE, _good_lines(table.num_rows, [r[0] for r in rejects]))
    return ReadResult(table, path, kind, enc, digest or file_sha256(path), tuple(rejects), checks, tuple(header))


def _check_columns(path: Path, n: int) -> None:
    if n > MAX_COLUMNS:
        raise SourceError(f"{path.name}: {n:,} columns; the limit is {MAX_COLUMNS:,} columns per file")


def _good_lines(rows: int, rejected: list[int]) -> pa.Array:
    """Line numbers (header = 1) of the rows read: every record's number except the ones the reader
    refused, in file order (the reader keeps the order)."""
    import numpy as np

    lines = np.arange(2, rows + len(rejected) + 2, dtype=np.int64)
    if rejected:
        lines = np.setdiff1d(lines, np.asarray(rejected, dtype=np.int64), assume_unique=True)
    return pa.array(lines)


def _first_records(path: Path, delimiter: str | None) -> tuple[str, list[str], list[list[str]]]:
    """(delimiter, header, up to 100 first data rows) from at most one row's worth of bytes, before any
    parsing: the column limit is checked on the raw header, so a 100,000-column file is refused at once."""
    import csv
    import io

    with open(path, "rb") as f:
        head = f.read(MAX_ROW_BYTES + 1)
    text = codecs.getincrementaldecoder("utf-8")(errors="strict").decode(head, final=len(head) <= MAX_ROW_BYTES)
    text = text.lstrip("\ufeff")
    first = text.split("\n", 1)[0]
    if "\n" not in text and len(head) > MAX_ROW_BYTES:
        raise SourceError(f"{path.name}: line 1 (the header) is longer than the {human_bytes(MAX_ROW_BYTES)} "
                          "limit for a row")
    if delimiter is None:
        counts = {d: first.count(d) for d in (",", "\t", ";", "|")}
        best = max(counts, key=counts.get)
        delimiter = best if counts[best] > 0 else ","
    _check_columns(path, first.count(delimiter) + 1)
    csv.field_size_limit(MAX_ROW_BYTES)
    rows = csv.reader(io.StringIO(text), delimiter=delimiter)
    data: list[list[str]] = []
    try:
        header = next(rows)
        for row in rows:
            data.append(row)
            if len(data) == 100:
                break
    except csv.Error:
        header, data = next(csv.reader(io.StringIO(first), delimiter=delimiter)), data[:-1]
    return delimiter, [h.strip() for h in header], data


def _read_csv(path: Path, scan: TextScan, delimiter: str | None, con=None,
              columns: set[str] | None = None) -> tuple[pa.Table, list, frozenset, tuple]:
    """DuckDB's parallel CSV reader, every column as text (keeps `000720`), records it cannot split
    (a row with more or fewer cells than the header, an unterminated quote, a row over the size limit)
    kept as rejects with their line instead of failing the file."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="hardtech-read-") as tmp:
        src = path
        if scan.encoding not in ("utf-8", "utf-8-sig"):
            src = Path(tmp) / "utf8.csv"
            transcode_to_utf8(path, scan.encoding, src)
        delimiter, header, first = _first_records(src, delimiter)
        if first and all(len(r) == len(header) + 1 and r[0].strip().isdigit() for r in first):
            # pandas-style export: every row carries an unnamed whole-number index the header lacks (one
            # ragged row is not enough to shift every column: it is rejected as ragged instead)
            header = ["_index"] + header
        if len(set(header)) != len(header):
            dup = sorted({n for n in header if header.count(n) > 1})
            raise SourceError(f"{path.name}: duplicate column names {dup}")
        keep = [h for h in header if h in columns] if columns is not None else header
        table, rejects = _read_csv_duckdb(src, path.name, header, delimiter, con, keep)
    checks = set()
    if scan.may_hold_forbidden:
        checks.add("forbidden")
    records = table.num_rows + len(rejects) + 1
    if (scan.has_tab and delimiter != "\t") or scan.has_bare_cr or scan.newlines > records:
        checks.add("breaks")  # a tab, a carriage return or a line feed may sit inside a cell
    return table, rejects, frozenset(checks), tuple(header)


_READER_REASONS = {
    "MISSING COLUMNS": "the row has fewer cells than the header ({detail})",
    "TOO MANY COLUMNS": "the row has more cells than the header ({detail})",
    "LINE SIZE OVER MAXIMUM": "the row is longer than the " + human_bytes(MAX_ROW_BYTES) + " limit for a row",
    "UNQUOTED VALUE": "a quote in the middle of an unquoted cell, or a quoted cell that is not closed (it then "
                      "runs to the end of the file)",
    "INVALID ENCODING": "not valid UTF-8 text",
}


def _mixed_line_endings(path: Path) -> str | None:
    """Why the strict reader found no consistent line ending: `line 1 ends in CRLF, line 2 in LF`, or a
    carriage return inside an unquoted cell (which a CSV reader must take for a line end)."""
    first: dict[str, int] = {}
    with open(path, "rb") as f:
        for n, line in enumerate(f, start=1):
            if b"\r" in line.rstrip(b"\r\n") and "CR" not in first:
                first["CR"] = n
            kind = "CRLF" if line.endswith(b"\r\n") else "LF" if line.endswith(b"\n") else None
            if kind and kind not in first:
                first[kind] = n
    if "CRLF" in first and "LF" in first:
        return f"the file mixes line endings: line {first['CRLF']} ends in CRLF, line {first['LF']} in LF"
    if "CR" in first:
        return (f"line {first['CR']} holds a carriage return (CR) outside quotes, which ends a line in CSV; "
                "quote that cell")
    return None


def _read_csv_duckdb(path: Path, name: str, header: list[str], delimiter: str, con=None,
                     keep: list[str] | None = None) -> tuple[pa.Table, list]:
    import uuid

    import duckdb

    from hardtech.sources.transform import ident, lit

    own = con is None
    con = duckdb.connect() if own else con
    tag = uuid.uuid4().hex[:8]
    cols = "{" + ", ".join(f"{lit(h)}: 'VARCHAR'" for h in header) + "}"
    keep = header if keep is None else keep
    q = (f"SELECT {', '.join(ident(h) for h in keep) or 'NULL AS __none'} FROM read_csv({lit(str(path))}, auto_detect = false, header = false, skip = 1, columns = {cols}, "
         f"delim = {lit(delimiter)}, quote = '\"', escape = '\"', strict_mode = true, encoding = 'utf-8', "
         f"store_rejects = true, rejects_table = 'rejects_{tag}', rejects_scan = 'scans_{tag}', "
         f"max_line_size = {MAX_ROW_BYTES})")
    try:
        con.execute("SET preserve_insertion_order = true")
        table = con.sql(q).to_arrow_table()
        errs = con.execute(f"SELECT line, column_name, csv_line, error_type, error_message FROM rejects_{tag} "
                           "ORDER BY line").fetchall()
    except duckdb.Error as exc:
        if "invalid state" in str(exc):
            why = _mixed_line_endings(path)
            if why:
                raise SourceError(f"{name}: {why}; re-save it with one kind of line ending") from exc
        raise SourceError(f"{name}: malformed CSV ({str(exc).splitlines()[0]})") from exc
    finally:
        if own:
            con.close()
        else:
            con.execute(f"DROP TABLE IF EXISTS rejects_{tag}")
            con.execute(f"DROP TABLE IF EXISTS scans_{tag}")
    rejects, seen = [], set()
    for line, col, raw, kind, message in errs:
        if line in seen:
            continue
        seen.add(line)
        detail = message.replace("Expected Number of Columns:", "expected").replace(" Found:", ", found")
        reason = _READER_REASONS.get(kind, f"cannot read the row ({kind.lower()})").format(detail=detail)
        rejects.append((int(line), None, (raw or "")[:200], reason))
    if not keep:
        table = table.drop(["__none"])
    return table.rename_columns(keep), rejects  # empty cells are NULL


def _as_text(table: pa.Table) -> pa.Table:
    """Cast every non-list column to text; list columns become list<string>."""
    cols = []
    for name in table.column_names:
        col = table.column(name)
        t = col.type
        if pa.types.is_list(t) or pa.types.is_large_list(t):
            cols.append(col.cast(pa.list_(pa.string())))
        elif pa.types.is_string(t):
            cols.append(col)
        elif pa.types.is_boolean(t):
            cols.append(col.cast(pa.string()))
        else:
            cols.append(col.cast(pa.string()))
    return pa.table(cols, names=table.column_names)


def json_objects(lines: Iterable[str], name: str, max_bytes: int | None = None) -> Iterator[tuple[int, dict]]:
    """(line number, object) for each non-blank line of a JSON Lines text; a line that is too long, not JSON
    or not an object is refused with its number (one rule for the importer and the connectors)."""
    import json

    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        if max_bytes is not None and len(line) > max_bytes:
            raise SourceError(f"{name}: line {n} is longer than the {human_bytes(max_bytes)} limit for a row")
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise SourceError(f"{name}: line {n} is not valid JSON ({exc.msg})") from exc
        if not isinstance(obj, dict):
            raise SourceError(f"{name}: line {n} is not a JSON object")
        yield n, obj


def _read_jsonl(path: Path, encoding: str) -> pa.Table:
    with open(path, encoding=encoding) as f:
        rows = [obj for _, obj in json_objects(f, path.name, MAX_ROW_BYTES)]
    return _rows_to_text_table(rows)


def _rows_to_text_table(rows: list[dict]) -> pa.Table:
    names: list[str] = []
    seen = set()
    for r in rows:
        for k in r:
            if k not in seen:
                seen.add(k)
                names.append(k)
    cols = {}
    for name in names:
        values = [r.get(name) for r in rows]
        if any(isinstance(v, list) for v in values):
            cols[name] = pa.array([None if v is None else [str(x) for x in (v if isinstance(v, list) else [v])]
                                   for v in values], type=pa.list_(pa.string()))
        else:
            cols[name] = pa.array(["" if v is None else str(v) for v in values], type=pa.string())
    return pa.table(cols) if cols else pa.table({})


def _read_excel(path: Path, sheet: str | int | None) -> pa.Table:
    import pandas as pd

    try:
        df = pd.read_excel(path, sheet_name=0 if sheet is None else sheet, dtype=str,
                           keep_default_na=False)
    except ImportError as exc:  # pragma: no cover
        raise SourceError(f"{path.name}: reading Excel needs openpyxl ({exc})") from exc
    df.columns = [str(c) for c in df.columns]
    return pa.Table.from_pandas(df.astype(str), preserve_index=False)


__all__ = ["ReadResult", "read_table", "detect_encoding", "file_sha256", "LINE"]
