"""The `hardtech` command line: a thin layer over the service functions.

Each command parses its arguments, calls one service function, and hands the rows to
`Output.emit`; no analytics live here.
"""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer
from rich.markup import escape

from hardtech import __version__
from hardtech.errors import UsageError
from hardtech.presentation.cli.output import Empty, Output, busy, command, step_progress
from hardtech.presentation.cli.views import RANK_VALUE_UNITS

app = typer.Typer(
    name="hardtech",
    help="Find, classify, score, rank and map hard & core technology (硬科技).",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"hardtech {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help="Print the version and exit."),
          engine: Optional[str] = typer.Option(None, "--engine", envvar="HARDTECH_ENGINE",
                                               help="Engine that computes the analyses: duckdb (default) or "
                                                    "spark (reads the store's Parquet export; "
                                                    "HARDTECH_SPARK_MASTER picks the cluster).")) -> None:
    """Find, classify, score, rank and map hard & core technology (硬科技)."""
    from hardtech.errors import HardtechError
    from hardtech.services.opened import select

    try:
        select(engine)
    except HardtechError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(exc.exit_code) from None


@command(app, "import")
def import_cmd(
    table: str = typer.Argument(..., help="Target table (organizations, financials, patents, funding_rounds, "
                                          "investors, regions) or `auto` for every table the mapping feeds."),
    file: Path = typer.Argument(..., help="CSV, TSV, Parquet, JSON Lines or Excel file; with a source "
                                          "connector, also a folder or zip as downloaded."),
    mapping: Optional[str] = typer.Option(None, "--mapping", "-m",
                                          help="Mapping YAML file, or the name of a shipped mapping or source "
                                               "connector (see `hardtech sources`)."),
    source: Optional[str] = typer.Option(None, "--source", help="Source name recorded on every row."),
    licence: Optional[str] = typer.Option(None, "--licence",
                                          help="Licence of the source, as it states it, recorded on every row "
                                               "(default: the mapping's `licence`)."),
    allow_rejects: bool = typer.Option(False, "--allow-rejects",
                                       help="Exit 0 even when rows were rejected."),
    sheet: Optional[str] = typer.Option(None, "--sheet", help="Excel sheet name."),
    synthetic: Optional[bool] = typer.Option(None, "--synthetic/--real",
                                             help="Flag the rows as synthetic (default: from the mapping)."),
    encoding: Optional[str] = typer.Option(None, "--encoding",
                                           help="The file's text encoding (default: UTF-8 or GBK, decided from "
                                                "the whole file; a file mixing them is refused)."),
    decimal: Optional[str] = typer.Option(None, "--decimal",
                                          help="Number notation: `point` (1,234.5, the default) or `comma` "
                                               "(1.234,5)."),
    *, out: Output,
) -> None:
    """Import a file into the store: validated, idempotent and atomic."""
    from hardtech.errors import RejectedRows
    from hardtech.services import import_file

    t = out.t
    with step_progress(out.console, t("progress.import", file=file.name), out.lang) as advance:
        result = import_file(out.db, table, file, mapping=mapping, source=source, synthetic=synthetic, sheet=sheet,
                             progress=advance, encoding=encoding, decimal=decimal, licence=licence)
    out.emit(result.summary_rows(), title=t("title.import", file=file.name, db=out.db, seconds=f"{result.seconds:.1f}"))
    from rich.markup import escape

    redirected = sum(tr.redirected for tr in result.targets)
    if redirected:
        out.message(t("msg.rows_redirected", n=redirected))
    for note in getattr(result, "notes", []):
        out.message(escape(note))
    if result.ignored_columns:
        out.message(escape(t("msg.columns_not_imported", columns=", ".join(result.ignored_columns[:20])
                             + (" …" if len(result.ignored_columns) > 20 else ""))))
    if result.rejected:
        shown = result.rejects[:10]
        lines = "\n".join(t("msg.reject_line", line=r["line"], column=r["column_name"], reason=r["reason"])
                          for r in shown)
        more = ("\n" + t("msg.and_more", n=len(result.rejects) - len(shown))) if len(result.rejects) > len(shown) else ""
        msg = t("msg.rows_rejected", n=result.rejected, import_id=result.import_id) + f"\n{lines}{more}"
        if allow_rejects:
            out.message(f"[yellow]{escape(msg)}[/yellow]")
        else:
            raise RejectedRows(msg)


