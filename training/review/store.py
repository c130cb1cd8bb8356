"""The decision store: one row per decision a reviewer took, never updated or deleted.

A correction is a new row; the latest decision of an account is the one that counts. The
embedded store is its own DuckDB file in the work directory (``decisions.duckdb``), opened
for each operation and closed after it, so that it is never blocked by the features
database and survives reloads of the data folder. Another store (PostgreSQL) implements
:class:`DecisionStore` with the same columns.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import duckdb
import pyarrow as pa

from ...features.errors import UsageError
from ...features.workspace import DEFAULT_WORKDIR

DECISIONS = ("confirmed_fronting", "cleared", "escalated", "needs_info")
# Only final decisions are labels; escalated and needs_info leave the case open.
LABEL_OF = {"confirmed_fronting": 1, "cleared": 0}
STORE_FILE = "decisions.duckdb"
LOCK_WAIT_SECONDS = 10.0
COLUMNS = ("decision_id", "account_id", "decision", "reviewer", "note", "decided_at",
           "recorded_at", "model_version", "score", "band", "reason_features", "source",
           "batch")
_SCHEMA = """CREATE TABLE IF NOT EXISTS decisions (
    decision_id VARCHAR PRIMARY KEY, account_id VARCHAR NOT NULL, decision VARCHAR NOT NULL,
    reviewer VARCHAR NOT NULL, note VARCHAR, decided_at TIMESTAMP NOT NULL,
    recorded_at TIMESTAMP NOT NULL, model_version VARCHAR, score DOUBLE, band VARCHAR,
    reason_features VARCHAR[], source VARCHAR NOT NULL, batch VARCHAR)"""


class DecisionError(UsageError):
    """A decision (or a file of them) cannot be recorded; ``problems`` lists every row's
    fault, and nothing was recorded."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = list(problems or [])


@dataclass(frozen=True)
class Decision:
    """One reviewer decision, with the score the reviewer was shown (when known).
    Times are naive UTC."""

    account_id: str
    decision: str
    reviewer: str
    decided_at: datetime
    note: str | None = None
    model_version: str | None = None
    score: float | None = None
    band: str | None = None
    reason_features: tuple[str, ...] = ()
    source: str = "cli"
    batch: str | None = None
    decision_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    recorded_at: datetime = field(default_factory=lambda: utc_now())

    @property
    def label(self) -> int | None:
        """1 confirmed, 0 cleared, None for decisions that are not labels."""
        return LABEL_OF.get(self.decision)

    def as_json(self) -> dict[str, Any]:
        """The decision as JSON-ready values (times ISO 8601, UTC)."""
        return {"account_id": self.account_id, "decision": self.decision,
                "reviewer": self.reviewer, "note": self.note,
                "decided_at": self.decided_at.isoformat() + "Z",
                "model_version": self.model_version, "score": self.score, "band": self.band}


def utc_now() -> datetime:
    """Now in UTC, naive (as every timestamp the work directory stores)."""
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def check_decision(name: str) -> str:
    """``name`` when it is a known decision; else :class:`DecisionError` listing them."""
    if name not in DECISIONS:
        raise DecisionError(f"unknown decision {name!r}; use one of {', '.join(DECISIONS)}")
    return name


class DecisionStore(Protocol):
    """Where decisions live. ``append`` writes all rows or none."""

    def append(self, decisions: Sequence[Decision]) -> int: ...

    def read(self, account_ids: Iterable[str] | None = None,
             before: datetime | None = None) -> list[Decision]: ...

    def has_batch(self, batch: str) -> bool: ...


