"""Funding stages as people write them (`A轮`, `Series B+`, `天使轮`, `Pre-IPO`) → one vocabulary.

The patterns live here, in one ordered list, because stage order matters to flows and matching
(a seed round is not a growth round) and every importer must agree on it.
"""

from __future__ import annotations

from hardtech.sources.transform import lit

# (regular expression on the lower-cased, space-free text, stage); first match wins
STAGE_PATTERNS: list[tuple[str, str]] = [
    (r"pre-?ipo", "pre_ipo"),
    (r"^ipo|上市|首发", "ipo"),
    (r"天使|angel", "angel"),
    (r"种子|seed", "seed"),
    (r"pre-?a|a轮前", "pre_a"),
    (r"^(series)?a\+|^a\+轮", "a_plus"),
    (r"^(series)?a(轮|round|$)|^a-?\d", "a"),
    (r"^(series)?b\+|^b\+轮", "b_plus"),
    (r"^(series)?b(轮|round|$)|^b-?\d", "b"),
    (r"^(series)?c(轮|round|\+|$)|^c-?\d", "c"),
    (r"^(series)?d(轮|round|\+|$)", "d"),
    (r"^(series)?e(轮|round|\+|$)", "e"),
    (r"^(series)?[f-j](轮|round|\+|$)", "f"),
    (r"战略|strategic", "strategic"),
    (r"债|debt|loan|可转", "debt"),
    (r"grant|补助|资助", "grant"),
    (r"growth|成长|pe|私募|late", "growth"),
    (r"cumulative|total|累计", "cumulative"),
]


def stage_case_sql(col: str) -> str:
    norm = f"regexp_replace(lower(coalesce({col}, '')), '[\\s_]+', '', 'g')"
    whens = " ".join(f"WHEN regexp_matches({norm}, {lit(p)}) THEN {lit(s)}" for p, s in STAGE_PATTERNS)
    return f"(CASE WHEN {col} IS NULL THEN NULL {whens} ELSE 'unknown' END)"


def normalise_stage(text: str | None) -> str | None:
    import re

    if text is None:
        return None
    norm = re.sub(r"[\s_]+", "", text.lower())
    for pattern, stage in STAGE_PATTERNS:
        if re.search(pattern, norm):
            return stage
    return "unknown"
