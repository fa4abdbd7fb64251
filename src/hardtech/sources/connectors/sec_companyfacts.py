"""SEC XBRL company facts: 10-K R&D, revenue, operating income, capex and head count per fiscal year.

Reads what EDGAR publishes at data.sec.gov/api/xbrl/companyfacts: one `CIK##########.json`
per company, or the nightly bulk archive `companyfacts.zip` holding all of them (or a folder
of such files). Every fact carries the filing it came from (`accn`, `form`, `fy`, `fp`,
`filed`), and a 10-K repeats the two previous years as comparatives, so the fiscal year of a
figure is not simply the filing's `fy`:

- only annual facts are used: forms 10-K, 20-F, 40-F (and amendments), `fp` = FY, a period of
  300–400 days;
- a filing's own year is the latest period it reports; a comparative period one year earlier
  belongs to `fy − 1`, and so on;
- per fiscal year the figure from that year's own report wins (its latest amendment), else the
  latest restatement in a later report; the note on each row names the filing;
- revenue is the first of several us-gaap concepts the company uses that year (`Revenues`,
  then ASC 606 `RevenueFromContractWithCustomer…`, then the older `SalesRevenueNet`, …);
- head count is `dei:EntityNumberOfEmployees` where a filer reports it (few do).

The organisation is the filer, identified by its CIK (`sec:0001318605`); Form D issuers get
the same id, so the two SEC sources meet without name matching.
"""

from __future__ import annotations

import datetime as dt
import json
import zipfile
from collections import defaultdict
from pathlib import Path
from typing import Iterator

from hardtech.errors import SourceError
from hardtech.sources.connectors.base import Extraction, FileSpec, Output, check_layout, connector, extract_of
from hardtech.sources.readers import file_sha256

ANNUAL_FORMS = {"10-K", "10-K/A", "10-KT", "10-KT/A", "20-F", "20-F/A", "40-F", "40-F/A"}
# (taxonomy, concept) in order of preference, per column
CONCEPTS: dict[str, tuple[tuple[str, str], ...]] = {
    "rd_expense": (("us-gaap", "ResearchAndDevelopmentExpense"),
                   ("us-gaap", "ResearchAndDevelopmentExpenseExcludingAcquiredInProcessCost"),
                   ("ifrs-full", "ResearchAndDevelopmentExpense")),
    "revenue": (("us-gaap", "Revenues"),
                ("us-gaap", "RevenueFromContractWithCustomerExcludingAssessedTax"),
                ("us-gaap", "RevenueFromContractWithCustomerIncludingAssessedTax"),
                ("us-gaap", "SalesRevenueNet"),
                ("us-gaap", "SalesRevenueGoodsNet"),
                ("ifrs-full", "Revenue")),
    "operating_profit": (("us-gaap", "OperatingIncomeLoss"), ("ifrs-full", "ProfitLossFromOperatingActivities")),
    "capex": (("us-gaap", "PaymentsToAcquirePropertyPlantAndEquipment"),
              ("ifrs-full", "PurchaseOfPropertyPlantAndEquipmentClassifiedAsInvestingActivities")),
}
EMPLOYEES = ("dei", "EntityNumberOfEmployees")
MONEY = tuple(CONCEPTS)

FILES = (FileSpec("companyfacts", ("cik*.json", "companyfacts.zip", "*.json", "*.zip"),
                  required=("cik", "entityName", "facts"), layout="SEC XBRL company facts (companyfacts JSON)"),)
ORGS = Output("organizations", ("org_id", "kind", "name_en"), patch=True)
FIN = Output("financials", ("org_id", "fiscal_year", "currency", "revenue", "rd_expense", "operating_profit", "capex",
                            "employees", "note"),
             relax=("rd_far_above_revenue",))  # pre-revenue biotechs file real R&D far above revenue


def cik_org_id(cik) -> str:
    """`sec:` and the ten-digit CIK, as EDGAR writes it (CIK0001318605.json)."""
    return f"sec:{int(str(cik).strip()):010d}"


@connector(
    name="sec_companyfacts", title="SEC XBRL company facts",
    description="Annual 10-K/20-F figures filed in XBRL: R&D expense, revenue, operating income, capex, "
                "employees (where filed), by fiscal year; the filer (CIK) as organisation.",
    licence="Public domain (U.S. government work, SEC EDGAR); cite SEC EDGAR XBRL company facts",
    source_url="https://www.sec.gov/edgar/sec-api-documentation",
    files=FILES, outputs=(ORGS, FIN),
    unresolved="Never: every figure belongs to the filer of its file, which becomes the organisation `sec:<CIK>`.",
    point_at="a CIK##########.json, the bulk companyfacts.zip, or a folder of such files",
)
def sec_companyfacts(src) -> Extraction:
    out = Extraction()
    orgs, org_lines, fins, fin_lines = [], [], [], []
    skipped = 0
    for n, (member, obj) in enumerate(_companies(src.path), start=1):
        check_layout(FILES[0], obj.keys(), member)
        org_id = cik_org_id(obj["cik"])
        orgs.append({"org_id": org_id, "kind": "company", "name_en": obj.get("entityName") or None})
        org_lines.append(n)
        rows = annual_rows(obj.get("facts") or {}, member)
        if not rows:
            skipped += 1
        for r in rows:
            fins.append({"org_id": org_id, **r})
            fin_lines.append(len(fin_lines) + 1)
    if not orgs:
        raise SourceError(f"{src.path.name}: no company facts found (expected CIK##########.json files)")
    fh = _hash(src.path)
    out.extracts.append(extract_of(ORGS, orgs, org_lines, src.path, fh))
    out.extracts.append(extract_of(FIN, fins, fin_lines, src.path, fh))
    if skipped:
        out.notes.append(f"{skipped} of {len(orgs)} companies have no annual R&D, revenue, operating income, capex "
                         "or head count in 10-K/20-F/40-F filings (organisation kept, no financials)")
    return out


