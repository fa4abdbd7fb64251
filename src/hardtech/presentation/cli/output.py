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
from rich.markup import escape
from rich.table import Table as RichTable

from hardtech.errors import HardtechError, NothingToShow, UsageError


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


@dataclass(frozen=True)
class Empty:
    """Why a command's answer can be empty, for the one line it then prints (exit code 3).

    `needs`: the tables the answer is computed from; the first one the store has no rows in is named,
    with the command that fills it. When they all hold rows, the answer was narrowed to nothing by
    the options: `key` (a message in cli.toml, formatted with `args`) says which option to change.
    """

    needs: tuple[str, ...] = ()
    key: str = "empty.generic"
    args: dict = field(default_factory=dict)


@dataclass
class Output:
    db: Path
    fmt: Format = Format.table
    output: Path | None = None
    console: Console = field(default_factory=lambda: Console(stderr=True))
    lang: str | None = None

    def __post_init__(self) -> None:
        from hardtech.presentation.cli.text import CliText

        self.wrote = False
        self.t = CliText(self.lang)
        self.lang = self.t.lang
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
        from hardtech.services.store_file import open_file

        return open_file(self.db, read_only=read_only)

    def message(self, text: str) -> None:
        """Human messages go to stderr so that stdout stays clean data in csv/json formats (one line each:
        a terminal wraps them, a log keeps them whole). They are rich markup written by us; data inside them never
        carries a control character to the terminal."""
        self.console.print(terminal_safe(text), soft_wrap=True)

    @property
    def people(self) -> bool:
        """True when the output is a table for people (not json/csv/parquet for programs)."""
        return Format(self.fmt) == Format.table

    def why_empty(self, empty: Empty) -> str:
        """The one line an empty answer prints: the missing data and how to import it, or the option to change."""
        t = self.t
        if empty.needs:
            with self.store(read_only=True) as store:
                for name in empty.needs:
                    if not store.count(name):
                        return t("empty.no_table", what=t(f"table.{name}"), todo=t(f"todo.{name}"))
        return t(empty.key, **empty.args)

    def nothing(self, empty: Empty) -> "NothingToShow":
        return NothingToShow(self.why_empty(empty))

    def emit(self, data: Any, title: str | None = None, columns: list[str] | None = None,
             caption: str | None = None, empty: Empty | None = None, units: dict[str, str] | None = None,
             optional: bool = False) -> None:
        """Write rows in the chosen format. With no rows: `optional` tables are skipped; with `empty`, the
        machine formats still write their empty document, then the command ends with the reason (exit 3)."""
        if hasattr(data, "read_all"):  # a RecordBatchReader
            data = data.read_all()
        rows = [_jsonable(r) for r in to_records(data)]
        if not rows and optional:
            return
        if columns is None:
            if rows:
                columns = list(dict.fromkeys(k for r in rows for k in r))
            else:
                columns = list(getattr(data, "column_names", None) or getattr(data, "columns", None) or [])
        fmt = Format(self.fmt)
        if not rows and (empty is not None or fmt == Format.table):
            reason = self.why_empty(empty or Empty())
            if fmt != Format.table and fmt != Format.parquet:
                self._write(self._render([], columns, fmt, title, caption, units), 0)
            if empty is not None:
                raise NothingToShow(reason)
            self.message(reason)
            return
        if fmt == Format.parquet:
            if not self.output:
                raise UsageError(self.t("msg.parquet_needs_output"))
            self._write_parquet(data, rows, columns)
            self.message(self.t("msg.wrote", n=len(rows), path=self.output))
            return
        self._write(self._render(rows, columns, fmt, title, caption, units), len(rows))

    def _write(self, text: str, n: int) -> None:
        self.wrote = True
        if self.output:
            Path(self.output).write_text(text, encoding="utf-8")
            self.message(self.t("msg.wrote", n=n, path=self.output))
        else:
            if sys.stdout.isatty():
                text = terminal_safe(text)  # a file or a pipe gets the exact data; a screen never an escape
            sys.stdout.write(text)
            sys.stdout.flush()

    def _write_parquet(self, data: Any, rows: list[dict], columns: list[str]) -> None:
        """Arrow data is written as it is (maps, structs, decimals keep their types); rows go through
        `write_parquet`, which keeps lists and objects."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        if hasattr(data, "to_pyarrow") and not hasattr(data, "to_pylist"):  # ibis
            data = data.to_pyarrow()
        if isinstance(data, pa.Table):
            pq.write_table(data.select(columns), self.output)
            return
        write_parquet(rows, columns, self.output)

    def _render(self, rows: list[dict], columns: list[str], fmt: Format, title: str | None,
                caption: str | None, units: dict[str, str] | None = None) -> str:
        if fmt == Format.json:
            return json.dumps([{c: r.get(c) for c in columns} for r in rows], ensure_ascii=False, indent=2) + "\n"
        if fmt == Format.jsonl:
            return "".join(json.dumps({c: r.get(c) for c in columns}, ensure_ascii=False) + "\n" for r in rows)
        if fmt == Format.csv:
            flat, cols = flatten_rows(rows, columns)
            return _csv_text([cols] + [[neutralise_formula(_csv_value(r.get(c))) for c in cols] for r in flat])
        return self._table(rows, columns, title, caption, units)

    # tables for people ----------------------------------------------------------------------

    def _width(self) -> int:
        import os

        env = os.environ.get("COLUMNS", "")
        if env.isdigit() and int(env) > 20:
            return int(env)
        term = Console()
        return term.width if (self.output is None and term.is_terminal) else 200

    def _table(self, rows: list[dict], columns: list[str], title: str | None, caption: str | None,
               units: dict[str, str] | None) -> str:
        t = self.t
        cells = [[t.cell(r.get(c), t.unit_of(c, units), r, c) for c in columns] for r in rows]
        heads = [t.col(c) for c in columns]
        if len(rows) >= 3:  # a text column with one value in every row is said once, under the table
            same = [j for j, c in enumerate(columns) if t.unit_of(c, units) == "text"
                    and isinstance(rows[0].get(c), str) and len({line[j] for line in cells}) == 1 and cells[0][j]]
            if same and len(same) < len(columns):
                notes = [f"{heads[j]}: {cells[0][j]}" for j in same]
                caption = "\n".join(([caption] if caption else []) + notes)
                keep = [j for j in range(len(columns)) if j not in same]
                columns, heads = [columns[j] for j in keep], [heads[j] for j in keep]
                cells = [[line[j] for j in keep] for line in cells]
        from rich.text import Text

        def plain(v):  # cells are text, never markup, and show a control character as a visible escape
            return None if v is None else Text(terminal_safe(str(v)))

        width = self._width()
        cons = Console(file=io.StringIO(), width=width, force_terminal=False, highlight=False)
        numeric = [t.unit_of(c, units) != "text" and any(isinstance(r.get(c), (int, float))
                                                         and not isinstance(r.get(c), bool) for r in rows)
                   for c in columns]
        mins = _min_widths(heads, cells, numeric)
        if len(cells) == 1 and len(heads) > 5 or sum(m + 3 for m in mins) + 1 > width:
            for k, (r, line) in enumerate(zip(rows, cells), start=1):
                head = f"{title} ({k}/{len(rows)})" if title and len(rows) > 1 else title
                grid = RichTable(title=plain(head), show_header=False, show_lines=False, title_justify="left")
                grid.add_column(style="bold", overflow="fold", max_width=max(12, width // 3))
                grid.add_column(overflow="fold")
                for h, v in zip(heads, line):
                    if v != "":
                        grid.add_row(plain(h), plain(v))
                cons.print(grid)
            if caption:
                cons.print(plain(caption))
            return cons.file.getvalue()
        if title:  # a line of its own, as wide as the screen: a table's own title wraps at the table's width
            cons.print(plain(title))
        table = RichTable(caption=plain(caption), show_lines=False)
        for h, right, w in zip(heads, numeric, _column_widths(heads, cells, mins, numeric, width)):
            table.add_column(plain(h), overflow="fold", justify="right" if right else "left", width=w)
        for line in cells:
            table.add_row(*(plain(v) for v in line))
        cons.print(table)
        return cons.file.getvalue()


def _column_widths(heads: list[str], cells: list[list[str]], mins: list[int], numeric: list[bool],
                   width: int) -> list[int | None]:
    """Column widths for a table that fits only when wrapped. Each column gets its minimum
    (`_min_widths`); then, while there is room, number columns their whole cells (`USD 2.12 bn` on one
    line), every column its longest word, and what is left goes to the columns in proportion to how
    much wider they would like to be. Rich's own shrinking reduces every column by the same ratio and
    cuts words; this never does."""
    from rich.cells import cell_len

    natural = [max([cell_len(h)] + [cell_len(str(line[j])) for line in cells]) for j, h in enumerate(heads)]
    if sum(n + 3 for n in natural) + 1 <= width:
        return [None] * len(heads)  # fits as it is
    out = list(mins)
    room = width - (sum(m + 3 for m in mins) + 1)
    word = [max([cell_len(w) for w in h.split()] + [cell_len(w) for line in cells for w in str(line[j]).split()])
            for j, h in enumerate(heads)]
    whole = [max([cell_len(str(line[j])) for line in cells], default=0) if numeric[j] else 0 for j in range(len(heads))]
    for goal in (whole, word):
        for j in sorted(range(len(out)), key=lambda j: goal[j] - out[j]):
            extra = goal[j] - out[j]
            if 0 < extra <= room:
                out[j], room = goal[j], room - extra
    want = [max(n - w, 0) for n, w in zip(natural, out)]
    total = sum(want) or 1
    return [w + room * k // total for w, k in zip(out, want)]


def _min_widths(heads: list[str], cells: list[list[str]], numeric: list[bool]) -> list[int]:
    """How narrow each column of a table for people may be without cutting a word or a number.

    A column is as wide as its longest header word and its longest cell word (a text's counted up to
    10 characters: longer words fold anyway; a number's and its unit's in full, `USD 2.12 bn` may break
    only at its spaces). A table whose columns cannot all get this much is shown as records instead;
    one that can is drawn with these as the columns' minimum widths, so Rich never cuts a word."""
    from rich.cells import cell_len

    out = []
    for j, h in enumerate(heads):
        words = max((cell_len(w) for w in h.split()), default=1)
        longest = max((cell_len(w) for line in cells for w in str(line[j]).split()), default=0)
        out.append(max(words, longest if numeric[j] else min(longest, 10), 1))
    return out


