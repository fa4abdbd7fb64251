"""flows, regions and the shift through the CLI, on the unicorn list and the demo store."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from hardtech.presentation.cli.app import app

runner = CliRunner()


def test_flows_count_by_year_matches_the_raw_file(tmp_path, shared):
    f = shared("unicorns_2022.csv")
    db = tmp_path / "u.duckdb"
    assert runner.invoke(app, ["import", "auto", str(f), "--mapping", "unicorns_2022", "--db", str(db)]).exit_code == 0
    res = runner.invoke(app, ["flows", "--by", "stage", "--metric", "count", "--db", str(db), "-f", "json"])
    assert res.exit_code == 0, res.output
    got = {int(str(r["period"])[:4]): r["rounds"] for r in json.loads(res.stdout)}
    raw = pd.read_csv(f)
    want = raw["Date Joined"].str[:4].astype(int).value_counts().to_dict()
    assert got == want
    res = runner.invoke(app, ["flows", "--shift", "--db", str(db), "-f", "json"])
    assert res.exit_code == 0 and json.loads(res.stdout)


def test_regions_compare_xian_hangzhou_on_the_demo(tmp_path, demo_base):
    from hardtech.demo import build_demo_store

    db = tmp_path / "d.duckdb"
    build_demo_store(db, shared=None, base=demo_base)
    res = runner.invoke(app, ["regions", "compare", "西安", "杭州", "--db", str(db), "-f", "json"])
    assert res.exit_code == 0, res.output
    d = json.loads(res.stdout)[0]
    assert set(d["regions"]) == {"西安", "杭州"} and d["leaders"]["basic_research"] == "西安"
    assert d["regions"]["西安"]["factors"]["policy"]["status"] == "no data"
    res = runner.invoke(app, ["regions", "--db", str(db), "-f", "json"])
    cities = {r.get("region") for r in json.loads(res.stdout)}
    assert {"Xi'an", "Hangzhou"} <= cities
    res = runner.invoke(app, ["regions", "compare", "西安", "--db", str(db)])
    assert res.exit_code == 2
    from hardtech.demo import xian_vs_hangzhou  # what the demo prints is the same comparison

    shown = json.loads(json.dumps(xian_vs_hangzhou(db), ensure_ascii=False, default=str))
    assert shown["leaders"] == d["leaders"] and shown["leaders"]["basic_research"] == "西安"
    assert shown["regions"]["西安"]["factors"] == d["regions"]["西安"]["factors"]


def test_demo_with_shared_data_shows_flows_capital_and_matching(tmp_path, shared, demo_base):
    """With ../shared/data the demo adds the unicorn list's real funding: every issue-5 view has inputs."""
    from hardtech.demo import build_demo_store

    f = shared("unicorns_2022.csv")
    db = tmp_path / "d.duckdb"
    info = build_demo_store(db, shared=f.parent, base=demo_base)
    raw = pd.read_csv(f)
    assert info["counts"]["funding_rounds"] == len(raw)
    assert any(n["key"] == "unicorns" and n["companies"] == len(raw) and n["investors"] > 0 for n in info["notes"])
    res = runner.invoke(app, ["flows", "--by", "typology", "--metric", "count", "--db", str(db), "-f", "json"])
    rows = json.loads(res.stdout)
    assert res.exit_code == 0 and sum(r["rounds"] for r in rows) == len(raw)
    shift = json.loads(runner.invoke(app, ["flows", "--shift", "--db", str(db), "-f", "json"]).stdout)
    assert {r["view"] for r in shift} == {"technology vs model innovation", "secondary vs tertiary sector"}
    # Hangzhou's capital factor now has an input: the funding of the unicorns based there (USD)
    d = json.loads(runner.invoke(app, ["regions", "compare", "西安", "杭州", "--db", str(db), "-f", "json"]).stdout)[0]
    hz = raw[raw.City == "Hangzhou"]["Funding"]
    assert len(hz) > 0 and d["regions"]["杭州"]["factors"]["capital"]["status"] != "no data"
    ev = json.loads(runner.invoke(app, ["match", "evaluate", "--db", str(db), "-f", "json"]).stdout)[0]
    assert ev["n"] > 500 and 0 <= ev["baseline_hit@10"] <= ev["hit@10"] <= 1


def test_flows_cli_growth_investors_and_warnings(tmp_path):
    """--cagr and --investors answer from the same rounds; rounds left out of sums are named on stderr."""
    db = tmp_path / "f.duckdb"
    (tmp_path / "o.csv").write_text("org_id,name_en,country,city\no1,Alpha,CN,Xi'an\no2,Beta,CN,Hangzhou\n",
                                    encoding="utf-8")
    (tmp_path / "r.csv").write_text(
        "round_id,org_id,date,stage,amount,currency,investors\n"
        "r1,o1,2020-03-01,A,10000000,USD,Fund One\n"
        "r2,o1,,B,20000000,USD,Fund One\n"
        "r3,o2,2021-05-01,A,5000000,BRL,Fund Two\n"  # an ISO code with no rate in the FX table
        "r4,o2,2022-06-01,A,40000000,USD,Fund One\n", encoding="utf-8")
    for table, f in (("organizations", "o.csv"), ("funding_rounds", "r.csv")):
        assert runner.invoke(app, ["import", table, str(tmp_path / f), "--db", str(db)]).exit_code == 0
    res = runner.invoke(app, ["flows", "--by", "stage", "--db", str(db), "-f", "json"])
    assert res.exit_code == 0
    rows = {r["period"]: r for r in json.loads(res.stdout)}
    assert rows["2020"]["value"] == 10e6 and rows["2021"]["value"] is None and rows["2022"]["value"] == 40e6
    assert "1 no FX rate" in rows["2021"]["note"]
    assert "without a date left out (no period): r2" in res.stderr
    assert "in BRL with no USD rate" in res.stderr and "r3" in res.stderr
    res = runner.invoke(app, ["flows", "--cagr", "--by", "stage", "--db", str(db), "-f", "json"])
    g = json.loads(res.stdout)[0]
    assert g["first_period"] == "2020" and g["last_period"] == "2022"
    assert g["cagr"] == pytest.approx((40e6 / 10e6) ** 0.5 - 1)
    assert g["currency"] == "USD"  # issue 15: first and last values are amounts, with their currency
    res = runner.invoke(app, ["flows", "--cagr", "--by", "stage", "--db", str(db)], env={"COLUMNS": "100"})
    assert "USD 40.0 m" in res.stdout and "USD 10.0 m" in res.stdout
    res = runner.invoke(app, ["flows", "--investors", "--db", str(db), "-f", "json"])
    top = json.loads(res.stdout)
    assert [(r["investor"], r["rounds"]) for r in top] == [("Fund One", 2), ("Fund Two", 1)]
    assert top[0]["disclosed_amount"] == 50e6 and top[1]["disclosed_amount"] is None
