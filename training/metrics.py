"""Ranking and probability metrics in plain numpy, tie-aware.

Rule scores take few distinct values, so ties are the norm: every metric here treats tied
scores as tied (an expected value over random tie-breaking), never by row order.

Review budgets are shares of a *population* of scored accounts (review capacity: "we can
look at 1% of active accounts"). When a population is given, the budget's threshold comes
from its score distribution and the evaluated rows (e.g. labelled decisions) are flagged
when they clear it; without one, the evaluated rows are their own population.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

BUDGETS: tuple[float, ...] = (0.005, 0.01, 0.02)


def budget_label(share: float) -> str:
    """``0.005`` -> ``"0.5pct"``, ``0.01`` -> ``"1pct"``: the suffix of budget metrics."""
    text = f"{share * 100:.3f}".rstrip("0").rstrip(".")
    return f"{text}pct"


def _arrays(y: ArrayLike, s: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y, dtype=np.float64)
    s = np.asarray(s, dtype=np.float64)
    if y.shape != s.shape:
        raise ValueError(f"labels and scores differ in length: {y.shape} vs {s.shape}")
    if np.isnan(s).any():
        raise ValueError("scores contain NaN")
    return y, s


def _grouped(y: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct scores descending, with cumulative positives and rows at each of them."""
    order = np.argsort(-s, kind="stable")
    s_sorted, y_sorted = s[order], y[order]
    last = np.r_[np.flatnonzero(np.diff(s_sorted) != 0), len(s_sorted) - 1]
    return s_sorted[last], np.cumsum(y_sorted)[last], (last + 1).astype(np.float64)


def pr_curve(y: ArrayLike, s: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """(precision, recall) at every distinct score threshold, highest threshold first."""
    y, s = _arrays(y, s)
    if len(y) == 0 or y.sum() == 0:
        return np.array([]), np.array([])
    _, tp, n = _grouped(y, s)
    return tp / n, tp / y.sum()


def average_precision(y: ArrayLike, s: ArrayLike) -> float:
    """PR-AUC as average precision: sum over thresholds of precision x recall gained.

    NaN when there is no positive.
    """
    precision, recall = pr_curve(y, s)
    if len(precision) == 0:
        return float("nan")
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def weighted_average_precision(y: ArrayLike, s: ArrayLike, w: ArrayLike) -> float:
    """PR-AUC with row weights (a sampled row standing for ``w`` accounts), tie-aware like
    :func:`average_precision`; NaN when no positive has weight."""
    y, s = _arrays(y, s)
    w = np.asarray(w, dtype=np.float64)
    order = np.argsort(-s, kind="stable")
    s_sorted, yw, ww = s[order], (y * w)[order], w[order]
    last = np.r_[np.flatnonzero(np.diff(s_sorted) != 0), len(s_sorted) - 1]
    tp, total = np.cumsum(yw)[last], np.cumsum(ww)[last]
    if len(tp) == 0 or tp[-1] <= 0:
        return float("nan")
    precision = tp / total
    return float(np.sum(np.diff(np.r_[0.0, tp / tp[-1]]) * precision))


def roc_auc(y: ArrayLike, s: ArrayLike) -> float:
    """Area under the ROC curve (Mann-Whitney with mid-ranks for ties); NaN if one class."""
    y, s = _arrays(y, s)
    positives = int(y.sum())
    negatives = len(y) - positives
    if positives == 0 or negatives == 0:
        return float("nan")
    order = np.argsort(s, kind="stable")
    s_sorted = s[order]
    ranks = np.empty(len(s), dtype=np.float64)
    starts = np.r_[0, np.flatnonzero(np.diff(s_sorted) != 0) + 1]
    ends = np.r_[starts[1:], len(s)]
    ranks[order] = np.repeat((starts + ends + 1) / 2.0, ends - starts)  # mean 1-based rank
    rank_sum = ranks[y == 1].sum()
    return float((rank_sum - positives * (positives + 1) / 2.0) / (positives * negatives))


def budget_threshold(population: ArrayLike, share: float) -> tuple[float, float]:
    """The score threshold that takes the top ``share`` of ``population``, and the share of
    the rows tied exactly at it that fit in the budget (ties are split, not ordered)."""
    pop = np.sort(np.asarray(population, dtype=np.float64))[::-1]
    if len(pop) == 0:
        raise ValueError("the population to take a budget from is empty")
    k = min(len(pop), max(1, int(round(share * len(pop)))))
    threshold = pop[k - 1]
    above = int(np.sum(pop > threshold))
    tied = int(np.sum(pop == threshold))
    return float(threshold), (k - above) / tied


def flag_probability(s: ArrayLike, threshold: float, tie_share: float) -> np.ndarray:
    """Probability that each score is in the budget: 1 above, ``tie_share`` at, 0 below."""
    s = np.asarray(s, dtype=np.float64)
    return np.where(s > threshold, 1.0, np.where(s == threshold, tie_share, 0.0))


def ring_recall(flagged: np.ndarray, rings: Sequence[object]) -> float:
    """Share of rings with at least one member in the budget (members flagged
    independently with their flag probability); NaN when no row belongs to a ring."""
    missed: dict[object, float] = {}
    for p, ring in zip(flagged, rings):
        if ring is None or (isinstance(ring, float) and np.isnan(ring)):
            continue
        missed[ring] = missed.get(ring, 1.0) * (1.0 - float(p))
    if not missed:
        return float("nan")
    return float(np.mean([1.0 - m for m in missed.values()]))


def brier(y: ArrayLike, p: ArrayLike, w: ArrayLike | None = None) -> float:
    """Mean squared difference between probability and outcome (optionally weighted)."""
    y, p = _arrays(y, p)
    if len(y) == 0:
        return float("nan")
    weights = np.ones_like(y) if w is None else np.asarray(w, dtype=np.float64)
    return float(np.sum(weights * (p - y) ** 2) / np.sum(weights))


def evaluate(y: ArrayLike, score: ArrayLike, *,
             probability: ArrayLike | None = None,
             population: ArrayLike | None = None,
             rings: Sequence[object] | None = None,
             budgets: Sequence[float] = BUDGETS) -> dict[str, float]:
    """Every metric for one scorer on one set of rows, as a flat dict.

    ``score`` ranks (any monotone scale); ``probability`` is what Brier judges (omitted:
    no Brier); ``population`` the scores budgets are taken from (default: the rows);
    ``rings`` a ring id per row (None for none) for ring recall.
    """
    y, s = _arrays(y, score)
    out: dict[str, float] = {"rows": float(len(y)), "positives": float(y.sum()),
                             "pr_auc": average_precision(y, s), "roc_auc": roc_auc(y, s)}
    pop = s if population is None else np.asarray(population, dtype=np.float64)
    for share in budgets:
        label = budget_label(share)
        if len(pop) == 0 or len(y) == 0:
            for name in ("precision", "recall", "ring_recall"):
                out[f"{name}_at_{label}"] = float("nan")
            continue
        flagged = flag_probability(s, *budget_threshold(pop, share))
        hits = float(np.sum(flagged * y))
        out[f"precision_at_{label}"] = hits / flagged.sum() if flagged.sum() > 0 else float("nan")
        out[f"recall_at_{label}"] = hits / y.sum() if y.sum() > 0 else float("nan")
        if rings is not None:
            out[f"ring_recall_at_{label}"] = ring_recall(flagged, rings)
    if probability is not None:
        out["brier"] = brier(y, probability)
    return out