@command(app, "rejects")
def rejects_cmd(
    import_id: Optional[str] = typer.Option(None, "--import", help="Only this import run."),
    limit: int = typer.Option(100, "--limit", help="At most this many rows."),
    *, out: Output,
) -> None:
    """Rows imports refused, with file, line, column, value and reason."""
    from hardtech.services import list_rejects

    out.emit(list_rejects(out.db, import_id, limit), title=out.t("title.rejects"),
             empty=Empty(key="empty.rejects_import" if import_id else "empty.rejects", args={"import_id": import_id}))


@command(app, "sql")
def sql_cmd(query: str = typer.Argument(..., help="A SELECT (or other read-only) statement."),
            allow_files: bool = typer.Option(False, "--allow-files",
                                             help="Let DuckDB's file functions read and write files "
                                                  "(read_csv, COPY … TO, EXPORT DATABASE); off by default."),
            *, out: Output) -> None:
    """Run one read-only query against the store, in a sandbox: no file read or written, nothing installed."""
    from hardtech.services.store_file import sql_rows

    out.emit(sql_rows(out.db, query, allow_files=allow_files), empty=Empty(key="empty.sql"))


@command(app, "status")
def status_cmd(*, out: Output) -> None:
    """Tables, row counts and schema version of the store."""
    from hardtech.services import store_status

    rows = store_status(out.db)
    out.emit(rows, title=out.t("title.status", db=out.db))
    if not any(r["rows"] for r in rows if r["table"] in ("organizations", "financials", "patents", "funding_rounds")):
        out.message(out.t("msg.store_empty"))


@command(app, "check")
def check_cmd(*, out: Output) -> None:
    """Check the store file is whole: its size, schema version, every block of every table readable, unique
    keys. Exit code 0 when intact, 1 when damaged, 2 when there is no store."""
    from hardtech.errors import DamagedStore
    from hardtech.services.data import check_store_rows

    rows = check_store_rows(out.db)
    out.emit(rows, title=out.t("title.check", db=out.db))
    failed = [r for r in rows if not r["ok"]]
    if failed:
        raise DamagedStore(out.t("msg.check_failed", failed=len(failed), n=len(rows), db=out.db))
    out.message(out.t("msg.check_passed", n=len(rows)))


@command(app, "mappings")
def mappings_cmd(*, out: Output) -> None:
    """Mapping files shipped with hardtech (usable by name with `import --mapping`)."""
    from hardtech.services import shipped_mapping_rows

    out.emit(shipped_mapping_rows(), title=out.t("title.mappings"))


@command(app, "sources")
def sources_cmd(
    name: Optional[str] = typer.Argument(None, help="One source: the tables and columns it fills, its files, "
                                                    "licence and what happens to unresolved organisations."),
    *, out: Output,
) -> None:
    """Sources hardtech reads (connectors and mapping files): what each provides and its licence."""
    from hardtech.services.sources import source_rows

    if name:
        out.emit(source_rows(name), title=out.t("title.source", name=name))
        return
    rows = source_rows()
    if out.people:  # the words are ours: said in the reader's language (json/csv keep the source's own texts)
        t = out.t
        for r in rows:
            where = r["name"] if r["kind"] == "connector" else "mapping"  # every mapping reads one file
            r["kind"] = t(f"source_kind.{r['kind']}")
            if t.has(f"source_licence.{r['name']}"):
                r["licence"] = t(f"source_licence.{r['name']}")
            if t.has(f"source_point_at.{where}"):
                r["point_at"] = t(f"source_point_at.{where}")
    cols = ["name", "kind", "tables", "licence", "point_at"] if out.people else None
    out.emit(rows, title=out.t("title.sources"), columns=cols)


@command(app, "taxonomy")
def taxonomy_cmd(
    action: str = typer.Argument("fields", help="fields | subfields | typology | schemes | map"),
    codes: Optional[List[str]] = typer.Argument(None, help="With `map`: codes to look up."),
    scheme: Optional[str] = typer.Option(None, "--scheme", "-s",
                                         help="With `map`: cpc, ipc, nace, isic, gics, cn_industry, nbs_sei, "
                                              "nbs_hightech, crunchbase, unicorn_industry."),
    *, out: Output,
) -> None:
    """The eight fields, the typology and the code concordances; `map` says which field a code is in, and why."""
    from hardtech.services import taxonomy_rows

    out.emit(taxonomy_rows(action, codes or [], scheme), title=out.t("title.taxonomy", action=action))


