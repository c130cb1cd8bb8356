"""Spark reads the same sources: partitioned dataset folders (by Spark itself), S3 (by the
executors through pyarrow, as this Spark has no S3A connector) and PostgreSQL (through ADBC
on the driver) give DuckDB's report and loaded tables, row for row; from S3 also its
features. (That Spark computes DuckDB's features from the same loaded tables is tested in
tests/test_spark_engine.py; a feature pass on Spark costs ~30 s, so it is not repeated per
source.)"""

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


def on_duckdb(uri: str, features: bool = True):  # noqa: ANN201
    with DuckDBEngine() as engine:
        report = load_folder(uri, engine, now=NOW)
        return report, loaded(engine, report), (
            build_features(engine, AS_OF).sort_by("account_id") if features else None)


def on_spark(uri: str, engine, features: bool = True):  # noqa: ANN001, ANN201
    from accountrisk.features.spark import load_folder_spark

    report = load_folder_spark(uri, engine, now=NOW)
    return report, loaded(engine, report), (
        build_features(engine, AS_OF).sort_by("account_id") if features else None)


def loaded(engine, report) -> dict[str, list[tuple]]:  # noqa: ANN001
    """Every loaded table's rows as sorted tuples, timestamps without a zone (DuckDB and
    Spark hand them back differently), so two engines' loads compare row for row."""
    out = {}
    for name in report.loaded_rows:
        rows = engine.arrow(f"SELECT * FROM {name}").to_pylist()
        out[name] = sorted((tuple((k, _plain(v)) for k, v in sorted(r.items())) for r in rows),
                           key=repr)
    return out


def _plain(value):  # noqa: ANN001, ANN202
    return value.replace(tzinfo=None) if isinstance(value, datetime) else value


@pytest.fixture(scope="module")
def partitioned(tmp_path_factory):
    root = tmp_path_factory.mktemp("spark-sources")
    return str(write_partitioned(write_local(root / "local", accounts=200, seed=3),
                                 root / "partitioned"))


def test_a_partitioned_folder_on_spark_equals_duckdb(partitioned, spark_engine):
    want_report, want, _ = on_duckdb(partitioned, features=False)
    got_report, got, _ = on_spark(partitioned, spark_engine, features=False)
    assert report_keys(got_report) == report_keys(want_report)
    assert got_report.quarantined == want_report.quarantined
    assert got_report.loaded_rows == want_report.loaded_rows
    assert ("activity", "kind", "unknown_value") not in got_report.quarantined
    assert len(got["accounts"]) == len(want["accounts"]) > 100
    assert got == want


def test_postgres_on_spark_equals_duckdb(market, spark_engine):
    want_report, want, _ = on_duckdb(market["local"], features=False)
    got_report, got, _ = on_spark(market["postgres"], spark_engine, features=False)
    assert report_keys(got_report) == report_keys(want_report)
    assert got == want


def test_s3_on_spark_is_read_by_the_executors_and_equals_duckdb(market, spark_engine):
    # pyspark ships without Hadoop's S3A connector: the objects are read through pyarrow in
    # Spark's Python workers (a Python data source), not on the driver.
    from accountrisk.features.sources.spark_objects import has_s3a

    assert not has_s3a(spark_engine), "this test is about a Spark without hadoop-aws"
    want_report, want_tables, want = on_duckdb(market["local"])
    got_report, got_tables, got = on_spark(market["s3"], spark_engine)
    assert report_keys(got_report) == report_keys(want_report)
    assert got_report.quarantined == want_report.quarantined
    assert got_report.loaded_rows == want_report.loaded_rows
    assert got_tables == want_tables
    assert mismatches(want, got) == []


def test_hive_partition_values_are_read_from_object_paths():
    from accountrisk.features.sources.spark_objects import partition_values

    assert partition_values("b/m/sessions/dt=2026-10-01/kind=a%2Fb/part-0.parquet",
                            "b/m/sessions") == {"dt": "2026-10-01", "kind": "a/b"}
    assert partition_values("b/m/sessions/dt=__HIVE_DEFAULT_PARTITION__/p.parquet",
                            "b/m/sessions/") == {"dt": None}
    assert partition_values("b/m/sessions.parquet", None) == {}
