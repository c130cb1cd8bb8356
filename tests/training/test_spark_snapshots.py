"""Training snapshots computed on Spark equal DuckDB's: same rows, labels, weights and
features (floats to 1e-9 relative), so the one-machine fit sees the same training set."""

from __future__ import annotations

import math
from datetime import datetime

import pyarrow as pa
import pyarrow.compute  # noqa: F401  (pa.compute)
import pytest

from accountrisk.features.api import compute_features
from accountrisk.features.errors import UsageError
from accountrisk.training.api import prepare, train
from tests.training.market import AS_OF, small_market, write_folder


@pytest.mark.spark
@pytest.mark.parametrize("one_date", [False, True])
def test_training_set_on_spark_equals_duckdb(tmp_path, spark_engine, one_date):
    """Also for an export stamped with one date, whose rows read just after the instant
    (``after_instant``) give the red-flag points validation judges."""
    tables = small_market(seed=3, accounts=300)
    if one_date:
        labels = tables["labels"]
        stamp = pa.array([datetime(2025, 5, 1)] * labels.num_rows, pa.timestamp("us"))
        tables["labels"] = labels.set_column(labels.column_names.index("decided_at"),
                                             "decided_at", stamp)
    data = write_folder(tables, tmp_path / "data")
    duck = prepare(data, AS_OF, workdir=tmp_path / "work", snapshot_days=120)
    spark = prepare(data, AS_OF, snapshot_days=120, engine="spark")
    assert spark.features == duck.features and spark.counts == duck.counts
    assert (duck.after_instant is not None) is one_date
    _same_rows(duck.rows, spark.rows, minimum=100)
    if one_date:
        _same_rows(duck.after_instant, spark.after_instant, minimum=20)


@pytest.mark.spark
@pytest.mark.parametrize("bans_only", [False, True])
def test_decided_accounts_read_at_t_on_spark_equal_duckdb(tmp_path, spark_engine, bans_only):
    """Labels that did not stop the accounts: the activity around the decisions is counted
    alike (against the cleared, or in an export of bans alone the undecided accounts) and
    the final fit's rows at T are the same."""
    tables = small_market(seed=3, accounts=300, bans_stop=False)
    if bans_only:
        labels = tables["labels"]
        tables["labels"] = labels.filter(pa.compute.equal(labels.column("label"), 1))
    data = write_folder(tables, tmp_path / "data")
    duck = prepare(data, AS_OF, workdir=tmp_path / "work", snapshot_days=120)
    spark = prepare(data, AS_OF, snapshot_days=120, engine="spark")
    assert spark.counts == duck.counts and duck.rows_at_t is not None
    assert ("undecided_active_before_decision" in duck.counts) is bans_only
    assert spark.rows_at_t is not None
    _same_rows(duck.rows_at_t, spark.rows_at_t, minimum=50)


def _same_rows(duck: pa.Table, spark: pa.Table, minimum: int) -> None:
    key = ["account_id", "_snapshot"]
    d = {tuple(r[k] for k in key): r for r in duck.to_pylist()}
    s = {tuple(r[k] for k in key): r for r in spark.to_pylist()}
    assert set(d) == set(s) and len(d) > minimum
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
