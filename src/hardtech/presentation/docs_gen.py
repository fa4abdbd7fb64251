"""Generate the reference pages (`docs/data-model.md`, `docs/cli.md`) from the code itself.

As in datasette, the docs test regenerates these pages and fails when the committed copy is
stale, so a column or command cannot exist without being documented.

    python -m hardtech.presentation.docs_gen      # rewrite docs/ in place
"""

from __future__ import annotations

import sys
from pathlib import Path

from hardtech.schema import PROVENANCE, TABLES
from hardtech.services.store_file import schema_version


def data_model_markdown() -> str:
    out = ["# Data model", "",
           "Generated from `src/hardtech/schema.py` by `python -m hardtech.presentation.docs_gen`; "
           "a test fails when this page is stale.", "",
           f"Schema version: **{schema_version()}** (see `store/migrations.py`). The store is one DuckDB file; "
           "analytics read it through Ibis.", "",
           "Conventions: money columns are in units of the row's `currency` (the importer applies the "
           "mapping's unit, e.g. EUR million or 万元); list columns are DuckDB lists, written `|`-separated "
           "in CSV files; dates are ISO dates.", ""]
    for t in TABLES.values():
        out += [f"## `{t.name}`", "", t.doc, "", f"Key: {', '.join(f'`{k}`' for k in t.key)}.", "",
                "| column | type | required | rule | meaning |", "|---|---|---|---|---|"]
        for c in t.columns:
            rule = []
            if c.choices:
                rule.append("one of " + ", ".join(f"`{x}`" for x in c.choices))
            if c.minimum is not None:
                rule.append(f"≥ {c.minimum:g}")
            out.append(f"| `{c.name}` | {c.type} | {'yes' if c.required else ''} | {'; '.join(rule)} | {c.doc} |")
        if t.provenance:
            out.append("| *provenance* | | | | the columns below |")
        out.append("")
    out += ["## Provenance columns (on every data table)", "", "| column | type | meaning |", "|---|---|---|"]
    out += [f"| `{c.name}` | {c.type} | {c.doc} |" for c in PROVENANCE]
    out += ["", "## Validation rules applied on import", "",
            "- required columns empty → rejected; values that cannot be parsed as the column's type → rejected;",
            "- values outside `choices` or below `minimum` (negative R&D, employees, amounts) → rejected;",
            "- years (`fiscal_year`, `founded`, `stat_year`, a publication's `year`) and dates after today → rejected;",
            "- a `currency` that is no ISO 4217 code, current or withdrawn, once currency words (`RMB`, `人民币`, "
            "`US$`) are read as codes → rejected;",
            "- `revenue` > 0 and `rd_expense` > 100 × `revenue` → rejected as a likely unit error "
            "(a mapping may relax this for real pre-revenue companies: `relax: [rd_far_above_revenue]`);",
            "- `rd_staff` > `employees` → rejected; a currency in an amount that contradicts the row's `currency` → rejected;",
            "- a key repeated inside one file → the later lines are rejected (first wins), unless the mapping says "
            "`distinct: true`;",
            "- `financials` and `funding_rounds` rows whose `org_id` is not in `organizations` → rejected.",
            "", "Every rejected row is kept in `rejects` with file, line (header = line 1), column, value, reason "
            "and the whole source row as JSON.", ""]
    return "\n".join(out)


def _params_table(cmd) -> list[str]:
    rows = ["| argument / option | default | help |", "|---|---|---|"]
    for p in cmd.params:
        if getattr(p, "param_type_name", "") == "option":
            names = ", ".join(f"`{o}`" for o in p.opts + p.secondary_opts)
            default = "" if p.default in (None, False) or callable(p.default) else f"`{_fmt_default(p.default)}`"
            rows.append(f"| {names} | {default} | {_help(p.help)} |")
        else:
            req = "" if p.required else " (optional)"
            rows.append(f"| `{p.name.upper()}`{req} | | {_help(getattr(p, 'help', ''))} |")
    return rows


