"""The judge of validation: pooled out-of-fold scores, their PR-AUC on the validation
decisions, and paired bootstrap standard errors (:mod:`.selection` chooses with it).

An export of bans alone leaves validation nothing to tell apart (every decision is a
confirmed account): where fewer than :data:`MIN_JUDGED_CLEARED` cleared decisions validate,
the held-out unlabelled accounts stand in for the cleared.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any, Generic, TypeVar

import numpy as np

from .dataset import TrainingSet
from .matrix import column
from .metrics import average_precision, roc_auc
from .resampled import Ranked, resample_counts

MIN_JUDGED_CLEARED = 5  # fewer validate: held-out unlabelled accounts stand in for them
BOOTSTRAP = 200
Key = TypeVar("Key", bound=Hashable)


class Judge(Generic[Key]):
    """Pooled out-of-fold scores and their PR-AUC on the validation decisions, with paired
    bootstrap standard errors of differences."""

    def __init__(self, ts: TrainingSet, valid: Sequence[np.ndarray], seed: int) -> None:
        n = ts.rows.num_rows
        self.labelled = column(ts.rows, "_labelled").astype(bool)
        self.y = np.nan_to_num(column(ts.rows, "_label"))
        validated = np.zeros(n, dtype=bool)
        for mask in valid:
            validated |= mask
        self.judged = validated & self.labelled
        # An export of bans alone leaves validation nothing to tell apart (every decision is
        # a confirmed account): the held-out unlabelled accounts stand in for the cleared.
        self.against_unlabelled = int((self.judged & (self.y == 0)).sum()) < MIN_JUDGED_CLEARED
        if self.against_unlabelled:
            self.judged = validated & (self.labelled | column(ts.rows, "_holdout").astype(bool))
        self.oof: dict[Key, np.ndarray] = {}
        self.n, self.seed = n, seed

    def add(self, valid: np.ndarray, found: dict[Key, np.ndarray]) -> None:
        """Record each candidate's raw scores on one fold's validation rows ``valid``."""
        for c, raw in found.items():
            self.oof.setdefault(c, np.full(self.n, np.nan))[valid] = raw

    def rows(self, candidates: Sequence[Key]) -> np.ndarray:
        """Validation decisions every one of ``candidates`` scored (one may skip a fold)."""
        common = self.judged.copy()
        for c in candidates:
            common &= ~np.isnan(self.oof[c])
        return common

    def scores(self, candidates: Sequence[Key], rows: np.ndarray,
               offset: np.ndarray | None = None) -> dict[Key, float]:
        """PR-AUC of each candidate's scores (plus ``offset``) on the decisions in ``rows``."""
        extra = 0.0 if offset is None else offset[rows]
        return {c: average_precision(self.y[rows], self.oof[c][rows] + extra)
                for c in candidates}

    def gain_se(self, rows: np.ndarray, base: np.ndarray, others: dict[Any, np.ndarray]
                ) -> dict[Any, float]:
        """Standard deviation of each score's PR-AUC gain over ``base`` across bootstrap
        resamples of the decisions in ``rows``."""
        y = self.y[rows]
        if not others or y.sum() == 0:
            return {}
        ref = Ranked(y, base[rows])
        ranked = {k: Ranked(y, raw[rows]) for k, raw in others.items()}
        gains: dict[Any, list[float]] = {k: [] for k in others}
        for counts in resample_counts(len(y), BOOTSTRAP, self.seed):
            if not 0 < counts @ y < len(y):
                continue
            base_ap = ref.average_precision(counts)
            for k, r in ranked.items():
                gains[k].append(r.average_precision(counts) - base_ap)
        return {k: float(np.std(g)) if g else float("inf") for k, g in gains.items()}

    def roc_auc_se(self, rows: np.ndarray, raw: np.ndarray) -> tuple[float, float]:
        """ROC AUC of ``raw`` on the decisions in ``rows`` and its standard deviation across
        the same bootstrap resamples."""
        y, s = self.y[rows], raw[rows]
        if not 0 < y.sum() < len(y):
            return float("nan"), float("inf")
        ranked = Ranked(y, s)
        found = [ranked.roc_auc(counts) for counts in resample_counts(len(y), BOOTSTRAP, self.seed)
                 if 0 < counts @ y < len(y)]
        return roc_auc(y, s), float(np.std(found)) if found else float("inf")

    def pick(self, default: Key, candidates: Sequence[Key], margin: float,
             offset: np.ndarray | None = None
             ) -> tuple[Key, dict[Key, float], dict[Key, float], np.ndarray]:
        """``default`` unless a candidate's gain over it exceeds ``margin`` standard errors
        (the largest such gain wins). With ``offset`` (the red flags a model will ship
        with) the gain is judged on the scores plus it, and a candidate must also score at
        least as well as ``default`` without it; the scores returned are the judged ones."""
        rows = self.rows(candidates)
        raw = {c: self.oof[c] if offset is None else self.oof[c] + offset for c in candidates}
        scores = self.scores(candidates, rows, offset)
        alone = self.scores(candidates, rows) if offset is not None else scores
        others = {c: raw[c] for c in candidates if c != default}
        se = self.gain_se(rows, raw[default], others)
        chosen, best_gain = default, 0.0
        for c in others:
            gain = scores[c] - scores[default]
            if (gain > margin * se.get(c, float("inf")) and gain > best_gain
                    and alone[c] >= alone[default]):
                chosen, best_gain = c, gain
        return chosen, scores, se, rows
