"""Applying and undoing merges in the store, so that analytics see one organisation and nothing is lost.

How a merge shows in the store (docs/resolve.md):

- the surviving organisation keeps its id; its `organizations` row is rebuilt from the original rows of
  every member (its own values first, then the members' to fill gaps; aliases, industry codes, flags and
  identifiers united; the members' names become aliases, their ids identifiers);
- the merged organisation's row leaves `organizations` and is kept, as its source gave it, in
  `org_originals` (so is the survivor's own original row);
- rows that pointed at the merged organisation (financials, funding rounds, patents, classifications,
  scores, watchlists) point at the survivor; each moved row's original owner is kept in
  `resolve_row_origins`, and a row whose key clashes with one of the survivor's (the same source and
  year twice) is set aside there whole rather than overwritten;
- `org_redirects` maps every merged id to its organisation; imports read it, so re-importing a source
  adds nothing and a new row for a merged id lands on the survivor.

Undo reverses exactly that for one merge and everything merged into the merged record before it.
All of it is set-based SQL (a million organisations merge in one statement per table), inside the
caller's transaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass

import pyarrow as pa

from hardtech.sources.applicants import RECORD_PREFIX, first_applicant
from hardtech.schema import ORGANIZATIONS, PROVENANCE, TABLES

# tables holding organisation references: (org column, extra condition, has content hash)
ORG_REFS = {
    "financials": ("org_id", "", True),
    "funding_rounds": ("org_id", "", True),
    "patents": ("applicant_org_id", "", True),
    "classifications": ("entity_id", "entity_type = 'organization'", False),
    "scores": ("org_id", "", False),
    "watchlists": ("org_id", "", False),
    "publications": ("org_id", "", True),
}
LIST_COLS = ("aliases", "industry_codes", "flags", "identifiers")


@dataclass(frozen=True)
class Merge:
    from_id: str
    into_id: str
    record_kind: str = "organization"
    probability: float | None = None
    evidence: str | None = None
    from_name: str | None = None
    into_name: str | None = None
    decision: str = "automatic"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def _merge_id(m: Merge, now: dt.datetime) -> str:
    return "m-" + hashlib.sha1(f"{m.from_id}|{m.into_id}|{now.isoformat()}".encode()).hexdigest()[:12]


def _other_key(table: str) -> list[str]:
    col = ORG_REFS[table][0]
    return [k for k in TABLES[table].key if k != col]


def _key_json(table: str, alias: str = "", fixed: dict[str, str] | None = None) -> str:
    """JSON of a row's key columns other than its organisation column (`fixed`: SQL for columns the row does not
    carry yet, such as the source name of an import)."""
    keys = _other_key(table)
    fixed = fixed or {}
    return "to_json(struct_pack(" + ", ".join(f"{k} := {fixed.get(k, alias + k)}" for k in keys) + "))::VARCHAR"


def _hash_update(table: str, where: str) -> str:
    from hardtech.store.importer import _hash_sql

    return f"UPDATE {table} SET content_hash = {_hash_sql(TABLES[table].data_names)} WHERE {where}"


# ------------------------------------------------------------------------------------------- redirects

def active_edges(con) -> dict[str, str]:
    return dict(con.execute("SELECT from_id, into_id FROM resolve_merges WHERE status = 'applied'").fetchall())


def roots(edges: dict[str, str]) -> dict[str, str]:
    """Each merged id → the organisation at the end of its chain of merges."""
    out: dict[str, str] = {}
    for start in edges:
        path, x = [], start
        while x in edges and x not in out and len(path) <= len(edges):
            path.append(x)
            x = edges[x]
        root = out.get(x, x)
        for p in path:
            out[p] = root
    return out


def refresh_redirects(con) -> dict[str, str]:
    r = roots(active_edges(con))
    con.execute("DELETE FROM org_redirects")
    if r:
        con.register("redir_new", pa.table({"from_id": list(r), "org_id": list(r.values())}))
        con.execute("INSERT INTO org_redirects SELECT from_id, org_id FROM redir_new")
        con.unregister("redir_new")
    return r


def members_of(con) -> dict[str, set[str]]:
    """Surviving organisation → every original record merged into it (and itself)."""
    out: dict[str, set[str]] = {}
    for frm, root in con.execute("SELECT from_id, org_id FROM org_redirects").fetchall():
        out.setdefault(root, {root}).add(frm)
    return out


# ------------------------------------------------------------------------------------------ org rows

def _archive_originals(con, ids_table: str) -> None:
    cols = ", ".join(f'"{c}"' for c in ORGANIZATIONS.names)
    con.execute(f"""INSERT INTO org_originals ({cols}) SELECT {cols} FROM organizations
                    WHERE org_id IN (SELECT id FROM {ids_table})
                      AND org_id NOT IN (SELECT org_id FROM org_originals)""")


def rebuild_orgs(con, canon_ids: list[str]) -> None:
    """Rewrite the `organizations` rows of these surviving organisations from their members' originals.

    A survivor left with no member gets its own original row back (and leaves `org_originals`)."""
    if not canon_ids:
        return
    from hardtech.store.importer import _hash_sql

    con.register("rebuild_src", pa.table({"id": sorted(set(canon_ids))}))
    con.execute("""CREATE OR REPLACE TEMP TABLE rebuild_ids AS SELECT id FROM rebuild_src
                   WHERE id IN (SELECT org_id FROM org_originals)""")
    con.unregister("rebuild_src")
    con.execute("""CREATE OR REPLACE TEMP TABLE rebuild_mem AS
        SELECT i.id AS canon, i.id AS member, 0 AS ord, TIMESTAMP '1970-01-01' AS at FROM rebuild_ids i
        UNION ALL
        SELECT r.org_id, r.from_id, 1, coalesce(m.merged_at, TIMESTAMP '1970-01-01') FROM org_redirects r
        JOIN rebuild_ids i ON i.id = r.org_id
        LEFT JOIN resolve_merges m ON m.from_id = r.from_id AND m.status = 'applied'
        WHERE r.from_id NOT LIKE 'patent-applicant:%'""")
    scalar = [c for c in ORGANIZATIONS.data_names if c not in LIST_COLS and c != "org_id"]
    order = "ORDER BY m.ord, m.at, m.member"
    sel = [f"m.canon AS org_id"]
    for c in scalar:
        sel.append(f'(list(o."{c}" {order}) FILTER (WHERE o."{c}" IS NOT NULL))[1] AS "{c}"')
    for c in ("industry_codes", "flags"):
        sel.append(f'list_sort(list_distinct(flatten(list(coalesce(o."{c}", []) {order})))) AS "{c}"')
    # aliases: every member's aliases and names; identifiers: theirs and the members' own ids
    sel.append(f"""list_sort(list_distinct(flatten(list(coalesce(o.aliases, []) || list_filter([o.name_en, o.name_zh],
                   lambda x: x IS NOT NULL) {order})))) AS aliases""")
    sel.append(f"""list_sort(list_distinct(flatten(list(coalesce(o.identifiers, []) ||
                   CASE WHEN m.ord = 1 THEN [CASE WHEN contains(o.org_id, ':') THEN o.org_id ELSE 'org:' || o.org_id END]
                        ELSE [] END {order})))) AS identifiers""")
    for c in (p.name for p in PROVENANCE if p.name != "content_hash"):
        sel.append(f'(list(o."{c}" {order}))[1] AS "{c}"')
    con.execute(f"""CREATE OR REPLACE TEMP TABLE rebuild_rows AS
        SELECT {', '.join(sel)} FROM rebuild_mem m JOIN org_originals o ON o.org_id = m.member
        GROUP BY m.canon""")
    # a combined row's aliases never repeat its own names
    con.execute("""UPDATE rebuild_rows SET aliases = list_filter(aliases, lambda a: a IS DISTINCT FROM name_en
                   AND a IS DISTINCT FROM name_zh)""")
    names = ORGANIZATIONS.names
    con.execute("DELETE FROM organizations WHERE org_id IN (SELECT id FROM rebuild_ids)")
    cols = ", ".join(f'"{c}"' for c in names)
    vals = ", ".join(f'"{c}"' if c != "content_hash" else _hash_sql(ORGANIZATIONS.data_names) for c in names)
    con.execute(f"INSERT INTO organizations ({cols}) SELECT {vals} FROM rebuild_rows")
    # survivors without members are themselves again: restore the original exactly, forget it
    con.execute(f"""DELETE FROM organizations WHERE org_id IN (
                      SELECT id FROM rebuild_ids WHERE id NOT IN (SELECT org_id FROM org_redirects))""")
    con.execute(f"""INSERT INTO organizations ({cols}) SELECT {cols} FROM org_originals
                    WHERE org_id IN (SELECT id FROM rebuild_ids WHERE id NOT IN (SELECT org_id FROM org_redirects))""")
    con.execute("""DELETE FROM org_originals WHERE org_id IN (SELECT id FROM rebuild_ids)
                   AND org_id NOT IN (SELECT org_id FROM org_redirects)""")
    con.execute("DROP TABLE rebuild_ids")


# ------------------------------------------------------------------------------------------ row moves

def _move_rows(con, batch: str, now: dt.datetime) -> dict[str, int]:
    """Point every row of the `from_id`s in `batch` (from_id, into_id, merge_id) at its `into_id`."""
    moved = {}
    for table, (col, cond, hashed) in ORG_REFS.items():
        extra = f"AND t.{cond}" if cond else ""
        kj = _key_json(table, "t.")
        con.execute(f"""CREATE OR REPLACE TEMP TABLE mv AS
            SELECT t.rowid AS rid, b.from_id, b.into_id, b.merge_id, {kj} AS row_key,
                   to_json(t)::VARCHAR AS row_json
            FROM {table} t JOIN {batch} b ON t.{col} = b.from_id WHERE TRUE {extra}""")
        n = con.execute("SELECT count(*) FROM mv").fetchall()[0][0]
        if not n:
            continue
        # clashes: the survivor already has a row with that key, or two merged records bring the same key
        con.execute(f"""CREATE OR REPLACE TEMP TABLE mv_clash AS
            SELECT rid FROM (
              SELECT rid, row_number() OVER (PARTITION BY into_id, row_key ORDER BY from_id) AS rn, into_id, row_key
              FROM mv) x
            WHERE rn > 1 OR EXISTS (SELECT 1 FROM {table} t WHERE t.{col} = x.into_id {extra}
                                    AND {_key_json(table, 't.')} = x.row_key)""")
        # the original owner of a row is kept from its first move
        con.execute(f"""INSERT INTO resolve_row_origins
            SELECT '{table}', mv.row_key, mv.from_id, mv.merge_id,
                   CASE WHEN mv.rid IN (SELECT rid FROM mv_clash) THEN mv.row_json END, TIMESTAMP '{now}'
            FROM mv WHERE NOT EXISTS (SELECT 1 FROM resolve_row_origins o WHERE o.table_name = '{table}'
                                      AND o.row_key = mv.row_key AND o.original_id = mv.from_id)
              AND NOT EXISTS (SELECT 1 FROM resolve_row_origins o WHERE o.table_name = '{table}'
                              AND o.row_key = mv.row_key AND o.archived_row IS NULL
                              AND o.original_id IN (SELECT from_id FROM org_redirects WHERE org_id = mv.from_id))""")
        con.execute(f"""UPDATE resolve_row_origins o SET merge_id = mv.merge_id FROM mv
                        WHERE o.table_name = '{table}' AND o.row_key = mv.row_key AND o.archived_row IS NULL
                          AND o.original_id IN (SELECT from_id FROM org_redirects WHERE org_id = mv.from_id)""")
        con.execute(f"""UPDATE resolve_row_origins o SET archived_row = mv.row_json FROM mv
                        WHERE o.table_name = '{table}' AND o.row_key = mv.row_key AND o.archived_row IS NULL
                          AND mv.rid IN (SELECT rid FROM mv_clash)
                          AND (o.original_id = mv.from_id OR o.original_id IN
                               (SELECT from_id FROM org_redirects WHERE org_id = mv.from_id))""")
        con.execute(f"DELETE FROM {table} WHERE rowid IN (SELECT rid FROM mv_clash)")
        con.execute(f"""UPDATE {table} t SET {col} = mv.into_id FROM mv
                        WHERE t.rowid = mv.rid AND mv.rid NOT IN (SELECT rid FROM mv_clash)""")
        if hashed:
            con.execute(_hash_update(table, f"rowid IN (SELECT rid FROM mv WHERE rid NOT IN (SELECT rid FROM mv_clash))"))
        moved[table] = int(n)
    return moved


# ------------------------------------------------------------------------------------------ apply

def apply_merges(con, merges: list[Merge], decided_by: str, threshold: float | None, model_version: str,
                 now: dt.datetime | None = None) -> list[str]:
    """Merge organisations (`from_id` into `into_id`, each `into_id` a surviving organisation). Returns merge ids."""
    merges = [m for m in merges if m.from_id != m.into_id]
    if not merges:
        return []
    now = now or _now()
    ids = [_merge_id(m, now) for m in merges]
    ids_tbl = pa.table({"id": sorted({m.from_id for m in merges} | {m.into_id for m in merges})})
    con.register("merge_ids", ids_tbl)
    _archive_originals(con, "merge_ids")
    con.unregister("merge_ids")
    batch = pa.table({"from_id": [m.from_id for m in merges], "into_id": [m.into_id for m in merges], "merge_id": ids})
    con.register("merge_batch_src", batch)
    con.execute("CREATE OR REPLACE TEMP TABLE merge_batch AS SELECT * FROM merge_batch_src")
    con.unregister("merge_batch_src")
    # the source ids each merged organisation carried, before its row leaves `organizations`
    src_ids = dict(con.execute("""SELECT o.org_id, list_distinct(coalesce(o.identifiers, []) ||
                                       [CASE WHEN contains(o.org_id, ':') THEN o.org_id ELSE 'org:' || o.org_id END])
                                  FROM organizations o JOIN merge_batch b ON o.org_id = b.from_id""").fetchall())
    names = dict(con.execute("""SELECT org_id, coalesce(name_en, name_zh) FROM organizations
                                WHERE org_id IN (SELECT from_id FROM merge_batch UNION SELECT into_id FROM merge_batch)""")
                 .fetchall())
    merges = [Merge(m.from_id, m.into_id, m.record_kind, m.probability, m.evidence,
                    m.from_name or names.get(m.from_id), m.into_name or names.get(m.into_id), m.decision) for m in merges]
    _move_rows(con, "merge_batch", now)
    con.execute("DELETE FROM organizations WHERE org_id IN (SELECT from_id FROM merge_batch)")
    _record(con, merges, ids, src_ids, decided_by, threshold, model_version, now)
    refresh_redirects(con)
    rebuild_orgs(con, sorted({m.into_id for m in merges}))
    return ids


def _record(con, merges, ids, src_ids, decided_by, threshold, model_version, now) -> None:
    cols = TABLES["resolve_merges"].names
    rows = [{"merge_id": i, "into_id": m.into_id, "from_id": m.from_id, "record_kind": m.record_kind,
             "from_name": m.from_name, "into_name": m.into_name, "source_ids": src_ids.get(m.from_id) or [],
             "probability": m.probability, "evidence": m.evidence, "decision": m.decision,
             "decided_by": decided_by, "threshold": threshold, "model_version": model_version, "merged_at": now,
             "status": "applied", "undone_at": None, "undone_by": None} for m, i in zip(merges, ids)]
    tbl = pa.Table.from_pylist(rows, schema=pa.schema([
        ("merge_id", pa.string()), ("into_id", pa.string()), ("from_id", pa.string()), ("record_kind", pa.string()),
        ("from_name", pa.string()), ("into_name", pa.string()), ("source_ids", pa.list_(pa.string())),
        ("probability", pa.float64()), ("evidence", pa.string()), ("decision", pa.string()),
        ("decided_by", pa.string()), ("threshold", pa.float64()), ("model_version", pa.string()),
        ("merged_at", pa.timestamp("us")), ("status", pa.string()), ("undone_at", pa.timestamp("us")),
        ("undone_by", pa.string())]))
    con.register("merge_rows", tbl)
    con.execute(f"INSERT INTO resolve_merges ({', '.join(cols)}) SELECT {', '.join(cols)} FROM merge_rows")
    con.unregister("merge_rows")


def applicant_index(con, only_unlinked: bool = True) -> pa.Table:
    """Each distinct `patents.applicant` text and its first applicant's record id."""
    where = "applicant IS NOT NULL" + (" AND applicant_org_id IS NULL" if only_unlinked else "")
    texts = [r[0] for r in con.execute(f"SELECT DISTINCT applicant FROM patents WHERE {where}").fetchall()]
    recs = [RECORD_PREFIX + f if (f := first_applicant(t)) else None for t in texts]
    return pa.table({"applicant": texts, "record_id": recs})