def flatten_rows(rows: list[dict], columns: list[str]) -> tuple[list[dict], list[str]]:
    """Rows for a flat file with the structure kept: objects become `parent.key` columns, lists of objects
    become rows of their own (`section` = the list's name, `item` = its position) after the row they
    belong to, lists of values are `|`-joined (the convention `hardtech import` reads back)."""
    nested = [c for c in columns if any(_is_records(r.get(c)) for r in rows)]
    out: list[dict] = []
    cols: dict[str, None] = {}
    if nested:
        cols["section"] = None
    for r in rows:
        head = {}
        for c in columns:
            if c in nested:
                continue
            _flat_into(head, c, r.get(c))
        if nested:
            head = {"section": "", **head}
        out.append(head)
        cols.update(dict.fromkeys(head))
        for c in nested:
            for k, item in enumerate(r.get(c) or [], start=1):
                sub = {"section": c, "item": k}
                for key, v in (item.items() if isinstance(item, dict) else [("value", item)]):
                    _flat_into(sub, key, v)
                out.append(sub)
                cols.update(dict.fromkeys(sub))
    return out, list(cols)


def _is_records(v: Any) -> bool:
    return isinstance(v, (list, tuple)) and any(isinstance(x, dict) for x in v)


def _flat_into(out: dict, key: str, v: Any) -> None:
    if isinstance(v, dict):
        if not v:
            out[key] = None
        for k, x in v.items():
            _flat_into(out, f"{key}.{k}", x)
    else:
        out[key] = v


