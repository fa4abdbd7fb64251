"""Reproduce the validity figures of docs/hardness.md on the JRC–OECD top-2000 R&D panel.

    python evaluation/hardness_validity.py [--shared ../shared/data] [--out evaluation/hardness_results.json]
                                           [--baseline-src DIR]

1. Builds a store as a user would: the panel imported with the shipped `jrc_oecd` mapping, the
   organisations classified, then scored (`hardness.score`, the packaged weights).
2. Reports for 2018: the ten highest scores, the companies issue 16 named, the mean score by
   ISIC aggregate and by OECD R&D-intensity group (must fall from high to low), the ROC AUC of
   ISIC 21 and 26 against 45–47, 55–56, 64–66 and 73, the rank correlation with R&D intensity
   across all companies, and the mean confidence.
3. Back-test: the score of 2016 (from the figures of 2015–2016 only) against the growth of R&D
   and of patent filings (patCN+patEP+patJP+patKR+patUS) from 2016 to 2018; rank correlation and
   top- vs bottom-quintile medians, with plain R&D intensity of 2016 as the naive benchmark.
4. With `--baseline-src DIR` (the `src` of another hardtech checkout, e.g. a `git worktree` of the
   commit before weights version 2), the same figures for that version's scores, computed by its
   own `hardtech score` on the same store, for the before/after tables.

The panel is JRC–OECD, COR&DIP "World Corporate Top R&D Investors" 2015–2018 (EU reuse policy,
Commission Decision 2011/833/EU); it is read from ../shared/data (or the copy bundled into the
package, when there is one) and never copied here.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
PANEL = "jrc_oecd_rd_top2000_2015_2018.csv"
SOURCE = "JRC–OECD, COR&DIP database, World Corporate Top R&D Investors 2015–2018"
LICENCE = "EU reuse policy (Commission Decision 2011/833/EU)"
PATENT_COLUMNS = ("patCN", "patEP", "patJP", "patKR", "patUS")
# the companies issue 16 quotes, by their panel names
NAMED = ("HSBC", "ALIBABA GROUP HOLDING", "CTRIP.COM INTERNATIONAL", "WORKDAY", "EBAY", "TAIWAN SEMICONDUCTOR",
         "HUAWEI INVESTEMENT & HOLDING CO", "ASML HOLDING", "BOEING")


def find_panel(shared: Path | None) -> Path:
    """The panel: the copy bundled into the package when there is one, else ../shared/data."""
    bundled = sorted((ROOT / "src" / "hardtech" / "data").rglob(f"{PANEL.rsplit('.', 1)[0]}.*"))
    if bundled:
        return bundled[0]
    base = shared or Path(os.environ.get("HARDTECH_SHARED", ROOT.parent / "shared" / "data"))
    path = base / PANEL
    if not path.exists():
        raise SystemExit(f"the JRC–OECD panel is not at {path}; pass --shared DIR")
    return path


def build_store(db: Path, panel: Path) -> dict:
    from hardtech.services.classify import classify_store
    from hardtech.store.connection import Store
    from hardtech.store.importer import import_file

    t = time.perf_counter()
    with Store(db) as store:
        import_file(store, "auto", panel, mapping="jrc_oecd")
    classify_store(db, "organizations")
    return {"build_s": round(time.perf_counter() - t, 1)}


def company_facts(db: Path, year: int) -> pd.DataFrame:
    """One row per company with figures in `year`: ISIC aggregate, division, OECD group, R&D intensity."""
    from hardtech.analytics import hardness
    from hardtech.analytics.hardness_validity import division
    from hardtech.store.connection import Store

    with Store(db, read_only=True) as store:
        orgs = store.con.execute("SELECT org_id, name_en AS name, industry_codes FROM organizations").df()
        ind = hardness.indicators(store, year=year)[["org_id", "oecd_group", "raw_rd_intensity", "kind_known"]]
    orgs["division"] = orgs.industry_codes.map(division)
    orgs["isic"] = orgs.industry_codes.map(lambda c: next((x.split(":", 1)[1] for x in c if x.startswith("isic:")),
                                                          None))
    return orgs.drop(columns="industry_codes").merge(ind, on="org_id").rename(
        columns={"raw_rd_intensity": "rd_intensity"})


def scores_here(db: Path, year: int, values: bool = False) -> pd.DataFrame:
    from hardtech.analytics import hardness
    from hardtech.store.connection import Store

    with Store(db, read_only=True) as store:
        df = hardness.score(store, year=year)
    keep = ["org_id", "score", "confidence", "weights_version"]
    if values:
        keep += [c for c in df.columns if c.startswith("value_") and df[c].notna().any()]
    return df[keep].copy()


def scores_by(src: Path, db: Path, year: int) -> pd.DataFrame:
    """Scores of another hardtech checkout, by its own CLI on the same store (its weights, its code)."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    cmd = [sys.executable, "-m", "hardtech", "score", "--year", str(year), "--no-save", "-f", "csv", "--db", str(db)]
    res = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True)
    df = pd.read_csv(io.StringIO(res.stdout))
    return df[["org_id", "score", "confidence", "weights_version"]]


