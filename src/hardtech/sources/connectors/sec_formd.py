"""SEC Form D quarterly data sets: private offerings of US issuers, read as funding rounds.

Each quarter SEC publishes a zip (`2024q1_d.zip`) of tab-separated tables derived from the
Form D notices filed that quarter; three carry what a round needs:

- `FORMDSUBMISSION.tsv` — accession number, filing date (`05-MAR-2024`), form (`D`, `D/A`);
- `ISSUERS.tsv` — the issuers of each filing; the primary one (`IS_PRIMARYISSUER_FLAG` YES)
  is the organisation: CIK, name, city, state, year of incorporation;
- `OFFERING.tsv` — industry group, total amount sold, date of first sale, amendment links.

An amendment (`D/A`) restates the same offering with the amount sold so far, so a round is
the offering, identified by the accession number of its original notice (followed through
`PREVIOUSACCESSIONNUMBER`); the latest filing in the file gives its amount. The fields are
never quoted (a `"` is part of a name), so the files are read without quote handling.

Left out, with a count in the import's notes: pooled investment funds (a fund raising from
its limited partners is not a company's round), test filings, and offerings with nothing sold
yet. Form D names no investors and no stage: rounds have stage `unknown` (`debt` when only
debt is offered).
"""

from __future__ import annotations

import datetime as dt

from hardtech.sources.connectors.base import Extraction, FileSpec, Output, connector, extract_of, read_rows
from hardtech.sources.connectors.sec_companyfacts import cik_org_id

LAYOUT = "SEC Form D data set (2009–)"
FILES = (
    FileSpec("submission", ("formdsubmission.tsv", "formdata.tsv"),
             required=("ACCESSIONNUMBER", "FILING_DATE", "SUBMISSIONTYPE"),
             optional=("FILE_NUM", "SIC_CODE", "SCHEMAVERSION", "TESTORLIVE", "OVER100PERSONSFLAG", "OVER100ISSUERFLAG"),
             layout=LAYOUT),
    FileSpec("issuers", ("issuers.tsv",),
             required=("ACCESSIONNUMBER", "IS_PRIMARYISSUER_FLAG", "CIK", "ENTITYNAME"),
             optional=("ISSUER_SEQ_KEY", "STREET1", "STREET2", "CITY", "STATEORCOUNTRY", "STATEORCOUNTRYDESCRIPTION",
                       "ZIPCODE", "ISSUERPHONENUMBER", "JURISDICTIONOFINC", "ISSUER_PREVIOUSNAME_1",
                       "ISSUER_PREVIOUSNAME_2", "ISSUER_PREVIOUSNAME_3", "EDGAR_PREVIOUSNAME_1", "EDGAR_PREVIOUSNAME_2",
                       "EDGAR_PREVIOUSNAME_3", "ENTITYTYPE", "ENTITYTYPEOTHERDESC", "YEAROFINC_TIMESPAN_CHOICE",
                       "YEAROFINC_VALUE_ENTERED"),
             layout=LAYOUT),
    FileSpec("offering", ("offering.tsv",),
             required=("ACCESSIONNUMBER", "INDUSTRYGROUPTYPE", "TOTALAMOUNTSOLD"),
             optional=("INVESTMENTFUNDTYPE", "IS40ACT", "REVENUERANGE", "AGGREGATENETASSETVALUERANGE",
                       "FEDERALEXEMPTIONS_ITEMS_LIST", "ISAMENDMENT", "PREVIOUSACCESSIONNUMBER", "SALE_DATE",
                       "YETTOOCCUR", "MORETHANONEYEAR", "ISEQUITYTYPE", "ISDEBTTYPE", "ISOPTIONTOACQUIRETYPE",
                       "ISSECURITYTOBEACQUIREDTYPE", "ISPOOLEDINVESTMENTFUNDTYPE", "ISTENANTINCOMMONTYPE",
                       "ISMINERALPROPERTYTYPE", "ISOTHERTYPE", "DESCRIPTIONOFOTHERTYPE", "ISBUSINESSCOMBINATIONTRANS",
                       "BUSCOMBCLARIFICATIONOFRESP", "MINIMUMINVESTMENTACCEPTED", "OVER100RECIPIENTFLAG",
                       "TOTALOFFERINGAMOUNT", "TOTALREMAINING", "SALESAMTCLARIFICATIONOFRESP",
                       "HASNONACCREDITEDINVESTORS", "NUMBERNONACCREDITEDINVESTORS", "TOTALNUMBERALREADYINVESTED",
                       "SALESCOMM_DOLLARAMOUNT", "SALESCOMM_ISESTIMATE", "FINDERSFEE_DOLLARAMOUNT",
                       "FINDERSFEE_ISESTIMATE", "FINDERFEECLARIFICATIONOFRESP", "GROSSPROCEEDSUSED_DOLLARAMOUNT",
                       "GROSSPROCEEDSUSED_ISESTIMATE", "GROSSPROCEEDSUSED_CLAROFRESP", "AUTHORIZEDREPRESENTATIVE"),
             layout=LAYOUT),
)
ORGS = Output("organizations", ("org_id", "kind", "name_en", "aliases", "country", "province", "city", "founded",
                                "description_en", "ownership"), patch=True, distinct=True)
