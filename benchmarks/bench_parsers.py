"""The column parsers and the taxonomy load, against plain pandas/numpy baselines in the same process.

    python benchmarks/bench_parsers.py [--rows 1000000] [--json out.json]

Why a benchmark and not a timed unit test: the tests check what these functions return on a million
rows; how fast they are depends on the machine, so it is measured here and recorded in BENCHMARKS.md.

- `parse_money_series` on N numeric strings (the fast path) vs `pd.to_numeric`;
- `parse_date_series` on N ISO dates vs `pd.to_datetime(format="%Y-%m-%d")`;
- `FXTable.convert_series` on N rows in 5 currencies vs a numpy lookup of one fixed rate per currency;
- `load_taxonomy()` cold (cache cleared) — the CLI pays it at start-up (budget 0.3 s).
"""

from __future__ import annotations

import argparse
import json
import platform
import time


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def run(rows: int) -> dict:
    import numpy as np
    import pandas as pd

    from hardtech.analytics.taxonomy import load_taxonomy
    from hardtech.sources.dates import parse_date_series
    from hardtech.sources.fx import load_fx
    from hardtech.sources.money import parse_money_series

    rng = np.random.default_rng(7)
    out: dict = {"rows": rows, "python": platform.python_version()}

    money = pd.Series([repr(float(v)) for v in rng.uniform(-1e9, 1e9, rows)])
    t, df = timed(lambda: parse_money_series(money, "USD", 1e6))
    b, base = timed(lambda: pd.to_numeric(money) * 1e6)
    assert np.allclose(df.amount.to_numpy(), base.to_numpy())
    out["money_s"], out["money_baseline_s"] = round(t, 3), round(b, 3)

    dates = pd.Series(pd.date_range("1990-01-01", periods=rows, freq="h").strftime("%Y-%m-%d"))
    t, df = timed(lambda: parse_date_series(dates))
    b, base = timed(lambda: pd.to_datetime(dates, format="%Y-%m-%d"))
    assert (df.value.to_numpy() == base.to_numpy()).all()
    out["dates_s"], out["dates_baseline_s"] = round(t, 3), round(b, 3)

    table = load_fx()
    ccy = rng.choice(["USD", "CNY", "EUR", "GBP", "JPY"], rows)
    days = pd.Series(pd.Timestamp("2011-01-01") + pd.to_timedelta(rng.integers(0, 5000, rows), "D"))
    t, (values, rates, _) = timed(lambda: table.convert_series(np.ones(rows), ccy, "USD", days))
    fixed = {"USD": 1.0, "CNY": 0.15, "EUR": 1.1, "GBP": 1.3, "JPY": 0.009}
    b, _ = timed(lambda: np.ones(rows) * pd.Series(ccy).map(fixed).to_numpy())
    assert not np.isnan(rates).any()
    out["fx_s"], out["fx_baseline_s"] = round(t, 3), round(b, 3)

    load_taxonomy.cache_clear()
    t, _ = timed(load_taxonomy)
    out["taxonomy_load_s"] = round(t, 3)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--json")
    a = ap.parse_args()
    res = run(a.rows)
    print(json.dumps(res, indent=2))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=2)


if __name__ == "__main__":
    main()
