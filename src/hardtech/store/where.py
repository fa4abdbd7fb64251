"""`--where`: a user's SQL condition, checked to be one expression and evaluated only in the sandbox.

Why: `score --where "false; DELETE FROM rejects"` used to paste the text into a query on a
read-write connection and so ran a second statement (it wiped the rejects). Now the text never
reaches a writable connection: DuckDB's own parser (`json_serialize_sql`, the text passed as a
bound parameter) must see exactly one expression in `SELECT (<text>)` — no second statement, no
`UNION`, no `FROM` smuggled in after a closing parenthesis — and the condition then selects keys
on a sandboxed read-only connection (`store.sandbox`: no file, no extension, no setting). The
caller gets a list of keys and binds it as a parameter on its own connection.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from hardtech.errors import UsageError


def wrapped(text: str) -> str:
    """The condition as it is parsed and run: in parentheses, the closing one on its own line (so a
    trailing `-- comment` cannot swallow it)."""
    return f"({text}\n)"


def check_condition(con: duckdb.DuckDBPyConnection, text: str | None) -> str:
    """`text` wrapped, or UsageError unless DuckDB parses it as exactly one expression."""
    if text is None or not text.strip():
        raise UsageError("--where is empty; give a condition such as \"o.country = 'CN'\"")
    if "\x00" in text:
        raise UsageError("--where contains a NUL character")
    raw = con.execute("SELECT json_serialize_sql(?)", [f"SELECT {wrapped(text)}"]).fetchone()[0]
    tree = json.loads(raw)
    if tree.get("error"):
        raise UsageError(f"--where is not valid SQL: {tree.get('error_message', 'syntax error')}")
    statements = tree.get("statements") or []
    node = statements[0].get("node", {}) if len(statements) == 1 else {}
    single = (node.get("type") == "SELECT_NODE" and len(node.get("select_list") or []) == 1
              and (node.get("from_table") or {}).get("type") == "EMPTY"
              and not node.get("where_clause") and not node.get("group_expressions") and not node.get("having")
              and not node.get("qualify") and not node.get("sample") and not node.get("modifiers")
              and not (node.get("cte_map") or {}).get("map"))
    if not single:
        raise UsageError("--where must be one condition (an expression such as \"o.country = 'CN'\"), not "
                         "several statements or a query")
    return wrapped(text)


def keys_where(db: str | Path | None, key: str, source: str, where: str) -> list:
    """`key` of the rows of `source` (a FROM clause of ours) for which the user's condition holds, in order.

    Runs on a sandboxed read-only connection; the caller binds the list on its own connection.
    """
    from hardtech.store.sandbox import sandboxed

    with sandboxed(db) as con:
        cond = check_condition(con, where)
        try:
            return [r[0] for r in con.execute(f"SELECT {key} FROM {source} WHERE {cond} ORDER BY 1").fetchall()]
        except duckdb.PermissionException as exc:
            raise UsageError("--where cannot read files or reach the network (it runs in a sandbox)") from exc
        except duckdb.Error as exc:
            raise UsageError(f"--where is not valid here: {str(exc).strip()}") from exc
