"""Crunchbase CSV exports: organizations, funding rounds, the investments in them, and investors.

Reads the bulk export's CSVs (the 2020– layout with `uuid` keys: `organizations.csv`,
`funding_rounds.csv`, `investments.csv`, `investors.csv`) from the folder or zip a subscriber
downloaded; any subset works. A round's investors come from `investments.csv` (lead investors
first); organisations and investors keep Crunchbase's uuid as their id (`cb:<uuid>`), so a later
export updates the same rows. Crunchbase categories and category groups become
`crunchbase:category:…` / `crunchbase:group:…` codes, which the taxonomy maps to fields.

The older API v3 "csv_export" (`company_uuid`, `funding_round_type`, `investor_names`) is a
different layout: it is refused with the renamed columns named.
"""

from __future__ import annotations

from hardtech.sources.connectors.base import Extraction, FileSpec, Output, connector, extract_of, read_rows

LAYOUT = "Crunchbase bulk export (2020–, uuid keys)"
FILES = (
    FileSpec("organizations", ("organizations.csv",), required=("uuid", "name"),
             optional=("type", "permalink", "cb_url", "rank", "created_at", "updated_at", "legal_name", "roles",
                       "domain", "homepage_url", "country_code", "state_code", "region", "city", "address",
                       "postal_code", "status", "short_description", "category_list", "category_groups_list",
                       "num_funding_rounds", "total_funding_usd", "total_funding", "total_funding_currency_code",
                       "founded_on", "last_funding_on", "closed_on", "employee_count", "email", "phone",
                       "facebook_url", "linkedin_url", "twitter_url", "logo_url", "alias1", "alias2", "alias3",
                       "primary_role", "num_exits"),
             renamed={"company_name": "name"}, layout=LAYOUT, needed=False),
    FileSpec("funding_rounds", ("funding_rounds.csv",), required=("uuid", "org_uuid", "investment_type", "announced_on"),
             optional=("name", "type", "permalink", "cb_url", "rank", "created_at", "updated_at", "country_code",
                       "state_code", "region", "city", "raised_amount_usd", "raised_amount",
                       "raised_amount_currency_code", "post_money_valuation_usd", "post_money_valuation",
                       "post_money_valuation_currency_code", "investor_count", "org_name", "lead_investor_uuids"),
             renamed={"funding_round_uuid": "uuid", "company_uuid": "org_uuid", "funding_round_type": "investment_type",
                      "company_name": "org_name"}, layout=LAYOUT, needed=False),
    FileSpec("investments", ("investments.csv",), required=("funding_round_uuid", "investor_uuid", "investor_name"),
             optional=("uuid", "name", "type", "permalink", "cb_url", "rank", "created_at", "updated_at",
                       "funding_round_name", "investor_type", "is_lead_investor"),
             layout=LAYOUT, needed=False),
    FileSpec("investors", ("investors.csv",), required=("uuid", "name"),
             optional=("type", "permalink", "cb_url", "rank", "created_at", "updated_at", "roles", "domain",
                       "country_code", "state_code", "region", "city", "investor_types", "investment_count",
                       "total_funding_usd", "total_funding", "total_funding_currency_code", "founded_on", "closed_on",
                       "facebook_url", "linkedin_url", "twitter_url", "logo_url"),
             renamed={"investor_name": "name", "investor_type": "investor_types"}, layout=LAYOUT, needed=False),
)
ORGS = Output("organizations", ("org_id", "kind", "name_en", "aliases", "country", "province", "city", "founded",
                                "description_en", "ownership", "industry_codes", "website"), patch=True)
ORG_STUBS = Output("organizations", ("org_id", "name_en"), insert_only=True, distinct=True, role="stub")
INVESTORS = Output("investors", ("investor_id", "name_en", "kind", "country", "city", "website"), patch=True)
INVESTOR_STUBS = Output("investors", ("investor_id", "name_en", "kind"), insert_only=True, distinct=True, role="stub")
ROUNDS = Output("funding_rounds", ("round_id", "org_id", "org_name", "date", "stage", "stage_raw", "amount",
                                   "currency", "investors", "investor_ids"))

