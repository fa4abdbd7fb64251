"""Regional ecosystems: place resolution, LQ, HHI, scorecards, clusters (issue 5 §2–5)."""

from __future__ import annotations

import csv

import pyarrow as pa
import pytest

from hardtech.analytics import regions as R
from hardtech.analytics.taxonomy import load_taxonomy
from hardtech.errors import NotFound, UsageError


@pytest.mark.parametrize("text", ["西安", "Xi'an", "Xian", "西安市", "xi’an", "XIAN", "陕西省西安市雁塔区科技路10号"])
def test_resolve_xian_spellings(text):
    r = R.resolve_place(text)
    assert r is not None and r["region_id"] == "CN-SN-xian"
    assert r["level"] == "city" and r["province"] == "Shaanxi" and r["name_zh"] == "西安"


def test_resolve_longest_match_and_unknown():
    assert R.resolve_place("咸阳市秦都区")["region_id"] == "CN-SN-xianyang"  # not Xi'an
    assert R.resolve_place("Xianyang")["region_id"] == "CN-SN-xianyang"
    assert R.resolve_place("浙江省杭州市西湖区")["region_id"] == "CN-ZJ-hangzhou"
    assert R.resolve_place("陕西省")["level"] == "province"
    assert R.resolve_place("Atlantis") is None and R.resolve_place("") is None
    # the store's own regions extend the demo list
    extra = [{"region_id": "CN-SN-shenmu", "name_en": "Shenmu", "name_zh": "神木", "aliases": ["神木市"],
              "level": "city", "parent_id": "CN-SN", "country": "CN"}]
    assert R.resolve_place("神木市", regions=extra)["province"] == "Shaanxi"
    assert R.resolve_place("神木市") is None


# ------------------------------------------------------------------------------- hand-built store


def _hand():
    orgs = [
        # Xi'an: 2 aerospace, 1 new_materials, 1 ai; Hangzhou: 3 ai; 1 firm in an unknown city
        ("x1", "company", "Xi'an"), ("x2", "company", "西安市"), ("x3", "startup", "Xian"), ("x4", "company", "Xi'an"),
        ("h1", "company", "Hangzhou"), ("h2", "company", "杭州"), ("h3", "company", "杭州市"),
        ("a1", "company", "Atlantis"), ("u1", "university", "Xi'an"),
    ]
    fields = {"x1": "aerospace", "x2": "aerospace", "x3": "new_materials", "x4": "ai",
              "h1": "ai", "h2": "ai", "h3": "ai", "a1": "aerospace", "u1": "aerospace"}
    o = pa.Table.from_pylist([{"org_id": i, "kind": k, "name_en": i, "country": "CN", "city": c, "province": None,
                               "industry_codes": []} for i, k, c in orgs])
    c = pa.Table.from_pylist([{"entity_type": "organization", "entity_id": i, "model_version": "t", "top_field": f,
                               "classified_at": None} for i, f in fields.items()])
    rounds = pa.Table.from_pylist([
        {"org_id": "h1", "amount_usd": 10e6, "investor_ids": ["fund-a", "fund-b"]},
        {"org_id": "h2", "amount_usd": 5e6, "investor_ids": ["fund-a"]},
    ])
    return {"organizations": o, "classifications": c, "funding_rounds": rounds}


def test_herfindahl_hand_built():
    h = {r["region"]: r for r in R.herfindahl(_hand()).to_pylist()}
    assert h["Xi'an"]["hhi"] == pytest.approx(0.5**2 + 0.25**2 + 0.25**2)  # 0.375
    assert h["Xi'an"]["firms_with_field"] == 4 and h["Xi'an"]["fields"] == 3
    assert h["Hangzhou"]["hhi"] == pytest.approx(1.0)


def test_lq_hand_built_and_unresolved_listed():
    t = {(r["region"], r["field"]): r for r in R.location_quotients(_hand()).to_pylist()}
    # 8 firms nationally (the university is not a firm; Atlantis counts nationally), 3 aerospace
    x = t[("Xi'an", "aerospace")]
    assert (x["count"], x["region_total"], x["field_national"], x["national_total"]) == (2, 4, 3, 8)
    assert x["lq"] == pytest.approx((2 / 4) / (3 / 8))
    assert t[("Hangzhou", "ai")]["lq"] == pytest.approx((3 / 3) / (4 / 8))
    u = R.unresolved(_hand()).to_pylist()
    assert [r["org_id"] for r in u] == ["a1"] and "Atlantis" in u[0]["reason"]


