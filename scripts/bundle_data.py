"""Build `src/hardtech/data/bundled/` from ../shared/data: the open data a fresh clone's demo runs on.

Why a script: the bundled files must be reproducible from the third-party originals (a test rebuilds
them and compares contents when ../shared/data is present), and only the files that
../shared/data/SOURCES.md marks "may ship" may go in, with their source, licence and citation
beside them. Everything about each file (which columns, which rows, where it came from, its
licence) is written once, in FILES below; the README and the manifest are generated from it.

Usage:  python scripts/bundle_data.py [--shared ../shared/data] [--out src/hardtech/data/bundled]

Every cell is kept as the text the CSV has (an empty cell becomes null), so importing a bundled
file gives exactly what importing the original CSV gives; Parquet with zstd keeps them small.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SHARED = ROOT.parent / "shared" / "data"
DEFAULT_OUT = ROOT / "src" / "hardtech" / "data" / "bundled"
MANIFEST = "manifest.json"

# The patent subset: every patent keeps its number, title and CPC codes; the abstract (most of the
# size) is kept for the patents the assignee list also covers (those can be tied to an organisation)
# and for those whose SHA-256 of the publication number starts with one of these hex digits
# (3/16 of the rest, chosen by hash so the choice is reproducible and owes nothing to content).
ABSTRACT_HASH_PREFIXES = ("0", "1", "2")


@dataclass(frozen=True)
class Bundled:
    """One bundled file: where it comes from, what is kept, and what it is for."""

    original: str                   # file name in ../shared/data
    name: str                       # bundled file stem
    title: str
    licence: str                    # as the source states it (the mapping's `licence` when there is one)
    citation: str
    origin: str                     # public repository @ commit : path (from SOURCES.md)
    feeds: str                      # what it feeds in hardtech
    mapping: str | None = None      # the shipped mapping that imports it
    columns: tuple[str, ...] = ()   # columns kept (all when empty)
    read: dict = field(default_factory=dict)
    subset: str = ""                # how rows or cells were selected, when not all are kept


FILES: tuple[Bundled, ...] = (
    Bundled(
        "jrc_oecd_rd_top2000_2015_2018.csv", "jrc_oecd_rd_top2000_2015_2018",
        "World top-2000 corporate R&D investors, 2015–2018 (JRC–OECD COR&DIP); money in EUR million",
        licence="", citation="JRC–OECD, COR&DIP database, World Corporate Top R&D Investors 2015–2018",
        origin="mikcop/Innovation-and-Profitability @ 5fca6572ae9b : panel_2015_2018.csv",
        feeds="organizations (2,000 companies: name, country, NACE and ISIC codes) and financials (R&D, net "
              "sales, capex, operating profit, employees, patent filings by office, trademarks): the R&D "
              "ranking, the hardness score, the STAR test, the landscape and the white paper",
        mapping="jrc_oecd"),
    Bundled(
        "nyse_fundamentals_2012_2016.csv", "nyse_fundamentals_2012_2016",
        "Annual 10-K figures of NYSE companies, 2012–2016 (USD)",
        licence="", citation="Kaggle, \"NYSE fundamentals\" (fundamentals.csv)",
        origin="K-Wang0121/Stock-Market-Visualization-Project @ 75d9af2c649b",
        feeds="financials (revenue, R&D, capex, operating income) of about 450 US companies, and their "
              "organisations as ticker stubs: the US R&D ranking 2012–2016 and the hardness score",
        mapping="nyse_fundamentals",
        columns=("Ticker Symbol", "Period Ending", "Total Revenue", "Research and Development",
                 "Capital Expenditures", "Operating Income", "For Year"),
        read={"index_col": 0},  # the header is one column shorter than the rows: the first is an index
        subset="all rows; only the columns the mapping reads (and `For Year`, for checking the fiscal year)"),
    Bundled(
        "nyse_securities_gics.csv", "nyse_securities_gics",
        "NYSE securities: ticker, company, GICS sector and sub-industry, headquarters, CIK",
        licence="", citation="Kaggle, \"NYSE\" dataset (securities.csv)",
        origin="K-Wang0121/Stock-Market-Visualization-Project @ 75d9af2c649b",
        feeds="organizations: names, headquarters and GICS codes of the NYSE companies (the classifier's "
              "code signals, the STAR negative list)",
        mapping="nyse_securities"),
    Bundled(
        "sp500_constituents_gics.csv", "sp500_constituents_gics",
        "S&P 500 constituents with GICS sector and sub-industry, headquarters, CIK and founding year",
        licence="", citation="datasets/s-and-p-500-companies (S&P 500 companies with financial information)",
        origin="datasets/s-and-p-500-companies @ 56509dd80619",
        feeds="organizations: names, headquarters, founding years and GICS codes",
        mapping="sp500_gics"),
    Bundled(
        "wipo_ipc_technology_concordance.csv", "wipo_ipc_technology_concordance",
        "WIPO IPC → 35 technology fields in 5 sectors (Schmoch); `%` is a prefix wildcard",
        licence="public domain (US government work, via PatentsView)",
        citation="Schmoch, U. (2008), Concept of a Technology Classification for Country Comparisons, WIPO",
        origin="PatentsView/PatentsView-DB @ f8aedf48",
        feeds="not imported into the store: the IPC rows of concordances/ipc_cpc.csv are derived from it "
              "(regenerate and check them without ../shared)"),
    Bundled(
        "patents_ai_cpc_31k.csv", "patents_ai_cpc_31k",
        "Patents found by AI keyword searches on Google Patents: number, title, abstract, CPC codes",
        licence="", citation="faysalalmahmud/ai-patent-cpc-code-classifier (scraped Google Patents results)",
        origin="faysalalmahmud/ai-patent-cpc-code-classifier @ 553fb758e5f8 : data/scraped/",
        feeds="patents (number, title, CPC codes; the abstract for the subset): the classifier over patents "
              "and the patent landscape",
        mapping="patents_ai_cpc", columns=("publication_number", "title", "abstract", "cpc_codes"),
        subset="all 31,044 rows with number, title and CPC codes; the abstract only for the patents the "
               "assignee list also covers and for those whose SHA-256 of the publication number starts with "
               f"{', '.join(ABSTRACT_HASH_PREFIXES)} (empty elsewhere); the scrape-batch column `src_file` dropped"),
    Bundled(
        "patents_ai_assignee_dates.csv", "patents_ai_assignee_dates",
        "The same searches' result lists: publication number, title, assignee, priority/filing/publication/"
        "grant dates",
        licence="", citation="faysalalmahmud/ai-patent-cpc-code-classifier (Google Patents result lists)",
        origin="faysalalmahmud/ai-patent-cpc-code-classifier @ 553fb758e5f8 : data/downloads_patent_urls/",
        feeds="patents: assignees and dates (patches the CPC rows, adds the others)",
        mapping="patents_ai_assignee_dates",
        columns=("id", "title", "assignee", "priority date", "filing/creation date", "publication date",
                 "grant date"),
        subset="all rows; the `result link` column (a URL built from the number) dropped"),
    Bundled(
        "cn_ashare_listed_2019.csv", "cn_ashare_listed_2019",
        "A-share listed companies as of 2019-04-29: code, name, industry, area (province), listing date",
        licence="", citation="tushare get_stock_basics, 2019-04-29",
        origin="foamliu/Auto-Trade @ 7567b7f42c35",
        feeds="organizations: 3,621 Chinese listed companies with exchange, province and A-share industry "
              "(the regional view and the classifier's code signals)",
        mapping="cn_ashare_2019", columns=("code", "name", "industry", "area", "timeToMarket"),
        subset="all rows; only the factual columns (the financial ratios are not bundled)"),
    Bundled(
        "cn_universities_moe_2017.csv", "cn_universities_moe_2017",
        "Ministry of Education list of Chinese higher-education institutions (2017)",
        licence="", citation="Ministry of Education of the PRC, list of higher-education institutions (2017)",
        origin="Base-Technology/base-interface @ 9a4926d86089 : src/layouts/Header/schoolData.ts (converted)",
        feeds="organizations: 2,631 universities and colleges by province and city (basic research in the "
              "regional scorecards, institutions near a company)",
        mapping="moe_universities_2017"),
)


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def content_sha256(df: pd.DataFrame) -> str:
    """A hash of the cells (columns, then rows as text; null ≠ empty), independent of Parquet's bytes."""
    h = hashlib.sha256(json.dumps(list(df.columns)).encode())
    for row in df.itertuples(index=False):
        h.update(json.dumps([None if pd.isna(v) else str(v) for v in row], ensure_ascii=False).encode())
    return h.hexdigest()


