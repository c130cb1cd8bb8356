"""Starting a Spark session for the pipeline: UTC, no UI, Arrow transfers, adaptive
execution, and in local mode the partition count, driver memory and throughput settings
measured on this kind of machine (docs/benchmarks.md, "DuckDB and Spark")."""

from __future__ import annotations

import os
import shutil
import sys
from typing import TYPE_CHECKING

from .errors import FeatureError

if TYPE_CHECKING:  # pyspark is an optional extra
    from pyspark.sql import SparkSession


def pyspark_sql():
    """``pyspark.sql``, or a :class:`FeatureError` saying how to install it."""
    try:
        import pyspark.sql
    except ImportError:
        raise FeatureError('the Spark engine needs pyspark: pip install "accountrisk[spark]"'
                           ) from None
    return pyspark.sql


LOCAL_DRIVER_MEMORY = "4g"
# Adaptive execution: shuffle partitions merged to their data's size, skewed join
# partitions split, and joins turned into broadcasts when a side proves small at run time.
# The broadcast threshold stays Spark's 10 MB: with 64 MB a 100k-account pass ran out of
# a 4 GB heap building a broadcast (the near-duplicate text pairs).
ADAPTIVE_SETTINGS = {"spark.sql.adaptive.enabled": "true",
                     "spark.sql.adaptive.coalescePartitions.enabled": "true",
                     "spark.sql.adaptive.skewJoin.enabled": "true"}

# Local mode only (docs/benchmarks.md, sixteenth session: -8% on a 100k pass): shuffle files
# stay on this machine's disk and page cache, so compressing them only costs the few cores
# the work needs; the throughput collector suits a batch JVM better than G1's short pauses.
LOCAL_THROUGHPUT_SETTINGS = {"spark.shuffle.compress": "false",
                             "spark.shuffle.spill.compress": "false",
                             "spark.driver.extraJavaOptions": "-XX:+UseParallelGC"}


def spark_session(master: str = "local[2]", *, app_name: str = "accountrisk",
                  config: dict[str, str] | None = None) -> SparkSession:
    """A Spark session set up for the feature pipeline (UTC, no UI, Arrow transfers).

    ``master`` is ``local[N]`` or a cluster URL; ``config`` adds or overrides settings.
    An already running session in this process is reused with the settings it was
    started with, and ``config`` applied.
    """
    sql = pyspark_sql()
    local = master.startswith("local")
    if local and shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        raise FeatureError("the Spark engine needs Java (17 or later): no `java` on PATH and "
                           "JAVA_HOME is not set")
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    # Python workers (batch scoring) must import accountrisk: use this interpreter.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    settings = {"spark.sql.session.timeZone": "UTC", "spark.ui.enabled": "false",
                "spark.sql.execution.arrow.pyspark.enabled": "true",
                "spark.ui.showConsoleProgress": "false", **ADAPTIVE_SETTINGS}
    if local:
        settings["spark.driver.host"] = "127.0.0.1"
        settings["spark.sql.shuffle.partitions"] = str(local_shuffle_partitions(master))
        # Few cores: merge small shuffle partitions up to the advisory size, not down to
        # one per core (each task costs the same fixed scheduling time).
        settings["spark.sql.adaptive.coalescePartitions.parallelismFirst"] = "false"
        # In local mode the driver JVM is the executor; Spark's default 1g is too small for
        # 1M accounts. Takes effect only when this call starts the JVM.
        settings["spark.driver.memory"] = LOCAL_DRIVER_MEMORY
        settings.update(LOCAL_THROUGHPUT_SETTINGS)
    if sql.SparkSession.getActiveSession() is not None:
        settings = {}  # a running session keeps the settings it was started with
    settings.update(config or {})
    builder = sql.SparkSession.builder.master(master).appName(app_name)
    for key, value in settings.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.conf.set("spark.sql.session.timeZone", "UTC")  # also on a reused session
    return session


def local_shuffle_partitions(master: str) -> int:
    """The starting shuffle partition count in local mode: 8 per core (at least 16), which
    adaptive execution merges down for small tables, so that a heavy stage's tasks are
    small enough to fit in memory (Spark's cluster default is 200)."""
    return max(_local_cores(master) * 8, 16)


def _local_cores(master: str) -> int:
    inside = master[master.find("[") + 1:master.find("]")] if "[" in master else "1"
    inside = inside.split(",")[0]
    if inside == "*":
        return os.cpu_count() or 2
    return max(int(inside), 1) if inside.isdigit() else 2
