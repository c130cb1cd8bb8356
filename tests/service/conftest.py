"""A small trained model and marketplace, and real uvicorn servers on loopback ports.

``serving(app)`` runs uvicorn in a thread on 127.0.0.1 with port 0 (the kernel picks a
free one) and yields the base URL; the CLI tests start ``accountrisk serve`` itself."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi", reason="the service tests need the serve extra")
pytest.importorskip("uvicorn", reason="the service tests need the serve extra")
pytest.importorskip("httpx", reason="the service tests need httpx (the test extra)")

from accountrisk.training.api import train  # noqa: E402
from tests.training.market import AS_OF, small_market, write_folder  # noqa: E402

API_KEY = "test-key-5f0c2b9e1d"
T = AS_OF.strftime("%Y-%m-%d")
START_TIMEOUT_S = 60.0


@pytest.fixture(scope="session")
def trained(tmp_path_factory) -> dict[str, Any]:
    """A marketplace folder, its loaded work directory, a model directory trained on it
    and the feature rows as of AS_OF."""
    from accountrisk.features.api import compute_features

    root = tmp_path_factory.mktemp("service")
    data = write_folder(small_market(seed=0, accounts=300), root / "data")
    train(data, AS_OF, model_dir=root / "model", workdir=root / "work", register=False,
          plots=False, snapshot_days=60)
    features = compute_features(data, AS_OF, workdir=root / "work")
    return {"data": data, "model": root / "model", "work": root / "work", "root": root,
            "features": features}


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """Run ``app`` under uvicorn in a thread on a free loopback port; yield its URL."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT_S
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def make_app(model: str | Path, *, data: Path | None = None, work: Path | None = None,
             **options: Any) -> Any:
    """The service application for a model (and data), with the test key."""
    from accountrisk.plugin.service.app import create_app
    from accountrisk.plugin.service.state import ServiceConfig

    config = ServiceConfig(model=str(model), api_key=options.pop("api_key", API_KEY),
                           data=str(data) if data else None, **({"workdir": work} if work
                                                                 else {}), **options)
    return create_app(config)


@pytest.fixture(scope="session")
def service_url(trained) -> Iterator[str]:
    """A service over the trained model and its data (default as-of AS_OF)."""
    app = make_app(trained["model"], data=trained["data"], work=trained["work"], as_of=AS_OF)
    with serving(app) as url:
        yield url


@pytest.fixture
def client(service_url) -> Iterator[Any]:
    import httpx

    with httpx.Client(base_url=service_url, headers={"Authorization": f"Bearer {API_KEY}"},
                      timeout=60) as c:
        yield c
