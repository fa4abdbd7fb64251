"""FX: a round dated between two published rates is converted at the earlier one — on every path a round takes.

The rule is checked day by day over a small table (every day from before its first rate to after its
last), for a direct, an inverted and a crossed pair, through `FXTable.rate`, `convert_series` (the batch
path flows use), the capital-flow sums, and the importer's `amount_usd`. Days sit just before a later rate
on purpose: a "nearest" rule would pick the later rate there and fail.
"""

from __future__ import annotations

import csv
import datetime as dt

import numpy as np
import pytest

from hardtech.errors import FXError
from hardtech.sources.fx import FXTable

D = dt.date
RATES = {  # EUR → quote, by publication day
    "USD": {D(2021, 1, 4): 1.20, D(2021, 3, 1): 1.10, D(2021, 6, 30): 1.30},
    "CNY": {D(2021, 1, 4): 8.00, D(2021, 3, 1): 7.50, D(2021, 6, 30): 7.80},
}
FIRST, LAST = D(2021, 1, 4), D(2021, 6, 30)


@pytest.fixture
def fx_file(tmp_path):
    p = tmp_path / "fx.csv"
    with p.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["date", "base", "quote", "rate", "source"])
        for quote, by_day in RATES.items():
            for day, v in by_day.items():
                w.writerow([day.isoformat(), "EUR", quote, v, f"guard table {day}"])
    return p


def published_on_or_before(quote: str, day: dt.date) -> dt.date | None:
    """The rule, written out: the latest publication day not after `day`."""
    days = [d for d in RATES[quote] if d <= day]
    return max(days) if days else None


def expected(frm: str, to: str, day: dt.date) -> tuple[float, dt.date] | None:
    """Rate and its date for frm→to on `day` by the rule (cross rates through EUR; the older leg's date)."""
    legs = []
    for ccy in (frm, to):
        if ccy == "EUR":
            continue
        d = published_on_or_before(ccy, day)
        if d is None:
            return None
        legs.append((ccy, d))
    per_eur = {c: RATES[c][d] for c, d in legs} | {"EUR": 1.0}
    return per_eur[to] / per_eur[frm], min(d for _, d in legs)


ALL_DAYS = [FIRST + dt.timedelta(days=i) for i in range(-7, (LAST - FIRST).days + 8)]
PAIRS = [("EUR", "USD"), ("USD", "EUR"), ("CNY", "USD")]  # direct, inverse, cross via EUR


@pytest.mark.parametrize("frm, to", PAIRS)
def test_every_day_takes_the_latest_rate_on_or_before_it(fx_file, frm, to):
    table = FXTable.from_csv(fx_file)
    wrong = []
    for day in ALL_DAYS:
        want = expected(frm, to, day)
        try:
            r = table.rate(frm, to, day)
            got = (r.value, r.date)
        except FXError:
            got = None
        if (got is None) != (want is None) or (got and (got[1] != want[1] or got[0] != pytest.approx(want[0]))):
            wrong.append(f"{day}: got {got}, the rule says {want}")
    assert not wrong, f"{frm}→{to}:\n" + "\n".join(wrong[:10])


@pytest.mark.parametrize("frm, to", PAIRS)
def test_the_batch_path_agrees_with_the_rule_in_any_order(fx_file, frm, to):
    table = FXTable.from_csv(fx_file)
    days = list(reversed(ALL_DAYS))  # unsorted input must not matter
    values, rates, dates = table.convert_series(np.full(len(days), 100.0), frm, to, days, errors="nan")
    for day, v, rate, rd in zip(days, values, rates, dates):
        want = expected(frm, to, day)
        if want is None:
            assert np.isnan(rate) and np.isnan(v), day
        else:
            assert rate == pytest.approx(want[0]) and v == pytest.approx(100 * want[0]), day
            assert rd.astype("datetime64[D]").astype(dt.date) == want[1], day


ROUNDS = [  # round_id, date, stage, amount (CNY)
    ("g-before-first", "2020-12-31", "seed", 1_000_000),
    ("g-just-before-march", "2021-02-27", "a", 10_000_000),  # nearest would take 1 March
    ("g-on-march", "2021-03-01", "b", 20_000_000),
    ("g-just-before-june-end", "2021-06-29", "c", 40_000_000),  # nearest would take 30 June
    ("g-after-last", "2021-12-31", "d", 80_000_000),
]


@pytest.fixture
def rounds_store(store, tmp_path, fx_file, monkeypatch):
    from hardtech.store.importer import import_file

    monkeypatch.setenv("HARDTECH_FX", str(fx_file))  # the importer's amount_usd reads the configured table
    orgs = tmp_path / "orgs.csv"
    with orgs.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([["org_id", "kind", "name_en"], ["g-org", "startup", "Guard Org"]])
    assert import_file(store, "organizations", orgs).rejected == 0
    f = tmp_path / "rounds.csv"
    with f.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["round_id", "org_id", "date", "stage", "amount", "currency"])
        w.writerows([[rid, "g-org", d, st, amt, "CNY"] for rid, d, st, amt in ROUNDS])
    r = import_file(store, "funding_rounds", f)
    assert r.rejected == 0, r.rejects
    return store


def test_imported_rounds_record_the_earlier_rate(rounds_store):
    got = {rid: (usd, rate, d) for rid, usd, rate, d in rounds_store.con.execute(
        "SELECT round_id, amount_usd, fx_rate, fx_rate_date FROM funding_rounds").fetchall()}
    for rid, day, _, amount in ROUNDS:
        want = expected("CNY", "USD", D.fromisoformat(day))
        usd, rate, rate_day = got[rid]
        if want is None:
            assert usd is None and rate is None, rid
        else:
            assert rate == pytest.approx(want[0]) and usd == pytest.approx(amount * want[0]), rid
            assert rate_day == want[1], rid


def test_flow_sums_convert_each_round_at_the_earlier_rate(rounds_store, fx_file):
    from hardtech.analytics.flows import flows

    table = FXTable.from_csv(fx_file)
    t = {(r["period"], r["group"]): r for r in flows(rounds_store, by="stage", metric="amount", currency="USD",
                                                      fx=table).to_pylist()}
    for rid, day, stage, amount in ROUNDS:
        want = expected("CNY", "USD", D.fromisoformat(day))
        row = t[(day[:4], stage)]
        if want is None:
            assert row["value"] is None and row["rounds"] == 1, rid  # counted, not guessed
        else:
            assert row["value"] == pytest.approx(amount * want[0]), rid
