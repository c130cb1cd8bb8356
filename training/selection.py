"""Choose a model's settings on temporal validation: shape, trees, unlabelled strategy, prior.

Candidates (unlabelled strategy x rule prior or not x tree shape x tree count) are fit on
each validation fold's training rows and score that fold's validation rows
(:mod:`.validation`); the out-of-fold scores are pooled. Strategy and prior are chosen first
at the middle tree shape, then shape and tree count for that pair. Candidates are compared on the
PR-AUC of confirmed accounts against everyone else in the validation rows, held-out
unlabelled accounts weighted by the population they stand for: what a review queue of the
whole marketplace would find, not only how decisions split. The simplest candidate (fewest
leaves x trees) within one bootstrap standard error of the best is chosen: with a few dozen
confirmed accounts the evidence rarely supports a bigger model.

The red-flag rule score is judged on the same rows, so a run knows whether its model beats
the rules it would otherwise fall back to.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import model as lgbm
from .dataset import HOLDOUT_SHARE, TrainingSet
from .matrix import column, feature_matrix
from .metrics import weighted_average_precision
from .prior import RulePrior, fit_prior
from .rules import Rule, rule_points
from .unlabelled import STRATEGIES, design
from .validation import Plan

BOOTSTRAP = 100
Say = Callable[[str], None]


@dataclass(frozen=True)
class Candidate:
    """One combination of settings."""

    strategy: str
    prior: bool
    shape: tuple[int, int]
    trees: int

    @property
    def size(self) -> int:
        return self.shape[1] * self.trees

    def to_json(self) -> dict[str, Any]:
        return {"unlabelled": self.strategy, "prior": self.prior, "max_depth": self.shape[0],
                "num_leaves": self.shape[1], "trees": self.trees}


@dataclass
class Selection:
    """What validation found: the chosen candidate, every candidate's score, the rules' score
    on the same rows, and the pooled out-of-fold scores (for calibration and reports)."""

    chosen: Candidate
    table: list[dict[str, Any]]
    valid_mask: np.ndarray  # rows validated by some fold
    oof: np.ndarray  # chosen candidate's out-of-fold raw score (NaN where not validated)
    rules_raw: np.ndarray  # rule points of every row
    model_pr_auc: float
    rules_pr_auc: float
    curves: list[dict[str, Any]] = field(default_factory=list)


def validation_weights(ts: TrainingSet) -> tuple[np.ndarray, np.ndarray]:
    """Per row: the target of the selection metric (confirmed = 1, everyone else 0) and the
    accounts it stands for (1 for a decision; population weight for a held-out sample)."""
    rows = ts.rows
    labelled = column(rows, "_labelled").astype(bool)
    y = np.where(labelled, np.nan_to_num(column(rows, "_label")), 0.0)
    w = np.where(labelled, 1.0, column(rows, "_weight") / HOLDOUT_SHARE)
    return y, w


@dataclass
class _Fold:
    """One fold's designs (per unlabelled strategy), priors and validation matrix."""

    designs: dict[str, Any]
    priors: dict[str, RulePrior | None]
    xv: np.ndarray
    valid: np.ndarray


def _prepare_fold(ts: TrainingSet, x: np.ndarray, train: np.ndarray, valid: np.ndarray, *,
                  strategies: Sequence[str], categorical: list[str], rules: Sequence[Rule],
                  seed: int, unlabelled_weight: float) -> _Fold:
    label = column(ts.rows, "_label")
    labelled = column(ts.rows, "_labelled").astype(bool)
    designs, priors = {}, {}
    for strategy in strategies:
        if strategy == "ignore" and len(set(label[train & labelled].tolist())) < 2:
            continue  # decisions of one kind only: nothing to learn without the population
        d = design(strategy, x[train], label[train], labelled[train], features=ts.features,
                   categorical=categorical, seed=seed, weight=unlabelled_weight)
        if 0 < d.y.sum() < len(d.y):
            designs[strategy] = d
            priors[strategy] = fit_prior(d.x, d.y, d.w, ts.features, rules)
    return _Fold(designs, priors, x[valid], valid)


def _grow(fold: _Fold, strategy: str, use_prior: bool, shape: tuple[int, int],
          trees: Sequence[int], features: Sequence[str], categorical: list[str], seed: int,
          threads: int) -> dict[Candidate, np.ndarray]:
    """Validation raw scores of one (strategy, prior, shape) at every tree count."""
    d, prior = fold.designs[strategy], fold.priors[strategy] if use_prior else None
    fit = lgbm.fit_one(d.x, d.y, d.w, features, categorical,
                       lgbm.params_for(features, shape, seed, threads), rounds=max(trees),
                       init_score=prior.margin(d.x, features) if prior is not None else None)
    start = prior.margin(fold.xv, features) if prior is not None else 0.0
    return {Candidate(strategy, use_prior, shape, t):
            lgbm.raw_margin(fit.booster, fold.xv, threads, trees=t) + start for t in trees}


