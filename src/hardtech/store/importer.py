"""Import a file into the store: read → map → type and validate → merge, in one transaction.

The three promises this module keeps:
- *loses nothing*: bad rows go to `rejects` with line, column, value and reason; good rows land;
- *idempotent*: a row whose key and content are already present is counted as unchanged;
- *atomic*: everything happens inside one DuckDB transaction, so a crash, a kill or Ctrl-C
  leaves the store exactly as it was.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from hardtech.errors import MappingError, UsageError
from hardtech.sources.mapping import Mapping, TargetSpec, identity_target, load_mapping
from hardtech.sources.readers import LINE, ReadResult, read_table
from hardtech.sources.transform import ident, lit, mapped_select
from hardtech.sources.validate import patent_code_sql, validate
from hardtech.store.connection import Store
from hardtech.store.resolve.merges import divert_merged_orgs, redirect_rows
from hardtech.schema import IMPORTABLE, table as schema_table

# Dependency order: a file feeding several tables fills the referenced ones first.
ORDER = ("regions", "organizations", "investors", "financials", "patents", "funding_rounds", "publications")
SLUG = "lower(trim(regexp_replace({x}, '[^A-Za-z0-9]+', '-', 'g'), '-'))"
# A file this long is written with ZSTD compression instead of letting DuckDB try every method on every
# segment: 3× less CPU to write (1.8 s instead of 5 s for 10 million CPC codes in lists) for 15 % more disk.
# and with DuckDB's own memory capped (it spills to disk beyond), so that the process stays under 2 GB
BULK_ROWS = 1_000_000
BULK_MEMORY = "1GB"
BULK_BYTES = 64 << 20  # a file this big is read column by column as the mapping needs them


@dataclass
class TargetResult:
    table: str
    rows_read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    merged: int = 0  # rows folded into an earlier row with the same key (mapping `distinct: true`)
    rejected: int = 0
    redirected: int = 0  # rows of merged organisations attached to the organisation they were merged into


@dataclass
class ImportResult:
    import_id: str
    path: Path
    source: str
    mapping: str
    encoding: str | None
    targets: list[TargetResult] = field(default_factory=list)
    rejects: list[dict] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    seconds: float = 0.0
    licence: str = ""

    @property
    def rejected(self) -> int:
        return sum(t.rejected for t in self.targets)

    def summary_rows(self) -> list[dict]:
        return [{"table": t.table, "read": t.rows_read, "inserted": t.inserted, "updated": t.updated,
                 "unchanged": t.unchanged, "merged": t.merged, "rejected": t.rejected} for t in self.targets]


def import_file(store: Store, table: str, path: str | Path, mapping: str | Path | Mapping | None = None,
                source: str | None = None, synthetic: bool | None = None, sheet: str | None = None,
                today: dt.date | None = None, progress=None, encoding: str | None = None,
                decimal: str | None = None, licence: str | None = None,
                read: ReadResult | None = None, import_id: str | None = None) -> ImportResult:
    """Import one file. `table` is a table name or `auto` (every target of the mapping).

    `encoding` names the file's text encoding (default: decided from the file, see `sources.encoding`);
    `decimal` is `point` (1,234.5, the default) or `comma` (1.234,5); both also come from the mapping.
    `licence` (else the mapping's `licence:`) is written on every row beside the source name.

    `progress(step, done, total)` is called as each step starts, for progress bars.
    `read` and `import_id` are for source connectors (sources/connectors): a table they already
    read and normalised, imported under an id they chose, through the same validation and merge.
    """
    started = time.perf_counter()
    say = progress or (lambda step, done, total: None)
    say("reading " + Path(path).name, 0, 1)
    mp = mapping if isinstance(mapping, Mapping) or mapping is None else load_mapping(mapping)
    opts = mp.options if mp else {}
    decimal = _decimal(decimal or opts.get("decimal"))
    rr = read if read is not None else read_table(
        path, fmt=opts.get("format"), sheet=sheet or opts.get("sheet"), delimiter=opts.get("delimiter"),
        encoding=encoding or opts.get("encoding"), con=store.con, columns=_read_only(mp, table, path))
    # every column of the file (also those not read); a connector's table has no header of its own
    headers = list(rr.header) or [c for c in rr.table.column_names if c != LINE]
    targets = _select_targets(table, mp, headers, rr)
    source_name = source or (mp.source if mp and mp.source else rr.path.name)
    source_licence = licence if licence is not None else (mp.licence if mp else "")
    is_synth = synthetic if synthetic is not None else (bool(mp.synthetic) if mp else False)
    if synthetic is None and "synthetic" in headers:
        vals = set(rr.table.column("synthetic").to_pylist())
        is_synth = vals <= {"true", "True", "1", "TRUE"} and bool(vals)
    import_id = import_id or new_import_id()
    result = ImportResult(import_id, rr.path, source_name, mp.label if mp else "(column names)", rr.encoding,
                          licence=source_licence or "")
    used = set()
    for t in targets:
        for spec in t.columns.values():
            used.update(spec.source_columns())
        if t.order_by:
            used.add(t.order_by)
    result.ignored_columns = [h for h in headers if h not in used]

    con = store.con
    src = f"src_{uuid.uuid4().hex[:8]}"
    con.execute("SELECT 1").fetchall()  # finish any result a caller left open (DuckDB refuses register then)
    con.register(src, rr.table)
    _load_reference(con)
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    bulk = rr.rows_read >= BULK_ROWS
    if bulk:  # see BULK_ROWS
        memory = con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
        con.execute("SET force_compression = 'zstd'")
        con.execute(f"SET memory_limit = {lit(BULK_MEMORY)}")
    try:
        with store.transaction():
            for n, target in enumerate(targets):
                say(f"validating and writing {target.table}", n, len(targets))
                tr = _import_target(store, src, headers, rr, target, source_name, is_synth, import_id, now,
                                    today, result, decimal, source_licence)
                result.targets.append(tr)
            _log_import(store, result, rr, now)
            say("committing", len(targets), len(targets))
            fault_sleep = float(os.environ.get("HARDTECH_FAULT_SLEEP", "0") or 0)
            if fault_sleep:  # used by the atomicity test: kill the process here
                import sys

                print("HARDTECH_FAULT: all rows written, not committed", file=sys.stderr, flush=True)
                time.sleep(fault_sleep)
    finally:
        con.unregister(src)
        if bulk:
            con.execute("RESET force_compression")
            con.execute(f"SET memory_limit = {lit(memory)}")
    result.seconds = time.perf_counter() - started
    return result


def new_import_id() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]


def _read_only(mp: Mapping | None, table: str, path: str | Path) -> set[str] | None:
    """The columns worth reading of a long file (BULK_BYTES and more) that a mapping reads only a few of:
    the others are never loaded. A reject's `row_json` then holds the columns read."""
    try:
        big = Path(path).stat().st_size >= BULK_BYTES
    except OSError:
        return None
    if mp is None or not big:
        return None
    targets = mp.targets.values() if table == "auto" else [mp.targets[table]] if table in mp.targets else []
    used = {"synthetic"}
    for t in targets:
        used.update(c for spec in t.columns.values() for c in spec.source_columns())
        if t.order_by:
            used.add(t.order_by)
    return used


def _decimal(value: str | None) -> str:
    from hardtech.errors import ParseError
    from hardtech.sources.numbers import check_decimal

    try:
        return check_decimal(value)
    except ParseError as exc:
        raise UsageError(str(exc)) from None


def _select_targets(table: str, mp: Mapping | None, headers: list[str], rr: ReadResult) -> list[TargetSpec]:
    if mp is None:
        if table == "auto":
            raise UsageError("`auto` needs a --mapping that says which tables the file feeds")
        if table not in IMPORTABLE:
            raise UsageError(f"cannot import into {table!r}; tables: {', '.join(IMPORTABLE)}")
        target = identity_target(table, headers)
        if not target.columns:
            raise MappingError(
                f"{rr.path.name}: none of its columns ({', '.join(headers[:12])}) match {table} columns "
                f"({', '.join(schema_table(table).data_names)}); give a --mapping")
        return [target]
    if table == "auto":
        return [mp.targets[t] for t in ORDER if t in mp.targets]
    if table not in mp.targets:
        raise UsageError(f"mapping {mp.label} has no target {table!r}; it feeds: {', '.join(mp.targets)} (or use `auto`)")
    return [mp.targets[table]]


def _name_lookup(table: str, key: str, name_sql: str) -> str:
    """SQL that finds an existing row by English name, Chinese name or alias (case-insensitive)."""
    return (f"(SELECT o.{key} FROM {table} o WHERE lower(o.name_en) = lower({name_sql}) OR o.name_zh = {name_sql} "
            f"OR list_contains(list_transform(o.aliases, lambda a: lower(a)), lower({name_sql})) ORDER BY o.{key} LIMIT 1)")


def _country_sql(col: str) -> str:
    """An ISO code for any spelling we know; the value as written otherwise (validation then rejects it)."""
    return f"coalesce((SELECT c.iso2 FROM ref_countries c WHERE c.alias = lower(trim({col})) LIMIT 1), {col})"


def _load_reference(con) -> None:
    """Country names and aliases → ISO codes, as a temp table the prepare step joins against."""
    from hardtech.sources.countries import country_aliases

    rows = country_aliases()
    con.register("ref_countries_src", pa.table({"alias": [a for a, _ in rows], "iso2": [c for _, c in rows]}))
    con.execute("CREATE OR REPLACE TEMP TABLE ref_countries AS SELECT DISTINCT alias, first(iso2) AS iso2 "
                "FROM ref_countries_src GROUP BY alias")
    con.unregister("ref_countries_src")


def _prepare(con, mapped: str, target: TargetSpec, prefix: str) -> tuple[str, frozenset]:
    """Fill identifiers the file does not carry and normalise vocabularies before validation:
    org ids from names (an organisation already in the store keeps its id), stages from
    `A轮`/`Series B`, kinds in lower case, country names as ISO codes. Returns the view and the
    columns it filled in beside the mapped ones."""
    from hardtech.sources.stages import stage_case_sql

    t = target.table
    repl = []
    if t in ("organizations", "investors", "regions") and "country" in target.columns:
        repl.append(f"{_country_sql('m.country')} AS country")
    if t == "organizations":
        if "org_id" not in target.columns:
            repl.append(f"coalesce({_name_lookup('organizations', 'org_id', 'coalesce(m.name_en, m.name_zh)')}, "
                        + SLUG.format(x="m.name_en") + ", 'zh:' || m.name_zh) AS org_id")
        repl.append("lower(trim(kind)) AS kind")
        repl.append("lower(trim(ownership)) AS ownership")
    if t == "investors":
        if "investor_id" not in target.columns:
            repl.append(f"coalesce({_name_lookup('investors', 'investor_id', 'coalesce(m.name_en, m.name_zh)')}, "
                        + SLUG.format(x="m.name_en") + ", 'zh:' || m.name_zh) AS investor_id")
        repl.append("lower(trim(kind)) AS kind")
    if t == "patents":
        repl.append("upper(regexp_replace(publication_number, '[\\s-]+', '', 'g')) AS publication_number")
        repl.append("lower(trim(patent_type)) AS patent_type")
    if t == "funding_rounds":
        repl.append(f"{stage_case_sql('stage')} AS stage")
        repl.append("coalesce(stage_raw, stage) AS stage_raw")
        if "round_id" not in target.columns:
            repl.append("'r:' || substr(sha256(concat_ws('|', coalesce(m.org_id, m.org_name, ''), coalesce(m.date, ''), "
                        "coalesce(m.stage, ''), coalesce(m.amount, ''), coalesce(m.amount_text, ''))), 1, 16) AS round_id")
        if "org_id" not in target.columns and "org_name" in target.columns:
            repl.append(f"coalesce({_name_lookup('organizations', 'org_id', 'm.org_name')}, "
                        + SLUG.format(x="m.org_name") + ") AS org_id")
    if not repl:
        return mapped, frozenset()
    view = f"{prefix}_prepared"
    con.execute(f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT * REPLACE ({', '.join(repl)}) FROM {mapped} m")
    return view, frozenset(r.rsplit(" AS ", 1)[1] for r in repl)


def _import_target(store: Store, src: str, headers: list[str], rr: ReadResult, target: TargetSpec,
                   source_name: str, is_synth: bool, import_id: str, now: dt.datetime,
                   today: dt.date | None, result: ImportResult, decimal: str = "point",
                   source_licence: str | None = None) -> TargetResult:
    con = store.con
    tbl = schema_table(target.table)
    prefix = f"imp_{target.table}"
    list_cols = {n for n in rr.table.column_names if pa.types.is_list(rr.table.schema.field(n).type)}
    row_errors, prechecked, joined = None, frozenset(), {}
    if target.collect:  # a long file: one row per key, each file row checked on its own first
        from hardtech.store.collect import COLLECTED, collect_rows

        # the collected lists were checked element by element: they skip typing and join the rows at the end
        prechecked, joined = frozenset({target.collect}), {target.collect: COLLECTED}
        grouped, target, row_errors = collect_rows(con, src, rr.table, headers, list_cols, target, prefix, rr.checks)
        src = f"{prefix}_grouped"
        con.register(src, grouped)
        headers = [c for c in grouped.column_names if c not in (LINE, COLLECTED)]
        list_cols = set()
    con.execute(f"CREATE OR REPLACE TEMP VIEW {prefix}_mapped AS "
                + mapped_select(target, src, headers, list_cols))
    mapped, derived = _prepare(con, f"{prefix}_mapped", target, prefix)
    v = validate(con, mapped, target, prefix, today=today, decimal=decimal, checks=rr.checks, derived=derived,
                 prechecked=prechecked)
    typed = v.view
    _enrich(con, typed, target, prechecked, v.columns)
    tr = TargetResult(target.table, rows_read=rr.rows_read)
    tr.redirected = redirect_rows(con, typed, target.table, LINE, source_name)
    if tr.redirected:  # the redirect may have added the organisation column to a narrow file's rows
        v.columns = v.columns | {r[0] for r in con.execute(f"DESCRIBE {typed}").fetchall()}

    errors = v.errors
    fk = _foreign_key_errors(con, typed, target)
    for extra in (fk, _reader_errors(rr), row_errors):
        if extra is not None and extra.num_rows:
            errors = pa.concat_tables([errors, extra])
    bad_lines = sorted(set(errors.column(LINE).to_pylist()))
    con.register(f"{prefix}_bad", pa.table({LINE: pa.array(bad_lines, pa.int64())}))
    tr.rejected = len(bad_lines)
    _write_rejects(store, errors, mapped, target.table, rr, import_id, now, result)

    data_cols = tbl.data_names
    key_cols = list(tbl.key)
    hash_expr = _hash_sql(data_cols)
    # the columns the typed rows do not hold are empty for every row, except collected lists, joined back
    L = ident(LINE)
    full = ", ".join([f"t.{L}"] + [f"g.{ident(joined[c.name])} AS {ident(c.name)}" if c.name in joined else
                                   f"t.{ident(c.name)}" if c.name in v.columns else
                                   f"CAST(NULL AS {c.type}) AS {ident(c.name)}" for c in tbl.columns])
    rows_from = f"{typed} t" + (f" JOIN {src} g ON g.{L} = t.{L}" if joined else "")
    good = f"SELECT {full} FROM {rows_from} WHERE t.{L} NOT IN (SELECT {L} FROM {prefix}_bad)"
    if target.distinct:
        nk = [k for k in key_cols if k != "source_name"]
        good = (f"SELECT * FROM ({good}) QUALIFY row_number() OVER (PARTITION BY "
                f"{', '.join(ident(k) for k in nk)} ORDER BY {ident(LINE)}) = 1")
    stage = f"{prefix}_stage"
    all_cols = ", ".join(ident(c) for c in tbl.names)
    licence_sql = lit(source_licence) if source_licence else "CAST(NULL AS VARCHAR)"
    prov = (f"{lit(source_name)} AS source_name, {licence_sql} AS source_licence, "
            f"{lit(rr.path.name)} AS source_file, "
            f"{ident(LINE)} AS source_line, {lit(import_id)} AS import_id, "
            f"TIMESTAMP {lit(now.isoformat(sep=' '))} AS imported_at, {hash_expr} AS content_hash, "
            f"{'TRUE' if is_synth else 'FALSE'} AS synthetic")
    existing = con.execute(f"SELECT count(*) FROM {ident(tbl.name)}").fetchall()[0][0]
    if existing == 0:
        # first load of the table: nothing to compare against, so no staging copy
        n = con.execute(f"INSERT INTO {ident(tbl.name)} ({all_cols}) SELECT {', '.join(ident(c) for c in data_cols)}, "
                        f"{prov} FROM ({good})").fetchall()[0][0]
        tr.inserted = int(n)
        tr.merged = max(0, rr.rows_read - tr.rejected - tr.inserted)
        con.execute(f"DROP TABLE IF EXISTS {typed}")
        con.unregister(f"{prefix}_bad")
        _unregister_grouped(con, prefix, prechecked)
        return tr
    con.execute(f"CREATE OR REPLACE TEMP TABLE {stage} AS SELECT {', '.join(ident(c) for c in data_cols)}, {prov} "
                f"FROM ({good})")
    staged = int(con.execute(f"SELECT count(*) FROM {stage}").fetchall()[0][0])
    tr.merged = max(0, rr.rows_read - tr.rejected - staged)
    on = " AND ".join(f"t.{ident(k)} = s.{ident(k)}" for k in key_cols)
    skipped = 0  # insert_only: rows whose key exists are left alone and counted as unchanged
    if target.table == "organizations":
        # organisations merged by entity resolution update their kept original, never come back as duplicates
        kept_same, kept_changed = divert_merged_orgs(con, stage)
        staged -= kept_same + kept_changed
    else:
        kept_same = kept_changed = 0
    if target.insert_only:
        con.execute(f"DELETE FROM {stage} s WHERE EXISTS (SELECT 1 FROM {ident(tbl.name)} t WHERE {on})")
        kept = int(con.execute(f"SELECT count(*) FROM {stage}").fetchall()[0][0])
        skipped, staged = staged - kept, kept
    else:
        sel = _never_blank_sql(tbl)
        con.execute(f"CREATE OR REPLACE TEMP TABLE {stage}_p AS SELECT {sel}, s.source_name, s.source_licence, "
                    f"s.source_file, "
                    f"s.source_line, s.import_id, s.imported_at, s.synthetic FROM {stage} s "
                    f"LEFT JOIN {ident(tbl.name)} t ON {on}")
        con.execute(f"CREATE OR REPLACE TEMP TABLE {stage} AS SELECT p.* EXCLUDE (synthetic), "
                    f"{_hash_sql(data_cols, 'p.')} AS content_hash, p.synthetic "
                    f"FROM {stage}_p p")
        con.execute(f"DROP TABLE {stage}_p")
    same, changed = con.execute(
        f"SELECT count(*) FILTER (WHERE t.content_hash = s.content_hash), "
        f"count(*) FILTER (WHERE t.content_hash <> s.content_hash) "
        f"FROM {stage} s JOIN {ident(tbl.name)} t ON {on}").fetchall()[0]
    tr.unchanged, tr.updated = int(same or 0), int(changed or 0)
    tr.inserted = staged - tr.unchanged - tr.updated
    if tr.updated:
        con.execute(f"DELETE FROM {ident(tbl.name)} t USING {stage} s WHERE {on} AND t.content_hash <> s.content_hash")
    if tr.inserted or tr.updated:  # (not `staged > unchanged`: unchanged also counts insert_only's skipped rows)
        con.execute(f"INSERT INTO {ident(tbl.name)} ({all_cols}) SELECT {all_cols} FROM {stage} s "
                    f"WHERE NOT EXISTS (SELECT 1 FROM {ident(tbl.name)} t WHERE {on})")
    for obj in (stage, typed):
        con.execute(f"DROP TABLE IF EXISTS {obj}")
    con.unregister(f"{prefix}_bad")
    _unregister_grouped(con, prefix, prechecked)
    tr.unchanged += skipped + kept_same
    tr.updated += kept_changed
    return tr


def _unregister_grouped(con, prefix: str, prechecked: frozenset) -> None:
    if prechecked:
        con.unregister(f"{prefix}_grouped")


# Columns replaced together: a row that gives the first replaces them all (a new amount text comes with
# its own figure or range, currency and conversion), a row that does not give it keeps them all.
TOGETHER = {
    "funding_rounds": (("amount_text", ("amount", "amount_low", "amount_high", "disclosed", "amount_approx", "currency",
                                        "amount_usd", "fx_rate", "fx_rate_date")),
                       ("date", ("date_precision",)), ("investors", ("investor_ids",)), ("stage_raw", ("stage",))),
}


def _never_blank_sql(tbl) -> str:
    """The merged row of stage `s` over stored row `t`: an existing row keeps every value this file does not
    give (a column it does not carry, an empty cell, an empty list), so a re-import through a mapping never
    blanks a column. Money columns follow their row's currency: when the file gives another currency, all of
    the row's money columns come from the file (kept figures would be read in the wrong currency)."""
    key = ident(tbl.key[0])
    lists = {c.name for c in tbl.columns if c.is_list}
    money = [c.name for c in tbl.columns if c.unit == "money"]
    driver = {m: d for d, members in TOGETHER.get(tbl.name, ()) for m in (d, *members)}

    def given(c: str) -> str:
        return f"s.{ident(c)} IS NOT NULL" + (f" AND len(s.{ident(c)}) > 0" if c in lists else "")

    out = []
    for c in tbl.data_names:
        test = given(driver.get(c, c))
        if c in money and "currency" in tbl.data_names and "currency" not in driver:
            test = f"({test}) OR (s.currency IS NOT NULL AND s.currency IS DISTINCT FROM t.currency)"
        out.append(f"CASE WHEN t.{key} IS NULL OR {test} THEN s.{ident(c)} ELSE t.{ident(c)} END AS {ident(c)}")
    return ", ".join(out)


def _hash_sql(cols: list[str], alias: str = "") -> str:
    """64-bit content hash of the data columns: enough to tell "same row" from "changed row" for one key."""
    return "printf('%016x', hash(" + ", ".join(alias + ident(c) for c in cols) + "))"


def _enrich(con, typed: str, target: TargetSpec, normalised: frozenset = frozenset(),
            present: frozenset = frozenset()) -> None:
    """Per-table normalisation that needs the typed values (`normalised`: columns already done row by row;
    `present`: the columns the typed rows hold)."""
    t = target.table
    if t == "patents":
        for col in ("cpc_codes", "ipc_codes"):
            if col not in target.columns or col in normalised:
                continue
            con.execute(f"UPDATE {typed} SET {col} = list_transform({col}, lambda c: "
                        + patent_code_sql("c") + ")")
        con.execute(f"UPDATE {typed} SET office = coalesce(NULLIF(upper(trim(office)), ''), "
                    f"NULLIF(regexp_extract(publication_number, '^([A-Za-z]{{2}})', 1), '')) ")
        if "patent_type" in target.columns:  # a file that gives types: an empty cell is "unknown"
            con.execute(f"UPDATE {typed} SET patent_type = coalesce(patent_type, 'unknown')")
    if t == "funding_rounds":
        _resolve_investors(con, typed)
        _fx_usd(con, typed)
    if t in ("organizations", "investors") and "country" in present:
        con.execute(f"UPDATE {typed} SET country = upper(trim(country)) WHERE country IS NOT NULL")


def _resolve_investors(con, typed: str) -> None:
    """Investor names as written (`红杉中国`, `Sequoia Capital China`) → investor ids via names and aliases.

    Unresolved names stay in `investors` and are simply absent from `investor_ids`.
    """
    L = ident(LINE)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE inv_res AS
        WITH ex AS (
            SELECT {L}, unnest(investors) AS name, generate_subscripts(investors, 1) AS pos
            FROM {typed} WHERE investors IS NOT NULL AND len(investors) > 0 AND
                  (investor_ids IS NULL OR len(investor_ids) = 0)),
        al AS (
            SELECT investor_id, lower(name_en) AS k FROM investors WHERE name_en IS NOT NULL
            UNION SELECT investor_id, lower(name_zh) FROM investors WHERE name_zh IS NOT NULL
            UNION SELECT investor_id, lower(unnest(aliases)) FROM investors),
        m AS (SELECT ex.{L}, ex.pos, min(al.investor_id) AS id FROM ex JOIN al ON al.k = lower(trim(ex.name))
              GROUP BY ex.{L}, ex.pos)
        SELECT {L}, list(id ORDER BY pos) AS ids FROM m GROUP BY {L}""").fetchall()
    con.execute(f"UPDATE {typed} t SET investor_ids = r.ids FROM inv_res r WHERE t.{L} = r.{L}").fetchall()
    con.execute("DROP TABLE inv_res").fetchall()


def _fx_usd(con, typed: str) -> None:
    """Convert single-figure amounts to USD at the round's date and record the rate used."""
    from hardtech.errors import FXError
    from hardtech.sources.fx import load_fx

    rows = con.execute(f"SELECT {ident(LINE)}, amount, currency, date FROM {typed} "
                       f"WHERE amount IS NOT NULL AND currency IS NOT NULL").fetchall()
    if not rows:
        return
    fx = load_fx()
    lines, usd, rates, dates = [], [], [], []
    for line, amount, ccy, d in rows:
        try:
            value, rate = fx.convert(amount, ccy, "USD", d or dt.date.today())
        except FXError:
            continue  # left unconverted; amount and currency are kept
        lines.append(line); usd.append(value); rates.append(rate.value if ccy != "USD" else 1.0)
        dates.append(rate.date)
    fixt = pa.table({LINE: pa.array(lines, pa.int64()), "u": pa.array(usd, pa.float64()),
                     "r": pa.array(rates, pa.float64()), "d": pa.array(dates, pa.date32())})
    con.register("fx_fix", fixt)
    con.execute(f"UPDATE {typed} t SET amount_usd = f.u, fx_rate = f.r, fx_rate_date = f.d FROM fx_fix f "
                f"WHERE t.{ident(LINE)} = f.{ident(LINE)}")
    con.unregister("fx_fix")


def _foreign_key_errors(con, typed: str, target: TargetSpec) -> pa.Table:
    if target.table not in ("financials", "funding_rounds"):
        return pa.table({LINE: pa.array([], pa.int64()), "column_name": pa.array([], pa.string()),
                         "value": pa.array([], pa.string()), "reason": pa.array([], pa.string())})
    rows = con.execute(
        f"SELECT {ident(LINE)}, org_id FROM {typed} t WHERE org_id IS NOT NULL AND NOT EXISTS "
        f"(SELECT 1 FROM organizations o WHERE o.org_id = t.org_id)").fetchall()
    return pa.table({
        LINE: pa.array([r[0] for r in rows], pa.int64()),
        "column_name": pa.array(["org_id"] * len(rows), pa.string()),
        "value": pa.array([r[1] for r in rows], pa.string()),
        "reason": pa.array([f"unknown organisation {r[1]!r}: import it into organizations first" for r in rows],
                           pa.string()),
    })


def _reader_errors(rr: ReadResult) -> pa.Table:
    """Records the reader could not split into cells (ragged rows, unclosed quotes, rows over the limit)."""
    rows = list(rr.rejects)
    return pa.table({
        LINE: pa.array([r[0] for r in rows], pa.int64()),
        "column_name": pa.array([r[1] for r in rows], pa.string()),
        "value": pa.array([r[2] for r in rows], pa.string()),
        "reason": pa.array([r[3] for r in rows], pa.string()),
    })


def _write_rejects(store: Store, errors: pa.Table, mapped: str, table: str, rr: ReadResult, import_id: str,
                   now: dt.datetime, result: ImportResult) -> None:
    if not errors.num_rows:
        return
    con = store.con
    raw_rows = {}
    lines = sorted(set(errors.column(LINE).to_pylist()))
    if len(lines) <= 100_000:
        sub = rr.table.filter(pa.compute.is_in(rr.table.column(LINE), pa.array(lines, pa.int64())))
        for rec in sub.to_pylist():
            raw_rows[rec[LINE]] = json.dumps({k: v for k, v in rec.items() if k != LINE}, ensure_ascii=False,
                                             default=str)
    recs = []
    for line, col, value, reason in zip(*(errors.column(n).to_pylist() for n in
                                          (LINE, "column_name", "value", "reason"))):
        rid = hashlib.sha1(f"{table}|{rr.file_hash}|{line}|{col}|{reason}".encode()).hexdigest()[:20]
        recs.append({"reject_id": rid, "import_id": import_id, "table_name": table, "source_file": rr.path.name,
                     "line": line, "column_name": col, "value": value, "reason": reason,
                     "row_json": raw_rows.get(line), "created_at": now})
    recs.sort(key=lambda r: (r["line"], r["column_name"] or ""))
    result.rejects.extend(recs)
    tblr = pa.Table.from_pylist(recs)
    con.register("rej_new", tblr)
    cols = ", ".join(schema_table("rejects").names)
    con.execute(f"INSERT INTO rejects ({cols}) SELECT {cols} FROM rej_new n "
                f"WHERE NOT EXISTS (SELECT 1 FROM rejects r WHERE r.reject_id = n.reject_id)")
    con.unregister("rej_new")


def _log_import(store: Store, result: ImportResult, rr: ReadResult, now: dt.datetime) -> None:
    for tr in result.targets:
        store.con.execute(
            "INSERT INTO imports VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [f"{result.import_id}:{tr.table}", tr.table, result.source, str(rr.path), rr.file_hash, rr.encoding,
             result.mapping, tr.rows_read, tr.inserted, tr.updated, tr.unchanged, tr.rejected, now,
             dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)])
