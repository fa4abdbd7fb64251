"""`/docs`: the interactive API documentation (Swagger UI), offline and under the server's own CSP.

Why not FastAPI's default page: it loads Swagger UI from a CDN and starts it with an inline script,
so offline it is blank and our Content-Security-Policy (no inline script, nothing from elsewhere)
blocks it anyway. Here the page links only files of this server: Swagger UI's bundle and stylesheet
as the `fastapi-offline` package ships them (fastapi-offline is MIT-licensed; the Swagger UI files
inside it are Swagger UI's own, Apache-2.0), and `static/docs.js`, ours, which starts it.
Without that package installed, `/docs` says so and points at `/openapi.json`.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse

from hardtech.presentation.api.errors import ApiProblem

router = APIRouter(include_in_schema=False)
ASSETS = {"swagger-ui-bundle.js": "text/javascript; charset=utf-8", "swagger-ui.css": "text/css; charset=utf-8",
          "docs.js": "text/javascript; charset=utf-8"}
PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>hardtech API</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/assets/docs.js"></script>
</body>
</html>
"""


def swagger_folder() -> Path | None:
    """Where the installed fastapi-offline package keeps Swagger UI's files, or None."""
    try:
        import fastapi_offline
    except ImportError:
        return None
    folder = Path(fastapi_offline.__file__).parent / "static"
    return folder if (folder / "swagger-ui-bundle.js").exists() else None


@router.get("/docs", response_class=HTMLResponse)
def docs_page():
    if swagger_folder() is None:
        raise ApiProblem(404, "the interactive documentation needs the fastapi-offline package (pip install "
                              "fastapi-offline); the OpenAPI schema is at /openapi.json")
    return HTMLResponse(PAGE)


@router.get("/docs/assets/{name}")
def docs_asset(name: str):
    if name not in ASSETS:
        raise ApiProblem(404, f"no documentation file {name!r}")
    folder = Path(__file__).parent / "static" if name == "docs.js" else swagger_folder()
    if folder is None:
        raise ApiProblem(404, "the interactive documentation needs the fastapi-offline package")
    return FileResponse(folder / name, media_type=ASSETS[name], headers={"Cache-Control": "public, max-age=86400"})
