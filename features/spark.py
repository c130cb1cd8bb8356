"""The feature pipeline on Apache Spark: the same signal SQL, in the Spark dialect.

:class:`SparkEngine` implements the :class:`~.engine.Engine` protocol with temporary views;
:func:`load_folder_spark` and :func:`load_tables_spark` validate and load a contract folder
(or Arrow tables) with the very rules, report and quarantine of :mod:`.load`, through
:class:`SparkSteps`. Install with ``pip install "accountrisk[spark]"``; Spark needs Java.

Timestamps are Spark ``TIMESTAMP`` values in a UTC session, so a wall-clock reading of one
is the naive UTC time DuckDB holds.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Mapping
from contextlib import AbstractContextManager
from datetime import UTC
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from . import contract
from .dialect import SPARK, Dialect
from .errors import AccountRiskError
from .load import Progress, first_line, load_sources, numbered_tables
from .load_steps import LoadSteps, Sources
from .sources import close_source, open_source
from .spark_errors import jvm_failures_explained
from .spark_session import pyspark_sql, spark_session
from .table_files import write_arrow
from .validate import Problem, ValidationReport

if TYPE_CHECKING:  # pyspark is an optional extra
    from pyspark.sql import DataFrame, SparkSession

QUARANTINE_COLUMNS = ("table_name", "row_number", "account_id", "column_name", "value",
                      "reason")
# DuckDB's names for Spark's simple types, so `columns()` reads the same on both engines.
_TYPE_NAMES = {"string": "VARCHAR", "bigint": "BIGINT", "int": "INTEGER", "tinyint": "TINYINT",
               "smallint": "SMALLINT", "double": "DOUBLE", "float": "FLOAT",
               "boolean": "BOOLEAN", "timestamp": "TIMESTAMP", "timestamp_ntz": "TIMESTAMP",
               "date": "DATE"}
PLAN_COLLECT_SECONDS = 2.0  # see SparkEngine.register


class SparkEngine:
    """The pipeline's engine on Spark: tables are temporary views over local checkpoints
    (on local disk), views stay plans; see :meth:`register`."""

    dialect: Dialect = SPARK

    def __init__(self, session: SparkSession | None = None, *, master: str = "local[2]",
                 config: dict[str, str] | None = None) -> None:
        self.master = str(session.sparkContext.master) if session is not None else master
        self.memory = (config or {}).get(_memory_setting(self.master))
        if session is None:
            active = pyspark_sql().SparkSession.getActiveSession()
            with self.explained():
                self.spark = spark_session(master, config=config)
            self._owns = active is None
        else:
            self.spark, self._owns = session, False
            session.conf.set("spark.sql.session.timeZone", "UTC")
        self.memory = self.spark.sparkContext.getConf().get(_memory_setting(self.master),
                                                            self.memory)
        self._frames: dict[str, DataFrame] = {}
        self._collected_at = time.monotonic()

    def explained(self) -> AbstractContextManager[None]:
        """A block in which the JVM running out of memory raises
        :class:`~.errors.SparkMemoryError` naming the setting to raise."""
        return jvm_failures_explained(self.master, self.memory)

    def close(self) -> None:
        try:
            for name in list(self._frames):
                self.drop([name])
        except Exception:
            if _jvm_alive(self.spark):
                raise
            return  # the JVM died (its error is being raised): nothing left to release
        if self._owns:
            self.spark.stop()

    def __enter__(self) -> SparkEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def tables(self) -> set[str]:
        # SHOW TABLES reads no table metadata (catalog.listTables() does, ~1 s).
        with self.explained():
            return {r["tableName"] for r in self.spark.sql("SHOW TABLES").collect()
                    if r["isTemporary"]}

    def columns(self, table: str) -> list[tuple[str, str]]:
        return [(name, _TYPE_NAMES.get(kind, kind.upper()))
                for name, kind in self.spark.table(table).dtypes]

    def sql(self, sql: str, params: dict | None = None) -> DataFrame:
        """A DataFrame of ``sql``; ``params`` bind its ``:name`` markers."""
        if params:
            return self.spark.sql(sql, args=_spark_args(params))
        return self.spark.sql(sql)

    def create_table(self, name: str, sql: str, params: dict | None = None) -> None:
        self.register(name, self.sql(sql, params))

    def register(self, name: str, frame: DataFrame) -> None:
        """Materialize ``frame`` and make it the view ``name`` (cuts the plan's lineage).

        A local checkpoint, not a cache: iterative stages (connected groups) read the
        previous round's table, and a cached frame keeps its whole plan, whose analysis
        then grows with every round (a lazily cached pipeline did not finish the tests).
        Blocks go to local disk (the OS keeps them in its page cache), not the heap: in
        local mode the driver's heap also builds every broadcast, outside Spark's memory
        accounting. At 100k accounts a pass took the same time either way (304 s on disk,
        300 s in memory), so the heap is left to the work that needs it."""
        with self.explained():
            done = frame.localCheckpoint(eager=True,
                                         storageLevel=_pyspark_storage().DISK_ONLY)
        self._show(name, done, owns=done)
        # py4j caches each Java object's methods on it, so every plan Python touched sits
        # in a reference cycle and lets go of its JVM side only on Python's cyclic
        # collection, which a pipeline allocating little runs rarely. Until then the JVM
        # keeps the plans' broadcast tables: a 100k-account pass grew the driver's live
        # heap past 2 GB and died building the next broadcast (default 4g); collecting
        # here keeps it near 200 MB. At most every PLAN_COLLECT_SECONDS: a full collection
        # in a process holding millions of objects takes ~0.1 s, more than a small step.
        now = time.monotonic()
        if now - self._collected_at >= PLAN_COLLECT_SECONDS:
            gc.collect()
            self._collected_at = time.monotonic()

    def create_view(self, name: str, sql: str) -> None:
        self.spark.sql(sql).createOrReplaceTempView(name)

    def adopt(self, name: str, frame: DataFrame, of: str) -> None:
        """Make ``frame``, a cheap projection of the materialized table ``of``, the view
        ``name``; ``name`` then owns ``of``'s materialized rows, which dropping ``of`` keeps."""
        self._show(name, frame, owns=self._frames.pop(of))

    def _show(self, name: str, frame: DataFrame, *, owns: DataFrame) -> None:
        """Make ``frame`` the view ``name``, which owns the materialized ``owns`` (freed
        when ``name`` is dropped or replaced); the rows ``name`` owned before are freed."""
        frame.createOrReplaceTempView(name)
        old = self._frames.pop(name, None)
        if old is not None:
            old.unpersist()
        self._frames[name] = owns

    def create_table_from_arrow(self, name: str, table: pa.Table) -> None:
        self.register(name, _arrow_frame(self, table))

    def drop(self, names: list[str]) -> None:
        for name in names:
            self.spark.catalog.dropTempView(name)
            frame = self._frames.pop(name, None)
            if frame is not None:
                frame.unpersist()

    def arrow(self, sql: str) -> pa.Table:
        with self.explained():
            table = self.spark.sql(sql).toArrow()
        # Same column types as DuckDB's result (Spark hands strings back as large_string).
        fields = [pa.field(f.name, pa.string() if pa.types.is_large_string(f.type) else f.type)
                  for f in table.schema]
        return table.cast(pa.schema(fields))

    def write_file(self, sql: str, path: Path) -> None:
        write_arrow(self.arrow(sql), path)  # one file: the driver holds the rows anyway

    def scalar(self, sql: str, params: dict | None = None) -> object:
        with self.explained():
            rows = self.sql(sql, params).take(1)
        return rows[0][0] if rows else None

    def quote(self, identifier: str) -> str:
        return self.dialect.quote(identifier)

    def load_steps(self) -> LoadSteps:
        return SparkSteps(self)


def _pyspark_storage() -> Any:
    from pyspark import StorageLevel

    return StorageLevel


def _memory_setting(master: str) -> str:
    return "spark.driver.memory" if master.startswith("local") else "spark.executor.memory"


def _jvm_alive(session: SparkSession) -> bool:
    try:
        return not session.sparkContext._jsc.sc().isStopped()
    except Exception:  # noqa: BLE001 (no answer: the JVM is gone)
        return False


def _spark_args(params: dict) -> dict:
    """Bound values as Spark takes them: a naive datetime is UTC (Python's local time
    otherwise)."""
    out: dict[str, Any] = {}
    for key, value in params.items():
        if hasattr(value, "tzinfo") and hasattr(value, "hour") and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        out[key] = value
    return out


class SparkSteps:
    """The :class:`~.load_steps.LoadSteps` of :func:`.load.load_sources` on Spark
    (temporary views).

    Spark has no INSERT into a view: each table's quarantined rows are materialized apart
    and ``quarantine`` is the union of them, with the DuckDB table's columns.
    """

    def __init__(self, engine: SparkEngine) -> None:
        self.engine, self.d = engine, engine.dialect
        self._quarantine: list[DataFrame] = []
        # A new load replaces the previous one: no contract table of an earlier folder stays.
        engine.drop([n for n in engine.tables()
                     if n in contract.TABLE_BY_NAME or n == "quarantine"])

    def reference(self, name: str, column: str, values: list[str]) -> None:
        frame = self.engine.spark.createDataFrame(pa.table({column: pa.array(values,
                                                                              pa.string())}))
        self.engine.register(name, frame)

    def new_quarantine(self) -> None:
        self._quarantine = []
        self.engine.create_table("quarantine", "SELECT " + ", ".join(
            f"CAST(NULL AS {kind}) AS {name}" for name, kind in zip(
                QUARANTINE_COLUMNS, ("STRING", "BIGINT", "STRING", "STRING", "STRING",
                                     "STRING"))) + " WHERE 1 = 0")

    def add_quarantine(self, table_name: str, select: str, params: dict) -> None:
        rows = self.engine.sql(f"SELECT '{table_name}', * FROM ({select}) AS q", params)
        # One partition: quarantined rows are few, and every later look-up would otherwise
        # run a task per partition of every branch of every table's union.
        self._quarantine.append(rows.toDF(*QUARANTINE_COLUMNS).coalesce(1).localCheckpoint())
        union = self._quarantine[0]
        for part in self._quarantine[1:]:
            union = union.unionAll(part)
        self.engine.register("quarantine", union.coalesce(1))

    def temp_table(self, name: str, select: str, params: dict | None = None) -> None:
        self.engine.create_table(name, select, params)

    def clean_table(self, name: str, select: str, params: dict | None = None, *,
                    every_row_of: str | None = None) -> None:
        if every_row_of is None:
            self.engine.create_table(name, select, params)
            return
        # Nothing quarantined: the contract's types over the raw rows already materialized,
        # not a second copy of every row (the copies took a quarter of a 1M-account load).
        self.engine.adopt(name, self.engine.sql(select, params), every_row_of)

    def drop_temp(self, name: str) -> None:
        self.engine.drop([name])

    def rows(self, sql: str, params: dict | None = None) -> list[tuple]:
        with self.engine.explained():
            return [tuple(r) for r in self.engine.sql(sql, params).collect()]

    def scalar(self, sql: str, params: dict | None = None) -> object:
        return self.engine.scalar(sql, params)

    def release(self, sources: Sources) -> None:
        self.engine.drop([source for _, source, _ in sources.values()])


def load_folder_spark(data_dir: str | Path, engine: SparkEngine,
                      **options) -> ValidationReport:
    """:func:`.load.load_folder` on Spark: validate the contract source ``data_dir`` (a
    folder, dataset folders, ``s3://`` or ``postgresql://``; see :mod:`.sources.spark`)
    and load its clean rows as views named as the contract's tables (quarantined rows in
    ``quarantine``). Options: ``now``, ``max_quarantine_ratio``, ``progress``."""
    from .sources.spark import spark_frame

    report = ValidationReport()
    source = open_source(data_dir)
    try:
        found = source.tables(report)
        if found is None:
            return report
        sources: Sources = {}
        for name, table in found.items():
            try:
                frame = spark_frame(engine, source.uri, table)
            except AccountRiskError:
                raise
            except Exception as error:  # noqa: BLE001 (a table read on the driver failed)
                report.add(Problem("reject", name, None, "unreadable_file",
                                   f"{table.label} could not be read: {first_line(error)}",
                                   f"re-export {table.label}, then validate again"))
                continue
            engine.spark.catalog.dropTempView(f"_src_{name}")
            frame.createOrReplaceTempView(f"_src_{name}")
            sources[name] = (table.schema, f"_src_{name}", None)
        labels = {name: table.label for name, table in found.items()}
        return load_sources(sources, engine.load_steps(), report, labels=labels, **options)
    finally:
        close_source(source)


def spark_arrow_type(kind: pa.DataType) -> pa.DataType:
    """The Arrow type a column takes on its way into Spark: dictionaries decoded, naive
    timestamps UTC (in microseconds, Spark's unit), large and view strings plain."""
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    if pa.types.is_timestamp(kind):
        return pa.timestamp("us", tz=kind.tz or "UTC")
    if pa.types.is_large_string(kind) or pa.types.is_string_view(kind):
        return pa.string()
    return kind


def _arrow_frame(engine: SparkEngine, table: pa.Table) -> DataFrame:
    """A DataFrame of an Arrow table, its columns as :func:`spark_arrow_type` says."""
    columns = [column if column.type == spark_arrow_type(column.type)
               else column.cast(spark_arrow_type(column.type), safe=False)
               for column in table.columns]
    return engine.spark.createDataFrame(pa.table(columns, names=table.column_names))


def load_tables_spark(tables: Mapping[str, pa.Table], engine: SparkEngine,
                      **options) -> ValidationReport:
    """:func:`.load.load_tables` on Spark: validate in-memory Arrow tables named as the
    contract's and load their clean rows."""
    report = ValidationReport()
    sources: Sources = {}
    for name, numbered in numbered_tables(tables, report).items():
        _arrow_frame(engine, numbered).createOrReplaceTempView(f"_arrow_{name}")
        sources[name] = (tables[name].schema, f"_arrow_{name}", None)
    return load_sources(sources, engine.load_steps(), report, **options)


__all__ = ["SparkEngine", "SparkSteps", "load_folder_spark", "load_tables_spark",
           "spark_session", "Progress"]