def apply_links(con, links: list[Merge], decided_by: str, threshold: float | None, model_version: str,
                now: dt.datetime | None = None) -> list[str]:
    """Link patent applicants to organisations: their patents' `applicant_org_id` is set."""
    links = [m for m in links if m.record_kind == "patent_applicant"]
    if not links:
        return []
    now = now or _now()
    con.register("link_into", pa.table({"id": sorted({m.into_id for m in links})}))
    names = dict(con.execute("SELECT org_id, coalesce(name_en, name_zh) FROM organizations "
                             "WHERE org_id IN (SELECT id FROM link_into)").fetchall())
    con.unregister("link_into")
    links = [Merge(m.from_id, m.into_id, m.record_kind, m.probability, m.evidence,
                   m.from_name or m.from_id.removeprefix(RECORD_PREFIX), m.into_name or names.get(m.into_id),
                   m.decision) for m in links]
    ids = [_merge_id(m, now) for m in links]
    con.register("app_index", applicant_index(con))
    con.register("link_batch", pa.table({"from_id": [m.from_id for m in links], "into_id": [m.into_id for m in links],
                                         "merge_id": ids}))
    con.execute(f"""CREATE OR REPLACE TEMP TABLE link_rows AS
        SELECT p.rowid AS rid, b.into_id, b.merge_id, b.from_id, {_key_json('patents', 'p.')} AS row_key
        FROM patents p JOIN app_index a ON a.applicant = p.applicant JOIN link_batch b ON b.from_id = a.record_id
        WHERE p.applicant_org_id IS NULL""")
    con.execute(f"""INSERT INTO resolve_row_origins SELECT 'patents', row_key, from_id, merge_id, NULL, TIMESTAMP '{now}'
                    FROM link_rows l WHERE NOT EXISTS (SELECT 1 FROM resolve_row_origins o WHERE o.table_name = 'patents'
                    AND o.row_key = l.row_key AND o.original_id = l.from_id)""")
    con.execute("UPDATE patents p SET applicant_org_id = l.into_id FROM link_rows l WHERE p.rowid = l.rid")
    con.execute(_hash_update("patents", "rowid IN (SELECT rid FROM link_rows)"))
    con.unregister("app_index")
    con.unregister("link_batch")
    _record(con, links, ids, {m.from_id: [] for m in links}, decided_by, threshold, model_version, now)
    refresh_redirects(con)
    return ids


