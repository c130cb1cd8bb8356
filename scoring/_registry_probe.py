"""A registry that does not answer fails in seconds, not minutes.

MLflow's HTTP client retries with backoff (minutes in all) before it gives up on a tracking
server that is down. Loading a model is often on a service's start-up path, so a remote
store is first probed with one TCP connection bounded by ``ACCOUNTRISK_REGISTRY_TIMEOUT``
(default 10 s). A server that accepts connections but never answers is still bounded only
by MLflow's own ``MLFLOW_HTTP_REQUEST_TIMEOUT``.
"""

from __future__ import annotations

import os
import socket
from urllib.parse import urlparse

from accountrisk.features.errors import ModelLoadError

DEFAULT_TIMEOUT_S = 10.0


def check_reachable(store: str, model_uri: str) -> None:
    """Raise :class:`ModelLoadError` when the http(s) tracking server ``store`` cannot be
    reached within the timeout; other stores (sqlite, files, databricks) are not probed."""
    parsed = urlparse(store)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        return
    timeout = float(os.environ.get("ACCOUNTRISK_REGISTRY_TIMEOUT", DEFAULT_TIMEOUT_S))
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        with socket.create_connection((parsed.hostname, port), timeout=timeout):
            pass
    except OSError as error:
        raise ModelLoadError(
            f"could not load {model_uri}: the MLflow tracking server at {store} did not "
            f"accept a connection within {timeout:g} s ({error}). Check that the server "
            "runs and that MLFLOW_TRACKING_URI (or the registry you passed) points at it, "
            "or load a model directory instead") from None
