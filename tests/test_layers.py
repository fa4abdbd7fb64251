"""Imports run one way: sources → store → analytics → services → presentation (issue 14, item 5).

Why: a layer that imports the one above it ties the engine to the screen (services importing the
report's renderer, sources importing the store that imports them), so neither can change or be
tested alone. Every `import hardtech…` in the package, at module level or inside a function, is
read from the source (nothing is imported) and checked against the order.

The upward imports that exist today are listed in KNOWN with what removes them; the list is strict
both ways: a new upward import fails, and so does a listed one that has gone (remove it from the list).

A second check keeps the presentation on the services: a presentation module importing sources, store
or analytics directly is listed in KNOWN_REACHES with what removes it, strict both ways as well.
"""

from __future__ import annotations

import ast
from pathlib import Path

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


def sql_texts(folder: Path) -> list[str]:
    """Calls in `folder` that hand SQL text to an engine: `.execute(…)`, `.sql(…)` or `.raw_sql(…)` with a
    string (or f-string) as first argument. Ibis's own `expr.execute()` takes no SQL and is not counted."""
    found = []
    for path in sorted(folder.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args
                    and node.func.attr in ("execute", "sql", "raw_sql")):
                continue
            first = node.args[0]
            if isinstance(first, ast.JoinedStr) or (isinstance(first, ast.Constant) and isinstance(first.value, str)):
                found.append(f"{path.relative_to(folder)}:{node.lineno}")
    return found


def test_the_sql_checker_sees_sql_text(tmp_path):
    (tmp_path / "m.py").write_text('def f(con, t):\n    t.count().execute()\n    con.execute("SET x = 1")\n'
                                   '    con.sql(f"SELECT {1}")\n', encoding="utf-8")
    assert sql_texts(tmp_path) == ["m.py:3", "m.py:4"]


def test_analytics_hands_no_sql_text_to_an_engine():
    # engine-specific SQL lives in store/ (issue 14): analytics speak Ibis, so they run on DuckDB and Spark alike
    assert sql_texts(PKG / "analytics") == []
