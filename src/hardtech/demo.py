"""`hardtech demo`: build a store from the bundled demo data and print the landscape.

The demo store holds only what we wrote (organisations, investors, regions, the Huawei R&D
series with its sources) plus, when `../shared/data` is present, the third-party figures for the
demo companies that appear in the JRC–OECD panel, each with that panel as its source. Nothing
in it is synthetic.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from importlib import resources
from pathlib import Path

import pandas as pd

from hardtech.sources.mapping import load_mapping, parse_mapping
from hardtech.store.connection import Store
from hardtech.store.importer import import_file
from hardtech.store.scores_read import ONE_VERSION_SCORES

DEMO_SOURCE = "hardtech demo data (written by the hardtech authors)"
HUAWEI_SOURCE = "Huawei annual reports 2013–2023 (via hardtech domain reference)"


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


def build_demo_store(db: Path, shared: Path | None = None, progress=None) -> dict:
    """Create (or refresh) the demo store at `db`; returns what was loaded, for the summary."""
    say = progress or (lambda msg: None)
    d = demo_dir()
    notes = []
    with Store(db) as store:
        say("regions")
        import_file(store, "regions", d / "regions.csv", source=DEMO_SOURCE,
                    mapping=parse_mapping(_identity("regions", ["region_id", "name_en", "name_zh", "aliases", "level",
                                                                "parent_id", "country"])))
        say("organisations")
        org_cols = ["org_id", "kind", "name_en", "name_zh", "aliases", "country", "province", "city", "founded",
                    "description_en", "description_zh", "exchange", "ticker", "ownership", "industry_codes", "website"]
        import_file(store, "organizations", d / "organizations.csv", source=DEMO_SOURCE,
                    mapping=parse_mapping(_identity("organizations", org_cols)))
        say("investors")
        import_file(store, "investors", d / "investors.csv", source=DEMO_SOURCE,
                    mapping=parse_mapping(_identity("investors", ["investor_id", "name_en", "name_zh", "aliases", "kind",
                                                                  "country", "city", "thesis_fields", "stages",
                                                                  "regions", "description"])))
        say("Huawei R&D series")
        import_file(store, "financials", d / "financials_huawei.csv", source=HUAWEI_SOURCE,
                    mapping=parse_mapping(_identity("financials", ["org_id", "fiscal_year", "currency", "note"],
                                                    {"rd_expense": {"column": "rd_expense", "unit": "CNY million"}})))
        if shared is not None:
            say("JRC–OECD figures for demo companies")
            notes.append(_import_jrc_for_demo(store, shared))
            say("unicorn list: funding and investors")
            notes.append(_import_unicorns_for_demo(store, shared))
        else:
            notes.append("../shared/data not found: the demo has no JRC–OECD figures (only the Huawei series)")
    say("classifying organisations")
    from hardtech.services.classify import classify_store

    classify_store(db, "organizations")
    say("scoring hardness")
    from hardtech.services.scoring import score_rows

    score_rows(db)
    with Store(db, read_only=True) as store:
        counts = store.counts()
    return {"counts": counts, "notes": notes}


def _import_jrc_for_demo(store: Store, shared: Path) -> str:
    """The panel's own rows for the demo companies, attached to the demo organisation ids."""
    orgs = pd.read_csv(demo_dir() / "organizations.csv", dtype=str, keep_default_na=False)
    # a company whose own reports are already in the store keeps them as its only series (Huawei)
    own = {r[0] for r in store.con.execute("SELECT DISTINCT org_id FROM financials").fetchall()}
    links = {int(r.jrc_company_id): r.org_id for r in orgs.itertuples() if r.jrc_company_id and r.org_id not in own}
    panel = pd.read_csv(shared / "jrc_oecd_rd_top2000_2015_2018.csv")
    sub = panel[panel.company_id.isin(links)].copy()
    sub["demo_org_id"] = sub.company_id.map(links)
    jrc = load_mapping("jrc_oecd")
    cols = {k: v for k, v in _raw_columns(jrc.path, "financials").items()}
    cols["org_id"] = "demo_org_id"
    mapping = parse_mapping({"name": "jrc_oecd_demo", "version": jrc.version, "source": jrc.source,
                             "targets": {"financials": {"relax": ["rd_far_above_revenue"], "columns": cols}}})
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "jrc_oecd_demo_companies.csv"
        sub.to_csv(path, index=False)
        r = import_file(store, "financials", path, mapping=mapping, source=jrc.source)
    return (f"JRC–OECD panel: {r.targets[0].inserted + r.targets[0].unchanged + r.targets[0].updated} "
            f"financial rows for {sub.company_id.nunique()} demo companies")


def _import_unicorns_for_demo(store: Store, shared: Path) -> str:
    """The CB Insights unicorn list, as shipped: the only real funding data we can show offline.

    Our own demo files carry no funding rounds (we do not invent amounts); the list gives each company's total
    funding to date and its investors, imported as one `cumulative` round dated on the day it joined the list, so
    flows, the capital factor of the regional scorecards, clusters' investors and matching have real inputs.
    """
    path = shared / "unicorns_2022.csv"
    if not path.exists():
        return "unicorn list not found: the demo has no funding rounds"
    r = import_file(store, "auto", path, mapping=load_mapping("unicorns_2022"))
    got = {t.table: t.inserted + t.updated + t.unchanged for t in r.targets}
    return (f"unicorn list 2022: {got.get('funding_rounds', 0)} companies' cumulative funding (one round each), "
            f"{got.get('investors', 0)} investors")


def _raw_columns(path: Path, table: str) -> dict:
    import yaml

    return yaml.safe_load(Path(path).read_text(encoding="utf-8"))["targets"][table]["columns"]


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
            WITH latest AS (SELECT *, row_number() OVER (PARTITION BY org_id ORDER BY year DESC) AS rn
                            FROM """ + ONE_VERSION_SCORES + """)
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
