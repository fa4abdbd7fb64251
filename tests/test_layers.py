"""Imports run one way: sources → store → analytics → services → presentation (issue 14, item 5).

Why: a layer that imports the one above it ties the engine to the screen (services importing the
report's renderer, sources importing the store that imports them), so neither can change or be
tested alone. Every `import hardtech…` in the package, at module level or inside a function, is
read from the source (nothing is imported) and checked against the order.

The upward imports that exist today are listed in KNOWN with what removes them; the list is strict
both ways: a new upward import fails, and so does a listed one that has gone (remove it from the list).

A second check keeps the presentation on the services: a presentation module importing sources, store
or analytics directly is listed in KNOWN_REACHES with what removes it, strict both ways as well.

A third keeps engine SQL in store/ (issue 14, item 1): analytics and services hand no SQL to an engine
and hold no SQL text (`sql_texts`); the files still being converted are listed in SQL_EXEMPT.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Iterable

PKG = Path(__file__).resolve().parents[1] / "src" / "hardtech"
LAYERS = ("sources", "store", "analytics", "services", "presentation")
# modules outside the five folders: their place in the order
PLACED = {
    "errors": -1,  # the exceptions every layer raises
    "schema": -1,  # the declared tables and columns: sources validate by them, the store creates them
    "cellsafety": -1,  # spreadsheet-formula neutralising: a pure helper every layer may use
    "bundled": LAYERS.index("store"),  # imports the shipped files into a store
    "tools": LAYERS.index("store"),  # data generators (synthetic universe): write files the importer loads
    "demo": LAYERS.index("services"),  # builds the demo store through the services
}
UNPLACED_OK = {"__init__", "__main__", "data"}

# (importer, imported) → what removes it. Empty since issue 14 item 5 (schema at the bottom, resolution
# rules and text cleaning in sources/, the synthetic generator in tools/, the paper in presentation/).
KNOWN: dict[tuple[str, str], str] = {}

# Presentation reaches data only through the services (issue 14 item 5): each presentation module that still
# imports sources, store or analytics directly, with what removes it. Strict both ways, like KNOWN.
# 36 such pairs on 2026-12-06 before item 5's moves, 18 once the API's rankings took the engine's store, none
# since the store file, screening, imports, uploads and the STAR rules' text went through services (store_file,
# screening, data, scoring).
KNOWN_REACHES: dict[tuple[str, str], str] = {}


def level(module: str) -> int | None:
    parts = module.split(".")
    if len(parts) < 2 or parts[0] != "hardtech":
        return None
    if parts[1] in LAYERS:
        return LAYERS.index(parts[1])
    return PLACED.get(parts[1])


def imports(path: Path) -> set[str]:
    """Every absolute `hardtech…` module the file imports, wherever the import statement stands."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names
                         if (PKG / Path(*node.module.split(".")[1:]) / a.name).is_dir()
                         or (PKG / Path(*node.module.split(".")[1:]) / f"{a.name}.py").exists())
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level:
            raise AssertionError(f"{path}: relative import; hardtech imports absolutely so this test can read them")
    return {m for m in found if m == "hardtech" or m.startswith("hardtech.")}


def upward() -> dict[tuple[str, str], int]:
    found = {}
    for f in sorted(PKG.rglob("*.py")):
        module = "hardtech." + ".".join(f.relative_to(PKG).with_suffix("").parts)
        mine = level(module)
        if mine is None:
            assert module.split(".")[1] in UNPLACED_OK, f"{module} has no place in the layer order: add it to PLACED"
            continue
        for target in imports(f):
            theirs = level(target)
            if theirs is not None and theirs > mine:
                found[(module, target)] = theirs - mine
    return found


