"""Two processes on one work directory: the second waits, then fails with a clear message."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from accountrisk.features.errors import UsageError
from accountrisk.features.workspace import DATABASE_NAME, open_database

HOLD = "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True); " \
       "time.sleep(float(sys.argv[2]))"


def _hold(workdir: Path, seconds: float) -> subprocess.Popen:
    workdir.mkdir(parents=True, exist_ok=True)
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(workdir / DATABASE_NAME),
                               str(seconds)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    return holder


def test_a_held_work_directory_is_a_usage_error_naming_the_holder(tmp_path):
    holder = _hold(tmp_path, 60)
    try:
        started = time.monotonic()
        with pytest.raises(UsageError) as raised:
            open_database(tmp_path, wait_seconds=0.6)
        assert time.monotonic() - started >= 0.6
        message = str(raised.value)
        assert f"PID {holder.pid}" in message and "another --workdir" in message
    finally:
        holder.kill()
        holder.wait()


def test_the_second_process_gets_the_directory_once_the_first_is_done(tmp_path, capsys):
    holder = _hold(tmp_path, 1.0)
    with open_database(tmp_path, wait_seconds=30) as engine:
        assert engine.scalar("SELECT 42") == 42
    holder.wait()
    assert f"in use by PID {holder.pid}; waiting up to 30 s" in capsys.readouterr().err


def test_the_cli_says_so_without_a_traceback(tmp_path):
    holder = _hold(tmp_path / "work", 60)
    try:
        done = subprocess.run([str(Path(sys.executable).parent / "accountrisk"), "validate",
                               str(tmp_path), "--workdir", str(tmp_path / "work")],
                              capture_output=True, text=True, timeout=120,
                              env={**os.environ, "ACCOUNTRISK_LOCK_TIMEOUT": "0"})
    finally:
        holder.kill()
        holder.wait()
    assert done.returncode != 0
    said = " ".join((done.stderr + done.stdout).split())  # the console wraps long lines
    assert "is in use by another process" in said and "another --workdir" in said
    assert "Traceback" not in done.stderr


def test_readers_of_a_loaded_folder_share_the_work_directory(tmp_path, monkeypatch):
    """A folder already loaded is read read-only: a second command reading it runs while
    another reader holds the directory, where a writer would have to wait."""
    from accountrisk.features.api import compute_features
    from accountrisk.synthetic import generate

    data, work = tmp_path / "data", tmp_path / "work"
    summary = generate(data, accounts=150, seed=2)
    as_of = summary.get("end") or summary["parameters"]["end"]
    compute_features(data, as_of, workdir=work)  # loads it (a writer)
    reader = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1], "
         "read_only=True); print('held', flush=True); time.sleep(60)",
         str(work / DATABASE_NAME)], stdout=subprocess.PIPE, text=True)
    try:
        assert reader.stdout.readline().strip() == "held"
        monkeypatch.setenv("ACCOUNTRISK_LOCK_TIMEOUT", "0")  # a writer would fail at once
        features = compute_features(data, as_of, workdir=work)
        assert features.num_rows > 0
        with pytest.raises(UsageError, match="in use"):
            open_database(work)  # the writer's way in is still held by the reader
    finally:
        reader.kill()
        reader.wait()
