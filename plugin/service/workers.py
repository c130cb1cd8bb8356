"""``accountrisk serve --workers N``: N processes answering on one port.

One process answers one request at a time (scoring is CPU work under Python's lock), so on
a machine with several cores, clients queue behind each other; several workers serve them
side by side. uvicorn starts the workers and shares the listening socket among them; each
builds its own service from :class:`WorkerSettings`, passed in the environment (never the
API key itself: each worker reads it where the command did, from ``--api-key-file`` or
``ACCOUNTRISK_API_KEY``). Their metrics are combined (see :mod:`.metrics`).

Workers serve ``/v1/score`` and the model endpoints only: contract data (``--data``) lives
in one DuckDB work directory, which one process opens.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from fastapi import FastAPI

from accountrisk.features.errors import UsageError

from .auth import resolve_key
from .metrics import MULTIPROCESS_DIR
from .state import ServiceConfig

SETTINGS_VARIABLE = "ACCOUNTRISK_SERVE_WORKER"


@dataclass(frozen=True)
class WorkerSettings:
    """What a worker builds its service from (everything but the key)."""

    model: str
    api_key_file: str | None
    no_auth: bool
    reload_seconds: float
    threads: int
    memory_limit: str | None


def check_workers(workers: int, data: str | None) -> None:
    """Raise :class:`UsageError` for a worker count the service cannot run."""
    if workers < 1:
        raise UsageError(f"--workers {workers}: give 1 or more worker processes")
    if workers > 1 and data is not None:
        raise UsageError(f"--workers {workers} with --data: contract data is served from one "
                         "DuckDB work directory, which one process opens; run one worker "
                         "with --data, or several without it (they serve /v1/score)")


def run_workers(settings: WorkerSettings, workers: int, *, host: str, port: int,
                log_level: str) -> None:
    """Serve with ``workers`` processes until stopped (blocks)."""
    import uvicorn

    os.environ[SETTINGS_VARIABLE] = json.dumps(asdict(settings))
    given = os.environ.get(MULTIPROCESS_DIR)
    with tempfile.TemporaryDirectory(prefix="accountrisk-metrics-") as scratch:
        if not given:  # a directory the user named is theirs to keep; ours goes at the end
            os.environ[MULTIPROCESS_DIR] = scratch
        try:
            uvicorn.run(f"{__name__}:worker_app", factory=True, workers=workers, host=host,
                        port=port, log_level=log_level, server_header=False)
        finally:
            if not given:
                os.environ.pop(MULTIPROCESS_DIR, None)


def worker_app() -> FastAPI:
    """One worker's application (uvicorn's factory, in each worker process)."""
    from .app import create_app

    settings = WorkerSettings(**json.loads(os.environ[SETTINGS_VARIABLE]))
    key_file = Path(settings.api_key_file) if settings.api_key_file else None
    config = ServiceConfig(model=settings.model,
                           api_key=resolve_key(key_file, no_auth=settings.no_auth),
                           reload_seconds=settings.reload_seconds, threads=settings.threads,
                           memory_limit=settings.memory_limit)
    app = create_app(config)
    print(f"worker {os.getpid()}: model {app.state.service.scorer.model_version} loaded",
          file=sys.stderr, flush=True)
    return app
