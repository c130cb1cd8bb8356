"""MLflow runs and the model registry: experiment ``accountrisk``, registered model
``accountrisk``, aliases ``challenger`` (every new version) and ``champion``.

The tracking store is ``MLFLOW_TRACKING_URI`` or, by default, ``sqlite:///mlflow.db`` in
the working directory, with artifacts in ``mlartifacts/`` beside the database file. No
server is needed; ``mlflow ui --backend-store-uri sqlite:///mlflow.db`` shows the runs.
MLflow is imported only here, inside functions.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from ..features.errors import TrackingError

EXPERIMENT = "accountrisk"
REGISTERED_MODEL = "accountrisk"
CHALLENGER, CHAMPION = "challenger", "champion"
DEFAULT_URI = "sqlite:///mlflow.db"


@dataclass
class Registered:
    """A logged run and the registered model version it produced."""

    run_id: str
    version: str
    champion: bool = False

    @property
    def uri(self) -> str:
        return f"models:/{REGISTERED_MODEL}/{self.version}"


def tracking_uri() -> str:
    """``MLFLOW_TRACKING_URI``, or sqlite ``mlflow.db`` in the working directory."""
    configured = os.environ.get("MLFLOW_TRACKING_URI", "").strip()
    if configured:
        return configured
    return f"sqlite:///{Path.cwd() / 'mlflow.db'}"


def _artifact_root(uri: str) -> str | None:
    """Artifacts beside a sqlite database (MLflow's default is relative to the cwd)."""
    if not uri.startswith("sqlite:///"):
        return None
    database = Path(unquote(urlparse(uri).path))
    return (database.parent / "mlartifacts").resolve().as_uri()


def _client():
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    import mlflow
    from mlflow import MlflowClient

    logging.getLogger("mlflow").setLevel(logging.WARNING)  # after import: MLflow sets INFO

    uri = tracking_uri()
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    if mlflow.get_experiment_by_name(EXPERIMENT) is None:
        mlflow.create_experiment(EXPERIMENT, artifact_location=_artifact_root(uri))
    mlflow.set_experiment(EXPERIMENT)
    return mlflow, MlflowClient()


def _version_by_alias(client: Any, alias: str) -> str | None:
    from mlflow.exceptions import MlflowException

    try:
        return str(client.get_model_version_by_alias(REGISTERED_MODEL, alias).version)
    except MlflowException:
        return None


def _signature(metadata: Mapping[str, Any]):
    """Inputs: account_id and every feature required (a missing column is refused before
    scoring), the reason sentences' context optional; the pyfunc's output columns; the
    ``as_of`` parameter stamped on the reasons."""
    from mlflow.models import ModelSignature
    from mlflow.types.schema import ColSpec, ParamSchema, ParamSpec, Schema, TensorSpec

    categories = metadata.get("categories") or {}
    inputs: list[ColSpec | TensorSpec] = [ColSpec("string", "account_id")]
    inputs += [ColSpec("string" if f in categories else "double", f)
               for f in metadata["features"]]
    inputs += [ColSpec("string", c, required=False)
               for c in ("claimed_country", "claimed_timezone")]
    outputs: list[ColSpec | TensorSpec] = [
        ColSpec("string", "account_id"), ColSpec("double", "score"),
        ColSpec("double", "raw_score"), ColSpec("string", "band"),
        ColSpec("string", "reasons"), ColSpec("string", "top_features"),
        ColSpec("string", "reasons_json")]
    params = ParamSchema([ParamSpec("as_of", "string", "")])
    return ModelSignature(inputs=Schema(inputs), outputs=Schema(outputs), params=params)


def _input_example(metadata: Mapping[str, Any]) -> Any:
    """One made-up feature row (no real account's values): 0 for a number, the first
    category for a categorical feature."""
    import pandas as pd

    categories = metadata.get("categories") or {}
    row: dict[str, Any] = {"account_id": "example-account"}
    for name in metadata["features"]:
        row[name] = (categories[name] or [None])[0] if name in categories else 0.0
    return pd.DataFrame([row])


def _requirements() -> list[str]:
    from importlib.metadata import PackageNotFoundError, version

    out = []
    for package in ("accountrisk", "mlflow", "lightgbm", "numpy", "pandas", "pyarrow"):
        try:
            out.append(f"{package}=={version(package)}")
        except PackageNotFoundError:
            out.append(package)
    return out


def log_training_run(bundle_dir: str | Path, metadata: Mapping[str, Any], *,
                     params: Mapping[str, Any], metrics: Mapping[str, float],
                     plots: Sequence[Path] = (), run_name: str | None = None) -> Registered:
    """One run: parameters, metrics, the model directory, feature list, data fingerprint,
    plots; then register it (alias ``challenger``; also ``champion`` if there is none)."""
    mlflow, client = _client()
    code = str(Path(__file__).with_name("pyfunc.py"))
    try:
        with mlflow.start_run(run_name=run_name) as run:
            mlflow.log_params({k: _param(v) for k, v in params.items()})
            mlflow.log_metrics({k: float(v) for k, v in metrics.items()})
            training = metadata.get("training", {})
            mlflow.set_tags({"kind": metadata["kind"],
                             "data_fingerprint": training.get("data_fingerprint", ""),
                             "feature_set_version": metadata["feature_set_version"]})
            mlflow.log_artifacts(str(bundle_dir), artifact_path="model_dir")
            mlflow.log_dict({"features": list(metadata["features"])}, "features.json")
            for plot in plots:
                mlflow.log_artifact(str(plot), artifact_path="plots")
            info = mlflow.pyfunc.log_model(
                name="model", python_model=code, artifacts={"bundle": str(bundle_dir)},
                pip_requirements=_requirements(), signature=_signature(metadata),
                input_example=_input_example(metadata),
                registered_model_name=REGISTERED_MODEL)
            version = str(info.registered_model_version)
        client.set_registered_model_alias(REGISTERED_MODEL, CHALLENGER, version)
        first = _version_by_alias(client, CHAMPION) is None
        if first:
            client.set_registered_model_alias(REGISTERED_MODEL, CHAMPION, version)
        return Registered(run_id=run.info.run_id, version=version, champion=first)
    except Exception as error:
        if isinstance(error, TrackingError):
            raise
        raise TrackingError(f"MLflow could not log or register the model at "
                            f"{tracking_uri()}: {error}") from error


def _param(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return text[:6000]


def aliases() -> dict[str, str | None]:
    """Registry version currently behind ``champion`` and ``challenger`` (None: unset)."""
    _, client = _client()
    return {CHAMPION: _version_by_alias(client, CHAMPION),
            CHALLENGER: _version_by_alias(client, CHALLENGER)}


def load_version(version: str):
    """The bundle behind a registered version, loaded through its pyfunc (as served)."""
    mlflow, _ = _client()
    try:
        model = mlflow.pyfunc.load_model(f"models:/{REGISTERED_MODEL}/{version}")
    except Exception as error:
        raise TrackingError(f"could not load models:/{REGISTERED_MODEL}/{version}: "
                            f"{error}") from error
    return model.unwrap_python_model().bundle


def log_promotion(*, champion: str, challenger: str, metrics: Mapping[str, float],
                  params: Mapping[str, Any], promoted: bool, reason: str) -> str:
    """A run holding the head-to-head numbers; moves ``champion`` when ``promoted``."""
    mlflow, client = _client()
    with mlflow.start_run(run_name=f"promote v{challenger} over v{champion}") as run:
        mlflow.log_params({k: _param(v) for k, v in params.items()})
        mlflow.log_metrics({k: float(v) for k, v in metrics.items()})
        mlflow.set_tags({"promotion": "promoted" if promoted else "refused",
                         "champion_version": champion, "challenger_version": challenger})
        with tempfile.TemporaryDirectory() as tmp:
            note = Path(tmp) / "decision.txt"
            note.write_text(reason + "\n", encoding="utf-8")
            mlflow.log_artifact(str(note))
    if promoted:
        client.set_registered_model_alias(REGISTERED_MODEL, CHAMPION, challenger)
    return run.info.run_id


def describe_version(version: str, text: str) -> None:
    """Set a registered version's description (its model card)."""
    _, client = _client()
    client.update_model_version(REGISTERED_MODEL, version, description=text)


def log_retrain(*, run_name: str, params: Mapping[str, Any], metrics: Mapping[str, float],
                tags: Mapping[str, str], files: Sequence[Path]) -> str:
    """A run holding a retrain's comparison (its one-page report as an artifact)."""
    mlflow, _ = _client()
    with mlflow.start_run(run_name=run_name) as run:
        mlflow.log_params({k: _param(v) for k, v in params.items()})
        mlflow.log_metrics({k: float(v) for k, v in metrics.items()})
        mlflow.set_tags(dict(tags))
        for file in files:
            mlflow.log_artifact(str(file))
    return str(run.info.run_id)
