"""Source connectors on fixtures in each source's published format (tests/fixtures/sources/README.md).

For every connector: rows land with provenance, a re-import adds nothing, a file in another
layout is refused with a message naming what differs, and a row whose organisation the source
does not describe is kept (a stub organisation, or a reject with its reason).
"""

from __future__ import annotations

import csv
import json
import shutil
import zipfile
from pathlib import Path

import pytest

from hardtech.errors import SourceError
from hardtech.sources.connectors import connectors, get_connector
from hardtech.sources.connectors.base import LayoutError
from hardtech.store.connector_load import mapping_for, run_connector

FIX = Path(__file__).parent / "fixtures" / "sources"
CASES = {
    "sec_companyfacts": FIX / "sec" / "companyfacts.zip",
    "sec_formd": FIX / "formd" / "2024q1_d.zip",
    "eu_scoreboard": FIX / "eu_scoreboard",
    "patentsview": FIX / "patentsview",
    "openalex": FIX / "openalex",
    "crunchbase": FIX / "crunchbase",
}


def q(store, sql, *params):
    return store.con.execute(sql, list(params)).fetchall()


def test_every_connector_declares_files_outputs_licence_and_a_case():
    conns = connectors()
    assert set(conns) == set(CASES) | {"itjuzi"}
    for name, c in conns.items():
        assert c.licence and c.files and c.outputs and c.unresolved and c.point_at, name
        assert all(f.required for f in c.files), name


@pytest.mark.parametrize("name", sorted(CASES))
def test_rows_land_with_provenance_and_a_reimport_adds_nothing(store, name):
    r = run_connector(store, name, CASES[name])
    assert r.rejected == 0, r.rejects[:3]
    assert sum(t.inserted for t in r.targets) > 0
    for t in {t.table for t in r.targets}:
        bad = q(store, f"SELECT count(*) FROM {t} WHERE source_name IS NULL OR source_file IS NULL OR "
                       f"source_line IS NULL OR import_id NOT LIKE ? OR synthetic", r.import_id + ".%")[0][0]
        assert bad == 0, t
    counts = {t: store.count(t) for t in ("organizations", "financials", "patents", "funding_rounds", "investors",
                                          "publications")}
    again = run_connector(store, name, CASES[name])
    assert sum(t.inserted + t.updated for t in again.targets) == 0
    assert counts == {t: store.count(t) for t in counts}


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_mapping_of_every_import_carries_the_licence(name):
    conn = get_connector(name)
    ex = conn.extract(CASES[name], Path(__import__("tempfile").mkdtemp()))
    assert {mapping_for(conn, e).licence for e in ex.extracts} == {conn.licence}


# --- SEC company facts ---------------------------------------------------------------------------

def test_sec_fiscal_years_come_from_each_report_not_the_filing_year(store):
    run_connector(store, "sec_companyfacts", CASES["sec_companyfacts"])
    tesla = {y: (rev, rd, op, note) for y, rev, rd, op, note in q(
        store, "SELECT fiscal_year, revenue, rd_expense, operating_profit, note FROM financials "
               "WHERE org_id = 'sec:0001318605'")}
    # Tesla's 10-K for 2021 (accession 0000950170-22-000796): revenue 53,823 and R&D 2,593 USD million
    assert tesla[2021][:3] == (53_823_000_000, 2_593_000_000, 6_523_000_000)
    assert "0000950170-22-000796" in tesla[2021][3]
    # 2017 as first reported (1,378,073 thousand), not the rounded restatement in the 2019 10-K
    assert tesla[2017][1] == 1_378_073_000
    # 2009 exists only as a comparative in the 2011 10-K: assigned to 2009, not to the filing's year
    assert tesla[2009][1] == 19_282_000 and set(tesla) == set(range(2009, 2022))
    snow = dict(q(store, "SELECT fiscal_year, revenue FROM financials WHERE org_id = 'sec:0001640147'"))
    assert snow[2025] == 3_626_396_000  # fiscal 2025 ended on 31 January 2025
    assert min(snow) == 2019  # a comparative of the first 10-K after the 2020 listing