@command(app, "classify")
def classify_cmd(
    action: str = typer.Argument("run", help="run (default) | fit (learn from --labels, write --out)"),
    text: Optional[str] = typer.Option(None, "--text", help="Classify this one text."),
    file: Optional[Path] = typer.Option(None, "--file", help="Classify the rows of a CSV/JSONL/Parquet file."),
    text_column: str = typer.Option("description", "--text-column", help="With --file: the column holding the text."),
    id_column: Optional[str] = typer.Option(None, "--id-column", help="With --file: an identifier column (kept)."),
    codes_column: Optional[str] = typer.Option(None, "--codes-column",
                                               help="Column of `scheme:code` codes (`|`-separated), e.g. cpc:G06N3/08."),
    table: str = typer.Option("organizations", "--table", help="Over the store: organizations or patents."),
    where: Optional[str] = typer.Option(None, "--where",
                                        help="Over the store: one SQL condition on organizations o and their latest "
                                             "financials f (run read-only in a sandbox), e.g. \"o.city = 'Xi''an'\"."),
    limit: Optional[int] = typer.Option(None, "--limit", help="Over the store: at most N entities."),
    no_save: bool = typer.Option(False, "--no-save", help="Over the store: do not save the verdicts."),
    model: Optional[Path] = typer.Option(None, "--model", help="Model file (default: the shipped model)."),
    labels: Optional[Path] = typer.Option(None, "--labels", help="With fit: labelled examples (text, fields, typology)."),
    model_out: Optional[Path] = typer.Option(None, "--out", help="With fit: where to write the model file."),
    only_user: bool = typer.Option(False, "--only-labels", help="With fit: learn from --labels alone, not ours too."),
    neural: bool = typer.Option(False, "--neural", help="Use the full MiniLM transformer (pip install 'hardtech\\[neural]'); "
                                                        "its model is fitted on first use and cached."),
    threshold: Optional[float] = typer.Option(None, "--threshold", min=0.01, max=1.0,
                                              help="Field probability a field needs to be assigned (default 0.35)."),
    kind_column: Optional[str] = typer.Option(None, "--kind-column",
                                              help="With --file: organisation kind (company, startup, university, "
                                                   "institute, investor, government); only companies and projects "
                                                   "get a typology. Default: a `kind` column if present, else read "
                                                   "from the text."),
    no_evidence: bool = typer.Option(False, "--no-evidence",
                                     help="With --file or over the store: leave the evidence column out of the output "
                                          "(faster for large inputs; the store still saves it)."),
    jobs: Optional[int] = typer.Option(None, "--jobs", min=1,
                                       help="With --file or over the store: processes to classify with (default: "
                                            "this machine's cores; 1 = this process only; --neural uses one). Verdicts do "
                                            "not depend on it."),
    *, out: Output,
) -> None:
    """Classify into the eight fields and the typology, with evidence; `fit` learns from your labels."""
    from hardtech.services import classify_file, classify_store, classify_text, fit_model

    t = out.t
    if action == "fit":
        if not labels or not model_out:
            raise UsageError("`classify fit` needs --labels FILE and --out MODEL")
        with busy(out.console, t("progress.fit")):
            row = fit_model(labels, model_out, text_column="text" if text_column == "description" else text_column,
                            codes_column=codes_column, include_default=not only_user)
        out.emit([row], title=t("title.model_written"))
        return
    if action != "run":
        raise UsageError(f"unknown action {action!r}: run or fit")
    # programs get lists and objects (json, jsonl, parquet); people and spreadsheets the flat form
    form = "structured" if out.fmt.value in ("json", "jsonl", "parquet") else "flat"
    if text is not None:
        out.emit(classify_text(text, model, neural, threshold=threshold, form=form), title=t("title.verdict"))
    elif file is not None:
        with step_progress(out.console, t("progress.classify", what=file.name), out.lang) as advance:
            rows = classify_file(file, text_column, id_column, codes_column, model, progress=advance, neural=neural,
                                 threshold=threshold, form=form, kind_column=kind_column, evidence=not no_evidence,
                                 jobs=jobs)
        out.emit(rows, title=t("title.classify_file", file=file.name, n=len(rows)),
                 empty=Empty(key="empty.file_rows", args={"file": file.name}))
    else:
        with step_progress(out.console, t("progress.classify", what=table), out.lang) as advance:
            rows = classify_store(out.db, table, where, limit, model, save=not no_save, progress=advance, neural=neural,
                                  threshold=threshold, form=form, evidence=not no_evidence, jobs=jobs)
        out.emit(rows, title=t("title.classify_store" if no_save else "title.classify_store_saved", n=len(rows),
                                table=t(f"table.{table}") if t.has(f"table.{table}") else table),
                 empty=Empty((table,), "empty.where", {"where": where or ""}))


