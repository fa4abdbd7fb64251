"""The dashboard: server-rendered Jinja2 pages (autoescape on) with Vega-Lite charts served from this server.

`install(app)` adds the pages, the static files and `/static/vega.js` (the Vega, Vega-Lite and
vega-embed bundle from `vl_convert`, built once and cached) to a FastAPI app.
"""

from hardtech.presentation.web.pages import install

__all__ = ["install"]
