"""The champion-challenger report says when its band changes come from a sample."""

from __future__ import annotations

from datetime import datetime

from accountrisk.training.shadow import Shadow, render_comparison

AS_OF = datetime(2026, 1, 1)


def _report(shadow: Shadow) -> str:
    return render_comparison(shadow, as_of=AS_OF, champion="1", challenger="2",
                             verdict="kept")


def test_band_changes_of_the_whole_population_list_what_is_left_out():
    shadow = Shadow(since=AS_OF, band_changes=[("a", "", "watch")], band_change_count=3,
                    population_accounts=40, sampled_accounts=40)
    text = _report(shadow)
    assert "band changed (3)" in text and "... and 2 more" in text
    assert "sample" not in text


def test_band_changes_from_a_sample_are_an_estimate_and_say_so():
    shadow = Shadow(since=AS_OF, band_changes=[("a", "", "watch"), ("b", "high", "")],
                    band_change_count=20, population_accounts=1000, sampled_accounts=100)
    text = _report(shadow)
    assert "band changed (20)" in text
    assert "uniform sample of 100 of the 1,000 active accounts" in text
    assert "- b: high -> none" in text and "more" not in text
