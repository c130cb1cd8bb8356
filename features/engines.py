"""Choosing and opening an engine: the one entry point every command and API uses.

``open_engine("duckdb")`` opens the work directory's embedded database; ``open_engine(
"spark")`` a Spark session (``local[2]`` unless a master URL is given; Spark settings
such as ``spark.driver.memory`` go in ``spark_conf``). With ``data_dir``
the folder is validated and loaded into it first (a usable DuckDB load is reused), and a
folder that does not meet the contract raises :class:`~.errors.ContractError`. An unknown
engine, or a Spark master without Spark, is a :class:`~.errors.UsageError`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from .dialect import DIALECTS, DUCKDB, SPARK, dialect_for
from .engine import Engine
from .errors import UsageError
from .load import Progress
from .validate import require_usable
from .workspace import DEFAULT_WORKDIR, ensure_loaded, open_database, open_loaded_read_only

ENGINES = tuple(DIALECTS)
DEFAULT_ENGINE = DUCKDB.name
DEFAULT_SPARK_MASTER = "local[2]"


def check_engine(kind: str, master: str | None = None,
                 spark_conf: Mapping[str, str] | None = None) -> None:
    """Raise :class:`UsageError` for an unknown engine, or a master or Spark settings
    without Spark."""
    dialect = dialect_for(kind)  # an unknown engine raises, listing the known ones
    if master is not None and dialect is not SPARK:
        raise UsageError("a Spark master URL is given but the engine is not spark; add "
                         "--engine spark or drop --master")
    if spark_conf and dialect is not SPARK:
        raise UsageError(f"Spark settings ({', '.join(sorted(spark_conf))}) are given but "
                         "the engine is not spark; add --engine spark or drop --spark-conf")


@contextmanager
def open_engine(kind: str = DEFAULT_ENGINE, *, data_dir: str | Path | None = None,
                workdir: str | Path = DEFAULT_WORKDIR, memory_limit: str | None = None,
                threads: int | None = None, master: str | None = None,
                spark_conf: Mapping[str, str] | None = None,
                progress: Progress | None = None) -> Iterator[Engine]:
    """An open engine of ``kind``, with ``data_dir`` loaded when given (see the module doc).
    ``workdir``, ``memory_limit`` and ``threads`` are DuckDB's; ``master`` and
    ``spark_conf`` (Spark settings such as ``spark.driver.memory``) are Spark's."""
    check_engine(kind, master, spark_conf)
    with _OPENERS[kind](data_dir=data_dir, workdir=workdir, memory_limit=memory_limit,
                        threads=threads, master=master, spark_conf=spark_conf,
                        progress=progress) as engine:
        yield engine


@contextmanager
def _open_duckdb(*, data_dir: str | Path | None, workdir: str | Path,
                 memory_limit: str | None, threads: int | None, progress: Progress | None,
                 **_spark_options: object) -> Iterator[Engine]:
    if data_dir is not None:
        reader = open_loaded_read_only(workdir, data_dir, memory_limit=memory_limit,
                                       threads=threads)
        if reader is not None:  # already loaded: read-only, other readers welcome
            with reader as duck:
                _overlay_decisions(duck, workdir)
                yield duck
            return
    with open_database(workdir, memory_limit=memory_limit, threads=threads) as duck:
        if data_dir is not None:
            # The work directory keeps a usable load of the same folder: reuse it.
            require_usable(ensure_loaded(duck, data_dir, progress=progress), data_dir)
            _overlay_decisions(duck, workdir)
        yield duck


def _overlay_decisions(engine: Engine, workdir: str | Path) -> None:
    """Reviewer decisions of the work directory join the loaded ``labels`` (on this
    connection only; see :mod:`accountrisk.training.review.labels`)."""
    from ..training.review.labels import overlay_decisions

    overlay_decisions(engine, workdir)


@contextmanager
def _open_spark(*, data_dir: str | Path | None, master: str | None,
                spark_conf: Mapping[str, str] | None, progress: Progress | None,
                workdir: str | Path, **_duckdb_options: object) -> Iterator[Engine]:
    from .spark import SparkEngine, load_folder_spark  # pyspark is an optional extra

    with SparkEngine(master=master or DEFAULT_SPARK_MASTER,
                     config=dict(spark_conf or {})) as spark, spark.explained():
        if data_dir is not None:
            require_usable(load_folder_spark(data_dir, spark, progress=progress), data_dir)
            _overlay_decisions(spark, workdir)
        yield spark


_OPENERS: dict[str, Callable[..., AbstractContextManager[Engine]]] = {
    DUCKDB.name: _open_duckdb, SPARK.name: _open_spark}
