"""Charts as Vega-Lite specifications (Altair), drawn offline to SVG by vl-convert.

The SVG goes inline into the HTML, so the report opens without a network and prints the same
in WeasyPrint. vl-convert's SVG is deterministic for a given spec; the specs here carry only
sorted data and fixed sizes, so the same figures give the same bytes. A chart is never drawn
from no data: callers check first and say what is missing instead.
"""

from __future__ import annotations

import re

FONT = "Noto Sans CJK SC, Noto Sans, DejaVu Sans, sans-serif"
PALETTE = ["#1f4e79", "#c0504d", "#4f81bd", "#9bbb59", "#8064a2", "#f79646", "#4bacc6", "#7f7f7f", "#2c7f5f"]
# no ARIA descriptions in the SVG: Vega writes them in English ("X-axis titled …"); the figure's caption,
# in the report's language, is the chart's accessible name instead (blocks.chart)
_CONFIG = {"font": FONT, "view": {"stroke": None}, "axis": {"labelFontSize": 10, "titleFontSize": 10},
           "legend": {"labelFontSize": 10, "titleFontSize": 10, "orient": "bottom", "columns": 3, "labelLimit": 220},
           "background": "white", "aria": False}
DARK, LIGHT = "#1f4e79", "#a9c4e0"  # a part and the rest of one bar (hard & core, then the other companies)


def _svg(chart) -> str:
    import vl_convert as vlc

    spec = chart.to_dict()
    spec["config"] = {**_CONFIG, **spec.get("config", {})}
    spec.pop("$schema", None)
    svg = vlc.vegalite_to_svg(spec)
    # the SVG keeps its own width and height (the charts are drawn to fit an A4 column)
    return re.sub(r'^<svg ', '<svg role="img" ', svg, count=1)


def hbar(rows: list[dict], value: str, label: str, value_title: str, color: str | None = None,
         color_title: str = "", width: int = 420, text: str | None = None,
         colors: dict[str, str] | None = None) -> str:
    """Horizontal bars, largest first; `color` stacks by a category, `text` labels each bar.

    `colors` fixes each category's colour and the stacking order (first category first), so a caption
    can say which part is which and be right in every language.
    """
    import altair as alt
    import pandas as pd

    df = pd.DataFrame(rows)
    order = (df.groupby(label, sort=False)[value].sum().sort_values(ascending=False, kind="stable").index.tolist())
    enc = {"x": alt.X(f"{value}:Q", title=value_title),
           "y": alt.Y(f"{label}:N", sort=order, title=None, axis=alt.Axis(labelLimit=260))}
    if color and colors:
        domain = list(colors)
        df["_order"] = df[color].map({c: i for i, c in enumerate(domain)})
        enc["color"] = alt.Color(f"{color}:N", title=color_title or None,
                                 scale=alt.Scale(domain=domain, range=[colors[c] for c in domain]), sort=domain)
        enc["order"] = alt.Order("_order:Q")
    elif color:
        enc["color"] = alt.Color(f"{color}:N", title=color_title or None, scale=alt.Scale(range=PALETTE),
                                 sort=sorted(df[color].unique().tolist()))
        enc["order"] = alt.Order(f"{color}:N")
    else:
        enc["color"] = alt.value(PALETTE[0])
    base = alt.Chart(df).mark_bar().encode(**enc)
    if text:
        base = base + alt.Chart(df).mark_text(align="left", dx=3, fontSize=9).encode(
            x=f"{value}:Q", y=alt.Y(f"{label}:N", sort=order), text=f"{text}:N")
    height = max(60, 18 * len(order))
    return _svg(base.properties(width=width, height=height))


def vbar_stacked(rows: list[dict], x: str, value: str, color: str, value_title: str, color_title: str = "",
                 width: int = 460, height: int = 220) -> str:
    """Columns per period stacked by a category (funding by field and year)."""
    import altair as alt
    import pandas as pd

    df = pd.DataFrame(rows)
    chart = alt.Chart(df).mark_bar().encode(
        x=alt.X(f"{x}:O", title=None, sort=sorted(df[x].unique().tolist())),
        y=alt.Y(f"{value}:Q", title=value_title, stack="zero"),
        color=alt.Color(f"{color}:N", title=color_title or None, scale=alt.Scale(range=PALETTE),
                        sort=sorted(df[color].unique().tolist())),
        order=alt.Order(f"{color}:N"))
    return _svg(chart.properties(width=width, height=height))


def lines(rows: list[dict], x: str, value: str, color: str, value_title: str, color_title: str = "",
          width: int = 460, height: int = 200, percent: bool = False) -> str:
    """One line per category over periods (R&D per company per year, shares of funding)."""
    import altair as alt
    import pandas as pd

    df = pd.DataFrame(rows)
    y = alt.Y(f"{value}:Q", title=value_title, axis=alt.Axis(format=".0%") if percent else alt.Axis())
    chart = alt.Chart(df).mark_line(point=True).encode(
        x=alt.X(f"{x}:O", title=None, sort=sorted(df[x].unique().tolist())),
        y=y,
        color=alt.Color(f"{color}:N", title=color_title or None, scale=alt.Scale(range=PALETTE),
                        sort=sorted(df[color].unique().tolist())))
    return _svg(chart.properties(width=width, height=height))
