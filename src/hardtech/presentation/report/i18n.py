"""Report strings in English and Chinese (strings.toml) and the number formats of each language.

One translator object per report keeps every sentence in the data file, so a translator edits
TOML, not code; a key missing in either language fails at load time rather than printing a key.
"""

from __future__ import annotations

import functools
import math
import tomllib
from importlib import resources

from hardtech.errors import UsageError

LANGS = ("en", "zh")


@functools.lru_cache(maxsize=1)
def _strings() -> dict[str, dict[str, str]]:
    doc = tomllib.loads((resources.files("hardtech.data") / "report" / "strings.toml").read_text("utf-8"))
    en, zh = set(doc["en"]), set(doc["zh"])
    if en != zh:
        raise RuntimeError(f"strings.toml: keys only in en {sorted(en - zh)}, only in zh {sorted(zh - en)}")
    return doc


class Translator:
    def __init__(self, lang: str):
        from hardtech.presentation.labels import Labels

        if lang not in LANGS:
            raise UsageError(f"unknown language {lang!r}: en or zh")
        self.lang = lang
        self.strings = _strings()[lang]
        self.L = Labels(lang)  # names of fields, typologies, kinds, verdicts, places (data/i18n/labels.toml)

    def __call__(self, key: str, **kw) -> str:
        return self.strings[key].format(**kw) if kw else self.strings[key]

    def field(self, field_id: str | None) -> str:
        """A field's name in this language; 'none' is none of the eight."""
        return self.L.field(field_id)

    def typology(self, typ: str | None) -> str:
        return self.L.typology(typ)

    def verdict(self, verdict: str | None) -> str:
        return self.L.verdict(verdict)

    def axis_bn(self, what: str, ccy: str) -> str:
        """An axis title for amounts in billions: 'R&D (EUR bn)' / '研发投入（十亿 EUR）'."""
        return self("axis_bn", what=what, ccy=ccy)

    def region(self, row: dict) -> str:
        """A `region_rows` row's name in this language (the English name when it has no Chinese one)."""
        return row["region"] if self.lang == "en" else (row.get("region_zh") or row["region"])

    def join(self, items) -> str:
        return ("、" if self.lang == "zh" else ", ").join(items)

    # numbers ------------------------------------------------------------------------------

    def money(self, v, ccy: str | None) -> str:
        """Amounts as bn/m (en) or 十亿/百万 (zh) with two decimals; missing is 'no data'."""
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return self("no_data")
        ccy = ccy or ""
        if abs(v) >= 1e9:
            return self("unit_bn", v=f"{v / 1e9:,.2f}", ccy=ccy).strip()
        return self("unit_m", v=f"{v / 1e6:,.1f}", ccy=ccy).strip()

    def num(self, v, digits: int = 1) -> str:
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return self("no_data")
        if isinstance(v, int) or (isinstance(v, float) and v.is_integer() and digits == 0):
            return f"{int(v):,}"
        return f"{v:,.{digits}f}"

    def pct(self, v, digits: int = 1) -> str:
        """A ratio (0.153) as a percentage (15.3%)."""
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return self("no_data")
        return f"{v * 100:.{digits}f}%"
