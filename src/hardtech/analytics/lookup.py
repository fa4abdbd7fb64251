"""Finding an organisation (or an investor) by what a user types: its id, a name or an alias.

One rule for every command and page that takes a name (`hardtech star Huawei`, `score`, `decade`,
`match startup`, `match investor`, the API's profiles): the id, the English name (any case), the
Chinese name, or any alias (any case). An exact id wins even when another entity is called the
same; two entities that share a name are an error that lists their ids; no match suggests near
names. Written once as Ibis expressions over the entity table, so it runs on any engine.
"""

from __future__ import annotations

import ibis.expr.types as ir

from hardtech.errors import NotFound, UsageError


def matches(table: ir.Table, text: str, id_col: str) -> list[str]:
    """The ids whose id, English name (case-insensitive), Chinese name or an alias (case-insensitive) is `text`."""
    t, low = table, text.lower()
    conds = [t[id_col] == text]
    if "name_en" in t.columns:
        conds.append(t.name_en.lower() == low)
    if "name_zh" in t.columns:
        conds.append(t.name_zh == text)
    hit = conds[0]
    for c in conds[1:]:
        hit = hit | c
    ids = set(t.filter(hit).select(id_col).to_pyarrow().column(0).to_pylist())
    if "aliases" in t.columns:
        a = t.select(id_col, _alias=t.aliases.unnest())
        ids |= set(a.filter(a._alias.lower() == low).select(id_col).to_pyarrow().column(0).to_pylist())
    return sorted(ids)


def near(table: ir.Table, text: str, id_col: str, n: int = 5) -> list[str]:
    """Up to `n` entities whose name contains `text`, as 'name (id)': a hint for a name that matched nothing."""
    t, low = table, text.lower()
    name = t.name_en.fill_null("") if "name_en" in t.columns else None
    zh = t.name_zh.fill_null("") if "name_zh" in t.columns else None
    cond = None
    for c in ((name.lower().contains(low)) if name is not None else None, zh.contains(text) if zh is not None else None):
        if c is not None:
            cond = c if cond is None else cond | c
    if cond is None:
        return []
    label = t.name_en if "name_en" in t.columns else t.name_zh
    if "name_en" in t.columns and "name_zh" in t.columns:
        label = t.name_en.coalesce(t.name_zh)
    got = t.filter(cond).select(label=label, id=t[id_col]).order_by("id").limit(n).to_pyarrow().to_pylist()
    return [f"{r['label']} ({r['id']})" for r in got]


def find(table: ir.Table, text: str, id_col: str = "org_id", what: str = "organisation") -> str:
    """The one id `text` names; NotFound (with near names) when none, UsageError (with the ids) when several."""
    ids = matches(table, text, id_col)
    if not ids:
        hint = near(table, text, id_col)
        raise NotFound(f"no {what} {text!r} in the store" + (f"; did you mean: {', '.join(hint)}" if hint else ""))
    if len(ids) > 1 and text in ids:
        return text  # an exact id is unambiguous, whatever other entities are called
    if len(ids) > 1:
        raise UsageError(f"{text!r} matches several {what}s: {', '.join(ids[:8])}; give the id")
    return ids[0]


def missing(table: ir.Table, ids: list[str], id_col: str = "org_id") -> list[str]:
    """Those of `ids` that are not in the table, in the order given."""
    found = set(table.filter(table[id_col].isin(list(ids))).select(id_col).to_pyarrow().column(0).to_pylist())
    return [i for i in ids if i not in found]
