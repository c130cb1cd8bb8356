"""The red-flag rule score."""

from __future__ import annotations

import math

import numpy as np
import pytest

from accountrisk.features.registry import describe_feature, feature_names
from accountrisk.training.prior import RulePrior, fit_prior
from accountrisk.training.rules import (
    FAMILY_CAPS,
    RULES,
    SCALE,
    Rule,
    fired,
    flag_points,
    rule_points,
    rule_score,
    rules_from_json,
    rules_to_json,
    usable_rules,
    weighed_by_rarity,
)


def test_every_rule_reads_a_registered_feature_or_pattern():
    names = set(feature_names())
    usable = usable_rules(list(names))
    assert {r.feature for r in usable} <= names
    listed = [r for r in RULES if not r.reads_one_column and "*" not in r.feature]
    assert listed and all(describe_feature(n) is not None for r in listed for n in r.names)
    assert len(usable) >= 15  # most advisory red flags exist as signals
    patterns = [r for r in RULES if "*" in r.feature]
    assert patterns and all(r.columns(["nbr_payout_decided_confirmed_ratio"]) for r in patterns)
    assert all(r.family in FAMILY_CAPS for r in RULES)


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


def test_a_flag_many_accounts_raise_keeps_only_its_surprisal():
    """Rates are read on the population; a flag on half of it keeps log(0.5) / log(0.05)
    of its weight, a rare one all of it, an answer (no points of its own) stays."""
    rules = (Rule("common", "fa", 1, weight=2.0), Rule("rare", "fb", 1),
             Rule("answer", "fc", 1, weight=-1.0, family="honest_location"))
    n = 1000
    population = {"fa": (np.arange(n) % 2).astype(float),
                  "fb": (np.arange(n) < 20).astype(float),
                  "fc": np.ones(n)}
    weighed, common = weighed_by_rarity(population, rules)
    assert [c.name for c in common] == ["common"]
    assert common[0].rate == pytest.approx(0.5)
    assert weighed[0].weight == pytest.approx(2.0 * math.log(0.5) / math.log(0.05))
    assert weighed[1:] == list(rules[1:])
    assert weighed_by_rarity({"fa": np.array([])}, rules) == (list(rules), [])


def test_once_weighed_a_rare_operator_sign_outranks_two_common_ones():
    """Where half the honest accounts touch a VPN from abroad, an account with those two
    signs tied with one working nights for the claimed zone; weighed, the night work ranks
    first."""
    n = 1000
    vpn = (np.arange(n) % 2 == 0).astype(float) * 0.05
    night = np.zeros(n)
    night[1] = 0.3  # one account (not a VPN user) works nights
    population = {"anonymizer_session_ratio": vpn, "ip_country_mismatch_session_ratio": vpn,
                  "activity_claimed_night_ratio": night}
    rules = usable_rules(list(population))
    before = rule_points(population, rules)
    after = rule_points(population, weighed_by_rarity(population, rules)[0])
    assert before[1] == pytest.approx(before[0])
    assert after[1] > after[0] > 0


def test_rules_round_trip_through_json():
    assert rules_from_json(rules_to_json(RULES)) == RULES


def test_a_family_counts_up_to_its_cap_shared_by_its_flags():
    rules = (Rule("a", "fa", 1, weight=2.0, family="shared_access"),
             Rule("b", "fb", 1, weight=1.0, family="shared_access"),
             Rule("c", "fc", 1, weight=1.0, family="hours"))
    hits = np.array([[True, True, True], [False, True, False]])
    points = flag_points(hits, rules)
    cap = FAMILY_CAPS["shared_access"]
    assert points[0, :2].sum() == pytest.approx(cap)
    assert points[0, 0] == pytest.approx(2 * points[0, 1])  # shared by weight
    assert points[0, 2] == 1.0 and points[1].tolist() == [0.0, 1.0, 0.0]


