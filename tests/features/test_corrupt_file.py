"""A Parquet file with a damaged page (its footer intact) is a rejection of that table, with
the other tables still checked and counted, and no traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from accountrisk.features.engine import DuckDBEngine
from accountrisk.features.load import load_folder
from accountrisk.synthetic import generate


@pytest.fixture(scope="module")
def damaged(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("damaged")
    generate(folder, accounts=200, seed=5)
    path = folder / "sessions.parquet"
    pq.write_table(pq.read_table(path), path, compression="zstd", use_dictionary=False)
    start = pq.ParquetFile(path).metadata.row_group(0).column(0).data_page_offset
    data = bytearray(path.read_bytes())
    for i in range(start + 40, start + 140):  # inside the first compressed data page
        data[i] ^= 0x5A
    path.write_bytes(bytes(data))
    pq.read_metadata(path)  # the footer still reads: only the page is damaged
    return folder


def test_the_damaged_table_is_rejected_and_the_others_counted(damaged):
    with DuckDBEngine() as engine:
        report = load_folder(damaged, engine)
    rejected = report.rejections()
    assert [(p.table, p.reason) for p in rejected] == [("sessions", "unreadable_file")]
    assert "sessions.parquet could not be read" in rejected[0].message
    assert "re-export sessions.parquet" in rejected[0].fix
    assert not report.usable
    counted = {name: n for name, n in report.loaded_rows.items() if n}
    assert {"accounts", "activity", "payout_methods"} <= set(counted)


def test_validate_says_so_without_a_traceback(damaged, tmp_path):
    done = subprocess.run([str(Path(sys.executable).parent / "accountrisk"), "validate",
                           str(damaged), "--workdir", str(tmp_path / "work")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 1
    said = " ".join((done.stdout + done.stderr).split())
    assert "[reject] sessions: sessions.parquet could not be read" in said
    assert "Traceback" not in done.stderr


@pytest.mark.spark
def test_the_damaged_table_is_rejected_on_spark(damaged, spark_engine):
    from accountrisk.features.spark import load_folder_spark

    report = load_folder_spark(damaged, spark_engine)
    rejected = report.rejections()
    assert [(p.table, p.reason) for p in rejected] == [("sessions", "unreadable_file")]
    assert report.loaded_rows.get("accounts")