def _licence(spec: Bundled) -> str:
    if spec.licence:
        return spec.licence
    sys.path.insert(0, str(ROOT / "src"))
    from hardtech.sources.mapping import load_mapping

    return load_mapping(spec.mapping).licence


def _frame(spec: Bundled, shared: Path) -> pd.DataFrame:
    df = pd.read_csv(shared / spec.original, dtype=str, keep_default_na=False, na_values=[""],
                     encoding="utf-8-sig", **spec.read)
    if spec.read.get("index_col") is not None:
        df = df.reset_index(drop=True)
    if spec.columns:
        df = df[list(spec.columns)]
    if spec.name == "patents_ai_cpc_31k":
        assignees = pd.read_csv(shared / "patents_ai_assignee_dates.csv", dtype=str, keep_default_na=False,
                                usecols=["id"])
        listed = set(assignees["id"].str.replace("-", "", regex=False))
        keep = df["publication_number"].map(
            lambda n: n in listed or hashlib.sha256(n.encode()).hexdigest()[0] in ABSTRACT_HASH_PREFIXES)
        df = df.assign(abstract=df["abstract"].where(keep))
    return df


def build(shared: Path, out: Path) -> dict:
    """Write every bundled file and the manifest; returns the manifest."""
    missing = [s.original for s in FILES if not (shared / s.original).exists()]
    if missing:
        raise SystemExit(f"not in {shared}: {', '.join(missing)} (the third-party data lives in ../shared/data)")
    out.mkdir(parents=True, exist_ok=True)
    entries = []
    for spec in FILES:
        df = _frame(spec, shared)
        table = pa.Table.from_pandas(df, preserve_index=False)
        table = table.replace_schema_metadata(None)  # no pandas metadata: the bytes depend on the cells only
        target = out / f"{spec.name}.parquet"
        pq.write_table(table, target, compression="zstd", compression_level=19)
        entries.append({
            "file": target.name, "original": spec.original, "title": spec.title, "licence": _licence(spec),
            "citation": spec.citation, "origin": spec.origin, "feeds": spec.feeds, "mapping": spec.mapping,
            "rows": int(len(df)), "columns": list(df.columns), "subset": spec.subset or "all rows and columns",
            "original_sha256": _sha256_file(shared / spec.original), "content_sha256": content_sha256(df),
            "bytes": target.stat().st_size,
        })
    manifest = {"generated_by": "scripts/bundle_data.py", "source_list": "../shared/data/SOURCES.md",
                "files": entries}
    (out / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    (out / "README.md").write_text(readme(manifest), encoding="utf-8")
    return manifest


def readme(manifest: dict) -> str:
    lines = [
        "# Bundled open data (generated by `scripts/bundle_data.py`; do not edit by hand)",
        "",
        "Third-party files whose licence allows redistribution (`../shared/data/SOURCES.md` marks them "
        "\"may ship\"), so that a fresh clone's `hardtech demo` runs on real figures without `../shared`. "
        "Each is a zstd-compressed Parquet file whose cells are the original CSV's text (an empty cell is "
        "null); `manifest.json` holds the same facts as this page for programs. Every row imported from "
        "them carries its source (`source_name`) and licence (`source_licence`). What each feeds, and the "
        "limits of what the data can say, are in [docs/bundled-data.md](../../../../docs/bundled-data.md).",
        "",
        "Rebuild (needs `../shared/data`): `python scripts/bundle_data.py`. A test rebuilds them and "
        "compares the contents with these files.",
        "",
    ]
    for e in manifest["files"]:
        lines += [
            f"## `{e['file']}`", "",
            f"{e['title']}.", "",
            "| | |", "|---|---|",
            f"| original | `{e['original']}` (SHA-256 `{e['original_sha256']}`) |",
            f"| origin | {e['origin']} |",
            f"| licence, as stated | {e['licence']} |",
            f"| cite as | {e['citation']} |",
            f"| rows | {e['rows']:,} |",
            f"| kept | {e['subset']} |",
            f"| columns | {', '.join('`' + c + '`' for c in e['columns'])} |",
            f"| imported by | {'mapping `' + e['mapping'] + '`' if e['mapping'] else 'not imported'} |",
            f"| feeds | {e['feeds']} |",
            f"| size | {e['bytes'] / 1e6:.2f} MB |",
            "",
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args(argv)
    m = build(args.shared, args.out)
    total = sum(e["bytes"] for e in m["files"])
    for e in m["files"]:
        print(f"{e['file']:<45} {e['rows']:>7,} rows {e['bytes'] / 1e6:6.2f} MB")
    print(f"{'total':<45} {'':>12} {total / 1e6:6.2f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