def test_sharing_alone_ranks_below_working_operator_hours_elsewhere():
    """A household shares an IP and a device, an agency member a payout account and the
    agency's portfolio; a behaviour-only front shares nothing but keeps night hours with a
    foreign browser clock and a remote-desktop tool."""
    household = {"residential_ip_shared_account_count": 4.0, "device_shared_account_count": 2.0}
    agency = {"payout_shared_account_count": 5.0, "portfolio_link_shared_account_count": 3.0,
              "portfolio_image_near_duplicate_account_count": 3.0}
    front = {"activity_claimed_night_ratio": 0.5,
             "browser_clock_fits_nowhere_session_ratio": 0.6, "remote_access_session_ratio": 0.4}
    rows = (household, agency, front)
    names = sorted(set().union(*rows))
    data = {n: np.array([row.get(n, 0.0) for row in rows]) for n in names}
    household_points, agency_points, front_points = rule_points(data)
    assert household_points == FAMILY_CAPS["shared_access"]  # one kind of sharing: one point
    assert agency_points == 2.0 and agency_points < front_points


def test_a_cell_sharing_every_kind_outranks_a_single_loud_sign():
    """Payout, device, portfolio and profile photo shared: four kinds of evidence, above an
    account whose only sign is (however often) being abroad with a foreign browser clock."""
    cell = {"payout_shared_account_count": 6.0, "device_shared_account_count": 6.0,
            "portfolio_link_shared_account_count": 4.0,
            "profile_photo_near_duplicate_account_count": 1.0}
    nomad = {"ip_country_mismatch_session_ratio": 1.0,
             "browser_offset_mismatch_session_ratio": 1.0, "browser_offset_gap_mean_hours": 8.0}
    names = sorted(set(cell) | set(nomad))
    data = {n: np.array([cell.get(n, 0.0), nomad.get(n, 0.0)]) for n in names}
    cell_points, nomad_points = rule_points(data)
    assert cell_points > 2 * nomad_points


def test_an_open_life_abroad_answers_the_hours_and_the_foreign_addresses():
    """A nomad on a US profile works Bangkok days (the claimed night) from Thai addresses
    with a Thai clock; a front works the same hours from US addresses with a clock that
    fits neither the profile nor the connection. Same hours, opposite stories."""
    hours = {"activity_claimed_night_ratio": 0.5, "session_claimed_night_ratio": 0.4}
    nomad = {**hours, "ip_country_mismatch_session_ratio": 0.9,
             "browser_offset_mismatch_session_ratio": 0.9,
             "browser_clock_fits_nowhere_session_ratio": 0.0,
             "abroad_clock_fits_ip_session_ratio": 0.9}
    front = {**hours, "ip_country_mismatch_session_ratio": 0.0,
             "browser_offset_mismatch_session_ratio": 0.9,
             "browser_clock_fits_nowhere_session_ratio": 0.9,
             "abroad_clock_fits_ip_session_ratio": 0.0}
    ordinary: dict[str, float] = {}
    rows = (nomad, front, ordinary)
    names = sorted(set(nomad) | set(front))
    data = {n: np.array([row.get(n, 0.0) for row in rows]) for n in names}
    nomad_points, front_points, ordinary_points = rule_points(data)
    assert front_points == FAMILY_CAPS["hours"] + FAMILY_CAPS["browser_clock"]
    # The nomad keeps half a point for the clock that is not the claimed zone's.
    assert nomad_points == pytest.approx(0.5)
    assert ordinary_points == 0
    scores = rule_score(data)
    assert scores[1] > scores[0] > scores[2] == 0
    # An open life abroad alone takes points below none, and the score stays at 0.
    alone = {"abroad_clock_fits_ip_session_ratio": np.array([0.5])}
    assert rule_points(alone)[0] < 0 and rule_score(alone)[0] == 0


def test_clean_payout_mates_answer_the_sharing_but_not_the_accounts_own_signs():
    """An agency paid through one account whose other holders show no operator sign, and a
    cell whose holders work through remote desktops: the agency's sharing is explained
    (its points go), the cell's is not; an account's own signs count either way, and an
    account without payout mates (NULL aggregates) is not answered."""
    sharing = {"payout_shared_account_count": 4.0, "portfolio_link_shared_account_count": 3.0}
    mates = ("nbr_payout_max_browser_offset_gap_mean_hours",
             "nbr_payout_max_anonymizer_session_ratio",
             "nbr_payout_max_remote_access_session_ratio")
    agency = {**sharing, **dict.fromkeys(mates, 0.0)}
    agency_with_vpn = {**agency, "anonymizer_session_ratio": 0.5}
    cell = {**sharing, **dict.fromkeys(mates, 0.0), mates[2]: 0.6}
    alone = {**sharing, **dict.fromkeys(mates, math.nan)}
    rows = (agency, agency_with_vpn, cell, alone)
    names = sorted(set().union(*rows))
    data = {n: np.array([row.get(n, 0.0) for row in rows]) for n in names}
    points = rule_points(data)
    shared = FAMILY_CAPS["shared_payout"] + FAMILY_CAPS["shared_portfolio"]
    # the agency member's own VPN use: half a point for any, half for most sessions
    assert points.tolist() == pytest.approx([0.0, 1.0, shared, shared])
    answer = [r.name for r in RULES].index("payout_mates_show_no_operator_sign")
    flags = flag_points(fired(data), RULES)
    assert flags[0, answer] == pytest.approx(-shared) and flags[2, answer] == 0


