"""Regenerate src/hardtech/data/reference/iso4217.csv from the datasets/currency-codes table.

    python scripts/make_iso4217.py path/to/codes-all.csv

`codes-all.csv` is https://github.com/datasets/currency-codes (data/codes-all.csv; ODC-PDDL-1.0, the
ISO 4217 lists published by SIX on behalf of ISO). The importer accepts a currency only when it is one
of these codes, current or withdrawn (financials of 2014 in LTL are real figures), after reading
currency words (`RMB`, `人民币`, `US$`) as codes; anything else (`CNYY`, `RNB`) is rejected with its line.
"""

from __future__ import annotations

import csv
import re
import sys
from pathlib import Path

SRC = Path(sys.argv[1])
OUT = Path(__file__).resolve().parents[1] / "src" / "hardtech" / "data" / "reference" / "iso4217.csv"

codes: dict[str, dict] = {}
with open(SRC, encoding="utf-8", newline="") as f:
    for r in csv.DictReader(f):
        code = (r["AlphabeticCode"] or "").strip()
        if not re.fullmatch(r"[A-Z]{3}", code):
            continue  # territories with no currency of their own
        withdrawn = (r.get("WithdrawalDate") or "").strip()
        row = {"code": code, "name": " ".join(r["Currency"].split()), "withdrawn": withdrawn}
        old = codes.get(code)
        # a code in use wins over its withdrawn uses elsewhere (EUR withdrawn in Serbia and Montenegro); of
        # withdrawn uses, the last
        if old is None or (old["withdrawn"] and (not withdrawn or withdrawn[:7] > old["withdrawn"][:7])):
            codes[code] = row
with open(OUT, "w", newline="", encoding="utf-8") as f:
    w = csv.DictWriter(f, ["code", "name", "withdrawn"], lineterminator="\n")
    w.writeheader()
    w.writerows(sorted(codes.values(), key=lambda r: r["code"]))
print(f"wrote {len(codes)} codes ({sum(not r['withdrawn'] for r in codes.values())} current) to {OUT}")
