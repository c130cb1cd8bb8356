"""Plots for each training run, rendered headless (matplotlib Agg) to PNG files.

PR curves (model against rules), the calibration curve, PR-AUC against tree count for each
tree shape tried, mean |SHAP| importance, and a SHAP beeswarm. SHAP values are LightGBM's
own exact ``pred_contrib`` (identical to shap.TreeExplainer); the shap package only draws.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .calibration import apply_calibration
from .metrics import pr_curve

MAX_EXPLAINED_ROWS = 2000


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def pr_curves(y: np.ndarray, scores: Mapping[str, np.ndarray], path: Path,
              title: str = "Precision-recall, validation decisions") -> Path:
    """PR curve of each scorer on the same rows."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4.5))
    for name, s in scores.items():
        precision, recall = pr_curve(y, s)
        if len(precision):
            ax.step(np.r_[0.0, recall], np.r_[precision[0], precision], where="post",
                    label=name)
    ax.axhline(float(np.mean(y)) if len(y) else 0.0, color="grey", lw=0.8, ls="--",
               label="base rate")
    ax.set(xlabel="recall", ylabel="precision", xlim=(0, 1), ylim=(0, 1.02), title=title)
    ax.legend(loc="lower left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def calibration_curve(raw: np.ndarray, y: np.ndarray, calibration: dict, path: Path,
                      bins: int = 10) -> Path:
    """Observed rate against calibrated probability, in equal-count bins, plus the map."""
    plt = _pyplot()
    p = apply_calibration(calibration, raw)
    order = np.argsort(p, kind="stable")
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4.2))
    if len(p):
        groups = np.array_split(order, min(bins, len(p)))
        left.plot([np.mean(p[g]) for g in groups], [np.mean(y[g]) for g in groups], "o-",
                  label=calibration["method"])
    left.plot([0, 1], [0, 1], color="grey", lw=0.8, ls="--", label="perfect")
    left.set(xlabel="calibrated score", ylabel="observed share confirmed",
             title="Calibration, validation decisions", xlim=(0, 1), ylim=(0, 1))
    left.legend(loc="upper left")
    grid = np.linspace(min(raw.min(initial=0), -6), max(raw.max(initial=0), 2), 200)
    right.plot(grid, apply_calibration(calibration, grid))
    right.set(xlabel="raw score (log-odds)", ylabel="calibrated score", title="Calibration map")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def model_size(curves: Sequence[Mapping[str, Any]], path: Path) -> Path:
    """Validation PR-AUC against tree count, one line per tree shape tried (chosen
    unlabelled strategy and prior)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4.2))
    for c in curves:
        label = f"depth {c['max_depth']}, {c['num_leaves']} leaves"
        if c.get("chosen"):
            label += " (chosen)"
        if c["curve"]:
            ax.plot(c["trees"], c["curve"], label=label)
    ax.set(xlabel="trees", ylabel="PR-AUC, validation (population-weighted)", title="Model size")
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def importance(contrib: np.ndarray, features: Sequence[str], path: Path,
               top: int = 20) -> Path:
    """Mean |SHAP| per feature (log-odds), the top ``top``."""
    plt = _pyplot()
    mean = np.abs(contrib[:, : len(features)]).mean(axis=0) if len(contrib) else np.zeros(
        len(features))
    order = np.argsort(-mean)[:top][::-1]
    fig, ax = plt.subplots(figsize=(7, 0.3 * len(order) + 1.2))
    ax.barh([features[i] for i in order], mean[order])
    ax.set(xlabel="mean |SHAP value| (log-odds)", title="What drives the score")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def beeswarm(contrib: np.ndarray, x: np.ndarray, features: Sequence[str], path: Path
             ) -> Path | None:
    """SHAP beeswarm of the given rows; None when shap is not installed."""
    try:
        import shap
    except ImportError:
        return None
    plt = _pyplot()
    explanation = shap.Explanation(values=contrib[:, :-1], base_values=contrib[:, -1],
                                   data=x, feature_names=list(features))
    plt.figure()
    with warnings.catch_warnings():  # columns that are all NaN (a table the folder lacks)
        warnings.simplefilter("ignore", RuntimeWarning)
        shap.plots.beeswarm(explanation, max_display=15, show=False)
    plt.gcf().set_size_inches(9, 6)
    plt.tight_layout()
    plt.savefig(path, dpi=110)
    plt.close("all")
    return path


def sample_rows(n: int, seed: int, limit: int = MAX_EXPLAINED_ROWS) -> np.ndarray:
    """Deterministic row sample for explanation plots (exact TreeSHAP costs ~1 ms a row)."""
    if n <= limit:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=limit, replace=False))
