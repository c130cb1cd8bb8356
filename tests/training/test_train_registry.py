"""End to end through MLflow: cold start, CLI train, promotion gate both ways, and the
registered champion loaded in a fresh process. Runs in order on one tracking store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest
from typer.testing import CliRunner

from accountrisk.plugin.cli import app
from accountrisk.training.api import train
from accountrisk.training.promotion import promote
from accountrisk.training.tracking import CHALLENGER, CHAMPION, aliases
from tests.training.conftest import SNAPSHOT_DAYS
from tests.training.market import AS_OF

# The tests build on one another (versions 1, 2, 3 on one store): one worker, file order.
pytestmark = pytest.mark.xdist_group("mlflow_registry")


def test_the_module_runs_as_one_group_under_xdist(request):
    """pytest 9.2 silently broke the grouping (pytest-dev/pytest-xdist#1386; pyproject
    pins pytest below it): grouped tests carry their group in their node id."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        assert request.node.nodeid.endswith("@mlflow_registry")


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    root = tmp_path_factory.mktemp("mlflow")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{root}/mlflow.db")
        patch.chdir(root)  # nothing may land in the repository's working directory
        yield root


@pytest.fixture(scope="module")
def cold(store, unlabelled_market):
    data, work = unlabelled_market
    messages: list[str] = []
    result = train(data, AS_OF, workdir=work, snapshot_days=SNAPSHOT_DAYS,
                   say=messages.append)
    return result, messages


def test_cold_start_registers_the_rule_score_and_says_so(cold):
    result, messages = cold
    assert result.kind == "rules"
    assert result.metadata["kind"] == "rules"
    assert result.uri == "models:/accountrisk/1"
    assert not (result.model_dir / "model.txt").exists()
    assert any("not a trained model" in m and "no decisions" in m
               for m in messages)
    assert aliases() == {CHAMPION: "1", CHALLENGER: "1"}
    # The flags weighed down on this marketplace are in the run's parameters and said.
    from mlflow import MlflowClient

    logged = json.loads(MlflowClient().get_run(result.run_id).data.params["common_flags"])
    assert set(logged) == {c["name"] for c in result.metadata["common_flags"]} != set()
    assert any(m.startswith("red flags common on this marketplace count less") for m in messages)


def test_cli_train_prints_the_uri_last_and_promote_accepts_a_better_model(cold, market):
    data, work = market
    runner = CliRunner()
    done = runner.invoke(app, ["train", str(data), "--as-of", AS_OF.isoformat(),
                               "--workdir", str(work), "--snapshot-days", str(SNAPSHOT_DAYS),
                               "--seed", "3"])
    assert done.exit_code == 0, done.output
    assert done.stdout.strip().splitlines()[-1] == "models:/accountrisk/2"
    assert aliases() == {CHAMPION: "1", CHALLENGER: "2"}  # the first stays champion
    result = promote(data, workdir=work)
    assert result.promoted, result.reason
    assert result.metrics["challenger"]["pr_auc"] > result.metrics["champion"]["pr_auc"]
    assert aliases()[CHAMPION] == "2"


def test_champion_loads_in_a_fresh_process(market, store):
    data, work = market
    script = textwrap.dedent(f"""
        import json, mlflow
        from accountrisk.features.api import compute_features
        rows = compute_features({str(data)!r}, {AS_OF.isoformat()!r},
                                workdir={str(work)!r}).to_pandas().head(20)
        model = mlflow.pyfunc.load_model("models:/accountrisk@champion")
        out = model.predict(rows)
        print(json.dumps({{"columns": list(out.columns), "rows": len(out),
                          "kind": model.unwrap_python_model().bundle.kind,
                          "reasons": out["reasons"].tolist()}}))
    """)
    env = {**os.environ, "MLFLOW_TRACKING_URI": os.environ["MLFLOW_TRACKING_URI"]}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env=env, cwd=store, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["kind"] == "model" and out["rows"] == 20
    assert out["columns"] == ["account_id", "score", "raw_score", "band", "reasons",
                              "top_features", "reasons_json"]
    assert any(out["reasons"])


def test_promote_refuses_a_worse_challenger(market, flipped_market):
    data, work = market
    bad_data, bad_work = flipped_market
    worse = train(bad_data, AS_OF, workdir=bad_work, snapshot_days=SNAPSHOT_DAYS, plots=False)
    assert worse.kind == "model" and worse.version == "3"
    done = CliRunner().invoke(app, ["promote", str(data), "--workdir", str(work)])
    assert done.exit_code == 0, done.output
    last = done.stdout.strip().splitlines()[-1]
    assert last.startswith("not promoted: challenger v3 does not beat champion v2")
    assert aliases() == {CHAMPION: "2", CHALLENGER: "3"}


def test_loading_a_registered_model_leaves_the_hosts_mlflow_uris_alone(market, store, tmp_path):
    script = textwrap.dedent(f"""
        import json, mlflow
        from accountrisk.plugin import RiskScorer
        host = {(tmp_path / 'host.db').as_uri().replace('file:', 'sqlite:')!r}
        mlflow.set_tracking_uri(host)
        mlflow.set_registry_uri(host)
        scorer = RiskScorer.load("models:/accountrisk@champion",
                                 registry={os.environ["MLFLOW_TRACKING_URI"]!r})
        print(json.dumps({{"kind": scorer.kind, "tracking": mlflow.get_tracking_uri(),
                          "registry": mlflow.get_registry_uri(), "host": host}}))
    """)
    env = {**os.environ, "MLFLOW_TRACKING_URI": os.environ["MLFLOW_TRACKING_URI"]}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env=env, cwd=store, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["kind"] == "model"
    assert out["tracking"] == out["registry"] == out["host"]
