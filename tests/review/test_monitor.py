"""``monitor`` flags a planted drift (activity and session hours shifted by 6 hours) and
stays quiet on the unchanged marketplace; a model without references cannot compare."""

from __future__ import annotations

import json
import shutil
from datetime import timedelta

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from accountrisk.plugin.cli import app
from accountrisk.training.bundle import METADATA_FILE, write_bundle
from tests.review.conftest import GENERATED_AS_OF

runner = CliRunner()
T = GENERATED_AS_OF


def _shift_hours(source, target, hours: int):
    shutil.copytree(source, target)
    for name in ("sessions", "activity"):
        table = pq.read_table(source / f"{name}.parquet")
        for i, f in enumerate(table.schema):
            if pa.types.is_timestamp(f.type):
                moved = [None if v is None else v + timedelta(hours=hours)
                         for v in table.column(i).to_pylist()]
                table = table.set_column(i, f, pa.array(moved, f.type))
        pq.write_table(table, target / f"{name}.parquet")
    return target


@pytest.fixture
def trained(generated):
    return generated


def test_monitor_is_quiet_on_the_unchanged_marketplace(trained):
    root, data = trained
    done = runner.invoke(app, ["monitor", str(data), "--as-of", T, "--model",
                               str(root / "model"), "--workdir", str(root / "work"),
                               "--no-mlflow", "--out", str(root / "same.html")])
    assert done.exit_code == 0, done.output
    assert "no drift above the threshold" in done.stdout
    page = (root / "same.html").read_text()
    assert "<svg" in page and "Band shares" in page


def test_monitor_flags_hours_shifted_by_six(trained, tmp_path, monkeypatch):
    root, data = trained
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/mlflow.db")
    monkeypatch.chdir(tmp_path)
    shifted = _shift_hours(data, tmp_path / "shifted", 6)
    # Every feature the model reads counts: which hour features make its ten most important
    # depends on the size validation chose on this small marketplace, not on the monitor.
    done = runner.invoke(app, ["monitor", str(shifted), "--as-of", T, "--model",
                               str(root / "model"), "--workdir", str(tmp_path / "work"),
                               "--out", str(tmp_path / "drift.html"), "--top-features", "1000"])
    assert done.exit_code == 2, done.output
    assert "DRIFT" in done.stdout
    assert done.stdout.strip().splitlines()[-1].startswith("drift: ")
    import mlflow

    runs = mlflow.search_runs(experiment_names=["accountrisk"])
    assert (runs["tags.monitor"] == "drift").any()


def test_a_model_without_references_cannot_compare(trained, tmp_path):
    root, data = trained
    meta = json.loads((root / "model" / METADATA_FILE).read_text())
    meta.pop("reference")
    text = (root / "model" / "model.txt").read_text() if meta["kind"] == "model" else None
    write_bundle(tmp_path / "old", meta, text)
    done = runner.invoke(app, ["monitor", str(data), "--as-of", T, "--model",
                               str(tmp_path / "old"), "--workdir", str(root / "work"),
                               "--no-mlflow"])
    assert done.exit_code == 1
    assert "cannot compare" in done.output and "no reference distributions" in done.output


def test_psi_bins_missing_values_apart_and_is_zero_for_the_same_shares():
    import numpy as np

    from accountrisk.training import drift

    values = np.array([1.0, 2.0, 3.0, 4.0, np.nan] * 20)
    ref = drift.reference_of(pa.table({"x": values}), ["x"], None, values, [""] * 100, None)
    entry = ref["features"]["x"]
    assert entry["shares"][-1] == 0.2  # the missing bin
    assert drift.psi(entry["shares"], drift.shares(values, entry)) == 0.0
    moved = drift.shares(values + 2.5, entry)
    assert drift.psi(entry["shares"], moved) > 0.25
    assert drift.top_features(ref, 3) == ["x"]  # no importance (rules): every feature
