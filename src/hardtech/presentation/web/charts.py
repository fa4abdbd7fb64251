"""Vega-Lite specifications for the dashboard's charts: data in, spec out (rendered in the browser)."""

from __future__ import annotations


def bars(rows: list[dict], category: str, value: str, title: str, horizontal: bool = True, sort_desc: bool = True,
         value_title: str | None = None) -> dict:
    enc_cat = {"field": category, "type": "nominal", "sort": "-x" if horizontal and sort_desc else None, "title": None}
    enc_val = {"field": value, "type": "quantitative", "title": value_title or value}
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "title": title, "width": "container", "height": {"step": 18} if horizontal else 260,
        "data": {"values": rows}, "mark": {"type": "bar", "tooltip": True},
        "encoding": {"y": enc_cat, "x": enc_val} if horizontal else {"x": enc_cat, "y": enc_val},
    }


def contributions(parts: list[dict], title: str) -> dict:
    rows = [{"indicator": p.get("label") or p["indicator"], "contribution": p["contribution"]}
            for p in parts if p.get("contribution")]
    return bars(rows, "indicator", "contribution", title, value_title="points of the score")


def stacked_periods(rows: list[dict], title: str) -> dict:
    data = [{"period": str(r.get("period")), "group": str(r.get("group")), "value": r.get("value")}
            for r in rows if r.get("value") is not None]
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "title": title, "width": "container", "height": 280, "data": {"values": data},
        "mark": {"type": "bar", "tooltip": True},
        "encoding": {"x": {"field": "period", "type": "ordinal", "title": None},
                     "y": {"field": "value", "type": "quantitative", "title": "USD"},
                     "color": {"field": "group", "type": "nominal", "title": None}},
    }
