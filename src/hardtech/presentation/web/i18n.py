"""Interface strings in English and Chinese, from `i18n.json` beside this module (documented in docs/api.md).

Why a data file: translators edit one JSON file; a test checks both languages have the same keys,
and a missing key shows as the key itself rather than failing a page.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

LANGS = ("en", "zh")


@lru_cache(maxsize=1)
def strings() -> dict[str, dict[str, str]]:
    return json.loads((resources.files("hardtech.presentation.web") / "i18n.json").read_text(encoding="utf-8"))


def translator(lang: str):
    table = strings().get(lang if lang in LANGS else "en", {})
    fallback = strings()["en"]

    def t(key: str) -> str:
        return table.get(key) or fallback.get(key) or key

    return t
