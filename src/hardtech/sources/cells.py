"""Checks on each cell's text before it is typed: its size, and the characters it may not hold.

Run on the mapped text, so a 100,000-character id or a 1 MB "number" is refused before any
parser sees it, and a name carrying NUL, an ANSI escape or a right-to-left override is refused
rather than stored (stripping it would change the value silently; keeping it would let it reach a
terminal). The limit or the character is named in the reason. The size test is one pass of
`strlen` (constant time per cell); the character test runs only when the file's bytes could hold
such a character at all (`encoding.TextScan`), so clean files pay nothing for it.
"""

from __future__ import annotations

from hardtech.cellsafety import FORBIDDEN_OR_BREAK_SQL, FORBIDDEN_SQL, char_name, forbidden_char
from hardtech.sources.limits import LONG_TEXT_COLUMNS, SHOWN_VALUE_CHARS, TEXT_MAX_CHARS, text_limit
from hardtech.sources.readers import LINE
from hardtech.sources.transform import ident, lit
from hardtech.schema import Table

ALL_CHECKS = frozenset({"forbidden", "breaks"})


def shown(value: object) -> str | None:
    """A rejected value as kept in `rejects.value`: whole up to SHOWN_VALUE_CHARS, then cut with its length."""
    if value is None:
        return None
    text = str(value)
    if len(text) <= SHOWN_VALUE_CHARS:
        return text
    return text[:SHOWN_VALUE_CHARS] + f"… ({len(text):,} characters)"


def cells_flag_sql(tbl: Table, columns: set[str], checks: frozenset = ALL_CHECKS, alias: str = "m.") -> str:
    """One SQL boolean: does any of these cells need `check_cells`? (to compute it in a pass made anyway)"""
    conds = [cond for *_, cond in _probes(tbl, columns, checks, alias)]
    return "(" + " OR ".join(f"coalesce({c}, FALSE)" for c in conds) + ")" if conds else "FALSE"


def check_cells(con, view: str, tbl: Table, columns: set[str], errors, checks: frozenset = ALL_CHECKS) -> None:
    """Add an error for every cell of `columns` in `view` that is too long or holds a forbidden character."""
    L = ident(LINE)
    probes = _probes(tbl, columns, checks)
    if not probes:
        return
    sel = ", ".join(f"CASE WHEN {cond} THEN {ident(name)} END" for name, _, _, _, _, cond in probes)
    where = " OR ".join(f"({cond})" for *_, cond in probes)
    for row in con.execute(f"SELECT {L}, {sel} FROM {view} WHERE {where}").fetchall():
        line = row[0]
        for (name, is_list, limit, what, allow_breaks, _), value in zip(probes, row[1:]):
            if value is None:
                continue
            reason = cell_reason(name, value if is_list else [value], limit, what, allow_breaks)
            if reason:
                errors.add(line, name, shown("|".join(value) if is_list else value), reason)


def _probes(tbl: Table, columns: set[str], checks: frozenset, alias: str = "") -> list[tuple]:
    """(column, is_list, limit, what, allow_breaks, SQL condition) for each column to check."""
    probes = []
    for col in tbl.columns:
        if col.name not in columns:
            continue
        c = alias + ident(col.name)
        is_text = col.type == "VARCHAR" or col.is_list
        limit, what = text_limit(col.name, tbl.key) if is_text else (TEXT_MAX_CHARS, "a short text cell")
        allow_breaks = col.name in LONG_TEXT_COLUMNS
        if col.is_list:
            size = f"coalesce(list_max(list_transform({c}, lambda x: strlen(x))), 0) > {limit}"
            text = f"array_to_string({c}, ' ')"
        else:
            size, text = f"strlen({c}) > {limit}", c
        conds = [size]
        # only what the file's bytes did not rule out: prose may hold line breaks, so it needs "forbidden"
        pattern = None
        if is_text and allow_breaks:
            pattern = FORBIDDEN_SQL if "forbidden" in checks else None
        elif is_text and checks & {"forbidden", "breaks"}:
            pattern = FORBIDDEN_OR_BREAK_SQL if "breaks" in checks else FORBIDDEN_SQL
        if pattern:
            conds.append(f"regexp_matches({text}, {lit(pattern)})")
        probes.append((col.name, col.is_list, limit, what, allow_breaks, " OR ".join(conds)))
    return probes


def cell_reason(name: str, values: list[str], limit: int, what: str, allow_breaks: bool) -> str | None:
    """Why one cell (or each element of a list cell) is refused: too long, or a character it may not hold."""
    for v in values:
        if v is None:
            continue
        if len(v) > limit:
            return f"{name} is {len(v):,} characters long; the limit for {what} is {limit:,}"
        bad = forbidden_char(v, allow_breaks)
        if bad:
            pos, ch = bad
            if ch in "\t\n\r":
                return (f"{name} holds a line break or tab ({char_name(ch)}) at position {pos + 1}; those are "
                        "allowed only in descriptions, abstracts, titles and notes")
            return (f"{name} holds the control character {char_name(ch)} at position {pos + 1}; "
                    "remove it from the file (it is never stored or stripped silently)")
    return None  # more bytes than the limit but not more characters (CJK text): fine