@command(app, "evaluate")
def evaluate_cmd(
    labels: Path = typer.Option(..., "--labels", help="Labelled descriptions: columns text, fields, typology."),
    model: Optional[Path] = typer.Option(None, "--model", help="Model file (default: the shipped model)."),
    cv: Optional[int] = typer.Option(None, "--cv", help="Instead of a model: K-fold cross-validation on the labels."),
    text_column: str = typer.Option("text", "--text-column"),
    fields_column: str = typer.Option("fields", "--fields-column"),
    typology_column: str = typer.Option("typology", "--typology-column"),
    *, out: Output,
) -> None:
    """Per-field precision/recall/F1, macro-F1, typology accuracy and confusion, calibration error, AUC."""
    from hardtech.services import evaluate_labels

    with busy(out.console, out.t("progress.evaluate")):
        r = evaluate_labels(labels, model, cv, text_column, fields_column, typology_column)
    summary = [{"model": r["model"], "n": r["n"], "threshold": r["threshold"], "macro_f1": r["macro_f1"],
                "typology_accuracy": r["typology_accuracy"], "calibration_error": r["ece"],
                "auc_hard_vs_model_innovation": r["auc_hard_vs_model"]}]
    if out.people:
        out.emit(r["fields"], title=out.t("title.eval_fields"))
        out.emit(r["confusion"], title=out.t("title.eval_confusion"))
        out.emit(summary, title=out.t("title.eval_summary"))
    else:
        out.emit([{"section": "summary", **summary[0]}] + [{"section": "field", **x} for x in r["fields"]]
                 + [{"section": "confusion", **x} for x in r["confusion"]])


@command(app, "rank")
def rank_cmd(
    year: int = typer.Option(..., "--year", help="Fiscal year to rank."),
    by: str = typer.Option("rd", "--by", help="rd | intensity | growth | cumulative:N"),
    scope: str = typer.Option("world", "--scope", help="world | country:CN | field:ai | city:Xi'an | private"),
    top: Optional[int] = typer.Option(None, "--top", help="Keep ranks 1..K (a tie at K is kept whole)."),
    currency: str = typer.Option("EUR", "--currency", help="EUR, CNY or USD."),
    fx_convention: str = typer.Option("scoreboard", "--fx-convention",
                                      help="scoreboard: every year at the 31 Dec rate of the ranked year; "
                                           "yearly: each year at its own rate."),
    acfic: bool = typer.Option(False, "--acfic", help="ACFIC list: private companies with prior-year revenue ≥ "
                                                      "RMB 500 m, ranked by R&D in CNY."),
    *, out: Output,
) -> None:
    """R&D investment rankings as the EU Scoreboard and the ACFIC lists make them, with the source of each figure."""
    from hardtech.services import rank_rows

    rows = rank_rows(out.data(), year, by, scope, top, currency, fx_convention, acfic)
    cols = ["rank", "org_id", "name", "value", "rd", "net_sales", "intensity", "growth_1y", "field", "country",
            "rd_source"] if out.people else None
    if cols and by in ("rd", "intensity", "growth"):  # `value` repeats one of the columns beside it
        cols.remove("value")
    t = out.t
    out.emit(rows, title=t("title.acfic" if acfic else "title.rank", year=year, by=by, scope=scope), columns=cols,
             units={"value": RANK_VALUE_UNITS.get(by.split(":")[0], "money")},
             empty=Empty(("financials",), "empty.rank", {"year": year, "by": by, "scope": scope}))


