"""Text as sources write it, made plain: HTML stripped, entities unescaped, traditional Chinese folded
to simplified, whitespace collapsed, length bounded.

One rule for every reader of free text: classification cleans descriptions and abstracts with it
(`analytics/classify/text.py` re-exports it and adds the stemmer) and entity resolution folds
organisation names with it (`sources/names.py`). It sits in `sources/`, below the store, so the
store's resolution steps can use it. The traditional → simplified fold is a character table built
once from OpenCC's dictionary, far faster than converting phrase by phrase.
"""

from __future__ import annotations

import functools
import html
import re
from pathlib import Path

MAX_CHARS = 20_000  # a 1 MB text is cut here: descriptions and abstracts are far shorter
TAG = re.compile(r"<[^>]{0,500}>")
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


@functools.lru_cache(maxsize=1)
def _t2s_table() -> dict[int, str]:
    import opencc

    path = Path(opencc.__file__).parent / "dictionary" / "TSCharacters.txt"
    table: dict[int, str] = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) == 2 and len(parts[0]) == 1:
                table[ord(parts[0])] = parts[1].split(" ")[0]
    return table


def has_cjk(text: str) -> bool:
    return not text.isascii() and CJK.search(text) is not None  # isascii: one C pass, no regex


def clean(text: object) -> str:
    """Plain, bounded, simplified-Chinese text; '' for empty or non-text input."""
    if text is None or (isinstance(text, float) and text != text):
        return ""
    s = str(text)
    if len(s) > MAX_CHARS:
        s = s[:MAX_CHARS]
    if "<" in s:
        s = TAG.sub(" ", s)
    if "&" in s:
        s = html.unescape(s)
    if has_cjk(s):
        s = s.translate(_t2s_table())
    # str.split() and re's \s agree on every code point (both are str.isspace): same result, 5× faster
    return " ".join(s.split())
