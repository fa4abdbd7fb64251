"""The first applicant of a patent, out of an assignee field that may list several.

Patent exports join co-applicants with commas, and a legal form is itself written after a comma
("Huawei Technologies Co., Ltd., Futurewei Technologies, Inc."), so a plain split would cut names
in half. Pieces that are only a legal form are glued back to the name before them; the first whole
name is the applicant that entity resolution links to an organisation (`patents.applicant` keeps
the text as written).

Kept in `sources/` (a rule for reading what sources write) so the store's resolution steps use it
without importing upward.
"""

from __future__ import annotations

import functools
import re

from hardtech.sources.names import load_name_rules, _fold_text

_SEP = re.compile(r"\s*[,;，；、]\s*")
RECORD_PREFIX = "patent-applicant:"


def _is_legal_form(piece: str) -> bool:
    rules = load_name_rules()
    toks = tuple(_fold_text(piece).split())
    if not toks:
        return True
    return toks in rules.legal_latin.items or all((t,) in rules.legal_latin.items for t in toks)


@functools.lru_cache(maxsize=200_000)
def applicants(text: str | None) -> tuple[str, ...]:
    """Every applicant named in an assignee field, in order."""
    if text is None or not str(text).strip():
        return ()
    pieces = [p for p in _SEP.split(str(text).strip()) if p]
    names: list[str] = []
    for p in pieces:
        if names and _is_legal_form(p):
            names[-1] = f"{names[-1]}, {p}"
        else:
            names.append(p)
    return tuple(n.strip() for n in names if n.strip())


def first_applicant(text: str | None) -> str | None:
    a = applicants(text)
    return a[0] if a else None


def applicant_record_id(name: str) -> str:
    """The resolver's id for an applicant name (stable: the name as written)."""
    return RECORD_PREFIX + name