class DuckDBDecisionStore:
    """The embedded store: ``decisions.duckdb`` in the work directory."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    @contextmanager
    def _connect(self, *, write: bool) -> Iterator[duckdb.DuckDBPyConnection]:
        if write:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + LOCK_WAIT_SECONDS
        while True:
            try:
                con = duckdb.connect(str(self.path), read_only=not write)
                break
            except duckdb.IOException as error:  # another process writes a decision now
                if "lock" not in str(error).lower() or time.monotonic() > deadline:
                    raise DecisionError(f"the decision store {self.path} cannot be opened: "
                                        f"{error}; retry when the other writer is done"
                                        ) from None
                time.sleep(0.1)
        try:
            con.execute("SET TimeZone = 'UTC'")
            if write:
                con.execute(_SCHEMA)
            yield con
        finally:
            con.close()

    def append(self, decisions: Sequence[Decision]) -> int:
        """Write every decision in one transaction; return how many."""
        for d in decisions:
            check_decision(d.decision)
        if not decisions:
            return 0
        rows = pa.table({
            "decision_id": [d.decision_id for d in decisions],
            "account_id": [d.account_id for d in decisions],
            "decision": [d.decision for d in decisions],
            "reviewer": [d.reviewer for d in decisions],
            "note": pa.array([d.note for d in decisions], pa.string()),
            "decided_at": pa.array([d.decided_at for d in decisions], pa.timestamp("us")),
            "recorded_at": pa.array([d.recorded_at for d in decisions], pa.timestamp("us")),
            "model_version": pa.array([d.model_version for d in decisions], pa.string()),
            "score": pa.array([d.score for d in decisions], pa.float64()),
            "band": pa.array([d.band for d in decisions], pa.string()),
            "reason_features": pa.array([list(d.reason_features) for d in decisions],
                                        pa.list_(pa.string())),
            "source": [d.source for d in decisions],
            "batch": pa.array([d.batch for d in decisions], pa.string())})
        with self._connect(write=True) as con:
            con.register("_new_decisions", rows)
            con.execute("BEGIN TRANSACTION")
            try:
                con.execute(f"INSERT INTO decisions ({', '.join(COLUMNS)}) SELECT "
                            f"{', '.join(COLUMNS)} FROM _new_decisions")
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
            finally:
                con.unregister("_new_decisions")
        return len(rows)

    def read(self, account_ids: Iterable[str] | None = None,
             before: datetime | None = None) -> list[Decision]:
        """Decisions (of ``account_ids`` when given, decided before ``before`` when given),
        oldest first."""
        if not self.path.exists():
            return []
        where: list[str] = ["TRUE"]
        params: dict[str, Any] = {}
        if account_ids is not None:
            where.append("list_contains($ids, account_id)")
            params["ids"] = sorted(set(account_ids))
        if before is not None:
            where.append("decided_at < $before")
            params["before"] = before
        with self._connect(write=False) as con:
            found = con.execute(f"SELECT {', '.join(COLUMNS)} FROM decisions WHERE "
                                f"{' AND '.join(where)} ORDER BY decided_at, recorded_at",
                                params).fetchall()
        return [_decision(dict(zip(COLUMNS, row))) for row in found]

    def has_batch(self, batch: str) -> bool:
        """Whether a file with this digest was imported already."""
        if not self.path.exists():
            return False
        with self._connect(write=False) as con:
            return bool(con.execute("SELECT count(*) FROM decisions WHERE batch = $b",
                                    {"b": batch}).fetchall()[0][0])


def _decision(row: dict[str, Any]) -> Decision:
    row["reason_features"] = tuple(row["reason_features"] or ())
    return Decision(**row)


def open_store(workdir: str | Path = DEFAULT_WORKDIR) -> DecisionStore:
    """The decision store: PostgreSQL when ``ACCOUNTRISK_DECISION_STORE`` names a
    ``postgresql://`` database (shared by every work directory), else the work directory's
    own ``decisions.duckdb``."""
    configured = os.environ.get("ACCOUNTRISK_DECISION_STORE", "").strip()
    if configured:
        from .pg_store import PostgresDecisionStore

        return PostgresDecisionStore(configured)
    return DuckDBDecisionStore(Path(workdir) / STORE_FILE)


def record_decision(account_id: str, decision: str, reviewer: str, *,
                    workdir: str | Path = DEFAULT_WORKDIR, note: str | None = None,
                    decided_at: datetime | None = None, known_accounts: Any = None,
                    shown: Any = None, source: str = "cli",
                    store: DecisionStore | None = None) -> Decision:
    """Record one decision and return it (what ``accountrisk review`` and the service's
    ``POST /v1/decisions`` call).

    ``known_accounts`` (a set of ids, or a callable taking a list of ids and returning the
    known ones) rejects an account the loaded folder does not have; ``shown`` is the
    :class:`~.shown.Shown` score of the account when known (its model version, score,
    band and reasons are stored with the decision).
    """
    from ...features.pipeline import parse_as_of
    from .accounts import unknown_accounts

    check_decision(decision)
    if not reviewer or not reviewer.strip():
        raise DecisionError("a decision needs a reviewer; give --reviewer NAME")
    if known_accounts is not None and unknown_accounts([account_id], known_accounts):
        raise DecisionError(f"account {account_id!r} is not in the loaded work directory; "
                            "check the id, or load the folder that has it (--data DATA)")
    made = Decision(account_id=account_id, decision=decision, reviewer=reviewer.strip(),
                    decided_at=parse_as_of(decided_at) if decided_at else utc_now(),
                    note=note or None,
                    model_version=getattr(shown, "model_version", None),
                    score=getattr(shown, "score", None), band=getattr(shown, "band", None),
                    reason_features=tuple(getattr(shown, "reason_features", ()) or ()),
                    source=source)
    (store or open_store(workdir)).append([made])
    return made
