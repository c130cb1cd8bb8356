"""What to do with accounts nobody has decided on: most of the population, mostly legit.

Three strategies. By default (``auto``) a run trains on decisions only when it has enough
cleared decisions, and otherwise temporal validation chooses between the other two
(:mod:`.selection` says why), since what suits a marketplace depends on how much of it was
reviewed:

``ignore``
    Train on decisions only. Reviewed accounts are not the population: the cleared ones are
    the suspicious-looking legit accounts (VPN users, agencies) that reviewers looked at,
    so the model learns to tell those apart and never sees an ordinary account.
``negatives``
    Decisions plus unlabelled accounts sampled across the snapshots as negatives, down-
    weighted so that together they weigh ``weight`` times the decisions.
``pu``
    Positive-unlabelled learning (Elkan & Noto 2008, the weighting form): a classifier g
    separates confirmed accounts from unlabelled ones (two-fold cross-fitted); c, the
    share of fronted accounts that get labelled, is estimated as g's mean on held-out
    confirmed accounts; each unlabelled row then enters twice, as a positive with weight
    p = (1 - c) / c * g / (1 - g) (clipped to [0, 1]) and as a negative with weight 1 - p.

Whatever the strategy, given each row's snapshot, the negatives' weight is spread over the
snapshots as the confirmed rows are (matched on time): where bans come in waves, negatives
spread otherwise differ from the confirmed rows by their time (more banned neighbours later
on), and trees learn that. Unlabelled rows taken as negatives are matched exactly: they are
a sample drawn evenly over the snapshots, and a snapshot without confirmed rows only leaves
some of it unused. Cleared decisions are labels nobody can draw more of: their match is
shrunk towards their own spread by ``TIME_MATCH_PRIOR_ROWS`` pseudo-rows, since with a few
dozen confirmed accounts an exact match leaves whole snapshots of cleared decisions weighing
nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..features.errors import UsageError
from . import model as lgbm

STRATEGIES = ("ignore", "negatives", "pu")
# "auto": validation chooses among STRATEGIES (:mod:`.selection`).
AUTO = "auto"
DEFAULT = AUTO
PU_TREES = 150
PU_SHAPE = (4, 15)
# Confirmed rows' spread over snapshots is trusted as if this many more confirmed rows were
# spread as the cleared decisions are: a few dozen confirmed barely move their weights, a
# few thousand (bans in waves on a large platform) nearly set them.
TIME_MATCH_PRIOR_ROWS = 300
# The fits that choose settings (tens of them) sample a larger design down to this many
# rows (:func:`thinned`); the final fit reads every row.
SELECTION_ROWS = 250_000


@dataclass
class Design:
    """The rows a model is fit on: matrix, labels, weights, and what was done."""

    x: np.ndarray
    y: np.ndarray
    w: np.ndarray
    notes: dict[str, Any] = field(default_factory=dict)


def design(strategy: str, x: np.ndarray, label: np.ndarray, labelled: np.ndarray, *,
           features: Sequence[str], categorical: Sequence[str], seed: int,
           weight: float = 1.0, snapshot: np.ndarray | None = None) -> Design:
    """Training rows for ``strategy`` from the train part (``label`` NaN where unlabelled);
    ``snapshot``: each row's snapshot time, to match the negatives on it."""
    if strategy not in STRATEGIES:
        raise UsageError(f"unknown unlabelled strategy {strategy!r}; choose one of "
                         f"{', '.join(STRATEGIES)}")
    known = labelled.astype(bool)
    # Every row decided (the caller kept only those): no copy of a matrix of millions.
    xl, yl = (x, label) if known.all() else (x[known], label[known])
    xu = x[~known]
    wl = np.ones(len(yl))
    confirmed_times = np.empty(0) if snapshot is None else snapshot[known][yl == 1]
    if snapshot is not None:
        wl[yl == 0] = matched_on_time(wl[yl == 0], snapshot[known][yl == 0], confirmed_times)
    if strategy == "ignore" or len(xu) == 0:
        return Design(xl, yl, wl, {"unlabelled_rows": 0})
    if strategy == "negatives":
        per_row = weight * len(yl) / len(xu)
        wu = np.full(len(xu), per_row)
        if snapshot is not None:
            wu = matched_on_time(wu, snapshot[~known], confirmed_times, prior_rows=0)
        return Design(np.vstack([xl, xu]), np.r_[yl, np.zeros(len(xu))], np.r_[wl, wu],
                      {"unlabelled_rows": int(len(xu)), "unlabelled_row_weight": per_row})
    return _elkan_noto(xl, yl, wl, xu, features=features, categorical=categorical, seed=seed)


