"""Metrics on examples small enough to compute by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from accountrisk.training.metrics import (
    average_precision,
    brier,
    budget_label,
    budget_threshold,
    evaluate,
    flag_probability,
    ring_recall,
    roc_auc,
)


def test_average_precision_by_hand():
    # Ranks: + (P 1/1, R 1/2), - , + (P 2/3, R 2/2), -  ->  1/2 * 1 + 1/2 * 2/3
    y, s = [1, 0, 1, 0], [0.9, 0.8, 0.7, 0.1]
    assert average_precision(y, s) == pytest.approx(0.5 + 1 / 3)


def test_average_precision_treats_ties_as_ties():
    # All tied: one threshold, precision 1/2 at recall 1, whatever the row order.
    assert average_precision([1, 0], [0.5, 0.5]) == pytest.approx(0.5)
    assert average_precision([0, 1], [0.5, 0.5]) == pytest.approx(0.5)
    assert math.isnan(average_precision([0, 0], [0.1, 0.2]))


def test_roc_auc_by_hand_with_ties():
    # Positive-negative pairs ranked right: (.9>.8), (.9>.1), (.7<.8), (.7>.1) -> 3/4.
    assert roc_auc([1, 0, 1, 0], [0.9, 0.8, 0.7, 0.1]) == pytest.approx(0.75)
    assert roc_auc([1, 0], [0.5, 0.5]) == pytest.approx(0.5)
    assert math.isnan(roc_auc([1, 1], [0.2, 0.3]))


@pytest.mark.parametrize("seed", range(5))
def test_roc_auc_is_the_share_of_pairs_ranked_right_with_ties_as_halves(seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, 60)
    s = rng.integers(0, 8, 60).astype(float)  # few values: many ties, across the classes
    pos, neg = s[y == 1][:, None], s[y == 0][None, :]
    pairs = np.mean((pos > neg) + 0.5 * (pos == neg))
    assert roc_auc(y, s) == pytest.approx(pairs, abs=1e-12)


def test_budget_threshold_splits_ties():
    population = np.r_[np.ones(4), np.zeros(96)]  # 4 tied at the top of 100
    threshold, tie_share = budget_threshold(population, 0.02)  # a budget of 2 rows
    assert threshold == 1.0
    assert tie_share == pytest.approx(0.5)
    assert flag_probability([1.0, 0.0, 2.0], threshold, tie_share).tolist() == [0.5, 0.0, 1.0]


def test_precision_and_recall_at_budget_from_a_population():
    population = np.arange(200, dtype=float)  # top 1% = 2 rows: scores 199 and 198
    y = [1, 1, 0, 1]
    s = [199.5, 150.0, 198.0, 10.0]  # flagged: rows 0 and 2
    m = evaluate(y, s, population=population, budgets=(0.01,))
    assert m["precision_at_1pct"] == pytest.approx(0.5)
    assert m["recall_at_1pct"] == pytest.approx(1 / 3)


def test_ring_recall_counts_rings_with_a_member_in_the_budget():
    flagged = np.array([1.0, 0.0, 0.0, 0.5, 0.5, 0.0])
    rings = ["a", "a", "b", "c", "c", None]
    # a: caught; b: missed; c: 1 - 0.5 * 0.5 = 0.75  ->  (1 + 0 + 0.75) / 3
    assert ring_recall(flagged, rings) == pytest.approx(1.75 / 3)
    assert math.isnan(ring_recall(flagged, [None] * 6))


def test_brier_and_labels():
    assert brier([1, 0], [0.8, 0.4]) == pytest.approx((0.04 + 0.16) / 2)
    assert brier([1, 0], [0.8, 0.4], w=[3, 1]) == pytest.approx((3 * 0.04 + 0.16) / 4)
    assert [budget_label(b) for b in (0.005, 0.01, 0.02)] == ["0.5pct", "1pct", "2pct"]


def test_evaluate_reports_every_metric():
    y = [1, 0, 0, 1, 0]
    m = evaluate(y, [0.9, 0.1, 0.2, 0.8, 0.3], probability=[0.9, 0.1, 0.2, 0.8, 0.3],
                 rings=["r", None, None, "r", None])
    for key in ("pr_auc", "roc_auc", "brier", "precision_at_0.5pct", "recall_at_2pct",
                "ring_recall_at_1pct"):
        assert key in m
    assert m["pr_auc"] == pytest.approx(1.0)
    assert m["precision_at_1pct"] == pytest.approx(1.0)  # the single top row is positive


def test_band_counts_from_a_sample_are_scaled_to_the_population():
    from accountrisk.training.evaluation import band_thresholds

    raw = np.arange(1000, dtype=float)
    (whole,) = band_thresholds(raw, (("high", 0.01),))
    (sampled,) = band_thresholds(raw, (("high", 0.01),), weight=20.0)
    assert whole["accounts"] == 10 and sampled["accounts"] == 200
    assert sampled["raw_threshold"] == whole["raw_threshold"] == 990.0
