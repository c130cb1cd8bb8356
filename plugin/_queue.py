"""The review queue: score a loaded database, write the queue files and case reports.

Shared by ``accountrisk queue`` and ``accountrisk demo`` so both write the same files.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from ..features.table_files import write_arrow
from ..scoring.batch import ScoreBatch
from .report_files import write_reports

QUEUE_FILES = ("queue.parquet", "queue.csv")


@dataclass
class QueueFiles:
    """What :func:`write_queue` wrote: the queue rows, both files and the report index."""

    rows: pa.Table
    files: list[Path]
    index: Path
    batch: ScoreBatch


def write_queue(engine: Any, scorer: Any, as_of: str | datetime, out: Path, chosen: Any, *,
                say: Callable[[str], None] = lambda message: None,
                progress: Callable[[str, float, float], None] | None = None,
                workdir: Path | None = None) -> QueueFiles:
    """Score every account on ``engine``, explain those ``chosen`` selects (a band name or
    a top-k count), and write ``queue.parquet``, ``queue.csv`` and the case reports with
    their ``index.html`` into ``out``.

    With ``workdir`` (its decision store): accounts decided since their score last changed
    are left out (:mod:`accountrisk.training.review.queue_rule`), case reports show earlier
    decisions, the queue files get empty ``decision``, ``reviewer`` and ``note`` columns to
    fill in (``accountrisk review --import``), and the scores shown are remembered."""
    from ..features.pipeline import parse_as_of

    top = chosen if isinstance(chosen, int) and not isinstance(chosen, bool) else None
    if workdir is not None and top is not None:
        from ..training.review.queue_rule import decided_count

        # Skipped accounts free their places: explain enough to still fill the top k.
        chosen = top + min(decided_count(workdir, parse_as_of(as_of)), 10 * top)
    batch = scorer.score_database(engine, as_of, reasons_for=chosen)
    results = sorted(batch.explained.values(), key=lambda s: (-s.score, s.account_id))
    if workdir is not None:
        from ..training.review.queue_rule import skip_decided

        before = len(results)
        results, back = skip_decided(results, workdir, parse_as_of(as_of), scorer.band_names)
        if before > len(results) or back:
            say(f"{before - len(results):,} decided accounts left out (no score change or "
                f"new evidence since their decision); {len(back):,} decided accounts back")
        results = results[:top] if top is not None else results
    say(f"{len(results):,} accounts in the queue; writing case reports")
    reports = write_reports(out, results, engine=engine, workdir=workdir,
                            expected_log_odds=scorer.expected_log_odds, progress=progress)
    frame = batch.frame
    ids = pa.array([s.account_id for s in results], pa.string())
    rows = frame.filter(pc.is_in(frame.column("account_id"), value_set=ids)) \
        .sort_by([("score", "descending"), ("account_id", "ascending")])
    rows = rows.append_column("case_file", pa.array(
        [reports.cases[a].name for a in rows.column("account_id").to_pylist()], pa.string()))
    if workdir is not None:
        from ..training.review.shown import of_score, remember_shown

        blank = pa.array([None] * rows.num_rows, pa.string())
        for name in ("decision", "reviewer", "note"):
            rows = rows.append_column(name, blank)
        remember_shown(workdir, [of_score(s) for s in results])
    files = [out / name for name in QUEUE_FILES]
    for path in files:
        write_arrow(rows, path)
    return QueueFiles(rows=rows, files=files, index=reports.index, batch=batch)