def matched_on_time(weights: np.ndarray, times: np.ndarray, confirmed_times: np.ndarray,
                    prior_rows: float = TIME_MATCH_PRIOR_ROWS) -> np.ndarray:
    """``weights`` of negative rows read at ``times``, moved between times so that each time
    holds the share of their total that it holds of the confirmed rows (read at
    ``confirmed_times``) plus ``prior_rows`` pseudo-rows spread as the weights are now.
    With ``prior_rows=0`` rows at a time without confirmed rows weigh 0. Unchanged when no
    confirmed row shares a time with a negative one."""
    at, where = np.unique(times, return_inverse=True)
    confirmed = np.array([np.sum(confirmed_times == t) for t in at], dtype=float)
    if confirmed.sum() == 0:
        return weights
    held = np.bincount(where, weights=weights, minlength=len(at))
    if held.sum() <= 0:
        return weights
    own_share = held / held.sum()
    target = weights.sum() * (confirmed + prior_rows * own_share) / (confirmed.sum() + prior_rows)
    scale = np.divide(target, held, out=np.zeros(len(at)), where=held > 0)
    return weights * scale[where]


def _elkan_noto(xl: np.ndarray, yl: np.ndarray, wl: np.ndarray, xu: np.ndarray, *,
                features: Sequence[str], categorical: Sequence[str], seed: int) -> Design:
    xp = xl[yl == 1]
    xs = np.vstack([xp, xu])
    s = np.r_[np.ones(len(xp)), np.zeros(len(xu))]
    g = np.empty(len(s))
    folds = np.arange(len(s)) % 2
    params = lgbm.params_for(features, PU_SHAPE, seed)
    for k in (0, 1):
        fit = lgbm.fit_one(xs[folds != k], s[folds != k], np.ones(int(np.sum(folds != k))),
                           features, categorical, params, rounds=PU_TREES)
        g[folds == k] = 1.0 / (1.0 + np.exp(-lgbm.raw_margin(fit.booster, xs[folds == k])))
    c = float(np.clip(np.mean(g[: len(xp)]), 1e-3, 1.0))
    gu = np.clip(g[len(xp):], 0.0, 1.0 - 1e-6)
    p = np.clip((1.0 - c) / c * gu / (1.0 - gu), 0.0, 1.0)
    x = np.vstack([xl, xu, xu])
    y = np.r_[yl, np.ones(len(xu)), np.zeros(len(xu))]
    w = np.r_[wl, p, 1.0 - p]
    return Design(x, y, w, {"unlabelled_rows": int(len(xu)), "pu_label_frequency": c,
                            "pu_expected_hidden_positives": float(p.sum())})


def thinned(d: Design, rows: int, seed: int) -> Design:
    """``d`` with at most ``rows`` rows, for the many fits that choose settings on a large
    export (a fit's time grows with its rows): each class sampled uniformly, the kept rows
    weighing for the rows left out, so each class weighs what it did (in expectation). The
    smaller class is kept whole while it takes at most half of ``rows``."""
    if len(d.y) <= rows:
        return d
    rng = np.random.default_rng(seed)
    small, large = sorted((np.flatnonzero(d.y > 0.5), np.flatnonzero(d.y <= 0.5)), key=len)
    w = d.w.copy()
    kept = []
    small_kept = min(len(small), rows // 2)
    for members, wanted in ((small, small_kept), (large, rows - small_kept)):
        if wanted < len(members):
            chosen = rng.choice(members, wanted, replace=False)
            w[chosen] *= len(members) / wanted
            members = chosen
        kept.append(members)
    keep = np.sort(np.concatenate(kept))
    return Design(d.x[keep], d.y[keep], w[keep], {**d.notes, "sampled_from_rows": len(d.y)})
