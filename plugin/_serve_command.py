"""The ``serve`` command: the scorer over HTTP (registered on the CLI app).

Needs the ``serve`` extra (FastAPI, uvicorn, prometheus-client), imported only here.
"""

from __future__ import annotations

import ipaddress
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..features.errors import AccountRiskError, UsageError
from ..features.workspace import DEFAULT_WORKDIR
from ._console import console
from .cli import MemoryLimit, Workdir, _fail, app

DEFAULT_MODEL = "models:/accountrisk@champion"
DEFAULT_PORT = 8000


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _check_installed() -> None:
    try:
        import fastapi  # noqa: F401
        import prometheus_client  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as error:
        raise UsageError(f"`accountrisk serve` needs the serve extra ({error.name} is "
                         "missing): pip install 'accountrisk[serve]'") from None


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def _warn_no_auth(host: str, port: int) -> None:
    console.print(f"[bold red]WARNING: --no-auth: anyone who can reach {host}:{port} can "
                  "score accounts and read their evidence and case reports without a key. "
                  "Use it only for a trial on this machine.[/bold red]", highlight=False)
    if not _is_loopback(host):
        console.print(f"[bold red]WARNING: {host} is not a loopback address: other machines "
                      "can reach this unauthenticated service.[/bold red]", highlight=False)


@app.command()
def serve(
    model: Annotated[str, typer.Option(
        "--model", envvar="ACCOUNTRISK_MODEL",
        help="Model directory or MLflow registry URI; a models:/name@alias URI is watched "
             "and reloaded when the alias moves (environment: ACCOUNTRISK_MODEL).")
    ] = DEFAULT_MODEL,
    data: Annotated[Optional[str], typer.Option(
        "--data", help="Contract data for /v1/accounts and /v1/queue (loaded into --workdir "
                       "at start-up); without it only /v1/score scores.")] = None,
    workdir: Workdir = DEFAULT_WORKDIR,
    as_of: Annotated[Optional[str], typer.Option(
        "--as-of", help="Default as-of time of /v1/accounts and /v1/queue (its features "
                        "are built at start-up).")] = None,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = DEFAULT_PORT,
    api_key_file: Annotated[Optional[Path], typer.Option(
        "--api-key-file", help="File holding the API key (else ACCOUNTRISK_API_KEY).")
    ] = None,
    no_auth: Annotated[bool, typer.Option(
        "--no-auth", help="Serve without an API key (a local trial only).")] = False,
    reload_seconds: Annotated[float, typer.Option(
        "--reload-seconds", help="How often a models:/name@alias URI is checked; 0 turns "
                                 "the watch off.")] = 30.0,
    threads: Annotated[int, typer.Option(
        "--threads", help="LightGBM threads for large batches.")] = 2,
    workers: Annotated[int, typer.Option(
        "--workers", help="Processes answering on the port: up to one per core serves more "
                          "clients at once; above 1, without --data (POST /v1/score and the "
                          "model).")] = 1,
    memory_limit: MemoryLimit = None,
    log_level: Annotated[str, typer.Option("--log-level", help="uvicorn's log level.")
                         ] = "info",
) -> None:
    """Serve scores, reasons, evidence, case reports and the review queue over HTTP.

    Every endpoint but /healthz and /readyz needs 'Authorization: Bearer <key>'; the key
    comes from --api-key-file or ACCOUNTRISK_API_KEY, and without one the service does not
    start (unless --no-auth). See /docs for the endpoints."""
    try:
        _check_installed()
        from .service.auth import resolve_key
        from .service.workers import check_workers

        check_workers(workers, data)
        key = resolve_key(api_key_file, no_auth=no_auth)
    except AccountRiskError as error:
        _fail(error)
    if no_auth:
        _warn_no_auth(host, port)
    import uvicorn

    from ..features.pipeline import parse_as_of
    from .service.app import build_service, create_app
    from .service.state import ServiceConfig

    try:
        config = ServiceConfig(model=model, api_key=key, data=data, workdir=workdir,
                               as_of=parse_as_of(as_of) if as_of else None,
                               reload_seconds=reload_seconds, threads=threads,
                               memory_limit=memory_limit)
        _say(f"loading model {model}" + (f" and data {data}" if data else ""))
        service = build_service(config)
    except AccountRiskError as error:
        _fail(error)
    _say(f"serving model {service.scorer.model_version} on http://{host}:{port} "
         f"(API key {'required' if key else 'NOT required'}; docs at /docs"
         + (f"; {workers} worker processes" if workers > 1 else "") + ")")
    if workers > 1:
        from .service.workers import WorkerSettings, run_workers

        service.close()  # it verified the model; each worker loads its own
        run_workers(WorkerSettings(model=model, api_key_file=str(api_key_file.resolve())
                                   if api_key_file else None, no_auth=no_auth,
                                   reload_seconds=reload_seconds, threads=threads,
                                   memory_limit=memory_limit),
                    workers, host=host, port=port, log_level=log_level)
        return
    uvicorn.run(create_app(config, service=service), host=host, port=port,
                log_level=log_level, server_header=False)