@command(app, "decade")
def decade_cmd(
    org: str = typer.Argument(..., help="Organisation id, name or alias."),
    start: int = typer.Option(..., "--from", help="First year of the window."),
    end: int = typer.Option(..., "--to", help="Last year of the window."),
    currency: Optional[str] = typer.Option(None, "--currency", help="Convert (default: the company's own currency)."),
    *, out: Output,
) -> None:
    """Cumulative R&D of one organisation over a window of years, year by year with sources."""
    from hardtech.services import decade_rows

    d = decade_rows(out.data(), org, start, end, currency)
    years = d.get("years") or d.get("per_year") or []
    t = out.t
    if not out.people:
        out.emit([d])
        return
    total = t.cell(d.get("total"), "money", d)
    out.emit(years, title=t("title.decade", name=d.get("name", org), start=start, end=end, total=total),
             empty=Empty(("financials",), "empty.decade_window", {"org": org, "start": start, "end": end}))
    out.emit([{k: v for k, v in d.items() if not isinstance(v, (list, dict))}], title=t("title.total"))


@command(app, "star")
def star_cmd(
    org: Optional[str] = typer.Argument(None, help="Organisation id, name or alias (omit with --all)."),
    version: Optional[str] = typer.Option(None, "--version", help="2024-04-30 (current) | 2021-04-16 | 2020-03-20"),
    year: Optional[int] = typer.Option(None, "--year", help="Latest fiscal year of the 3-year window."),
    all_orgs: bool = typer.Option(False, "--all", help="Every company in the store: one verdict per row."),
    *, out: Output,
) -> None:
    """The STAR Market sci-tech attribute test: each indicator, exception, carve-out and the rule that decided."""
    from hardtech.services import star_batch_rows, star_rows

    t = out.t
    if all_orgs:
        out.emit(star_batch_rows(out.data(), version, year), title=t("title.star_all"),
                 empty=Empty(("organizations", "financials"), "empty.star_all", {"year": year or ""}))
        return
    if not org:
        raise UsageError("give an organisation, or --all")
    head, rows = star_rows(out.data(), org, version, year)
    if out.people:
        out.emit([head], title=t("title.star", org=head["org_id"], verdict=head["verdict"], version=head["version"],
                                 year=head["year"] if head["year"] is not None else "—"))
        out.emit(rows, title=t("title.star_details"), optional=True)
    else:
        out.emit([{**head, "details": rows}])


@command(app, "score")
def score_cmd(
    org: Optional[str] = typer.Argument(None, help="One organisation (id, name or alias); omit for the whole store."),
    year: Optional[int] = typer.Option(None, "--year", help="Fiscal year (default: each organisation's latest)."),
    explain: bool = typer.Option(False, "--explain", help="With ORG: every part of the score and its inputs."),
    weights: Optional[Path] = typer.Option(None, "--weights", help="A weights TOML replacing the shipped one."),
    where: Optional[str] = typer.Option(None, "--where",
                                        help="One SQL condition on organizations o (run read-only in a sandbox), "
                                             "e.g. \"o.country = 'CN'\"."),
    top: Optional[int] = typer.Option(None, "--top", help="Show only the K highest scores."),
    no_save: bool = typer.Option(False, "--no-save", help="Do not store the scores."),
    *, out: Output,
) -> None:
    """Hardness score 0–100 from the seeds' criteria, with confidence, percentile in field and year, and parts."""
    from hardtech.services import explain_score, score_rows

    if explain:
        if not org:
            raise UsageError("--explain needs an organisation")
        d = explain_score(out.data(), org, year, weights)
        t = out.t
        if out.people:
            head = {k: v for k, v in d.items() if not isinstance(v, (list, dict))}
            out.emit([head], title=t("title.explain", name=d.get("name", org), score=t.cell(d.get("score"), "score")))
            parts = [{k: v for k, v in p.items() if k not in ("criterion", "criterion_id", "transform")}
                     for p in d.get("parts", [])]
            out.emit(parts, title=t("title.explain_parts"), optional=True)
            out.emit(d.get("criteria", []), title=t("title.explain_criteria"), optional=True)
            out.emit(d.get("kind_evidence", []), title=t("title.explain_kind"), optional=True)
        else:
            out.emit([d])
        return
    src = out.data_or_path(writes=not no_save or where is not None)  # --where: DuckDB's sandbox opens the file
    rows = score_rows(src, org, year, weights, save=not no_save, where=where, top=top)
    key = "empty.score_org" if org else ("empty.score_where" if where else "empty.score")
    out.emit(rows, title=out.t("title.scores" if no_save else "title.scores_saved"),
             empty=Empty(("organizations", "financials"), key, {"who": org or "", "where": where or ""}))


