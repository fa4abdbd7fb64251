"""The match model: Splink (Fellegi–Sunter) over the name rows of `records`, on DuckDB.

Why Splink: it is the maintained, documented implementation of probabilistic record linkage
(m/u probabilities, term-frequency adjustments, blocking, EM training) and runs the same settings on
Spark; we only write the comparisons. The comparisons are SQL over the keys `records` computes:

- **name** — same normalised name > same core > same romanised core across scripts (潍柴动力 ~
  "Weichai Power") > a misspelling (Latin cores of 8+ letters, one or two letters apart,
  Jaro–Winkler ≥ 0.94: "INVESTEMENT") > the same words in
  another order ("Eli Lilly" ~ "Lilly (Eli)") > same romanised brand
  across scripts > one core contained in the other (a subsidiary, or a place dropped) > else
  (no term-frequency adjustment: with duplicates this dense, a name's frequency counts its own
  duplicates and would penalise the organisations seen most often);
- **ids** — a shared identifier (ticker, CIK, LEI, source id) > both carry ids of a scheme that
  is unique per organisation and none agrees (two JRC ids, two CIKs) > else;
- **country**, **kind** — same > different (missing = no evidence).

The fitted parameters are data (`data/resolve/model.json`, written by `fit_model`); resolving
never trains, so it is deterministic and fast. A pair of organisations scores as its best pair of
names (`organisation_pairs`).
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from importlib import resources
from pathlib import Path

from hardtech.store.resolve.records import RECORDS

MODEL_FILE = "model.json"
_NOT_SAME = "l.record_id <> r.record_id"


def _level(sql: str, label: str, **extra) -> dict:
    return {"sql_condition": sql, "label_for_charts": label, **extra}


def comparisons() -> list[dict]:
    """The comparisons, as Splink settings (m/u filled in by training)."""
    latin_both = "script_l = 'latin' AND script_r = 'latin'"
    name = {
        "output_column_name": "name",
        "comparison_description": "name: normalised, core, romanised, fuzzy, brand, contained",
        "comparison_levels": [
            _level("norm_key_l IS NULL OR norm_key_r IS NULL", "null", is_null_level=True),
            _level("norm_key_l = norm_key_r", "same normalised name"),
            _level("core_key_l = core_key_r", "same core name"),
            _level("script_l <> script_r AND roman_core_key_l = roman_core_key_r", "same romanised name"),
            _level(f"{latin_both} AND least(length(core_key_l), length(core_key_r)) >= 8 AND "
                   "abs(length(core_key_l) - length(core_key_r)) <= 1 AND "
                   "jaro_winkler_similarity(core_key_l, core_key_r) >= 0.94 AND "
                   "damerau_levenshtein(core_key_l, core_key_r) <= 2", "misspelt (one or two letters)"),
            _level(f"{latin_both} AND token_key_l = token_key_r", "same words in another order"),
            _level("script_l <> script_r AND roman_brand_key_l = roman_brand_key_r", "same romanised brand"),
            _level(f"({latin_both} AND (list_has_all(core_tokens_l, core_tokens_r) OR "
                   "list_has_all(core_tokens_r, core_tokens_l))) OR (script_l = 'cjk' AND script_r = 'cjk' AND "
                   "length(core_key_l) >= 2 AND length(core_key_r) >= 2 AND "
                   "(contains(core_key_l, core_key_r) OR contains(core_key_r, core_key_l)))", "one name contains the other"),
            _level("ELSE", "different names"),
        ],
    }
    ids = {
        "output_column_name": "ids",
        "comparison_description": "identifiers: shared, conflicting in a unique scheme",
        "comparison_levels": [
            _level("ids_l IS NULL OR ids_r IS NULL", "null", is_null_level=True),
            _level("list_has_any(ids_l, ids_r)", "an identifier agrees"),
            _level("list_has_any(unique_schemes_l, unique_schemes_r)", "different ids of one unique scheme"),
            _level("ELSE", "no comparable identifier"),
        ],
    }
    country = {
        "output_column_name": "country",
        "comparison_description": "country",
        "comparison_levels": [
            _level("country_l IS NULL OR country_r IS NULL", "null", is_null_level=True),
            _level("country_l = country_r", "same country"),
            _level("ELSE", "different countries"),
        ],
    }
    kind = {
        "output_column_name": "kind",
        "comparison_description": "kind of organisation",
        "comparison_levels": [
            _level("kind_class_l IS NULL OR kind_class_r IS NULL", "null", is_null_level=True),
            _level("kind_class_l = kind_class_r", "same kind"),
            _level("ELSE", "different kinds"),
        ],
    }
    return [name, ids, country, kind]


def blocking_rules() -> list[dict]:
    """Which pairs are compared at all: the ones sharing a key, an identifier or a blocking head (the `_b`
    columns: keys shared by very many rows are left out, see `records.KEY_CAP`)."""
    return [
        {"blocking_rule": f"l.norm_key_b = r.norm_key_b AND {_NOT_SAME}"},
        {"blocking_rule": f"l.core_key_b = r.core_key_b AND {_NOT_SAME}"},
        {"blocking_rule": f"l.roman_core_key_b = r.roman_core_key_b AND l.script <> r.script AND {_NOT_SAME}"},
        {"blocking_rule": f"l.roman_brand_key_b = r.roman_brand_key_b AND l.script <> r.script AND {_NOT_SAME}"},
        {"blocking_rule": f"l.ids = r.ids AND {_NOT_SAME}", "arrays_to_explode": ["ids"]},
        {"blocking_rule": f"l.token_key_b = r.token_key_b AND {_NOT_SAME}"},
        {"blocking_rule": f"l.head_b = r.head_b AND {_NOT_SAME}"},
    ]


def base_settings() -> dict:
    return {
        "link_type": "dedupe_only",
        "unique_id_column_name": "rec_id",
        "comparisons": comparisons(),
        "blocking_rules_to_generate_predictions": blocking_rules(),
        "additional_columns_to_retain": ["record_id", "record_kind", "name"],
        "retain_matching_columns": True,
        "retain_intermediate_calculation_columns": False,
        "sql_dialect": "duckdb",
        "probability_two_random_records_match": 1e-4,
    }


def model_path() -> Path:
    return Path(str(resources.files("hardtech.data") / "resolve" / MODEL_FILE))


@functools.lru_cache(maxsize=4)
def _load(path: str) -> dict:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def load_model(path: Path | None = None) -> dict:
    """The fitted settings; the comparisons' SQL always comes from this module (the file holds parameters)."""
    p = path or model_path()
    if not p.exists():
        from hardtech.errors import UsageError

        raise UsageError(f"no resolver model at {p}; fit one with `python -m hardtech.store.resolve.fit`")
    fitted = _load(str(p))
    settings = base_settings()
    by_name = {c["output_column_name"]: c for c in fitted["comparisons"]}
    for comp in settings["comparisons"]:
        f = by_name.get(comp["output_column_name"])
        if f is None or len(f["comparison_levels"]) != len(comp["comparison_levels"]):
            from hardtech.errors import UsageError

            raise UsageError(f"resolver model {p} does not fit the comparisons of this hardtech (refit it)")
        for lvl, flvl in zip(comp["comparison_levels"], f["comparison_levels"]):
            for k in ("m_probability", "u_probability"):
                if k in flvl:
                    lvl[k] = flvl[k]
    settings["probability_two_random_records_match"] = fitted["probability_two_random_records_match"]
    return settings


