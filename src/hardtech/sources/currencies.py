"""Currencies as the importer accepts them: the ISO 4217 codes, current or withdrawn (`iso4217.csv`).

A currency cell is first read through the currency words (`RMB`, `人民币`, `US$` → an ISO code, in
`validate.CURRENCY_WORDS`); what is then not a code ISO 4217 ever assigned (`CNYY`, `RNB`, `XQZ`) is
rejected naming the value, because a typo stored there stops every later conversion of the row's
figures (a ranking of that year refuses to run) instead of being caught where it was written.
Withdrawn codes stay valid: financials of 2014 in LTL are real figures; whether a rate exists for them
is the FX table's question.
"""

from __future__ import annotations

import functools

from hardtech.sources.reference import reference_rows


@functools.lru_cache(maxsize=1)
def currency_codes() -> frozenset[str]:
    """Every ISO 4217 alphabetic code, current or withdrawn."""
    return frozenset(r["code"] for r in reference_rows("iso4217.csv"))