def test_sec_single_company_file_and_employees_where_filed(store):
    from hardtech.sources.connectors.sec_companyfacts import annual_rows

    r = run_connector(store, "sec_companyfacts", FIX / "sec" / "CIK0001640147.json")
    assert [t.inserted for t in r.targets] == [1, 7]
    # neither fixture company tags dei:EntityNumberOfEmployees: the rule on a minimal facts object
    facts = {"dei": {"EntityNumberOfEmployees": {"units": {"pure": [
        {"end": "2023-01-31", "val": 5884, "accn": "a1", "fy": 2023, "fp": "FY", "form": "10-K", "filed": "2023-03-29"},
        {"end": "2023-01-31", "val": 5900, "accn": "a2", "fy": 2023, "fp": "FY", "form": "10-K/A", "filed": "2023-05-01"},
        {"end": "2022-10-31", "val": 5500, "accn": "q3", "fy": 2023, "fp": "Q3", "form": "10-Q", "filed": "2022-12-01"},
    ]}}}}
    rows = annual_rows(facts, "x.json")
    assert [(r["fiscal_year"], r["employees"]) for r in rows] == [("2023", "5900")]


def test_sec_another_edgar_json_is_refused_naming_the_missing_keys(tmp_path, store):
    f = tmp_path / "CIK0001640147.json"
    f.write_text(json.dumps({"cik": "0001640147", "entityType": "operating", "name": "SNOWFLAKE INC.",
                             "filings": {"recent": {}}}))  # an EDGAR submissions file, not company facts
    with pytest.raises(LayoutError, match=r"missing columns: 'entityName', 'facts'"):
        run_connector(store, "sec_companyfacts", f)
    assert store.count("organizations") == 0


# --- SEC Form D --------------------------------------------------------------------------------

def test_formd_rounds_follow_amendments_and_leave_out_funds(store):
    r = run_connector(store, "sec_formd", CASES["sec_formd"])
    rounds = {rid: (org, amount, stage, d) for rid, org, amount, stage, d in q(
        store, "SELECT round_id, org_id, amount, stage, date FROM funding_rounds")}
    assert len(rounds) == 4
    # original and amendment in the same quarter: one round, the amendment's amount sold
    assert rounds["formd:0009990004-24-000004"][1] == 45_000_000
    # an amendment of an earlier quarter's notice keeps the original's accession as the round
    assert rounds["formd:0009990003-23-000011"][0] == "sec:0009990003"
    assert rounds["formd:0009990007-24-000007"][2] == "debt"
    assert not any("0009990002" in k or "0009990006" in k for k in rounds)  # the fund and the unsold offering
    assert "1 pooled investment funds" in r.notes[0] and "1 offerings with nothing sold yet" in r.notes[0]
    orgs = {o: (n, c, p) for o, n, c, p in q(store, "SELECT org_id, name_en, country, province FROM organizations")}
    assert orgs["sec:0009990003"][0] == 'NORTH STAR "QUANTUM" LLC (FICTIONAL)'  # unquoted TSV: the " is kept
    assert orgs["sec:0009990007"][1:] == ("CA", "ONTARIO")
    assert "sec:0009990009" not in orgs  # a co-issuer, not the primary one


def test_formd_issuer_and_sec_facts_meet_on_the_cik():
    from hardtech.sources.connectors.sec_companyfacts import cik_org_id

    assert cik_org_id("320193") == cik_org_id(" 0000320193") == "sec:0000320193"


def test_formd_in_another_layout_names_the_missing_column(store, tmp_path):
    src = tmp_path / "2024q1_d"
    with zipfile.ZipFile(CASES["sec_formd"]) as z:
        z.extractall(tmp_path / "x")
    shutil.copytree(tmp_path / "x" / "2024Q1_d", src)
    off = src / "OFFERING.tsv"
    off.write_text(off.read_text().replace("TOTALAMOUNTSOLD", "AMOUNTSOLD"))
    with pytest.raises(LayoutError, match=r"OFFERING.tsv: not the SEC Form D data set .* missing columns: "
                                          r"'TOTALAMOUNTSOLD'"):
        run_connector(store, "sec_formd", src)


# --- EU Scoreboard -----------------------------------------------------------------------------

