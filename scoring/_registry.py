"""Models read from an MLflow registry; a registry that does not answer fails in seconds.

A registered version is read through a client of its own, so the host application's MLflow
tracking and registry URIs stay as they were. MLflow's HTTP client retries with backoff
(minutes in all) before it gives up on a tracking server that is down. Loading a model is
often on a service's start-up path, so a remote store is first probed with one TCP
connection bounded by ``ACCOUNTRISK_REGISTRY_TIMEOUT`` (default 10 s), and MLflow's own
requests during the load wait as long per request with one retry, unless the host set
``MLFLOW_HTTP_REQUEST_TIMEOUT`` / ``MLFLOW_HTTP_REQUEST_MAX_RETRIES`` itself (MLflow reads
them from the environment only; they are set for the load and restored after it).
"""

from __future__ import annotations

import os
import socket
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

from accountrisk.features.errors import AccountRiskError, ModelLoadError
from accountrisk.training.bundle import Bundle, read_bundle

DEFAULT_TIMEOUT_S = 10.0
_ENVIRONMENT = threading.Lock()  # one load at a time changes MLflow's environment


def registry_timeout() -> float:
    """Seconds a registry may take to connect or answer one request."""
    return float(os.environ.get("ACCOUNTRISK_REGISTRY_TIMEOUT", DEFAULT_TIMEOUT_S))


@contextmanager
def _bounded_requests(timeout: float) -> Iterator[None]:
    """MLflow's HTTP timeout and retries for the load, where the host left them unset."""
    wanted = {"MLFLOW_HTTP_REQUEST_TIMEOUT": str(max(1, round(timeout))),
              "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "1"}
    with _ENVIRONMENT:
        ours = [k for k in wanted if k not in os.environ]
        os.environ.update({k: wanted[k] for k in ours})
        try:
            yield
        finally:
            for key in ours:
                os.environ.pop(key, None)


def check_reachable(store: str, model_uri: str) -> None:
    """Raise :class:`ModelLoadError` when the http(s) tracking server ``store`` cannot be
    reached within the timeout; other stores (sqlite, files, databricks) are not probed."""
    parsed = urlparse(store)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        return
    timeout = registry_timeout()
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


def load_registered(uri: str, registry: str | None) -> tuple[Bundle, str]:
    """The verified bundle of registry URI ``uri`` (``models:/name@alias`` or
    ``models:/name/version``) and its ``name/version``, from ``registry`` (default: the
    tracking URI). Every failure is a :class:`ModelLoadError` naming the URI."""
    # A bar per download on every load is noise in a CLI or a service log; a host that
    # wants it sets the variable itself.
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    try:
        import mlflow
        from mlflow import MlflowClient
    except ImportError:
        raise ModelLoadError(
            f"{uri} is an MLflow registry URI, and MLflow is not installed: "
            "pip install 'accountrisk[mlflow]', or give a model directory") from None
    from accountrisk.training.tracking import tracking_uri

    store = registry or tracking_uri()
    check_reachable(store, uri)
    body = uri[len("models:/"):]
    client = MlflowClient(tracking_uri=store, registry_uri=store)
    with _bounded_requests(registry_timeout()):
        try:
            if "@" in body:
                name, alias = body.split("@", 1)
                version = str(client.get_model_version_by_alias(name, alias).version)
            else:
                name, version = body.rsplit("/", 1)
                client.get_model_version(name, version)
            source = client.get_model_version_download_uri(name, version)
            with tempfile.TemporaryDirectory() as tmp:
                local = Path(mlflow.artifacts.download_artifacts(artifact_uri=source,
                                                                 dst_path=tmp))
                found = sorted(p.parent for p in local.rglob("checksums.json"))
                if not found:
                    raise ModelLoadError(f"{uri} holds no model directory (checksums.json)")
                bundle = read_bundle(found[0])
        except AccountRiskError:
            raise
        except Exception as error:
            raise ModelLoadError(f"could not load {uri} from the MLflow registry at "
                                 f"{store}: {error}") from error
    return bundle, f"{name}/{version}"


def registered_version(uri: str, registry: str | None) -> str:
    """The ``name/version`` registry URI ``uri`` points at now (an alias resolved), without
    downloading the model; bounded like :func:`load_registered`. Every failure is a
    :class:`ModelLoadError` naming the URI (a service polling its champion's alias uses it)."""
    try:
        from mlflow import MlflowClient
    except ImportError:
        raise ModelLoadError(f"{uri} is an MLflow registry URI, and MLflow is not "
                             "installed: pip install 'accountrisk[mlflow]'") from None
    from accountrisk.training.tracking import tracking_uri

    store = registry or tracking_uri()
    check_reachable(store, uri)
    body = uri[len("models:/"):]
    client = MlflowClient(tracking_uri=store, registry_uri=store)
    with _bounded_requests(registry_timeout()):
        try:
            if "@" in body:
                name, alias = body.split("@", 1)
                return f"{name}/{client.get_model_version_by_alias(name, alias).version}"
            name, version = body.rsplit("/", 1)
            return f"{name}/{client.get_model_version(name, version).version}"
        except Exception as error:
            raise ModelLoadError(f"could not look up {uri} in the MLflow registry at "
                                 f"{store}: {error}") from error
