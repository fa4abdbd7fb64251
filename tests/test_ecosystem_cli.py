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


def test_regions_compare_xian_hangzhou_on_the_demo(tmp_path):
    from hardtech.demo import build_demo_store

    db = tmp_path / "d.duckdb"
    build_demo_store(db, shared=None)
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


def test_demo_with_shared_data_shows_flows_capital_and_matching(tmp_path, shared):
    """With ../shared/data the demo adds the unicorn list's real funding: every issue-5 view has inputs."""
    from hardtech.demo import build_demo_store

    f = shared("unicorns_2022.csv")
    db = tmp_path / "d.duckdb"
    info = build_demo_store(db, shared=f.parent)
    raw = pd.read_csv(f)
    assert info["counts"]["funding_rounds"] == len(raw)
    assert any("unicorn list 2022" in n for n in info["notes"])
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
