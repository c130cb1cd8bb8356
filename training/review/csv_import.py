"""Importing a filled-in queue CSV: every row validated before any is recorded.

The queue's ``queue.csv`` carries empty ``decision``, ``reviewer`` and ``note`` columns; a
reviewer fills ``decision`` (and ``reviewer``, or the import names one for all rows). Rows
with an empty decision are skipped. Unknown accounts, unknown decisions, missing reviewers,
bad times and conflicting rows (one account, different decisions or reviewers) are all
reported by row (row 1 is the header, as a spreadsheet numbers them) and nothing is
recorded. A file is recorded once: importing the same bytes again records nothing.
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from ...features.errors import AccountRiskError
from ...features.pipeline import parse_as_of
from ...features.workspace import DEFAULT_WORKDIR
from .accounts import Known, unknown_accounts
from .shown import Shown, shown_for
from .store import DECISIONS, Decision, DecisionError, DecisionStore, open_store, utc_now

SHOWN_PROBLEMS = 20  # problems named in the error message; all are in .problems


@dataclass
class ImportResult:
    """What an import recorded (nothing when ``already_imported``)."""

    recorded: list[Decision] = field(default_factory=list)
    skipped_rows: int = 0
    already_imported: bool = False
    batch: str = ""


@dataclass
class _Row:
    number: int
    account_id: str
    decision: str
    reviewer: str
    note: str | None
    decided_at: datetime | None
    values: dict[str, str]


def _read(path: Path) -> tuple[list[_Row], int, list[str]]:
    rows: list[_Row] = []
    problems: list[str] = []
    skipped = 0
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames or []
        for needed in ("account_id", "decision"):
            if needed not in header:
                raise DecisionError(f"{path}: the CSV has no {needed!r} column (header: "
                                    f"{', '.join(header) or 'empty'}); import the queue's "
                                    "queue.csv with its decision column filled in")
        for number, record in enumerate(reader, start=2):
            values = {k: (v or "").strip() for k, v in record.items() if k is not None}
            if not values.get("decision"):
                skipped += 1
                continue
            decided_at = None
            if values.get("decided_at"):
                try:
                    decided_at = parse_as_of(values["decided_at"])
                except AccountRiskError:
                    problems.append(f"row {number}: decided_at {values['decided_at']!r} is "
                                    "not an ISO date-time (write 2026-09-12T14:00:00Z)")
            rows.append(_Row(number, values.get("account_id", ""), values["decision"],
                             values.get("reviewer", ""), values.get("note") or None,
                             decided_at, values))
    return rows, skipped, problems


def _problems(rows: list[_Row], reviewer: str | None, known: Known | None) -> list[str]:
    problems = []
    unknown = set(unknown_accounts([r.account_id for r in rows if r.account_id], known)) \
        if known is not None else set()
    first: dict[str, _Row] = {}
    for r in rows:
        if not r.account_id:
            problems.append(f"row {r.number}: account_id is empty")
        elif r.account_id in unknown:
            problems.append(f"row {r.number}: account {r.account_id!r} is not in the loaded "
                            "work directory")
        if r.decision not in DECISIONS:
            problems.append(f"row {r.number}: decision {r.decision!r} is unknown; use one of "
                            f"{', '.join(DECISIONS)}")
        if not (r.reviewer or reviewer):
            problems.append(f"row {r.number}: no reviewer; fill the reviewer column or give "
                            "--reviewer")
        earlier = first.setdefault(r.account_id, r)
        if earlier is not r and (earlier.decision, earlier.reviewer or reviewer) != \
                (r.decision, r.reviewer or reviewer):
            problems.append(f"row {r.number}: account {r.account_id!r} conflicts with row "
                            f"{earlier.number} ({r.decision} by {r.reviewer or reviewer} vs "
                            f"{earlier.decision} by {earlier.reviewer or reviewer}); keep "
                            "one row per account")
    return problems


def _float(text: str | None) -> float | None:
    try:
        return float(text) if text else None
    except ValueError:
        return None


def _decision(r: _Row, reviewer: str | None, shown: Shown | None, now: datetime,
              batch: str) -> Decision:
    values: dict[str, Any] = r.values
    score = _float(values.get("score"))
    return Decision(
        account_id=r.account_id, decision=r.decision, reviewer=r.reviewer or reviewer or "",
        decided_at=r.decided_at or now, note=r.note,
        model_version=values.get("model_version") or (shown.model_version if shown else None),
        score=score if score is not None else (shown.score if shown else None),
        band=values.get("band") or (shown.band if shown else None),
        reason_features=shown.reason_features if shown else (), source="csv", batch=batch)


def import_decisions_csv(path: str | Path, *, workdir: str | Path = DEFAULT_WORKDIR,
                         reviewer: str | None = None, known_accounts: Known | None = None,
                         store: DecisionStore | None = None) -> ImportResult:
    """Record the decisions of a filled-in queue CSV, all or none (see the module doc).

    ``reviewer`` names the reviewer of rows whose reviewer cell is empty;
    ``known_accounts`` rejects accounts the loaded folder lacks. Raises
    :class:`DecisionError` (its ``problems``: one line per faulty row) and records nothing
    when any row is wrong."""
    file = Path(path)
    if not file.is_file():
        raise DecisionError(f"{file} does not exist; give the queue CSV with its decision "
                            "column filled in")
    batch = hashlib.sha256(file.read_bytes()).hexdigest()
    store = store or open_store(workdir)
    if store.has_batch(batch):
        return ImportResult(already_imported=True, batch=batch)
    rows, skipped, problems = _read(file)
    problems += _problems(rows, reviewer.strip() if reviewer else None, known_accounts)
    if problems:
        problems.sort(key=lambda p: int(p.split(":")[0].split()[1]))
        listed = "\n  ".join(problems[:SHOWN_PROBLEMS])
        more = (f"\n  ... and {len(problems) - SHOWN_PROBLEMS} more"
                if len(problems) > SHOWN_PROBLEMS else "")
        raise DecisionError(f"{file}: {len(problems)} problem(s); nothing was recorded. Fix "
                            f"these rows and import again:\n  {listed}{more}", problems)
    shown = shown_for(workdir, [r.account_id for r in rows])
    now = utc_now()
    unique: dict[str, _Row] = {}
    for r in rows:
        unique.setdefault(r.account_id, r)
    decisions = [_decision(r, reviewer, shown.get(r.account_id), now, batch)
                 for r in unique.values()]
    store.append(decisions)
    return ImportResult(recorded=decisions, skipped_rows=skipped, batch=batch)