def measures(df: pd.DataFrame) -> dict:
    """The 2018 figures of one version's scores (df: company facts joined with its scores)."""
    from hardtech.analytics.hardness_validity import group_means, monotone_by_group, separation, spearman

    ranked = df.dropna(subset=["score"]).sort_values(["score", "org_id"], ascending=[False, True], ignore_index=True)
    ranked["rank"] = np.arange(1, len(ranked) + 1)
    top = ranked.head(10)[["rank", "name", "isic", "score", "confidence"]].round({"score": 1, "confidence": 2})
    named = ranked[ranked.name.isin(NAMED)][["rank", "name", "isic", "score", "confidence"]].round(
        {"score": 1, "confidence": 2})
    ok, by_group = monotone_by_group(df)
    r, n = spearman(df.score, df.rd_intensity)
    within = {g: spearman(x.score, x.rd_intensity)[0] for g, x in df.groupby("oecd_group")}
    # within one ISIC aggregate the evidence of kind is (nearly) the same for all: R&D depth must order them
    in_isic = {g: spearman(x.score, x.rd_intensity)[0] for g, x in df.groupby("isic") if len(x) >= 30}
    return {
        "weights_version": str(df.weights_version.dropna().iloc[0]),
        "scored": int(df.score.notna().sum()), "mean_confidence": round(float(df.confidence.mean()), 3),
        "top10": top.to_dict(orient="records"), "named": named.to_dict(orient="records"),
        "by_isic": group_means(df, "isic").round({"mean": 1, "median": 1}).to_dict(orient="records"),
        "by_oecd_group": {g: round(v, 1) for g, v in by_group.items()}, "monotone_by_oecd_group": ok,
        "separation": separation(df), "spearman_rd_intensity": {"r": r, "n": n},
        "spearman_rd_intensity_within_oecd_group": within,
        "spearman_rd_intensity_within_isic_30plus": in_isic,
    }


def patents_by_year(panel: Path) -> pd.DataFrame:
    """Patent filings per company and year, the sum over the five offices (NaN when the panel has none)."""
    cols = ["company_id", "year", *PATENT_COLUMNS]
    p = pd.read_parquet(panel, columns=cols) if panel.suffix == ".parquet" else pd.read_csv(panel, usecols=cols)
    for c in ("year", *PATENT_COLUMNS):  # the bundled parquet keeps the panel's text as text
        p[c] = pd.to_numeric(p[c], errors="coerce")
    p["patents"] = p[list(PATENT_COLUMNS)].sum(axis=1, min_count=1)
    p["org_id"] = "jrc:" + p.company_id.astype(str)
    return p.pivot_table(index="org_id", columns="year", values="patents", aggfunc="first")


def backtest_frame(db: Path, panel: Path, start: int = 2016, end: int = 2018) -> pd.DataFrame:
    """Per company: R&D and patent filings in `start` and `end`, their log growth, and R&D intensity in `start`."""
    from hardtech.analytics.hardness_validity import log_growth
    from hardtech.store.connection import Store

    with Store(db, read_only=True) as store:
        fin = store.con.execute("SELECT org_id, fiscal_year, rd_expense, revenue FROM financials "
                                "WHERE fiscal_year IN (?, ?)", [start, end]).df()
    rd = fin.pivot_table(index="org_id", columns="fiscal_year", values="rd_expense", aggfunc="first")
    rev = fin[fin.fiscal_year == start].set_index("org_id").revenue
    pat = patents_by_year(panel)
    out = pd.DataFrame(index=rd.index)
    out["rd_growth"] = log_growth(rd.get(start), rd.get(end))
    pat = pat.reindex(out.index)
    out["patent_growth"] = log_growth(pat.get(start), pat.get(end))
    # the panel's 2016 patent counts are on a smaller basis than 2017's and 2018's (median 10 against 56 and 51
    # filings): growth from 2016 mixes that change in coverage with real growth, so 2017→2018 is shown beside it
    out["patent_growth_2017_2018"] = log_growth(pat.get(end - 1), pat.get(end))
    out["rd_intensity_start"] = (rd.get(start) / rev.reindex(out.index)).where(rev.reindex(out.index) > 0)
    return out.reset_index()


def backtest(scores_start: pd.DataFrame, frame: pd.DataFrame, facts_start: pd.DataFrame) -> dict:
    from hardtech.analytics.hardness_validity import backtest as bt

    m = frame.merge(scores_start, on="org_id", how="inner")
    out = {}
    for outcome in ("rd_growth", "patent_growth", "patent_growth_2017_2018"):
        out[outcome] = {"score": bt(m.score, m[outcome]), "rd_intensity": bt(m.rd_intensity_start, m[outcome])}
        # within the OECD group: does the score pick the faster growers among companies of the same group?
        g = m.merge(facts_start[["org_id", "oecd_group"]], on="org_id")
        rel = g.groupby("oecd_group")["score"].rank(pct=True)
        out[outcome]["score_within_group"] = bt(rel, g[outcome])
        # which parts carry it: the rank correlation of each part's 0..1 value with the outcome
        out[outcome]["parts"] = {c[6:]: bt(m[c], m[outcome])["spearman"] for c in m.columns if c.startswith("value_")}
    return out


