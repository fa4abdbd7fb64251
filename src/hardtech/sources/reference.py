"""The reference tables shipped in `hardtech/data/reference/` (countries, ISO 3166, ISO 4217), read one way."""

from __future__ import annotations

import csv
from importlib import resources


def reference_rows(name: str) -> list[dict]:
    """The rows of one reference CSV, as dicts by header."""
    path = resources.files("hardtech.data") / "reference" / name
    with open(str(path), encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))
