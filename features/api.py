"""The features layer's entry points: from a contract folder to a feature table."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Literal

import pyarrow as pa

from .engines import open_engine
from .pipeline import Progress, build_features, parse_as_of
from .profile import StageProfile
from .workspace import DEFAULT_WORKDIR


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
            return build_features(opened, moment, progress=feature_progress)
        finally:
            if profile:
                profile.stop()