ROUNDS = Output("funding_rounds", ("round_id", "org_id", "org_name", "date", "stage", "stage_raw", "amount",
                                   "currency"))
US = set("AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC ND OH "
         "OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY PR GU VI AS MP".split())
MONTHS = {m: i for i, m in enumerate("JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split(), start=1)}


@connector(
    name="sec_formd", title="SEC Form D data sets",
    description="Quarterly Form D data sets (private offerings): issuer (CIK, name, city, state, year of "
                "incorporation, industry group) and amount sold, as US funding rounds dated at first sale.",
    licence="Public domain (U.S. government work, SEC EDGAR); cite SEC Form D data sets",
    source_url="https://www.sec.gov/data-research/sec-markets-data/form-d-data-sets",
    files=FILES, outputs=(ORGS, ROUNDS),
    unresolved="Never: the primary issuer of each filing becomes the organisation `sec:<CIK>` (the id SEC company "
               "facts use too); a filing without a primary issuer is rejected with its line and reason.",
    point_at="a quarterly zip (2024q1_d.zip) or the folder it unzips to",
)
def sec_formd(src) -> Extraction:
    out = Extraction()
    sub_t, sub_path, e1 = read_rows(src, "submission", quoted=False) or _absent(src, "submission")
    iss_t, iss_path, e2 = read_rows(src, "issuers", quoted=False) or _absent(src, "issuers")
    off_t, off_path, e3 = read_rows(src, "offering", quoted=False) or _absent(src, "offering")
    out.ignored_columns = [f"{p.name}: {c}" for p, ex in ((sub_path, e1), (iss_path, e2), (off_path, e3)) for c in ex]
    subs = {r["ACCESSIONNUMBER"]: r for r in sub_t.to_pylist()}
    primary = {}
    for r in iss_t.to_pylist():
        if (r.get("IS_PRIMARYISSUER_FLAG") or "").strip().upper() in ("YES", "Y", "TRUE"):
            primary.setdefault(r["ACCESSIONNUMBER"], r)
    offers = off_t.to_pylist()
    prev = {r["ACCESSIONNUMBER"]: (r.get("PREVIOUSACCESSIONNUMBER") or "").strip() for r in offers}

    def root(acc: str) -> str:
        seen = set()
        while prev.get(acc) and acc not in seen:
            seen.add(acc)
            acc = prev[acc]
        return acc

    skipped = {"pooled investment funds": 0, "test filings": 0, "offerings with nothing sold yet": 0}
    latest: dict[str, tuple] = {}
    for r in offers:
        acc = r["ACCESSIONNUMBER"]
        s = subs.get(acc, {})
        if (s.get("TESTORLIVE") or "LIVE").strip().upper() == "TEST":
            skipped["test filings"] += 1
            continue
        if (r.get("INDUSTRYGROUPTYPE") or "").strip().lower() == "pooled investment fund" \
                or _yes(r.get("ISPOOLEDINVESTMENTFUNDTYPE")) and not _yes(r.get("ISEQUITYTYPE")):
            skipped["pooled investment funds"] += 1
            continue
        filed = _filing_date(s.get("FILING_DATE"))
        key = root(acc)
        if key not in latest or (filed or "", acc) > (latest[key][0] or "", latest[key][1]["ACCESSIONNUMBER"]):
            latest[key] = (filed, r, s)
    orgs, org_lines, rounds, round_lines = [], [], [], []
    for key, (filed, r, s) in sorted(latest.items(), key=lambda kv: kv[1][1]["__line"]):
        sold = (r.get("TOTALAMOUNTSOLD") or "").strip()
        if sold in ("", "0", "0.0", "0.00"):
            skipped["offerings with nothing sold yet"] += 1
            continue
        iss = primary.get(r["ACCESSIONNUMBER"])
        org_id = cik_org_id(iss["CIK"]) if iss and (iss.get("CIK") or "").strip() else None
        if iss:
            orgs.append(_org(iss, r, filed))
            org_lines.append(iss["__line"])
        sale = (r.get("SALE_DATE") or "").strip()
        debt_only = _yes(r.get("ISDEBTTYPE")) and not _yes(r.get("ISEQUITYTYPE"))
        rounds.append({"round_id": f"formd:{key}", "org_id": org_id, "org_name": iss.get("ENTITYNAME") if iss else None,
                       "date": sale if _iso(sale) else filed, "stage": "debt" if debt_only else "unknown",
                       "stage_raw": f"Form {s.get('SUBMISSIONTYPE') or 'D'} ({r.get('INDUSTRYGROUPTYPE')})",
                       "amount": sold, "currency": "USD"})
        round_lines.append(r["__line"])
    out.extracts += [extract_of(ORGS, orgs, org_lines, iss_path), extract_of(ROUNDS, rounds, round_lines, off_path)]
    left = [f"{n} {what}" for what, n in skipped.items() if n]
    if left:
        out.notes.append("left out: " + ", ".join(left) + " (not company funding rounds)")
    return out


def _absent(src, key):
    src.require(key)  # raises with the file names looked for


def _yes(v) -> bool:
    return str(v or "").strip().lower() in ("true", "yes", "y", "1")


def _iso(s: str) -> bool:
    try:
        dt.date.fromisoformat(s[:10])
        return len(s) >= 10
    except ValueError:
        return False


def _filing_date(v) -> str | None:
    """`05-MAR-2024` (current data sets) or `2008-09-29 16:26:03` (the oldest) → ISO date."""
    s = (v or "").strip().upper()
    if _iso(s):
        return s[:10]
    parts = s.split("-")
    if len(parts) == 3 and parts[1] in MONTHS and parts[0].isdigit() and parts[2].isdigit():
        return f"{int(parts[2]):04d}-{MONTHS[parts[1]]:02d}-{int(parts[0]):02d}"
    return s or None


def _org(iss: dict, offer: dict, filed: str | None) -> dict:
    state = (iss.get("STATEORCOUNTRY") or "").strip().upper()
    founded = (iss.get("YEAROFINC_VALUE_ENTERED") or "").strip() or None
    young = bool(founded and founded.isdigit() and filed and int(filed[:4]) - int(founded) <= 10)
    names = [iss.get(f"{k}_PREVIOUSNAME_{i}") for k in ("ISSUER", "EDGAR") for i in (1, 2, 3)]
    aliases = sorted({n.strip() for n in names if n and n.strip() and n.strip().lower() != "none"})
    group = (offer.get("INDUSTRYGROUPTYPE") or "").strip()
    # abroad the description is the country, or `ONTARIO, CANADA` for a Canadian province
    desc = [p.strip() for p in (iss.get("STATEORCOUNTRYDESCRIPTION") or "").split(",") if p.strip()]
    country = "US" if state in US else (desc[-1] if desc else None)
    province = state if state in US else (desc[0] if len(desc) > 1 else None)
    return {"org_id": cik_org_id(iss["CIK"]), "kind": "startup" if young else "company",
            "name_en": iss.get("ENTITYNAME"), "aliases": aliases or None, "country": country,
            "province": province, "city": iss.get("CITY"), "founded": founded,
            "description_en": f"Form D industry group: {group}" if group else None, "ownership": "private"}