def reaches() -> set[tuple[str, str]]:
    """(presentation module, sources/store/analytics module) for every direct import past the services."""
    below = {LAYERS.index(x) for x in ("sources", "store", "analytics")}
    found = set()
    for f in sorted((PKG / "presentation").rglob("*.py")):
        module = "hardtech." + ".".join(f.relative_to(PKG).with_suffix("").parts)
        found.update((module, t) for t in imports(f) if level(t) in below)
    return found


def test_the_checker_sees_an_upward_import(tmp_path):
    """The reader finds imports inside functions too (where most of the upward ones hide)."""
    f = tmp_path / "x.py"
    f.write_text("def f():\n    from hardtech.presentation.cli.app import app\n    import hardtech.services\n")
    assert imports(f) == {"hardtech.presentation.cli.app", "hardtech.services"}
    assert level("hardtech.presentation.cli.app") > level("hardtech.store.engine")


def test_no_new_upward_import():
    new = sorted(set(upward()) - set(KNOWN))
    assert not new, "imports that run upward (sources → store → analytics → services → presentation):\n" + \
        "\n".join(f"  {a} imports {b}" for a, b in new)


def test_known_upward_imports_still_exist():
    gone = sorted(set(KNOWN) - set(upward()))
    assert not gone, "no longer upward, remove from KNOWN:\n" + "\n".join(f"  {a} → {b}" for a, b in gone)


def test_no_new_presentation_reach_past_the_services():
    new = sorted(reaches() - set(KNOWN_REACHES))
    assert not new, "presentation imports that skip the services (reach data through hardtech.services):\n" + \
        "\n".join(f"  {a} imports {b}" for a, b in new)


def test_known_presentation_reaches_still_exist():
    gone = sorted(set(KNOWN_REACHES) - reaches())
    assert not gone, "no longer imported, remove from KNOWN_REACHES:\n" + "\n".join(f"  {a} → {b}" for a, b in gone)


# SQL text as it reads in a string: a query, a statement or a FROM clause with a join (upper-case keywords, as this
# project writes SQL). Docstrings are not read, so a docstring may name a statement.
SQL_SHAPE = re.compile(r"\bSELECT\b[\s\S]*\bFROM\b|\bINSERT INTO\b|\bDELETE FROM\b|\bUPDATE\s+\w+\s+SET\b"
                       r"|\b(?:CREATE|DROP|ALTER) TABLE\b|\bJOIN\b|\bSET\s+\w+\s*=")
ENGINE_CALLS = ("execute", "executemany", "sql", "raw_sql")  # with an argument, they take SQL
ARROW_REGISTRATION = ("register", "unregister")  # DuckDB's `con.register("name", arrow_table)`

# Files not yet checked, with what removes them from this list; strict both ways (an exempt file that no longer
# hands SQL to an engine fails test_sql_exemptions_still_needed).
SQL_EXEMPT: dict[str, str] = {}


