"""The LightGBM model: deterministic, monotone where the registry knows the direction,
small enough that exact TreeSHAP (``pred_contrib``) stays cheap for reviewers.

Model size (tree shape and tree count) is chosen on the early validation decisions, with
a guard against their small size: each shape in ``SHAPES`` is grown to the largest of
``TREE_COUNTS`` and scored at every count; ``DEFAULT`` is kept unless another candidate's
PR-AUC beats it by more than one standard error of the paired bootstrap difference (1-SE
rule). Marketplaces with many decisions get the evidence-based choice; small ones keep a
default that was measured to be robust (docs/training.md: shapes, trees, early stopping).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..features.pipeline import ATTRIBUTE_PREFIX
from ..features.registry import FEATURES, Feature, describe_feature
from .metrics import average_precision

# (max_depth, num_leaves): the shapes compared; every one keeps TreeSHAP cheap.
SHAPES: tuple[tuple[int, int], ...] = ((3, 7), (4, 15), (6, 31))
TREE_COUNTS: tuple[int, ...] = (50, 100, 200, 400)
DEFAULT: tuple[tuple[int, int], int] = ((4, 15), 100)
BOOTSTRAP = 200
CURVE_STEP = 10
THREADS = 2

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
    """A trained booster with how it was chosen."""

    booster: Any
    params: dict[str, Any]
    best_iteration: int
    valid_pr_auc: float = float("nan")
    curve: list[float] = field(default_factory=list)  # early PR-AUC every CURVE_STEP trees


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
               threads: int = THREADS) -> dict[str, Any]:
    """LightGBM parameters for one tree shape; every seed LightGBM has is fixed."""
    depth, leaves = shape
    constraints = monotone_constraints(features)
    params = {**BASE_PARAMS, "max_depth": depth, "num_leaves": leaves, "seed": seed,
              "bagging_seed": seed, "feature_fraction_seed": seed, "data_random_seed": seed,
              "drop_seed": seed, "extra_seed": seed, "objective_seed": seed,
              "num_threads": threads}
    if any(constraints):
        params["monotone_constraints"] = constraints
    return params


def fit_one(x: np.ndarray, y: np.ndarray, w: np.ndarray, features: Sequence[str],
            categorical: Sequence[str], params: Mapping[str, Any], *, rounds: int) -> Fit:
    """Train one booster for a fixed number of rounds."""
    import lightgbm as lgb

    cats = [f for f in features if f in set(categorical)]
    train = lgb.Dataset(x, label=y, weight=w, feature_name=list(features),
                        categorical_feature=cats or "auto", free_raw_data=True)
    booster = lgb.train(dict(params), train, num_boost_round=rounds)
    return Fit(booster=booster, params=dict(params), best_iteration=rounds)


def truncate(booster: Any, trees: int) -> Any:
    """The first ``trees`` trees as a booster of their own (model.txt holds what is used)."""
    import lightgbm as lgb

    return lgb.Booster(model_str=booster.model_to_string(num_iteration=trees))


def _paired_gain(y: np.ndarray, candidate: np.ndarray, base: np.ndarray,
                 draws: np.ndarray) -> tuple[float, float]:
    """Mean and standard deviation of the bootstrap PR-AUC difference candidate - base."""
    gains = []
    for rows in draws:
        if 0 < y[rows].sum() < len(rows):
            gains.append(average_precision(y[rows], candidate[rows])
                         - average_precision(y[rows], base[rows]))
    if not gains:
        return 0.0, float("inf")
    return float(np.mean(gains)), float(np.std(gains))


def choose_and_fit(x: np.ndarray, y: np.ndarray, w: np.ndarray, features: Sequence[str],
                   categorical: Sequence[str], valid: tuple[np.ndarray, np.ndarray], *,
                   seed: int, shapes: Sequence[tuple[int, int]] = SHAPES,
                   trees: Sequence[int] = TREE_COUNTS,
                   default: tuple[tuple[int, int], int] = DEFAULT,
                   threads: int = THREADS) -> tuple[Fit, dict[str, list[dict[str, Any]]]]:
    """Grow each shape, score every (shape, tree count) on the early decisions ``valid``
    (x, y), keep ``default`` unless a candidate wins by more than one bootstrap standard
    error; return the chosen fit (truncated to its trees), the candidates table and the
    PR-AUC-against-trees curve of each shape."""
    vx, vy = valid
    if default[0] not in shapes:
        default = (shapes[0], default[1])
    fits = {s: fit_one(x, y, w, features, categorical, params_for(features, s, seed, threads),
                       rounds=max(trees)) for s in shapes}
    usable = len(vy) > 0 and 0 < vy.sum() < len(vy)
    raw = {(s, t): raw_margin(fits[s].booster, vx, threads, trees=t)
           for s in shapes for t in trees} if usable else {}
    chosen, table = default, []
    if usable:
        draws = np.random.default_rng(seed).integers(0, len(vy), (BOOTSTRAP, len(vy)))
        best_gain = 0.0
        for s in shapes:
            for t in trees:
                gain, spread = _paired_gain(vy, raw[(s, t)], raw[default], draws)
                if (s, t) != default and gain > spread and gain > best_gain:
                    chosen, best_gain = (s, t), gain
                table.append({"max_depth": s[0], "num_leaves": s[1], "trees": t,
                              "valid_pr_auc": average_precision(vy, raw[(s, t)]),
                              "bootstrap_gain": gain, "bootstrap_sd": spread})
    for row in table:
        row["chosen"] = ((row["max_depth"], row["num_leaves"]), row["trees"]) == chosen
    curves = []
    for s in shapes:
        counts = list(range(CURVE_STEP, max(trees) + 1, CURVE_STEP))
        curve = [average_precision(vy, raw_margin(fits[s].booster, vx, threads, trees=t))
                 for t in counts] if usable else []
        curves.append({"max_depth": s[0], "num_leaves": s[1], "trees": counts, "curve": curve,
                       "chosen": s == chosen[0]})
    shape, count = chosen
    fit = fits[shape]
    return Fit(booster=truncate(fit.booster, count), params=fit.params, best_iteration=count,
               valid_pr_auc=average_precision(vy, raw[chosen]) if usable else float("nan"),
               curve=next(c["curve"] for c in curves if c["chosen"])), \
        {"candidates": table, "curves": curves}


def raw_margin(booster: Any, x: np.ndarray, threads: int = THREADS,
               trees: int | None = None) -> np.ndarray:
    """Log-odds of the booster (``predict`` ignores the training threads: pass them)."""
    return np.asarray(booster.predict(x, raw_score=True, num_threads=threads,
                                      num_iteration=trees), dtype=np.float64)


def contributions(booster: Any, x: np.ndarray, threads: int = THREADS) -> np.ndarray:
    """Exact TreeSHAP values (rows x features+1; the last column is the expected value)."""
    return np.asarray(booster.predict(x, pred_contrib=True, num_threads=threads),
                      dtype=np.float64)
