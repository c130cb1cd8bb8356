"""The LightGBM model: deterministic, monotone where the registry knows the direction,
small enough that exact TreeSHAP (``pred_contrib``) stays cheap for reviewers.

Which shape, tree count, unlabelled strategy and prior a model uses is chosen on temporal
validation (:mod:`.selection`); this module fits and evaluates one booster. A model's raw
score is its booster's output plus, when it has one, the rule prior's (:mod:`.prior`):
:func:`margin` and :func:`model_contributions` are the one place that adds them up.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..features.pipeline import ATTRIBUTE_PREFIX
from ..features.registry import FEATURES, Feature, describe_feature
from ._lightgbm import lightgbm
from .zero_splits import zero_splits_at_margin

# (max_depth, num_leaves): the shapes compared; every one keeps TreeSHAP cheap.
SHAPES: tuple[tuple[int, int], ...] = ((2, 3), (3, 7), (4, 15))
TREE_COUNTS: tuple[int, ...] = (25, 50, 100, 200, 400, 800)
THREADS = 2
ZERO_SPLITS_AT_MARGIN = True  # :mod:`.zero_splits`; off only to measure what it changes

BASE_PARAMS: dict[str, Any] = {
    "objective": "binary",
    "learning_rate": 0.05,
    "min_data_in_leaf": 20,
    "min_sum_hessian_in_leaf": 1e-3,
    "lambda_l2": 1.0,
    "feature_fraction": 0.8,
    "max_bin": 255,
    "max_cat_to_onehot": 8,
    "cat_smooth": 10.0,
    "deterministic": True,
    "force_row_wise": True,
    "verbosity": -1,
}


@dataclass
class Fit:
    """A trained booster and its parameters."""

    booster: Any
    params: dict[str, Any]
    best_iteration: int


def registry() -> Mapping[str, Any]:
    """The feature registry, with every signal family registered (importing them is what
    registers them; without it the registry is empty and constraints silently vanish)."""
    from ..features import signals  # noqa: F401

    return FEATURES


def described(name: str) -> Feature | None:
    """The registry's entry for a feature column, static or named at run time (a
    neighbour aggregate); None for ``attr_*`` columns and unknown names."""
    registry()
    return describe_feature(name)


def monotone_constraints(features: Sequence[str]) -> list[int]:
    """+1/-1 from the registry's direction; 0 for unknown direction and ``attr_*``."""
    out = []
    for name in features:
        known = described(name)
        if known is None or name.startswith(ATTRIBUTE_PREFIX):
            out.append(0)
        else:
            out.append(int(np.sign(known.direction)))
    return out


def params_for(features: Sequence[str], shape: tuple[int, int], seed: int,
               threads: int = THREADS, *, muted: Collection[str] = ()) -> dict[str, Any]:
    """LightGBM parameters for one tree shape; every seed LightGBM has is fixed. The
    ``muted`` features stay in the matrix (the red flags may read them) but no tree splits
    on them: their split gain is multiplied by 0 (``feature_contri``)."""
    depth, leaves = shape
    constraints = monotone_constraints(features)
    params = {**BASE_PARAMS, "max_depth": depth, "num_leaves": leaves, "seed": seed,
              "bagging_seed": seed, "feature_fraction_seed": seed, "data_random_seed": seed,
              "drop_seed": seed, "extra_seed": seed, "objective_seed": seed,
              "num_threads": threads}
    if any(constraints):
        params["monotone_constraints"] = constraints
    if muted:
        off = set(muted)
        params["feature_contri"] = [0.0 if f in off else 1.0 for f in features]
    return params


def fit_one(x: np.ndarray, y: np.ndarray, w: np.ndarray, features: Sequence[str],
            categorical: Sequence[str], params: Mapping[str, Any], *, rounds: int,
            init_score: np.ndarray | None = None) -> Fit:
    """Train one booster for a fixed number of rounds (from ``init_score``, the prior's
    log-odds, when given)."""
    lgb = lightgbm()

    cats = [f for f in features if f in set(categorical)]
    train = lgb.Dataset(x, label=y, weight=w, feature_name=list(features),
                        categorical_feature=cats or "auto", free_raw_data=True,
                        init_score=init_score)
    booster = lgb.train(dict(params), train, num_boost_round=rounds)
    if ZERO_SPLITS_AT_MARGIN:
        booster, _ = zero_splits_at_margin(booster, x)
    return Fit(booster=booster, params=dict(params), best_iteration=rounds)


def raw_margin(booster: Any, x: np.ndarray, threads: int = THREADS,
               trees: int | None = None) -> np.ndarray:
    """Log-odds of the booster (``predict`` ignores the training threads: pass them)."""
    return np.asarray(booster.predict(x, raw_score=True, num_threads=threads,
                                      num_iteration=trees), dtype=np.float64)


def contributions(booster: Any, x: np.ndarray, threads: int = THREADS) -> np.ndarray:
    """Exact TreeSHAP values (rows x features+1; the last column is the expected value)."""
    return np.asarray(booster.predict(x, pred_contrib=True, num_threads=threads),
                      dtype=np.float64)


def truncate(booster: Any, trees: int) -> Any:
    """The first ``trees`` trees as a booster of their own (model.txt holds what is used)."""
    lgb = lightgbm()

    return lgb.Booster(model_str=booster.model_to_string(num_iteration=trees))


def margin(booster: Any, prior: Any, x: np.ndarray, features: Sequence[str],
           threads: int = THREADS, trees: int | None = None) -> np.ndarray:
    """A model's raw score (log-odds): the booster's output plus its prior's, if any."""
    raw = raw_margin(booster, x, threads, trees)
    return raw if prior is None else raw + prior.margin(x, features)


def model_contributions(booster: Any, prior: Any, x: np.ndarray, features: Sequence[str],
                        threads: int = THREADS) -> np.ndarray:
    """Exact per-feature contributions of a model's raw score (rows x features+1; the last
    column is the expected value): TreeSHAP plus the prior's flags. Rows sum to
    :func:`margin`."""
    contrib = contributions(booster, x, threads)
    return contrib if prior is None else contrib + prior.contributions(x, features)