STAGES = {"angel": "angel", "pre_seed": "seed", "seed": "seed", "series_a": "a", "series_b": "b", "series_c": "c",
          "series_d": "d", "series_e": "e", "series_f": "f", "series_g": "f", "series_h": "f", "series_i": "f",
          "series_j": "f", "private_equity": "growth", "debt_financing": "debt", "convertible_note": "debt",
          "post_ipo_debt": "debt", "grant": "grant", "corporate_round": "strategic", "post_ipo_equity": "growth"}
INVESTOR_KINDS = (("venture_capital", "vc"), ("micro_vc", "vc"), ("corporate_venture_capital", "cvc"),
                  ("private_equity_firm", "pe"), ("angel", "angel"), ("angel_group", "angel"),
                  ("individual", "angel"), ("accelerator", "incubator"), ("incubator", "incubator"),
                  ("government_office", "government_fund"), ("investment_bank", "bank"))


@connector(
    name="crunchbase", title="Crunchbase export",
    description="Crunchbase bulk-export CSVs: organisations with categories, funding rounds with amounts and "
                "stages, the investors in each round (lead first), and investors with their types.",
    licence="Proprietary (Crunchbase licence of the subscriber who exported it): never bundled with hardtech",
    source_url="https://data.crunchbase.com/docs/crunchbase-basic-export",
    files=FILES, outputs=(ORGS, ORG_STUBS, INVESTORS, INVESTOR_STUBS, ROUNDS),
    unresolved="A round whose organisation is not in organizations.csv (or no organizations.csv was given) keeps "
               "its organisation as a stub (`cb:<org_uuid>`, name as written in the round); investors named only in "
               "investments.csv likewise. A round without any org_uuid is rejected with its line and reason.",
    point_at="the export folder or zip (organizations.csv, funding_rounds.csv, investments.csv, investors.csv; "
             "any subset)",
)
def crunchbase(src) -> Extraction:
    out = Extraction()
    parts = {k: read_rows(src, k) for k in ("organizations", "funding_rounds", "investments", "investors")}
    if not any(parts.values()):
        from hardtech.errors import SourceError

        raise SourceError(f"{src.path.name}: no Crunchbase export here (looked for organizations.csv, "
                          "funding_rounds.csv, investments.csv, investors.csv)")
    for k, p in parts.items():
        if p:
            out.ignored_columns += [f"{p[1].name}: {c}" for c in p[2]]
    known_orgs: set[str] = set()
    if parts["organizations"]:
        t, path, _ = parts["organizations"]
        recs = t.to_pylist()
        out.extracts.append(extract_of(ORGS, [_org(r) for r in recs], [r["__line"] for r in recs], path))
        known_orgs = {r["uuid"] for r in recs if r.get("uuid")}
    known_inv: set[str] = set()
    inv_names: dict[str, str] = {}
    if parts["investors"]:
        t, path, _ = parts["investors"]
        recs = t.to_pylist()
        out.extracts.append(extract_of(INVESTORS, [_investor(r) for r in recs], [r["__line"] for r in recs], path))
        known_inv = {r["uuid"] for r in recs if r.get("uuid")}
        inv_names = {r["uuid"]: r.get("name") for r in recs if r.get("uuid")}
    per_round: dict[str, list[tuple[bool, str, str]]] = {}
    if parts["investments"]:
        t, path, _ = parts["investments"]
        recs = t.to_pylist()
        stubs, lines, seen = [], [], set()
        for r in recs:
            iu = r.get("investor_uuid")
            if not iu:
                continue
            lead = str(r.get("is_lead_investor") or "").lower() in ("true", "t", "1", "yes")
            per_round.setdefault(r.get("funding_round_uuid"), []).append((lead, r.get("investor_name") or iu, iu))
            if iu not in known_inv and iu not in seen:
                seen.add(iu)
                stubs.append({"investor_id": f"cb:{iu}", "name_en": r.get("investor_name"),
                              "kind": _investor_kind(r.get("investor_type"))})
                lines.append(r["__line"])
        if stubs:
            out.extracts.append(extract_of(INVESTOR_STUBS, stubs, lines, path))
            out.notes.append(f"{len(stubs)} investors named in investments.csv but not in investors.csv were added "
                             "as stubs (id and name only)")
    if parts["funding_rounds"]:
        t, path, _ = parts["funding_rounds"]
        recs = t.to_pylist()
        rounds, stubs, stub_lines, seen = [], [], [], set()
        for r in recs:
            ou = r.get("org_uuid")
            invs = sorted(per_round.get(r.get("uuid"), []), key=lambda x: (not x[0], x[1].lower()))
            if not invs and r.get("lead_investor_uuids"):
                invs = [(True, inv_names.get(u.strip(), u.strip()), u.strip())
                        for u in r["lead_investor_uuids"].split(",") if u.strip()]
            amount, currency = r.get("raised_amount"), r.get("raised_amount_currency_code")
            if not amount and r.get("raised_amount_usd"):
                amount, currency = r["raised_amount_usd"], "USD"
            kind = (r.get("investment_type") or "").strip().lower()
            rounds.append({"round_id": f"cb:{r['uuid']}" if r.get("uuid") else None,
                           "org_id": f"cb:{ou}" if ou else None, "org_name": r.get("org_name"),
                           "date": r.get("announced_on"), "stage": STAGES.get(kind, "unknown"),
                           "stage_raw": r.get("investment_type"), "amount": amount, "currency": currency,
                           "investors": [n for _, n, _ in invs], "investor_ids": [f"cb:{u}" for _, _, u in invs]})
            if ou and ou not in known_orgs and ou not in seen:
                seen.add(ou)
                stubs.append({"org_id": f"cb:{ou}", "name_en": r.get("org_name")})
                stub_lines.append(r["__line"])
        out.extracts.append(extract_of(ROUNDS, rounds, [r["__line"] for r in recs], path))
        if stubs:
            out.extracts.append(extract_of(ORG_STUBS, stubs, stub_lines, path))
            out.notes.append(f"{len(stubs)} organisations raised rounds but are not in organizations.csv: added as "
                             "stubs (id and name as written in funding_rounds.csv)")
    return out


