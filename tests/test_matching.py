"""Matching startups with investors: obvious rankings come out first, aliases merge, and on the real
unicorn list the model beats ranking investors by popularity on a leave-one-company-out hold-out."""

from __future__ import annotations

import csv

import pandas as pd
import pytest

from hardtech.analytics.matching import (
    evaluate_holdout,
    investor_profiles,
    match_investor,
    match_startup,
)
from hardtech.store.importer import import_file


def _org(oid, city, country, field):
    return {"org_id": oid, "kind": "startup", "name_en": oid, "city": city, "country": country,
            "industry_codes": [], "_field": field}


def hand_built() -> dict[str, pd.DataFrame]:
    """Four investors with plain portfolios, and a biotech startup in Shanghai to place."""
    orgs = [_org("target", "Shanghai", "CN", "biotech")]
    rounds = []
    port = {"bio_sh": [("Shanghai", "CN", "biotech")] * 3,
            "bio_bj": [("Beijing", "CN", "biotech")] * 3,
            "ai_sh": [("Shanghai", "CN", "ai")] * 3,
            "busy_us": [("Boston", "US", "it")] * 6}
    for inv, items in port.items():
        for n, (city, country, field) in enumerate(items):
            oid = f"{inv}-p{n}"
            orgs.append(_org(oid, city, country, field))
            rounds.append({"round_id": f"r-{oid}", "org_id": oid, "date": f"2020-0{n + 1}-01", "stage": "a",
                           "amount_usd": 1e7, "investors": [inv], "investor_ids": [inv]})
    o = pd.DataFrame(orgs)
    cls = pd.DataFrame({"entity_id": o.org_id, "fields": [[f] for f in o._field], "top_field": o._field,
                        "classified_at": pd.Timestamp("2024-01-01"), "model_version": "t"})
    inv = pd.DataFrame({"investor_id": list(port), "name_en": list(port)})
    return {"organizations": o.drop(columns="_field"), "funding_rounds": pd.DataFrame(rounds), "investors": inv,
            "classifications": cls}


def test_shanghai_biotech_investor_ranks_first_with_reasons():
    res = match_startup(hand_built(), "target", top=4)
    ids = [r["investor_id"] for r in res]
    assert ids[0] == "bio_sh"
    assert ids.index("busy_us") == 3  # most active, but wrong field and region
    assert res[0]["score"] > res[1]["score"]
    text = " ".join(res[0]["reasons"])
    assert "biotech" in text and "Shanghai" in text
    # the same field in another city and the same city in another field both beat the unrelated one
    assert {ids[1], ids[2]} == {"bio_bj", "ai_sh"}


def test_match_investor_and_profiles():
    t = hand_built()
    seed = {"round_id": "r-seed", "org_id": "target", "date": "2021-01-01", "stage": "a", "amount_usd": 1e7,
            "investors": [], "investor_ids": []}  # raising the kind of round bio_sh joins, investors unknown
    t["funding_rounds"] = pd.concat([t["funding_rounds"], pd.DataFrame([seed])], ignore_index=True)
    top = match_investor(t, "bio_sh", top=3)
    assert top[0]["org_id"] == "target"  # not in its portfolio yet, and exactly its kind of company
    assert all(not r["org_id"].startswith("bio_sh-") for r in top)
    prof = investor_profiles(t).set_index("investor_id")
    assert prof.loc["bio_sh", "fields"] == ["biotech"] and prof.loc["busy_us", "portfolio"] == 6
    assert "Shanghai" in prof.loc["bio_sh", "regions"] and prof.loc["bio_sh", "ticket_usd"] == pytest.approx(1e7)


def test_excluded_round_is_not_seen():
    t = hand_built()
    only = {"round_id": "r-solo", "org_id": "target", "date": "2021-01-01", "stage": "b", "amount_usd": 5e6,
            "investors": ["solo"], "investor_ids": ["solo"]}
    t["funding_rounds"] = pd.concat([t["funding_rounds"], pd.DataFrame([only])], ignore_index=True)
    t["investors"] = pd.concat([t["investors"], pd.DataFrame([{"investor_id": "solo", "name_en": "Solo"}])])
    seen = {r["investor_id"]: r for r in match_startup(t, "target", top=5)}
    hidden = {r["investor_id"]: r for r in match_startup(t, "target", top=5, exclude_rounds={"r-solo"})}
    assert seen["solo"]["components"]["activity"] > 0 and "already an investor (follow-on)" in seen["solo"]["reasons"]
    assert hidden.get("solo", {"components": {"activity": 0}})["components"]["activity"] == 0


def _write(path, header, rows):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


def test_three_spellings_resolve_to_one_investor(store, tmp_path):
    import_file(store, "investors", _write(tmp_path / "inv.csv", ["investor_id", "name_en", "name_zh", "aliases"], [
        ["hongshan", "HongShan", "红杉中国", "红杉资本中国|Sequoia Capital China"],
        ["other", "Other Fund", "", ""]]))
    import_file(store, "organizations", _write(tmp_path / "orgs.csv", ["org_id", "kind", "name_en", "city", "country"], [
        [f"o{i}", "startup", f"O{i}", "Shanghai", "CN"] for i in range(4)]))
    names = ["红杉资本中国", "Sequoia Capital China", "红杉中国"]
    rows = [[f"r{i}", f"o{i}", f"2021-0{i + 1}-01", "a", f"{n}|Other Fund"] for i, n in enumerate(names)]
    r = import_file(store, "funding_rounds", _write(tmp_path / "rounds.csv",
                                                    ["round_id", "org_id", "date", "stage", "investors"], rows))
    assert r.rejected == 0
    prof = investor_profiles(store).set_index("investor_id")
    assert len(prof) == 2 and prof.loc["hongshan", "portfolio"] == 3 and prof.loc["hongshan", "rounds"] == 3
    assert prof.loc["hongshan", "co_investors"] == ["other"]
    res = match_startup(store, "o3", top=2)
    assert {x["investor_id"] for x in res} == {"hongshan", "other"}


def test_unicorn_holdout_beats_popularity(store, shared):
    f = shared("unicorns_2022.csv")
    import_file(store, "auto", f, mapping="unicorns_2022")
    r = evaluate_holdout(store, k=10)
    assert r["n"] > 1000  # every company with at least one resolved investor is evaluated
    assert r["hit@10"] > r["baseline_hit@10"], r
    assert 0 < r["recall@10"] <= r["hit@10"]


def test_match_cli_on_unicorns(tmp_path, shared):
    import json

    from typer.testing import CliRunner

    from hardtech.presentation.cli.app import app

    runner = CliRunner()
    db = tmp_path / "u.duckdb"
    f = shared("unicorns_2022.csv")
    assert runner.invoke(app, ["import", "auto", str(f), "--mapping", "unicorns_2022", "--db", str(db)]).exit_code == 0
    res = runner.invoke(app, ["match", "startup", "SHEIN", "--db", str(db), "-f", "json"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)
    assert 0 < len(rows) <= 10 and all(r["reasons"] for r in rows)
    res = runner.invoke(app, ["match", "evaluate", "--db", str(db), "-f", "json"])
    ev = json.loads(res.stdout)[0]
    assert ev["hit@10"] > ev["baseline_hit@10"]
