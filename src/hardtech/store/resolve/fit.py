"""Fit the match model's parameters: u from random pairs, m from labelled matches (training split only).

    python -m hardtech.store.resolve.fit --db STORE --labels evaluation/resolve/org_pairs.csv

- **u** (how often two different organisations agree at each level) — for names, counted over every
  pair the store proves to be two organisations (two JRC ids, two A-share codes, two MOE codes, two
  CIKs; A-share against US-listed companies across scripts); for identifiers, country and kind,
  Splink's random sampling (an identifier shared by two organisations counts as never seen);
- **m** (how often the same organisation agrees at each level) — counted over the labelled
  matching pairs of the `train` split: for each pair, its best pair of names (highest name level),
  with add-½ smoothing so that an unseen level is rare, not impossible. Unsupervised EM was tried
  and rejected: with few fields and heavy name overlap it settles on "names rarely agree";
- **prior** — Splink's estimate from deterministic rules (a shared identifier, or the same name
  in the same country), assuming they find 70% of the matches.

The held-out `test` pairs are never read here.
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

from hardtech.store.resolve import model as M
from hardtech.store.resolve.records import RECORDS, build_records


def gamma_sql(comp: dict) -> str:
    """CASE expression giving a comparison's gamma (−1 null, highest = first level, 0 = else)."""
    levels = comp["comparison_levels"]
    non_null = [lv for lv in levels if not lv.get("is_null_level")]
    n = len(non_null)
    parts = []
    for lv in levels:
        cond = lv["sql_condition"]
        if lv.get("is_null_level"):
            parts.append(f"WHEN {cond} THEN -1")
        elif cond.strip().upper() == "ELSE":
            parts.append("ELSE 0")
        else:
            parts.append(f"WHEN {cond} THEN {n - 1 - non_null.index(lv)}")
    return "CASE " + " ".join(parts) + " END"


def _pair_columns() -> str:
    cols = ["script", "norm_key", "core_key", "brand_key", "roman_core_key", "roman_brand_key", "core_tokens", "token_key",
            "kind_class", "country", "ids", "unique_schemes"]
    return ", ".join(f"l.{c} AS {c}_l, r.{c} AS {c}_r" for c in cols)


def labelled_vectors(con, pairs: list[tuple[str, str, int]]) -> list[dict]:
    """Comparison vectors of labelled record pairs: the best pair of their names (by name level)."""
    import pyarrow as pa

    con.register("lab_pairs", pa.table({"a": [p[0] for p in pairs], "b": [p[1] for p in pairs],
                                        "y": [p[2] for p in pairs]}))
    gammas = ", ".join(f"{gamma_sql(c)} AS gamma_{c['output_column_name']}" for c in M.comparisons())
    rows = con.execute(f"""
        WITH v AS (SELECT p.a, p.b, p.y, {_pair_columns()} FROM lab_pairs p
                   JOIN {RECORDS} l ON l.record_id = p.a JOIN {RECORDS} r ON r.record_id = p.b),
             g AS (SELECT a, b, y, {gammas} FROM v)
        SELECT a, b, y, arg_max(gamma_name, gamma_name), max(gamma_name), any_value(gamma_ids),
               any_value(gamma_country), any_value(gamma_kind)
        FROM g GROUP BY a, b, y""").fetchall()
    con.unregister("lab_pairs")
    return [{"a": r[0], "b": r[1], "y": r[2], "name": r[4], "ids": r[5], "country": r[6], "kind": r[7]} for r in rows]


