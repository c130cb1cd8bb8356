"""Validation windows sized by label counts, and the settings validation may choose."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pyarrow as pa
import pytest

from accountrisk.training.dataset import TrainingSet
from accountrisk.training.selection import MIN_CLEARED, PRIOR_BELOW_POSITIVES, candidate_settings
from accountrisk.training.unlabelled import STRATEGIES
from accountrisk.training.validation import MIN_POSITIVES, plan_validation, window_count

START = datetime(2025, 1, 1)


def _set(labels: list[float], times: list[datetime], unlabelled: int = 40) -> TrainingSet:
    """Decided rows with the given labels and times, plus unlabelled rows at monthly
    snapshots (every other one held out)."""
    n = len(labels)
    snapshots = [START + timedelta(days=30 * (k % 12)) for k in range(unlabelled)]
    decided_snapshot = [t - timedelta(days=1) for t in times]
    rows = pa.table({
        "account_id": [f"d{i}" for i in range(n)] + [f"u{i}" for i in range(unlabelled)],
        "f": np.r_[np.asarray(labels, float), np.zeros(unlabelled)],
        "_snapshot": pa.array(decided_snapshot + snapshots, pa.timestamp("us")),
        "_label": np.r_[labels, np.full(unlabelled, np.nan)],
        "_time": pa.array(list(times) + snapshots, pa.timestamp("us")),
        "_labelled": [True] * n + [False] * unlabelled,
        "_holdout": [False] * n + [k % 2 == 0 for k in range(unlabelled)],
        "_weight": np.r_[np.ones(n), np.full(unlabelled, 50.0)],
    })
    labels_a = np.asarray(labels)
    return TrainingSet(rows=rows, final=rows.slice(0, 0), features=["f"],
                       as_of=START + timedelta(days=400), snapshots=[], periods={},
                       counts={"positives": int((labels_a == 1).sum()),
                               "negatives": int((labels_a == 0).sum())})


def _spread(positives: int, negatives: int) -> TrainingSet:
    labels = [1.0] * positives + [0.0] * negatives
    days = np.linspace(0, 360, len(labels))
    order = np.random.default_rng(0).permutation(len(labels))
    return _set([labels[i] for i in order], [START + timedelta(days=float(d)) for d in days])


def test_too_few_confirmed_accounts_mean_no_validation():
    plan = plan_validation(_spread(MIN_POSITIVES - 1, 50))
    assert plan.kind == "none" and "needs at least" in plan.reason


@pytest.mark.parametrize("positives", [12, 30, 60, 200])
def test_windows_are_later_in_time_and_hold_the_latest_confirmed(positives):
    ts = _spread(positives, 3 * positives)
    plan = plan_validation(ts)
    assert plan.kind == "temporal"
    times = np.asarray(ts.rows.column("_time").to_numpy(), dtype="datetime64[us]")
    label = np.nan_to_num(ts.rows.column("_label").to_numpy())
    labelled = np.asarray(ts.rows.column("_labelled").to_pylist())
    holdout = np.asarray(ts.rows.column("_holdout").to_pylist())
    validated = 0
    for fold in plan.folds:
        judged = fold.valid & labelled
        assert times[fold.train & labelled].max() < times[judged].min()  # trained on the past
        assert not (fold.train & fold.valid).any()
        assert not (fold.train & ~labelled & holdout).any()  # held-out accounts never train
        assert not (fold.valid & ~labelled & ~holdout).any()
        validated += int((judged & (label == 1)).sum())
    expected = round(0.4 * positives)
    assert abs(validated - expected) <= 2
    assert len(plan.folds) == window_count(expected)


def test_decisions_at_one_instant_fall_back_to_account_folds():
    labels = [1.0] * 20 + [0.0] * 40
    ts = _set(labels, [START + timedelta(days=100)] * len(labels))
    plan = plan_validation(ts)
    assert plan.kind == "random" and "distinct times" in plan.reason
    judged = np.zeros(ts.rows.num_rows, int)
    for fold in plan.folds:
        assert not (fold.train & fold.valid).any()
        judged += fold.valid[: ts.rows.num_rows]
    assert (judged[:60] == 1).all()  # every decision judged exactly once


def test_enough_cleared_decisions_mean_decisions_alone():
    pairs, default, why = candidate_settings(_spread(80, MIN_CLEARED + 30), STRATEGIES)
    assert default == ("ignore", False) and pairs == [("ignore", False)]
    assert "decisions alone" in why


def test_few_cleared_decisions_let_validation_choose_how_the_population_stands_in():
    pairs, default, why = candidate_settings(_spread(80, 5), STRATEGIES)
    assert default == ("negatives", False)
    assert {s for s, _ in pairs} == {"negatives", "pu"} and not any(p for _, p in pairs)


def test_few_confirmed_accounts_make_the_rule_prior_a_candidate():
    pairs, default, _ = candidate_settings(_spread(PRIOR_BELOW_POSITIVES - 5, 100),
                                           STRATEGIES)
    assert ("ignore", True) in pairs and default == ("ignore", False)


def test_a_given_strategy_is_the_only_one():
    pairs, default, why = candidate_settings(_spread(80, 200), ("pu",))
    assert default == ("pu", False) and "was given" in why


def _with_flag(flag_on_confirmed: bool | None, positives: int = 300, noise: float = 0.8
               ) -> TrainingSet:
    """``positives`` confirmed and twice as many cleared decisions over a year: ``f`` ranks
    them (with ``noise``), the flag column ``g`` fires on a third of the confirmed, of the
    cleared, or (None) of all of them."""
    rng = np.random.default_rng(3)
    ts = _spread(positives, 2 * positives)
    label = np.nan_to_num(ts.rows.column("_label").to_numpy(zero_copy_only=False))
    decided = np.asarray(ts.rows.column("_labelled"))
    f = label + rng.normal(0, noise, len(label))
    side = label if flag_on_confirmed is None else 1.0 if flag_on_confirmed else 0.0
    g = decided & (label == side) & (rng.random(len(label)) < 1 / 3)
    rows = ts.rows.set_column(1, "f", pa.array(f)).append_column("g", pa.array(g.astype(float)))
    return TrainingSet(rows=rows, final=rows.slice(0, 0), features=["f", "g"],
                       as_of=ts.as_of, snapshots=[], periods={}, counts=ts.counts)


@pytest.mark.parametrize("flag_on_confirmed", [True, False])
def test_red_flags_that_cost_the_validation_decisions_are_left_off(flag_on_confirmed):
    """Flags the decisions follow are added on top of the trees; flags that fire on the
    cleared accounts (a marketplace that bans for other reasons) cost more than two
    standard errors and are left off, and the run says so."""
    from accountrisk.training.rules import Rule
    from accountrisk.training.selection import RULE_POINT_LOG_ODDS, select

    ts = _with_flag(flag_on_confirmed)
    said: list[str] = []
    chosen = select(ts, plan_validation(ts), categories={}, rules=[Rule("flag", "g", 1, weight=2)],
                    shapes=[(2, 3)], trees=[50], strategies=("ignore",), say=said.append)
    left_off = any("red flags are left off" in s for s in said)
    assert chosen.rules_added == (RULE_POINT_LOG_ODDS if flag_on_confirmed else 0.0)
    assert left_off is not flag_on_confirmed
    given = select(ts, plan_validation(ts), categories={}, rules=[Rule("flag", "g", 1, weight=2)],
                   shapes=[(2, 3)], trees=[50], strategies=("ignore",),
                   rule_point_log_odds=RULE_POINT_LOG_ODDS)
    assert given.rules_added == RULE_POINT_LOG_ODDS  # a weight the user gave is kept


@pytest.mark.parametrize("positives", [1000, 12])
def test_red_flags_that_say_nothing_are_left_off_once_hundreds_of_decisions_show_it(positives):
    """A flag firing on a third of every decided account ranks the decisions at chance:
    with hundreds of them validation is sure of it and leaves the flags off (the run says
    why); with a dozen confirmed accounts it cannot be, and the flags stay. (``f`` ranks
    the decisions well, so that adding the flags costs too little to leave them off.)"""
    from accountrisk.training.rules import Rule
    from accountrisk.training.selection import select

    ts = _with_flag(None, positives, noise=0.2)
    said: list[str] = []
    chosen = select(ts, plan_validation(ts), categories={}, rules=[Rule("flag", "g", 1, weight=2)],
                    shapes=[(2, 3)], trees=[50], strategies=("ignore",), say=said.append)
    at_chance = any("no better than chance" in s for s in said)
    assert at_chance is (positives == 1000)
    assert (chosen.rules_added == 0) is at_chance


@pytest.mark.parametrize("counted", [60, "many"])
def test_an_export_of_bans_alone_is_judged_against_held_out_unlabelled_accounts(counted):
    """No cleared decisions: every validation decision is a confirmed account, so any
    score would validate at PR-AUC 1. The held-out unlabelled accounts stand in for the
    cleared when the flags and the rules are judged; the settings stay the defaults, the
    larger ones where the run counts thousands of confirmed accounts."""
    from accountrisk.training.rules import Rule
    from accountrisk.training.selection import (
        DEFAULT_SHAPE,
        DEFAULT_TREES,
        MANY_POSITIVES,
        MANY_POSITIVES_SIZE,
        select,
    )

    rng = np.random.default_rng(5)
    ts = _set([1.0] * 60, [START + timedelta(days=200)] * 60, unlabelled=600)
    f = np.r_[rng.normal(1, 1, 60), rng.normal(0, 1, 600)]
    rows = ts.rows.set_column(1, "f", pa.array(f))
    ts = TrainingSet(rows=rows, final=rows.slice(0, 0), features=["f"], as_of=ts.as_of,
                     snapshots=[], periods={},
                     counts={"positives": 60 if counted == 60 else MANY_POSITIVES, "negatives": 0})
    said: list[str] = []
    chosen = select(ts, plan_validation(ts), categories={}, rules=[Rule("flag", "f", 5)],
                    shapes=[DEFAULT_SHAPE, MANY_POSITIVES_SIZE[0]],
                    trees=[25, DEFAULT_TREES, MANY_POSITIVES_SIZE[1]], say=said.append)
    assert 0.2 < chosen.model_pr_auc < 0.95 and chosen.rules_pr_auc < chosen.model_pr_auc
    expected = (DEFAULT_SHAPE, DEFAULT_TREES) if counted == 60 else MANY_POSITIVES_SIZE
    assert (chosen.chosen.shape, chosen.chosen.trees) == expected
    assert any("standing in for the cleared" in s for s in said)
    assert chosen.valid_mask.sum() == 60  # what calibration reads: the decisions


def test_flags_of_an_export_stamped_with_one_date_are_judged_as_scored():
    """Decided at one instant: the rows the trees learn from were read before it, where a
    flag reading neighbours' decisions never fires. Judged on those rows the flag looks
    harmless and stays (another flag, ``h``, ranks the decisions); judged on the rows read
    just after the instant (where it fires on the cleared accounts, as it would at scoring
    time) it is left off."""
    from accountrisk.training.rules import Rule
    from accountrisk.training.selection import select

    rng = np.random.default_rng(4)
    ts = _set([1.0] * 150 + [0.0] * 300, [START + timedelta(days=200)] * 450, unlabelled=100)
    label = np.nan_to_num(ts.rows.column("_label").to_numpy(zero_copy_only=False))
    f = label + rng.normal(0, 0.8, len(label))
    h = (label == 1) & (rng.random(len(f)) < 1 / 3)
    rows = (ts.rows.set_column(1, "f", pa.array(f))
            .append_column("g", pa.array(np.zeros(len(f))))
            .append_column("h", pa.array(h.astype(float))))
    decided = rows.filter(rows.column("_labelled"))
    fires = (np.asarray(decided.column("_label")) == 0) & (rng.random(decided.num_rows) < 0.5)
    after = pa.table({"account_id": decided.column("account_id"),
                      "f": decided.column("f"), "g": pa.array(fires.astype(float)),
                      "h": decided.column("h"), "_snapshot": decided.column("_snapshot")})
    runs = {}
    for name, later in (("before", None), ("after", after)):
        one = TrainingSet(rows=rows, final=rows.slice(0, 0), features=["f", "g", "h"],
                          as_of=ts.as_of, snapshots=[], periods={}, counts=ts.counts,
                          after_instant=later)
        runs[name] = select(one, plan_validation(one), categories={},
                            rules=[Rule("flag", "g", 1, weight=2), Rule("other", "h", 1)],
                            shapes=[(2, 3)], trees=[50], strategies=("ignore",))
    assert runs["before"].rules_added > 0 and runs["after"].rules_added == 0
    assert runs["after"].rules_raw[np.asarray(rows.column("_labelled"))].max() > 0


@pytest.mark.parametrize("bans_alone", [True, False])
def test_an_export_of_bans_alone_keeps_flags_that_find_accounts_nobody_decided(bans_alone):
    """A flag raised by half the confirmed accounts and by a fifth of the others. Where the
    others are cleared decisions, adding it costs the decisions and it is left off; where
    they are unlabelled accounts (bans alone), the flagged ones may be fronts nobody caught,
    so the held-out unlabelled accounts do not judge its cost, only whether it ranks the
    bans better than chance (it does), and it stays."""
    from accountrisk.training.rules import Rule
    from accountrisk.training.selection import RULE_POINT_LOG_ODDS, select

    rng = np.random.default_rng(11)
    positives, others = 300, 3000
    labels = list(rng.permutation([1.0] * positives + ([] if bans_alone else [0.0] * others)))
    days = [200.0] * len(labels) if bans_alone else np.linspace(0, 360, len(labels))
    ts = _set(labels, [START + timedelta(days=float(d)) for d in days],
              unlabelled=others if bans_alone else 40)
    confirmed = np.nan_to_num(ts.rows.column("_label").to_numpy(zero_copy_only=False)) == 1
    n = ts.rows.num_rows
    f = np.where(confirmed, rng.normal(2.5, 1, n), rng.normal(0, 1, n))
    g = rng.random(n) < np.where(confirmed, 0.5, 0.2)
    rows = ts.rows.set_column(1, "f", pa.array(f)).append_column("g", pa.array(g.astype(float)))
    ts = TrainingSet(rows=rows, final=rows.slice(0, 0), features=["f", "g"], as_of=ts.as_of,
                     snapshots=[], periods={}, counts=ts.counts)
    said: list[str] = []
    chosen = select(ts, plan_validation(ts), categories={}, rules=[Rule("flag", "g", 1, weight=8)],
                    shapes=[(2, 3)], trees=[50], strategies=("negatives", "ignore"),
                    say=said.append)
    left_off = any("red flags are left off" in s for s in said)
    assert left_off is not bans_alone, said
    assert chosen.rules_added == (RULE_POINT_LOG_ODDS if bans_alone else 0.0)


@pytest.mark.parametrize("still_tells", [False, True])
def test_the_trees_leave_the_neighbour_aggregates_only_where_validation_says_they_mislead(
        still_tells):
    """A relation whose neighbours told the bans apart in the first half of the year: where
    they stop telling, trees that lean on them rank later decisions worse than trees on the
    accounts' own attribute, and validation mutes the aggregates; where they still tell,
    they stay."""
    from accountrisk.training.selection import select

    rng = np.random.default_rng(3)
    labels = list(rng.permutation([1.0] * 300 + [0.0] * 3000))
    days = np.linspace(0, 360, len(labels))
    ts = _set(labels, [START + timedelta(days=float(d)) for d in days])
    y = np.nan_to_num(ts.rows.column("_label").to_numpy(zero_copy_only=False)) == 1
    n = ts.rows.num_rows
    early = np.r_[days < 200, np.zeros(n - len(days), bool)]
    own = rng.normal(0, 1, n) * np.where(y, 2.5, 1.0)  # extreme either side when banned
    rows = ts.rows.set_column(1, "attr_x", pa.array(own))
    told = np.where(early, 3.0, 1.0 if still_tells else 0.0) * y
    features = ["attr_x"]
    for k in range(3):
        name = f"nbr_same_task_mean_attr_{k}"
        rows = rows.append_column(name, pa.array(rng.normal(0, 1, n) + (told if k == 0 else 0)))
        features.append(name)
    ts = TrainingSet(rows=rows, final=rows.slice(0, 0), features=features, as_of=ts.as_of,
                     snapshots=[], periods={}, counts=ts.counts)
    said: list[str] = []
    chosen = select(ts, plan_validation(ts), categories={}, rules=[], shapes=[(2, 3)],
                    trees=[100, 400], strategies=("ignore",), say=said.append).chosen
    assert chosen.neighbours is still_tells
    assert chosen.muted(features) == ([] if still_tells else features[1:])
    assert any("without the neighbour aggregates" in s for s in said) is not still_tells



def test_a_size_must_win_with_the_flags_it_ships_with_and_not_trail_without_them():
    """Sizes are judged on the score that ships (trees plus red flags). ``wide`` ranks best
    on the trees alone but its wide margins drown the flags; ``small`` barely moves the
    score, so with the flags it is the flags and wins by luck, while its trees trail the
    default's; ``good`` wins both ways. Judged on the trees alone ``wide`` would ship."""
    from accountrisk.training.judge import Judge

    ts = _spread(80, 400)
    labelled = ts.rows.column("_labelled").to_numpy(zero_copy_only=False).astype(bool)
    judge = Judge[str](ts, [labelled], seed=0)
    y = judge.y
    rng = np.random.default_rng(0)
    flags = 2.0 * ((y == 1) & (rng.random(len(y)) < 0.5))
    noise = rng.normal(0, 1, len(y))
    judge.oof = {"default": y + noise, "wide": 10 * (1.5 * y + noise),
                 "small": 0.01 * (0.95 * y + noise), "good": 2 * y + noise}
    three = ["default", "wide", "small"]
    assert judge.pick("default", three, 1.0)[0] == "wide"
    chosen, judged, se, _ = judge.pick("default", three, 1.0, offset=flags)
    assert chosen == "default"
    assert judged["wide"] < judged["default"]
    assert judged["small"] - judged["default"] > se["small"]  # won with the flags ...
    alone = judge.scores(three, judge.rows(three))
    assert alone["small"] < alone["default"]  # ... and trails without them
    assert judge.pick("default", [*three, "good"], 1.0, offset=flags)[0] == "good"
