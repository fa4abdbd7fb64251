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


def build_demo_store(db: Path, shared: Path | None = None, progress=None) -> dict:
    """Create (or refresh) the demo store at `db`; returns what was loaded, for the summary."""
    say = progress or (lambda msg: None)
    d = demo_dir()
    notes = []
    with Store(db) as store:
        say("our own files: regions, organisations, investors")
        import_file(store, "regions", d / "regions.csv", source=DEMO_SOURCE, licence=DEMO_LICENCE,
                    mapping=parse_mapping(_identity("regions", ["region_id", "name_en", "name_zh", "aliases", "level",
                                                                "parent_id", "country"])))
        org_cols = ["org_id", "kind", "name_en", "name_zh", "aliases", "country", "province", "city", "founded",
                    "description_en", "description_zh", "exchange", "ticker", "ownership", "industry_codes", "website"]
        import_file(store, "organizations", d / "organizations.csv", source=DEMO_SOURCE, licence=DEMO_LICENCE,
                    mapping=parse_mapping(_identity("organizations", org_cols)))
        import_file(store, "investors", d / "investors.csv", source=DEMO_SOURCE, licence=DEMO_LICENCE,
                    mapping=parse_mapping(_identity("investors", ["investor_id", "name_en", "name_zh", "aliases", "kind",
                                                                  "country", "city", "thesis_fields", "stages",
                                                                  "regions", "description"])))
        import_file(store, "financials", d / "financials_huawei.csv", source=HUAWEI_SOURCE, licence=HUAWEI_LICENCE,
                    mapping=parse_mapping(_identity("financials", ["org_id", "fiscal_year", "currency", "note"],
                                                    {"rd_expense": {"column": "rd_expense", "unit": "CNY million"}})))
        notes += _import_bundled(store, say)
        notes.append(_import_funding(store, shared, say))
    say("classifying organisations")
    from hardtech.services.classify import classify_store

    classify_store(db, "organizations")
    say("scoring hardness")
    from hardtech.services.scoring import score_rows

    score_rows(db)
    with Store(db, read_only=True) as store:
        counts = store.counts()
    return {"counts": counts, "notes": notes}


def _import_bundled(store: Store, say) -> list[str]:
    """Every bundled file through its shipped mapping, our organisations linked (see `demo_links`)."""
    from hardtech.bundled import import_bundled, manifest

    links = demo_links()
    # a company whose own reports are already in the store keeps them as its only series (Huawei)
    own = {r[0] for r in store.con.execute("SELECT DISTINCT org_id FROM financials").fetchall()}
    notes = []
    for name in BUNDLED_ORDER:
        entry = manifest()[name]
        say(f"bundled {entry['file']}")
        drop = {k for k, v in links.items() if v in own} if name.startswith("jrc_") else None
        r = import_bundled(store, name, links=links, drop_ids=drop)
        got = ", ".join(f"{t.inserted + t.updated + t.unchanged:,} {t.table}" for t in r.targets)
        notes.append(f"{entry['file']}: {got} ({entry['licence'].split(';')[0]})")
    return notes


def _import_funding(store: Store, shared: Path | None, say) -> str:
    """Funding rounds: none of them may ship. With ../shared present, the unicorn list; the ITjuzi half comes
    with its connector (issue 11 §2) and is imported here once that exists."""
    if shared is None or not (shared / "unicorns_2022.csv").exists():
        return ("funding rounds: none. No openly licensed round-level funding data exists for us to ship; "
                f"import your own rounds with `{ROUNDS_COMMAND}` (docs/import.md)")
    say("unicorn list: funding and investors (../shared/data)")
    return _import_unicorns_for_demo(store, shared)


def _import_unicorns_for_demo(store: Store, shared: Path) -> str:
    """The CB Insights unicorn list, read from ../shared/data (it may not ship).

    The list gives each company's total funding to date and its investors, imported as one `cumulative`
    round dated on the day it joined the list, so flows, the capital factor of the regional scorecards,
    clusters' investors and matching have real inputs.
    """
    path = shared / "unicorns_2022.csv"
    r = import_file(store, "auto", path, mapping=load_mapping("unicorns_2022"))
    got = {t.table: t.inserted + t.updated + t.unchanged for t in r.targets}
    return (f"unicorn list 2022 (../shared/data): {got.get('funding_rounds', 0)} companies' cumulative funding "
            f"(one round each), {got.get('investors', 0)} investors")


