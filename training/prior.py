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

    def _read(self, x: np.ndarray, features: Sequence[str]
              ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Flag points per row and, per flag, the model column that gave its value."""
        index = {name: j for j, name in enumerate(features)}
        hits = np.zeros((x.shape[0], len(self.rules)), dtype=bool)
        sources = []
        for k, rule in enumerate(self.rules):
            cols = [index[c] for c in rule.columns(features)]
            if not cols:
                sources.append(np.full(x.shape[0], -1))
                continue
            value, where = rule.strongest(x[:, cols])
            hits[:, k] = rule.fires(value)
            sources.append(np.asarray(cols)[where])
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
        rows = np.arange(x.shape[0])
        for k, source in enumerate(sources):
            fired_rows = rows[(points[:, k] != 0) & (source >= 0)]
            np.add.at(out, (fired_rows, source[fired_rows]), self.scale * points[fired_rows, k])
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
