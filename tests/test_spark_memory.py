"""Spark settings and out-of-memory messages: a Java OutOfMemoryError or a JVM that exited
becomes a SparkMemoryError naming the setting to raise; --spark-conf reaches the session.

The errors are real: a JVM call that throws OutOfMemoryError without filling the heap (an
array larger than any heap), and a JVM in a child process that exits with Spark's
out-of-memory exit code. A task filling a tiny heap is not run here (slow and timing-bound).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from typer.testing import CliRunner

from accountrisk.features.errors import SparkMemoryError
from accountrisk.plugin.cli import app

runner = CliRunner()


def java_heap_error(engine):
    """The Py4JJavaError of allocating a 16 GiB array in the engine's JVM (an
    OutOfMemoryError thrown before any memory is taken, since no heap holds it)."""
    from py4j.protocol import Py4JJavaError

    jvm = engine.spark.sparkContext._jvm
    with pytest.raises(Py4JJavaError) as caught:
        jvm.java.lang.reflect.Array.newInstance(jvm.java.lang.Long.TYPE, 2**31 - 2)
    return caught.value


@pytest.mark.spark
def test_java_out_of_memory_names_driver_memory_in_local_mode(spark_engine):
    from accountrisk.features.spark_errors import jvm_failures_explained

    error = java_heap_error(spark_engine)
    with pytest.raises(SparkMemoryError) as caught, jvm_failures_explained("local[2]", "4g"):
        raise error
    message = str(caught.value)
    assert "(java.lang.OutOfMemoryError: " in message
    assert "spark.driver.memory (now 4g)" in message
    assert "--spark-conf spark.driver.memory=8g" in message
    assert caught.value.__cause__ is error


@pytest.mark.spark
def test_java_out_of_memory_names_executor_memory_on_a_cluster(spark_engine):
    from accountrisk.features.spark_errors import translate_jvm_failure

    translated = translate_jvm_failure(java_heap_error(spark_engine), "spark://host:7077",
                                       None)
    assert translated is not None
    assert "raise spark.executor.memory" in str(translated)
    assert "--spark-conf spark.executor.memory=8g" in str(translated)


@pytest.mark.spark
def test_other_java_errors_pass_unchanged(spark_engine):
    from pyspark.errors import AnalysisException

    from accountrisk.features.spark_errors import jvm_failures_explained

    with pytest.raises(AnalysisException), jvm_failures_explained("local[2]", "4g"):
        spark_engine.sql("SELECT no_such_column FROM range(1)").collect()
    with pytest.raises(ZeroDivisionError), jvm_failures_explained("local[2]", "4g"):
        _ = 1 / 0


@pytest.mark.spark
def test_engine_session_is_adaptive_and_config_wins(spark_engine):
    conf = spark_engine.spark.conf
    assert conf.get("spark.sql.adaptive.enabled") == "true"
    assert conf.get("spark.sql.adaptive.skewJoin.enabled") == "true"
    # the fixture's own setting beats the local default (16 for local[2])
    assert conf.get("spark.sql.shuffle.partitions") == "2"


EXITED_JVM = textwrap.dedent("""
    from accountrisk.features.errors import SparkMemoryError
    from accountrisk.features.spark import SparkEngine

    with SparkEngine(master="local[1]", config={"spark.driver.memory": "512m"}) as engine:
        engine.create_table("t", "SELECT id FROM range(5)")
        try:
            with engine.explained():
                # Spark's exit after an OutOfMemoryError in a task (SparkExitCode.OOM)
                engine.spark.sparkContext._jvm.java.lang.System.exit(52)
        except SparkMemoryError as error:
            print("TRANSLATED", error)
""")


@pytest.mark.spark
def test_jvm_that_exited_out_of_memory_is_told_and_closes_quietly(spark_engine):
    done = subprocess.run([sys.executable, "-c", EXITED_JVM], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "TRANSLATED the Spark JVM stopped after an OutOfMemoryError" in done.stdout
    assert "spark.driver.memory (now 512m)" in done.stdout
    assert "Traceback" not in done.stderr


def test_py4js_echo_of_a_failed_send_is_dropped_inside_the_block_only():
    """py4j logs "Exception while sending command." with a traceback on the root logger
    before raising; inside the block that record goes (the error itself still rises),
    other records and the same record outside the block stay."""
    import logging

    from py4j.protocol import Py4JNetworkError

    from accountrisk.features.spark_errors import jvm_failures_explained

    seen: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = seen.append  # type: ignore[method-assign]
    root = logging.getLogger()
    root.addHandler(handler)

    def send() -> None:
        try:
            raise Py4JNetworkError("Error while receiving")
        except Py4JNetworkError:
            logging.exception("Exception while sending command.")
            logging.error("another record")
            raise

    try:
        with pytest.raises(Py4JNetworkError), jvm_failures_explained("local[2]", "4g"):
            send()
        with pytest.raises(Py4JNetworkError):
            send()
    finally:
        root.removeHandler(handler)
    assert [r.getMessage() for r in seen] == [
        "another record", "Exception while sending command.", "another record"]


def test_spark_conf_must_be_key_value(tmp_path):
    result = runner.invoke(app, ["features", str(tmp_path), "--as-of", "2026-01-01", "--out",
                                 str(tmp_path / "f.parquet"), "--engine", "spark",
                                 "--spark-conf", "spark.driver.memory"])
    assert result.exit_code == 2
    assert "is not KEY=VALUE" in result.output


@pytest.mark.parametrize("command", ["features", "score", "train"])
def test_spark_conf_needs_the_spark_engine(tmp_path, command):
    args = [command, str(tmp_path), "--as-of", "2026-01-01", "--spark-conf",
            "spark.driver.memory=8g"]
    if command != "train":
        args += ["--out", str(tmp_path / "f.parquet")]
    result = runner.invoke(app, args)
    assert result.exit_code != 0
    assert "--spark-conf needs --engine spark" in result.output



@pytest.mark.spark
def test_a_registered_plan_lets_go_of_its_jvm_side(spark_engine, monkeypatch):
    # The Java object of a plan stays alive (and, in the JVM, its broadcast tables) while
    # Python holds it; py4j puts it in a reference cycle, so only a cyclic collection frees
    # it. The next table's registration must collect it (once the interval has passed).
    import weakref

    from accountrisk.features import spark as spark_module

    monkeypatch.setattr(spark_module, "PLAN_COLLECT_SECONDS", 0.0)
    frame = spark_engine.sql("SELECT id AS x FROM range(10)")
    java_side = weakref.ref(frame._jdf)
    spark_engine.register("plan_released_a", frame)
    del frame
    spark_engine.register("plan_released_b", spark_engine.sql("SELECT 2 AS x"))
    assert java_side() is None
    spark_engine.drop(["plan_released_a", "plan_released_b"])
