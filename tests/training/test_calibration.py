"""Calibration sanity: monotone, right on average, serializable."""

from __future__ import annotations

import json

import numpy as np
import pytest

from accountrisk.training.calibration import (
    apply_calibration,
    cross_fitted_probabilities,
    fit_calibration,
    fit_isotonic,
    fit_platt,
)


def _logistic_sample(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(-2.0, 1.5, n)
    y = (rng.random(n) < 1 / (1 + np.exp(-x))).astype(float)
    return x, y


def test_pool_adjacent_violators_by_hand():
    cal = fit_isotonic([1.0, 2.0, 3.0], [1.0, 0.0, 1.0])
    # The last block (1.0) is kept half a row (0.5 / 3) away from certainty.
    assert apply_calibration(cal, [1.0, 2.0, 3.0]).tolist() == pytest.approx([0.5, 0.5, 1 - 1 / 6])


def test_isotonic_is_monotone_and_matches_the_positive_rate():
    x, y = _logistic_sample(3000)
    cal = fit_isotonic(x, y)
    grid = np.linspace(-10, 10, 500)
    assert np.all(np.diff(apply_calibration(cal, grid)) >= 0)
    assert apply_calibration(cal, x).mean() == pytest.approx(y.mean(), abs=1 / len(x))
    w = np.where(y == 1, 2.0, 1.0)
    weighted = fit_isotonic(x, y, w)
    p = apply_calibration(weighted, x)
    assert np.sum(w * p) / w.sum() == pytest.approx(np.sum(w * y) / w.sum(), abs=1 / len(x))


def test_platt_recovers_a_logistic_map_and_the_rate():
    x, y = _logistic_sample(20000, seed=1)
    cal = fit_platt(x, y)
    assert cal["a"] == pytest.approx(1.0, abs=0.08)
    assert cal["b"] == pytest.approx(0.0, abs=0.12)
    assert apply_calibration(cal, x).mean() == pytest.approx(y.mean(), abs=0.005)


def test_platt_stays_finite_on_separated_data():
    cal = fit_platt([-2.0, -1.0, 1.0, 2.0], [0, 0, 1, 1])
    assert np.isfinite(cal["a"]) and np.isfinite(cal["b"])
    p = apply_calibration(cal, [-2.0, 2.0])
    assert 0 < p[0] < 0.5 < p[1] < 1


def test_auto_choice_is_recorded_and_json_serializable():
    x, y = _logistic_sample(600, seed=2)
    cal = fit_calibration(x, y)
    assert cal["method"] in ("isotonic", "platt")
    assert set(cal["cross_fitted_brier"]) == {"isotonic", "platt"}
    assert cal["cross_fitted_brier"][cal["method"]] == min(cal["cross_fitted_brier"].values())
    again = json.loads(json.dumps(cal))
    assert np.allclose(apply_calibration(again, x), apply_calibration(cal, x))
    honest = cross_fitted_probabilities(cal, x, y)
    assert honest.shape == x.shape
    brier = float(np.mean((honest - y) ** 2))
    assert brier == pytest.approx(cal["cross_fitted_brier"][cal["method"]])
