"""A Spark JVM out of memory, told as a :class:`~.errors.SparkMemoryError` that names the
setting to raise, instead of a Py4J traceback.

Two shapes reach Python: a ``Py4JJavaError`` whose Java text holds
``java.lang.OutOfMemoryError`` (the JVM survived, e.g. the driver collecting too much), or
a dead connection (``Py4JError``, ``ConnectionError``) because the JVM exited: in local
mode the driver is the executor, and Spark ends the JVM after an OutOfMemoryError in a
task with exit code 52.
"""

from __future__ import annotations

import logging
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

from .errors import AccountRiskError, SparkMemoryError

# The broadcast one is Spark's own text for a broadcast table that did not fit the heap.
OOM_MARKERS = ("java.lang.OutOfMemoryError", "SparkOutOfMemoryError",
               "GC overhead limit exceeded", "Not enough memory to build and broadcast")
# SparkExitCode.OOM: the exit code of a JVM Spark ended after an OutOfMemoryError.
OOM_EXIT_CODE = 52
EXIT_WAIT_SECONDS = 10


def memory_advice(master: str, memory: str | None) -> str:
    """Which setting to raise on ``master`` and how to pass it (``memory``: its value now)."""
    now = f" (now {memory})" if memory else ""
    if master.startswith("local"):
        setting = "spark.driver.memory"
        where = f"in local mode the driver JVM runs the tasks, so raise {setting}{now}"
    else:
        setting = "spark.executor.memory"
        where = (f"on a cluster raise {setting}{now}, or spark.driver.memory when the driver "
                 "failed (collecting results)")
    return (f"{where}: `--spark-conf {setting}=8g` on the command line, or "
            f"config={{'{setting}': '8g'}} in Python; more spark.sql.shuffle.partitions "
            "also makes each task smaller")


def _java_text(error: BaseException) -> str:
    try:
        return str(error)  # a Py4JJavaError asks the JVM for its text; it may be gone
    except Exception:  # noqa: BLE001 (the JVM died while we asked)
        return ""


def _jvm_exit_code() -> int | None:
    """The exit code of the JVM this process launched, None while it runs (or unknown).
    A JVM that stopped answering gets a few seconds to finish exiting."""
    from pyspark import SparkContext

    process = getattr(SparkContext._gateway, "proc", None)
    if process is None or _jvm_answers():
        return None
    try:
        return process.wait(timeout=EXIT_WAIT_SECONDS)
    except subprocess.TimeoutExpired:
        return None


def _jvm_answers() -> bool:
    from pyspark import SparkContext

    try:
        return SparkContext._jvm is not None and bool(
            SparkContext._jvm.java.lang.System.currentTimeMillis())
    except Exception:  # noqa: BLE001 (no answer is the answer)
        return False


def translate_jvm_failure(error: BaseException, master: str,
                          memory: str | None) -> SparkMemoryError | None:
    """The :class:`SparkMemoryError` ``error`` means, or None when it is not a memory failure
    nor a dead JVM."""
    from py4j.protocol import Py4JError, Py4JJavaError

    advice = memory_advice(master, memory)
    if isinstance(error, Py4JJavaError):
        text = _java_text(error)
        if any(marker in text for marker in OOM_MARKERS):
            return SparkMemoryError(f"Spark ran out of Java heap memory "
                                    f"({first_marker(text)}); {advice}")
        if text:
            return None
    elif not isinstance(error, Py4JError | ConnectionError):
        return None
    code = _jvm_exit_code()
    if code is None:
        return None  # the JVM still runs: not a crash
    cause = ("after an OutOfMemoryError" if code == OOM_EXIT_CODE
             else f"with exit code {code}, most often out of memory")
    return SparkMemoryError(f"the Spark JVM stopped {cause}; {advice}")


def first_marker(text: str) -> str:
    """The line of ``text`` naming the memory error, e.g. ``java.lang.OutOfMemoryError:
    Java heap space``."""
    for line in text.splitlines():
        if any(marker in line for marker in OOM_MARKERS):
            start = min(line.find(m) for m in OOM_MARKERS if m in line)
            return line[start:].strip()[:200]
    return OOM_MARKERS[0]


class _SendFailureEcho(logging.Filter):
    """Drops py4j's "Exception while sending command." record: py4j logs it with its
    traceback on the *root* logger (so Python prints it even with logging unconfigured)
    just before it raises the same failure, which the block below turns into a message.
    Whether py4j logs it depends on when the dying JVM closes the socket, so without this a
    dead JVM printed a traceback on some runs and not on others."""

    def filter(self, record: logging.LogRecord) -> bool:
        from py4j.protocol import Py4JError

        error = record.exc_info[1] if record.exc_info else None
        return not (record.name == "root" and isinstance(error, Py4JError)
                    and record.getMessage() == "Exception while sending command.")


@contextmanager
def jvm_failures_explained(master: str, memory: str | None) -> Iterator[None]:
    """Raise a memory failure of the Spark JVM inside the block as :class:`SparkMemoryError`;
    every other error passes unchanged."""
    echo = _SendFailureEcho()
    logging.getLogger().addFilter(echo)
    try:
        yield
    except AccountRiskError:
        raise
    except Exception as error:
        translated = translate_jvm_failure(error, master, memory)
        if translated is None:
            raise
        raise translated from error
    finally:
        logging.getLogger().removeFilter(echo)