def _help(text: str | None) -> str:
    """A help text as the terminal shows it (Rich's escaped `\\[` is a plain bracket) inside a table cell."""
    return (text or "").replace("\\[", "[").replace("|", "/")


def _fmt_default(v) -> str:
    return getattr(v, "value", v) if not isinstance(v, (list, tuple)) else ", ".join(map(str, v))


def cli_commands() -> dict:
    import typer

    from hardtech.presentation.cli.app import app

    group = typer.main.get_command(app)
    return dict(sorted(group.commands.items()))


def cli_markdown() -> str:
    from hardtech.errors import EXIT_CODES

    out = ["# Command-line reference", "",
           "Generated from the Typer app by `python -m hardtech.presentation.docs_gen`; a test fails when a "
           "command or option is missing here.", "",
           "Every command takes the shared options `--db PATH` (default `./hardtech.duckdb`, or `HARDTECH_DB`), "
           "`--format table|csv|json|jsonl|parquet`, `--output FILE` and `--lang en|zh` (or `HARDTECH_LANG`).", "",
           "The global option `--engine duckdb|spark`, before the command (or `HARDTECH_ENGINE`), picks the engine "
           "that computes the analyses: `hardtech --engine spark rank --year 2021`. Spark reads the store's "
           "Parquet export and only reads; a command that writes says it needs `--engine duckdb` (exit code 2). "
           "Which command runs where: docs/scaling.md.", "",
           "## What every command promises", "",
           "- **A result, or one line saying why there is none.** An empty answer prints one line on stderr naming "
           "the data the store lacks and the command that imports it, or the option that narrowed the answer to "
           "nothing (\"Nothing to show: the store has no funding rounds. To fill it, import funding rounds with "
           "`hardtech import funding_rounds FILE --mapping MAPPING` …\"). With `--format json|jsonl|csv` stdout "
           "still holds a valid empty document (`[]`, or the header line).",
           "- **Numbers for people in tables, full precision for programs.** `--format table` rounds and adds "
           "units: `15.3 %`, `EUR 1.23 bn`, a hardness score `88.9`; json, jsonl, csv and parquet keep every "
           "digit. Each column's unit is declared once, in `src/hardtech/data/i18n/cli.toml`.",
           "- **Structure kept.** json and parquet keep lists and objects as they are. csv, being flat, writes an "
           "object as `parent.key` columns (`rd_by_currency.EUR`), a list of values `|`-joined (as `hardtech "
           "import` reads it back), and a list of objects as rows of their own after the row they belong to "
           "(`section` = the list's name, `item` = the position).",
           "- **Tables that fit.** A table wider than the terminal (or `COLUMNS`) that would cut its words into "
           "fragments, and a single record of more than five fields, are shown as one `field  value` block per "
           "record; a table that fits when wrapped breaks cells at spaces only (every column keeps its longest "
           "word, up to 10 characters); a text column with the same value in every row is said once under the "
           "table.",
           "- **Two languages.** `--lang zh` (or `HARDTECH_LANG=zh`) gives titles, column headers and messages "
           "in Chinese; ids and codes stay as they are. Error texts from the analytics stay in English.",
           "- **Progress on long work.** Imports, classification over the store or a file and the white paper "
           "show a progress bar on a terminal (in Chinese, the translated title and the count of steps); piped "
           "or redirected, they print nothing but their result.",
           "", "## Exit codes", "", "| code | meaning |", "|---|---|"]
    out += [f"| {code} | {text} |" for code, text in EXIT_CODES.items()]
    out += [""]
    for name, cmd in cli_commands().items():
        help_text = (cmd.help or "").strip().split("\n\n")[0]
        out += [f"## `hardtech {name}`", "", help_text, ""] + _params_table(cmd) + [""]
    return "\n".join(out)


PAGES = {"docs/data-model.md": data_model_markdown, "docs/cli.md": cli_markdown}


def main(root: Path | None = None) -> None:
    root = root or Path(__file__).resolve().parents[3]
    for rel, fn in PAGES.items():
        (root / rel).write_text(fn(), encoding="utf-8")
        print(f"wrote {rel}")


if __name__ == "__main__":  # pragma: no cover
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else None)
