"""Registered models: the logged pyfunc gives RiskScorer's reasons (loaded, and served by
`mlflow models serve`), and a service on `models:/accountrisk@champion` reloads when the
alias moves and keeps its model when the new one fails to load."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from accountrisk.scoring.scorer import RiskScorer
from tests.service.conftest import API_KEY, T, make_app, serving

pytest.importorskip("mlflow")
WAIT_S = 60.0


@pytest.fixture(scope="module")
def registry(trained, tmp_path_factory):
    """A sqlite registry with the trained bundle registered twice (versions 1 and 2;
    champion 1)."""
    from accountrisk.training.tracking import log_training_run

    root = tmp_path_factory.mktemp("registry")
    meta = json.loads((trained["model"] / "metadata.json").read_text())
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{root}/mlflow.db")
        patch.chdir(root)  # nothing may land in the repository's working directory
        for _ in range(2):
            log_training_run(trained["model"], meta, params={"kind": "model"},
                             metrics={"pr_auc": 0.5})
        yield root


def _client():
    from mlflow import MlflowClient

    return MlflowClient()


def test_logged_pyfunc_gives_risk_scorers_reasons(registry, trained):
    import mlflow

    model = mlflow.pyfunc.load_model("models:/accountrisk/1")
    signature = model.metadata.get_input_schema()
    required = {c.name for c in signature.inputs if c.required}
    scorer = RiskScorer.load(trained["model"])
    assert required == {"account_id", *scorer.features}
    local = mlflow.artifacts.download_artifacts("models:/accountrisk/1")
    example = model.metadata.load_input_example(local)
    assert list(example.columns) == ["account_id", *scorer.features]
    assert model.predict(example)["score"].between(0, 1).all()
    rows = trained["features"]
    out = model.predict(rows.to_pandas(), params={"as_of": T})
    batch = scorer.score_features(rows, as_of=T, explain=True)
    assert out["account_id"].tolist() == batch.frame.column("account_id").to_pylist()
    assert out["reasons"].tolist() == batch.frame.column("reasons").to_pylist()
    assert out["band"].tolist() == batch.frame.column("band").to_pylist()
    assert out["score"].tolist() == batch.frame.column("score").to_pylist()
    details = [json.loads(text) for text in out["reasons_json"]]
    assert details == [[r.model_dump(mode="json") for r in s.reasons] for s in batch.scores]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_http(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + WAIT_S * 2
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the server exited:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail(f"the server did not answer {url}:\n{log.read_text()[-3000:]}")


def test_mlflow_models_serve_and_accountrisk_serve_give_the_same_reasons(registry, trained,
                                                                        tmp_path):
    mlflow_cli = Path(sys.executable).parent / "mlflow"
    if not mlflow_cli.exists():
        pytest.skip("the mlflow command is not installed beside this Python")
    port = _free_port()
    log = tmp_path / "mlflow-serve.log"
    env = {**os.environ, "PATH": f"{mlflow_cli.parent}{os.pathsep}{os.environ['PATH']}"}
    with log.open("w") as out:
        process = subprocess.Popen(
            [str(mlflow_cli), "models", "serve", "-m", "models:/accountrisk/1",
             "--env-manager", "local", "-h", "127.0.0.1", "-p", str(port)],
            stdout=out, stderr=subprocess.STDOUT, env=env, cwd=registry)
    try:
        _wait_http(f"http://127.0.0.1:{port}/ping", process, log)
        rows = trained["features"].slice(0, 30)
        listed = rows.to_pylist()  # exact floats (pandas' to_json rounds to 10 digits)
        split = {"columns": rows.column_names,
                 "data": [[row[c] for c in rows.column_names] for row in listed]}
        theirs = httpx.post(f"http://127.0.0.1:{port}/invocations", timeout=60, json={
            "dataframe_split": split, "params": {"as_of": T}})
        assert theirs.status_code == 200, theirs.text
        predictions = theirs.json()["predictions"]
        with serving(make_app(trained["model"])) as url:
            ours = httpx.post(url + "/v1/score", json={"as_of": T, "rows": rows.to_pylist()},
                              headers={"Authorization": f"Bearer {API_KEY}"}).json()
        assert [json.loads(p["reasons_json"]) for p in predictions] == \
            [s["reasons"] for s in ours["scores"]]
        assert [p["band"] for p in predictions] == [s["band"] for s in ours["scores"]]
    finally:
        process.terminate()
        process.wait(timeout=30)


def _ready(url: str) -> dict:
    return httpx.get(url + "/readyz").json()


def _until(url: str, check) -> dict:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        body = _ready(url)
        if check(body):
            return body
        time.sleep(0.1)
    pytest.fail(f"/readyz never showed the change: {_ready(url)}")


def test_alias_move_reloads_and_a_failed_reload_keeps_the_old_model(registry, trained):
    from accountrisk.training.tracking import log_training_run

    client = _client()
    client.set_registered_model_alias("accountrisk", "champion", "1")
    app = make_app("models:/accountrisk@champion", reload_seconds=0.2)
    headers = {"Authorization": f"Bearer {API_KEY}"}
    rows = trained["features"].slice(0, 3).to_pylist()
    with serving(app) as url:
        first = _ready(url)
        assert first["model_version"] == "accountrisk/1" and first["reload"]["watching"]
        client.set_registered_model_alias("accountrisk", "champion", "2")
        moved = _until(url, lambda b: b["model_version"] == "accountrisk/2")
        assert moved["ready"] and not moved["reload"]["failed"]
        scored = httpx.post(url + "/v1/score", json={"as_of": T, "rows": rows}, headers=headers)
        assert scored.json()["model_version"] == "accountrisk/2"

        # Version 3's model directory is changed after registration: it must not load.
        meta = json.loads((trained["model"] / "metadata.json").read_text())
        log_training_run(trained["model"], meta, params={"kind": "model"},
                         metrics={"pr_auc": 0.5})
        source = Path(client.get_model_version_download_uri("accountrisk", "3")
                      .replace("file://", ""))
        damaged = next(source.rglob("metadata.json"))
        damaged.write_text(damaged.read_text() + " ")
        client.set_registered_model_alias("accountrisk", "champion", "3")
        failed = _until(url, lambda b: b["reload"]["failed"])
        assert failed["ready"] and failed["model_version"] == "accountrisk/2"
        assert "changed after the model was written" in failed["reload"]["error"]
        still = httpx.post(url + "/v1/score", json={"as_of": T, "rows": rows}, headers=headers)
        assert still.status_code == 200 and still.json()["model_version"] == "accountrisk/2"
        metrics = httpx.get(url + "/metrics", headers=headers).text
        assert "accountrisk_model_reload_failed 1.0" in metrics
        assert 'accountrisk_model_reloads_total{outcome="failed"}' in metrics
        assert 'model_version="accountrisk/2"' in metrics

        # Moving the alias back to a good version clears the failure.
        client.set_registered_model_alias("accountrisk", "champion", "1")
        back = _until(url, lambda b: b["model_version"] == "accountrisk/1")
        assert not back["reload"]["failed"] and back["reload"]["error"] is None
    shutil.rmtree(source, ignore_errors=True)
