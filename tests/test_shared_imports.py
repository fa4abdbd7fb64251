"""Every shipped mapping imports its real third-party file from ../shared/data."""

from __future__ import annotations

import pandas as pd
import pytest

from hardtech.store.importer import import_file


def test_jrc_panel_gives_2000_orgs_and_8000_financials_once(store, shared):
    f = shared("jrc_oecd_rd_top2000_2015_2018.csv")
    r = import_file(store, "auto", f, mapping="jrc_oecd")
    by = {t.table: t for t in r.targets}
    assert r.rejected == 0, r.rejects[:5]
    assert store.count("organizations") == 2000 and store.count("financials") == 8000
    assert by["organizations"].merged == 6000  # four panel rows per company fold into one organisation
    again = import_file(store, "auto", f, mapping="jrc_oecd")
    assert sum(t.inserted + t.updated for t in again.targets) == 0
    assert store.count("organizations") == 2000 and store.count("financials") == 8000
    # figures arrive in EUR, scaled from EUR million, and carry the panel as their source
    raw = pd.read_csv(f)
    alphabet = raw[(raw.company_name == "ALPHABET") & (raw.year == 2018)].iloc[0]
    rd, cur, src = store.con.execute(
        "SELECT rd_expense, currency, f.source_name FROM financials f JOIN organizations o USING (org_id) "
        "WHERE o.name_en = 'ALPHABET' AND fiscal_year = 2018").fetchall()[0]
    assert rd == pytest.approx(alphabet.rd * 1e6) and cur == "EUR" and "JRC" in src


def test_ai_patents_31k_with_cpc_then_assignees_patch(store, shared):
    f = shared("patents_ai_cpc_31k.csv")
    raw = pd.read_csv(f, dtype=str)
    r = import_file(store, "patents", f, mapping="patents_ai_cpc")
    n = store.count("patents")
    assert n + r.rejected == len(raw)
    assert n == raw.publication_number.nunique()  # duplicates in the file are the only rejects
    codes = store.con.execute("SELECT cpc_codes FROM patents WHERE publication_number = 'US11532378B2'").fetchall()
    if codes:
        assert all("/" in c and " " not in c for c in codes[0][0])
    a = shared("patents_ai_assignee_dates.csv")
    r2 = import_file(store, "patents", a, mapping="patents_ai_assignee_dates")
    assert r2.targets[0].updated > 1000  # rows known from the CPC file get assignees and dates
    row = store.con.execute("SELECT count(*) FROM patents WHERE applicant IS NOT NULL AND abstract IS NOT NULL "
                            "AND filing_date IS NOT NULL").fetchall()[0][0]
    assert row > 1000


@pytest.mark.parametrize("name,rows", [("patents_3dprinting_us_cn_312.csv", 312),
                                       ("patents_stemcell_us_761.csv", 761)])
def test_korean_header_exports(store, shared, name, rows):
    r = import_file(store, "patents", shared(name), mapping="wips_patent_export")
    assert r.rejected == 0, r.rejects[:3]
    assert store.count("patents") == rows
    ipc = store.con.execute("SELECT ipc_codes FROM patents WHERE ipc_codes IS NOT NULL AND len(ipc_codes) > 0 "
                            "LIMIT 1").fetchall()[0][0]
    assert all("-" not in c and " " not in c for c in ipc)


def test_unicorns_orgs_investors_and_rounds(store, shared):
    f = shared("unicorns_2022.csv")
    raw = pd.read_csv(f)
    r = import_file(store, "auto", f, mapping="unicorns_2022")
    assert r.rejected == 0, r.rejects[:5]
    assert store.count("organizations") == len(raw.drop_duplicates(["Company", "City"]))  # two Bolts, two Fabrics
    assert store.count("funding_rounds") == len(raw)
    expected_inv = {s.strip() for cell in raw["Select Investors"].dropna() for s in cell.split(",") if s.strip()}
    assert store.count("investors") <= len(expected_inv) and store.count("investors") > 0.9 * len(expected_inv)
    undisclosed = store.con.execute("SELECT count(*) FROM funding_rounds WHERE NOT disclosed").fetchall()[0][0]
    assert undisclosed == int((raw.Funding == "Unknown").sum())
    cn = store.con.execute("SELECT count(*) FROM organizations WHERE country = 'CN'").fetchall()[0][0]
    assert cn == int((raw.Country == "China").sum())
    resolved = store.con.execute("SELECT count(*) FROM funding_rounds WHERE len(investor_ids) > 0").fetchall()[0][0]
    assert resolved > 0.9 * raw["Select Investors"].notna().sum()


def test_ashare_moe_sp500(store, shared):
    a = shared("cn_ashare_listed_2019.csv")
    r = import_file(store, "organizations", a, mapping="cn_ashare_2019")
    raw = pd.read_csv(a, dtype=str)
    assert r.rejected == 0 and r.targets[0].inserted == raw.code.nunique()
    sz = store.con.execute("SELECT count(*) FROM organizations WHERE city = 'Shenzhen'").fetchall()[0][0]
    assert sz == int((raw.area == "深圳").sum())
    ex = dict(store.con.execute("SELECT ticker, exchange FROM organizations WHERE ticker IN ('600336','000720')").fetchall())
    assert ex == {"600336": "SSE", "000720": "SZSE"}
    m = shared("cn_universities_moe_2017.csv")
    r = import_file(store, "organizations", m, mapping="moe_universities_2017")
    assert r.rejected == 0 and r.targets[0].inserted == len(pd.read_csv(m))
    s = shared("sp500_constituents_gics.csv")
    r = import_file(store, "organizations", s, mapping="sp500_gics")
    assert r.rejected == 0, r.rejects[:3]
    countries = dict(store.con.execute("SELECT ticker, country FROM organizations WHERE ticker IN ('MMM', 'ACN')").fetchall())
    assert countries.get("MMM") == "US"


def test_nyse_fundamentals_with_extra_index_column(store, shared):
    import_file(store, "organizations", shared("nyse_securities_gics.csv"), mapping="nyse_securities")
    f = shared("nyse_fundamentals_2012_2016.csv")
    raw = pd.read_csv(f, index_col=0)
    r = import_file(store, "auto", f, mapping="nyse_fundamentals")
    assert r.rejected == 0, r.rejects[:5]
    assert store.count("financials") == len(raw)
    # capex is booked as a negative cash flow in the source and negated by the mapping
    neg = store.con.execute("SELECT count(*) FROM financials WHERE capex < 0").fetchall()[0][0]
    assert neg == int((raw["Capital Expenditures"] > 0).sum())
    rd = store.con.execute("SELECT sum(rd_expense) FROM financials").fetchall()[0][0]
    assert rd == pytest.approx(raw["Research and Development"].sum())
