"""One `match_startup` request from investor profiles kept in the store, against the in-memory baseline.

    python benchmarks/bench_matching.py [--orgs 1000000] [--db PATH] [--requests 5] [--baseline-max 100000]

Builds (or reuses, with --db) a DuckDB store from `hardtech.tools.synthetic` (every row flagged
synthetic): N organisations, their funding rounds and N/200 investors. `amount_usd` is filled by the
FX table's rate at each (currency, round date), as the importer's rule does, and half the
organisations get a synthetic verdict (fields) so both tag sources count. Then, each in its own
child process (so each peak memory is its own):

- build: the investor profiles computed in DuckDB and saved (`profiles_for` on a writable store);
- request: a fresh process opens the store read-only and answers `--requests` startups (the ones
  with the most rounds): the first request's time (fingerprint check included), the median, the
  process's peak RSS; the answers are checked against the baseline's where it runs;
- baseline: today's in-memory version (`match_startup_in_memory`, four tables loaded whole and
  matrices built per request) for the same startups, only up to `--baseline-max` organisations.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
from pathlib import Path

from common import call_in_child, in_child, load_synthetic, peak_mb

FIELDS = ("ai", "aerospace", "photonics_chips", "biotech", "it", "new_materials", "new_energy",
          "intelligent_manufacturing")


def build_store(db: Path, orgs: int, seed: int = 1) -> dict:
    import datetime as dt

    import pyarrow as pa

    from hardtech.errors import FXError
    from hardtech.sources.fx import load_fx
    from hardtech.tools.synthetic import SynthConfig, generate
    from hardtech.store.connection import Store

    t = time.perf_counter()
    tables = generate(SynthConfig(orgs=orgs, seed=seed))
    with Store(db) as store:
        load_synthetic(store, tables, ("organizations", "funding_rounds", "investors"), seed)
        del tables
        con = store.con
        pairs = con.execute("SELECT DISTINCT currency, date FROM funding_rounds WHERE amount IS NOT NULL").fetchall()
        fx, rows = load_fx(), []
        for ccy, d in pairs:
            try:
                value, _ = fx.convert(1.0, ccy, "USD", d or dt.date.today())
                rows.append((ccy, d, value))
            except FXError:
                pass
        con.register("_fx", pa.table({"currency": [r[0] for r in rows], "date": pa.array([r[1] for r in rows],
                                      pa.date32()), "u": [r[2] for r in rows]}))
        con.execute("UPDATE funding_rounds f SET amount_usd = f.amount * x.u FROM _fx x "
                    "WHERE f.currency = x.currency AND f.date = x.date").fetchall()
        con.unregister("_fx")
        lst = "[" + ", ".join(f"'{f}'" for f in FIELDS) + "]"
        con.execute(f"""INSERT INTO classifications (entity_type, entity_id, model_version, top_field, fields,
                        classified_at, insufficient)
                        SELECT 'organization', org_id, 'synthetic-bench', {lst}[(1 + hash(org_id) % 8)::BIGINT],
                               list_distinct([{lst}[(1 + hash(org_id) % 8)::BIGINT], {lst}[(1 + hash(org_id || 'g') % 8)::BIGINT]]),
                               TIMESTAMP '2024-01-01', FALSE
                        FROM organizations WHERE hash(org_id) % 2 = 0""").fetchall()
        sizes = {n: store.count(n) for n in ("organizations", "funding_rounds", "investors", "classifications")}
    return {"store_build_s": round(time.perf_counter() - t, 1), **{f"rows_{k}": v for k, v in sizes.items()}}


def build_profiles(db: str, q) -> None:
    from hardtech.analytics.investor_match import profiles_for
    from hardtech.analytics.investor_profiles import inputs_of
    from hardtech.store.connection import Store

    with Store(db) as store:
        store.con.execute("DELETE FROM investor_profile_state").fetchall()  # force a rebuild
        t = time.perf_counter()
        _, how = profiles_for(store, inputs_of(store))
        build = time.perf_counter() - t
        items = store.count("investor_profile_items")
        t = time.perf_counter()
        _, again = profiles_for(store, inputs_of(store))
        check = time.perf_counter() - t
    q.put({"profile_build_s": build, "profile_how": how, "profile_items": items, "fresh_check_s": check,
           "fresh_how": again, "profile_build_peak_mb": peak_mb()})


def startups(db: str, k: int) -> list[str]:
    from hardtech.store.connection import Store

    with Store(db, read_only=True) as store:
        rows = store.con.execute("SELECT org_id FROM funding_rounds GROUP BY org_id ORDER BY count(*) DESC, org_id "
                                 f"LIMIT {int(k)}").fetchall()
    return [r[0] for r in rows]


def request(db: str, ids: list[str], in_memory: bool, q) -> None:
    from hardtech.analytics.matching import match_startup, match_startup_in_memory
    from hardtech.store.connection import Store

    fn = match_startup_in_memory if in_memory else match_startup
    times, answers = [], {}
    base = peak_mb()
    with Store(db, read_only=True) as store:
        for o in ids:
            t = time.perf_counter()
            answers[o] = fn(store, o, top=10)
            times.append(time.perf_counter() - t)
    q.put({"first_s": times[0], "median_s": statistics.median(times), "max_s": max(times), "peak_mb": peak_mb(),
           "start_mb": base, "answers": answers})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--orgs", type=int, default=1_000_000)
    ap.add_argument("--db", type=Path, help="reuse (or build once into) this store")
    ap.add_argument("--requests", type=int, default=5)
    ap.add_argument("--baseline-max", type=int, default=100_000,
                    help="run the in-memory baseline only up to this many organisations")
    args = ap.parse_args()
    info: dict = {"machine": f"{platform.node()} {platform.machine()}", "orgs": args.orgs,
                  "started": time.strftime("%Y-%m-%d %H:%M:%S")}
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or Path(tmp) / "match.duckdb"
        if not db.exists():
            info.update(call_in_child(build_store, db, args.orgs))
        info.update(in_child(build_profiles, str(db)))
        ids = call_in_child(startups, str(db), args.requests)
        eng = in_child(request, str(db), ids, False)
        info.update({f"request_{k}": v for k, v in eng.items() if k != "answers"})
        if args.orgs <= args.baseline_max:
            base = in_child(request, str(db), ids, True)
            info.update({f"baseline_{k}": v for k, v in base.items() if k != "answers"})
            info["answers_equal"] = all(
                {r["investor_id"]: r for r in eng["answers"][o]} == {r["investor_id"]: r for r in base["answers"][o]}
                for o in ids)
        else:
            info["baseline"] = f"not run above {args.baseline_max:,} organisations (--baseline-max)"
    for k, v in list(info.items()):
        if isinstance(v, float):
            info[k] = round(v, 3)
    print(json.dumps(info, indent=1))


if __name__ == "__main__":
    main()
