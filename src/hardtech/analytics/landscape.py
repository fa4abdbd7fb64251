"""Landscape counts: who is in the store, where, in which field, and who spends most on R&D.

Pure functions over Ibis tables, so the same code runs on DuckDB here and on Spark elsewhere.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from hardtech.analytics.figures import latest


def orgs_by_kind_city(orgs: ir.Table, top: int = 15) -> ir.Table:
    """Organisations per city and kind, the busiest cities first."""
    t = orgs.filter(orgs.city.notnull())
    pivot = t.group_by("city").aggregate(
        organisations=t.count(),
        companies=t.kind.isin(["company", "startup"]).sum(),
        universities=(t.kind == "university").sum(),
        institutes=(t.kind == "institute").sum(),
        investors=(t.kind == "investor").sum(),
    )
    return pivot.order_by([ibis.desc("organisations"), "city"]).limit(top)


def latest_rd(financials: ir.Table, orgs: ir.Table, year: int | None = None) -> ir.Table:
    """Each organisation's latest year with an R&D figure (or its figure for `year`), with the figure's source.

    Figures are picked by the one rule of `analytics.figures` (newest import, then source name); the
    revenue shown is that year's, and only when it is in the R&D figure's currency.
    """
    t = latest(financials, "rd_expense", year=year, sources=True, also=("revenue",))
    j = t.join(orgs, "org_id")
    return j.select(
        "org_id",
        name=ibis.coalesce(j.name_en, j.name_zh),
        country=j.country,
        fiscal_year=j.fiscal_year,
        currency=j.rd_expense_ccy,
        rd_expense=j.rd_expense,
        revenue=ibis.ifelse(j.revenue_ccy == j.rd_expense_ccy, j.revenue, ibis.null("float64")),
        source=j.rd_expense_source,
        synthetic=j.rd_expense_synthetic,
    )


def busiest_year(financials: ir.Table) -> ir.Expr:
    """The fiscal year with the most R&D figures: the fairest single year to compare spenders in."""
    f = financials.filter(financials.rd_expense.notnull())
    counts = f.group_by("fiscal_year").aggregate(n=f.count())
    return counts.order_by([ibis.desc("n"), ibis.desc("fiscal_year")]).limit(1).fiscal_year.max()


def top_rd_spenders(financials: ir.Table, orgs: ir.Table, fx_to: dict[str, float] | None = None,
                    top: int = 10, year: int | None = None) -> ir.Table:
    """Largest R&D spenders in `year` (or by their latest reported year), compared in one currency.

    `fx_to` maps each currency to a rate into the comparison currency (the caller picks it and the
    date, and records both).
    """
    t = latest_rd(financials, orgs, year)
    if fx_to:
        case = ibis.cases(*[(t.currency == c, t.rd_expense * r) for c, r in fx_to.items()], else_=ibis.null())
        t = t.mutate(rd_converted=case)
    else:
        t = t.mutate(rd_converted=t.rd_expense)
    return t.filter(t.rd_converted.notnull()).order_by([ibis.desc("rd_converted"), "org_id"]).limit(top)
