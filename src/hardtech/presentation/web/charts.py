"""Vega-Lite specifications for the dashboard's charts: data in, spec out (rendered in the browser).

Every word a chart shows comes in from the caller in the page's language: the title, the axis
titles, the tooltip titles and the category labels (names, never ids). `aria` is off so Vega does
not write its own English descriptions of axes and marks; the chart's `description` (its accessible
name) is its title.
"""

from __future__ import annotations

SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"
CONFIG = {"aria": False}


def bars(rows: list[dict], category: str, value: str, title: str, horizontal: bool = True, sort_desc: bool = True,
         value_title: str | None = None, category_title: str | None = None) -> dict:
    enc_cat = {"field": category, "type": "nominal", "sort": "-x" if horizontal and sort_desc else None, "title": None}
    enc_val = {"field": value, "type": "quantitative", "title": value_title or title}
    tip = [{"field": category, "type": "nominal", "title": category_title or title},
           {"field": value, "type": "quantitative", "title": value_title or title}]
    return {
        "$schema": SCHEMA, "config": CONFIG, "description": title,
        "title": title, "width": "container", "height": {"step": 18} if horizontal else 260,
        "data": {"values": [{category: r.get(category), value: r.get(value)} for r in rows]}, "mark": {"type": "bar"},
        "encoding": ({"y": enc_cat, "x": enc_val} if horizontal else {"x": enc_cat, "y": enc_val}) | {"tooltip": tip},
    }


def contributions(parts: list[dict], title: str, value_title: str, category_title: str) -> dict:
    """Points each indicator adds to the score; `parts` carry their label in the page's language."""
    rows = [{"indicator": p["label"], "contribution": p["contribution"]} for p in parts if p.get("contribution")]
    return bars(rows, "indicator", "contribution", title, value_title=value_title, category_title=category_title)


def stacked_periods(rows: list[dict], title: str, value_title: str, period_title: str, group_title: str) -> dict:
    """Columns per period stacked by group; `rows` carry `label`, the group's name in the page's language."""
    data = [{"period": str(r.get("period")), "group": str(r.get("label") or r.get("group")), "value": r.get("value")}
            for r in rows if r.get("value") is not None]
    return {
        "$schema": SCHEMA, "config": CONFIG, "description": title,
        "title": title, "width": "container", "height": 280, "data": {"values": data},
        "mark": {"type": "bar"},
        "encoding": {"x": {"field": "period", "type": "ordinal", "title": None},
                     "y": {"field": "value", "type": "quantitative", "title": value_title},
                     "color": {"field": "group", "type": "nominal", "title": None},
                     "tooltip": [{"field": "period", "type": "ordinal", "title": period_title},
                                 {"field": "group", "type": "nominal", "title": group_title},
                                 {"field": "value", "type": "quantitative", "title": value_title, "format": ",.0f"}]},
    }
