"""EU Industrial R&D Investment Scoreboard: the yearly spreadsheet of the world's top R&D investors.

The JRC publishes each edition as an Excel file (`SB2023_World2500.xlsx`, …) whose columns
change from edition to edition, so columns are recognised by what they say rather than by
position:

- 2023–: `Rank`, `Company`, `Year`, `Country`, `Region`, `Industry`, `R&D (€ million)`,
  `Net sales (€ million)`, `Capex (€ million)`, `Op. profits (€ million)`, `Employees`, …;
- 2019–2022: `World rank`, `Company`, `Country`, `Region`, `Industry` (2021–22: `Industry -ICB3
  sector name`), `R&D 2018/19 (€million)` — the fiscal year is in the R&D header —,
  `Net sales (€million)`, `Capex (€million)`, `Op.profits (€million)`, `Employees`, …;
- editions with title rows above the header: the header is the first row naming `Company`
  and an R&D column.

Money is EUR million (scaled on import). The edition is taken from the file name (`SB2023`),
else it is the fiscal year + 1, and names the source, so two editions' figures for one year
stay side by side. The ICB sector is kept in the description (no ICB concordance exists yet).
"""

from __future__ import annotations

import re
from pathlib import Path

from hardtech.errors import SourceError
from hardtech.sources.connectors.base import (Extraction, FileSpec, LayoutError, Output, connector, extract_of,
                                              slug)
from hardtech.sources.readers import file_sha256

EURM = r"\(\s*€\s*(?:million|mn|m)\s*\)"
ROLES: dict[str, str] = {
    "company": r"company( name)?",
    "country": r"country",
    "year": r"year",
    "rank": r"(world )?rank",
    "industry": r"industry( -? ?icb3 sector name)?|industrial sector \(icb-3d\)|icb3? sector( name)?",
    "rd": rf"r&d( (?P<y>\d{{4}})(/\d{{2}})?)? {EURM}",
    "revenue": rf"net sales( \d{{4}}(/\d{{2}})?)? {EURM}",
    "capex": rf"capex( \d{{4}}(/\d{{2}})?)? {EURM}",
    "operating_profit": rf"op\.? ?profits?( \d{{4}}(/\d{{2}})?)? {EURM}",
    "employees": r"employees( \d{4}(/\d{2})?)?",
}
FILES = (FileSpec("edition", ("sb*.xlsx", "*.xlsx", "*.xls", "*.csv"), required=("Company", "Country", "R&D (€ million)"),
                  optional=("Rank", "Year", "Region", "Industry", "Net sales (€ million)", "Capex (€ million)",
                            "Op. profits (€ million)", "Employees"),
                  renamed={"R&D 2018/19 (€million)": "R&D (€ million)", "World rank": "Rank"},
                  layout="EU Industrial R&D Investment Scoreboard (World 2500 / EU 1000)"),)
ORGS = Output("organizations", ("org_id", "kind", "name_en", "country", "description_en"), patch=True)
FIN = Output("financials", ("org_id", "fiscal_year", "currency", "rd_expense", "revenue", "capex", "operating_profit",
                            "employees", "note"),
             units={"rd_expense": "EUR million", "revenue": "EUR million", "capex": "EUR million",
                    "operating_profit": "EUR million"},
             relax=("rd_far_above_revenue",))  # pre-revenue biotechs are in the Scoreboard with real figures
EMPTY = {"", "n.a.", "na", "n/a", "-", "nan", "none"}


@connector(
    name="eu_scoreboard", title="EU Industrial R&D Investment Scoreboard",
    description="The JRC's yearly ranking of the top R&D investors (World 2500 / EU 1000 spreadsheets): R&D, net "
                "sales, capex, operating profit and employees per company for the edition's fiscal year.",
    licence="European Commission reuse policy (Decision 2011/833/EU, CC BY 4.0); cite EU Industrial R&D Investment "
            "Scoreboard, European Commission JRC",
    source_url="https://iri.jrc.ec.europa.eu/data",
    files=FILES, outputs=(ORGS, FIN),
    unresolved="Never: each company row is its own organisation `eusb:<name>`; linking it to the same company "
               "in other sources is entity resolution's work.",
    point_at="an edition's spreadsheet (SB2023_World2500.xlsx …) or a folder of editions",
)
def eu_scoreboard(src) -> Extraction:
    out = Extraction()
    files = [src.path] if src.path.is_file() else src.files("*.xlsx") + src.files("*.xls") + src.files("*.csv")
    if not files:
        raise SourceError(f"{src.path.name}: no Scoreboard spreadsheet here (.xlsx, .xls or .csv)")
    for path in files:
        _edition(path, out)
    return out


