"""Spark reads the same sources: partitioned dataset folders (by Spark itself), S3 (by the
executors through pyarrow, as this Spark has no S3A connector) and PostgreSQL (through ADBC
on the driver) give DuckDB's report and features."""

from __future__ import annotations

from datetime import datetime

import pytest

from accountrisk.features.engine import DuckDBEngine
from accountrisk.features.load import load_folder
from accountrisk.features.pipeline import build_features
from tests.sources.market import AS_OF, report_keys, write_local, write_partitioned
from tests.test_spark_engine import mismatches

pytestmark = pytest.mark.spark
NOW = datetime(2026, 12, 1)


def on_duckdb(uri: str):  # noqa: ANN201
    with DuckDBEngine() as engine:
        report = load_folder(uri, engine, now=NOW)
        return report, build_features(engine, AS_OF).sort_by("account_id")


def on_spark(uri: str, engine):  # noqa: ANN001, ANN201
    from accountrisk.features.spark import load_folder_spark

    report = load_folder_spark(uri, engine, now=NOW)
    return report, build_features(engine, AS_OF).sort_by("account_id")


@pytest.fixture(scope="module")
def partitioned(tmp_path_factory):
    root = tmp_path_factory.mktemp("spark-sources")
    return str(write_partitioned(write_local(root / "local", accounts=200, seed=3),
                                 root / "partitioned"))


def test_a_partitioned_folder_on_spark_equals_duckdb(partitioned, spark_engine):
    want_report, want = on_duckdb(partitioned)
    got_report, got = on_spark(partitioned, spark_engine)
    assert report_keys(got_report) == report_keys(want_report)
    assert got_report.quarantined == want_report.quarantined
    assert got_report.loaded_rows == want_report.loaded_rows
    assert ("activity", "kind", "unknown_value") not in got_report.quarantined
    assert got.num_rows == want.num_rows > 100
    assert mismatches(want, got) == []


def test_postgres_on_spark_equals_duckdb(market, spark_engine):
    want_report, want = on_duckdb(market["local"])
    got_report, got = on_spark(market["postgres"], spark_engine)
    assert report_keys(got_report) == report_keys(want_report)
    assert mismatches(want, got) == []


def test_s3_on_spark_is_read_by_the_executors_and_equals_duckdb(market, spark_engine):
    # pyspark ships without Hadoop's S3A connector: the objects are read through pyarrow in
    # Spark's Python workers (a Python data source), not on the driver.
    from accountrisk.features.sources.spark_objects import has_s3a

    assert not has_s3a(spark_engine), "this test is about a Spark without hadoop-aws"
    want_report, want = on_duckdb(market["local"])
    got_report, got = on_spark(market["s3"], spark_engine)
    assert report_keys(got_report) == report_keys(want_report)
    assert got_report.quarantined == want_report.quarantined
    assert got_report.loaded_rows == want_report.loaded_rows
    assert mismatches(want, got) == []


def test_hive_partition_values_are_read_from_object_paths():
    from accountrisk.features.sources.spark_objects import partition_values

    assert partition_values("b/m/sessions/dt=2026-10-01/kind=a%2Fb/part-0.parquet",
                            "b/m/sessions") == {"dt": "2026-10-01", "kind": "a/b"}
    assert partition_values("b/m/sessions/dt=__HIVE_DEFAULT_PARTITION__/p.parquet",
                            "b/m/sessions/") == {"dt": None}
    assert partition_values("b/m/sessions.parquet", None) == {}
