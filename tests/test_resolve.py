"""Entity resolution: names in both languages, merge → undo round trips that lose nothing, review decisions that
survive re-imports and re-runs, and precision/recall on the labelled pairs from a real run."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from hardtech.sources.applicants import first_applicant
from hardtech.analytics.resolve.clusters import Proposal, decide
from hardtech.sources.identifiers import canonical_rank, org_identifiers
from hardtech.sources.names import normalise, romanise
from hardtech.sources.mapping import parse_mapping
from hardtech.store.connection import Store
from hardtech.store.importer import import_file
from hardtech.schema import TABLES

ROOT = Path(__file__).resolve().parents[1]
LABELS = ROOT / "evaluation" / "resolve" / "org_pairs.csv"


# ------------------------------------------------------------------------------------------------ names

@pytest.mark.parametrize("a, b", [
    ("Huawei Technologies Co., Ltd.", "HUAWEI TECHNOLOGIES CO LTD"),
    ("華為技術有限公司", "华为技术有限公司"),                       # traditional → simplified
    ("Ｈｕａｗｅｉ　Ｔｅｃｈｎｏｌｏｇｉｅｓ", "Huawei Technologies"),  # full-width
    ("Alphabet Inc. (Class A)", "Alphabet Inc Class C"),          # share classes
    ("The Boeing Company", "Boeing"),
    ("Siemens Aktiengesellschaft", "SIEMENS AG"),
    ("Robert Bosch Gesellschaft mit beschränkter Haftung", "Robert Bosch GmbH"),
    ("Telefonaktiebolaget LM Ericsson (publ)", "LM Ericsson"),
    ("Koninklijke Philips N.V.", "Philips NV"),
    ("S.F. Holding Co., Ltd.", "SF Holding"),
    ("Trade Desk (The)", "The Trade Desk, Inc."),
    ("北方华创科技集团股份有限公司", "北方华创科技集团有限公司"),
    ("*ST康美", "康美"),                                           # A-share status marker
])
def test_same_normalised_name(a, b):
    assert normalise(a).norm.replace(" ", "") == normalise(b).norm.replace(" ", "")


@pytest.mark.parametrize("a, b", [
    ("Huawei Technologies Co., Ltd.", "HUAWEI"),                   # descriptor only
    ("腾讯科技（深圳）有限公司", "腾讯控股有限公司"),                # bracketed home place, 科技 / 控股
    ("Tencent Technology (Shenzhen) Company Limited", "Tencent Holdings Ltd"),
    ("阿里巴巴（中国）有限公司", "阿里巴巴集团"),
    ("Oracle International Corporation", "Oracle Corp"),
])
def test_same_core(a, b):
    assert normalise(a).core.replace(" ", "") == normalise(b).core.replace(" ", "")


@pytest.mark.parametrize("a, b", [
    ("华为云计算技术有限公司", "华为技术有限公司"),                   # a subsidiary's distinctive words stay
    ("百度（美国）有限责任公司", "百度"),                            # a foreign place in brackets stays
    ("Baidu USA LLC", "Baidu Inc"),
    ("Microsoft Technology Licensing, LLC", "Microsoft Corporation"),
    ("西安交通大学", "上海交通大学"),                                # universities keep their city
    ("哈尔滨工业大学（威海）", "哈尔滨工业大学"),                      # and their campus
    ("Qingdao University of Technology", "Qingdao University"),
    ("航天科技集团", "航天发展"),                                   # a generic word is never a core
    ("CHINA SHIPBUILDING (GROUP POWER)", "CHINA SHIPBUILDING"),
])
def test_different_core(a, b):
    assert normalise(a).core.replace(" ", "") != normalise(b).core.replace(" ", "")


def test_romanised_names_meet_english_ones():
    assert romanise("潍柴动力") == "weichai power" == normalise("WEICHAI POWER").core
    assert normalise("宇通客车").roman_brand == normalise("ZHENGZHOU YUTONG BUS").brand == "yutong"
    assert normalise("四川长虹").roman_brand == normalise("Sichuan Changhong Electric Co").brand == "changhong"
    assert normalise("西安交通大学").roman_core == normalise("Xi'an Jiaotong University").core
    assert normalise("上海电气").brand is None  # nothing distinctive left: never a brand match
    assert normalise("浙江大学").institution == "university"
    assert normalise("中国科学院自动化研究所").institution == "institute"
    assert normalise("Massachusetts Institute of Technology").institution == "university"


def test_first_applicant_keeps_legal_forms_whole():
    assert first_applicant("Huawei Technologies Co., Ltd., Futurewei Technologies, Inc.") == \
        "Huawei Technologies Co., Ltd."
    assert first_applicant("At&T Intellectual Property I, L.P., At&T Mobility Ii Llc") == \
        "At&T Intellectual Property I, L.P."
    assert first_applicant("华为技术有限公司, 清华大学") == "华为技术有限公司"
    assert first_applicant("") is None


def test_identifiers_are_normalised():
    assert org_identifiers("us:GOOG", identifiers=["cik:0001652044"]) == ["us:GOOG", "ticker:US:GOOG", "cik:1652044"]
    assert "ticker:CN:000063" in org_identifiers("zte", "SZSE", "000063")
    assert org_identifiers("x", "HKEX", "0700") == ["ticker:HK:700"]
    # a merged record's id stays a ticker on the survivor
    assert org_identifiers("us:GOOGL", "NASDAQ", "GOOGL", ["us:GOOG"]) == ["us:GOOGL", "ticker:US:GOOGL", "us:GOOG",
                                                                          "ticker:US:GOOG"]
    assert canonical_rank("huawei") < canonical_rank("cn:000063") < canonical_rank("jrc:410")


# ------------------------------------------------------------------------------------------------ decisions

def _p(a, b, prob, kind_a="organization"):
    return Proposal(a, b, prob, kind_a=kind_a)


def test_decide_never_joins_two_unique_ids_and_respects_rejections():
    props = [_p("x", "jrc:1", 0.99), _p("x", "jrc:2", 0.98), _p("y", "z", 0.97), _p("y", "w", 0.5)]
    ids = {"jrc:1": {"jrc": {"jrc:1"}}, "jrc:2": {"jrc": {"jrc:2"}}}
    d = decide(props, 0.9, 0.3, ids, {}, {frozenset(("y", "z"))}, canonical_rank)
    merged = {(f, i) for f, i, _ in d.merges}
    assert merged == {("jrc:1", "x")}                      # the second JRC id cannot join the same organisation
    assert [r for _, r in d.review if "jrc" in r]            # … it waits for review with the reason
    assert ("z", "y") not in merged and ("y", "z") not in merged  # a rejected pair stays apart
    assert any(p.b == "w" for p, _ in d.review)              # the uncertain band is queued


def test_decide_applicant_links_to_one_organisation_only():
    props = [_p("patent-applicant:A", "o1", 0.99, "patent_applicant"),
             _p("patent-applicant:A", "o2", 0.98, "patent_applicant"),
             _p("patent-applicant:B", "o1", 0.999, "patent_applicant"),
             _p("patent-applicant:B", "o3", 0.2, "patent_applicant")]
    d = decide(props, 0.9, 0.1, {}, {}, set(), canonical_rank)
    assert [(a, o) for a, o, _ in d.links] == [("patent-applicant:B", "o1")]
    assert {p.b for p, _ in d.review if p.a == "patent-applicant:A"} == {"o1", "o2"}


# ------------------------------------------------------------------------------------------------ store

ORG_COLS = ["org_id", "kind", "name_en", "name_zh", "aliases", "country", "exchange", "ticker", "identifiers"]
ORGS_DEMO = [
    ["huawei", "company", "Huawei", "华为技术有限公司", "华为|Huawei Technologies|HUAWEI INVESTEMENT & HOLDING CO", "CN",
     "", "", ""],
    ["zte", "company", "ZTE", "中兴通讯股份有限公司", "中兴通讯|ZTE Corporation", "CN", "SZSE", "000063", ""],
]
ORGS_PANEL = [
    ["jrc:410", "company", "HUAWEI INVESTEMENT & HOLDING CO", "", "", "CN", "", "", ""],
    ["jrc:158", "company", "ZTE", "", "", "CN", "", "", ""],
    ["jrc:1636", "company", "GOODYEAR", "", "", "US", "", "", ""],
    ["jrc:901", "company", "SHANGHAI HUAYI GROUP", "", "", "CN", "", "", ""],
    ["jrc:902", "company", "SHANGHAI HUAYI (GROUP)", "", "", "CN", "", "", ""],
]
ORGS_LIST = [
    ["cn:000063", "company", "", "中兴通讯", "中兴通讯", "CN", "SZSE", "000063", ""],
    ["us:GT", "company", "Goodyear Tire & Rubber", "", "", "US", "", "GT", "cik:0000042582"],
]
FIN = [["jrc:410", "2018", "EUR", "12000", "JRC panel"], ["huawei", "2018", "CNY", "101509", "annual report"],
       ["jrc:158", "2018", "EUR", "1500", "JRC panel"]]
PATENTS = [["CN1A", "华为技术有限公司"], ["CN2A", "华为技术有限公司, 清华大学"], ["US3B2", "Huawei Technologies Co., Ltd."],
           ["CN4A", "华为云计算技术有限公司"], ["US5B2", "Goodyear Tire & Rubber Company"]]


def _write(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


def _identity(table: str, cols: list[str], extra: dict | None = None):
    return parse_mapping({"name": f"t_{table}", "targets": {table: {"columns": {c: c for c in cols} | (extra or {})}}})


def _load(db: Path, tmp: Path) -> dict:
    files = {
        "demo": _write(tmp / "demo.csv", ORG_COLS, ORGS_DEMO), "panel": _write(tmp / "panel.csv", ORG_COLS, ORGS_PANEL),
        "list": _write(tmp / "list.csv", ORG_COLS, ORGS_LIST),
        "fin": _write(tmp / "fin.csv", ["org_id", "fiscal_year", "currency", "rd_expense", "note"],
                      [r for r in FIN if r[4] == "JRC panel"]),
        "fin_own": _write(tmp / "fin_own.csv", ["org_id", "fiscal_year", "currency", "rd_expense", "note"],
                          [r for r in FIN if r[4] != "JRC panel"]),
        "pat": _write(tmp / "pat.csv", ["publication_number", "applicant"], PATENTS),
    }
    counts = {}
    with Store(db) as s:
        for src in ("demo", "panel", "list"):
            r = import_file(s, "organizations", files[src], source=src, mapping=_identity("organizations", ORG_COLS))
            counts[src] = r.targets[0]
        fin_map = _identity("financials", ["org_id", "fiscal_year", "currency", "note"],
                            {"rd_expense": {"column": "rd_expense", "unit": "million"}})
        counts["fin"] = import_file(s, "financials", files["fin"], source="panel", mapping=fin_map).targets[0]
        counts["fin_own"] = import_file(s, "financials", files["fin_own"], source="annual reports",
                                        mapping=fin_map).targets[0]
        counts["pat"] = import_file(s, "patents", files["pat"], source="pat",
                                    mapping=_identity("patents", ["publication_number", "applicant"])).targets[0]
    return counts


def _snapshot(db: Path) -> dict:
    with Store(db, read_only=True) as s:
        out = {}
        for t in ("organizations", "financials", "patents"):
            cols = TABLES[t].data_names + ["source_name", "content_hash"]
            out[t] = sorted(map(tuple, s.con.execute(
                f"SELECT {', '.join(cols)} FROM {t}").fetchall()), key=lambda r: tuple(str(x) for x in r))
        return out


def _source_ids(db: Path) -> set[str]:
    with Store(db, read_only=True) as s:
        ids = set()
        for oid, ex, tk, idf in s.con.execute("SELECT org_id, exchange, ticker, identifiers FROM organizations").fetchall():
            ids.update(org_identifiers(oid, ex, tk, idf))
            ids.add(oid if ":" in oid else "org:" + oid)
        return ids


def test_merge_then_undo_loses_nothing(tmp_path):
    from hardtech.services.resolve import merge_rows, resolve_store, undo

    db = tmp_path / "r.duckdb"
    _load(db, tmp_path)
    before, before_ids = _snapshot(db), _source_ids(db)
    r = resolve_store(db, by="test")
    assert r["merged"] >= 3 and r["linked"] >= 2
    with Store(db, read_only=True) as s:
        con = s.con
        redirect = dict(con.execute("SELECT from_id, org_id FROM org_redirects").fetchall())
        assert redirect["jrc:410"] == "huawei" and redirect["jrc:158"] == "zte" and redirect["cn:000063"] == "zte"
        assert "jrc:901" not in redirect and "jrc:902" not in redirect  # two JRC ids stay two organisations
        # every source id survives: on the surviving organisation's identifiers and in the merge log
        assert before_ids <= _source_ids(db) | {i for (ids,) in con.execute(
            "SELECT source_ids FROM resolve_merges").fetchall() for i in ids}
        assert "jrc:410" in con.execute("SELECT identifiers FROM organizations WHERE org_id = 'huawei'").fetchall()[0][0]
        # financials follow the organisation, none lost
        assert con.execute("SELECT count(*) FROM financials WHERE org_id = 'huawei'").fetchall()[0][0] == 2
        assert con.execute("SELECT count(*) FROM financials").fetchall()[0][0] == len(FIN)
        linked = dict(con.execute("SELECT publication_number, applicant_org_id FROM patents").fetchall())
        assert linked["CN1A"] == linked["CN2A"] == linked["US3B2"] == "huawei"
        assert linked["CN4A"] is None  # Huawei Cloud is another organisation
        evidence = con.execute("SELECT evidence, decided_by FROM resolve_merges WHERE from_id = 'jrc:410'").fetchall()[0]
        assert "name" in evidence[0] and evidence[1] == "hardtech resolve"
    # undo every merge, newest first: the store is exactly as imported
    for m in merge_rows(db, limit=1000):
        undo(db, m["merge_id"], by="test")
    assert _snapshot(db) == before
    with Store(db, read_only=True) as s:
        assert s.count("org_redirects") == 0 and s.count("org_originals") == 0
        assert s.con.execute("SELECT count(*) FROM resolve_decisions WHERE decision = 'reject'").fetchall()[0][0] >= 3
    # undone merges are remembered as rejections: a re-run merges none of them again
    r2 = resolve_store(db, by="test")
    assert r2["merged"] == 0 and r2["linked"] == 0


def test_undo_one_merge_restores_that_organisation(tmp_path):
    from hardtech.services.resolve import merge_rows, resolve_store, undo

    db = tmp_path / "r.duckdb"
    _load(db, tmp_path)
    with Store(db, read_only=True) as s:
        panel_row = s.con.execute("SELECT * FROM organizations WHERE org_id = 'jrc:410'").fetchall()
    resolve_store(db, by="test")
    m = [x for x in merge_rows(db, "huawei") if x["from_id"] == "jrc:410"][0]
    r = undo(db, m["merge_id"], by="reviewer")
    assert r["split_off"] == "jrc:410" and r["rows_moved_back"]["financials"] == 1
    with Store(db, read_only=True) as s:
        assert s.con.execute("SELECT * FROM organizations WHERE org_id = 'jrc:410'").fetchall() == panel_row
        assert s.con.execute("SELECT org_id FROM financials WHERE note = 'JRC panel' AND rd_expense = 12000e6"
                             ).fetchall() == [("jrc:410",)]
        hw = s.con.execute("SELECT identifiers, aliases FROM organizations WHERE org_id = 'huawei'").fetchall()[0]
        assert "jrc:410" not in (hw[0] or [])
        st = s.con.execute("SELECT status, undone_by FROM resolve_merges WHERE merge_id = ?", [m["merge_id"]]).fetchall()
        assert st == [("undone", "reviewer")]


def test_reimport_after_merge_adds_nothing_and_keeps_decisions(tmp_path):
    from hardtech.services.resolve import resolve_store, review_decide, review_rows

    db = tmp_path / "r.duckdb"
    _load(db, tmp_path)
    resolve_store(db, by="test")
    open_pairs = review_rows(db, "open", 100)
    goodyear = [p for p in open_pairs if {p["record_a"], p["record_b"]} == {"jrc:1636", "us:GT"}]
    cloud = [p for p in open_pairs if {p["record_a"], p["record_b"]} == {"jrc:901", "jrc:902"}]
    assert goodyear and cloud, open_pairs
    assert "jrc" in cloud[0]["reason"]  # held back by the unique-id rule, with the reason
    review_decide(db, accept=[goodyear[0]["pair_id"]], reject=[cloud[0]["pair_id"]], by="analyst")
    with Store(db, read_only=True) as s:
        n_orgs, n_fin = s.count("organizations"), s.count("financials")
        assert dict(s.con.execute("SELECT from_id, org_id FROM org_redirects").fetchall())["jrc:1636"] == "us:GT"
    # the same files again: nothing added, nothing blanked, merges and decisions hold
    counts = _load(db, tmp_path)
    assert all(c.inserted == 0 and c.updated == 0 for c in counts.values()), counts
    assert counts["fin"].redirected == 2  # jrc:410 and jrc:158 rows land on huawei and zte
    resolve_store(db, by="test")
    with Store(db, read_only=True) as s:
        assert (s.count("organizations"), s.count("financials")) == (n_orgs, n_fin)
        redirect = dict(s.con.execute("SELECT from_id, org_id FROM org_redirects").fetchall())
        assert redirect["jrc:1636"] == "us:GT" and redirect["jrc:410"] == "huawei"
        assert s.con.execute("SELECT applicant_org_id FROM patents WHERE publication_number = 'CN4A'"
                             ).fetchall() == [(None,)]
        assert s.con.execute("SELECT status FROM resolve_review WHERE pair_id = ?",
                             [cloud[0]["pair_id"]]).fetchall() == [("rejected",)]
        assert s.con.execute("SELECT decided_by FROM resolve_merges WHERE from_id = 'jrc:1636'").fetchall() == \
            [("analyst",)]
    # a changed source row updates the merged organisation, still without a duplicate
    rows = [r[:] for r in ORGS_PANEL]
    rows[0][8] = "lei:529900T8BM49AURSDO55"
    _write(tmp_path / "panel.csv", ORG_COLS, rows)
    with Store(db) as s:
        r = import_file(s, "organizations", tmp_path / "panel.csv", source="panel",
                        mapping=_identity("organizations", ORG_COLS)).targets[0]
        assert (r.inserted, r.updated) == (0, 1)
        assert "lei:529900T8BM49AURSDO55" in s.con.execute(
            "SELECT identifiers FROM organizations WHERE org_id = 'huawei'").fetchall()[0][0]


def test_cli_resolve_speaks(tmp_path):
    from typer.testing import CliRunner

    from hardtech.presentation.cli.app import app

    db = tmp_path / "r.duckdb"
    _load(db, tmp_path)
    runner = CliRunner()
    r = runner.invoke(app, ["resolve", "--db", str(db), "--format", "json"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["resolve", "review", "--db", str(db), "--format", "csv"])
    assert r.exit_code == 0 and "pair_id" in r.stdout
    r = runner.invoke(app, ["resolve", "undo", "m-nope", "--db", str(db)])
    assert r.exit_code == 2 and "no merge" in r.output
    r = runner.invoke(app, ["resolve", "sideways", "--db", str(db)])
    assert r.exit_code == 2



def test_cli_resolve_on_an_empty_store_says_why(tmp_path):
    from typer.testing import CliRunner

    from hardtech.presentation.cli.app import app

    r = CliRunner().invoke(app, ["resolve", "--db", str(tmp_path / "empty.duckdb")])
    assert r.exit_code == 0, r.output
    assert "no named organisations" in r.output and "hardtech import" in r.output

# ------------------------------------------------------------------------------------------------ evaluation

SHARED_FILES = [("jrc_oecd", "jrc_oecd_rd_top2000_2015_2018.csv"), ("nyse_securities", "nyse_securities_gics.csv"),
                ("sp500_gics", "sp500_constituents_gics.csv"), ("cn_ashare_2019", "cn_ashare_listed_2019.csv"),
                ("moe_universities_2017", "cn_universities_moe_2017.csv"),
                ("patents_ai_assignee_dates", "patents_ai_assignee_dates.csv")]


@pytest.mark.slow
@pytest.mark.shared
def test_precision_and_recall_on_the_labelled_pairs(shared, tmp_path):
    """A real run over the labelled sources: the held-out pairs keep precision and recall above a floor."""
    from hardtech.demo import DEMO_SOURCE, _identity as demo_identity, demo_dir
    from hardtech.services.resolve import evaluate_labels, resolve_store

    db = tmp_path / "eval.duckdb"
    with Store(db) as s:
        for mapping, name in SHARED_FILES:
            import_file(s, "auto", shared(name), mapping=mapping)
        cols = ["org_id", "kind", "name_en", "name_zh", "aliases", "country", "province", "city", "exchange", "ticker",
                "ownership", "industry_codes", "website"]
        import_file(s, "organizations", demo_dir() / "organizations.csv", source=DEMO_SOURCE,
                    mapping=parse_mapping(demo_identity("organizations", cols)))
    resolve_store(db, by="test")
    res = evaluate_labels(db, LABELS)
    assert res["not_in_store"] == 0
    test = res["groups"]["split:test"]
    assert test["precision"] >= 0.98, test
    assert test["recall"] >= 0.75, test
    same_script = {k: g for k, g in res["groups"].items() if k.startswith("stratum:") and k != "stratum:jrc-ashare"}
    tp = sum(g["tp"] for g in same_script.values())
    fn = sum(g["fn"] for g in same_script.values())
    assert tp / (tp + fn) >= 0.93


# ------------------------------------------------------------------------------------------------ the demo store

def test_resolving_the_bundled_demo_store_merges_across_lists_and_loses_nothing(tmp_path, demo_base):
    """The bundled lists name one company differently (the JRC panel's MICROSOFT, the S&P 500's Microsoft): a
    run merges them, every source id survives, and every financial row is either re-pointed or set aside."""
    import shutil

    from hardtech.services.resolve import resolve_store

    db = tmp_path / "demo.duckdb"
    shutil.copyfile(demo_base, db)
    before_ids = _source_ids(db)
    with Store(db, read_only=True) as s:
        n_fin, n_orgs = s.count("financials"), s.count("organizations")
        assert s.con.execute("SELECT count(*) FROM organizations WHERE org_id = 'jrc:1916'").fetchall()[0][0] == 1
    r = resolve_store(db)
    assert r["merged"] >= 100 and r["linked"] >= 100
    with Store(db, read_only=True) as s:
        assert s.count("organizations") == n_orgs - r["merged"]
        ms = s.con.execute("SELECT org_id, identifiers FROM organizations WHERE org_id = 'us:MSFT'").fetchall()
        assert ms and "jrc:1916" in ms[0][1]
        set_aside = s.con.execute("SELECT count(*) FROM resolve_row_origins WHERE table_name = 'financials' "
                                  "AND archived_row IS NOT NULL").fetchall()[0][0]
        assert s.count("financials") + set_aside == n_fin
        # our organisations carry the bundled ids they are linked to, so no second panel company joins them
        # (the panel's FOXCONN TECHNOLOGY is not Hon Hai, jrc:1323)
        for oid, ids in s.con.execute("SELECT org_id, identifiers FROM organizations").fetchall():
            jrc = {i for i in [oid, *(ids or [])] if i.startswith("jrc:")}
            assert len(jrc) <= 1, (oid, jrc)
    assert before_ids <= _source_ids(db)  # a merge never loses a source id
