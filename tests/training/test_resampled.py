"""A bootstrap resample read as row counts gives the metrics of the drawn rows."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from accountrisk.training.metrics import average_precision, roc_auc
from accountrisk.training.resampled import Ranked, resample_counts


def test_counts_are_the_draws_of_one_matrix():
    draws = np.random.default_rng(7).integers(0, 13, (5, 13))
    got = list(resample_counts(13, 5, 7))
    assert len(got) == 5
    for row, counts in zip(draws, got, strict=True):
        assert np.array_equal(counts, np.bincount(row, minlength=13))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 1), st.integers(0, 6)), min_size=2, max_size=40),
       st.integers(0, 2**16))
def test_metrics_of_counts_equal_metrics_of_the_drawn_rows(pairs, seed):
    # Scores drawn from a handful of values, so ties are common and cross the classes.
    y = np.array([p[0] for p in pairs], dtype=float)
    s = np.array([p[1] for p in pairs], dtype=float)
    ranked = Ranked(y, s)
    idx = np.random.default_rng(seed).integers(0, len(y), len(y))
    counts = np.bincount(idx, minlength=len(y)).astype(float)
    drawn_y, drawn_s = y[idx], s[idx]
    if drawn_y.sum() == 0:
        assert np.isnan(ranked.average_precision(counts))
    else:
        assert np.isclose(ranked.average_precision(counts),
                          average_precision(drawn_y, drawn_s), atol=1e-12)
    if 0 < drawn_y.sum() < len(idx):
        assert np.isclose(ranked.roc_auc(counts), roc_auc(drawn_y, drawn_s), atol=1e-12)
    else:
        assert np.isnan(ranked.roc_auc(counts))


def test_rows_never_drawn_change_nothing():
    y = np.array([1, 0, 1, 0, 0, 1], dtype=float)
    s = np.array([0.9, 0.8, 0.8, 0.3, 0.2, 0.1])
    counts = np.array([1, 0, 2, 1, 0, 1], dtype=float)
    keep = np.repeat(np.arange(6), counts.astype(int))
    ranked = Ranked(y, s)
    assert np.isclose(ranked.average_precision(counts), average_precision(y[keep], s[keep]))
    assert np.isclose(ranked.roc_auc(counts), roc_auc(y[keep], s[keep]))
    # by hand: drawn rows 0.9+, 0.8+ 0.8+, 0.3-, 0.1+: every positive but the last above
    # the negative, so ROC AUC 3/4 and AP (1 + 1 + 1 + 4/5) / 4
    assert np.isclose(ranked.roc_auc(counts), 0.75)
    assert np.isclose(ranked.average_precision(counts), (1 + 1 + 1 + 0.8) / 4)