# ------------------------------------------------------------------------------------------ undo

def subtree(edges: dict[str, str], top: str) -> set[str]:
    children: dict[str, list[str]] = {}
    for c, p in edges.items():
        children.setdefault(p, []).append(c)
    out, stack = set(), [top]
    while stack:
        x = stack.pop()
        if x in out:
            continue
        out.add(x)
        stack.extend(children.get(x, []))
    return out


def undo_merge(con, merge_id: str, undone_by: str, now: dt.datetime | None = None) -> dict:
    """Split a merged record off again, with everything that had been merged into it."""
    from hardtech.errors import UsageError

    row = con.execute("SELECT from_id, into_id, record_kind, status FROM resolve_merges WHERE merge_id = ?",
                      [merge_id]).fetchall()
    if not row:
        raise UsageError(f"no merge {merge_id!r}; list them with `hardtech resolve merges`")
    frm, into, kind, status = row[0]
    if status != "applied":
        raise UsageError(f"merge {merge_id} is already undone")
    now = now or _now()
    edges = active_edges(con)
    root = roots(edges).get(into, into)
    group = sorted(subtree(edges, frm))
    con.execute("UPDATE resolve_merges SET status = 'undone', undone_at = ?, undone_by = ? WHERE merge_id = ?",
                [now, undone_by, merge_id])
    a, b = sorted((frm, into))
    con.execute("DELETE FROM resolve_decisions WHERE record_a = ? AND record_b = ?", [a, b])
    con.execute("INSERT INTO resolve_decisions VALUES (?, ?, 'reject', ?, ?, ?)",
                [a, b, undone_by, now, f"undo of {merge_id}"])
    refresh_redirects(con)
    con.register("undo_group", pa.table({"id": group}))
    back = {}
    for table, (col, cond, hashed) in ORG_REFS.items():
        extra = f"AND t.{cond}" if cond else ""
        target = "NULL" if kind == "patent_applicant" else f"'{_sql_str(frm)}'"
        con.execute(f"""CREATE OR REPLACE TEMP TABLE undo_rows AS
            SELECT t.rowid AS rid, o.original_id FROM {table} t JOIN resolve_row_origins o
              ON o.table_name = '{table}' AND o.row_key = {_key_json(table, 't.')} AND o.archived_row IS NULL
            WHERE t.{col} = '{_sql_str(root)}' {extra} AND o.original_id IN (SELECT id FROM undo_group)""")
        n = con.execute("SELECT count(*) FROM undo_rows").fetchall()[0][0]
        if n:
            con.execute(f"UPDATE {table} SET {col} = {target} WHERE rowid IN (SELECT rid FROM undo_rows)")
            if hashed:
                con.execute(_hash_update(table, "rowid IN (SELECT rid FROM undo_rows)"))
        back[table] = int(n)
        _restore_archived(con, table, col, kind, frm)
        con.execute(f"""DELETE FROM resolve_row_origins WHERE table_name = '{table}' AND archived_row IS NULL
                        AND original_id = '{_sql_str(frm)}'""")
    con.unregister("undo_group")
    if kind == "organization":
        rebuild_orgs(con, [frm, root])
    return {"merge_id": merge_id, "split_off": frm, "with": [g for g in group if g != frm], "from": root,
            "rows_moved_back": back}