def _hash(path: Path) -> str:
    if path.is_dir():
        import hashlib

        h = hashlib.sha256()
        for f in sorted(path.glob("*.json")):
            h.update(f.name.encode())
            h.update(file_sha256(f).encode())
        return h.hexdigest()
    return file_sha256(path)


def _companies(path: Path) -> Iterator[tuple[str, dict]]:
    """(file name, parsed JSON) of each company: one file, a folder of files, or the bulk zip."""
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() == ".json")
        for f in files:
            yield f.name, _load(f.read_bytes(), f.name)
    elif zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            for name in sorted(n for n in z.namelist() if n.lower().endswith(".json")):
                yield Path(name).name, _load(z.read(name), name)
    else:
        yield path.name, _load(path.read_bytes(), path.name)


def _load(raw: bytes, name: str) -> dict:
    try:
        obj = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise SourceError(f"{name}: not valid JSON ({exc.msg}, line {exc.lineno})") from exc
    if not isinstance(obj, dict):
        raise SourceError(f"{name}: expected one JSON object per company, found {type(obj).__name__}")
    return obj


def _date(s) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(s)[:10])
    except ValueError:
        return None


def _annual_facts(facts: dict, concept: tuple[str, str], currency: str | None) -> list[dict]:
    taxonomy, name = concept
    units = ((facts.get(taxonomy) or {}).get(name) or {}).get("units") or {}
    out = []
    for unit, items in units.items():
        if currency is not None and unit != currency:
            continue
        for f in items:
            if f.get("form") not in ANNUAL_FORMS or f.get("fp") not in ("FY", None):
                continue
            start, end = _date(f.get("start")), _date(f.get("end"))
            if currency is not None:  # money concepts are flows over a year
                if start is None or end is None or not 300 <= (end - start).days <= 400:
                    continue
            elif end is None:
                continue
            out.append({**f, "_end": end, "_unit": unit, "_concept": name})
    return out


def _currency(facts: dict) -> str | None:
    """The currency most of the company's money facts are in (USD for nearly every filer)."""
    counts: dict[str, int] = defaultdict(int)
    for col in MONEY:
        for taxonomy, name in CONCEPTS[col]:
            for unit, items in (((facts.get(taxonomy) or {}).get(name) or {}).get("units") or {}).items():
                if len(unit) == 3 and unit.isalpha() and unit.isupper():
                    counts[unit] += len(items)
    return max(counts, key=lambda u: (counts[u], u == "USD")) if counts else None


def _fiscal_year(f: dict, filing_end: dict[str, dt.date]) -> int | None:
    """The fiscal year of a fact: its filing's `fy`, minus one per year the period precedes the filing's own."""
    end = f["_end"]
    fy = f.get("fy")
    own = filing_end.get(f.get("accn"))
    if isinstance(fy, int) and own is not None:
        year = fy - round((own - end).days / 365.25)
        if abs(year - end.year) <= 1:
            return year
    return (end - dt.timedelta(days=7)).year  # 52/53-week years closing in early January belong to the year before


def annual_rows(facts: dict, member: str) -> list[dict]:
    """One dict per fiscal year with the columns found (text values) and a note naming the filing."""
    currency = _currency(facts)
    by_col: dict[str, list[dict]] = {}
    for col in MONEY:
        by_col[col] = [f for c in CONCEPTS[col] for f in _annual_facts(facts, c, currency)] if currency else []
    filing_end: dict[str, dt.date] = {}
    for items in by_col.values():
        for f in items:
            a = f.get("accn")
            if a and (a not in filing_end or f["_end"] > filing_end[a]):
                filing_end[a] = f["_end"]
    rows: dict[int, dict] = defaultdict(dict)
    notes: dict[int, str] = {}
    for col in MONEY:
        order = {c[1]: i for i, c in enumerate(CONCEPTS[col])}
        by_year: dict[int, list[dict]] = defaultdict(list)
        for f in by_col[col]:
            y = _fiscal_year(f, filing_end)
            if y is not None:
                by_year[y].append(f)
        for year, items in by_year.items():
            best = min(items, key=lambda f: (order[f["_concept"]], f.get("fy") != year, _neg_date(f.get("filed"))))
            rows[year][col] = _num(best["val"])
            if col in ("rd_expense", "revenue") and (year not in notes or col == "rd_expense"):
                notes[year] = f"{best.get('form')} {best.get('accn')} filed {best.get('filed')}"
    for f in _annual_facts(facts, EMPLOYEES, None):
        year = f.get("fy") if isinstance(f.get("fy"), int) else f["_end"].year
        prev = rows[year].get("_emp_filed")
        if prev is None or str(f.get("filed")) > prev:
            rows[year]["employees"] = _num(f["val"])
            rows[year]["_emp_filed"] = str(f.get("filed"))
    out = []
    for year in sorted(rows):
        r = {k: v for k, v in rows[year].items() if not k.startswith("_")}
        if not r:
            continue
        money = any(k in r for k in MONEY)
        r.update({"fiscal_year": str(year), "currency": currency if money else "USD",
                  "note": f"SEC XBRL companyfacts {member}" + (f": {notes[year]}" if year in notes else "")})
        out.append(r)
    return out


def _neg_date(s) -> int:
    d = _date(s)
    return -(d.toordinal() if d else 0)


def _num(v) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)