def model_version(path: Path | None = None) -> str:
    from hardtech.sources.identifiers import load_id_rules
    from hardtech.sources.names import load_name_rules

    p = path or model_path()
    digest = hashlib.sha256(p.read_bytes()).hexdigest()[:10] if p.exists() else "unfitted"
    return f"splink-{digest}/names-{load_name_rules().version}/ids-{load_id_rules().version}"


def _quiet() -> None:
    for name in ("splink", "splink.internals"):
        logging.getLogger(name).setLevel(logging.ERROR)


def linker(con, settings: dict):
    """A Splink linker over the temp table `resolve_records` on this DuckDB connection."""
    _quiet()
    from splink import DuckDBAPI, Linker

    return Linker(RECORDS, settings, DuckDBAPI(connection=con), set_up_basic_logging=False)


def predict_pairs(con, settings: dict, floor: float) -> str:
    """Score every blocked pair of name rows and keep, per pair of records, the best-scoring pair of
    names at or above `floor`. Returns the name of a temp table with one row per record pair."""
    lk = linker(con, settings)
    pred = lk.inference.predict(threshold_match_probability=floor)
    tbl = pred.physical_name
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE resolve_pairs AS
        SELECT * FROM (
          SELECT least(record_id_l, record_id_r) AS record_a, greatest(record_id_l, record_id_r) AS record_b,
                 CASE WHEN record_id_l < record_id_r THEN name_l ELSE name_r END AS name_a,
                 CASE WHEN record_id_l < record_id_r THEN name_r ELSE name_l END AS name_b,
                 CASE WHEN record_id_l < record_id_r THEN record_kind_l ELSE record_kind_r END AS kind_a,
                 CASE WHEN record_id_l < record_id_r THEN record_kind_r ELSE record_kind_l END AS kind_b,
                 match_probability AS probability, match_weight,
                 gamma_name, gamma_ids, gamma_country, gamma_kind,
                 country_l, country_r, kind_class_l, kind_class_r,
                 row_number() OVER (PARTITION BY least(record_id_l, record_id_r), greatest(record_id_l, record_id_r)
                                    ORDER BY match_weight DESC, name_l, name_r) AS rn
          FROM {tbl}
          WHERE record_id_l <> record_id_r
            AND NOT (record_kind_l = 'patent_applicant' AND record_kind_r = 'patent_applicant'))
        WHERE rn = 1""")
    pred.drop_table_from_database_and_remove_from_cache()
    return "resolve_pairs"


def level_labels() -> dict[str, list[str]]:
    """gamma value → label, per comparison (gamma 0 = else, the highest = first level after null)."""
    out = {}
    for comp in comparisons():
        levels = [lv for lv in comp["comparison_levels"] if not lv.get("is_null_level")]
        n = len(levels)
        out[comp["output_column_name"]] = {n - 1 - i: lv["label_for_charts"] for i, lv in enumerate(levels)}
    return out
