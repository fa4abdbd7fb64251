"""The HTML report printed to PDF with WeasyPrint: A4, page numbers, the synthetic flag on every page it touches.

WeasyPrint writes no creation date unless the HTML asks for one, so the same HTML gives the
same PDF bytes; the only varying line is the generated-at line inside the document.
"""

from __future__ import annotations

from pathlib import Path


def write_pdf(html: str, path: Path) -> Path:
    import logging

    import weasyprint

    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    weasyprint.HTML(string=html, base_url=str(path.parent), url_fetcher=_offline).write_pdf(str(path))
    return path


def _offline(url: str, *args, **kw):
    """The report has nothing to fetch; anything that tries is refused rather than downloaded."""
    from hardtech.errors import UsageError

    raise UsageError(f"the report tried to fetch {url!r}; it must be self-contained")