def test_scoreboard_reads_the_2019_and_2023_layouts(store):
    r = run_connector(store, "eu_scoreboard", CASES["eu_scoreboard"])
    assert sorted({t.table for t in r.targets}) == ["financials", "organizations"]
    rows = {(o, y): (rd, src) for o, y, rd, src in q(
        store, "SELECT org_id, fiscal_year, rd_expense, source_name FROM financials")}
    # SB2019: 'R&D 2018/19 (€million)' → fiscal 2018; SB2023: the Year column (2022); EUR million → EUR
    assert rows[("eusb:alphabet", 2018)] == (pytest.approx(18_270.73304e6), "EU Industrial R&D Investment Scoreboard 2019")
    assert rows[("eusb:alphabet", 2022)] == (pytest.approx(37_033.5805e6), "EU Industrial R&D Investment Scoreboard 2023")
    assert q(store, "SELECT country FROM organizations WHERE org_id = 'eusb:samsung-electronics'")[0][0] == "KR"
    assert len([k for k in rows if k[1] == 2018]) == 14 and len([k for k in rows if k[1] == 2022]) == 16


def test_scoreboard_header_below_title_rows_and_an_unknown_layout(store, tmp_path):
    import openpyxl

    wb = openpyxl.load_workbook(CASES["eu_scoreboard"] / "SB2023_World2500.xlsx")
    ws = wb.active
    ws.insert_rows(1, 2)
    ws["A1"] = "The 2023 EU Industrial R&D Investment Scoreboard"
    ws["A2"] = "World 2500 companies ranked by R&D"
    titled = tmp_path / "SB2023_titled.xlsx"
    wb.save(titled)
    run_connector(store, "eu_scoreboard", titled)
    assert store.count("financials") == 16
    assert q(store, "SELECT min(source_line) FROM financials")[0][0] == 4  # header on row 3
    wb = openpyxl.Workbook()
    wb.active.append(["Company", "Country", "Revenue (€ million)"])
    wb.active.append(["X", "US", 1])
    other = tmp_path / "other.xlsx"
    wb.save(other)
    with pytest.raises(LayoutError, match=r"no header row names both 'Company' and an R&D column"):
        run_connector(store, "eu_scoreboard", other)


# --- PatentsView ------------------------------------------------------------------------------

def test_patentsview_patents_with_cpc_and_assignee_organisations(store):
    run_connector(store, "patentsview", CASES["patentsview"])
    p = {n: (a, o, c, g) for n, a, o, c, g in q(
        store, "SELECT publication_number, applicant, applicant_org_id, cpc_codes, grant_date FROM patents")}
    assert len(p) == 8
    ibm = p["US11645356B2"]
    assert ibm[0] == "International Business Machines Corporation" and ibm[1].startswith("pv:")
    assert ibm[2][:3] == ["G06F17/13", "G06F18/214", "G06F18/2413"]  # in cpc_sequence order
    # assigned to a person: the patent is kept, with the name and no organisation
    assert p["US10052026B1"][:2] == ("Bao Tran", None)
    kinds = dict(q(store, "SELECT name_en, kind FROM organizations"))
    assert kinds["Massachusetts Institute Of Technology"] == "university"
    assert kinds["Fraunhofer-Gesellschaft zur Förderung der angewandten Forschung e.V."] == "institute"
    assert kinds["Nvidia Corporation"] == "company" and "Bao Tran" not in kinds
    assert store.count("organizations") == 6  # IBM's two patents: one organisation


def test_patentsview_legacy_layout_names_the_renamed_columns(store, tmp_path):
    legacy = tmp_path / "pv"
    legacy.mkdir()
    (legacy / "g_patent.tsv").write_text("id\ttype\tnumber\tcountry\tdate\tabstract\ttitle\tkind\tnum_claims\n"
                                         "9996772\tutility\t9996772\tUS\t2018-06-12\t…\tt\tB2\t20\n")
    with pytest.raises(LayoutError, match=r"'id' is now 'patent_id', 'type' is now 'patent_type', 'date' is now "
                                          r"'patent_date', 'title' is now 'patent_title'"):
        run_connector(store, "patentsview", legacy)


# --- OpenAlex ---------------------------------------------------------------------------------