def summary_tables(db: Path, currency: str = "EUR") -> dict[str, list[dict]]:
    """The landscape summary the demo prints: by city, by field, and the largest R&D spenders."""
    from hardtech.analytics.landscape import orgs_by_kind_city, top_rd_spenders
    from hardtech.analytics.taxonomy import load_taxonomy
    from hardtech.sources.fx import load_fx

    with Store(db, read_only=True) as store:
        orgs, fin = store.table("organizations"), store.table("financials")
        by_city = orgs_by_kind_city(orgs).to_pyarrow().to_pylist()
        fx = load_fx()
        from hardtech.analytics.landscape import busiest_year

        year = busiest_year(fin).to_pyarrow().as_py()
        year_end = dt.date(int(year or dt.date.today().year - 1), 12, 31)
        rates = {}
        for ccy in [r[0] for r in store.con.execute("SELECT DISTINCT currency FROM financials").fetchall() if r[0]]:
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
                    for f, n, h in store.con.execute("""
                        WITH c AS (SELECT c.entity_id, c.fields, c.typology FROM classifications c
                                   JOIN organizations o ON o.org_id = c.entity_id
                                   WHERE c.entity_type = 'organization' AND o.kind IN ('company', 'startup'))
                        SELECT coalesce(f, 'none') AS field, count(*) AS n, count(*) FILTER (WHERE typology = 'hard_core')
                        FROM (SELECT entity_id, typology, unnest(CASE WHEN len(fields) = 0 THEN [NULL] ELSE fields END) AS f FROM c)
                        GROUP BY 1 ORDER BY 2 DESC, 1""").fetchall()]
        by_typology = [{"typology": t, "name_en": tax.typology[t].name_en if t in tax.typology else "",
                        "name_zh": tax.typology[t].name_zh if t in tax.typology else "", "companies": n}
                       for t, n in store.con.execute("""
                           SELECT coalesce(c.typology, 'insufficient evidence'), count(*) FROM classifications c
                           JOIN organizations o ON o.org_id = c.entity_id
                           WHERE c.entity_type = 'organization' AND o.kind IN ('company', 'startup')
                           GROUP BY 1 ORDER BY 2 DESC""").fetchall()]
    return {"by_city": by_city, "by_field": by_field, "by_typology": by_typology, "top_rd": top, "year": year}


def hardness_leaders(db: Path, top: int = 10) -> list[dict]:
    with Store(db, read_only=True) as store:
        cur = store.con.execute("""
            WITH latest AS (SELECT *, row_number() OVER (PARTITION BY org_id ORDER BY year DESC) AS rn FROM scores)
            SELECT l.org_id, coalesce(o.name_en, o.name_zh) AS name, l.year, round(l.score, 1) AS score,
                   round(l.confidence, 2) AS confidence, l.field
            FROM latest l JOIN organizations o USING (org_id) WHERE rn = 1
            ORDER BY l.score DESC, l.org_id LIMIT ?""", [top])
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r)) for r in cur.fetchall()]


def xian_vs_hangzhou(db: Path) -> list[dict]:
    """The comparison the seeds make, one row per factor with each city's value or `no data`."""
    from hardtech.services.ecosystem import compare_regions, compare_rows

    return compare_rows(compare_regions(db, ["西安", "杭州"]))


def build_demo(directory: Path, out, shared: Path | None = None) -> Path:
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    db = directory / "hardtech.duckdb"
    for p in (db, Path(str(db) + ".wal")):
        if p.exists():
            p.unlink()
    shared = shared or default_shared()
    with out.console.status("building the demo store …") as status:
        info = build_demo_store(db, shared, progress=lambda m: status.update(f"demo store: {m} …"))
    out.message(f"[bold]demo store:[/bold] {db}")
    for n in info["notes"]:
        out.message(f"  {n}")
    out.emit([{"table": k, "rows": v} for k, v in info["counts"].items() if k not in ("rejects", "imports")],
             title="demo store contents")
    tables = summary_tables(db)
    out.emit(tables["by_field"], title="companies by field (classified from their descriptions and codes; multi-label)")
    out.emit(tables["by_typology"], title="companies by typology")
    out.emit(tables["by_city"], title="organisations by city")
    out.emit(tables["top_rd"], title=f"largest R&D spenders in {tables['year']} (the year with most figures; "
                                     f"source per row)")
    out.emit(hardness_leaders(db), title="hardness leaders (latest scored year; confidence = share of the criteria "
                                         "with data)")
    out.emit(xian_vs_hangzhou(db), title="Xi'an vs Hangzhou: the seeds' ecosystem factors (`hardtech regions compare "
                                         "西安 杭州`)")
    if info["counts"].get("funding_rounds"):
        from hardtech.services.ecosystem import shift_rows

        shift = [{k: v for k, v in r.items() if k != "view"} for r in shift_rows(db)
                 if r["view"] == "technology vs model innovation"]
        out.emit(shift[-9:], title="funding: technology vs model innovation, latest periods (`hardtech flows --shift`)")
    _write_white_paper(db, directory / "report", out)
    return db


def _write_white_paper(db: Path, folder: Path, out) -> None:
    """The demo ends with the white paper (HTML and PDF): English, and Chinese when a CJK font is installed."""
    from hardtech.presentation.report.fonts import cjk_fonts
    from hardtech.services.report import write_report

    langs = ["en", "zh"] if cjk_fonts() else ["en"]
    for lang in langs:
        with out.console.status(f"writing the white paper ({lang}) …"):
            r = write_report(db, folder, lang=lang, pdf=True)
        out.message(f"[bold]white paper ({lang}):[/bold] {r['html']}  and  {r['pdf']}")
    if langs == ["en"]:
        out.message("  no CJK font found (fc-list :lang=zh): the Chinese white paper was skipped; "
                    "install fonts-noto-cjk and run `hardtech report --lang zh --pdf --out DIR`")
