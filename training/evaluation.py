"""Model against rules on the same rows: validation decisions, and (for generated data)
the ground truth over every account active at T. Also the review bands.

Ranking metrics (PR-AUC, ROC-AUC, budgets, ring recall) read the raw score; review budgets
are shares of the population scored at the same snapshots (the unlabelled sample), so
"recall at 1%" means "confirmed accounts that would have been in the top 1% of everyone".
Brier reads probabilities that were cross-fitted on the calibration rows (two folds), so no
row is judged by a calibration fitted on itself; the rules get the same treatment.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from .calibration import cross_fitted_probabilities, fit_calibration
from .matrix import column
from .metrics import BUDGETS, budget_threshold, evaluate

GROUND_TRUTH_FILE = "ground_truth.parquet"
DEFAULT_BANDS: tuple[tuple[str, float], ...] = (("high", 0.005), ("elevated", 0.02),
                                                ("watch", 0.05))


@dataclass
class Scored:
    """One scorer's view of some rows: raw (ranking) scores and, where fitted, probabilities."""

    raw: np.ndarray
    probability: np.ndarray | None = None


def band_thresholds(raw: np.ndarray, bands: Sequence[tuple[str, float]] = DEFAULT_BANDS,
                    weight: float = 1.0) -> list[dict[str, Any]]:
    """Raw-score thresholds taking the top share of ``raw`` (the accounts active at T, or a
    uniform sample of them in which each stands for ``weight`` accounts: ``accounts`` is
    then the estimated count)."""
    out = []
    for name, share in sorted(bands, key=lambda b: b[1]):
        if len(raw) == 0:
            out.append({"name": name, "share": share, "raw_threshold": None,
                        "tie_share": None, "accounts": 0})
            continue
        threshold, tie = budget_threshold(raw, share)
        out.append({"name": name, "share": share, "raw_threshold": threshold,
                    "tie_share": tie,
                    "accounts": int(round(weight * np.sum(raw >= threshold)))})
    return out


def prefixed(prefix: str, metrics: Mapping[str, float]) -> dict[str, float]:
    return {f"{prefix}{k}": float(v) for k, v in metrics.items()}


def compare(y: np.ndarray, scorers: Mapping[str, Scored], *, population:
            Mapping[str, np.ndarray] | None = None, rings: Sequence[object] | None = None,
            budgets: Sequence[float] = BUDGETS) -> dict[str, dict[str, float]]:
    """Metrics per scorer on the same labelled rows."""
    out = {}
    for name, scored in scorers.items():
        out[name] = evaluate(y, scored.raw, probability=scored.probability,
                             population=None if population is None else population[name],
                             rings=rings, budgets=budgets)
    return out


def honest_probabilities(raw: np.ndarray, y: np.ndarray, calibration: dict | None
                         ) -> np.ndarray:
    """Out-of-fold calibrated probabilities of the calibration rows (fit on the other fold)."""
    if calibration is None:
        calibration = fit_calibration(raw, y)
    return cross_fitted_probabilities(calibration, raw, y)


def load_ground_truth(data_dir: str | Path) -> dict[str, tuple[bool, object]] | None:
    """account -> (is_fronted, ring id or None) from a generated folder's ground truth; None
    for a real marketplace's folder (no such file). Used for reporting only, never training."""
    from ..features.sources import parse_source

    folder = parse_source(data_dir).path  # only a local folder has a ground truth file
    if folder is None or not (folder / GROUND_TRUTH_FILE).is_file():
        return None
    path = folder / GROUND_TRUTH_FILE
    table = pq.read_table(path, columns=["account_id", "is_fronted", "ring_id"])
    ids = table.column("account_id").to_pylist()
    fronted = table.column("is_fronted").to_pylist()
    rings = table.column("ring_id").to_pylist()
    return {a: (bool(f), _ring(r)) for a, f, r in zip(ids, fronted, rings)}


def _ring(value: object) -> object:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, (int, np.integer)) and value < 0:
        return None  # generators may write -1 for "no ring"
    return value


def truth_labels(final: pa.Table, truth: Mapping[str, tuple[bool, object]]
                 ) -> tuple[np.ndarray, list[object]]:
    """Ground-truth label and ring of each final-snapshot row."""
    ids = column(final, "account_id")
    y = np.array([1.0 if truth.get(a, (False, None))[0] else 0.0 for a in ids])
    rings = [truth.get(a, (False, None))[1] if truth.get(a, (False, None))[0] else None
             for a in ids]
    return y, rings
