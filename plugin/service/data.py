"""The contract data behind ``/v1/accounts`` and ``/v1/queue``: one loaded work directory.

At start-up the source is validated and loaded into the work directory as ``accountrisk
validate`` does (reused when it already holds this very load), then held open read-only,
so other read-only commands can share the work directory while the service runs (a writer
waits for the service to stop). Features are built once per as-of time and kept with the
helper tables evidence reads (:func:`build_features_for_evidence`); asking for another
as-of rebuilds them. One lock serializes every use of the DuckDB connection.
"""

from __future__ import annotations

import threading
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from accountrisk.features.errors import FeatureError, UsageError
from accountrisk.features.pipeline import parse_as_of
from accountrisk.scoring.models import AccountScore

from .errors import BadRequest, NotFound

DEFAULT_QUEUE_BAND = "elevated"  # as `accountrisk queue`


def as_of_moment(text: str | None, default: datetime | None) -> datetime:
    """A request's as-of time (naive UTC), or the service's default; a
    :class:`BadRequest` naming the parameter when neither is usable."""
    if text is None or not text.strip():
        if default is None:
            raise BadRequest("as_of is missing",
                             "add ?as_of=2026-10-01 (an ISO date or date-time, UTC), or "
                             "start the service with --as-of to set a default")
        return default
    try:
        return parse_as_of(text)
    except FeatureError as error:
        raise BadRequest(f"as_of: {error}", "write it like 2026-10-01 or "
                                            "2026-10-01T12:00:00Z") from None


class DataStore:
    """A loaded work directory, held open read-only, with features cached per as-of."""

    def __init__(self, source: str | Path, workdir: str | Path, *,
                 memory_limit: str | None = None) -> None:
        self.source = str(source)
        self.workdir = Path(workdir)
        self.memory_limit = memory_limit
        self._lock = threading.Lock()
        self._stack = ExitStack()
        self._engine: Any = None
        self._as_of: datetime | None = None
        self._features: pa.Table | None = None

    def open(self) -> None:
        """Validate and load the source (a :class:`ContractError` when it is unusable),
        then hold the work directory open read-only."""
        from accountrisk.features.engines import open_engine

        def opened() -> Any:
            return open_engine("duckdb", data_dir=self.source, workdir=self.workdir,
                               memory_limit=self.memory_limit)

        with opened():  # loads it (as a writer), or finds it loaded
            pass
        self._engine = self._stack.enter_context(opened())  # now read-only

    def close(self) -> None:
        """Release the work directory."""
        with self._lock:
            self._stack.close()
            self._engine, self._features, self._as_of = None, None, None

    def _features_at(self, moment: datetime) -> pa.Table:
        from accountrisk.scoring.evidence import build_features_for_evidence

        if self._engine is None:
            raise UsageError("the service's data store is closed")
        if self._features is None or self._as_of != moment:
            self._features = None  # a failed build must not leave the old as-of's rows
            self._features = build_features_for_evidence(self._engine, moment)
            self._as_of = moment
        return self._features

    def warm(self, moment: datetime) -> None:
        """Build the features of ``moment`` now (the first request then does not wait)."""
        with self._lock:
            self._features_at(moment)

    def _explained(self, scorer: Any, account_id: str, moment: datetime, *,
                   whole: bool) -> tuple[AccountScore, Any]:
        """One account's result with reasons and evidence, as ``accountrisk explain``
        computes it, and the batch (every account's scores when ``whole``)."""
        features = self._features_at(moment)
        batch = scorer.score_database(self._engine, moment, None if whole else [account_id],
                                      reasons_for=False, explain_accounts=[account_id],
                                      features=features)
        if account_id not in batch.explained:
            raise NotFound(f"account {account_id!r} has no row as of {moment:%Y-%m-%d %H:%M} "
                           f"in {self.source}",
                           "check the account id; an account appears only from its "
                           "created_at on, so also check as_of")
        return batch.explained[account_id], batch

    def account(self, scorer: Any, account_id: str, moment: datetime) -> AccountScore:
        """One account's score, reasons and evidence (a :class:`NotFound` if unknown)."""
        with self._lock:
            return self._explained(scorer, account_id, moment, whole=False)[0]

    def report(self, scorer: Any, account_id: str, moment: datetime) -> str:
        """One account's case report page, as ``accountrisk explain --html`` writes it."""
        from accountrisk.plugin.report_files import case_inputs
        from accountrisk.plugin.report_html import render_case_report

        with self._lock:
            result, batch = self._explained(scorer, account_id, moment, whole=True)
            inputs = case_inputs(self._engine, moment, account_id, scores=batch.frame)
            return render_case_report(result, expected_log_odds=scorer.expected_log_odds,
                                      **inputs)

    def queue(self, scorer: Any, moment: datetime, band: str | None, limit: int
              ) -> tuple[str, int, list[AccountScore]]:
        """The review queue as ``accountrisk queue --band`` ranks it (highest score first,
        then account id): the band used, how many accounts it holds, and the first
        ``limit`` with reasons and evidence (only those are explained)."""
        names = scorer.band_names
        chosen = band or (DEFAULT_QUEUE_BAND if DEFAULT_QUEUE_BAND in names or not names
                          else names[-1])
        if chosen not in names:
            raise BadRequest(f"band {chosen!r} is not a band of model "
                             f"{scorer.model_version}",
                             f"give one of: {', '.join(names) or 'this model has no bands'}")
        allowed = pa.array(names[:names.index(chosen) + 1], pa.string())
        with self._lock:
            features = self._features_at(moment)
            every = scorer.score_database(self._engine, moment, reasons_for=False,
                                          evidence=False, features=features).frame
            ranked = every.filter(pc.is_in(every.column("band"), value_set=allowed)) \
                .sort_by([("score", "descending"), ("account_id", "ascending")])
            ids = ranked.column("account_id").slice(0, limit).to_pylist()
            if not ids:
                return chosen, 0, []
            explained = scorer.score_database(self._engine, moment, ids, reasons_for=False,
                                              explain_accounts=ids, features=features)
        return chosen, ranked.num_rows, [explained.explained[a] for a in ids]
