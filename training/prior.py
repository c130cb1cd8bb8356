"""The rule score as a model's prior: trees learn what the red flags miss.

With few decisions a model has little to learn from, while the red flags need none. A model
may therefore start from the flags: its raw score is ``scale * points + intercept`` (the
capped red-flag points of :mod:`.rules`, with ``scale`` and ``intercept`` fitted by logistic
regression on the training rows) plus the trees' output, which LightGBM fits on top of that
start (``init_score``). Whether a model uses the prior is chosen by validation.

Explanations stay exact and additive: each fired flag contributes ``scale`` times its points
to its own feature (beside that feature's TreeSHAP value) and the intercept joins the
expected value, so contributions still sum to the raw score.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .calibration import fit_platt
from .rules import Rule, flag_points, rules_from_json, rules_to_json


@dataclass(frozen=True)
class RulePrior:
    """A fitted prior: the rules it counts, its log-odds per point and its intercept."""

    rules: tuple[Rule, ...]
    scale: float
    intercept: float

    @classmethod
    def over(cls, rules: Sequence[Rule], features: Sequence[str], scale: float = 1.0,
             intercept: float = 0.0) -> RulePrior:
        """A prior counting the ``rules`` that can fire on ``features`` (a missing feature
        cannot fire), at ``scale`` log-odds a point."""
        return cls(tuple(r for r in rules if r.columns(features)), scale, intercept)

    def _read(self, x: np.ndarray, features: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Flag points per row, and per row and flag the model column that gave the flag's
        value (-1 where the flag reads no column)."""
        layout = _layout(self.rules, tuple(features))
        rows = x.shape[0]
        hits = np.zeros((rows, len(self.rules)), dtype=bool)
        sources = np.full((rows, len(self.rules)), -1, dtype=np.int64)
        # Flags on one column (all but the patterns) are read at once: one account at a
        # time is scored per request, and a loop over the flags cost more than the trees.
        values = x[:, layout.columns]
        with np.errstate(invalid="ignore"):
            hit = np.where(layout.strict, values > layout.thresholds,
                           values >= layout.thresholds)
        hits[:, layout.single] = hit & ~np.isnan(values)
        sources[:, layout.single] = layout.columns
        for k, cols in layout.patterns:
            value, where = self.rules[k].strongest(x[:, cols])
            hits[:, k] = self.rules[k].fires(value)
            sources[:, k] = cols[where]
        return flag_points(hits, self.rules), sources

    def _points(self, x: np.ndarray, features: Sequence[str]) -> np.ndarray:
        return self._read(x, features)[0]

    def margin(self, x: np.ndarray, features: Sequence[str]) -> np.ndarray:
        """The prior's log-odds of each row of the model matrix ``x``."""
        return self.scale * self._points(x, features).sum(axis=1) + self.intercept

    def contributions(self, x: np.ndarray, features: Sequence[str]) -> np.ndarray:
        """Rows x (features + 1): each fired flag's log-odds on its feature's column; the
        last column is the intercept (it joins the expected value)."""
        points, sources = self._read(x, features)
        out = np.zeros((x.shape[0], len(features) + 1))
        rows, flags = np.nonzero((points != 0) & (sources >= 0))
        np.add.at(out, (rows, sources[rows, flags]), self.scale * points[rows, flags])
        out[:, -1] = self.intercept
        return out

    def to_json(self) -> dict[str, Any]:
        return {"rules": rules_to_json(self.rules), "scale": self.scale,
                "intercept": self.intercept}

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> RulePrior | None:
        if not data:
            return None
        return cls(rules_from_json(data["rules"]), float(data["scale"]),
                   float(data["intercept"]))


def fit_prior(x: np.ndarray, y: np.ndarray, w: np.ndarray, features: Sequence[str],
              rules: Sequence[Rule]) -> RulePrior | None:
    """The prior for training rows ``x`` (labels ``y``, weights ``w``); None when no flag
    fires on them or the flags do not point towards the confirmed accounts."""
    unit = RulePrior.over(rules, features)
    if not unit.rules:
        return None
    points = unit._points(x, features).sum(axis=1)
    if np.ptp(points) == 0:
        return None
    fit = fit_platt(points, y, w)
    if fit["a"] <= 0:
        return None
    return RulePrior(unit.rules, float(fit["a"]), float(fit["b"]))


@dataclass(frozen=True)
class _Layout:
    """Where a rule set reads a model matrix: the flags on one column (their positions,
    columns, thresholds and strictness) and the others (patterns, lists, flags that fire
    below their threshold) with their columns."""

    single: np.ndarray
    columns: np.ndarray
    thresholds: np.ndarray
    strict: np.ndarray
    patterns: tuple[tuple[int, np.ndarray], ...]  # the others, read one by one


@functools.lru_cache(maxsize=64)
def _layout(rules: tuple[Rule, ...], features: tuple[str, ...]) -> _Layout:
    """Worked out once per rule set and feature list, not on every request (a pattern
    rule tests every feature name)."""
    index = {name: j for j, name in enumerate(features)}
    single: list[int] = []
    patterns = []
    for k, rule in enumerate(rules):
        cols = np.array([index[c] for c in rule.columns(features)], dtype=np.int64)
        if rule.reads_one_column and not rule.below:
            if len(cols):
                single.append(k)
        elif len(cols):
            patterns.append((k, cols))
    return _Layout(single=np.array(single, dtype=np.int64),
                   columns=np.array([index[rules[k].feature] for k in single], dtype=np.int64),
                   thresholds=np.array([rules[k].threshold for k in single], dtype=np.float64),
                   strict=np.array([rules[k].strict for k in single], dtype=bool),
                   patterns=tuple(patterns))