def fit_model(con, labels: list[dict], out: Path, max_pairs: float = 1e6, seed: int = 42) -> dict:
    """Fit and write the model JSON; returns a summary (counts per level)."""
    build_records(con)
    train = [(r["record_a"], r["record_b"], int(r["match"])) for r in labels if r["split"] == "train"]
    vectors = labelled_vectors(con, train)
    matches = [v for v in vectors if v["y"] == 1]
    settings = M.base_settings()
    lk = M.linker(con, settings)
    lk.training.estimate_probability_two_random_records_match(
        [f"list_has_any(l.ids, r.ids) AND {M._NOT_SAME}", f"l.norm_key = r.norm_key AND {M._NOT_SAME}"], recall=0.7)
    lk.training.estimate_u_using_random_sampling(max_pairs=max_pairs, seed=seed)
    fitted = lk.misc.save_model_to_json()
    prior = fitted["probability_two_random_records_match"]
    name_u, name_u_total = _known_different(con)
    summary = {"train_pairs": len(train), "train_matches": len(matches), "levels": {}}
    for comp in fitted["comparisons"]:
        name = comp["output_column_name"]
        levels = [lv for lv in comp["comparison_levels"] if not lv.get("is_null_level")]
        n = len(levels)
        counts = [sum(1 for v in matches if v[name] == n - 1 - i) for i in range(n)]
        total = sum(counts)
        for i, lv in enumerate(levels):
            lv["m_probability"] = (counts[i] + 0.5) / (total + 0.5 * n)
        if name == "name":
            # u of name levels from pairs known to be two organisations (see `_known_different`): random pairs
            # are not all non-matches here, duplicates are dense (one university in the MOE list, the demo and a
            # thousand patents), and a rare level's agreement among random pairs is mostly its matches
            for i, lv in enumerate(levels):
                lv["u_probability"] = (name_u.get(n - 1 - i, 0) + 0.5) / (name_u_total + 0.5 * n)
        elif name == "ids":
            # two organisations never share an identifier: what random pairs show there are duplicates
            levels[0]["u_probability"] = 0.5 / max_pairs
            rest = sum(lv["u_probability"] or 0 for lv in levels[1:])
            for lv in levels[1:]:
                lv["u_probability"] = (lv["u_probability"] or 0) / rest * (1 - levels[0]["u_probability"])
        for lv in levels:
            if not lv.get("u_probability"):
                lv["u_probability"] = 0.5 / max_pairs
        summary["levels"][name] = {lv["label_for_charts"]: {"matches": counts[i], "m": round(lv["m_probability"], 4),
                                                            "non_matches": name_u.get(n - 1 - i, 0) if name == "name" else None,
                                                            "u": lv["u_probability"]}
                                   for i, lv in enumerate(levels)}
    out.write_text(json.dumps({k: fitted[k] for k in ("probability_two_random_records_match", "comparisons")},
                              indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    summary["prior"] = fitted["probability_two_random_records_match"]
    return summary


def _known_different(con) -> tuple[dict[int, int], int]:
    """Name-level counts over every pair of name rows whose records are certainly two organisations: two
    different values of an identifier that is unique per organisation (two JRC ids, two A-share codes, two
    MOE codes, two CIKs), and, across scripts, A-share companies against US-listed ones."""
    name = M.comparisons()[0]
    g = gamma_sql(name)
    cols = _pair_columns()
    q = f"""
        WITH u AS (SELECT rec_id, record_id, unnest(unique_schemes) AS scheme FROM {RECORDS}),
        pairs AS (
          SELECT DISTINCT l.rec_id AS lr, r.rec_id AS rr FROM u l JOIN u r ON l.scheme = r.scheme
            AND l.rec_id < r.rec_id AND l.record_id <> r.record_id
          UNION
          SELECT l.rec_id, r.rec_id FROM {RECORDS} l JOIN {RECORDS} r
            ON l.record_id LIKE 'cn:%' AND r.record_id LIKE 'us:%')
        SELECT {g} AS gamma, count(*) FROM (
          SELECT {cols} FROM pairs p JOIN {RECORDS} l ON l.rec_id = p.lr JOIN {RECORDS} r ON r.rec_id = p.rr
          WHERE NOT list_has_any(coalesce(l.ids, []), coalesce(r.ids, [])))
        GROUP BY 1"""
    counts = {int(k): int(v) for k, v in con.execute(q).fetchall() if k >= 0}
    total = sum(counts.values())
    # Romanised levels compare a Chinese name with a Latin one; how often two different Chinese organisations
    # sound alike is seen between Chinese names of distinct organisations (华微 and 华为 both read "huawei"):
    # their rate among those pairs stands for the rate across scripts.
    cjk = con.execute(f"""
        WITH u AS (SELECT rec_id, record_id, unnest(unique_schemes) AS scheme FROM {RECORDS} WHERE script = 'cjk'),
        pairs AS (SELECT DISTINCT l.rec_id AS lr, r.rec_id AS rr FROM u l JOIN u r ON l.scheme = r.scheme
                  AND l.rec_id < r.rec_id AND l.record_id <> r.record_id)
        SELECT count(*), count(*) FILTER (WHERE l.roman_core_key = r.roman_core_key AND l.core_key <> r.core_key),
               count(*) FILTER (WHERE l.roman_brand_key = r.roman_brand_key AND l.core_key <> r.core_key
                                AND l.roman_core_key <> r.roman_core_key)
        FROM pairs p JOIN {RECORDS} l ON l.rec_id = p.lr JOIN {RECORDS} r ON r.rec_id = p.rr""").fetchall()[0]
    n_cjk, same_core, same_brand = (int(x or 0) for x in cjk)
    labels = M.level_labels()["name"]
    for g, label in labels.items():
        rate = {"same romanised name": same_core, "same romanised brand": same_brand}.get(label)
        if rate is not None and n_cjk:
            counts[g] = round(rate / n_cjk * total)
    return counts, total


def read_labels(path: Path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", required=True, help="a store holding the labelled records (see evaluation/resolve)")
    ap.add_argument("--labels", required=True)
    ap.add_argument("--out", default=str(M.model_path()))
    args = ap.parse_args(argv)
    from hardtech.store.connection import Store

    with Store(args.db) as store:
        summary = fit_model(store.con, read_labels(Path(args.labels)), Path(args.out))
    print(json.dumps(summary, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
