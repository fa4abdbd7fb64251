"""`hardtech demo`: build a store from the bundled open data and our own files, and print the landscape.

What goes in, in this order (each row with its source and licence, nothing synthetic):
- our own files (`hardtech/data/demo/`): regions, about 250 organisations written by us, investors,
  and Huawei's R&D series from its annual reports;
- the bundled open data (`hardtech/data/bundled/`, see its README): the JRC–OECD top-2000 R&D panel,
  the NYSE fundamentals and securities, the S&P 500 list, the A-share list, the MOE universities and
  the AI patents. A bundled company that is also one of our own organisations is attached to ours
  through the explicit links in `organizations.csv` (`jrc_company_id`, `moe_code`, the exchange and
  ticker), so it is one organisation with the bundled figures, not two;
- with `../shared/data` present, the CB Insights unicorn list (funding; it may not ship). No openly
  licensed round-level funding data exists for us: without `../shared` the demo has no rounds and says
  how to import one's own.

This module builds the store and computes the tables the demo shows, at the level of the services;
printing them and writing the white paper is presentation (`presentation/cli/demo_tour.py`).
"""

from __future__ import annotations

import datetime as dt
import os
from importlib import resources
from pathlib import Path

import pandas as pd

from hardtech.sources.mapping import load_mapping, parse_mapping
from hardtech.store.connection import Store
from hardtech.store.importer import import_file
from hardtech.store import demo_reads

DEMO_SOURCE = "hardtech demo data (written by the hardtech authors)"
DEMO_LICENCE = "Apache-2.0 (written by the hardtech authors)"
HUAWEI_SOURCE = "Huawei annual reports 2013–2023 (via hardtech domain reference)"
HUAWEI_LICENCE = "figures quoted as facts from Huawei's published annual reports"
# The bundled files the demo imports, in order: names before figures, figures before patents.
BUNDLED_ORDER = ("jrc_oecd_rd_top2000_2015_2018", "sp500_constituents_gics", "nyse_securities_gics",
                 "nyse_fundamentals_2012_2016", "cn_ashare_listed_2019", "cn_universities_moe_2017",
                 "patents_ai_cpc_31k", "patents_ai_assignee_dates")
ROUNDS_COMMAND = "hardtech import funding_rounds YOUR_ROUNDS.csv --mapping YOUR_MAPPING.yaml"


def demo_dir() -> Path:
    return Path(str(resources.files("hardtech.data") / "demo"))


def default_shared() -> Path | None:
    env = os.environ.get("HARDTECH_SHARED")
    for cand in ([Path(env)] if env else []) + [Path.cwd().parent / "shared" / "data",
                                                  Path(__file__).resolve().parents[3] / "shared" / "data"]:
        if (cand / "jrc_oecd_rd_top2000_2015_2018.csv").exists():
            return cand
    return None


def _identity(table: str, columns: list[str], extra: dict | None = None) -> dict:
    return {"name": f"demo_{table}", "targets": {table: {"columns": {c: c for c in columns} | (extra or {})}}}


def demo_links() -> dict[str, str]:
    """The id a bundled file gives a company (`jrc:1803`, `us:GOOGL`, `cn:601012`, `moe:4161010698`) → ours.

    Only the explicit identifiers our file records: the panel's `jrc_company_id`, the MOE institution
    code, and the ticker on a listing exchange that a bundled list covers (SSE/SZSE: the A-share list;
    NYSE/NASDAQ: the NYSE and S&P files). Matching by name is entity resolution, not the demo's job.
    """
    orgs = pd.read_csv(demo_dir() / "organizations.csv", dtype=str, keep_default_na=False)
    links: dict[str, str] = {}
    for r in orgs.itertuples():
        if r.jrc_company_id:
            links[f"jrc:{int(r.jrc_company_id)}"] = r.org_id
        if r.moe_code:
            links[f"moe:{r.moe_code}"] = r.org_id
        if r.ticker and r.exchange in ("SSE", "SZSE"):
            links[f"cn:{r.ticker}"] = r.org_id
        if r.ticker and r.exchange in ("NYSE", "NASDAQ"):
            links[f"us:{r.ticker}"] = r.org_id
    return links


