"""Spark's reading of a contract source, without the driver's local filesystem in between.

Parquet files and dataset folders (Hive partitions included) are read by Spark itself:
local paths as they are, S3 objects as ``s3a://bucket/key`` with the endpoint and
credentials of the same AWS variables when Hadoop's S3A connector (the ``hadoop-aws`` jar)
is on Spark's classpath, else by the executors through pyarrow (:mod:`.spark_objects`).
Rows are numbered as the DuckDB load numbers them: across a dataset's files in path order.
PostgreSQL tables are read through ADBC on the driver, in Arrow batches, and handed to
Spark from there (no JDBC driver jar needed).
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from .base import FoundTable
from .s3 import S3Settings
from .uri import SourceURI

if TYPE_CHECKING:  # pyspark is an optional extra
    from pyspark.sql import DataFrame

    from ..spark import SparkEngine

_INFER = "spark.sql.sources.partitionColumnTypeInference.enabled"


def spark_frame(engine: SparkEngine, uri: SourceURI, table: FoundTable) -> DataFrame:
    """The rows of ``table`` as a DataFrame with their 0-based ``file_row_number``."""
    from ..spark import _arrow_frame

    nanoseconds = any(pa.types.is_timestamp(f.type) and f.type.unit == "ns"
                      for f in table.schema)
    if uri.scheme == "postgresql" or nanoseconds:
        # Spark does not read nanosecond timestamps (DuckDB keeps their microseconds); a
        # database arrives as Arrow batches on the driver.
        return _arrow_frame(engine, table.read().read_all())
    if uri.scheme == "s3":
        from .spark_objects import has_s3a, objects_frame

        if not has_s3a(engine):
            return _numbered(objects_frame(engine, table))
        configure_s3a(engine)
    paths = [spark_path(uri, f) for f in table.files]
    reader = engine.spark.read
    if table.base_dir is not None:
        reader = reader.option("basePath", spark_path(uri, table.base_dir))
    with _partition_values_as_text(engine):
        frame = reader.parquet(*paths)
    if len(paths) == 1:
        return frame.selectExpr("*", "_metadata.row_index AS file_row_number")
    located = frame.selectExpr("*", "_metadata.file_path AS _file",
                               "_metadata.row_index AS _file_row")
    return _offset_numbered(located)


def _offset_numbered(located: DataFrame) -> DataFrame:
    """Rows numbered across files in path order: each file's rows start after the row
    counts of the files before it. Counting rows per file reads only Parquet metadata, and
    the offsets (one row per file) join as a broadcast, so the rows stay in their
    partitions; a window over all rows would sort the whole table in one task."""
    from pyspark.sql.functions import broadcast

    offsets = located.groupBy("_file").count().selectExpr(
        "_file", "coalesce(sum(count) OVER (ORDER BY _file ROWS BETWEEN UNBOUNDED PRECEDING "
                 "AND 1 PRECEDING), 0) AS _offset")
    numbered = located.join(broadcast(offsets), "_file").selectExpr(
        "*", "_offset + _file_row AS file_row_number")
    return numbered.drop("_file", "_file_row", "_offset")


def _numbered(located: DataFrame) -> DataFrame:
    """Rows numbered across files in path order (``_file``, then ``_file_row``); for
    objects read through pyarrow, whose per-file counts would cost a second download."""
    numbered = located.selectExpr(
        "*", "row_number() OVER (ORDER BY _file, _file_row) - 1 AS file_row_number")
    return numbered.drop("_file", "_file_row")


def spark_path(uri: SourceURI, path: str) -> str:
    """A filesystem path of the source as Spark names it (``s3a://`` for S3)."""
    return f"s3a://{path}" if uri.scheme == "s3" else path


@contextmanager
def _partition_values_as_text(engine: SparkEngine) -> Any:
    """Partition values read as strings: the load casts them to the contract's types
    (inferred types would, say, read the id ``007`` as the number 7)."""
    before = engine.spark.conf.get(_INFER, "true")
    engine.spark.conf.set(_INFER, "false")
    try:
        yield
    finally:
        engine.spark.conf.set(_INFER, before or "true")


def configure_s3a(engine: SparkEngine) -> None:
    """Point Hadoop's S3A connector at the AWS variables' endpoint and credentials."""
    s = S3Settings.from_environment()
    conf = engine.spark.sparkContext._jsc.hadoopConfiguration()
    if s.endpoint:
        conf.set("fs.s3a.endpoint", f"{s.scheme}://{s.endpoint}")
        conf.set("fs.s3a.path.style.access", "true")
        conf.set("fs.s3a.connection.ssl.enabled", str(s.scheme == "https").lower())
    if s.access_key and s.secret_key:
        conf.set("fs.s3a.access.key", s.access_key)
        conf.set("fs.s3a.secret.key", s.secret_key)
        if s.session_token:
            conf.set("fs.s3a.session.token", s.session_token)
    if s.region:
        conf.set("fs.s3a.endpoint.region", s.region)
