"""Import a file into the store: read → map → type and validate → merge, in one transaction.

The three promises this module keeps:
- *loses nothing*: bad rows go to `rejects` with line, column, value and reason; good rows land;
- *idempotent*: a row whose key and content are already present is counted as unchanged;
- *atomic*: everything happens inside one DuckDB transaction, so a crash, a kill or Ctrl-C
  leaves the store exactly as it was.
"""

from __future__ import annotations

import datetime as dt
import functools
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
from hardtech.sources.validate import validate
from hardtech.store.connection import Store
from hardtech.store.resolve.merges import divert_merged_orgs, redirect_rows
from hardtech.store.schema import IMPORTABLE, table as schema_table

# Dependency order: a file feeding several tables fills the referenced ones first.
ORDER = ("regions", "organizations", "investors", "financials", "patents", "funding_rounds", "publications")
SLUG = "lower(trim(regexp_replace({x}, '[^A-Za-z0-9]+', '-', 'g'), '-'))"


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
                today: dt.date | None = None, progress=None, licence: str | None = None,
                read: ReadResult | None = None, import_id: str | None = None) -> ImportResult:
    """Import one file. `table` is a table name or `auto` (every target of the mapping).

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
    rr = read if read is not None else read_table(path, fmt=opts.get("format"), sheet=sheet or opts.get("sheet"),
                                                  delimiter=opts.get("delimiter"))
    headers = [c for c in rr.table.column_names if c != LINE]
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
    result.ignored_columns = [h for h in headers if h not in used]

    con = store.con
    src = f"src_{uuid.uuid4().hex[:8]}"
    con.execute("SELECT 1").fetchall()  # finish any result a caller left open (DuckDB refuses register then)
    con.register(src, rr.table)
    _load_reference(con)
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    try:
        with store.transaction():
            for n, target in enumerate(targets):
                say(f"validating and writing {target.table}", n, len(targets))
                tr = _import_target(store, src, headers, rr, target, source_name, is_synth, import_id, now,
                                    today, result, source_licence)
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
    result.seconds = time.perf_counter() - started
    return result


def new_import_id() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]


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
    return (f"coalesce((SELECT c.iso2 FROM ref_countries c WHERE c.alias = lower(trim({col})) LIMIT 1), "
            f"CASE WHEN length(trim({col})) = 2 THEN upper(trim({col})) END, {col})")


@functools.lru_cache(maxsize=1)
def _country_aliases() -> tuple[tuple[str, str], ...]:
    import csv
    from importlib import resources

    path = resources.files("hardtech.data") / "reference" / "countries.csv"
    rows = []
    with open(str(path), encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            for name in [r["iso2"], r["name_en"], r["name_zh"], *[a for a in r["aliases"].split("|") if a]]:
                rows.append((name.strip().lower(), r["iso2"]))
    return tuple(rows)


def _load_reference(con) -> None:
    """Country names and aliases → ISO codes, as a temp table the prepare step joins against."""
    rows = _country_aliases()
    con.register("ref_countries_src", pa.table({"alias": [a for a, _ in rows], "iso2": [c for _, c in rows]}))
    con.execute("CREATE OR REPLACE TEMP TABLE ref_countries AS SELECT DISTINCT alias, first(iso2) AS iso2 "
                "FROM ref_countries_src GROUP BY alias")
    con.unregister("ref_countries_src")


def _prepare(con, mapped: str, target: TargetSpec, prefix: str) -> str:
    """Fill identifiers the file does not carry and normalise vocabularies before validation:
    org ids from names (an organisation already in the store keeps its id), stages from
    `A轮`/`Series B`, kinds in lower case, country names as ISO codes."""
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
        return mapped
    view = f"{prefix}_prepared"
    con.execute(f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT * REPLACE ({', '.join(repl)}) FROM {mapped} m")
    return view


def _import_target(store: Store, src: str, headers: list[str], rr: ReadResult, target: TargetSpec,
                   source_name: str, is_synth: bool, import_id: str, now: dt.datetime,
                   today: dt.date | None, result: ImportResult, source_licence: str | None = None) -> TargetResult:
    con = store.con
    tbl = schema_table(target.table)
    prefix = f"imp_{target.table}"
    list_cols = {n for n in headers if pa.types.is_list(rr.table.schema.field(n).type)}
    con.execute(f"CREATE OR REPLACE TEMP VIEW {prefix}_mapped AS "
                + mapped_select(target, src, headers, list_cols))
    mapped = _prepare(con, f"{prefix}_mapped", target, prefix)
    v = validate(con, mapped, target, prefix, today=today)
    typed = v.view
    _enrich(con, typed, target)
    tr = TargetResult(target.table, rows_read=rr.table.num_rows)
    tr.redirected = redirect_rows(con, typed, target.table, LINE, source_name)

    errors = v.errors
    fk = _foreign_key_errors(con, typed, target)
    if fk.num_rows:
        errors = pa.concat_tables([errors, fk])
    bad_lines = sorted(set(errors.column(LINE).to_pylist()))
    con.register(f"{prefix}_bad", pa.table({LINE: pa.array(bad_lines, pa.int64())}))
    tr.rejected = len(bad_lines)
    _write_rejects(store, errors, mapped, target.table, rr, import_id, now, result)

    data_cols = tbl.data_names
    key_cols = list(tbl.key)
    hash_expr = _hash_sql(data_cols)
    good = f"SELECT * FROM {typed} WHERE {ident(LINE)} NOT IN (SELECT {ident(LINE)} FROM {prefix}_bad)"
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
        tr.merged = max(0, rr.table.num_rows - tr.rejected - tr.inserted)
        con.execute(f"DROP TABLE IF EXISTS {typed}")
        con.unregister(f"{prefix}_bad")
        return tr
    con.execute(f"CREATE OR REPLACE TEMP TABLE {stage} AS SELECT {', '.join(ident(c) for c in data_cols)}, {prov} "
                f"FROM ({good})")
    staged = int(con.execute(f"SELECT count(*) FROM {stage}").fetchall()[0][0])
    tr.merged = max(0, rr.table.num_rows - tr.rejected - staged)
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
    elif target.patch:
        # existing rows keep every value this file does not give; the hash is recomputed on the result
        mapped_cols = set(target.columns)
        sel = ", ".join(
            (f"coalesce(s.{ident(c)}, t.{ident(c)}) AS {ident(c)}" if c in mapped_cols else
             f"CASE WHEN t.{ident(key_cols[0])} IS NULL THEN s.{ident(c)} ELSE t.{ident(c)} END AS {ident(c)}")
            for c in data_cols)
        con.execute(f"CREATE OR REPLACE TEMP TABLE {stage}_p AS SELECT {sel}, s.source_name, s.source_licence, s.source_file, "
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
    tr.unchanged += skipped + kept_same
    tr.updated += kept_changed
    return tr


def _hash_sql(cols: list[str], alias: str = "") -> str:
    """64-bit content hash of the data columns: enough to tell "same row" from "changed row" for one key."""
    return "printf('%016x', hash(" + ", ".join(alias + ident(c) for c in cols) + "))"


def _enrich(con, typed: str, target: TargetSpec) -> None:
    """Per-table normalisation that needs the typed values."""
    t = target.table
    if t == "patents":
        for col in ("cpc_codes", "ipc_codes"):
            con.execute(f"UPDATE {typed} SET {col} = list_transform({col}, lambda c: "
                        + _patent_code_sql("c") + ")")
        con.execute(f"UPDATE {typed} SET office = coalesce(NULLIF(upper(trim(office)), ''), "
                    f"NULLIF(regexp_extract(publication_number, '^([A-Za-z]{{2}})', 1), '')) ")
        con.execute(f"UPDATE {typed} SET patent_type = coalesce(patent_type, 'unknown')")
    if t == "funding_rounds":
        _resolve_investors(con, typed)
        _fx_usd(con, typed)
    if t in ("organizations", "investors"):
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


def _patent_code_sql(x: str) -> str:
    """`G06N 3/08`, `G06N0003/08`, `B29C-047/00` → `G06N3/08` (same rule as taxonomy.normalize_patent_code)."""
    s = f"upper(regexp_replace(trim({x}), '[\\s-]+', '', 'g'))"
    return f"regexp_replace({s}, '^([A-HY][0-9]{{2}}[A-Z])0*([0-9])', '\\1\\2')"


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
