"""The STAR Market sci-tech attribute test (科创属性评价指引（试行）), every version, as data + pure functions.

Why data: the CSRC has revised the test twice (2021, 2024) and will again. Every threshold, exception,
carve-out and negative-list code lives in `hardtech/data/rules/star_versions.toml`; this module only
reads and applies it, so a revision is a data change and an old verdict stays reproducible by
naming its version. Nothing numeric about the rules is written here.

Why three-valued: a missing year must not read as a failure (or a pass). Each indicator is
True / False / None ("cannot tell"), combined with Kleene logic, so a verdict of "insufficient
data" says which organisation and year to go and find.

Why a proxy, and only one: open panels such as the JRC–OECD one give counts of patent FILINGS by office,
not the granted invention patents the test counts. When the rules file allows it
(`evaluation.patent_filings_proxy`), the invention-patent indicator and exception 5 are judged on the
filings (the largest office's count, summed over the 3-year window) and every result that leaned on
them says so (`IndicatorResult.proxy`, `StarResult.proxies`, and "on a proxy" in `decided_by`). Nothing
stands in for R&D staff: without it the 2021 and 2024 versions can fail a company, never pass it
(except through an exception).

Why every verdict carries `decided_by`, the FX rates and the carve-outs: analysts challenge a
verdict by re-doing it by hand, and need the exact rule, rates and waivers that produced it.

The package keeps its parts apart (issue 14): `rules` loads and checks the rules file, `codes` reads
the inputs' numbers and industry codes, `results` holds what a verdict is made of, `text` words it,
and `evaluation` applies a version to one company or many (`star_batch` runs the batch in the engine).
"""

from hardtech.analytics.star.codes import _as_list, _code_key, _code_matches, _num, _text_or_none
from hardtech.analytics.star.evaluation import _carve_outs, _ge, _negative_list, evaluate_star, evaluate_star_batch
from hardtech.analytics.star.results import IndicatorResult, StarResult
from hardtech.analytics.star.rules import (
    CURRENT_VERSION, INDICATOR_IDS, LEVELS, RULES_FILE, VERDICTS, CarveOut, ExceptionRule, NegativeCategory,
    StarVersion, Thresholds, _parse, _parse_cached, _pick, load_star_rules, star_version, version_in_force,
)
from hardtech.analytics.star.text import INDICATOR_LABELS

__all__ = [
    "CURRENT_VERSION", "CarveOut", "ExceptionRule", "INDICATOR_IDS", "INDICATOR_LABELS", "IndicatorResult", "LEVELS",
    "NegativeCategory", "RULES_FILE", "StarResult", "StarVersion", "Thresholds", "VERDICTS", "evaluate_star",
    "evaluate_star_batch", "load_star_rules", "star_version", "version_in_force",
    # used by the engine batch (`star_batch`) and the guard tests, which check the same rules from outside
    "_as_list", "_carve_outs", "_code_key", "_code_matches", "_ge", "_negative_list", "_num", "_parse", "_parse_cached",
    "_pick", "_text_or_none",
]