def _split(v) -> list[str]:
    return [x.strip() for x in str(v or "").split(",") if x.strip()]


def _org(r: dict) -> dict:
    role, status = (r.get("primary_role") or "").lower(), (r.get("status") or "").lower()
    kind = {"school": "university", "investor": "investor"}.get(role) or ("company" if status == "ipo" else "startup")
    aliases = [a for a in (r.get("legal_name"), r.get("alias1"), r.get("alias2"), r.get("alias3"))
               if a and a != r.get("name")]
    codes = [f"crunchbase:category:{c}" for c in _split(r.get("category_list"))]
    codes += [f"crunchbase:group:{g}" for g in _split(r.get("category_groups_list"))]
    founded = (r.get("founded_on") or "")[:4] or None
    return {"org_id": f"cb:{r['uuid']}" if r.get("uuid") else None, "kind": kind, "name_en": r.get("name"),
            "aliases": aliases or None, "country": r.get("country_code"), "province": r.get("region"),
            "city": r.get("city"), "founded": founded, "description_en": r.get("short_description"),
            "ownership": None if status == "ipo" else "private", "industry_codes": codes or None,
            "website": r.get("homepage_url")}


def _investor_kind(types) -> str:
    got = [t.lower() for t in _split(types)]
    for t, kind in INVESTOR_KINDS:
        if t in got:
            return kind
    return "other"


def _investor(r: dict) -> dict:
    website = r.get("domain")
    return {"investor_id": f"cb:{r['uuid']}" if r.get("uuid") else None, "name_en": r.get("name"),
            "kind": _investor_kind(r.get("investor_types")), "country": r.get("country_code"),
            "city": r.get("city"), "website": f"https://{website}" if website and "://" not in website else website}