@command(app, "flows")
def flows_cmd(
    by: str = typer.Option("field", "--by", help="field | typology | sector | region | stage | investor"),
    period: str = typer.Option("year", "--period", help="year | quarter"),
    metric: str = typer.Option("amount", "--metric", help="amount | count | median"),
    currency: str = typer.Option("USD", "--currency", help="Currency of amounts (FX at each round's date)."),
    shift: bool = typer.Option(False, "--shift", help="Instead: technology vs model innovation and industry vs "
                                                     "services shares per period."),
    growth: bool = typer.Option(False, "--cagr", help="Instead: each group's first and last period with a value "
                                                     "and its compound annual growth rate."),
    investors: bool = typer.Option(False, "--investors", help="Instead: the most active investors per field "
                                                             "(rounds, then disclosed amount)."),
    field: Optional[str] = typer.Option(None, "--field", help="With --investors: one field only."),
    top: int = typer.Option(10, "--top", help="With --investors: how many per field."),
    *, out: Output,
) -> None:
    """Capital flows over funding rounds: undisclosed amounts counted, never guessed; shares and CAGR."""
    from hardtech.services.ecosystem import flow_report, investor_rows, shift_rows

    t = out.t
    rounds = ("funding_rounds",)
    if shift:
        out.emit(shift_rows(out.data(), period, currency), title=t("title.shift"),
                 empty=Empty(rounds, "empty.flows", {"by": "--shift"}))
        return
    if investors:
        out.emit(investor_rows(out.data(), field, top, currency),
                 title=t("title.investors_in", field=field) if field else t("title.investors"),
                 empty=Empty(rounds + ("investors",), "empty.flows_investors", {"field": field or ""}))
        return
    r = flow_report(out.data(), by, period, metric, currency)
    units = {"value": "count" if metric == "count" else "money", "first_value": "count" if metric == "count" else "money",
             "last_value": "count" if metric == "count" else "money"}
    if growth:
        out.emit(r["cagr"], title=t("title.cagr", by=by, metric=metric, period=period), units=units,
                 empty=Empty(rounds, "empty.cagr", {"by": by}))
    else:
        out.emit(r["rows"], title=t("title.flows", by=by, period=period, metric=metric), units=units,
                 empty=Empty(rounds, "empty.flows", {"by": by}))
    for w in r["warnings"]:
        head, _, ids = w.partition(": ")
        listed = ids.split(", ")
        if len(listed) > 20:  # the full list is in the Python API's `warnings`; a terminal shows the first ones
            w = f"{head}: {', '.join(listed[:20])} … " + t("msg.and_more", n=len(listed) - 20).strip()
        out.message(f"[yellow]{t('word.warning')}:[/yellow] {escape(w)}")


