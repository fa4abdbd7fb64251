"""JSON for responses: NaN and infinities become null, numpy scalars and dates become plain JSON.

Why not FastAPI's encoder: analytics return pandas/numpy values and NaN for "unknown", which
`json.dumps(allow_nan=False)` refuses (a 500); here unknown is always `null`.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from decimal import Decimal
from pathlib import Path
from typing import Any

from fastapi.responses import Response


def plain(v: Any) -> Any:
    if v is None or isinstance(v, (bool, str, int)):
        return v
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, dict):
        return {str(k): plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple, set)):
        return [plain(x) for x in v]
    if isinstance(v, (dt.date, dt.datetime, dt.time)):
        return v.isoformat()
    if isinstance(v, Decimal):
        return plain(float(v))
    if isinstance(v, Path):
        return v.name
    if hasattr(v, "tolist"):  # numpy arrays and scalars
        return plain(v.tolist())
    if hasattr(v, "item"):
        return plain(v.item())
    if hasattr(v, "__dataclass_fields__"):
        from dataclasses import asdict

        return plain(asdict(v))
    return str(v)


def dumps(obj: Any) -> bytes:
    return json.dumps(plain(obj), ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode("utf-8")


def encoded(fn, db) -> bytes:
    """dumps(fn(db)): an answer encoded where it is computed (in a worker), so the server only sends bytes.
    Use as `functools.partial(encoded, fn)`, which pickles when fn does."""
    return dumps(fn(db))


class JSONBytes(Response):
    """A JSON response whose body may already be encoded bytes (cached) or any object (encoded here)."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return content if isinstance(content, bytes) else dumps(content)
