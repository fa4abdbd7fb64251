"""Fit the match model's parameters: u from random pairs, m from labelled matches (training split only).

    python -m hardtech.store.resolve.fit --db STORE --labels evaluation/resolve/org_pairs.csv

- **u** (how often two different organisations agree at each level) — Splink's random sampling
  over the store's name rows;
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
    exact, total_pairs = _exact_agreement(con, lk)
    summary = {"train_pairs": len(train), "train_matches": len(matches), "levels": {}}
    for comp in fitted["comparisons"]:
        name = comp["output_column_name"]
        levels = [lv for lv in comp["comparison_levels"] if not lv.get("is_null_level")]
        n = len(levels)
        counts = [sum(1 for v in matches if v[name] == n - 1 - i) for i in range(n)]
        total = sum(counts)
        for i, lv in enumerate(levels):
            lv["m_probability"] = (counts[i] + 0.5) / (total + 0.5 * n)
        # Random pairs are not all non-matches here: duplicates are dense (the same university in the MOE list,
        # the demo and a thousand patents), so the agreement rate among all pairs is λ·m + (1 − λ)·u, not u.
        # Levels that are equalities of blocking keys are counted exactly over every pair (all such pairs are
        # blocked), the others come from the random sample; then u is solved for, and a level never seen among
        # non-matches gets half a pair.
        for lv in levels[:-1]:
            label = lv["label_for_charts"]
            if (name, label) in exact:
                seen, floor = exact[(name, label)] / total_pairs, 0.5 / total_pairs
            else:
                seen, floor = lv.get("u_probability") or 0.0, 0.5 / max_pairs
            lv["u_probability"] = max((seen - prior * lv["m_probability"]) / (1 - prior), floor)
        levels[-1]["u_probability"] = max(1.0 - sum(lv["u_probability"] for lv in levels[:-1]), 0.5 / max_pairs)
        summary["levels"][name] = {lv["label_for_charts"]: {"matches": counts[i], "m": round(lv["m_probability"], 4),
                                                            "u": lv["u_probability"]}
                                   for i, lv in enumerate(levels)}
    out.write_text(json.dumps({k: fitted[k] for k in ("probability_two_random_records_match", "comparisons")},
                              indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    summary["prior"] = fitted["probability_two_random_records_match"]
    return summary


EXACT_LEVELS = {("name", "same normalised name"), ("name", "same core name"), ("name", "same romanised name"),
                ("name", "same words in another order"), ("name", "same romanised brand"),
                ("ids", "an identifier agrees")}


def _exact_agreement(con, lk) -> tuple[dict, int]:
    """How many pairs of name rows (of different records) agree at each equality level: such pairs all share a
    blocking key, so counting the blocked pairs counts them all."""
    n = con.execute(f"SELECT count(*) FROM {RECORDS}").fetchall()[0][0]
    same = con.execute(f"SELECT coalesce(sum(c * (c - 1) / 2), 0) FROM (SELECT count(*) AS c FROM {RECORDS} "
                       "GROUP BY record_id)").fetchall()[0][0]
    total = n * (n - 1) // 2 - int(same)
    pred = lk.inference.predict()
    labels = M.level_labels()
    counts = {}
    for comp in ("name", "ids"):
        for g, c in con.execute(f"SELECT gamma_{comp}, count(*) FROM {pred.physical_name} "
                                "WHERE record_id_l <> record_id_r GROUP BY 1").fetchall():
            label = labels[comp].get(g)
            if (comp, label) in EXACT_LEVELS:
                counts[(comp, label)] = int(c)
    pred.drop_table_from_database_and_remove_from_cache()
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