def build_demo_store(db: Path, shared: Path | None = None, progress=None, base: Path | None = None) -> dict:
    """Create (or refresh) the demo store at `db`; returns what was loaded, for the summary.

    `progress(key, **args)` is told each step by a key of `[demo.progress]` in the CLI's translation file, and
    `notes` are `{"key": …, **args}` for `[demo.note]`: the words are the presentation's, in either language.

    `base`: a demo store already built without `../shared` (a copy of it is extended with the funding data
    and only the organisations that data adds are classified): the tests build the demo once this way.
    """
    say = progress or (lambda key, **args: None)
    if base is not None:
        import shutil

        shutil.copyfile(base, db)
        with Store(db) as store:
            notes = [_import_funding(store, shared, say)]
        return _classify_score_count(db, notes, say, only_new=True)
    d = demo_dir()
    notes = []
    with Store(db) as store:
        say("own_files")
        import_file(store, "regions", d / "regions.csv", source=DEMO_SOURCE, licence=DEMO_LICENCE,
                    mapping=parse_mapping(_identity("regions", ["region_id", "name_en", "name_zh", "aliases", "level",
                                                                "parent_id", "country"])))
        org_cols = ["org_id", "kind", "name_en", "name_zh", "aliases", "country", "province", "city", "founded",
                    "description_en", "description_zh", "exchange", "ticker", "ownership", "industry_codes", "website"]
        _import_own_organizations(store, d / "organizations.csv", org_cols)
        import_file(store, "investors", d / "investors.csv", source=DEMO_SOURCE, licence=DEMO_LICENCE,
                    mapping=parse_mapping(_identity("investors", ["investor_id", "name_en", "name_zh", "aliases", "kind",
                                                                  "country", "city", "thesis_fields", "stages",
                                                                  "regions", "description"])))
        import_file(store, "financials", d / "financials_huawei.csv", source=HUAWEI_SOURCE, licence=HUAWEI_LICENCE,
                    mapping=parse_mapping(_identity("financials", ["org_id", "fiscal_year", "currency", "note"],
                                                    {"rd_expense": {"column": "rd_expense", "unit": "CNY million"},
                                                     "revenue": {"column": "revenue", "unit": "CNY million"}})))
        notes += _import_bundled(store, say)
        notes.append(_import_funding(store, shared, say))
    return _classify_score_count(db, notes, say)


def _import_own_organizations(store: Store, path: Path, org_cols: list[str]) -> None:
    """Our organisations, each with the bundled ids it is linked to (`demo_links`) as its `identifiers`.

    The bundled rows of a linked id land on our organisation, so without this the id (`jrc:1353`) would be
    recorded nowhere and entity resolution could merge a second panel company into it."""
    import tempfile

    linked: dict[str, list[str]] = {}
    for bundled_id, org_id in demo_links().items():
        linked.setdefault(org_id, []).append(bundled_id)
    orgs = pd.read_csv(path, dtype=str, keep_default_na=False)
    orgs["identifiers"] = ["|".join(sorted(linked.get(o, []))) for o in orgs["org_id"]]
    with tempfile.TemporaryDirectory() as tmp:
        own = Path(tmp) / path.name  # same file name: provenance names our file
        orgs.to_csv(own, index=False)
        import_file(store, "organizations", own, source=DEMO_SOURCE, licence=DEMO_LICENCE,
                    mapping=parse_mapping(_identity("organizations", org_cols + ["identifiers"])))


def _classify_score_count(db: Path, notes: list[dict], say, only_new: bool = False) -> dict:
    say("classifying")
    from hardtech.services.classify import classify_store

    # the 2,600 bundled universities are counted by place, never by field: leaving them out saves a third of
    # the time (our own universities, which have descriptions, are classified)
    classify_store(db, "organizations", where=demo_reads.classify_condition(DEMO_SOURCE, only_new))
    say("scoring")
    from hardtech.services.scoring import score_rows

    score_rows(db)
    with Store(db, read_only=True) as store:
        counts = store.counts()
    return {"counts": counts, "notes": notes}


def _import_bundled(store: Store, say) -> list[dict]:
    """Every bundled file through its shipped mapping, our organisations linked (see `demo_links`)."""
    from hardtech.bundled import import_bundled, manifest

    links = demo_links()
    # a company whose own reports are already in the store keeps them as its only series (Huawei)
    own = demo_reads.orgs_with_financials(store)
    notes = []
    for name in BUNDLED_ORDER:
        entry = manifest()[name]
        say("bundled", file=entry["file"])
        drop = {k for k, v in links.items() if v in own} if name.startswith("jrc_") else None
        r = import_bundled(store, name, links=links, drop_ids=drop)
        notes.append({"key": "bundled", "file": entry["file"], "licence": entry["licence"].split(";")[0],
                      "mapping": entry.get("mapping"),
                      "rows": {t.table: t.inserted + t.updated + t.unchanged for t in r.targets}})
    return notes


def _import_funding(store: Store, shared: Path | None, say) -> dict:
    """Funding rounds: none of them may ship. With ../shared present, the unicorn list; the ITjuzi half comes
    with its connector (issue 11 §2) and is imported here once that exists."""
    if shared is None or not (shared / "unicorns_2022.csv").exists():
        return {"key": "no_rounds", "command": ROUNDS_COMMAND}
    say("unicorns")
    return _import_unicorns_for_demo(store, shared)