def _restore_archived(con, table: str, col: str, kind: str, frm: str) -> None:
    """Rows set aside because their key clashed come back to the split-off record when their key is free."""
    if kind != "organization":
        return
    rows = con.execute(f"""SELECT row_key, original_id, archived_row FROM resolve_row_origins
                           WHERE table_name = '{table}' AND archived_row IS NOT NULL
                             AND original_id IN (SELECT id FROM undo_group)""").fetchall()
    for row_key, original, js in rows:
        rec = json.loads(js)
        rec[col] = frm
        cols = [c for c in TABLES[table].names if c in rec]
        exists = con.execute(f"SELECT count(*) FROM {table} t WHERE t.{col} = ? AND {_key_json(table, 't.')} = ?",
                             [frm, row_key]).fetchall()[0][0]
        if exists:
            continue
        con.execute(f"INSERT INTO {table} ({', '.join(cols)}) SELECT {', '.join('?' for _ in cols)}",
                    [rec[c] for c in cols])
        con.execute(f"""DELETE FROM resolve_row_origins WHERE table_name = ? AND row_key = ? AND original_id = ?""",
                    [table, row_key, original])
        if original != frm:
            con.execute("INSERT INTO resolve_row_origins VALUES (?, ?, ?, NULL, NULL, ?)",
                        [table, row_key, original, _now()])


