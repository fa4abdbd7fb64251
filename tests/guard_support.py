"""Helpers shared by the guard tests (tests/test_guard_*.py): the application's route table, flattened.

FastAPI keeps included routers as nested objects (`app.routes` lists them, not their routes); the
guard tests enumerate every route a server answers, so they walk the nesting with FastAPI's own
iterator when it has one.
"""

from __future__ import annotations


def app_routes(app) -> list[tuple[str, set[str], object]]:
    """(path, methods, route) for every route of `app`; `route` is the APIRoute (it has `.dependant`)."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # older FastAPI: included routes are flattened into app.routes
        return [(r.path, set(getattr(r, "methods", None) or ()), r) for r in app.routes if hasattr(r, "path")]
    out = []
    for rc in iter_route_contexts(app.routes):
        if rc.path is not None:
            out.append((rc.path, set(getattr(rc, "methods", None) or ()), rc.original_route))
    return out
