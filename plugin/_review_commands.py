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
