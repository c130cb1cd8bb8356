"""``accountrisk demo``: the main job end to end on embedded defaults."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pyarrow.parquet as pq

from ..features.api import compute_features
from ..features.workspace import ensure_loaded, open_database
from ._console import console, out, print_report, progress_bar

STEPS = 5
CHAMPION = "models:/accountrisk@champion"


def demo_pipeline(workdir: Path, *, accounts: int = 20_000, seed: int = 7) -> None:
    """Generate, validate, build signals, train, register and promote, score with the
    champion, write the review queue and case reports; print where everything is."""
    from ..synthetic import generate

    started = time.perf_counter()
    workdir.mkdir(parents=True, exist_ok=True)
    # The demo keeps its MLflow store beside its other files unless one is configured.
    os.environ.setdefault("MLFLOW_TRACKING_URI",
                          f"sqlite:///{(workdir / 'mlflow.db').resolve()}")
    data_dir = workdir / "marketplace"
    with progress_bar(f"1/{STEPS} generate {accounts:,} accounts") as update:
        summary = generate(data_dir, accounts=accounts, seed=seed,
                           progress=lambda step, fraction: update(step, fraction))
    with open_database(workdir) as engine, progress_bar(f"2/{STEPS} validate") as update:
        report = ensure_loaded(engine, data_dir, force=True, progress=update)
    print_report(report)
    as_of = summary["end"]
    with progress_bar(f"3/{STEPS} signals") as update:
        table = compute_features(data_dir, as_of, workdir=workdir, progress=update)
    features_file = workdir / "features.parquet"
    pq.write_table(table, features_file)

    console.print(f"[bold]4/{STEPS} train, register and promote[/bold]")
    from ..training.api import train
    from ..training.promotion import promote

    say = lambda message: console.print(f"  {message}", markup=False, highlight=False)  # noqa: E731
    trained = train(data_dir, as_of, workdir=workdir, seed=seed, say=say)
    promoted = promote(data_dir, as_of, workdir=workdir, say=say)

    from ..features.table_files import write_arrow
    from ..scoring.scorer import RiskScorer
    from ._queue import write_queue

    # The champion is what a backend would load; on a first run it is the model just trained.
    scorer = RiskScorer.load(CHAMPION)
    queue_dir = workdir / "queue"
    with open_database(workdir) as engine, \
            progress_bar(f"5/{STEPS} score, queue and case reports") as update:
        ensure_loaded(engine, data_dir)
        update("scoring", 0.0)
        queue = write_queue(engine, scorer, as_of, queue_dir, "elevated", progress=update)
    scores_file = workdir / "scores.parquet"
    write_arrow(queue.batch.frame.sort_by([("score", "descending"), ("account_id", "ascending")]),
                scores_file)

    out.print(f"\nDone in {time.perf_counter() - started:.0f} s.", markup=False)
    out.print(f"  marketplace:  {data_dir} (ground truth: {data_dir / 'ground_truth.parquet'})",
              markup=False)
    out.print(f"  database:     {workdir / 'accountrisk.duckdb'}", markup=False)
    out.print(f"  signals:      {features_file} ({table.num_rows:,} accounts, "
              f"{table.num_columns - 1} signals, as of {as_of})", markup=False)
    out.print(f"  model:        {trained.uri} ({trained.kind}; directory {trained.model_dir})",
              markup=False)
    verdict = "promoted: " if promoted.promoted else (
        "" if promoted.champion == promoted.challenger else "not promoted: ")
    out.print(f"  promotion:    {verdict}{promoted.reason}", markup=False)
    out.print(f"  scores:       {scores_file} ({queue.batch.frame.num_rows:,} accounts, scored "
              f"by {CHAMPION} = {scorer.model_version})", markup=False)
    out.print(f"  review queue: {queue.files[0]} and .csv ({queue.rows.num_rows:,} accounts in "
              "the elevated band or above, with reasons)", markup=False)
    out.print(f"  case reports: {queue.index} (open in a browser)", markup=False)
    out.print(f"  MLflow UI:    mlflow ui --backend-store-uri "
              f"{os.environ['MLFLOW_TRACKING_URI']}", markup=False)
