"""The REST API (`/api/v1`, OpenAPI at `/openapi.json`) and the dashboard mounted beside it.

`create_app(db, read_only=True)` builds the FastAPI application; `hardtech serve` runs it with uvicorn.
Every endpoint is a thin layer over `hardtech.services`.
"""

from hardtech.presentation.api.app import create_app

__all__ = ["create_app"]
