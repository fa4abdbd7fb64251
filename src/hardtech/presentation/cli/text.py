"""The CLI's words and numbers for people, in English or Chinese (`data/i18n/cli.toml`).

Why a data file: a translator edits TOML, not code, and a key missing in either language fails at
load time instead of printing a key. It reuses the white paper's `Translator` (field and typology
names, joining) with the CLI's own strings. Why units per column: a table for people shows 15.3 %,
EUR 1.23 bn and 88.9, while json/csv/parquet keep the full-precision value the table was made from;
the unit of each column is declared once, in the same file, beside its header.
"""

from __future__ import annotations

import functools
import math
import os
import tomllib
from importlib import resources
from typing import Any

from hardtech.presentation.report.i18n import Translator

LANG_ENV = "HARDTECH_LANG"
UNITS = ("money", "ratio_pct", "pct", "score", "score01", "prob", "count", "lq", "index", "year", "percentile",
         "text")
YES_NO = {True: "yes", False: "no"}


def _flatten(d: dict, prefix: str = "") -> dict[str, Any]:
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


@functools.lru_cache(maxsize=1)
def cli_strings() -> dict:
    """{'en': {key: text}, 'zh': {...}, 'units': {column: unit}, 'currency_of': {column: currency column}}."""
    doc = tomllib.loads((resources.files("hardtech.data") / "i18n" / "cli.toml").read_text("utf-8"))
    en, zh = _flatten(doc["en"]), _flatten(doc["zh"])
    if set(en) != set(zh):
        raise RuntimeError(f"cli.toml: keys only in en {sorted(set(en) - set(zh))}, "
                           f"only in zh {sorted(set(zh) - set(en))}")
    units = dict(doc.get("units", {}))
    bad = {c: u for c, u in units.items() if u.split(":", 1)[0] not in UNITS}
    if bad:
        raise RuntimeError(f"cli.toml [units]: unknown unit(s) {bad}; known: {', '.join(UNITS)}")
    return {"en": en, "zh": zh, "units": units, "currency_of": dict(doc.get("currency_of", {}))}


def default_lang() -> str:
    return os.environ.get(LANG_ENV, "en") or "en"


class CliText(Translator):
    """`t(key, **kw)` for a message, `t.col(id)` for a column header, `t.cell(v, unit, row)` for a value."""

    def __init__(self, lang: str | None = None):
        super().__init__(lang or default_lang())  # an unknown language is a UsageError there
        self.strings = cli_strings()[self.lang]

    def has(self, key: str) -> bool:
        return key in self.strings

    def col(self, column: str) -> str:
        """A column's header for people; a field, typology or STAR verdict id as a column (a confusion matrix, a
        count per verdict) is named in this language; any other column the file does not know keeps its id."""
        if f"col.{column}" in self.strings:
            return self.strings[f"col.{column}"]
        from hardtech.services.taxonomy import load_taxonomy

        tax = load_taxonomy()
        if column in tax.typology:
            return self.typology(column)
        if column in tax.fields:
            return self.field(column)
        from hardtech.services.search import STAR_VERDICTS

        if column in STAR_VERDICTS:  # a count per STAR verdict (the demo's STAR table)
            return self.verdict(column)
        return column

    def unit_of(self, column: str, overrides: dict[str, str] | None = None) -> str:
        if overrides and column in overrides:
            return overrides[column]
        return cli_strings()["units"].get(column, "text")

    # values -------------------------------------------------------------------------------

    def money(self, v, ccy: str | None) -> str:
        """EUR 1.23 bn / EUR 105.0 m / EUR 112,663 (en); 1.23 亿 EUR / 105.0 万 EUR below 1 亿 (zh)."""
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return ""
        ccy = ccy or ""
        for scale, key, digits in ((1e9, "unit.bn", 2), (1e6, "unit.m", 1)) if self.lang == "en" else \
                ((1e8, "unit.yi", 2), (1e4, "unit.wan", 1)):
            if abs(v) >= scale:
                return self(key, v=f"{v / scale:,.{digits}f}", ccy=ccy).strip()
        return self("unit.plain", v=f"{v:,.0f}", ccy=ccy).strip()

    def number(self, v: float) -> str:
        """A float rounded for reading: 0 decimals from 100, 2 from 1, else 3 significant digits."""
        if math.isnan(v) or math.isinf(v):
            return ""
        a = abs(v)
        if a >= 100 or v == int(v):
            return f"{v:,.0f}"
        if a >= 1:
            return f"{v:,.2f}"
        return f"{v:.3g}"

    def cell(self, v: Any, unit: str = "text", row: dict | None = None, column: str = "") -> str:
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return ""
        if isinstance(v, bool):
            return self(f"word.{YES_NO[v]}")
        if isinstance(v, (list, tuple)):  # sentences one per line, short items on one line
            items = [self.cell(x, unit, row, column) for x in v]
            return ("\n" if any(" " in x for x in items) else "; ").join(items)
        if isinstance(v, dict):
            if unit == "money":  # {currency: amount}: each amount already says its currency
                return "; ".join(self.cell(x, f"money:{k}") for k, x in v.items() if x is not None)
            return ", ".join(f"{k}: {self.cell(x, self._leaf_unit(unit, k), row, column) or '—'}"
                             for k, x in v.items())
        kind, _, arg = unit.partition(":")
        if not isinstance(v, (int, float)):
            return str(v)
        if kind == "money":
            ccy = arg or self._currency(row, column)
            return self.money(float(v), ccy)
        if kind == "ratio_pct":
            return f"{v * 100:,.1f} %"
        if kind == "pct":
            return f"{v:,.1f} %"
        if kind == "score":
            return f"{v:.1f}"
        if kind in ("score01", "prob"):
            return f"{v:.2f}" if kind == "prob" else f"{v:.3f}"
        if kind == "lq":
            return f"{v:.2f}"
        if kind == "index":
            return f"{v:.3f}"
        if kind == "count":
            return f"{v:,.0f}"
        if kind == "percentile":
            return f"{v:.0f}"
        if kind == "year":
            return str(int(v)) if float(v).is_integer() else str(v)
        if isinstance(v, int):
            return f"{v:,}"
        return self.number(float(v))

    def _leaf_unit(self, unit: str, key: Any) -> str:
        """The unit of a value inside a dict cell: a known column name has its own unit; a year-like key is
        a year; anything else is shown as it is."""
        key = str(key)
        units = cli_strings()["units"]
        if key in units:
            return units[key]
        if key.endswith(("year", "_start", "founded")):
            return "year"
        return "text"

    def _currency(self, row: dict | None, column: str) -> str:
        if not row:
            return ""
        src = cli_strings()["currency_of"].get(column, "currency")
        c = row.get(src)
        return str(c) if c else ""
