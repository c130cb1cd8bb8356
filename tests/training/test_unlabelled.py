"""The unlabelled-account strategies behave as documented in docs/training.md."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from accountrisk.features.errors import UsageError
from accountrisk.training.unlabelled import (
    AUTO,
    DEFAULT,
    STRATEGIES,
    TIME_MATCH_PRIOR_ROWS,
    Design,
    design,
    matched_on_time,
    thinned,
)

DOCS = Path(__file__).resolve().parents[2] / "docs" / "training.md"


def _rows(seed: int = 0):
    """Labelled rows (positives high on feature 0) and unlabelled rows, a tenth of which
    are hidden positives that look like the labelled ones."""
    rng = np.random.default_rng(seed)
    pos = rng.normal([2.0, 0.0], 0.5, (60, 2))
    neg = rng.normal([0.0, 0.0], 0.5, (60, 2))
    hidden = rng.normal([2.0, 0.0], 0.5, (40, 2))
    plain = rng.normal([-0.5, 0.0], 0.5, (360, 2))
    x = np.vstack([pos, neg, hidden, plain])
    label = np.r_[np.ones(60), np.zeros(60), np.full(400, np.nan)]
    labelled = np.r_[np.ones(120), np.zeros(400)]
    return x, label, labelled


def _design(strategy: str, **kw):
    x, label, labelled = _rows()
    return design(strategy, x, label, labelled, features=["f0", "f1"], categorical=[],
                  seed=0, **kw)


def test_ignore_uses_decisions_only():
    d = _design("ignore")
    assert len(d.y) == 120 and np.all(d.w == 1)


def test_ignore_on_the_decided_rows_alone_is_the_same_design_without_a_copy():
    # Training passes only the decided rows where `ignore` reads nothing else, so that a
    # matrix of millions of rows is not copied to be cut (docs/training-log.md,
    # "Thirty-sixth session").
    x, label, labelled = _rows()
    kept = labelled.astype(bool)
    whole = _design("ignore")
    decided = design("ignore", x[kept], label[kept], labelled[kept], features=["f0", "f1"],
                     categorical=[], seed=0)
    assert np.array_equal(decided.x, whole.x) and np.array_equal(decided.y, whole.y)
    assert np.array_equal(decided.w, whole.w) and decided.notes == whole.notes
    given = x[kept]
    assert design("ignore", given, label[kept], labelled[kept], features=["f0", "f1"],
                  categorical=[], seed=0).x is given  # held as is, not copied


def test_negatives_are_down_weighted_to_the_requested_total():
    d = _design("negatives", weight=0.5)
    assert len(d.y) == 520
    assert d.y[120:].sum() == 0
    assert d.w[120:].sum() == pytest.approx(0.5 * 120)
    assert np.all(d.w[:120] == 1)


def test_pu_splits_each_unlabelled_row_into_weighted_positive_and_negative():
    d = _design("pu")
    assert len(d.y) == 120 + 2 * 400
    as_positive, as_negative = d.w[120:520], d.w[520:]
    assert np.all((0 <= as_positive) & (as_positive <= 1))
    assert as_positive + as_negative == pytest.approx(np.ones(400))
    assert np.all(d.y[120:520] == 1) and np.all(d.y[520:] == 0)
    assert 0 < d.notes["pu_label_frequency"] <= 1
    # Hidden positives (the first 40 unlabelled rows) get more positive weight.
    assert as_positive[:40].mean() > 3 * as_positive[40:].mean()


def test_unknown_strategy_is_refused():
    with pytest.raises(UsageError, match="unknown unlabelled strategy"):
        _design("guess")


def test_the_default_is_the_documented_choice():
    assert DEFAULT == AUTO and AUTO not in STRATEGIES
    assert f"The default is `{DEFAULT}`" in DOCS.read_text(encoding="utf-8")


def test_negative_weight_follows_the_confirmed_rows_over_time():
    t = np.array(["2025-01-01", "2025-02-01", "2025-03-01"], dtype="datetime64[us]")
    negatives_at = t[[0, 0, 1, 1, 2, 2, 2, 2]]
    weights = matched_on_time(np.full(8, 0.5), negatives_at, t[[1, 2, 2, 2]], prior_rows=0)
    assert weights.sum() == pytest.approx(4.0)  # the total stays
    assert weights[:2].tolist() == [0, 0]  # no confirmed row then
    assert weights[2:4].sum() == pytest.approx(1.0) and weights[4:].sum() == pytest.approx(3.0)
    same = matched_on_time(np.full(8, 0.5), negatives_at, t[[0, 1, 2, 2]], prior_rows=0)
    assert same.tolist() == [0.5] * 8  # already spread as the confirmed rows are
    assert matched_on_time(np.ones(2), t[[0, 0]], t[[1]]).tolist() == [1, 1]
    # as many pseudo-rows as confirmed ones: halfway from their own spread (1/4, 1/4, 1/2)
    # to the confirmed one (0, 1/4, 3/4)
    half = matched_on_time(np.full(8, 0.5), negatives_at, t[[1, 2, 2, 2]], prior_rows=4)
    assert half[:2].sum() == pytest.approx(0.5) and half[2:4].sum() == pytest.approx(1.0)
    assert half[4:].sum() == pytest.approx(2.5)


@pytest.mark.parametrize("strategy", ["negatives", "ignore"])
def test_negatives_are_matched_on_time_where_rows_have_one(strategy):
    x, label, labelled = _rows()
    # confirmed rows all read on the second day, the cleared and unlabelled ones over two
    snapshot = np.where(np.arange(len(x)) % 2 == 0, 1, 2).astype("datetime64[D]")
    snapshot[:60] = np.datetime64(2, "D")
    d = design(strategy, x, label, labelled, features=["f0", "f1"], categorical=[],
               seed=0, snapshot=snapshot)
    plain = _design(strategy)
    first_day = snapshot == np.datetime64(1, "D")
    # half of the cleared rows were read on the first day, when no account was confirmed: 60
    # confirmed rows against the pseudo-rows leave them this share of the weight; the
    # unlabelled rows (a sample, not labels) are matched exactly and weigh nothing then
    shrunk = TIME_MATCH_PRIOR_ROWS * 0.5 / (60 + TIME_MATCH_PRIOR_ROWS)
    parts = [(slice(60, 120), shrunk)] + ([(slice(120, 520), 0.0)] if strategy == "negatives"
                                          else [])
    for part, expected in parts:
        w = d.w[part]
        assert w.sum() == pytest.approx(plain.w[part].sum())
        assert w[first_day[part]].sum() / w.sum() == pytest.approx(expected)
    assert np.all(d.w[:60] == 1)


def _classes(positives: int, negatives: int) -> Design:
    rows = positives + negatives
    y = np.r_[np.ones(positives), np.zeros(negatives)]
    w = np.r_[np.full(positives, 2.0), np.full(negatives, 0.5)]
    return Design(np.arange(rows, dtype=float)[:, None], y, w, {"unlabelled_rows": 7})


def test_a_design_under_the_cap_is_left_as_it_is():
    d = _classes(30, 70)
    assert thinned(d, 100, seed=0) is d


def test_a_large_design_keeps_its_few_positives_and_samples_the_negatives():
    d = _classes(40, 960)
    t = thinned(d, 200, seed=0)
    assert len(t.y) == 200 and t.y.sum() == 40
    assert np.array_equal(t.w[t.y == 1], np.full(40, 2.0))  # kept whole, weights unchanged
    # 160 of 960 negatives stand for all of them: each class weighs what it did
    assert np.isclose(t.w[t.y == 0].sum(), d.w[d.y == 0].sum())
    assert len(np.unique(t.x[:, 0])) == 200 and set(t.x[:, 0]) <= set(d.x[:, 0])
    assert np.all(np.diff(t.x[:, 0]) > 0)  # rows keep their order
    assert t.notes == {"unlabelled_rows": 7, "sampled_from_rows": 1000}


def test_both_classes_are_sampled_when_the_smaller_takes_more_than_half():
    d = _classes(400, 600)
    t = thinned(d, 200, seed=3)
    assert (t.y == 1).sum() == 100 and (t.y == 0).sum() == 100
    assert np.isclose(t.w[t.y == 1].sum(), d.w[d.y == 1].sum())
    assert np.isclose(t.w[t.y == 0].sum(), d.w[d.y == 0].sum())
