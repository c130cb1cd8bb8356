"""Spark reading Parquet objects in S3 through pyarrow on its executors, for a Spark whose
classpath lacks Hadoop's S3A connector (pyspark ships without it). Imports pyspark: import
it only where Spark runs.

A Python data source (Spark's ``pyspark.sql.datasource`` API): the driver lists the
objects and sends one input partition per object; each executor's Python worker opens its
object with pyarrow's S3 filesystem (the same endpoint and credentials as the driver's AWS
variables, passed as options) and yields Arrow batches. So the data never passes through
the driver. The rows carry what :func:`.spark.spark_frame` numbers them by: the object's
path and the row's position in it. Hive partition values are read as text, as Spark's own
Parquet reader is told to (the load casts them to the contract's types).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import asdict
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

import pyarrow as pa
from pyspark.sql.datasource import DataSource, DataSourceReader, InputPartition

from ..spark import spark_arrow_type
from .base import FoundTable
from .s3 import S3Settings

if TYPE_CHECKING:  # pyspark is an optional extra
    from pyspark.sql import DataFrame

    from ..spark import SparkEngine

SOURCE_NAME = "accountrisk_parquet_objects"
S3A_CLASS = "org.apache.hadoop.fs.s3a.S3AFileSystem"
HIVE_NULL = "__HIVE_DEFAULT_PARTITION__"
BATCH_ROWS = 65_536
FILE, FILE_ROW = "_file", "_file_row"


def has_s3a(engine: SparkEngine) -> bool:
    """Whether Hadoop's S3A connector is on the Spark session's classpath."""
    jvm: Any = engine.spark.sparkContext._jvm
    try:
        jvm.org.apache.spark.util.Utils.classForName(S3A_CLASS, False, False)
        return True
    except Exception:  # noqa: BLE001 (py4j wraps the JVM's ClassNotFoundException)
        return False


def partition_values(path: str, base_dir: str | None) -> dict[str, str | None]:
    """The Hive partition values in ``path`` below ``base_dir`` (``dt=2026-10-01/``)."""
    if base_dir is None or not path.startswith(base_dir.rstrip("/") + "/"):
        return {}
    values: dict[str, str | None] = {}
    for segment in path[len(base_dir.rstrip("/")) + 1:].split("/")[:-1]:
        key, equals, value = segment.partition("=")
        if equals:
            text = unquote(value)
            values[unquote(key)] = None if text == HIVE_NULL else text
    return values


def objects_frame(engine: SparkEngine, table: FoundTable) -> DataFrame:
    """``table``'s objects as a DataFrame read by the executors, with ``_file`` (the
    object's path) and ``_file_row`` (the row's 0-based position in it)."""
    from pyspark.sql.pandas.types import from_arrow_schema

    parts = [partition_values(path, table.base_dir) for path in table.files]
    keys = list(dict.fromkeys(k for values in parts for k in values))
    fields = [pa.field(f.name, pa.string() if f.name in keys else spark_arrow_type(f.type))
              for f in table.schema]
    fields += [pa.field(k, pa.string()) for k in keys if k not in table.schema.names]
    target = pa.schema([*fields, pa.field(FILE, pa.string()), pa.field(FILE_ROW, pa.int64())])
    _register(engine)
    files = [[path, values] for path, values in zip(table.files, parts)]
    return (engine.spark.read.format(SOURCE_NAME)
            .schema(from_arrow_schema(target, prefer_timestamp_ntz=False))
            .option("files", json.dumps(files))
            .option("arrow_schema", base64.b64encode(target.serialize().to_pybytes()).decode())
            # "secret" in the name: Spark redacts the option wherever it shows a plan
            .option("s3_secret", json.dumps(asdict(S3Settings.from_environment())))
            .load())


def _register(engine: SparkEngine) -> None:
    engine.spark.dataSource.register(ParquetObjects)


class ObjectsReader(DataSourceReader):
    """One input partition per object; each is read by :func:`read_object`."""

    def __init__(self, options: dict[str, str]) -> None:
        self.files = json.loads(options["files"])
        self.arrow_schema = options["arrow_schema"]
        self.settings = json.loads(options["s3_secret"])

    def partitions(self) -> list[InputPartition]:
        return [InputPartition(i) for i in range(len(self.files))]

    def read(self, partition: InputPartition) -> Iterator[pa.RecordBatch]:
        path, values = self.files[partition.value]
        schema = pa.ipc.read_schema(pa.py_buffer(base64.b64decode(self.arrow_schema)))
        yield from read_object(path, values, schema, S3Settings(**self.settings))


class ParquetObjects(DataSource):
    """The data source Spark knows as :data:`SOURCE_NAME` (options: see
    :func:`objects_frame`)."""

    @classmethod
    def name(cls) -> str:
        return SOURCE_NAME

    def reader(self, schema: Any) -> DataSourceReader:
        return ObjectsReader(dict(self.options))


def read_object(path: str, values: dict[str, str | None], schema: pa.Schema,
                settings: S3Settings) -> Iterator[pa.RecordBatch]:
    """One object's rows as ``schema``'s batches (run on an executor)."""
    import pyarrow.parquet as pq

    from .s3 import s3_filesystem

    with s3_filesystem(settings).open_input_file(path) as handle:
        parquet = pq.ParquetFile(handle)
        present = set(parquet.schema_arrow.names)
        columns = [f.name for f in schema if f.name in present and f.name not in values]
        offset = 0
        for batch in parquet.iter_batches(batch_size=BATCH_ROWS, columns=columns):
            n = batch.num_rows
            arrays = []
            for field in schema:
                if field.name == FILE:
                    arrays.append(pa.array([path] * n, pa.string()))
                elif field.name == FILE_ROW:
                    arrays.append(pa.array(range(offset, offset + n), pa.int64()))
                elif field.name in values:
                    arrays.append(pa.array([values[field.name]] * n, pa.string()))
                elif field.name in present:
                    arrays.append(batch.column(field.name).cast(field.type, safe=False))
                else:  # a column this object lacks: unknown in its rows
                    arrays.append(pa.nulls(n, field.type))
            offset += n
            yield pa.RecordBatch.from_arrays(arrays, schema=schema)