def _sql_str(s: str) -> str:
    return s.replace("'", "''")


# ------------------------------------------------------------------------------------------ imports

def divert_merged_orgs(con, stage: str) -> tuple[int, int]:
    """Import hook: staged `organizations` rows of organisations that took part in a merge update their
    original in `org_originals` (the merged row is rebuilt) instead of coming back as organisations.
    Returns (unchanged, updated); the rows leave the stage."""
    if not con.execute("SELECT count(*) FROM org_originals").fetchall()[0][0]:
        return 0, 0
    same, changed = con.execute(f"""SELECT count(*) FILTER (WHERE o.content_hash = s.content_hash),
                                           count(*) FILTER (WHERE o.content_hash <> s.content_hash)
                                    FROM {stage} s JOIN org_originals o USING (org_id)""").fetchall()[0]
    if not (same or changed):
        return 0, 0
    cols = ", ".join(f'"{c}"' for c in ORGANIZATIONS.names)
    con.execute(f"""CREATE OR REPLACE TEMP TABLE divert_changed AS SELECT s.* FROM {stage} s
                    JOIN org_originals o USING (org_id) WHERE o.content_hash <> s.content_hash""")
    if changed:
        con.execute("DELETE FROM org_originals WHERE org_id IN (SELECT org_id FROM divert_changed)")
        con.execute(f"INSERT INTO org_originals ({cols}) SELECT {cols} FROM divert_changed")
        survivors = [r[0] for r in con.execute("""
            SELECT DISTINCT coalesce(r.org_id, d.org_id) FROM divert_changed d
            LEFT JOIN org_redirects r ON r.from_id = d.org_id""").fetchall()]
        rebuild_orgs(con, survivors)
    con.execute(f"DELETE FROM {stage} WHERE org_id IN (SELECT org_id FROM org_originals)")
    con.execute("DROP TABLE divert_changed")
    return int(same or 0), int(changed or 0)


