"""The embedded work directory: one DuckDB file that holds the loaded, validated folder.

Loading a large source takes a while, so the database remembers which source it holds (by
a fingerprint of what the source offers: local files' names, sizes and modification times;
S3 objects' keys, sizes and ETags; PostgreSQL tables' row counts and latest times, see
:mod:`.sources`) and reuses it. A source that cannot tell is loaded again, saying so.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from dataclasses import asdict
from pathlib import Path

import duckdb

from .engine import DuckDBEngine
from .errors import UsageError
from .load import Progress, load_folder
from .sources import Fingerprint, close_source, open_source, parse_source
from .validate import Problem, ValidationReport

DEFAULT_WORKDIR = Path("accountrisk-work")
DATABASE_NAME = "accountrisk.duckdb"
# DuckDB's own default is 80% of RAM; a fixed cap keeps the 1M-account pipeline inside 8 GB
# of RSS (it spills to the work directory past it). ACCOUNTRISK_MEMORY_LIMIT or
# --memory-limit override it.
DEFAULT_MEMORY_LIMIT = "6GB"
DEFAULT_LOCK_WAIT_S = 30.0
LOCK_POLL_S = 0.5
_LOCK_HOLDER = re.compile(r"Conflicting lock is held in .*\(PID (\d+)\)")


def _memory_limit(given: str | None) -> str:
    """DuckDB's memory limit: the caller's, else ACCOUNTRISK_MEMORY_LIMIT, else the default."""
    return given or os.environ.get("ACCOUNTRISK_MEMORY_LIMIT") or DEFAULT_MEMORY_LIMIT


def open_database(workdir: str | Path = DEFAULT_WORKDIR, *, memory_limit: str | None = None,
                  threads: int | None = None, wait_seconds: float | None = None
                  ) -> DuckDBEngine:
    """The work directory's DuckDB database (created when missing).

    One process at a time holds a work directory. While another holds it, this waits up to
    ``wait_seconds`` (default: ``ACCOUNTRISK_LOCK_TIMEOUT``, else 30 s), saying so on stderr,
    then raises :class:`UsageError` naming the holder's PID and the fix."""
    path = Path(workdir) / DATABASE_NAME
    limit = _memory_limit(memory_limit)
    if wait_seconds is None:
        wait_seconds = float(os.environ.get("ACCOUNTRISK_LOCK_TIMEOUT", DEFAULT_LOCK_WAIT_S))
    deadline, told = time.monotonic() + wait_seconds, False
    while True:
        try:
            return DuckDBEngine(path, memory_limit=limit, threads=threads)
        except duckdb.IOException as error:
            holder = _LOCK_HOLDER.search(str(error))
            if holder is None:
                raise
            if time.monotonic() >= deadline:
                raise UsageError(
                    f"work directory {Path(workdir)} is in use by another process (PID "
                    f"{holder.group(1)}), still after {wait_seconds:g} s: wait for it to "
                    "finish, or give this command another --workdir "
                    "(ACCOUNTRISK_LOCK_TIMEOUT sets how long to wait)") from None
            if not told:
                print(f"work directory {Path(workdir)} is in use by PID {holder.group(1)}; "
                      f"waiting up to {wait_seconds:g} s", file=sys.stderr, flush=True)
                told = True
            time.sleep(min(LOCK_POLL_S, max(0.0, deadline - time.monotonic())))


def open_loaded_read_only(workdir: str | Path, data_dir: str | Path, *,
                          memory_limit: str | None = None, threads: int | None = None,
                          max_quarantine_ratio: float = 0.5) -> DuckDBEngine | None:
    """The work directory's database opened read-only, when it already holds a usable load
    of this very folder: commands that only read it (features, score, explain, queue,
    rings; their own tables are temporary) then share it with each other. None when it does
    not hold the folder, or a writer holds it now (the caller opens it for writing)."""
    path = Path(workdir) / DATABASE_NAME
    if not path.exists():
        return None
    limit = _memory_limit(memory_limit)
    try:
        engine = DuckDBEngine(path, memory_limit=limit, threads=threads, read_only=True)
    except duckdb.Error:
        return None
    fingerprint = source_fingerprint(data_dir).value
    try:
        rows = engine.con.execute(
            "SELECT report FROM load_state WHERE fingerprint = $f AND max_quarantine_ratio = $r",
            {"f": fingerprint, "r": max_quarantine_ratio}).fetchall()
    except duckdb.Error:  # no load_state yet
        rows = []
    if fingerprint is None:
        rows = []
    if rows and report_from_json(rows[0][0]).usable:
        return engine
    engine.close()
    return None


def source_fingerprint(data_dir: str | Path) -> Fingerprint:
    """What the source ``data_dir`` offers to tell whether it changed (see :mod:`.sources`):
    a hash of its Parquet files' names, sizes and modification times (S3: keys, sizes and
    ETags; PostgreSQL: each table's row count and latest time), or why it cannot tell."""
    source = open_source(data_dir)
    try:
        return source.fingerprint()
    finally:
        close_source(source)


def folder_fingerprint(data_dir: str | Path) -> str:
    """:func:`source_fingerprint` as text (``unknown: <why>`` when the source cannot tell)."""
    found = source_fingerprint(data_dir)
    return found.value or f"unknown: {found.unknown_because}"


def ensure_loaded(engine: DuckDBEngine, data_dir: str | Path, *, force: bool = False,
                  max_quarantine_ratio: float = 0.5, progress: Progress | None = None
                  ) -> ValidationReport:
    """Validate and load ``data_dir`` unless the database already holds this very source.
    When the source cannot tell whether it changed, it is loaded again (said on stderr)."""
    uri = parse_source(data_dir)
    fingerprint = source_fingerprint(data_dir)
    engine.execute("CREATE TABLE IF NOT EXISTS load_state (fingerprint VARCHAR, "
                   "data_dir VARCHAR, max_quarantine_ratio DOUBLE, report VARCHAR)")
    if fingerprint.value is None:
        print(f"cannot tell whether {uri.shown} changed since it was loaded "
              f"({fingerprint.unknown_because}); loading it again", file=sys.stderr,
              flush=True)
    elif not force:
        rows = engine.con.execute(
            "SELECT report FROM load_state WHERE fingerprint = $f AND max_quarantine_ratio = $r",
            {"f": fingerprint.value, "r": max_quarantine_ratio}).fetchall()
        if rows:
            return report_from_json(rows[0][0])
    engine.execute("DELETE FROM load_state")
    report = load_folder(data_dir, engine, max_quarantine_ratio=max_quarantine_ratio,
                         progress=progress)
    if report.usable and fingerprint.value is not None:
        where = str(uri.path.resolve()) if uri.path is not None else uri.shown
        engine.execute("INSERT INTO load_state VALUES ($f, $d, $r, $j)",
                       {"f": fingerprint.value, "d": where, "r": max_quarantine_ratio,
                        "j": report_to_json(report)})
    return report


def report_to_json(report: ValidationReport) -> str:
    return json.dumps({
        "problems": [asdict(p) for p in report.problems],
        "loaded_rows": report.loaded_rows,
        "quarantined": [[*key, count] for key, count in report.quarantined.items()],
    })


def report_from_json(text: str) -> ValidationReport:
    data = json.loads(text)
    return ValidationReport(
        problems=[Problem(**p) for p in data["problems"]],
        loaded_rows=data["loaded_rows"],
        quarantined={(t, c, r): n for t, c, r, n in data["quarantined"]},
    )