def test_a_listed_flag_below_its_threshold_reads_the_largest_column():
    rule = Rule("q", "fa, fb", 0.0, below=True, weight=0, family="f", answers=("g",))
    data = {"fa": np.array([0.0, 0.0, np.nan, np.nan]), "fb": np.array([0.0, 2.0, 0.0, np.nan])}
    assert fired(data, (rule,))[:, 0].tolist() == [True, False, True, False]
    back = rules_from_json(rules_to_json((rule,)))
    assert back == (rule,) and hash(back[0]) == hash(rule)


def test_a_pattern_flag_reads_the_largest_matching_column():
    rule = Rule("n", "nbr_*_decided_confirmed_ratio", 0.5, family="confirmed_links")
    data = {"nbr_payout_decided_confirmed_ratio": np.array([0.1, np.nan, np.nan]),
            "nbr_co_worked_decided_confirmed_ratio": np.array([0.6, 0.2, np.nan]),
            "other": np.array([1.0, 1.0, 1.0])}
    assert fired(data, (rule,))[:, 0].tolist() == [True, False, False]


def test_prior_contributions_sum_to_its_margin_on_the_flags_columns():
    rules = (Rule("a", "fa", 1, weight=2.0, family="shared_payout"),
             Rule("n", "nbr_*_ratio", 0.5, family="confirmed_links"))
    features = ["fa", "nbr_x_ratio", "nbr_y_ratio", "other"]
    x = np.array([[1, 0.9, 0.1, 5], [0, 0.2, 0.7, 5], [0, 0, 0, 0]], dtype=float)
    prior = RulePrior(rules, scale=0.8, intercept=-3.0)
    c = prior.contributions(x, features)
    assert c.sum(axis=1) == pytest.approx(prior.margin(x, features))
    assert c[0, 0] == pytest.approx(0.8 * FAMILY_CAPS["shared_payout"]) and c[0, 1] == 0.8
    assert c[1, 2] == 0.8 and c[1, 1] == 0 and c[2, :-1].tolist() == [0, 0, 0, 0]
    assert RulePrior.from_json(prior.to_json()) == prior


def test_prior_is_fitted_only_when_the_flags_point_at_the_confirmed_accounts():
    rules = (Rule("a", "fa", 1, family="hours"),)
    x = np.array([[1.0], [1.0], [0.0], [0.0], [0.0], [1.0]] * 5)
    y = np.array([1, 1, 0, 0, 0, 0] * 5, dtype=float)
    prior = fit_prior(x, y, np.ones(len(y)), ["fa"], rules)
    assert prior is not None and prior.scale > 0
    assert fit_prior(x, 1 - y, np.ones(len(y)), ["fa"], rules) is None
    assert fit_prior(x, y, np.ones(len(y)), ["other"], rules) is None


def test_why_the_rules_ship_shows_a_gain_that_three_decimals_would_hide():
    from accountrisk.training.fitting import rules_win_reason
    from accountrisk.training.selection import Candidate, Selection

    empty = np.array([])
    chosen = Candidate("ignore", False, (2, 3), 50)
    selection = Selection(chosen, [], empty, empty, empty, empty, model_pr_auc=0.86291,
                          rules_pr_auc=0.86334, rules_win=True, rules_gain_se=0.00021)
    reason = rules_win_reason(selection)
    assert "PR-AUC 0.8633 against 0.8629" in reason
    assert "a gain of 0.0004, more than 2 standard errors (0.0002 each)" in reason
