"""The command line says what is wrong instead of guessing: bands, engines, output formats,
environment defaults, the version; loading a model leaves the host's MLflow alone."""

from __future__ import annotations

import subprocess
import sys

import pyarrow.csv as pcsv
import pytest
from typer.testing import CliRunner

from accountrisk.plugin.cli import app
from tests.plugin.test_score_commands import T, setup  # noqa: F401  (fixture)

runner = CliRunner()


@pytest.mark.parametrize("args", [["queue", "--band", "hgih", "--out", "q"],
                                  ["score", "--reasons-for", "Elevated", "--out", "s.csv"]])
def test_an_unknown_band_is_an_error_that_lists_the_bands(setup, args):  # noqa: F811
    data, model, work, root = setup
    command, *rest = args
    result = runner.invoke(app, [command, str(data), "--model", str(model), "--as-of", T,
                                 "--workdir", str(work),
                                 *[str(root / a) if a in ("q", "s.csv") else a for a in rest]])
    assert result.exit_code == 1, result.output
    assert "unknown band" in result.output and "high, elevated, watch" in result.output
    assert not (root / "q").exists() and not (root / "s.csv").exists()


def test_the_model_and_work_directory_come_from_the_environment(setup):  # noqa: F811
    data, model, work, root = setup
    out = root / "env-scores.csv"
    result = runner.invoke(app, ["score", str(data), "--as-of", T, "--out", str(out)],
                           env={"ACCOUNTRISK_MODEL": str(model), "ACCOUNTRISK_WORKDIR": str(work)})
    assert result.exit_code == 0, result.output
    assert pcsv.read_csv(out).num_rows == 300


def test_features_writes_the_format_its_extension_names_or_refuses(setup):  # noqa: F811
    data, model, work, root = setup
    out = root / "features.csv"
    result = runner.invoke(app, ["features", str(data), "--as-of", T, "--out", str(out),
                                 "--workdir", str(work)])
    assert result.exit_code == 0, result.output
    table = pcsv.read_csv(out)
    assert table.num_rows == 300 and "account_id" in table.column_names
    refused = runner.invoke(app, ["features", str(data), "--as-of", T, "--out",
                                  str(root / "features.txt"), "--workdir", str(work)],
                            env={"COLUMNS": "200"})
    assert refused.exit_code == 2 and "must end in .parquet or .csv" in " ".join(
        refused.output.split())
    assert not (root / "features.txt").exists()


@pytest.mark.parametrize("command", ["features", "score", "train"])
def test_engine_is_the_same_choice_everywhere(setup, command):  # noqa: F811
    data, model, work, root = setup
    extra = {"features": ["--out", str(root / "f.parquet")],
             "score": ["--out", str(root / "s.parquet"), "--model", str(model)],
             "train": []}[command]
    result = runner.invoke(app, [command, str(data), "--as-of", T, "--engine", "flink",
                                 "--workdir", str(work), *extra], env={"COLUMNS": "200"})
    assert result.exit_code == 2 and "'flink' is not one of" in result.output


def test_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.startswith("accountrisk ")


def test_a_registry_uri_without_mlflow_is_a_clear_error():
    code = ("import sys; sys.modules['mlflow'] = None\n"
            "from accountrisk.plugin import ModelLoadError, RiskScorer\n"
            "try:\n    RiskScorer.load('models:/accountrisk@champion')\n"
            "except ModelLoadError as error:\n    print(error)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert "pip install 'accountrisk[mlflow]'" in result.stdout
