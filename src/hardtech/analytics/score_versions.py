"""How readers take hardness scores out of the `scores` table without mixing weights versions, in Ibis.

`scores` keeps one row per organisation, year and weights version (`save_scores` replaces rows of the
same version only), so a store scored under two versions holds both. A score is comparable only with
scores of the same version; a reader that ranks or filters organisations (search, its aggregates)
therefore reads ONE version: the one saved most recently (latest `scored_at`, then the higher version).
Written once, in Ibis, so it runs on every engine: search, its aggregates and the demo's hardness
tables read it.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir


def one_version(scores: ir.Table) -> ir.Table:
    """The rows of `scores` saved under the most recently saved weights version."""
    newest = (scores.order_by([ibis.desc(scores.scored_at, nulls_first=False),
                               ibis.desc(scores.weights_version, nulls_first=False)])
              .limit(1).select("weights_version"))
    return scores.filter(scores.weights_version == newest.weights_version.as_scalar())


def latest_scores(scores: ir.Table, scored_only: bool = False) -> ir.Table:
    """One row per organisation of `one_version(scores)`: its latest scored year (then the latest saved);
    `scored_only`: its latest year with a score (a year without one, for want of data, is passed over)."""
    s = one_version(scores)
    if scored_only:
        s = s.filter(s.score.notnull())
    w = ibis.window(group_by=s.org_id, order_by=[ibis.desc(s.year, nulls_first=False),
                                                 ibis.desc(s.scored_at, nulls_first=False)])
    return s.mutate(_rn=ibis.row_number().over(w)).filter(lambda x: x._rn == 0).drop("_rn")
