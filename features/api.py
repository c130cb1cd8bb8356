"""The features layer's entry points: from a contract folder to a feature table."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Literal, TypeVar

import pyarrow as pa

from .engine import Engine
from .engines import open_engine
from .pipeline import Progress, build_features, parse_as_of, write_features
from .profile import StageProfile
from .table_files import file_format
from .workspace import DEFAULT_WORKDIR

Result = TypeVar("Result")


def compute_features(data_dir: str | Path, as_of: str | datetime, *,
                     workdir: str | Path = DEFAULT_WORKDIR, memory_limit: str | None = None,
                     threads: int | None = None, progress: Progress | None = None,
                     engine: Literal["duckdb", "spark"] = "duckdb",
                     master: str | None = None,
                     spark_conf: Mapping[str, str] | None = None,
                     profile: StageProfile | None = None) -> pa.Table:
    """Validate and load ``data_dir`` (reusing the work directory's database when it holds
    the same data), then compute every signal as of ``as_of``. ``data_dir`` is a folder,
    an ``s3://bucket/prefix/`` or a ``postgresql://`` URI (see :mod:`.sources`).

    ``engine="spark"`` runs the same signal definitions on Apache Spark (``master``, default
    ``local[2]``; needs ``pip install "accountrisk[spark]"`` and Java), with the Spark settings
    ``spark_conf`` (e.g. ``{"spark.driver.memory": "8g"}``); the work directory, memory
    limit and threads are DuckDB's and do not apply there.

    ``profile`` records the wall time of each load step and stage (``--profile``); it is
    complete when this returns.

    Raises :class:`ContractError` listing every rejection when the folder is not usable,
    :class:`UsageError` for an unknown engine, :class:`SparkMemoryError` when Spark runs out
    of memory (naming the setting to raise).
    """
    return _run(data_dir, as_of, lambda opened, moment, update: build_features(
        opened, moment, progress=update), workdir=workdir, memory_limit=memory_limit,
        threads=threads, progress=progress, engine=engine, master=master,
        spark_conf=spark_conf, profile=profile)


def export_features(data_dir: str | Path, as_of: str | datetime, out: Path, *,
                    workdir: str | Path = DEFAULT_WORKDIR, memory_limit: str | None = None,
                    threads: int | None = None, progress: Progress | None = None,
                    engine: Literal["duckdb", "spark"] = "duckdb",
                    master: str | None = None,
                    spark_conf: Mapping[str, str] | None = None,
                    profile: StageProfile | None = None) -> tuple[int, int]:
    """As :func:`compute_features`, but the table goes to the file ``out`` (Parquet or CSV
    by its extension; ``accountrisk features --out``): on DuckDB the rows are written from
    the database, so the memory limit bounds the pass. Returns the number of accounts and
    of signals written."""
    file_format(out)  # fail on a bad file name before any work
    return _run(data_dir, as_of, lambda opened, moment, update: write_features(
        opened, moment, out, progress=update), workdir=workdir, memory_limit=memory_limit,
        threads=threads, progress=progress, engine=engine, master=master,
        spark_conf=spark_conf, profile=profile)


def _run(data_dir: str | Path, as_of: str | datetime,
         work: Callable[[Engine, datetime, Progress], Result], *, workdir: str | Path,
         memory_limit: str | None, threads: int | None, progress: Progress | None,
         engine: Literal["duckdb", "spark"], master: str | None,
         spark_conf: Mapping[str, str] | None, profile: StageProfile | None) -> Result:
    """Open the engine on ``data_dir`` and run ``work`` as of ``as_of``, reporting the load
    as the first 30% of ``progress`` and the feature pass as the rest."""
    moment = parse_as_of(as_of)  # fail on a bad time before any work
    if profile:
        profile("open and check the work directory")

    def load_progress(step: str, done: float, total: float) -> None:
        if profile:
            profile(f"load: {step}", done, total)
        if progress:
            progress(step, done * 0.3 / max(total, 1), 1.0)

    def feature_progress(step: str, done: float, total: float) -> None:
        if profile:
            profile(step, done, total)
        if progress:
            progress(step, 0.3 + done * 0.7 / max(total, 1), 1.0)

    with open_engine(engine, data_dir=data_dir, workdir=workdir, memory_limit=memory_limit,
                     threads=threads, master=master, spark_conf=spark_conf,
                     progress=load_progress) as opened:
        try:
            return work(opened, moment, feature_progress)
        finally:
            if profile:
                profile.stop()
