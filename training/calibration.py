"""Turn raw model margins into probabilities: isotonic (pool adjacent violators) or Platt.

A calibration is a small JSON-serializable dict, stored in the model's metadata and applied
with :func:`apply_calibration`; no fitted Python object is ever saved.
"""

from __future__ import annotations

from typing import Any

import numpy as np

Calibration = dict[str, Any]


def _clean(x: Any, y: Any, w: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    w = np.ones_like(x) if w is None else np.asarray(w, dtype=np.float64)
    if not (len(x) == len(y) == len(w)):
        raise ValueError("scores, labels and weights differ in length")
    keep = w > 0
    return x[keep], y[keep], w[keep]


def fit_isotonic(x: Any, y: Any, w: Any = None) -> Calibration:
    """Weighted isotonic regression of ``y`` on ``x`` by pool adjacent violators.

    Stored as the (x, value) corners of its blocks; :func:`apply_calibration` interpolates
    linearly between blocks and holds the end values outside the fitted range. Values are
    kept half a row's weight away from 0 and 1.
    """
    x, y, w = _clean(x, y, w)
    if len(x) == 0:
        raise ValueError("isotonic calibration needs at least one row")
    order = np.argsort(x, kind="stable")
    x, y, w = x[order], y[order], w[order]
    # Rows with equal x must share a value: pre-pool them.
    starts = np.r_[0, np.flatnonzero(np.diff(x) != 0) + 1]
    sums = np.add.reduceat(w * y, starts)
    weights = np.add.reduceat(w, starts)
    lows, highs = x[starts], x[np.r_[starts[1:], len(x)] - 1]
    values: list[float] = []
    block_w: list[float] = []
    block_lo: list[float] = []
    block_hi: list[float] = []
    for s, wt, lo, hi in zip(sums, weights, lows, highs):
        values.append(s / wt)
        block_w.append(wt)
        block_lo.append(lo)
        block_hi.append(hi)
        while len(values) > 1 and values[-2] >= values[-1]:
            wt2 = block_w[-2] + block_w[-1]
            merged = (values[-2] * block_w[-2] + values[-1] * block_w[-1]) / wt2
            hi2 = block_hi[-1]
            for stack in (values, block_w, block_lo, block_hi):
                stack.pop()
            values[-1], block_w[-1], block_hi[-1] = merged, wt2, hi2
    # No finite sample supports a probability of exactly 0 or 1: clip by half a row.
    margin = 0.5 / float(np.sum(w))
    values = [min(max(v, margin), 1.0 - margin) for v in values]
    points_x: list[float] = []
    points_y: list[float] = []
    for v, lo, hi in zip(values, block_lo, block_hi):
        points_x.append(float(lo))
        points_y.append(float(v))
        if hi > lo:
            points_x.append(float(hi))
            points_y.append(float(v))
    return {"method": "isotonic", "x": points_x, "y": points_y}


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def fit_platt(x: Any, y: Any, w: Any = None, *, iterations: int = 100) -> Calibration:
    """Platt scaling: probability = sigmoid(a * x + b), fit by Newton's method on smoothed
    targets (Platt 1999), so a perfectly separated sample still gives finite a and b."""
    x, y, w = _clean(x, y, w)
    if len(x) == 0:
        raise ValueError("Platt calibration needs at least one row")
    pos, neg = float(np.sum(w * y)), float(np.sum(w * (1 - y)))
    target = np.where(y > 0.5, (pos + 1.0) / (pos + 2.0), 1.0 / (neg + 2.0))
    a, b = 1.0, float(np.log((neg + 1.0) / (pos + 1.0)) * -1.0)

    def loss(a_: float, b_: float) -> float:
        p = np.clip(_sigmoid(a_ * x + b_), 1e-12, 1 - 1e-12)
        return float(-np.sum(w * (target * np.log(p) + (1 - target) * np.log(1 - p))))

    current = loss(a, b)
    for _ in range(iterations):
        p = _sigmoid(a * x + b)
        r = w * (p - target)
        d = w * p * (1 - p) + 1e-12
        g = np.array([np.sum(r * x), np.sum(r)])
        h = np.array([[np.sum(d * x * x), np.sum(d * x)], [np.sum(d * x), np.sum(d)]])
        step = np.linalg.solve(h + np.eye(2) * 1e-9, g)
        scale = 1.0
        while scale > 1e-8:
            candidate = loss(a - scale * step[0], b - scale * step[1])
            if candidate <= current:
                break
            scale /= 2.0
        if scale <= 1e-8:
            break
        a, b = a - scale * step[0], b - scale * step[1]
        gained, current = current - candidate, candidate
        if gained < 1e-12 * max(1.0, current):
            break
    return {"method": "platt", "a": float(a), "b": float(b)}


def apply_calibration(calibration: Calibration | None, raw: Any) -> np.ndarray:
    """Probabilities from raw margins; no calibration means the logistic of the margin."""
    raw = np.asarray(raw, dtype=np.float64)
    if calibration is None or calibration["method"] == "logistic":
        return _sigmoid(raw)
    if calibration["method"] == "identity":  # rule scores: not probabilities, kept as is
        return raw
    if calibration["method"] == "isotonic":
        return np.interp(raw, calibration["x"], calibration["y"])
    if calibration["method"] == "platt":
        return _sigmoid(calibration["a"] * raw + calibration["b"])
    raise ValueError(f"unknown calibration method {calibration['method']!r}")


def _cross_fitted(method: str, x: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Out-of-fold probabilities from two alternating folds (rows in time order)."""
    fit = fit_isotonic if method == "isotonic" else fit_platt
    out = np.empty_like(x)
    folds = np.arange(len(x)) % 2
    for k in (0, 1):
        train, test = folds != k, folds == k
        out[test] = apply_calibration(fit(x[train], y[train], w[train]), x[test])
    return out


def fit_calibration(raw: Any, y: Any, w: Any = None, *, method: str = "auto"
                    ) -> Calibration:
    """Fit ``method`` ("isotonic", "platt", or "auto": whichever has the lower two-fold
    cross-fitted Brier score). The result records both cross-fitted Brier scores and the
    out-of-fold probabilities' Brier is an honest estimate for the chosen method."""
    x, yy, ww = _clean(raw, y, w)
    if len(x) < 4 or yy.min() == yy.max():
        # Too little to cross-fit; Platt's smoothed targets stay sane on tiny samples.
        chosen = "platt" if method == "auto" else method
        result = fit_isotonic(x, yy, ww) if chosen == "isotonic" else fit_platt(x, yy, ww)
        result["cross_fitted_brier"] = {}
        return result
    scores = {}
    for name in ("isotonic", "platt"):
        p = _cross_fitted(name, x, yy, ww)
        scores[name] = float(np.sum(ww * (p - yy) ** 2) / np.sum(ww))
    chosen = min(scores, key=lambda k: (scores[k], k)) if method == "auto" else method
    result = fit_isotonic(x, yy, ww) if chosen == "isotonic" else fit_platt(x, yy, ww)
    result["cross_fitted_brier"] = scores
    return result


def cross_fitted_probabilities(calibration: Calibration, raw: Any, y: Any, w: Any = None
                               ) -> np.ndarray:
    """Out-of-fold probabilities of the calibration rows (for an honest Brier score)."""
    x, yy, ww = _clean(raw, y, w)
    if len(x) < 4 or yy.min() == yy.max():
        return apply_calibration(calibration, x)
    return _cross_fitted(calibration["method"], x, yy, ww)