def _import_unicorns_for_demo(store: Store, shared: Path) -> dict:
    """The CB Insights unicorn list, read from ../shared/data (it may not ship).

    The list gives each company's total funding to date and its investors, imported as one `cumulative`
    round dated on the day it joined the list, so flows, the capital factor of the regional scorecards,
    clusters' investors and matching have real inputs.
    """
    path = shared / "unicorns_2022.csv"
    r = import_file(store, "auto", path, mapping=load_mapping("unicorns_2022"))
    got = {t.table: t.inserted + t.updated + t.unchanged for t in r.targets}
    return {"key": "unicorns", "companies": got.get("funding_rounds", 0), "investors": got.get("investors", 0)}


def summary_tables(db: Path, currency: str = "EUR", year: int | None = None) -> dict[str, list[dict]]:
    """The landscape summary the demo prints: by city, by field, and the largest R&D spenders of `year`
    (default: the year with most R&D figures)."""
    from hardtech.analytics.landscape import top_rd_spenders
    from hardtech.analytics.taxonomy import load_taxonomy
    from hardtech.sources.fx import load_fx

    with Store(db, read_only=True) as store:
        orgs, fin = store.table("organizations"), store.table("financials")
        by_city = _by_city(store)
        fx = load_fx()
        from hardtech.analytics.landscape import busiest_year

        year = year or busiest_year(fin).to_pyarrow().as_py()
        year_end = dt.date(int(year or dt.date.today().year - 1), 12, 31)
        rates = {}
        for ccy in demo_reads.financial_currencies(store):
            try:
                rate = fx.rate(ccy, currency, year_end)
                rates[ccy] = rate.value
            except Exception:  # noqa: BLE001 - a currency without a rate is left out and said so
                continue
        top = top_rd_spenders(fin, orgs, rates, top=12, year=year).to_pyarrow().to_pylist()
        for r in top:
            r[f"rd_{currency.lower()}_bn"] = round(r.pop("rd_converted") / 1e9, 2)
            r["rd_original"] = f"{r['rd_expense'] / 1e6:,.0f} m {r['currency']}"
            for k in ("rd_expense", "revenue", "synthetic", "currency"):
                r.pop(k, None)
            r["converted_at"] = f"{currency} rate of {year_end} (on or before)"
        tax = load_taxonomy()
        by_field = [{"field": f, "name_en": tax.fields[f].name_en if f in tax.fields else "none of the eight",
                     "name_zh": tax.fields[f].name_zh if f in tax.fields else "",
                     "organisations": n, "of_which_hard_core": h}
                    for f, n, h in demo_reads.companies_by_field(store)]
        by_typology = [{"typology": t, "name_en": tax.typology[t].name_en if t in tax.typology else "",
                        "name_zh": tax.typology[t].name_zh if t in tax.typology else "", "companies": n}
                       for t, n in demo_reads.companies_by_typology(store)]
    return {"by_city": by_city, "by_field": by_field, "by_typology": by_typology, "top_rd": top, "year": year}


def _by_city(store: Store, top: int = 15) -> list[dict]:
    """Organisations per city and kind, the city as `regions` resolves it (`西安市`, `Xian` and `Xi'an` are one)."""
    from collections import Counter

    from hardtech.analytics.regions import place_resolver

    resolve = place_resolver(store)
    kinds = {"company": "companies", "startup": "companies", "university": "universities",
             "institute": "institutes", "investor": "investors"}
    counts: dict[str, Counter] = {}
    for city, kind, n in demo_reads.orgs_by_city_and_kind(store):
        hit = resolve(city, "city")
        name = hit["name_en"] if hit and hit["level"] == "city" else city
        c = counts.setdefault(name, Counter())
        c["organisations"] += n
        c[kinds.get(kind, "other")] += n
    rows = [{"city": k, **{col: c[col] for col in ("organisations", "companies", "universities", "institutes",
                                                     "investors")}} for k, c in counts.items()]
    return sorted(rows, key=lambda r: (-r["organisations"], r["city"]))[:top]


def panel_year(db: Path) -> int | None:
    """The latest fiscal year of the bundled JRC–OECD panel in the store (the ranking year the demo shows)."""
    from hardtech.sources.mapping import load_mapping

    with Store(db, read_only=True) as store:
        return demo_reads.latest_year_of_source(store, load_mapping("jrc_oecd").source)


def panel_ranking(db: Path, top: int = 10) -> dict:
    """`hardtech rank --year Y` over the store: how many companies it ranks, and the first ones."""
    from hardtech.services.scoring import rank_rows

    year = panel_year(db)
    rows = rank_rows(db, year) if year else []
    keep = ("rank", "org_id", "name", "country", "rd", "currency", "source")
    return {"year": year, "ranked": len(rows), "top": [{k: r.get(k) for k in keep if k in r} for r in rows[:top]]}