def test_openalex_institutions_and_output_by_field(store):
    r = run_connector(store, "openalex", CASES["openalex"])
    cas = q(store, "SELECT name_en, name_zh, aliases, kind, city, country FROM organizations "
                   "WHERE org_id = 'openalex:I19820366'")[0]
    assert cas == ("Chinese Academy of Sciences", "中国科学院", ["CAS"], "institute", "Beijing", "CN")
    # one row per work and distinct institution (a work lists CAS for two authors: counted once)
    assert q(store, "SELECT count(*) FROM (SELECT work_id, org_id, count(*) n FROM publications GROUP BY ALL "
                    "HAVING n > 1)")[0][0] == 0
    assert q(store, "SELECT field, field_scheme FROM publications WHERE work_id = 'W3014472589' "
                    "AND org_id = 'openalex:I19820366'")[0] == ("Environmental Science", "openalex_topics")
    # the 2022 layout has no topics: the strongest level-0 concept is the field
    assert q(store, "SELECT DISTINCT field, field_scheme FROM publications WHERE work_id = 'W3208256308'") \
        == [("Computer science", "openalex_concepts")]
    # institutions named only inside works are kept as organisations, without overwriting a fuller record
    assert q(store, "SELECT count(*) FROM publications p LEFT JOIN organizations o USING (org_id) "
                    "WHERE o.org_id IS NULL")[0][0] == 0
    assert any("name no institution" in n for n in r.notes)


def test_openalex_other_entities_are_refused(store, tmp_path):
    f = tmp_path / "authors.jsonl"
    f.write_text(json.dumps({"id": "https://openalex.org/A5023888391", "display_name": "Jie Zhou"}) + "\n")
    with pytest.raises(LayoutError, match=r"not an OpenAlex institution or work"):
        run_connector(store, "openalex", f)
    g = tmp_path / "works.jsonl"
    g.write_text(json.dumps({"id": "https://openalex.org/W1", "title": "t"}) + "\n")
    with pytest.raises(LayoutError, match=r"missing columns: 'publication_year', 'authorships'"):
        run_connector(store, "openalex", g)


# --- Crunchbase -------------------------------------------------------------------------------

def test_crunchbase_rounds_investors_and_stub_organisations(store):
    r = run_connector(store, "crunchbase", CASES["crunchbase"])
    rounds = {rid: (s, raw, a, c, usd, d, inv) for rid, s, raw, a, c, usd, d, inv in q(
        store, "SELECT round_id, stage, stage_raw, amount, currency, amount_usd, disclosed, investors "
               "FROM funding_rounds")}
    assert len(rounds) == 7
    series_a = next(v for k, v in rounds.items() if v[1] == "series_a")
    assert series_a[0] == "a" and series_a[6][0] == "Redwood Deep Tech Fund (fictional)"  # lead investor first
    cny = next(v for v in rounds.values() if v[3] == "CNY")
    assert cny[2] == 100_000_000 and 10e6 < cny[4] < 20e6  # converted at the round's date
    assert any(v[0] == "unknown" and v[1] == "series_unknown" and v[5] is False for v in rounds.values())  # undisclosed
    # a round of an organisation missing from organizations.csv: the organisation is kept as a stub
    stub = q(store, "SELECT name_en, kind FROM organizations WHERE name_en LIKE 'Kestrel%'")
    assert stub == [("Kestrel Quantum (fictional)", None)]
    assert any("stubs" in n for n in r.notes)
    codes = q(store, "SELECT industry_codes FROM organizations WHERE name_en LIKE 'Lumenfold%'")[0][0]
    assert "crunchbase:category:Semiconductor" in codes and "crunchbase:group:Hardware" in codes
    assert q(store, "SELECT country FROM organizations WHERE name_en LIKE 'Helixa%'")[0][0] == "DE"  # from DEU