def run(shared: Path | None, baseline_src: Path | None) -> dict:
    panel = find_panel(shared)
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "panel.duckdb"
        info = build_store(db, panel)
        facts = company_facts(db, 2018)
        facts16 = company_facts(db, 2016)
        bt_frame = backtest_frame(db, panel)
        t = time.perf_counter()
        now = facts.merge(scores_here(db, 2018), on="org_id")
        info["score_2018_s"] = round(time.perf_counter() - t, 2)
        result = {"panel": str(panel.name), "source": SOURCE, "licence": LICENCE, **info, "after": measures(now),
                  "backtest": {"after": backtest(scores_here(db, 2016, values=True), bt_frame, facts16)}}
        if baseline_src is not None:
            before = facts.merge(scores_by(baseline_src, db, 2018), on="org_id")
            result["before"] = measures(before)
            result["backtest"]["before"] = backtest(scores_by(baseline_src, db, 2016), bt_frame, facts16)
    return result


def _fmt(r) -> str:
    return "—" if r is None else f"{r:.3f}"


def report(res: dict) -> str:
    """The tables of docs/hardness.md, as Markdown."""
    lines = []
    for side in ("before", "after"):
        if side not in res:
            continue
        m = res[side]
        lines += [f"### {side}: weights version {m['weights_version']} ({m['scored']} companies scored in 2018, "
                  f"mean confidence {m['mean_confidence']:.2f})", "",
                  "| rank | company | ISIC | score | confidence |", "|---|---|---|---|---|"]
        lines += [f"| {r['rank']} | {r['name']} | {r['isic']} | {r['score']:.1f} | {r['confidence']:.2f} |"
                  for r in m["top10"]]
        lines += ["", "named in issue 16:", "", "| rank | company | ISIC | score |", "|---|---|---|---|"]
        lines += [f"| {r['rank']} | {r['name']} | {r['isic']} | {r['score']:.1f} |" for r in m["named"]]
        lines += ["", "| OECD group | mean score |", "|---|---|"]
        lines += [f"| {g} | {v:.1f} |" for g, v in m["by_oecd_group"].items()]
        s = m["separation"]
        lines += ["", f"monotone by OECD group: {m['monotone_by_oecd_group']}; AUC ISIC 21/26 vs 45–47/55–56/64–66/73: "
                  f"{_fmt(s['auc'])} ({s['n_hard']} vs {s['n_soft']}); Spearman with R&D intensity: "
                  f"{_fmt(m['spearman_rd_intensity']['r'])} (n = {m['spearman_rd_intensity']['n']}); within each OECD "
                  "group: " + ", ".join(f"{g} {_fmt(v)}" for g, v in m["spearman_rd_intensity_within_oecd_group"].items()),
                  "within each ISIC aggregate of 30+ companies: " + ", ".join(
                      f"{g} {_fmt(v)}" for g, v in m["spearman_rd_intensity_within_isic_30plus"].items()),
                  "",
                  "| ISIC | companies | mean | median |", "|---|---|---|---|"]
        lines += [f"| {r['isic']} | {r['n']} | {r['mean']:.1f} | {r['median']:.1f} |" for r in m["by_isic"]]
        lines.append("")
    lines += ["### back-test: 2016 score → growth 2016–2018", "",
              "| version | outcome | predictor | n | Spearman (p) | top-quintile median | bottom-quintile median | "
              "top quintile above the median | bottom quintile above the median |",
              "|---|---|---|---|---|---|---|---|---|"]
    for side, b in res["backtest"].items():
        for outcome, preds in b.items():
            for pred, v in preds.items():
                if pred == "parts":
                    continue
                pv = "" if v.get("p_value") is None else f" ({v['p_value']:.2g})"
                lines.append(f"| {side} | {outcome} | {pred} | {v['n']} | {_fmt(v['spearman'])}{pv} | "
                             f"{_fmt(v.get('top_median'))} | {_fmt(v.get('bottom_median'))} | "
                             f"{v.get('top_share_above_median', float('nan')):.0%} | "
                             f"{v.get('bottom_share_above_median', float('nan')):.0%} |")
    parts = res["backtest"]["after"]["rd_growth"]["parts"]
    lines += ["", "Spearman of each part of the 2016 score (weights " + res["after"]["weights_version"] +
              ") with R&D growth 2016–2018: " + ", ".join(f"{k} {v:+.3f}" for k, v in parts.items() if v is not None)]
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shared", type=Path, default=None)
    ap.add_argument("--out", type=Path, default=ROOT / "evaluation" / "hardness_results.json")
    ap.add_argument("--baseline-src", type=Path, default=None,
                    help="src/ of another hardtech checkout whose scores give the 'before' figures")
    a = ap.parse_args(argv)
    res = run(a.shared, a.baseline_src)
    a.out.write_text(json.dumps(res, indent=1, ensure_ascii=False, default=float) + "\n", encoding="utf-8")
    print(report(res))
    print(f"\nwritten {a.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
