"""Regenerate src/hardtech/data/reference/iso3166.csv from Debian's iso-codes package.

    python scripts/make_iso3166.py [/usr/share/iso-codes/json/iso_3166-1.json]

The importer accepts a country only when it is one of these ISO 3166-1 codes (alpha-2 or
alpha-3), their English names, or an alias in countries.csv.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

SRC = Path(sys.argv[1] if len(sys.argv) > 1 else "/usr/share/iso-codes/json/iso_3166-1.json")
OUT = Path(__file__).resolve().parents[1] / "src" / "hardtech" / "data" / "reference" / "iso3166.csv"

rows = json.loads(SRC.read_text(encoding="utf-8"))["3166-1"]
with open(OUT, "w", newline="", encoding="utf-8") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["alpha2", "alpha3", "numeric", "name", "official_name", "common_name"])
    for r in sorted(rows, key=lambda r: r["alpha_2"]):
        w.writerow([r["alpha_2"], r["alpha_3"], r["numeric"], r["name"], r.get("official_name", ""),
                    r.get("common_name", "")])
print(f"wrote {len(rows)} countries to {OUT}")