@command(app, "regions")
def regions_cmd(
    action: str = typer.Argument("list", help="list | compare | clusters"),
    names: Optional[List[str]] = typer.Argument(None, help="With compare: two or more regions (西安 杭州 深圳 …)."),
    level: str = typer.Option("city", "--level", help="city | province"),
    country: str = typer.Option("CN", "--country", help="ISO country code."),
    min_members: int = typer.Option(3, "--min-members", help="With clusters: smallest cluster."),
    *, out: Output,
) -> None:
    """Regional ecosystems: organisations per field, location quotients, concentration, scorecards, clusters."""
    from hardtech.presentation.cli.views import compare_rows, region_table_rows
    from hardtech.services.ecosystem import cluster_rows, compare_regions, region_rows

    t = out.t
    if action == "list":
        rows = region_rows(out.data(), level, country)
        empty = Empty(("organizations",), "empty.regions", {"level": level, "country": country})
        if out.people:
            out.emit(region_table_rows(rows, out.lang), title=t("title.regions", level=level, country=country), empty=empty,
                     caption=t("msg.regions_caption"))
        else:
            out.emit(rows, empty=empty)
    elif action == "compare":
        if not names or len(names) < 2:
            raise UsageError("`regions compare` needs two or more regions, e.g. 西安 杭州")
        d = compare_regions(out.data(), names)
        if not any((card.get("organizations") or 0) for card in d.get("regions", {}).values()):
            raise out.nothing(Empty(("organizations",), "empty.compare", {"names": " ".join(names)}))
        out.emit(compare_rows(d, t) if out.people else [d], title=" vs ".join(names))
    elif action == "clusters":
        out.emit(cluster_rows(out.data(), min_members), title=t("title.clusters"),
                 empty=Empty(("organizations", "classifications"), "empty.clusters", {"min": min_members}))
    else:
        raise UsageError(f"unknown action {action!r}: list, compare or clusters")


@command(app, "screen")
def screen_cmd(
    applicants: Path = typer.Argument(..., help="Applicants file (CSV/TSV/Excel/JSONL): name, description, "
                                                "optional codes, financials, patents, city, flags."),
    rubric: Optional[Path] = typer.Option(None, "--rubric", help="A rubric TOML replacing the shipped one."),
    name_column: str = typer.Option("name", "--name-column"),
    text_column: str = typer.Option("description", "--text-column"),
    csv_out: Optional[Path] = typer.Option(None, "--csv", help="Also write the ranked shortlist as CSV."),
    excel_out: Optional[Path] = typer.Option(None, "--excel", help="Also write it as Excel."),
    html_out: Optional[Path] = typer.Option(None, "--html", help="Also write it as a self-contained HTML page."),
    allow_rejects: bool = typer.Option(False, "--allow-rejects",
                                       help="Exit 0 even when values could not be read or applicants appear twice."),
    *, out: Output,
) -> None:
    """Screen a batch of applicants: classified, scored and STAR-checked into a ranked shortlist with reasons.

    Money, years, stages and names are read by the same parsers and checks as `hardtech import` (1.2亿元,
    3000万元, $3.5M, 2016年, A轮); every value they refuse and every applicant listed twice is named."""
    from hardtech.errors import RejectedRows
    from hardtech.services.screening import screen_file

    t = out.t
    with busy(out.console, t("progress.screen", file=applicants.name)):
        result = screen_file(applicants, rubric=rubric, name_column=name_column, text_column=text_column)
    problems = []
    if result.dropped:
        problems.append(t("msg.screen_dropped", n=len(result.dropped), file=applicants.name))
        problems += [t("msg.reject_line", line=d["line"], column=d["column"], reason=f"{d['value']!r}: {d['reason']}")
                     for d in result.dropped]
    if result.duplicates:
        problems.append(t("msg.screen_duplicates", n=len(result.duplicates), file=applicants.name))
        problems += [t("msg.duplicate_line", line=d["line"], name=d["name"], first=d["first_line"])
                     for d in result.duplicates]
    for path, write in ((csv_out, result.to_csv), (excel_out, result.to_excel), (html_out, result.to_html)):
        if path:
            write(path)
            out.message(t("msg.wrote_file", path=path))
    rows = [{k: v for k, v in r.items() if k != "criteria"} for r in result.rows]
    cols = ["rank", "name", "score", "confidence", "shortlisted", "top_field", "typology", "trl", "rd_intensity",
            "star_verdict", "warnings", "reasons"] if out.people else None
    for line in problems:
        out.message(escape(line))
    out.emit(rows, title=t("title.screen", file=applicants.name), columns=cols,
             empty=Empty(key="empty.file_rows", args={"file": applicants.name}))
    if problems and not allow_rejects:
        raise RejectedRows(t("msg.screen_rejected", n=len(result.dropped) + len(result.duplicates)))