def test_scorecard_no_data_and_clusters_hand_built():
    card = R.scorecard(_hand(), "杭州")
    f = card["factors"]
    for name in ("policy", "application_scenarios", "cost", "talent"):
        assert f[name]["status"] == "no data" and f[name]["value"] is None
    assert f["capital"]["value"] == pytest.approx(15e6) and f["capital"]["inputs"]["rounds"] == 2
    assert R.scorecard(_hand(), "Xi'an")["factors"]["basic_research"]["value"] == 1
    cl = {(r["region"], r["field"]): r for r in R.clusters(_hand(), min_members=3).to_pylist()}
    assert set(cl) == {("Xi'an", "aerospace"), ("Hangzhou", "ai")}  # Xi'an aerospace: x1, x2 and the university
    assert cl[("Hangzhou", "ai")]["investor_ids"] == ["fund-a", "fund-b"]
    assert cl[("Hangzhou", "ai")]["shared_investors"] == ["fund-a"]
    with pytest.raises(NotFound):
        R.scorecard(_hand(), "Atlantis")
    with pytest.raises(UsageError):
        R.location_quotients(_hand(), level="galaxy")


def test_user_factor_table_fills_policy():
    t = _hand()
    t["region_factors"] = pa.Table.from_pylist([{"region": "Hangzhou", "factor": "cost", "value": 3.0,
                                                 "unit": "index", "source": "user survey"},
                                                {"region": "Xi'an", "factor": "cost", "value": 2.0,
                                                 "unit": "index", "source": "user survey"}])
    c = R.compare(t, ["Xi'an", "Hangzhou"])
    assert c["leaders"]["cost"] == "Xi'an"  # lower is better
    assert c["leaders"]["capital"] == "Hangzhou" and c["leaders"]["policy"] is None


# ------------------------------------------------------------------------------- shared data


