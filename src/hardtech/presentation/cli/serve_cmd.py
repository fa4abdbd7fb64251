"""`hardtech serve` (the REST API and dashboard over uvicorn) and `hardtech token create|list|revoke`."""

from __future__ import annotations

from typing import Optional

import typer

from hardtech.errors import UsageError
from hardtech.presentation.cli.app import app
from hardtech.presentation.cli.output import Empty, Output, command


@command(app, "serve")
def serve_cmd(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (loopback by default)."),
    port: int = typer.Option(8000, "--port", help="TCP port."),
    read_only: bool = typer.Option(False, "--read-only", help="Refuse every write (imports, screening uploads, "
                                                              "watchlists), even with a token."),
    max_upload_mb: float = typer.Option(5.0, "--max-upload-mb", help="Largest upload accepted, in MiB."),
    max_upload_rows: int = typer.Option(5000, "--max-upload-rows", help="Most data rows accepted per upload."),
    workers: int = typer.Option(1, "--workers", help="uvicorn worker processes."),
    read_workers: int = typer.Option(2, "--read-workers", help="Threads computing reads (first-time profiles, "
                                                                 "searches, analytics) at once."),
    read_queue: int = typer.Option(256, "--read-queue", help="Reads that may wait for those threads; more get 429."),
    job_workers: int = typer.Option(1, "--job-workers", help="Reports and screening uploads computed at once."),
    job_queue: int = typer.Option(2, "--job-queue", help="Reports and screenings that may wait; more get 429."),
    *, out: Output,
) -> None:
    """Serve the REST API (`/api/v1`, OpenAPI at `/openapi.json`) and the dashboard (English and Chinese)."""
    import os

    import uvicorn

    from hardtech.presentation.api import create_app

    if not 1 <= port <= 65535:
        raise UsageError(f"--port must be within 1..65535, got {port}")
    if max_upload_mb <= 0 or max_upload_rows <= 0:
        raise UsageError("--max-upload-mb and --max-upload-rows must be positive")
    if min(read_workers, job_workers) < 1 or min(read_queue, job_queue) < 0:
        raise UsageError("--read-workers and --job-workers must be 1 or more, the queues 0 or more")
    settings = dict(db=str(out.db), read_only=read_only, max_upload_bytes=int(max_upload_mb * 1024 * 1024),
                    max_upload_rows=max_upload_rows, read_workers=read_workers, read_queue=read_queue,
                    job_workers=job_workers, job_queue=job_queue)
    mode = "read-only" if read_only else "writes with an API token"
    out.message(f"hardtech serving {out.db} ({mode}) on http://{host}:{port}/  — API at /api/v1, docs at /docs")
    if workers > 1:
        for k, v in settings.items():
            os.environ[f"HARDTECH_SERVE_{k.upper()}"] = str(v)
        # fail here, clearly, rather than in every worker; this process serves nothing, so no dashboard
        create_app(**settings, dashboard=False)
        uvicorn.run("hardtech.presentation.cli.serve_cmd:app_from_env", factory=True, host=host, port=port,
                    workers=workers, log_level="warning")
    else:
        uvicorn.run(create_app(**settings), host=host, port=port, log_level="warning")


def app_from_env():
    """Factory for uvicorn workers: the settings travel in the environment."""
    import os

    from hardtech.presentation.api import create_app

    env = {k[len("HARDTECH_SERVE_"):].lower(): v for k, v in os.environ.items() if k.startswith("HARDTECH_SERVE_")}
    return create_app(env["db"], read_only=env["read_only"] == "True", max_upload_bytes=int(env["max_upload_bytes"]),
                      max_upload_rows=int(env["max_upload_rows"]),
                      **{k: int(env[k]) for k in ("read_workers", "read_queue", "job_workers", "job_queue")})


@command(app, "token")
def token_cmd(
    action: str = typer.Argument(..., help="create | list | revoke"),
    name: Optional[str] = typer.Argument(None, help="With create and revoke: the token's name."),
    *, out: Output,
) -> None:
    """API tokens for writes over HTTP: the secret is printed once at creation; only its hash is stored."""
    from hardtech.services.tokens import create_token, list_tokens, revoke_token

    if action == "list":
        out.emit(list_tokens(out.db), title=out.t("title.tokens"), empty=Empty(key="empty.tokens"))
        return
    if action not in ("create", "revoke"):
        raise UsageError(f"unknown action {action!r}: create, list or revoke")
    if not name:
        raise UsageError(f"`token {action}` needs a NAME")
    if action == "create":
        row = create_token(out.db, name)
        out.emit([row], title="API token created: copy it now, it is not shown again")
    else:
        out.emit([revoke_token(out.db, name)], title="API token revoked")