def select(ts: TrainingSet, plan: Plan, *, categories: dict[str, list[str]],
           rules: Sequence[Rule], seed: int = 0, threads: int = lgbm.THREADS,
           strategies: Sequence[str] = STRATEGIES,
           shapes: Sequence[tuple[int, int]] = lgbm.SHAPES,
           trees: Sequence[int] = lgbm.TREE_COUNTS, unlabelled_weight: float = 1.0,
           say: Say | None = None) -> Selection:
    """Choose settings on the folds of ``plan`` (see the module doc).

    Unlabelled strategy and prior are compared first, at the middle tree shape; the other
    shapes are then grown for the winning pair only (designs are built once per fold)."""
    say = say or (lambda message: None)
    features, categorical = ts.features, list(categories)
    x = feature_matrix(ts.rows, features, categories)
    n = ts.rows.num_rows
    oof: dict[Candidate, np.ndarray] = {}
    folds = []
    for k, fold in enumerate(plan.folds):
        say(f"validation {k + 1} of {len(plan.folds)} ({fold.label}): "
            f"{int(fold.train.sum()):,} training rows, {int(fold.valid.sum()):,} judged")
        folds.append(_prepare_fold(ts, x, fold.train, fold.valid, strategies=strategies,
                                   categorical=categorical, rules=rules, seed=seed,
                                   unlabelled_weight=unlabelled_weight))
    middle = shapes[len(shapes) // 2]
    pairs = sorted({(s, p) for f in folds for s in f.designs
                    for p in (False, True) if not p or f.priors[s] is not None})

    def grow(pair_list, shape_list) -> None:
        for f in folds:
            for strategy, use_prior in pair_list:
                if strategy not in f.designs or (use_prior and f.priors[strategy] is None):
                    continue
                for shape in shape_list:
                    for c, raw in _grow(f, strategy, use_prior, shape, trees, features,
                                        categorical, seed, threads).items():
                        oof.setdefault(c, np.full(n, np.nan))[f.valid] = raw

    grow(pairs, [middle])
    y, w = validation_weights(ts)
    valid_mask = np.zeros(n, dtype=bool)
    for f in folds:
        valid_mask |= f.valid

    def scored(candidates) -> tuple[np.ndarray, dict[Candidate, float]]:
        common = valid_mask.copy()
        for c in candidates:  # only rows every candidate scored (one may skip a fold)
            common &= ~np.isnan(oof[c])
        return common, {c: weighted_average_precision(y[common], oof[c][common], w[common])
                        for c in candidates}

    _, first = scored(list(oof))
    pair = max(first, key=lambda c: (first[c], -c.size))
    grow([(pair.strategy, pair.prior)], [s for s in shapes if s != middle])
    final = [c for c in oof if (c.strategy, c.prior) == (pair.strategy, pair.prior)]
    common, scores = scored(final)
    best = max(scores, key=lambda c: (scores[c], -c.size))
    spread = _bootstrap(y[common], w[common], {c: oof[c][common] for c in final}, best,
                        scores, seed)
    near = [c for c in scores if scores[best] - scores[c] <= spread.get(c, 0.0)]
    chosen = min(near, key=lambda c: (c.size, -scores[c]))
    points = rule_points(ts.rows, rules)
    rules_pr_auc = weighted_average_precision(y[common], points[common], w[common])
    table = [{**c.to_json(), "pr_auc": v, "bootstrap_sd": spread.get(c), "chosen": c == chosen}
             for c, v in sorted({**first, **scores}.items(), key=lambda item: -item[1])]
    curves = [{"max_depth": s[0], "num_leaves": s[1], "trees": list(trees),
               "curve": [scores.get(Candidate(chosen.strategy, chosen.prior, s, t),
                                    float("nan")) for t in trees],
               "chosen": s == chosen.shape} for s in shapes]
    say(f"chose {chosen.strategy} unlabelled handling, "
        f"{'rule prior, ' if chosen.prior else ''}depth {chosen.shape[0]}, "
        f"{chosen.trees} trees: validation PR-AUC {scores[chosen]:.3f} "
        f"(best {scores[best]:.3f}; red-flag rules {rules_pr_auc:.3f})")
    return Selection(chosen=chosen, table=table, valid_mask=common, oof=oof[chosen],
                     rules_raw=points, model_pr_auc=scores[chosen],
                     rules_pr_auc=rules_pr_auc, curves=curves)


def _bootstrap(y: np.ndarray, w: np.ndarray, raw: dict[Candidate, np.ndarray],
               best: Candidate, scores: dict[Candidate, float], seed: int
               ) -> dict[Candidate, float]:
    """Standard deviation of each near candidate's PR-AUC difference to the best, over
    paired bootstrap resamples of the validation rows (far candidates are not resampled)."""
    near = [c for c in raw if scores[best] - scores[c] < 0.1 and c != best]
    if not near or y.sum() == 0:
        return {}
    rng = np.random.default_rng(seed)
    gaps: dict[Candidate, list[float]] = {c: [] for c in near}
    for _ in range(BOOTSTRAP):
        rows = rng.integers(0, len(y), len(y))
        if y[rows].sum() == 0:
            continue
        top = weighted_average_precision(y[rows], raw[best][rows], w[rows])
        for c in near:
            gaps[c].append(top - weighted_average_precision(y[rows], raw[c][rows], w[rows]))
    return {c: float(np.std(g)) for c, g in gaps.items() if g}