def test_crunchbase_stubs_never_overwrite_a_full_organisation(store, tmp_path):
    export = tmp_path / "cb"
    shutil.copytree(CASES["crunchbase"], export)
    (export / "organizations.csv").unlink()
    run_connector(store, "crunchbase", export)  # every organisation is a stub now
    run_connector(store, "crunchbase", CASES["crunchbase"])  # then the full export
    lum = q(store, "SELECT kind, city, description_en FROM organizations WHERE name_en LIKE 'Lumenfold%'")[0]
    assert lum[0] == "startup" and lum[1] == "San Jose" and lum[2]
    run_connector(store, "crunchbase", export)  # stubs again: the full rows stay full
    assert q(store, "SELECT kind, city FROM organizations WHERE name_en LIKE 'Lumenfold%'")[0] == ("startup", "San Jose")


def test_crunchbase_v3_csv_export_is_refused_naming_renamed_columns(store, tmp_path):
    old = tmp_path / "csv_export"
    old.mkdir()
    with open(old / "funding_rounds.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["company_name", "country_code", "funding_round_type", "funding_round_code", "announced_on",
                    "raised_amount_usd", "investor_names", "company_uuid", "funding_round_uuid"])
        w.writerow(["X", "USA", "venture", "A", "2016-01-01", "1000000", "Y", "u1", "r1"])
    with pytest.raises(LayoutError) as exc:
        run_connector(store, "crunchbase", old)
    msg = str(exc.value)
    assert "'funding_round_uuid' is now 'uuid'" in msg and "'company_uuid' is now 'org_uuid'" in msg
    assert "'funding_round_type' is now 'investment_type'" in msg
    with pytest.raises(SourceError, match="no Crunchbase export here"):
        run_connector(store, "crunchbase", _empty_dir(tmp_path))


def _empty_dir(tmp_path: Path) -> Path:
    d = tmp_path / "empty"
    d.mkdir()
    return d


# --- IT桔子 (the real export in ../shared/data; never copied into the project) ----------------------

def test_itjuzi_companies_rounds_and_investors(store, shared):
    f = shared("itjuzi_ai_companies_half.csv")
    r = run_connector(store, "itjuzi", f)
    assert r.rejected == 0, r.rejects[:3]
    with open(f, encoding="utf-8") as fh:
        raw = list(csv.DictReader(fh))
    companies = [x for x in raw if x["公司名称"].strip()]
    with_rounds = [x for x in raw if x["融资时间"].strip() not in ("", "-")]
    assert store.count("organizations") == len({x["公司名称"] for x in companies})
    assert store.count("funding_rounds") == len(with_rounds)
    named = {n.strip() for x in with_rounds for n in x["投资方"].split(",") if n.strip() not in ("", "-")}
    assert store.count("investors") == len(named)
    # the first company's rounds, as written: 630万人民币, 未透露人民币
    rows = {(str(d), raw_amt): (a, c, disc) for d, raw_amt, a, c, disc in q(
        store, "SELECT date, amount_text, amount, currency, disclosed FROM funding_rounds "
               "WHERE org_id = 'itjuzi:识代运筹NowledgeData'")}
    assert rows[("2014-10-14", "630万人民币")] == (6_300_000, "CNY", True)
    assert rows[("2016-05-17", "未透露人民币")][0] is None and rows[("2016-05-17", "未透露人民币")][2] is False
    rng = q(store, "SELECT amount, amount_low, amount_high, currency FROM funding_rounds WHERE amount_text = '数千万美元' "
                   "LIMIT 1")[0]
    assert rng[0] is None and rng[1] < rng[2] and rng[3] == "USD"  # a range, never a point value
    resolved = q(store, "SELECT count(*) FROM funding_rounds WHERE len(investors) > 0 AND "
                        "len(investor_ids) = len(investors)")[0][0]
    assert resolved == q(store, "SELECT count(*) FROM funding_rounds WHERE len(investors) > 0")[0][0]
    place = q(store, "SELECT province, city, country FROM organizations WHERE org_id = 'itjuzi:品友互动'")[0]
    assert place == ("北京", "北京", "CN")  # 北京-朝阳区: the city is Beijing
    again = run_connector(store, "itjuzi", f)
    assert sum(t.inserted + t.updated for t in again.targets) == 0


