"""The review loop's commands: ``review`` (record decisions), ``monitor`` (drift) and
``retrain`` (the routine), registered on the CLI app."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from ..features.errors import AccountRiskError
from ..features.workspace import DEFAULT_WORKDIR
from .cli import Workdir, _fail, app

DataOption = Annotated[Path | None, typer.Option(
    "--data", help="Contract folder to load first (default: the folder the work directory "
                   "already holds), to check account ids against.")]


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@app.command()
def review(
    account_id: Annotated[str | None, typer.Argument(help="The account decided.")] = None,
    decision: Annotated[str | None, typer.Option(
        "--decision", help="confirmed_fronting, cleared, escalated or needs_info.")] = None,
    reviewer: Annotated[str | None, typer.Option(
        "--reviewer", envvar="ACCOUNTRISK_REVIEWER",
        help="Who decided (with --import: for rows whose reviewer cell is empty).")] = None,
    note: Annotated[str | None, typer.Option("--note", help="Free text.")] = None,
    import_csv: Annotated[Path | None, typer.Option(
        "--import", help="A queue CSV with its decision column filled in: every row is "
                         "checked first, and nothing is recorded if any row is wrong.")] = None,
    decided_at: Annotated[str | None, typer.Option(
        "--decided-at", help="When it was decided, ISO date-time UTC (default: now).")] = None,
    data: DataOption = None,
    workdir: Workdir = DEFAULT_WORKDIR,
) -> None:
    """Record a reviewer's decision on an account (or a filled-in queue CSV).

    Decisions are appended to the work directory's store (decisions.duckdb; a correction
    is a new decision). confirmed_fronting and cleared become training labels; the score
    the queue last showed is stored with the decision.
    """
    from ..features.pipeline import parse_as_of
    from ..training.review import import_decisions_csv, record_decision
    from ..training.review.accounts import loaded_accounts
    from ..training.review.shown import shown_for

    try:
        known = loaded_accounts(workdir, data)
        if import_csv is not None:
            if account_id is not None or decision is not None:
                raise AccountRiskError("give ACCOUNT --decision D, or --import FILE, not both")
            result = import_decisions_csv(import_csv, workdir=workdir, reviewer=reviewer,
                                          known_accounts=known)
            if result.already_imported:
                sys.stdout.write(f"{import_csv} was imported before; nothing recorded\n")
                return
            sys.stdout.write(f"recorded {len(result.recorded)} decisions from {import_csv} "
                             f"({result.skipped_rows} rows without a decision skipped)\n")
            return
        if account_id is None or decision is None or reviewer is None:
            raise AccountRiskError("give ACCOUNT --decision D --reviewer R (or --import "
                                   "FILE)")
        moment: datetime | None = parse_as_of(decided_at) if decided_at else None
        shown = shown_for(workdir, [account_id]).get(account_id)
        made = record_decision(account_id, decision, reviewer, workdir=workdir, note=note,
                               decided_at=moment, known_accounts=known, shown=shown)
    except AccountRiskError as error:
        problems = getattr(error, "problems", None)
        _fail(error if not problems else AccountRiskError(str(error)))
    seen = (f" (shown score {made.score:.3f}, band {made.band or 'none'}, model "
            f"{made.model_version})" if made.score is not None else "")
    sys.stdout.write(f"recorded: {made.account_id} {made.decision} by {made.reviewer} at "
                     f"{made.decided_at:%Y-%m-%d %H:%M} UTC{seen}\n")


@app.command()
def monitor(
    data_dir: Annotated[Path, typer.Argument(help="Contract folder of today's population.")],
    as_of: Annotated[str, typer.Option("--as-of", help="ISO date or date-time, UTC.")],
    model: Annotated[str, typer.Option(
        "--model", envvar="ACCOUNTRISK_MODEL",
        help="Model directory or registry URI.")] = "models:/accountrisk@champion",
    out: Annotated[Path | None, typer.Option(
        "--out", help="Also write the HTML page with plots here.")] = None,
    psi_threshold: Annotated[float, typer.Option(
        "--psi-threshold", help="PSI above which a top feature (or the score) has "
                                "drifted.")] = 0.25,
    top_features: Annotated[int, typer.Option(
        "--top-features", help="How many of the model's most important features count "
                               "as top.")] = 10,
    mlflow: Annotated[bool, typer.Option(help="Log the numbers to MLflow.")] = True,
    workdir: Workdir = DEFAULT_WORKDIR,
) -> None:
    """Drift of today's population from the model's training population: PSI per feature
    and for the score, band shares, decisions since training.

    Exit 0 when nothing crossed the threshold, 2 when a top feature's or the score's PSI
    did, 1 on an error (including a model without reference distributions).
    """
    from ..training.monitor import log_monitor_run
    from ..training.monitor import monitor as run
    from ..training.monitor_page import render_monitor

    try:
        report = run(data_dir, as_of, model=model, workdir=workdir,
                     psi_threshold=psi_threshold, top_features=top_features, say=_say)
        if not report.comparable:
            raise AccountRiskError(f"cannot compare: {report.reason}")
        if out is not None:
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(render_monitor(report), encoding="utf-8")
        if mlflow:
            log_monitor_run(report, out)
    except AccountRiskError as error:
        _fail(error)
    lines = [f"{'feature':<48} {'PSI':>7}  top"]
    for name in sorted(report.psi, key=lambda f: -report.psi[f])[:20]:
        flag = "top" if name in report.top else ""
        mark = " DRIFT" if name in report.drifted else ""
        lines.append(f"{name:<48} {report.psi[name]:>7.3f}  {flag}{mark}")
    lines.append(f"{'score':<48} {report.score_psi:>7.3f}"
                 + ("  DRIFT" if "score" in report.drifted else ""))
    for band, (then, now) in report.band_shares.items():
        lines.append(f"band {band or 'none'}: {then:.1%} at training, {now:.1%} now")
    rate = "n/a" if report.label_rate is None else f"{report.label_rate:.1%}"
    precision = "n/a" if report.queue_precision is None else f"{report.queue_precision:.1%}"
    lines.append(f"{report.label_decisions} labels since training (confirmed {rate}); queue "
                 f"precision {precision} over {report.queue_decisions} decisions")
    lines.append(f"drift: {', '.join(report.drifted)}" if report.drifted
                 else "no drift above the threshold")
    sys.stdout.write("\n".join(lines) + "\n")
    raise typer.Exit(2 if report.drifted else 0)


@app.command()
def retrain(
    data_dir: Annotated[Path, typer.Argument(help="Contract folder to train on.")],
    as_of: Annotated[str, typer.Option("--as-of", help="ISO date or date-time, UTC; only "
                                                       "decisions before it are used.")],
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    snapshot_days: Annotated[int, typer.Option(
        help="Days between feature snapshots of the training set.")] = 30,
    min_gain: Annotated[float, typer.Option(
        help="PR-AUC the challenger must gain over the champion.")] = 0.0,
    workdir: Workdir = DEFAULT_WORKDIR,
) -> None:
    """Train a challenger, compare it with the champion, promote it only through the gate.

    Safe from cron: one run at a time (retrain.lock in the work directory names the PID),
    and a second run for the same --as-of does nothing. Exit codes: 0 promoted (or the
    first model), 3 champion kept, 4 another retrain is running, 5 already done for this
    as-of, 1 error. The comparison goes to an MLflow run; the model card to the version's
    description.
    """
    from ..training.retrain import EXIT_LOCKED, RetrainLocked
    from ..training.retrain import retrain as run

    try:
        result = run(data_dir, as_of, workdir=workdir, seed=seed, snapshot_days=snapshot_days,
                     min_gain=min_gain, say=_say)
    except RetrainLocked as error:
        console_error(str(error))
        raise typer.Exit(EXIT_LOCKED) from None
    except AccountRiskError as error:
        _fail(error)
    sys.stdout.write(f"{result.outcome}: {result.message}\n")
    raise typer.Exit(result.exit_code)


def console_error(message: str) -> None:
    """An error line on stderr, as the CLI prints them."""
    from ._console import console

    console.print(f"[red]error:[/red] {message}", highlight=False, markup=True)
