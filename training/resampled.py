"""Bootstrap resamples read as row counts: each score is sorted once, and a resample's
PR-AUC or ROC AUC is a weighted pass over that order.

A resample drawn with replacement repeats some rows and leaves others out; repeated rows
tie with themselves, so the metrics of the resampled rows equal those of every row weighted
by how often it was drawn. Sorting once per score instead of once per resample makes a
bootstrap of a million validation decisions take seconds rather than hours, with the same
numbers (:func:`.metrics.average_precision`, :func:`.metrics.roc_auc` on the drawn rows).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np


def resample_counts(rows: int, resamples: int, seed: int) -> Iterator[np.ndarray]:
    """How often each of ``rows`` rows is drawn in each resample (the same draws, in the
    same order, as ``default_rng(seed).integers(0, rows, (resamples, rows))``)."""
    rng = np.random.default_rng(seed)
    for _ in range(resamples):
        yield np.bincount(rng.integers(0, rows, rows), minlength=rows).astype(np.float64)


class Ranked:
    """One score vector over labelled rows (``y`` 0/1), sorted once and grouped by ties."""

    def __init__(self, y: np.ndarray, s: np.ndarray) -> None:
        order = np.argsort(-np.asarray(s, dtype=np.float64), kind="stable")
        ranked = np.asarray(s, dtype=np.float64)[order]
        self.order = order
        self.y = np.asarray(y, dtype=np.float64)[order]
        self.ends = np.r_[np.flatnonzero(np.diff(ranked) != 0), len(ranked) - 1]

    def _grouped(self, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Positives and rows drawn in each tie group, highest score first."""
        c = counts[self.order]
        positives = np.diff(np.r_[0.0, np.cumsum(self.y * c)[self.ends]])
        drawn = np.diff(np.r_[0.0, np.cumsum(c)[self.ends]])
        return positives, drawn

    def average_precision(self, counts: np.ndarray) -> float:
        """PR-AUC of the rows drawn ``counts`` times each; NaN without a positive drawn."""
        positives, drawn = self._grouped(counts)
        tp, n = np.cumsum(positives), np.cumsum(drawn)
        if tp[-1] <= 0:
            return float("nan")
        precision = np.divide(tp, n, out=np.zeros_like(tp), where=n > 0)
        return float(np.sum(positives / tp[-1] * precision))

    def roc_auc(self, counts: np.ndarray) -> float:
        """ROC AUC (ties count half) of the rows drawn ``counts`` times each; NaN with one
        class drawn."""
        positives, drawn = self._grouped(counts)
        negatives = drawn - positives
        total_pos, total_neg = positives.sum(), negatives.sum()
        if total_pos <= 0 or total_neg <= 0:
            return float("nan")
        above = np.cumsum(positives) - positives  # positives scored strictly higher
        return float(np.sum(negatives * (above + 0.5 * positives)) / (total_pos * total_neg))
