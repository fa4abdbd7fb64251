"""Options every command shares (`--db`, `--format`, `--output`) and the one way results are written.

As in sqlite-utils, a command never formats its own output: it hands rows to `Output.emit`,
so every command supports every format, and the docs test can check that they all do.
"""

from __future__ import annotations

import csv
import functools
import inspect
import io
import json
import math
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, Callable, Iterable, Optional

import typer
from rich.console import Console
from rich.table import Table as RichTable

from hardtech.errors import HardtechError, UsageError


class Format(str, Enum):
    table = "table"
    csv = "csv"
    json = "json"
    jsonl = "jsonl"
    parquet = "parquet"


from hardtech.cellsafety import neutralise_formula, terminal_safe  # noqa: E402 - re-exported for presentation code


def _jsonable(v: Any) -> Any:
    import datetime as dt

    if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
        return None
    if isinstance(v, (bytes, bytearray, memoryview)):
        return "0x" + bytes(v).hex()  # BLOB and variant payloads: exact, and never raw bytes on a terminal
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()
    if hasattr(v, "item") and not isinstance(v, (list, dict, str)):
        try:
            return v.item()
        except (ValueError, AttributeError):
            pass
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, dict):
        return {k: _jsonable(x) for k, x in v.items()}
    return v


def to_records(data: Any) -> list[dict]:
    """Rows from a list of dicts, a pandas DataFrame, an Arrow table or an Ibis expression."""
    if data is None:
        return []
    if isinstance(data, list):
        return data
    if hasattr(data, "to_pylist"):  # pyarrow
        return data.to_pylist()
    if hasattr(data, "to_pyarrow"):  # ibis
        return data.to_pyarrow().to_pylist()
    if hasattr(data, "to_dict"):  # pandas
        df = data.astype(object).where(data.notna(), None)
        return df.to_dict(orient="records")
    raise TypeError(f"cannot output {type(data).__name__}")


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        if math.isnan(v):
            return ""
        if abs(v) >= 1e4 or v == int(v):
            return f"{v:,.0f}" if abs(v) >= 1e4 else f"{v:g}"
        return f"{v:.4g}"
    if isinstance(v, (list, tuple)):
        return ", ".join(_cell(x) for x in v)
    if isinstance(v, dict):
        return json.dumps(_jsonable(v), ensure_ascii=False)
    return str(v)