def write_parquet(rows: list[dict], columns: list[str], path: Path) -> None:
    """Parquet keeps lists and objects as Arrow lists and structs; values of mixed types inside them
    (a field that is a number in one row and text in another) fall back to the flat layout of csv."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pa.Table.from_pylist([{c: r.get(c) for c in columns} for r in rows])
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        flat, cols = flatten_rows(rows, columns)
        data = {}
        for c in cols:
            vals = [r.get(c) for r in flat]
            try:
                data[c] = pa.array(vals)
            except (pa.ArrowInvalid, pa.ArrowTypeError):
                data[c] = pa.array([None if v is None else str(v) for v in vals], pa.string())
        table = pa.table(data)
    pq.write_table(table, path)


def _csv_text(records: list[list]) -> str:
    """CSV records, each ending in "\n". Python's csv module quotes a cell only for the characters of its line
    terminator, so a writer ending lines in "\n" leaves a bare carriage return unquoted and a spreadsheet splits
    the row there; each record is written with "\r\n" (every cell holding either is quoted), then its
    terminator swapped."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    out = []
    for cells in records:
        buf.seek(0)
        buf.truncate(0)
        w.writerow(cells)
        out.append(buf.getvalue()[:-2] + "\n")
    return "".join(out)


def _csv_value(v: Any) -> Any:
    if isinstance(v, (list, tuple)):
        return "|".join("" if x is None else str(x) for x in v)
    return "" if v is None else v


def _db_default() -> Path:
    from hardtech.services.store_file import default_path

    return default_path()


