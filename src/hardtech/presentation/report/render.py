"""The collected report as one self-contained HTML file: CSS inline, charts inline as SVG, no network.

Autoescaping is on for every value; only the SVG that vl-convert drew is inserted as markup.
The generated-at line is the one line that changes between runs of the same store and options
(set SOURCE_DATE_EPOCH to pin it, as reproducible builds do).
"""

from __future__ import annotations

import datetime as dt
import os
from importlib import resources

from hardtech import __version__


def generated_at() -> str:
    """Now in UTC, or SOURCE_DATE_EPOCH when set (https://reproducible-builds.org/specs/source-date-epoch/)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    when = dt.datetime.fromtimestamp(int(epoch), dt.timezone.utc) if epoch and epoch.isdigit() \
        else dt.datetime.now(dt.timezone.utc)
    return when.strftime("%Y-%m-%d %H:%M UTC")


def render_html(report: dict, title: str | None, db_label: str, when: str | None = None) -> str:
    import jinja2

    ctx = report["ctx"]
    t = ctx.t
    files = resources.files("hardtech.data") / "report"
    from hardtech.presentation.markup import code_spans

    env = jinja2.Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True,
                             undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    env.filters["codes"] = code_spans  # `hardtech …` commands, flags and columns as <code>
    tpl = env.from_string((files / "report.html.j2").read_text("utf-8"))
    chapters = report["chapters"]
    return tpl.render(
        lang_tag="zh-CN" if t.lang == "zh" else "en", version=__version__, title=title or t("doc_title"),
        subtitle=t("subtitle"), css=(files / "report.css").read_text("utf-8"),
        scope_line=t("scope", scope=ctx.scope.label()) if ctx.scope.raw else t("scope_all"),
        generated_line=t("generated_at", when=when or generated_at(), version=__version__, db=db_label),
        any_synthetic=any(c["synthetic"] for c in chapters), synthetic_page=t("synthetic_page"),
        contents=t("contents"), chapters=chapters, rule_label=t("g_rule"),
        banner=lambda s: t("synthetic_banner", n=f"{s['n']:,}", of=f"{s['of']:,}"))
