"""Reason sentences read as a reviewer would say them: a count of one is singular."""

import pytest

from accountrisk.features import signals  # noqa: F401  (registers every family)
from accountrisk.features.registry import FEATURES
from accountrisk.training.predict import render_reason


@pytest.mark.parametrize(("template", "value", "expected"), [
    ("shares a device with {value:.0f} other accounts", 1, "shares a device with 1 other account"),
    ("shares a device with {value:.0f} other accounts", 2, "shares a device with 2 other accounts"),
    ("shares a device with {value:.0f} other accounts", 11,
     "shares a device with 11 other accounts"),
    ("logged in from {value:.0f} different IP countries", 1,
     "logged in from 1 different IP country"),
    ("the account is {value:.0f} days old", 1, "the account is 1 day old"),
    ("has worked in {value:.0f} of the 24 hours of the day", 1,
     "has worked in 1 of the 24 hours of the day"),
    ("the IP country changed {value:.1f} times per 30 days", 1.0,
     "the IP country changed 1.0 times per 30 days"),
])
def test_count_of_one_is_singular(template, value, expected):
    assert render_reason(template, value) == expected


def test_no_registered_template_reads_one_with_a_plural_noun():
    for feature in FEATURES.values():
        text = render_reason(feature.reason, 1.0, {"claimed_timezone": "America/Chicago",
                                                   "claimed_country": "US"}, feature.name)
        for plural in (" accounts", " destinations", " items", " sessions", " days "):
            assert f" 1 other{plural}" not in text and f" 1{plural}" not in text, text
