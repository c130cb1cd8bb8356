"""Reference distributions and the population stability index (PSI).

At training, the final snapshot's population (the accounts active at T, as scored) is
summarised per feature (quantile bins, or category shares) and for the score (the raw
score, log-odds before calibration: calibration's steps give most accounts the very same
probability, too coarse to bin); the model
directory keeps that in ``metadata.json`` under ``reference``. Monitoring bins today's
population the same way and compares: PSI = sum over bins of (now - then) * ln(now / then),
shares floored at ``FLOOR`` so an empty bin does not give infinity. Missing values are a
bin of their own. Rule of thumb: below 0.1 stable, 0.1-0.25 moving, above 0.25 shifted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .matrix import column

BINS = 10
FLOOR = 1e-4
REFERENCE_VERSION = 1


def _numeric_entry(values: np.ndarray) -> dict[str, Any]:
    present = values[~np.isnan(values)]
    edges = np.unique(np.quantile(present, np.linspace(0, 1, BINS + 1)[1:-1])) \
        if len(present) else np.array([])
    entry: dict[str, Any] = {"edges": edges.tolist()}
    entry["shares"] = numeric_shares(values, entry).tolist()
    return entry


def numeric_shares(values: np.ndarray, entry: Mapping[str, Any]) -> np.ndarray:
    """Shares of ``values`` in the entry's bins (the last one: missing values)."""
    edges = np.asarray(entry["edges"], dtype=np.float64)
    counts = np.zeros(len(edges) + 2)
    missing = np.isnan(values)
    np.add.at(counts, np.searchsorted(edges, values[~missing], side="right"), 1)
    counts[-1] = missing.sum()
    return counts / max(1, len(values))


def category_shares(values: np.ndarray, entry: Mapping[str, Any]) -> np.ndarray:
    """Shares of ``values`` per reference category, then other, then missing."""
    names = list(entry["categories"])
    index = {name: i for i, name in enumerate(names)}
    counts = np.zeros(len(names) + 2)
    for v in values:
        counts[len(names) + 1 if v is None else index.get(str(v), len(names))] += 1
    return counts / max(1, len(values))


def shares(values: np.ndarray, entry: Mapping[str, Any]) -> np.ndarray:
    """Shares of ``values`` binned as the reference ``entry`` was."""
    if "categories" in entry:
        return category_shares(values, entry)
    return numeric_shares(np.asarray(values, dtype=np.float64), entry)


def psi(expected: Sequence[float] | np.ndarray, actual: Sequence[float] | np.ndarray) -> float:
    """Population stability index of two share vectors over the same bins."""
    e = np.maximum(np.asarray(expected, dtype=np.float64), FLOOR)
    a = np.maximum(np.asarray(actual, dtype=np.float64), FLOOR)
    return float(np.sum((a - e) * np.log(a / e)))


def reference_of(final: Any, features: Sequence[str], categories: Mapping[str, Any] | None,
                 raw_scores: np.ndarray, bands: Sequence[str],
                 importance: Mapping[str, float] | None) -> dict[str, Any]:
    """The reference a model directory keeps: per-feature bins, the score's bins, band
    shares and feature importance (None for a rules bundle), over ``final``'s rows
    (``raw_scores``: the model's raw scores of those rows)."""
    entries: dict[str, Any] = {}
    for name in features:
        values = column(final, name)
        if name in (categories or {}) or values.dtype == object:
            seen = [str(v) for v in values if v is not None]
            top = sorted(set(seen), key=lambda c: -seen.count(c))[:20]
            entry: dict[str, Any] = {"categories": top}
            entry["shares"] = category_shares(values, entry).tolist()
            entries[name] = entry
        else:
            entries[name] = _numeric_entry(values)
    band_counts: dict[str, int] = {}
    for b in bands:
        band_counts[b] = band_counts.get(b, 0) + 1
    return {"version": REFERENCE_VERSION, "population": int(len(raw_scores)),
            "features": entries, "raw_score": _numeric_entry(np.asarray(raw_scores, np.float64)),
            "band_shares": {b: n / max(1, len(bands)) for b, n in band_counts.items()},
            "importance": dict(importance) if importance is not None else None}


def top_features(reference: Mapping[str, Any], count: int) -> list[str]:
    """The ``count`` most important features (gain); every feature for a rules bundle."""
    importance = reference.get("importance")
    if not importance:
        return list(reference["features"])
    ranked = sorted(importance, key=lambda f: -importance[f])
    return [f for f in ranked if importance[f] > 0][:count]


def training_reference(final: Any, metadata: Mapping[str, Any], booster: Any) -> dict[str, Any]:
    """The reference of a freshly fitted model (or rules) over the training population."""
    from pathlib import Path

    from .bundle import Bundle
    from .predict import bands, raw_scores

    bundle = Bundle(path=Path("."), metadata=dict(metadata), booster=booster)
    raw = raw_scores(bundle, final)
    importance = None
    if booster is not None:
        gains = booster.feature_importance(importance_type="gain")
        total = float(np.sum(gains)) or 1.0
        importance = {f: float(g) / total for f, g in zip(metadata["features"], gains)}
    return reference_of(final, metadata["features"], metadata.get("categories"),
                        raw, bands(bundle, raw), importance)