@command(app, "match")
def match_cmd(
    kind: str = typer.Argument(..., help="startup | investor | evaluate"),
    name: Optional[str] = typer.Argument(None, help="The startup (organisation) or investor: id, name or alias."),
    top: int = typer.Option(10, "--top", help="How many matches."),
    k: int = typer.Option(10, "--k", help="With evaluate: hit@k."),
    *, out: Output,
) -> None:
    """Match startups with investors by fields, stage, region, ticket and co-investors, with the reasons."""
    from hardtech.services.ecosystem import match_evaluation, match_rows

    t = out.t
    if kind == "evaluate":
        ev = match_evaluation(out.data(), k)
        if not ev.get("n"):
            raise out.nothing(Empty(("funding_rounds", "investors"), "empty.match_evaluate"))
        out.emit([ev], title=t("title.match_evaluate", k=k))
        return
    if not name:
        raise UsageError(f"`match {kind}` needs a name")
    rows = match_rows(out.data_or_path(writes=kind == "startup"), kind, name, top)  # saves stale profiles once
    if out.people:
        rows = [{c: v for c, v in r.items() if c != "components"} for r in rows]
    out.emit(rows, title=t("title.match", name=name), units={"score": "score01"},
             empty=Empty(("investors",) if kind == "startup" else ("organizations",), "empty.match", {"name": name}))
    tie = tie_note(rows)
    if tie:
        out.message(t("msg.match_tie", n=tie[0], score=tie[1]) + " " + (
            t("msg.match_tie_no_rounds") if not _has_rows(out, "funding_rounds") else t("msg.match_tie_same")))


@command(app, "export")
def export_cmd(
    parquet: Path = typer.Option(..., "--parquet", help="Folder to write: one Parquet file per table and a "
                                                        "manifest.json (what `--engine spark` reads)."),
    *, out: Output,
) -> None:
    """Export the store's tables as Parquet, for Spark or any other engine."""
    from hardtech.services.data import export_store

    rows = export_store(out.db, parquet)
    out.emit(rows, title=out.t("title.export", db=out.db, folder=parquet))


@command(app, "synth")
def synth_cmd(
    orgs: int = typer.Option(10_000, "--orgs", help="Number of organisations."),
    seed: int = typer.Option(0, "--seed", help="Random seed (same seed, same universe)."),
    out_dir: Path = typer.Option(..., "--out", help="Directory to write the tables to."),
    file_format: str = typer.Option("parquet", "--file-format", help="parquet or csv."),
    load: bool = typer.Option(False, "--load", help="Also import the universe into the store (--db)."),
    *, out: Output,
) -> None:
    """Generate a synthetic universe (flagged synthetic) for scale tests."""
    from hardtech.services import synth_universe

    with busy(out.console, out.t("progress.synth", n=f"{orgs:,}")):
        rows = synth_universe(orgs, seed, out_dir, file_format, out.db if load else None)
    out.emit(rows, title=out.t("title.synth", dir=out_dir))


@command(app, "demo")
def demo_cmd(
    directory: Path = typer.Option(Path("demo"), "--dir", help="Folder for the demo store and outputs."),
    shared: Optional[Path] = typer.Option(None, "--shared",
                                          help="Folder with the third-party data (default: ../shared/data "
                                               "when present)."),
    resolve: bool = typer.Option(False, "--resolve", help="Also run entity resolution (`hardtech resolve`) on the "
                                                          "demo store before the summary: one organisation across "
                                                          "the bundled lists."),
    *, out: Output,
) -> None:
    """Build the demo store from bundled data and print a landscape summary."""
    from hardtech.presentation.cli.demo_tour import build_demo

    build_demo(directory, out, shared, resolve=resolve)


from hardtech.presentation.cli import serve_cmd as _serve_cmd  # noqa: E402,F401
from hardtech.presentation.cli import report_cmd as _report_cmd  # noqa: E402,F401
from hardtech.presentation.cli import resolve_cmd as _resolve_cmd  # noqa: E402,F401


def tie_note(rows: list[dict]) -> tuple[int, float] | None:
    """(how many, score) when the best matches tie: the reader must know the order among them says nothing."""
    if len(rows) < 2 or rows[0].get("score") is None:
        return None
    n = sum(1 for r in rows if r.get("score") == rows[0]["score"])
    return (n, rows[0]["score"]) if n > 1 else None


def _has_rows(out: Output, table: str) -> bool:
    with out.store(read_only=True) as store:
        return bool(store.count(table))


def main() -> None:
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
