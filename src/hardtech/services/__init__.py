"""Service functions: the Python API that the CLI, the REST API and the report all call.

Each takes plain arguments (a store path, names, options) and returns rows or result objects,
so every presentation stays a thin layer and answers the same question the same way.
"""

from hardtech.services.classify import classify_file, classify_store, classify_text, evaluate_labels, fit_model
from hardtech.services.scoring import (decade_rows, explain_score, rank_rows, resolve_org, score_rows,
                                       star_batch_rows, star_result, star_rows)
from hardtech.services.data import (import_file, list_rejects, shipped_mapping_rows, store_status, synth_universe,
                                    taxonomy_rows)

__all__ = ["import_file", "list_rejects", "store_status", "shipped_mapping_rows", "taxonomy_rows", "synth_universe",
           "classify_text", "classify_file", "classify_store", "fit_model", "evaluate_labels",
           "rank_rows", "decade_rows", "star_rows", "star_result", "star_batch_rows", "resolve_org", "score_rows",
           "explain_score"]
