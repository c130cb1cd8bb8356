"""The red-flag rule score."""

from __future__ import annotations

import math

import numpy as np
import pytest

from accountrisk.features.registry import feature_names
from accountrisk.training.rules import (RULES, SCALE, Rule, fired, rule_score, rules_from_json,
                                        rules_to_json, usable_rules)


def test_every_rule_reads_a_registered_feature_or_cannot_fire():
    names = set(feature_names())
    usable = usable_rules(list(names))
    assert {r.feature for r in usable} <= names
    assert len(usable) >= 6  # most advisory red flags exist as signals


def test_score_is_the_squashed_weighted_count():
    rules = (Rule("a", "fa", 1, weight=2.0), Rule("b", "fb", 0.5), Rule("c", "fc", 0, strict=True))
    data = {"fa": np.array([1.0, 0.0, np.nan, 3.0]),
            "fb": np.array([0.5, 0.2, 0.9, 0.6]),
            "fc": np.array([0.0, 0.0, 0.0, 0.1])}
    hits = fired(data, rules)
    assert hits.tolist() == [[True, True, False], [False, False, False],
                             [False, True, False], [True, True, True]]
    expected = [1 - math.exp(-3 / SCALE), 0.0, 1 - math.exp(-1 / SCALE),
                1 - math.exp(-4 / SCALE)]
    assert rule_score(data, rules) == pytest.approx(expected)


def test_missing_feature_means_the_rule_cannot_fire():
    rules = (Rule("a", "present", 1), Rule("b", "absent", 1))
    data = {"present": np.array([2.0, 0.0])}
    assert fired(data, rules)[:, 1].tolist() == [False, False]
    assert usable_rules(["present"], rules) == [rules[0]]


def test_rules_round_trip_through_json():
    assert rules_from_json(rules_to_json(RULES)) == RULES
