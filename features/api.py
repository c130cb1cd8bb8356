"""The features layer's entry points: from a contract folder to a feature table."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Literal

import pyarrow as pa

from .errors import FeatureError
from .pipeline import Progress, build_features, parse_as_of
from .validate import require_usable
from .workspace import DEFAULT_WORKDIR, ensure_loaded, open_database

ENGINES = ("duckdb", "spark")
DEFAULT_SPARK_MASTER = "local[2]"


def compute_features(data_dir: str | Path, as_of: str | datetime, *,
                     workdir: str | Path = DEFAULT_WORKDIR, memory_limit: str | None = None,
                     threads: int | None = None, progress: Progress | None = None,
                     engine: Literal["duckdb", "spark"] = "duckdb",
                     master: str | None = None) -> pa.Table:
    """Validate and load ``data_dir`` (reusing the work directory's database when it holds
    the same folder), then compute every signal as of ``as_of``.

    ``engine="spark"`` runs the same signal definitions on Apache Spark (``master``, default
    ``local[2]``; needs ``pip install "accountrisk[spark]"`` and Java); the work directory,
    memory limit and threads are DuckDB's and do not apply there.

    Raises :class:`ContractError` listing every rejection when the folder is not usable.
    """
    if engine not in ENGINES:
        raise FeatureError(f"unknown engine {engine!r}; use one of {', '.join(ENGINES)}")
    if master is not None and engine != "spark":
        raise FeatureError("a Spark master is given but the engine is not spark")
    moment = parse_as_of(as_of)  # fail on a bad time before any work

    def load_progress(step: str, done: int, total: int) -> None:
        if progress:
            progress(step, done * 0.3 / max(total, 1), 1.0)

    def feature_progress(step: str, done: int, total: int) -> None:
        if progress:
            progress(step, 0.3 + done * 0.7 / max(total, 1), 1.0)

    if engine == "spark":
        from .spark import SparkEngine, load_folder_spark

        with SparkEngine(master=master or DEFAULT_SPARK_MASTER) as spark:
            require_usable(load_folder_spark(data_dir, spark, progress=load_progress),
                            data_dir)
            return build_features(spark, moment, progress=feature_progress)
    with open_database(workdir, memory_limit=memory_limit, threads=threads) as duck:
        require_usable(ensure_loaded(duck, data_dir, progress=load_progress), data_dir)
        return build_features(duck, moment, progress=feature_progress)
