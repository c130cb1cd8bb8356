"""The ``train`` and ``promote`` commands (registered on the CLI's typer app)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..features.errors import AccountRiskError
from ..features.workspace import DEFAULT_WORKDIR
from ..training.selection import (
    FEW_LABELS_RULE_POINT_LOG_ODDS,
    PRIOR_BELOW_POSITIVES,
    RULE_POINT_LOG_ODDS,
)
from ..training.snapshots import POPULATION_SAMPLE
from ..training.unlabelled import DEFAULT as DEFAULT_UNLABELLED
from .cli import (
    DataDir,
    EngineChoice,
    Master,
    MemoryLimit,
    SparkConf,
    Workdir,
    _fail,
    app,
    spark_settings,
)


def _say(message: str) -> None:
    # Progress goes to stderr so that stdout ends with the registered model's URI.
    print(message, file=sys.stderr, flush=True)


@contextmanager
def _spark_started(master: str | None, settings: dict[str, str]) -> Iterator[None]:
    """A Spark session started with ``settings`` for the block (none without settings).

    Training takes no Spark settings itself; its engine reuses the session running in this
    process, settings included."""
    if not settings:
        yield
        return
    from ..features.engines import DEFAULT_SPARK_MASTER
    from ..features.spark import spark_session

    session = spark_session(master or DEFAULT_SPARK_MASTER, config=settings)
    try:
        yield
    finally:
        session.stop()


@app.command()
def train(
    data_dir: DataDir,
    as_of: Annotated[str, typer.Option("--as-of", help="ISO date or date-time, UTC; only "
                                                       "decisions before it are used.")],
    model_dir: Annotated[Optional[Path], typer.Option(
        "--model-dir", help="Where to write the model directory (default: "
                            "WORKDIR/models/<as-of>-seed<seed>).")] = None,
    seed: Annotated[int, typer.Option(help="Random seed (same data and seed give the same "
                                           "model file).")] = 0,
    workdir: Workdir = DEFAULT_WORKDIR,
    unlabelled: Annotated[str, typer.Option(
        help="How to use accounts with no decision: auto (the default: decisions only "
             "when there are enough cleared ones, else validation chooses between "
             "negatives and pu), ignore (decisions only), negatives (down-weighted), or pu "
             "(Elkan-Noto positive-unlabelled).")
    ] = DEFAULT_UNLABELLED,
    snapshot_days: Annotated[int, typer.Option(
        help="Days between feature snapshots of the training set.")] = 30,
    rule_weight: Annotated[float | None, typer.Option(
        help="Log-odds each red-flag point adds to the trees' score (0: trees alone). The "
             "flags keep fronts unlike the decided ones in view when decisions are few. "
             f"Default: {FEW_LABELS_RULE_POINT_LOG_ODDS:g} with fewer than "
             f"{PRIOR_BELOW_POSITIVES} confirmed accounts, else {RULE_POINT_LOG_ODDS:g}; "
             "left off where they cost the validation decisions more than two standard "
             "errors of PR-AUC.")
    ] = None,
    population_sample: Annotated[int, typer.Option(
        help="At most this many accounts active at T (a seeded uniform sample) stand for "
             "the population the review bands and the drift reference are read from; "
             "band counts are then estimates.")] = POPULATION_SAMPLE,
    memory_limit: MemoryLimit = None,
    engine: EngineChoice = "duckdb",
    master: Master = None,
    spark_conf: SparkConf = None,
) -> None:
    """Train on past decisions and register the model in MLflow.

    Features of each decided account are computed as of its decision, never after. Settings
    are chosen on temporal validation, then the model is refit on every decision before T.
    With too few labels, or when the red-flag rule score validates better, registers the
    rules instead (kind "rules") and says so. With --engine spark the snapshot features are
    computed on Spark (the fit stays on this machine). The last line printed is the
    registered model's URI.
    """
    from ..training.api import train as run

    settings = spark_settings(spark_conf, engine)
    try:
        with _spark_started(master, settings):
            result = run(data_dir, as_of, model_dir=model_dir, seed=seed, workdir=workdir,
                         unlabelled=unlabelled, snapshot_days=snapshot_days,
                         memory_limit=memory_limit, engine=engine, master=master, say=_say,
                         rule_point_log_odds=rule_weight,
                         population_sample=population_sample)
    except AccountRiskError as error:
        _fail(error)
    if result.kind == "rules":
        _say("NOTE: registered the red-flag rule score, not a trained model: "
             f"{result.metadata['cold_start_reason']}.")
    sys.stdout.write(f"{result.uri}\n")
    sys.stdout.flush()


@app.command()
def promote(
    data_dir: DataDir,
    as_of: Annotated[Optional[str], typer.Option(
        "--as-of", help="Compare on decisions before this time (default: all of them).")
    ] = None,
    workdir: Workdir = DEFAULT_WORKDIR,
    min_gain: Annotated[float, typer.Option(
        help="PR-AUC the challenger must gain over the champion.")] = 0.0,
) -> None:
    """Make the challenger the champion if it beats it on the latest decisions.

    Both models score the same recent decisions of DATA_DIR (features as of each decision);
    the numbers go to an MLflow run. Exit 0 whether or not it promoted; the last line says
    what happened and why.
    """
    from ..training.promotion import promote as run

    try:
        result = run(data_dir, as_of, workdir=workdir, min_gain=min_gain, say=_say)
    except AccountRiskError as error:
        _fail(error)
    verdict = "promoted" if result.promoted else "not promoted"
    sys.stdout.write(f"{verdict}: {result.reason}\n")
