"""``retrain`` promotes only a better challenger (both ways), is idempotent for the same
as-of, refuses to run beside another run, and registers a model card."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime

import pyarrow.compute as pc
import pytest
from typer.testing import CliRunner

from accountrisk.plugin.cli import app
from accountrisk.training.api import train
from accountrisk.training.retrain import LOCK_FILE
from accountrisk.training.tracking import CHAMPION, aliases
from tests.training.market import AS_OF, small_market, write_folder

runner = CliRunner()
EARLY = datetime(2025, 4, 1)


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/mlflow.db")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    """Many labels, and the same marketplace with only the labels decided before EARLY."""
    root = tmp_path_factory.mktemp("retrain")
    tables = small_market(seed=0, accounts=300)
    many = write_folder(tables, root / "many")
    labels = tables["labels"]
    few = dict(tables, labels=labels.filter(pc.less(labels.column("decided_at"), EARLY)))
    return many, write_folder(few, root / "few")


def _retrain(data, work, as_of=AS_OF):
    return runner.invoke(app, ["retrain", str(data), "--as-of", as_of.isoformat(),
                               "--workdir", str(work), "--snapshot-days", "60"])


def test_a_better_challenger_is_promoted_and_a_second_run_does_nothing(store, folders):
    many, _ = folders
    work = store / "work"
    first = _retrain(many, work, EARLY)  # few decisions before EARLY: the first champion
    assert first.exit_code == 0, first.output
    assert aliases()[CHAMPION] == "1"
    better = _retrain(many, work)
    assert better.exit_code == 0, better.output
    assert better.stdout.startswith("promoted: challenger v2 beats champion v1")
    assert aliases()[CHAMPION] == "2"
    again = _retrain(many, work)
    assert again.exit_code == 5 and "already ran" in again.stdout
    assert aliases()[CHAMPION] == "2"

    from mlflow import MlflowClient

    client = MlflowClient()
    card = client.get_model_version("accountrisk", "2").description
    assert "## Data window" in card and "## Metrics against the rules" in card
    assert "## Look-alike checks" in card and "confirmed and" in card
    runs = client.search_runs([client.get_experiment_by_name("accountrisk").experiment_id],
                              "tags.retrain = 'promoted'")
    assert len(runs) == 1
    files = [f.path for f in client.list_artifacts(runs[0].info.run_id)]
    assert "comparison.md" in files


def test_a_worse_challenger_leaves_the_champion(store, folders):
    many, few = folders
    champion = train(many, AS_OF, workdir=store / "work-many", snapshot_days=60, plots=False)
    assert champion.version == "1" and aliases()[CHAMPION] == "1"
    worse = _retrain(few, store / "work-few")
    assert worse.exit_code == 3, worse.output
    assert worse.stdout.startswith("kept: challenger v2 does not beat champion v1")
    assert aliases()[CHAMPION] == "1"


def test_a_running_retrain_holds_the_lock_and_a_stale_lock_is_taken_over(store, folders):
    many, _ = folders
    work = store / "work"
    work.mkdir()
    (work / LOCK_FILE).write_text(str(os.getpid()))  # this live process "holds" it
    held = _retrain(many, work)
    assert held.exit_code == 4
    assert f"PID {os.getpid()}" in held.output
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    (work / LOCK_FILE).write_text(gone.stdout.strip())
    taken = _retrain(many, work, EARLY)
    assert taken.exit_code == 0, taken.output
    assert not (work / LOCK_FILE).exists()