def command(app: typer.Typer, name: str | None = None, **kwargs) -> Callable:
    """Register a Typer command that receives an `out: Output` built from the shared options.

    The decorated function declares `out: Output` as its first keyword; the decorator adds
    `--db`, `--format`, `--output` and `--lang` (unless the command has its own `lang`) to its
    signature and turns HardtechError into one clean line and its exit code (EXIT_CODES).
    """

    def deco(fn: Callable) -> Callable:
        sig = inspect.signature(fn)
        params = [p for p in sig.parameters.values() if p.name != "out"]
        own_lang = "lang" in sig.parameters
        extra = [
            inspect.Parameter("db", inspect.Parameter.KEYWORD_ONLY, annotation=Optional[Path],
                              default=typer.Option(None, "--db", envvar="HARDTECH_DB",
                                                   help="Store file [default: ./hardtech.duckdb].")),
            inspect.Parameter("fmt", inspect.Parameter.KEYWORD_ONLY, annotation=Format,
                              default=typer.Option(Format.table, "--format", "-f", help="Output format.")),
            inspect.Parameter("output", inspect.Parameter.KEYWORD_ONLY, annotation=Optional[Path],
                              default=typer.Option(None, "--output", "-o", help="Write to FILE instead of stdout.")),
        ]
        if not own_lang:
            extra.append(inspect.Parameter(
                "cli_lang", inspect.Parameter.KEYWORD_ONLY, annotation=Optional[str],
                default=typer.Option(None, "--lang", envvar="HARDTECH_LANG",
                                     help="Language of tables and messages for people: en or zh.")))

        @functools.wraps(fn)
        def wrapper(*args, db: Path | None = None, fmt: Format = Format.table, output: Path | None = None,
                    cli_lang: str | None = None, **kw):
            console = Console(stderr=True)
            out = None
            try:
                out = Output(db=db or _db_default(), fmt=fmt, output=output, console=console,
                             lang=kw.get("lang") if own_lang else cli_lang)
                return fn(*args, out=out, **kw)
            except NothingToShow as exc:
                if out is not None and not out.wrote and Format(out.fmt) == Format.json:
                    out._write("[]\n", 0)  # programs still get a valid (empty) document
                text = out.t(exc.key, **exc.args_) if out is not None and exc.key and out.t.has(exc.key) else str(exc)
                console.print(text, highlight=False, markup=False, soft_wrap=True)
                raise typer.Exit(exc.exit_code) from None
            except HardtechError as exc:
                console.print(f"[red]error:[/red] {escape(terminal_safe(str(exc)))}", highlight=False, soft_wrap=True)
                raise typer.Exit(exc.exit_code) from None
            except KeyboardInterrupt:
                console.print("[yellow]interrupted: nothing was changed by the unfinished step[/yellow]")
                raise typer.Exit(130) from None
            except Exception as exc:  # a damaged store or a full disk is a message, not a traceback
                from hardtech.services.store_file import store_error

                err = store_error(exc, out.db if out is not None else (db or _db_default()))
                if err is None:
                    raise
                console.print(f"[red]error:[/red] {escape(terminal_safe(str(err)))}", highlight=False, soft_wrap=True)
                raise typer.Exit(err.exit_code) from None
            finally:
                if out is not None:
                    out.close()

        wrapper.__signature__ = sig.replace(parameters=params + extra)
        app.command(name, **kwargs)(wrapper)
        return fn

    return deco


@contextmanager
def step_progress(console: Console, title: str, lang: str = "en"):
    """A progress bar over the steps a long operation reports through `advance(step, done, total)`.

    On a terminal it is a Rich bar (spinner, step, bar, elapsed time) that disappears when done; when
    stderr is piped or redirected nothing is drawn, so logs and captured output stay clean. The steps
    are named by the services in English, so in another language the bar shows the (translated) title
    and the count of steps done, not an English step."""
    if not console.is_terminal:
        yield lambda step, done, total: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console, transient=True) as bar:
        task = bar.add_task(escape(title), total=1)

        def advance(step: str, done: int, total: int) -> None:
            text = f"{title}: {step}" if lang == "en" else title
            bar.update(task, description=escape(text), completed=done, total=max(total, 1))

        yield advance


@contextmanager
def busy(console: Console, text: str):
    """A spinner for work without steps to count, on a terminal only (quiet when piped)."""
    if not console.is_terminal:
        yield None
        return
    with console.status(escape(text)) as status:
        yield status


def iter_chunks(items: Iterable, size: int):
    chunk = []
    for it in items:
        chunk.append(it)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
