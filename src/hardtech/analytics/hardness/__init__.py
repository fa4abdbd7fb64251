"""The hardness score: how "hard" (硬) an organisation's technology is, per year, and why.

Why a composite of many small indicators: the seeds define hard & core technology by several
traits at once (long-term investment, a long R&D cycle, a high entry threshold, hard to imitate,
resting on basic science, acting on the physical world), and no single figure carries them all.
Each indicator is kept separate, mapped to 0..1 by a transform named in
`hardtech/data/rules/hardness_weights.toml`, and weighted there, so a user can disagree with one
choice without rewriting the rest (docs/hardness.md explains every choice).

Why missing data is never zero: most organisations lack some inputs (no patents table, no
funding data, no employees). Reading a gap as zero would punish the unreported; instead the score
re-normalises over the indicators present and `confidence` says how much of the weight that was.
Every score splits into parts that add up to it, so it can be checked against its inputs.

Why two phases: the score must run over a million organisations × ten years in seconds. Every
raw indicator is one Ibis query over whole tables (rolling windows from lags over one sort,
patents and funding by joins, no per-organisation loop), so it runs where the data lives (DuckDB
here, Spark elsewhere). Mapping the raw values to 0..1, weighting and adding up are columns of
the same expression (phase 2, `weighting.weigh`), so a whole store is scored without collecting it
into Python (`score_table`); `score()` and `indicators()` collect only the rows they are asked for.

The package keeps its parts apart (issue 14): `weights` reads and checks the weights file,
`raw_indicators` computes every raw indicator in the engine (phase 1), `weighting` maps them to 0..1
and weighs them (phase 2), and `scoring` is the public surface re-exported here.
"""

from hardtech.analytics.hardness.raw_indicators import BUCKETS, INPUTS, PAT_METRICS
from hardtech.analytics.hardness.scoring import (
    SCORE_COLUMNS, explain, indicators, save_score_table, save_scores, score, score_table,
)
from hardtech.analytics.hardness.weighting import MIN_PERCENTILE_COHORT
from hardtech.analytics.hardness.weights import (
    COHORTS, INDICATORS, OECD_GROUPS, PATENT_COHORT, PATENT_NORMALISE, TRANSFORMS, UNCLASSIFIED, Criterion,
    HardnessWeights, IndicatorSpec, KindBlock, load_weights,
)

__all__ = [
    "BUCKETS", "COHORTS", "Criterion", "HardnessWeights", "INDICATORS", "INPUTS", "IndicatorSpec", "KindBlock",
    "MIN_PERCENTILE_COHORT", "OECD_GROUPS", "PATENT_COHORT", "PAT_METRICS", "PATENT_NORMALISE", "SCORE_COLUMNS",
    "TRANSFORMS", "UNCLASSIFIED", "explain", "indicators", "load_weights", "save_score_table", "save_scores", "score",
    "score_table",
]
