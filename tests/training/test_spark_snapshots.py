"""Training snapshots computed on Spark equal DuckDB's: same rows, labels, weights and
features (floats to 1e-9 relative), so the one-machine fit sees the same training set."""

from __future__ import annotations

import math

import pytest

from accountrisk.features.api import compute_features
from accountrisk.features.errors import UsageError
from accountrisk.training.api import prepare, train
from tests.training.market import AS_OF, small_market, write_folder


@pytest.mark.spark
def test_training_set_on_spark_equals_duckdb(tmp_path, spark_engine):
    data = write_folder(small_market(seed=3, accounts=300), tmp_path / "data")
    duck = prepare(data, AS_OF, workdir=tmp_path / "work", snapshot_days=120)
    spark = prepare(data, AS_OF, snapshot_days=120, engine="spark")
    assert spark.features == duck.features and spark.counts == duck.counts
    key = ["account_id", "_snapshot"]
    d = {tuple(r[k] for k in key): r for r in duck.rows.to_pylist()}
    s = {tuple(r[k] for k in key): r for r in spark.rows.to_pylist()}
    assert set(d) == set(s) and len(d) > 100
    for row_key, want in d.items():
        got = s[row_key]
        for name, value in want.items():
            other = got[name]
            if isinstance(value, float) and isinstance(other, float):
                assert math.isclose(value, other, rel_tol=1e-9, abs_tol=1e-12) or (
                    math.isnan(value) and math.isnan(other)), (row_key, name, value, other)
            else:
                assert other == value, (row_key, name, value, other)


def test_unknown_engine_is_refused_before_any_work(tmp_path):
    data = write_folder(small_market(seed=3, accounts=50), tmp_path / "data")
    with pytest.raises(UsageError, match="unknown engine 'flink'; use one of duckdb, spark"):
        prepare(data, AS_OF, workdir=tmp_path / "work", engine="flink")
    with pytest.raises(UsageError, match="unknown engine"):
        train(data, AS_OF, workdir=tmp_path / "work", engine="flink", register=False)
    with pytest.raises(UsageError, match="unknown engine"):
        compute_features(data, AS_OF, workdir=tmp_path / "work", engine="flink")
    assert not (tmp_path / "work").exists()
