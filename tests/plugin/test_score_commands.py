"""The score, explain, queue and rings commands on a small trained marketplace."""

from __future__ import annotations

import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from accountrisk.plugin.cli import app
from accountrisk.training.api import train
from tests.training.market import AS_OF, small_market, write_folder

runner = CliRunner()
T = AS_OF.strftime("%Y-%m-%d")


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("commands")
    data = write_folder(small_market(seed=0, accounts=300), root / "data")
    train(data, AS_OF, model_dir=root / "model", workdir=root / "work", register=False,
          plots=False, snapshot_days=60)
    return data, root / "model", root / "work", root


def _run(*args: str):
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_score_writes_one_row_per_account(setup, suffix):
    data, model, work, root = setup
    out = root / f"scores{suffix}"
    _run("score", data, "--model", model, "--as-of", T, "--out", out, "--workdir", work)
    table = pq.read_table(out) if suffix == ".parquet" else pcsv.read_csv(out)
    assert table.num_rows == 300
    assert {"account_id", "score", "band", "reasons"} <= set(table.column_names)
    scores = table.column("score").to_pylist()
    assert scores == sorted(scores, reverse=True)
    bands = table.column("band").to_pylist()
    reasons = table.column("reasons").to_pylist()
    # Accounts in the elevated band or a narrower one get reasons (the default).
    assert all(r for b, r in zip(bands, reasons) if b in ("high", "elevated"))
    assert any(r for r in reasons)


def test_score_refuses_other_extensions_and_missing_models(setup):
    data, model, work, root = setup
    bad = runner.invoke(app, ["score", str(data), "--model", str(model), "--as-of", T,
                              "--out", str(root / "x.json"), "--workdir", str(work)])
    assert bad.exit_code != 0
    missing = runner.invoke(app, ["score", str(data), "--model", str(root / "none"),
                                  "--as-of", T, "--out", str(root / "x.csv"),
                                  "--workdir", str(work)])
    assert missing.exit_code == 1 and "no model" in missing.output


def test_explain_prints_reasons_and_writes_the_case_report(setup):
    data, model, work, root = setup
    html = root / "case.html"
    result = _run("explain", data, "acct0021", "--model", model, "--as-of", T, "--html", html,
                  "--workdir", work)
    assert "acct0021: score" in result.stdout
    assert "log-odds" in result.stdout
    page = html.read_text()
    assert "acct0021" in page and "<html" in page.lower()
    unknown = runner.invoke(app, ["explain", str(data), "nobody", "--model", str(model),
                                  "--as-of", T, "--workdir", str(work)])
    assert unknown.exit_code == 1


def test_queue_writes_queue_and_reports(setup):
    data, model, work, root = setup
    out = root / "queue"
    result = _run("queue", data, "--model", model, "--as-of", T, "--top", 4, "--out", out,
                  "--workdir", work)
    index = result.stdout.strip().splitlines()[-1]
    assert index.endswith("index.html")
    queue = pq.read_table(out / "queue.parquet")
    assert queue.num_rows == 4
    for name in queue.column("case_file").to_pylist():
        assert (out / name).exists()
    assert (out / "queue.csv").exists()


def test_rings_lists_groups_with_scores(setup):
    data, model, work, root = setup
    out = root / "rings.parquet"
    result = _run("rings", data, "--as-of", T, "--model", model, "--min-size", 2,
                  "--out", out, "--workdir", work)
    assert "linked groups of at least 2 accounts" in result.stdout
    table = pq.read_table(out)
    assert "max_score" in table.column_names


def test_readme_backend_example_runs(setup, tmp_path, capsys):
    """The README's backend quick start, run as written (paths swapped for the fixture's)."""
    import re
    from pathlib import Path

    data, model, work, _ = setup
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme[readme.index("### Embedding in a backend"):]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    for old, new in (("models:/accountrisk@champion", str(model)), ("marketplace/", str(data)),
                     ("accountrisk-work", str(tmp_path / "work")), ("2026-10-01", T)):
        assert old in code, old
        code = code.replace(old, new)
    exec(compile(code, "README.md", "exec"), {})
    printed = capsys.readouterr().out
    assert "['account_id', 'score', 'band', 'reasons', 'raw_score']" in printed
    assert '"feature_set_version"' in printed and '"reasons"' in printed


@pytest.mark.spark
def test_score_on_spark_writes_the_same_columns_and_scores(setup, spark_engine):
    """`score --engine spark` (features and scores on Spark) against the DuckDB path: same
    columns and types, same scores and bands; reasons are the same sentences without the
    evidence tails naming other accounts."""
    data, model, work, root = setup
    duck_out, spark_out = root / "duck-scores.parquet", root / "spark-scores.parquet"
    _run("score", data, "--model", model, "--as-of", T, "--out", duck_out, "--workdir", work)
    _run("score", data, "--model", model, "--as-of", T, "--out", spark_out, "--engine", "spark")
    duck, spark = pq.read_table(duck_out), pq.read_table(spark_out)
    assert spark.schema == duck.schema
    d = {r["account_id"]: r for r in duck.to_pylist()}
    s = {r["account_id"]: r for r in spark.to_pylist()}
    assert set(d) == set(s)
    for account, row in d.items():
        other = s[account]
        assert other["score"] == pytest.approx(row["score"], rel=1e-9, abs=1e-12), account
        assert other["band"] == row["band"], account
        assert bool(other["reasons"]) == bool(row["reasons"]), account
        for ours, theirs in zip(row["reasons"].split("; "), other["reasons"].split("; ")):
            assert ours.startswith(theirs.split(" (")[0]), (account, ours, theirs)
    assert any(r["reasons"] for r in s.values())


def test_score_master_needs_spark(setup):
    data, model, work, root = setup
    result = runner.invoke(app, [str(a) for a in ("score", data, "--model", model, "--as-of",
                                                  T, "--out", root / "x.parquet",
                                                  "--master", "local[1]")])
    assert result.exit_code != 0 and "--master needs --engine spark" in result.output
