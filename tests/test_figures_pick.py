"""`analytics.figures.pick` (the one-figure-per-organisation-year rule) against the rule written plainly in Python.

The engine pick chooses only where an organisation-year has several rows and passes the rows alone
in their year through (issue 14); these tests build financials of three sources that overlap on some
organisation-years only, with NULL figures, NULL currencies and ties of import time, and compare every
output column with a Python reading of the rule: each figure from the newest import that has it,
ties by source name; `currency` from the newest row; `{c}_ccy` from the row `c` came from.
"""

from __future__ import annotations

import datetime as dt
import random

import pytest

from hardtech.analytics.figures import pick

COLS = ("rd_expense", "revenue", "employees")
MONEY = ("rd_expense", "revenue")
SOURCES = ("a panel", "b filing", "c registry")
AT = (dt.datetime(2024, 1, 1), dt.datetime(2025, 6, 1))


def _rows(seed: int) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    for o in range(40):
        for y in range(2018, 2022):
            k = rng.choice((0, 1, 1, 1, 2, 3))  # most org-years have one row, some several, some none
            for src in rng.sample(SOURCES, k):
                rows.append({
                    "org_id": f"o{o}", "fiscal_year": y, "source_name": src, "imported_at": rng.choice(AT),
                    "currency": rng.choice(("cny", "USD", None)),
                    **{c: (None if rng.random() < 0.3 else float(rng.randint(1, 999))) for c in COLS}})
    return rows


def _insert(store, rows):
    cols = ("org_id", "fiscal_year", "source_name", "imported_at", "currency", *COLS)
    store.con.executemany(f"INSERT INTO financials ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                          [[r[c] for c in cols] for r in rows])


def _expected(rows, columns, years=None) -> dict:
    """The rule, plainly: per org-year, rows newest import first, then source name A→Z."""
    groups: dict = {}
    for r in rows:
        if years is not None and r["fiscal_year"] not in years:
            continue
        if len(columns) == 1 and r[columns[0]] is None:  # a single column keeps the years that have it
            continue
        groups.setdefault((r["org_id"], r["fiscal_year"]), []).append(r)
    out = {}
    for key, rs in groups.items():
        rs = sorted(rs, key=lambda r: (-r["imported_at"].timestamp(), r["source_name"]))
        ccy = rs[0]["currency"].upper() if rs[0]["currency"] else None
        got = {"currency": ccy}
        for c in columns:
            have = [r for r in rs if r[c] is not None]
            got[c] = have[0][c] if have else None
            if c in MONEY:
                got[f"{c}_ccy"] = (have[0]["currency"].upper() if have and have[0]["currency"] else None)
            got[f"{c}_source"] = have[0]["source_name"] if have else None
        out[key] = got
    return out


def _got(store, columns, **kw) -> dict:
    fin = store.table("financials")
    t = pick(fin, columns, money=[c for c in columns if c in MONEY], sources=True, **kw)
    out = {}
    for r in t.to_pyarrow().to_pylist():
        key = (r.pop("org_id"), r.pop("fiscal_year"))
        assert key not in out, f"two rows for {key}"
        out[key] = {k: v for k, v in r.items() if not k.endswith("_synthetic")}
    return out


@pytest.mark.parametrize("seed", [1, 2])
def test_pick_gives_the_rule_on_overlapping_sources(store, seed):
    rows = _rows(seed)
    _insert(store, rows)
    several = {(r["org_id"], r["fiscal_year"]) for r in rows}
    assert len(several) < len(rows)  # some org-years have several rows: the rule has something to choose
    assert _got(store, list(COLS)) == _expected(rows, COLS)
    assert _got(store, ["rd_expense"]) == _expected(rows, ("rd_expense",))
    assert _got(store, list(COLS), years=[2019, 2021]) == _expected(rows, COLS, years={2019, 2021})


def test_rows_alone_in_their_year_give_what_the_single_source_path_gives(store):
    rows = [r for r in _rows(3) if r["source_name"] == "a panel"]
    rows += [dict(r, source_name="b filing", org_id=r["org_id"] + "b") for r in rows]  # two sources, no overlap
    _insert(store, rows)
    fin = store.table("financials")
    for cols in (list(COLS), ["revenue"]):
        def rows_of(unique):
            t = pick(fin, cols, money=[c for c in cols if c in MONEY], sources=True, unique=unique)
            return sorted(t.to_pyarrow().to_pylist(), key=lambda r: (r["org_id"], r["fiscal_year"]))
        assert rows_of(False) == rows_of(True)
        assert rows_of(False) and len(rows_of(False)) == len({(r["org_id"], r["fiscal_year"]) for r in rows
                                                               if len(cols) > 1 or r[cols[0]] is not None})