@dataclass
class Output:
    db: Path
    fmt: Format = Format.table
    output: Path | None = None
    console: Console = field(default_factory=lambda: Console(stderr=True))
    _data: Any = field(default=None, repr=False)

    def data(self):
        """The store the services read, on the chosen engine (`--engine`), opened once per command."""
        if self._data is None:
            from hardtech.services.opened import open_store

            self._data = open_store(self.db)
        return self._data

    def data_or_path(self, writes: bool):
        """For a service that may write: the DuckDB path (it opens the store for writing itself) on DuckDB,
        the opened store on an engine that only reads (the service then says writing needs DuckDB)."""
        from hardtech.services.opened import engine_name

        return self.db if engine_name() == "duckdb" and writes else self.data()

    def close(self) -> None:
        if self._data is not None:
            self._data.close()
            self._data = None

    def store(self, read_only: bool = False):
        from hardtech.store.connection import Store

        return Store(self.db, read_only=read_only)

    def message(self, text: str) -> None:
        """Human messages go to stderr so that stdout stays clean data in csv/json formats. They are rich markup
        written by us; data inside them never carries a control character to the terminal."""
        self.console.print(terminal_safe(text))

    def emit(self, data: Any, title: str | None = None, columns: list[str] | None = None,
             caption: str | None = None) -> None:
        if hasattr(data, "read_all"):  # a RecordBatchReader
            data = data.read_all()
        rows = [_jsonable(r) for r in to_records(data)]
        if columns is None:
            if rows:
                columns = list(rows[0].keys())
            else:
                columns = list(getattr(data, "column_names", None) or getattr(data, "columns", None) or [])
        fmt = Format(self.fmt)
        if fmt == Format.parquet:
            if not self.output:
                raise UsageError("--format parquet needs --output FILE")
            self._write_parquet(data, rows, columns)
            self.message(f"wrote {len(rows)} rows to {self.output}")
            return
        text = self._render(rows, columns, fmt, title, caption)
        if self.output:
            Path(self.output).write_text(text, encoding="utf-8")
            self.message(f"wrote {len(rows)} rows to {self.output}")
        else:
            if sys.stdout.isatty():
                text = terminal_safe(text)  # a file or a pipe gets the exact data; a screen never an escape
            sys.stdout.write(text)
            sys.stdout.flush()

    def _write_parquet(self, data: Any, rows: list[dict], columns: list[str]) -> None:
        """Arrow data is written as it is (maps, structs, decimals keep their types); rows are typed by Arrow."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        if hasattr(data, "to_pyarrow") and not hasattr(data, "to_pylist"):  # ibis
            data = data.to_pyarrow()
        if isinstance(data, pa.Table):
            pq.write_table(data.select(columns), self.output)
            return
        try:
            table = pa.Table.from_pylist([{c: r.get(c) for c in columns} for r in rows])
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            raise UsageError(f"these rows cannot be written as Parquet ({exc}); use --format json") from None
        pq.write_table(table, self.output)

    def _render(self, rows: list[dict], columns: list[str], fmt: Format, title: str | None,
                caption: str | None) -> str:
        if fmt == Format.json:
            return json.dumps([{c: r.get(c) for c in columns} for r in rows], ensure_ascii=False, indent=2) + "\n"
        if fmt == Format.jsonl:
            return "".join(json.dumps({c: r.get(c) for c in columns}, ensure_ascii=False) + "\n" for r in rows)
        if fmt == Format.csv:
            buf = io.StringIO()
            w = csv.writer(buf, lineterminator="\n")
            w.writerow(columns)
            for r in rows:
                w.writerow([neutralise_formula(_csv_value(r.get(c))) for c in columns])
            return buf.getvalue()
        from rich.text import Text

        plain = (lambda t: None if t is None else Text(terminal_safe(t)))
        table = RichTable(title=plain(title), caption=plain(caption), show_lines=False)
        for c in columns:
            table.add_column(Text(terminal_safe(str(c))), overflow="fold")
        for r in rows:  # cells are text, never markup, and show a control character as a visible escape
            table.add_row(*(Text(terminal_safe(_cell(r.get(c)))) for c in columns))
        term = Console()
        width = term.width if (self.output is None and term.is_terminal) else 200
        cons = Console(file=io.StringIO(), width=width, force_terminal=False)
        cons.print(table)
        return cons.file.getvalue()


def _csv_value(v: Any) -> Any:
    if isinstance(v, (list, tuple)):
        return "|".join(str(x) for x in v)
    if isinstance(v, dict):
        return json.dumps(v, ensure_ascii=False)
    return "" if v is None else v


def _db_default() -> Path:
    from hardtech.store.connection import default_db_path

    return default_db_path()


def command(app: typer.Typer, name: str | None = None, **kwargs) -> Callable:
    """Register a Typer command that receives an `out: Output` built from the shared options.

    The decorated function declares `out: Output` as its first keyword; the decorator adds
    `--db`, `--format` and `--output` to its signature and turns HardtechError into a clean
    message and exit code.
    """

    def deco(fn: Callable) -> Callable:
        sig = inspect.signature(fn)
        params = [p for p in sig.parameters.values() if p.name != "out"]
        extra = [
            inspect.Parameter("db", inspect.Parameter.KEYWORD_ONLY, annotation=Optional[Path],
                              default=typer.Option(None, "--db", envvar="HARDTECH_DB",
                                                   help="Store file [default: ./hardtech.duckdb].")),
            inspect.Parameter("fmt", inspect.Parameter.KEYWORD_ONLY, annotation=Format,
                              default=typer.Option(Format.table, "--format", "-f", help="Output format.")),
            inspect.Parameter("output", inspect.Parameter.KEYWORD_ONLY, annotation=Optional[Path],
                              default=typer.Option(None, "--output", "-o", help="Write to FILE instead of stdout.")),
        ]

        @functools.wraps(fn)
        def wrapper(*args, db: Path | None = None, fmt: Format = Format.table, output: Path | None = None,
                    **kw):
            out = Output(db=db or _db_default(), fmt=fmt, output=output)
            try:
                return fn(*args, out=out, **kw)
            except HardtechError as exc:
                from rich.markup import escape

                out.console.print(f"[red]error:[/red] {escape(terminal_safe(str(exc)))}", highlight=False)
                raise typer.Exit(exc.exit_code) from None
            except KeyboardInterrupt:
                out.console.print("[yellow]interrupted: nothing was changed by the unfinished step[/yellow]")
                raise typer.Exit(130) from None
            except Exception as exc:  # a damaged store or a full disk is a message, not a traceback
                from rich.markup import escape

                from hardtech.store.integrity import as_store_error

                err = as_store_error(exc, str(out.db))
                if err is None:
                    raise
                out.console.print(f"[red]error:[/red] {escape(terminal_safe(str(err)))}", highlight=False)
                raise typer.Exit(err.exit_code) from None
            finally:
                out.close()

        wrapper.__signature__ = sig.replace(parameters=params + extra)
        app.command(name, **kwargs)(wrapper)
        return fn

    return deco


@contextmanager
def step_progress(console: Console, title: str):
    """A progress bar over the steps a long operation reports through `advance(step, done, total)`."""
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(), TimeElapsedColumn(),
                  console=console, transient=True) as bar:
        task = bar.add_task(title, total=1)

        def advance(step: str, done: int, total: int) -> None:
            bar.update(task, description=f"{title}: {step}", completed=done, total=max(total, 1))

        yield advance


def iter_chunks(items: Iterable, size: int):
    chunk = []
    for it in items:
        chunk.append(it)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
