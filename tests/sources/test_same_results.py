"""The law of sources: a marketplace read from a folder, from Hive-partitioned dataset
folders, from S3 and from PostgreSQL gives the same validation report, the same features
row for row and the same scores."""

from __future__ import annotations

from datetime import datetime

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from accountrisk.features.api import compute_features
from accountrisk.features.engine import DuckDBEngine
from accountrisk.features.load import load_folder
from accountrisk.plugin.cli import app
from accountrisk.scoring.scorer import RiskScorer
from accountrisk.training.api import train
from tests.servers import PG_PASSWORD
from tests.sources.market import AS_OF, PLANTED, report_keys

OTHERS = ("partitioned", "s3", "postgres")
NOW = datetime(2026, 12, 1)
runner = CliRunner()


def load(uri: str):
    with DuckDBEngine() as engine:
        return load_folder(uri, engine, now=NOW)


@pytest.fixture(scope="module")
def reference(market):
    return load(market["local"])


@pytest.mark.parametrize("kind", OTHERS)
def test_validation_reports_are_the_same(market, reference, kind):
    assert {key: n for key, n in reference.quarantined.items()
            if key in PLANTED} == PLANTED  # the planted rows are found at all
    got = load(market[kind])
    assert got.usable
    assert report_keys(got) == report_keys(reference)
    assert got.loaded_rows == reference.loaded_rows
    assert got.quarantined == reference.quarantined
    notes = sorted((p.table, p.column, p.reason) for p in got.problems if p.severity == "note")
    expected = [] if kind == "postgres" else [("sessions", "dt", "extra_column")]
    assert notes == expected


@pytest.fixture(scope="module")
def local_features(market, tmp_path_factory):
    work = tmp_path_factory.mktemp("features-local")
    return compute_features(market["local"], AS_OF, workdir=work)


@pytest.mark.parametrize("kind", OTHERS)
def test_features_are_the_same_row_for_row(market, local_features, kind, tmp_path):
    got = compute_features(market[kind], AS_OF, workdir=tmp_path / "work")
    assert got.num_rows == local_features.num_rows > 200
    assert got.column_names == local_features.column_names
    assert got.equals(local_features)


@pytest.fixture(scope="module")
def model(market, tmp_path_factory):
    root = tmp_path_factory.mktemp("model")
    result = train(market["local"], AS_OF, model_dir=root / "model", workdir=root / "work",
                   register=False, plots=False, snapshot_days=60)
    return result.model_dir


@pytest.fixture(scope="module")
def local_scores(market, model, tmp_path_factory):
    scorer = RiskScorer.load(model)
    batch = scorer.score_folder(market["local"], AS_OF, workdir=tmp_path_factory.mktemp("w"),
                                reasons_for="all", evidence=False)
    return batch.frame.sort_by("account_id")


@pytest.mark.parametrize("kind", OTHERS)
def test_scores_are_the_same(market, model, local_scores, kind, tmp_path):
    scorer = RiskScorer.load(model)
    batch = scorer.score_folder(market[kind], AS_OF, workdir=tmp_path / "work",
                                reasons_for="all", evidence=False)
    got = batch.frame.sort_by("account_id")
    assert got.to_pylist() == local_scores.to_pylist()
    assert any(r for r in got.column("reasons").to_pylist())


def test_training_on_postgres_gives_the_same_model_and_hides_the_password(market, model,
                                                                          tmp_path):
    result = train(market["postgres"], AS_OF, model_dir=tmp_path / "model",
                   workdir=tmp_path / "work", register=False, plots=False, snapshot_days=60)
    assert (result.model_dir / "model.txt").read_text() == (model / "model.txt").read_text()
    stored = (result.model_dir / "metadata.json").read_text()
    assert PG_PASSWORD not in stored and "s3cret" not in stored  # as given or URI-quoted
    assert "***@127.0.0.1" in stored


@pytest.mark.parametrize("kind", ("s3", "postgres"))
def test_the_commands_take_the_uri(market, model, local_scores, kind, tmp_path):
    work = str(tmp_path / "work")
    checked = runner.invoke(app, ["validate", market[kind], "--workdir", work])
    assert checked.exit_code == 0, checked.output
    assert "amount_usd" in checked.output
    scores = tmp_path / "scores.parquet"
    scored = runner.invoke(app, ["score", market[kind], "--model", str(model), "--as-of",
                                 AS_OF, "--out", str(scores), "--workdir", work,
                                 "--reasons-for", "all"])
    assert scored.exit_code == 0, scored.output
    got = pq.read_table(scores).sort_by("account_id")
    assert got.column("score").to_pylist() == local_scores.column("score").to_pylist()
    for output in (checked.output, scored.output):
        assert PG_PASSWORD not in output and "s3cret" not in output