def _docstrings(tree: ast.AST) -> set[int]:
    return {id(n.body[0].value) for n in ast.walk(tree)
            if isinstance(n, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and n.body
            and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}


def _text(node: ast.AST) -> str | None:
    """A string literal's text; an f-string's with each `{…}` as `?`."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "?" for v in node.values)
    return None


def sql_texts(folder: Path, skip: Iterable[str] = ()) -> list[str]:
    """Places in `folder` (`file:line`) that hand SQL to an engine or hold SQL text:

    - `.execute(…)`, `.executemany(…)`, `.sql(…)` or `.raw_sql(…)` with any positional argument (a literal, an
      f-string, a variable, `*args`): Ibis's own `expr.execute()` takes no SQL and is not counted;
    - `.register("name", …)` / `.unregister("name")`: DuckDB's registration of an Arrow table for SQL to read;
    - a string or f-string shaped like SQL (SQL_SHAPE), such as a FROM clause handed on to a store function.
    Files named in `skip` (paths relative to `folder`) are not read; `folder` may be one file."""
    found = set()
    paths = [folder] if folder.is_file() else sorted(folder.rglob("*.py"))
    for path in paths:
        rel = path.name if folder.is_file() else path.relative_to(folder).as_posix()
        if rel in skip:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docs = _docstrings(tree)
        inside_fstrings = {id(v) for n in ast.walk(tree) if isinstance(n, ast.JoinedStr) for v in n.values}
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args:
                if node.func.attr in ENGINE_CALLS or (node.func.attr in ARROW_REGISTRATION
                                                      and isinstance(_text(node.args[0]), str)):
                    found.add((rel, node.lineno))
            elif id(node) not in docs and id(node) not in inside_fstrings:
                text = _text(node)
                if text is not None and SQL_SHAPE.search(text):
                    found.add((rel, node.lineno))
    return [f"{f}:{n}" for f, n in sorted(found)]


def test_the_sql_checker_sees_sql_text(tmp_path):
    (tmp_path / "m.py").write_text('def f(con, t):\n    t.count().execute()\n    con.execute("SET x = 1")\n'
                                   '    con.sql(f"SELECT {1}")\n', encoding="utf-8")
    assert sql_texts(tmp_path) == ["m.py:3", "m.py:4"]


def test_the_sql_checker_sees_the_old_services(tmp_path):
    """Shapes taken from services before issue 14 moved their SQL to store/ (tokens.py, data.py, classify.py,
    watchlists.py at 1ba0e10): a bound query, a query in a variable, `*args`, a registered Arrow table, a FROM
    clause kept as a constant, an f-string statement. Ibis calls, a docstring naming SQL and messages are not SQL."""
    (tmp_path / "svc.py").write_text(
        '"""Tokens: one SELECT name FROM api_tokens, never shown."""\n'
        'ORG_SOURCE = """organizations o LEFT JOIN (SELECT 1) f ON true"""\n'
        'def f(store, con, q, params, data, t, name, where):\n'
        '    """DELETE FROM x is not run here."""\n'
        '    store.con.execute("SELECT count(*) FROM api_tokens WHERE name = ?", [name])\n'
        '    store.con.execute(q, params)\n'
        '    store.con.execute(*_selected(q, "o.org_id"))\n'
        '    con.register("new_cls", data)\n'
        '    con.unregister("new_cls")\n'
        '    n = f"DELETE FROM watchlists WHERE {where}"\n'
        '    t.count().execute()\n'
        '    t.filter(t.x == 1).execute(limit=10)\n'
        '    atexit.register(f)\n'
        '    raise ValueError(f"select a name from the list: {name}")\n', encoding="utf-8")
    assert sql_texts(tmp_path) == [f"svc.py:{n}" for n in (2, 5, 6, 7, 8, 9, 10)]
    assert sql_texts(tmp_path, skip={"svc.py"}) == []


def test_analytics_hands_no_sql_text_to_an_engine():
    # engine-specific SQL lives in store/ (issue 14): analytics speak Ibis, so they run on DuckDB and Spark alike
    assert sql_texts(PKG / "analytics") == []


def test_services_hand_no_sql_text_to_an_engine():
    # the services call store/ for every statement (issue 14: tokens, watchlists, classify, resolve, data,
    # store_file moved theirs to store/); the files in SQL_EXEMPT are still being converted
    skip = {k.removeprefix("services/") for k in SQL_EXEMPT if k.startswith("services/")}
    assert sql_texts(PKG / "services", skip) == []


def test_the_demo_hands_no_sql_text_to_an_engine():
    # hardtech/demo.py sits at the services' level (LEVEL["demo"]): its reads are in store/demo_reads.py
    assert sql_texts(PKG / "demo.py") == []


def test_sql_exemptions_still_needed():
    gone = [k for k in SQL_EXEMPT
            if not any(x.startswith(Path(k).name + ":") for x in sql_texts(PKG / Path(k).parent))]
    assert not gone, "no SQL text left, remove from SQL_EXEMPT:\n" + "\n".join(f"  {k}" for k in gone)
