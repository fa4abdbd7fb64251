"""The building blocks a chapter is made of: text, facts, tables, charts and missing-data notes.

Chapters are plain dicts of blocks, so the template stays one loop and tests can read every
figure without parsing HTML.
"""

from __future__ import annotations


def text(s: str) -> dict:
    return {"kind": "text", "text": s}


def heading(s: str) -> dict:
    return {"kind": "heading", "text": s}


def missing(s: str) -> dict:
    return {"kind": "missing", "text": s}


def chart(svg: str, caption: str) -> dict:
    """A drawn chart; its caption is also its accessible name (the SVG carries no English descriptions)."""
    from html import escape

    svg = svg.replace("<svg ", f'<svg aria-label="{escape(caption, quote=True)}" ', 1)
    return {"kind": "chart", "svg": svg, "caption": caption}


def table(caption: str, head: list[str], rows: list[list], numeric: tuple[int, ...] = (), limit: int | None = None,
          more: str | None = None) -> dict:
    """A table of already formatted cells; `numeric` columns align right; rows past `limit` are counted, not shown."""
    shown = rows if limit is None else rows[:limit]
    note = more.format(n=len(rows) - len(shown)) if more and len(rows) > len(shown) else None
    return {"kind": "table", "caption": caption, "head": head, "rows": [[("" if c is None else str(c)) for c in r]
                                                                          for r in shown],
            "numeric": list(numeric), "note": note}


def chapter(cid: str, title: str, blocks: list[dict], synthetic: dict | None = None) -> dict:
    return {"id": cid, "title": title, "blocks": blocks, "synthetic": synthetic}


class Citations:
    """Sources as numbered notes ([1], [2]) so long source names do not stretch table rows."""

    def __init__(self):
        self.items: list[str] = []

    def __call__(self, source: str | None) -> str:
        if not source:
            return ""
        if source not in self.items:
            self.items.append(source)
        return f"[{self.items.index(source) + 1}]"

    def block(self, label: str) -> dict:
        return {"kind": "note", "text": label + ": " + "; ".join(f"[{i}] {s}" for i, s in enumerate(self.items, 1))}
