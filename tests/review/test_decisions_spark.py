"""On Spark too, training reads the work directory's decisions merged into ``labels``:
the same training set as on DuckDB."""

from __future__ import annotations

from datetime import datetime

import pytest

from accountrisk.training.api import prepare
from accountrisk.training.review import Decision, open_store
from tests.training.market import AS_OF, small_market, write_folder


@pytest.mark.spark
def test_training_on_spark_reads_decisions_as_duckdb_does(tmp_path, spark_engine):
    tables = small_market(seed=6, accounts=200)
    data = write_folder(tables, tmp_path / "data")
    labelled = set(tables["labels"].column("account_id").to_pylist())
    free = [a for a in tables["accounts"].column("account_id").to_pylist()
            if a not in labelled]
    work = tmp_path / "work"
    open_store(work).append([
        Decision(free[0], "confirmed_fronting", "r.lee", datetime(2025, 6, 1)),
        Decision(free[1], "cleared", "r.kim", datetime(2025, 7, 1))])
    # Two snapshots (late 2024 and T) hold every decision: each Spark pass costs ~30 s.
    duck = prepare(data, AS_OF, workdir=work, snapshot_days=340)
    spark = prepare(data, AS_OF, workdir=work, snapshot_days=340, engine="spark")
    assert len(spark.snapshots) == 2
    assert spark.counts == duck.counts
    for ts in (duck, spark):
        rows = ts.labelled()
        label_of = dict(zip(rows.column("account_id").to_pylist(),
                            rows.column("_label").to_pylist()))
        assert label_of[free[0]] == 1.0 and label_of[free[1]] == 0.0