def redirect_rows(con, typed: str, table: str, line_col: str, source_name: str = "") -> int:
    """Import hook: rows for a merged organisation (or a linked patent applicant) land on its organisation.
    Their original owner is recorded, so an undo moves them back too. Returns how many were redirected."""
    if table not in ("financials", "funding_rounds", "patents", "publications"):
        return 0
    if not con.execute("SELECT count(*) FROM org_redirects").fetchall()[0][0]:
        return 0
    col = ORG_REFS[table][0]
    now = _now()
    # a narrow file's typed rows hold only the columns it gives (the importer fills the rest with NULL)
    present = {r[0] for r in con.execute(f"DESCRIBE {typed}").fetchall()}
    key = _key_json(table, "t.", {"source_name": "'" + _sql_str(source_name) + "'"})
    con.execute(f"""CREATE OR REPLACE TEMP TABLE redir_rows AS
        SELECT t."{line_col}" AS line, CAST(NULL AS VARCHAR) AS original_id, CAST(NULL AS VARCHAR) AS into_id,
               {key} AS row_key FROM {typed} t LIMIT 0""")
    if col in present:
        con.execute(f"""INSERT INTO redir_rows SELECT t."{line_col}", t.{col}, r.org_id, {key}
            FROM {typed} t JOIN org_redirects r ON r.from_id = t.{col}""")
    if table == "patents" and "applicant" in present:
        con.register("app_index", applicant_index_for(con, typed, col in present))
        unlinked = f"WHERE t.{col} IS NULL" if col in present else ""
        con.execute(f"""INSERT INTO redir_rows SELECT t."{line_col}", a.record_id, r.org_id, {key}
            FROM {typed} t JOIN app_index a ON a.applicant = t.applicant JOIN org_redirects r ON r.from_id = a.record_id
            {unlinked}""")
        con.unregister("app_index")
    n = con.execute("SELECT count(*) FROM redir_rows").fetchall()[0][0]
    if n:
        if col not in present:
            con.execute(f"ALTER TABLE {typed} ADD COLUMN {col} VARCHAR")
        con.execute(f'UPDATE {typed} t SET {col} = d.into_id FROM redir_rows d WHERE t."{line_col}" = d.line')
        con.execute(f"""INSERT INTO resolve_row_origins SELECT DISTINCT '{table}', row_key, original_id, NULL, NULL,
                        TIMESTAMP '{now}' FROM redir_rows d WHERE NOT EXISTS (SELECT 1 FROM resolve_row_origins o
                        WHERE o.table_name = '{table}' AND o.row_key = d.row_key AND o.original_id = d.original_id)""")
    con.execute("DROP TABLE redir_rows")
    return int(n)


def applicant_index_for(con, typed: str, linked_column: bool = True) -> pa.Table:
    unlinked = " AND applicant_org_id IS NULL" if linked_column else ""
    texts = [r[0] for r in con.execute(f"SELECT DISTINCT applicant FROM {typed} WHERE applicant IS NOT NULL"
                                       + unlinked).fetchall()]
    return pa.table({"applicant": texts,
                     "record_id": [RECORD_PREFIX + f if (f := first_applicant(t)) else None for t in texts]})