def test_itjuzi_renamed_columns_and_a_round_without_a_company(store, shared, tmp_path):
    f = shared("itjuzi_ai_companies_half.csv")
    lines = f.read_text(encoding="utf-8").splitlines()
    renamed = tmp_path / "old.csv"
    renamed.write_text("\n".join([lines[0].replace("公司名称", "公司").replace("投资方", "投资机构")] + lines[1:5]),
                       encoding="utf-8")
    with pytest.raises(LayoutError, match=r"'公司' is now '公司名称', '投资机构' is now '投资方'"):
        run_connector(store, "itjuzi", renamed)
    orphan = tmp_path / "orphan.csv"
    orphan.write_text("\n".join([lines[0], lines[2]] + lines[1:4]), encoding="utf-8")  # a round row first
    r = run_connector(store, "itjuzi", orphan)
    assert [(x["line"], x["column_name"]) for x in r.rejects] == [(2, "org_id")]
    assert store.count("funding_rounds") == 3  # the company's own three rounds land


# --- the load step ---------------------------------------------------------------------------

def test_a_failing_table_leaves_the_store_as_it_was(store, monkeypatch):
    import hardtech.store.connector_load as cl

    real = cl.import_file
    calls = []

    def fail_second(*a, **kw):
        calls.append(a[1])
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return real(*a, **kw)

    monkeypatch.setattr(cl, "import_file", fail_second)
    with pytest.raises(RuntimeError):
        run_connector(store, "sec_companyfacts", CASES["sec_companyfacts"])
    assert calls == ["organizations", "financials"]
    assert store.count("organizations") == 0 and store.count("imports") == 0


def test_rejects_of_a_connector_run_are_listed_under_its_id(tmp_path):
    from hardtech.services import list_rejects
    from hardtech.services.sources import import_source

    db = tmp_path / "r.duckdb"
    src = tmp_path / "cb"
    src.mkdir()
    rows = list(csv.reader(open(CASES["crunchbase"] / "funding_rounds.csv", encoding="utf-8")))
    rows[1][rows[0].index("announced_on")] = "not a date"
    with open(src / "funding_rounds.csv", "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
    r = import_source(db, "crunchbase", src)
    assert r.rejected == 1
    listed = list_rejects(db, r.import_id)
    assert [(x["line"], x["column_name"]) for x in listed] == [(2, "date")]


# --- the command line -------------------------------------------------------------------------

def test_cli_sources_lists_connectors_and_mappings_with_licences(db):
    from typer.testing import CliRunner

    from hardtech.presentation.cli.app import app

    r = CliRunner().invoke(app, ["sources", "--format", "json", "--db", str(db)])
    assert r.exit_code == 0, r.output
    rows = {x["name"]: x for x in json.loads(r.stdout)}
    assert {n for n, x in rows.items() if x["kind"] == "connector"} == set(CASES) | {"itjuzi"}
    assert "jrc_oecd" in rows and rows["jrc_oecd"]["kind"] == "mapping"
    assert "Public domain" in rows["sec_formd"]["licence"] and "publications" in rows["openalex"]["tables"]
    one = CliRunner().invoke(app, ["sources", "crunchbase", "--format", "json", "--db", str(db)])
    tables = [x["table"] for x in json.loads(one.stdout)]
    assert tables == ["organizations", "organizations (stubs)", "investors", "investors (stubs)", "funding_rounds"]
    bad = CliRunner().invoke(app, ["sources", "nope", "--db", str(db)])
    assert bad.exit_code == 2 and "no source 'nope'" in bad.output


def test_cli_import_through_a_connector_and_its_errors(db):
    from typer.testing import CliRunner

    from hardtech.presentation.cli.app import app

    run = CliRunner().invoke
    ok = run(app, ["import", "auto", str(CASES["sec_formd"]), "--mapping", "sec_formd", "--db", str(db)])
    assert ok.exit_code == 0, ok.output
    assert "pooled investment funds" in ok.output  # the connector's notes are printed
    only = run(app, ["import", "financials", str(CASES["sec_formd"]), "--mapping", "sec_formd", "--db", str(db)])
    assert only.exit_code == 2 and "fills funding_rounds, organizations" in only.output
    missing = run(app, ["import", "auto", str(CASES["crunchbase"]), "--mapping", "sec_formd", "--db", str(db)])
    assert missing.exit_code == 2 and "no submission file here" in missing.output
