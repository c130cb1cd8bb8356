"""The features layer's entry points: from a contract folder to a feature table."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pyarrow as pa

from .errors import ContractError
from .pipeline import Progress, build_features, parse_as_of
from .workspace import DEFAULT_WORKDIR, ensure_loaded, open_database


def compute_features(data_dir: str | Path, as_of: str | datetime, *,
                     workdir: str | Path = DEFAULT_WORKDIR, memory_limit: str | None = None,
                     threads: int | None = None, progress: Progress | None = None) -> pa.Table:
    """Validate and load ``data_dir`` (reusing the work directory's database when it holds
    the same folder), then compute every signal as of ``as_of``.

    Raises :class:`ContractError` listing every rejection when the folder is not usable.
    """
    moment = parse_as_of(as_of)  # fail on a bad time before any work
    with open_database(workdir, memory_limit=memory_limit, threads=threads) as engine:
        def load_progress(step: str, done: int, total: int) -> None:
            if progress:
                progress(step, done * 0.3 / max(total, 1), 1.0)

        def feature_progress(step: str, done: int, total: int) -> None:
            if progress:
                progress(step, 0.3 + done * 0.7 / max(total, 1), 1.0)

        report = ensure_loaded(engine, data_dir, progress=load_progress)
        if not report.usable:
            lines = "\n".join(p.render() for p in report.rejections())
            raise ContractError(f"{data_dir} does not meet the data contract; run "
                                f"`accountrisk validate {data_dir}` for the full list.\n{lines}",
                                report.problems)
        return build_features(engine, moment, progress=feature_progress)
