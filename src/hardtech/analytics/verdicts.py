"""The newest saved classification of each organisation: the verdict every analysis reads.

`classifications` keeps one row per entity and model version, so a store classified by two models
holds two verdicts per organisation. Everywhere (flows, regions, hardness, rankings) the newest wins:
latest `classified_at`, then the higher `model_version`.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir


def latest_verdicts(cls: ir.Table) -> ir.Table:
    """Organisation rows of `cls`, one per `entity_id`: the newest verdict.

    With a single model version the table's key already allows one row per organisation, so the
    window (a sort over every verdict) is skipped.
    """
    c = cls.filter(cls.entity_type == "organization")
    if int(c.model_version.nunique().execute() or 0) <= 1:
        return c
    w = ibis.window(group_by=c.entity_id, order_by=[ibis.desc(c.classified_at), ibis.desc(c.model_version)])
    return c.mutate(_rn=ibis.row_number().over(w)).filter(lambda x: x._rn == 0).drop("_rn")