def us_10k_rd(db: Path, top: int = 10, years: tuple[int, int] = (2012, 2016)) -> dict:
    """The NYSE fundamentals' 10-K R&D: companies with an R&D line in 2012–2016 (a handful of rows of the file
    close older years), and the largest spenders of the last year."""
    from hardtech.sources.mapping import load_mapping

    src = load_mapping("nyse_fundamentals").source
    with Store(db, read_only=True) as store:
        n, n_pos, y0, y1 = demo_reads.rd_summary(store, src, *years)
        rows = demo_reads.largest_rd(store, src, y1, top) if y1 is not None else []
    return {"companies": n, "with_rd": n_pos, "first": y0, "last": y1, "top": rows}


def hardness_summary(db: Path, min_confidence: float = 0.6) -> dict:
    """How many organisations have a score, and how many with confidence ≥ min_confidence (each by its latest
    scored year, in the weights version saved last: `analytics.score_versions`)."""
    from hardtech.analytics.score_versions import latest_scores

    with Store(db, read_only=True) as store:
        s = latest_scores(store.table("scores"), scored_only=True)
        n, sure, best = s.aggregate(n=s.count(), sure=(s.confidence >= min_confidence).sum(),
                                    best=s.confidence.max()).to_pyarrow().to_pylist()[0].values()
    return {"scored": n, "confident": int(sure or 0), "min_confidence": min_confidence, "best_confidence": best}


def star_panel(db: Path) -> list[dict]:
    """STAR verdicts for the panel's Chinese companies, under the current rules and the first version (2020),
    the only one without the R&D-staff indicator that the panel cannot give (docs/bundled-data.md)."""
    from hardtech.analytics.star import CURRENT_VERSION, load_star_rules
    from hardtech.services.scoring import star_results
    from hardtech.sources.mapping import load_mapping

    with Store(db, read_only=True) as store:
        ids = demo_reads.orgs_of_source_in(store, load_mapping("jrc_oecd").source, "CN")
    out = []
    for version in dict.fromkeys([CURRENT_VERSION, next(iter(load_star_rules()))]):
        res = star_results(db, ids, version=version)
        count = {v: sum(r.verdict == v for r in res) for v in ("sci-tech", "not sci-tech", "restricted", "prohibited",
                                                               "insufficient data")}
        staff_only = sum(r.verdict == "insufficient data" and all(
            i.passed is True for i in r.indicators if i.name != "rd_staff_share") for r in res)
        out.append({"version": version, "companies": len(res),
                    "decided": sum(count[v] for v in ("sci-tech", "not sci-tech", "restricted", "prohibited")),
                    **count, "decided_on_a_proxy": sum(bool(r.proxies) and r.verdict != "insufficient data" for r in res),
                    "all_but_rd_staff_met": staff_only})
    return out


def china_regions(db: Path, top: int = 12) -> dict:
    """Chinese listed companies and universities by province, and universities by city (bilingual)."""
    from hardtech.services.ecosystem import region_rows

    keep = ("region", "region_zh", "organizations", "universities", "institutes")
    prov = sorted(region_rows(db, level="province"), key=lambda r: (-r["organizations"], r["region_id"]))
    city = sorted(region_rows(db, level="city"), key=lambda r: (-(r["universities"] or 0), r["region_id"]))
    return {"provinces": [{k: r[k] for k in keep} for r in prov[:top]], "n_provinces": len(prov),
            "cities": [{k: r[k] for k in keep} for r in city[:top]], "n_cities": len(city)}


def hardness_leaders(db: Path, top: int = 10, min_confidence: float = 0.0) -> list[dict]:
    """The highest scores of each organisation's latest scored year, among those with at least `min_confidence`
    (the weights version saved last, as search reads it: `analytics.score_versions`)."""
    import ibis

    from hardtech.analytics.score_versions import latest_scores

    with Store(db, read_only=True) as store:
        s = latest_scores(store.table("scores"), scored_only=True)
        o = store.table("organizations")
        s = s.filter(s.confidence >= min_confidence)
        j = s.join(o, s.org_id == o.org_id)
        out = j.select(org_id=s.org_id, name=ibis.coalesce(o.name_en, o.name_zh), year=s.year,
                       score=s.score.round(1), confidence=s.confidence.round(2), field=s.field)
        return out.order_by([ibis.desc("score"), "org_id"]).limit(top).to_pyarrow().to_pylist()


def xian_vs_hangzhou(db: Path) -> dict:
    """The comparison the seeds make (`hardtech regions compare 西安 杭州`): each city's scorecard and the leader
    of each factor; the CLI shows it in the reader's language (`presentation/cli/views.compare_rows`)."""
    from hardtech.services.ecosystem import compare_regions

    return compare_regions(db, ["西安", "杭州"])