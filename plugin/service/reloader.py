"""The model a service scores with, and the watch that swaps in a new champion.

A ``models:/name@alias`` URI is polled every ``interval_seconds``: when the alias points at
another version, that version is loaded (checksums and feature set verified by
:meth:`RiskScorer.load`), made to score a probe row, and only then swapped in. A failed
check or load keeps the serving model and is reported on ``/readyz`` and in the metrics
until a later reload succeeds. Model directories and pinned versions are not watched.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from accountrisk.features.errors import AccountRiskError, ModelLoadError

from .models import ReloadState

if TYPE_CHECKING:
    from accountrisk.scoring.scorer import RiskScorer

LOG = logging.getLogger("accountrisk.service")
PROBE_AS_OF = "2000-01-01"
Loader = Callable[[str], "RiskScorer"]


def verified_scorer(uri: str, *, registry: str | None = None, threads: int = 2) -> RiskScorer:
    """:meth:`RiskScorer.load` plus a probe: one row with every feature unknown must
    score to a probability, or the model is refused with a :class:`ModelLoadError`."""
    from accountrisk.scoring.scorer import RiskScorer

    scorer = RiskScorer.load(uri, registry=registry, threads=threads)
    columns: dict[str, pa.Array] = {"account_id": pa.array(["probe"], pa.string())}
    for name in scorer.features:
        kind = pa.string() if name in scorer.categories else pa.float64()
        columns[name] = pa.nulls(1, kind)
    try:
        batch = scorer.score_features(pa.table(columns), as_of=PROBE_AS_OF, explain=True)
        score = batch.frame.column("score").to_numpy()
    except AccountRiskError as error:
        raise ModelLoadError(f"{uri} loaded but could not score a probe row: {error}") from None
    if not (len(score) == 1 and np.isfinite(score[0]) and 0.0 <= score[0] <= 1.0):
        raise ModelLoadError(f"{uri} loaded but scored a probe row {score.tolist()}, not a "
                             "probability; the model directory is not usable")
    return scorer


def watched_alias(uri: str) -> bool:
    """Whether ``uri`` names a registry alias (``models:/name@alias``), which moves."""
    return uri.startswith("models:/") and "@" in uri


class ModelHolder:
    """The serving scorer, swapped atomically; with ``interval_seconds`` and an alias URI a
    background thread reloads it when the alias moves."""

    def __init__(self, uri: str, *, registry: str | None = None, threads: int = 2,
                 interval_seconds: float = 30.0,
                 on_swap: Callable[[RiskScorer], None] | None = None,
                 on_reload: Callable[[str], None] | None = None) -> None:
        self.uri = uri
        self.registry = registry
        self.threads = threads
        self.interval_seconds = interval_seconds
        self._on_swap = on_swap or (lambda scorer: None)
        self._on_reload = on_reload or (lambda outcome: None)
        self._scorer: RiskScorer | None = None
        self.loaded_at: datetime | None = None
        self._state = ReloadState(watching=watched_alias(uri) and interval_seconds > 0,
                                  interval_seconds=interval_seconds
                                  if watched_alias(uri) and interval_seconds > 0 else None)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._check_lock = threading.Lock()

    # -- the serving model ------------------------------------------------------------------
    def load(self) -> RiskScorer:
        """Load and verify the model at start-up (raises :class:`ModelLoadError`)."""
        scorer = verified_scorer(self.uri, registry=self.registry, threads=self.threads)
        self._swap(scorer)
        return scorer

    @property
    def scorer(self) -> RiskScorer:
        """The scorer serving now (read once per request: a swap never splits one)."""
        if self._scorer is None:
            raise ModelLoadError(f"no model is loaded yet from {self.uri}")
        return self._scorer

    @property
    def loaded(self) -> bool:
        return self._scorer is not None

    def state(self) -> ReloadState:
        """A copy of the watch's state, for /readyz."""
        return self._state.model_copy()

    def _swap(self, scorer: RiskScorer) -> None:
        self._scorer = scorer  # one reference assignment: atomic for readers
        self.loaded_at = datetime.now(UTC)
        self._on_swap(scorer)

    # -- the watch --------------------------------------------------------------------------
    def check_once(self) -> bool:
        """Look up the alias and reload if it moved; True when a new model was swapped in.
        Failures are recorded (see :meth:`state`), never raised."""
        from accountrisk.scoring._registry import registered_version

        with self._check_lock:
            now = datetime.now(UTC)
            try:
                version = registered_version(self.uri, self.registry)
                current = self._scorer.model_version if self._scorer else None
                if version == current:
                    self._state = self._state.model_copy(update={"last_check_at": now})
                    return False
                LOG.info("alias %s moved to %s (serving %s): loading it", self.uri,
                         version, current)
                scorer = verified_scorer(f"models:/{version}", registry=self.registry,
                                         threads=self.threads)
            except AccountRiskError as error:
                self._failed(now, str(error))
                return False
            except Exception as error:  # the watch must survive anything
                self._failed(now, f"{type(error).__name__}: {error}")
                return False
            self._swap(scorer)
            self._state = self._state.model_copy(update={
                "last_check_at": now, "failed": False, "error": None, "failed_at": None})
            self._on_reload("loaded")
            LOG.info("now serving %s", scorer.model_version)
            return True

    def _failed(self, now: datetime, message: str) -> None:
        if message != self._state.error:
            LOG.warning("reload of %s failed; still serving %s: %s", self.uri,
                        self._scorer.model_version if self._scorer else "nothing", message)
        self._state = self._state.model_copy(update={
            "last_check_at": now, "failed": True, "error": message, "failed_at": now})
        self._on_reload("failed")

    def start(self) -> None:
        """Start polling (only for a watched alias)."""
        if not self._state.watching or self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._poll, name="accountrisk-reload",
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop polling and wait for the thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

    def _poll(self) -> None:
        while not self._stop.wait(self.interval_seconds):
            self.check_once()
