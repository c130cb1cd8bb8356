"""A split between a feature's zeros and its positive values sits half way to the smallest."""

from __future__ import annotations

import numpy as np
import pytest

from accountrisk.training import model as lgbm
from accountrisk.training.zero_splits import smallest_positive, zero_splits_at_margin

PARAMS = {"objective": "binary", "num_leaves": 2, "max_depth": 1, "learning_rate": 0.3,
          "min_data_in_leaf": 5, "min_data_in_bin": 1, "verbose": -1, "seed": 0,
          "deterministic": True, "num_threads": 1}


def _market() -> tuple[np.ndarray, np.ndarray]:
    """Cleared accounts at 0 (or without the feature), confirmed ones at 0.2 to 0.4."""
    rng = np.random.default_rng(0)
    cleared = np.r_[np.zeros(60), np.full(20, np.nan)]
    confirmed = rng.uniform(0.2, 0.4, 40)
    return np.r_[cleared, confirmed][:, None], np.r_[np.zeros(80), np.ones(40)]


def _thresholds(booster) -> list[float]:
    frame = booster.trees_to_dataframe()
    return sorted(set(frame["threshold"].dropna()))


def test_the_split_moves_half_way_and_training_rows_score_as_before():
    x, y = _market()
    lgb = pytest.importorskip("lightgbm")
    plain = lgb.train(PARAMS, lgb.Dataset(x, label=y), num_boost_round=5)
    assert _thresholds(plain) == [pytest.approx(1e-35)]  # LightGBM's zero bin
    fit = lgbm.fit_one(x, y, np.ones(len(y)), ["mates_anonymizer_ratio"], [], PARAMS,
                       rounds=5)
    smallest = float(np.nanmin(x[x > 0]))
    assert _thresholds(fit.booster) == [pytest.approx(smallest / 2)]
    assert np.allclose(fit.booster.predict(x, raw_score=True),
                       plain.predict(x, raw_score=True))
    # A value below half the smallest now scores with the zeros, one above with the rest.
    low, high, zero, top = fit.booster.predict(
        np.array([[smallest / 4], [smallest * 3 / 4], [0.0], [0.4]]), raw_score=True)
    assert low == pytest.approx(zero)
    assert high == pytest.approx(top)
    assert plain.predict(np.array([[smallest / 4]]), raw_score=True)[0] == pytest.approx(top)


def test_nothing_to_move_returns_the_same_booster():
    lgb = pytest.importorskip("lightgbm")
    x = np.r_[np.linspace(1, 2, 40), np.linspace(3, 4, 40)][:, None]  # no zeros
    y = np.r_[np.zeros(40), np.ones(40)]
    booster = lgb.train(PARAMS, lgb.Dataset(x, label=y), num_boost_round=3)
    same, moved = zero_splits_at_margin(booster, x)
    assert same is booster and moved == 0


def test_smallest_positive_ignores_zeros_negatives_and_missing():
    x = np.array([[0.0, -1.0, np.nan], [0.5, 0.0, np.nan], [0.2, 3.0, np.nan]])
    assert np.allclose(smallest_positive(x)[:2], [0.2, 3.0])
    assert np.isnan(smallest_positive(x)[2])
