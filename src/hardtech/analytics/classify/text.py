"""Text normalisation shared by every classification signal.

One place decides how a description becomes comparable text: HTML fragments stripped, traditional
characters folded to simplified (a character table built once from OpenCC's dictionary, far
faster than converting phrase by phrase), and English words lightly stemmed. `units.py` cuts the
cleaned text into the units every signal reads, so a keyword that matches in one signal matches
in all.
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


_SUFFIXES = (("ational", "ate"), ("ization", "ize"), ("ations", "ate"), ("ation", "ate"), ("nesses", ""),
             ("ies", "y"), ("sses", "ss"), ("ing", ""), ("ed", ""), ("es", "e"), ("s", ""))
_KEEP = {"gas", "lens", "mass", "glass", "process", "class", "physics", "electronics", "optics",
         "photonics", "semiconductors", "materials", "genomics", "robotics", "analytics", "logistics",
         "aerospace", "bus", "news", "series", "species", "this", "its", "is", "was", "has", "as", "us",
         "plus", "status", "virus", "campus", "focus", "thus", "chassis", "biomass", "antibodies"}


@functools.lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """A light suffix stripper: plural and -ing/-ed/-ation forms meet their base form.

    Deliberately weak (no Porter rules): lexicon terms are stemmed the same way, so matching only
    needs both sides to agree, and a weak stemmer rarely merges unrelated words.
    """
    if len(word) <= 3 or word in _KEEP or not word.isalpha():
        return word
    if word.endswith("ics"):
        return word
    for suf, rep in _SUFFIXES:
        if word.endswith(suf) and len(word) - len(suf) >= 3:
            out = word[: -len(suf)] + rep
            if suf in ("ing", "ed") and len(out) > 3 and out[-1] == out[-2] and out[-1] not in "lsz":
                out = out[:-1]  # running → run, mapped → map
            return out
    return word
