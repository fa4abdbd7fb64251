"""Text normalisation shared by every classification signal.

One place decides how a description becomes comparable text: HTML fragments stripped, traditional
characters folded to simplified (a character table built once from OpenCC's dictionary, far
faster than converting phrase by phrase), and English words lightly stemmed. `units.py` cuts the
cleaned text into the units every signal reads, so a keyword that matches in one signal matches
in all.
"""

from __future__ import annotations

import functools

# the cleaning rule lives below the store (entity resolution folds names with it); re-exported here
from hardtech.sources.text import CJK, MAX_CHARS, TAG, clean, has_cjk  # noqa: F401

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
