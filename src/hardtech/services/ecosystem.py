"""Capital flows, regional ecosystems and investor matching over the store (an opened store, any engine)."""

from __future__ import annotations


from hardtech.services.opened import opened


def flow_rows(db, by: str = "field", period: str = "year", metric: str = "amount",
              currency: str = "USD") -> list[dict]:
    """The flow table alone (see `flow_report` for its growth and the rounds left out)."""
    return flow_report(db, by, period, metric, currency)["rows"]


def flow_report(db, by: str = "field", period: str = "year", metric: str = "amount",
                currency: str = "USD") -> dict:
    """{rows, cagr, warnings, fx}: the flow table, each group's growth, and every round left out of a sum, and why."""
    from hardtech.analytics.flows import flows_report

    with opened(db) as store:
        r = flows_report(store, by=by, period=period, metric=metric, currency=currency)
    growth = _rows(r["cagr"])
    if metric != "count":  # first and last values are amounts in `currency`; said on each row, as in `rows`
        growth = [{**g, "currency": currency} for g in growth]
    return {"rows": _rows(r["table"]), "cagr": growth, "warnings": r["warnings"], "fx": r["fx"]}


def investor_rows(db, field: str | None = None, top: int = 10, currency: str = "USD") -> list[dict]:
    """The most active investors per field: rounds first, then disclosed amount, then name."""
    from hardtech.analytics.flows import top_investors

    with opened(db) as store:
        return _rows(top_investors(store, field=field, top=top, currency=currency))


def shift_rows(db, period: str = "year", currency: str = "USD") -> list[dict]:
    """The shift the seeds describe: technology vs business-model innovation, industry vs services."""
    from hardtech.analytics.flows import sector_share, tech_vs_model_share

    with opened(db) as store:
        tech = _rows(tech_vs_model_share(store, period=period, currency=currency))
        sector = _rows(sector_share(store, period=period, currency=currency))
    return [{"view": "technology vs model innovation", **r} for r in tech] + \
           [{"view": "secondary vs tertiary sector", **r} for r in sector]


def region_rows(db, level: str = "city", country: str = "CN") -> list[dict]:
    """One row per region; `rd_by_currency` is {currency: R&D} (several currencies are not added up)."""
    import json

    from hardtech.analytics.regions import regions_table

    with opened(db) as store:
        rows = _rows(regions_table(store, level=level, country=country))
    for r in rows:
        if isinstance(r.get("rd_by_currency"), str):
            r["rd_by_currency"] = json.loads(r["rd_by_currency"])
    return rows


def compare_regions(db, names: list[str]) -> dict:
    from hardtech.analytics.regions import compare

    with opened(db) as store:
        return compare(store, names)


def cluster_rows(db, min_members: int = 3) -> list[dict]:
    from hardtech.analytics.regions import clusters

    with opened(db) as store:
        return _rows(clusters(store, min_members=min_members))


def refresh_investor_profiles(db) -> str:
    """Bring the investor profiles kept in a DuckDB store file up to date: `fresh` (nothing to do), `saved`
    (recomputed and saved: the store is opened for writing only then) or `busy` (another process holds the
    store; the request then computes them for itself)."""
    from hardtech.analytics.investor_match import profiles_fresh, profiles_for
    from hardtech.analytics.investor_profiles import inputs_of
    from hardtech.errors import StoreError
    from hardtech.store.connection import Store

    try:
        with Store(db, read_only=True) as store:
            if profiles_fresh(store):
                return "fresh"
    except StoreError:  # an older schema opens for writing below, which migrates it
        pass
    try:
        with Store(db) as store:
            return profiles_for(store, inputs_of(store))[1]
    except StoreError:
        return "busy"


def match_rows(db, kind: str, name: str, top: int = 10) -> list[dict]:
    from hardtech.analytics.matching import match_investor, match_startup
    from hardtech.errors import NothingToShow, UsageError
    from hardtech.services.opened import engine_name, is_store
    from hardtech.services.scoring import resolve_org

    if kind == "startup" and not is_store(db) and engine_name() == "duckdb":
        refresh_investor_profiles(db)  # a path: the CLI lets the profiles be saved once, not computed per call
    with opened(db) as store:
        if kind == "startup":
            return match_startup(store, resolve_org(store, name), top=top)
        if kind == "investor":
            from hardtech.analytics.lookup import find

            if not store.count("investors"):
                raise NothingToShow(f"no investor {name!r}: the store has no investors yet; import them "
                                    "(`hardtech import investors FILE`) or funding rounds that name them",
                                    key="empty.no_investors", name=name)
            investor = find(store.table("investors"), name, "investor_id", "investor")
            return match_investor(store, investor, top=top)
    raise UsageError(f"match what? startup or investor, not {kind!r}")


def match_evaluation(db, k: int = 10) -> dict:
    from hardtech.analytics.matching import evaluate_holdout

    with opened(db) as store:
        return evaluate_holdout(store, k=k)


def _rows(table) -> list[dict]:
    if hasattr(table, "to_pylist"):
        return table.to_pylist()
    if hasattr(table, "to_dict"):
        return table.to_dict(orient="records")
    return list(table)