def _hand_lq(path, key_of):
    """LQ by hand from the raw CSV: one field per firm = strongest cn_industry match with weight ≥ 0.5."""
    tax, floor = load_taxonomy(), R.load_rules()["counting"]["industry_min_weight"]
    assert floor == 0.5
    region, national = {}, {}
    with open(path, encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            m = tax.map_code("cn_industry", row["industry"]) if row["industry"] else []
            field = m[0].field_id if m and m[0].weight >= floor else None
            key = key_of(row["area"])
            national[field] = national.get(field, 0) + 1
            if key:
                region.setdefault(key, {}).setdefault(field, 0)
                region[key][field] += 1
    n_total = sum(national.values())
    out = {}
    for key, counts in region.items():
        r_total = sum(counts.values())
        for field, n in counts.items():
            if field:
                out[(key, field)] = (n, (n / r_total) / (national[field] / n_total))
    return out, n_total


def test_ashare_lq_shenzhen_zhejiang_shaanxi_match_hand_calculation(store, shared):
    from hardtech.store.importer import import_file

    path = shared("cn_ashare_listed_2019.csv")
    r = import_file(store, "organizations", path, mapping="cn_ashare_2019")
    assert r.rejected == 0
    # city level: only Shenzhen (and the municipalities) carry a city in this list
    city = {(x["region"], x["field"]): x for x in R.location_quotients(store, level="city", field_source="industry").to_pylist()}
    hand, n_total = _hand_lq(path, lambda a: "Shenzhen" if a == "深圳" else None)
    sz = {k: v for k, v in hand.items() if k[0] == "Shenzhen"}
    assert sz, "the hand calculation found no Shenzhen hard-tech firms"
    for key, (n, lq) in sz.items():
        assert city[key]["count"] == n and city[key]["national_total"] == n_total
        assert city[key]["lq"] == pytest.approx(lq)
    assert {k for k in city if k[0] == "Shenzhen"} == set(sz)
    assert not any(k[0] in ("Hangzhou", "Xi'an") for k in city)  # the list gives no city for them
    # province level for Hangzhou's province (浙江) and Xi'an's (陕西)
    prov = {(x["region"], x["field"]): x for x in R.location_quotients(store, level="province", field_source="industry").to_pylist()}
    hand, _ = _hand_lq(path, lambda a: {"浙江": "Zhejiang", "陕西": "Shaanxi"}.get(a))
    assert {k[0] for k in hand} == {"Zhejiang", "Shaanxi"}
    for key, (n, lq) in hand.items():
        assert prov[key]["count"] == n and prov[key]["lq"] == pytest.approx(lq)
    assert prov[("Shaanxi", "aerospace")]["lq"] > 1  # Xi'an's aviation industry shows through


def test_moe_universities_per_city(store, shared):
    from hardtech.store.importer import import_file

    import_file(store, "organizations", shared("cn_universities_moe_2017.csv"), mapping="moe_universities_2017")
    t = {r["region"]: r for r in R.regions_table(store).to_pylist()}
    assert t["Xi'an"]["universities"] == 63 and t["Hangzhou"]["universities"] == 46  # domain.md §6
    assert R.unresolved(store).to_pylist() == []  # the region list knows every city of the MOE list
    store.con.execute("INSERT INTO organizations (org_id, kind, country, city, source_name) "
                      "VALUES ('x', 'university', 'CN', '神木市', 'test')")
    u = R.unresolved(store).to_pylist()
    assert [r["org_id"] for r in u] == ["x"] and u[0]["reason"]  # a city outside the list is listed, not dropped


# ------------------------------------------------------------------------------- demo store


@pytest.fixture(scope="module")
def demo(tmp_path_factory, demo_base):
    from hardtech.demo import build_demo_store
    from hardtech.store.connection import Store

    db = tmp_path_factory.mktemp("demo") / "d.duckdb"
    build_demo_store(db, shared=None, base=demo_base)
    s = Store(db, read_only=True)
    yield s
    s.close()


def test_compare_xian_hangzhou_on_demo(demo):
    c = R.compare(demo, ["Xi'an", "Hangzhou"])
    assert set(c["regions"]) == {"Xi'an", "Hangzhou"}
    assert set(c["leaders"]) == set(R.load_rules()["factors"])
    x, h = (c["regions"][n]["factors"] for n in ("Xi'an", "Hangzhou"))
    for name in ("policy", "application_scenarios", "cost", "capital"):  # the demo has no such data
        assert x[name]["status"] == h[name]["status"] == "no data" and c["leaders"][name] is None
    br = x["basic_research"]
    assert br["value"] == br["inputs"]["universities"] + br["inputs"]["institutes"] > 0
    leader = max(("Xi'an", "Hangzhou"), key=lambda n: c["regions"][n]["factors"]["basic_research"]["value"])
    assert c["leaders"]["basic_research"] in (leader, "tie: Xi'an, Hangzhou")
    rt = {r["region"]: r for r in R.regions_table(demo).to_pylist()}
    assert rt["Xi'an"]["hhi"] is not None and 0 < rt["Xi'an"]["hhi"] <= 1
    assert rt["Hangzhou"]["n_it"] > 0


def test_rd_measure_and_regions_table_hand_built():
    t = _hand()
    t["financials"] = pa.Table.from_pylist([
        {"org_id": "x1", "fiscal_year": 2021, "currency": "CNY", "rd_expense": 50.0, "rd_staff": 10},
        {"org_id": "x1", "fiscal_year": 2022, "currency": "CNY", "rd_expense": 60.0, "rd_staff": 12},
        {"org_id": "x4", "fiscal_year": 2022, "currency": "CNY", "rd_expense": 40.0, "rd_staff": None},
        {"org_id": "h1", "fiscal_year": 2022, "currency": "CNY", "rd_expense": 100.0, "rd_staff": 30},
    ])
    lq = {(r["region"], r["field"]): r for r in R.location_quotients(t, measure="rd").to_pylist()}
    x = lq[("Xi'an", "aerospace")]  # latest year only: 60 of Xi'an's 100, nationally 60 of 200
    assert (x["count"], x["region_total"], x["national_total"]) == (60, 100, 200)
    assert x["lq"] == pytest.approx((60 / 100) / (60 / 200))
    rt = {r["region"]: r for r in R.regions_table(t).to_pylist()}
    assert rt["Xi'an"]["rd_total"] == 100 and rt["Xi'an"]["rd_currency"] == "CNY"
    assert rt["Hangzhou"]["funding_usd"] == pytest.approx(15e6) and rt["Hangzhou"]["n_ai"] == 3
    assert R.scorecard(t, "Xi'an")["factors"]["talent"]["value"] == 12
    t["financials"] = pa.concat_tables([t["financials"], pa.Table.from_pylist(
        [{"org_id": "h2", "fiscal_year": 2022, "currency": "USD", "rd_expense": 1.0, "rd_staff": None}],
        schema=t["financials"].schema)])
    with pytest.raises(UsageError, match="one currency"):
        R.location_quotients(t, measure="rd")
    mixed = {r["region"]: r for r in R.regions_table(t).to_pylist()}["Hangzhou"]
    assert mixed["rd_total"] is None and mixed["rd_currency"] == "CNY+USD"  # reported, not added up
