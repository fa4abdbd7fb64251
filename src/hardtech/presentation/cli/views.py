"""Readable layouts of answers too wide or too nested for one table row per record (tables for people only).

json/csv/parquet get the service's rows as they are; these views choose, for a terminal, the few
columns a reader compares and put each value beside its unit.
"""

from __future__ import annotations

from typing import Any

from hardtech.services.taxonomy import load_taxonomy

# The unit of `rank`'s `value` column for each `--by`.
RANK_VALUE_UNITS = {"rd": "money", "cumulative": "money", "intensity": "ratio_pct", "growth": "pct"}


def region_table_rows(rows: list[dict], lang: str = "en") -> list[dict]:
    """`regions list` for people: the region's name in the reader's language, the eight `n_*`/`lq_*` pairs
    folded into one `fields` cell (fields with organisations only, most first), R&D beside its currency,
    funding in USD."""
    fields = list(load_taxonomy().fields)
    out = []
    for r in rows:
        present = sorted(((f, r.get(f"n_{f}") or 0, r.get(f"lq_{f}")) for f in fields if r.get(f"n_{f}")),
                         key=lambda x: -x[1])
        cell = "; ".join(f"{f} {n}" + (f" (LQ {lq:.2f})" if lq is not None else "") for f, n, lq in present)
        rd = r.get("rd_by_currency") or ({r["rd_currency"]: r["rd_total"]} if r.get("rd_total") is not None else {})
        name = (r.get("region_zh") or r.get("region")) if lang == "zh" else r.get("region")
        out.append({"region": name, "organizations": r.get("organizations"),
                    "hard_tech_fields": cell or None, "rd_by_currency": rd or None, "funding_usd": r.get("funding_usd"),
                    "rounds": r.get("rounds"), "universities": r.get("universities"), "institutes": r.get("institutes"),
                    "hhi": r.get("hhi")})
    return out


def compare_rows(d: dict, t) -> list[dict]:
    """`regions compare` for people: one row per factor, its label and unit in the reader's language, each
    region's value formatted in that unit (capital with its rounds), `no data` where there is none."""
    rows = []
    for f, leader in d.get("leaders", {}).items():
        unit = None
        row: dict[str, Any] = {"factor": t(f"factor.{f}") if t.has(f"factor.{f}") else f}
        values = {}
        for n, card in d["regions"].items():
            fac = (card.get("factors") or {}).get(f) or {}
            unit = unit or fac.get("unit")
            values[n] = _factor_value(f, fac, t)
        row["unit"] = t(f"factor_unit.{f}") if t.has(f"factor_unit.{f}") else unit  # user factors: their own unit
        row.update(values)
        if leader is None:
            row["leads"] = "—"
        elif leader.startswith("tie: "):
            row["leads"] = t("word.tie", who=leader[5:])
        else:
            row["leads"] = leader
        rows.append(row)
    return rows


def _factor_value(name: str, fac: dict, t) -> str:
    v = fac.get("value")
    if v is None:
        return t("no_data")
    if name == "capital":
        rounds = (fac.get("inputs") or {}).get("rounds")
        money = t.money(float(v), "USD")
        return t("word.with_rounds", value=money, n=rounds) if rounds else money
    return t.cell(v, "count")
