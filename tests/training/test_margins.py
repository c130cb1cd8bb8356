"""How much validation must show before it overrides a default."""

from __future__ import annotations

import pytest

from accountrisk.training.margins import (
    MANY_POSITIVES,
    SETTING_MARGIN_SE,
    rules_beat_model,
    size_margin_se,
)


@pytest.mark.parametrize(("rules", "model", "se", "win"), [
    (0.86334, 0.86291, 0.00021, False),  # past its standard error, but no practical gain
    (0.880, 0.870, 0.004, True),
    (0.880, 0.870, 0.006, False),  # past one standard error, within two
    (0.880, 0.870, 0.012, False),  # within its standard error
    (0.870, 0.880, 0.001, False),
])
def test_the_rules_replace_the_model_on_a_gain_past_two_errors_and_the_floor(rules, model, se,
                                                                            win):
    assert rules_beat_model(rules, model, se) is win


@pytest.mark.parametrize(("positives", "margin"), [
    (30, SETTING_MARGIN_SE),  # tens of caught fronts: a size needs what a setting needs
    (MANY_POSITIVES - 1, SETTING_MARGIN_SE),
    (MANY_POSITIVES, 1.0),
    (20_000, 1.0),
])
def test_a_size_needs_two_standard_errors_until_thousands_are_confirmed(positives, margin):
    assert size_margin_se(positives) == margin
