"""The command line: exit codes, messages and files, on small hand-made folders."""

from __future__ import annotations

import json
from datetime import datetime

import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from accountrisk.plugin.cli import app
from tests.conftest import make_tables

runner = CliRunner()


def write_folder(folder, tables):
    folder.mkdir(parents=True, exist_ok=True)
    for name, table in tables.items():
        pq.write_table(table, folder / f"{name}.parquet")
    return folder


def small_folder(folder, bad_zone=False):
    accounts = [{"account_id": f"a{i}", "created_at": datetime(2025, 1, 1 + i)} for i in range(5)]
    if bad_zone:
        accounts.append({"account_id": "z", "claimed_timezone": "Mars/Base"})
    return write_folder(folder, make_tables(
        accounts=accounts,
        payout_methods=[{"account_id": "a0", "payout_token": "p"},
                        {"account_id": "a1", "payout_token": "p"}]))


def test_validate_usable_folder_with_quarantine_exits_0(tmp_path):
    data = small_folder(tmp_path / "data", bad_zone=True)
    report = tmp_path / "bad.csv"
    result = runner.invoke(app, ["validate", str(data), "--workdir", str(tmp_path / "w"),
                                 "--report", str(report)])
    assert result.exit_code == 0, result.output
    assert "accounts.claimed_timezone row 5 (account_id 'z')" in result.output
    assert "bad_timezone" in report.read_text()


def test_validate_unusable_folder_exits_1(tmp_path):
    data = small_folder(tmp_path / "data")
    (data / "accounts.parquet").unlink()
    result = runner.invoke(app, ["validate", str(data), "--workdir", str(tmp_path / "w")])
    assert result.exit_code == 1
    assert "accounts.parquet is missing" in result.output


def test_features_writes_one_row_per_account_before_t(tmp_path):
    data = small_folder(tmp_path / "data")
    out = tmp_path / "f.parquet"
    args = ["features", str(data), "--as-of", "2025-01-04", "--out", str(out),
            "--workdir", str(tmp_path / "w")]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    table = pq.read_table(out)
    assert table.column("account_id").to_pylist() == ["a0", "a1", "a2"]
    assert "payout_shared_account_count" in table.column_names
    # Second run reuses the loaded database and gives the same table.
    assert runner.invoke(app, args).exit_code == 0
    assert pq.read_table(out).equals(table)


def test_features_csv_holds_the_rows_the_api_returns(tmp_path):
    from accountrisk.features.api import compute_features

    data = small_folder(tmp_path / "data")
    out = tmp_path / "f.csv"
    result = runner.invoke(app, ["features", str(data), "--as-of", "2025-01-04", "--out",
                                 str(out), "--workdir", str(tmp_path / "w")])
    assert result.exit_code == 0, result.output
    written = pcsv.read_csv(out)
    returned = compute_features(data, "2025-01-04", workdir=tmp_path / "w")
    assert written.column_names == returned.column_names
    for name in ("account_id", "payout_shared_account_count", "account_age_days"):
        assert written.column(name).to_pylist() == returned.column(name).to_pylist(), name


def test_features_profile_prints_every_load_step_and_stage(tmp_path):
    data = small_folder(tmp_path / "data")
    result = runner.invoke(app, ["features", str(data), "--as-of", "2025-01-04", "--out",
                                 str(tmp_path / "f.parquet"), "--workdir",
                                 str(tmp_path / "w"), "--profile"])
    assert result.exit_code == 0, result.output
    assert "Where the time went" in result.output
    for step in ("load: validate accounts", "load: write the clean tables", "payout_links",
                 "identity_links", "join", "write"):
        assert step in result.output, step


def test_stage_profile_charges_each_interval_to_the_step_that_began_it(monkeypatch):
    from accountrisk.features import profile as module

    clock = iter([0.0, 1.0, 1.5, 4.0, 4.0])
    monkeypatch.setattr(module.time, "perf_counter", lambda: next(clock))
    timings = module.StageProfile()
    timings("a")
    timings("b")
    timings("a")
    timings.stop()
    timings.stop()  # a second stop charges nothing
    assert timings.seconds == {"a": 3.5, "b": 0.5}
    assert [row[0] for row in timings.rows()] == ["a", "b"]
    assert timings.markdown().splitlines()[-1] == "| total | 4.00 | 100.0% |"


def test_features_rejects_a_bad_as_of_with_a_fix(tmp_path):
    data = small_folder(tmp_path / "data")
    result = runner.invoke(app, ["features", str(data), "--as-of", "yesterday", "--out",
                                 str(tmp_path / "f.parquet"), "--workdir", str(tmp_path / "w")])
    assert result.exit_code == 1
    assert "2026-06-01" in result.output


@pytest.mark.spark
def test_features_on_spark_equal_duckdb(tmp_path, spark_engine):
    data = small_folder(tmp_path / "data")
    outs = {}
    for engine in ("duckdb", "spark"):
        outs[engine] = tmp_path / f"{engine}.parquet"
        args = ["features", str(data), "--as-of", "2025-01-04", "--out", str(outs[engine]),
                "--workdir", str(tmp_path / "w"), "--engine", engine]
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
    duck, spark = pq.read_table(outs["duckdb"]), pq.read_table(outs["spark"])
    # Names and types; DuckDB writes the columns it knows are never NULL as required.
    assert [(f.name, f.type) for f in spark.schema] == [(f.name, f.type) for f in duck.schema]
    assert spark.to_pylist() == duck.to_pylist()


def test_features_master_needs_spark(tmp_path):
    data = small_folder(tmp_path / "data")
    result = runner.invoke(app, ["features", str(data), "--as-of", "2025-01-04", "--out",
                                 str(tmp_path / "f.parquet"), "--master", "local[1]"])
    assert result.exit_code != 0 and "--engine spark" in result.output


def test_generate_passes_mode_and_fronted_share(tmp_path):
    out = tmp_path / "thin"
    result = runner.invoke(app, ["generate", str(out), "--accounts", "300", "--seed", "2",
                                 "--mode", "thin", "--fronted-share", "0.05"])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "generation.json").read_text())
    assert summary["parameters"]["mode"] == "thin"
    assert summary["parameters"]["fronted_share"] == 0.05
    assert sorted(p.name for p in out.iterdir()) == [
        "accounts.parquet", "generation.json", "ground_truth.parquet", "labels.parquet",
        "sessions.parquet"]


def test_generate_defaults_to_classic_at_the_modes_share(tmp_path):
    result = runner.invoke(app, ["generate", str(tmp_path), "--accounts", "300"])
    assert result.exit_code == 0, result.output
    parameters = json.loads((tmp_path / "generation.json").read_text())["parameters"]
    assert (parameters["mode"], parameters["fronted_share"]) == ("classic", 0.01)


def test_generate_mode_choices_are_the_generators(tmp_path):
    from typing import get_args

    from accountrisk.plugin.cli import GeneratorMode
    from accountrisk.synthetic import MODES

    assert get_args(GeneratorMode) == MODES
    result = runner.invoke(app, ["generate", str(tmp_path), "--mode", "lively"])
    assert result.exit_code != 0 and not (tmp_path / "generation.json").exists()