def _cells(path: Path) -> list[tuple[str, list[list]]]:
    import pandas as pd

    if path.suffix.lower() == ".csv":
        from hardtech.sources.readers import read_table

        t = read_table(path).table
        names = [c for c in t.column_names if c != "__line"]
        return [("csv", [names] + [[r[c] for c in names] for r in t.to_pylist()])]
    try:
        sheets = pd.read_excel(path, sheet_name=None, header=None, dtype=object)
    except (ValueError, ImportError) as exc:
        raise SourceError(f"{path.name}: cannot read as a spreadsheet ({exc})") from exc
    return [(name, df.where(df.notna(), None).values.tolist()) for name, df in sheets.items()]


def _match(header: list) -> dict[str, tuple[int, re.Match]]:
    found: dict[str, tuple[int, re.Match]] = {}
    for i, h in enumerate(header):
        text = re.sub(r"\s+", " ", str(h or "")).strip().lower()
        for role, pat in ROLES.items():
            m = re.fullmatch(pat, text)
            if m and role not in found:
                found[role] = (i, m)
    return found


def _edition(path: Path, out: Extraction) -> None:
    best = None
    for sheet, rows in _cells(path):
        for n, row in enumerate(rows[:40]):
            roles = _match(row)
            if "company" in roles and "rd" in roles:
                best = (sheet, rows, n, roles)
                break
        if best:
            break
    if best is None:
        first = next((r for _, rows in _cells(path) for r in rows[:1]), [])
        shown = ", ".join(str(c) for c in first if c is not None)[:300]
        raise LayoutError(f"{path.name}: not an EU R&D Scoreboard layout — no header row names both 'Company' and an "
                          f"R&D column such as 'R&D (€ million)' (2023–) or 'R&D 2018/19 (€million)' (2019–2022); "
                          f"the first row reads: {shown or '(empty)'}")
    sheet, rows, hdr, roles = best
    header = [str(h) if h is not None else "" for h in rows[hdr]]
    missing = [r for r in ("country",) if r not in roles]
    if missing:
        raise LayoutError(f"{path.name}: the Scoreboard header (row {hdr + 1}) has no 'Country' column; "
                          f"its columns are: {', '.join(h for h in header if h)}")
    rd_year = roles["rd"][1].group("y")
    if "year" not in roles and not rd_year:
        raise LayoutError(f"{path.name}: cannot tell the fiscal year — no 'Year' column and the R&D column "
                          f"({header[roles['rd'][0]]!r}) names no year, as 'R&D 2018/19 (€million)' does")
    m = re.search(r"sb\s*(\d{4})", path.name.lower())
    used = {i for i, _ in roles.values()}
    out.ignored_columns += [f"{path.name}: {h}" for i, h in enumerate(header) if h and i not in used]
    orgs, fins, lines = [], [], []
    editions = set()
    for n, row in enumerate(rows[hdr + 1:], start=hdr + 2):
        get = lambda role: _val(row, roles, role)  # noqa: E731
        company = get("company")
        if not company:
            continue
        year = get("year") or rd_year
        year = str(int(float(year))) if year and re.fullmatch(r"\d{4}(\.0+)?", str(year)) else year
        edition = m.group(1) if m else (str(int(year) + 1) if year and str(year).isdigit() else "")
        editions.add(edition)
        org_id = f"eusb:{slug(company)}"
        industry = get("industry")
        orgs.append({"org_id": org_id, "kind": "company", "name_en": company, "country": get("country"),
                     "description_en": f"Industry (ICB): {industry}" if industry else None})
        rank = get("rank")
        fins.append({"org_id": org_id, "fiscal_year": year, "currency": "EUR", "rd_expense": get("rd"),
                     "revenue": get("revenue"), "capex": get("capex"), "operating_profit": get("operating_profit"),
                     "employees": get("employees"),
                     "note": f"EU Industrial R&D Investment Scoreboard {edition}"
                             + (f", world rank {rank}" if rank else "") + f" ({path.name}, sheet {sheet})"})
        lines.append(n)
    source = "EU Industrial R&D Investment Scoreboard" + (f" {editions.pop()}" if len(editions) == 1 else "")
    fh = file_sha256(path)
    out.extracts.append(extract_of(ORGS, orgs, lines, path, fh, source))
    out.extracts.append(extract_of(FIN, fins, lines, path, fh, source))


def _val(row: list, roles: dict, role: str) -> str | None:
    if role not in roles:
        return None
    i = roles[role][0]
    v = row[i] if i < len(row) else None
    if v is None:
        return None
    if isinstance(v, float):
        v = repr(v) if not v.is_integer() else str(int(v))
    v = str(v).strip()
    return None if v.lower() in EMPTY else v
