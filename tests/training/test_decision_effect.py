"""Decided accounts are read at T for the final fit only where the decisions did not stop
the accounts (labels that annotate rather than ban); banned accounts that go quiet keep
their rows before the decision."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute  # noqa: F401  (pa.compute)
import pytest

from accountrisk.features.engine import DuckDBEngine
from accountrisk.features.load import load_tables
from accountrisk.training.api import prepare
from accountrisk.training.dataset import latest_decisions
from accountrisk.training.decision_effect import (
    DecisionEffect,
    decision_effect,
    final_fit_rows,
)
from tests.conftest import NOW, compute, make_tables
from tests.training.market import AS_OF, small_market, write_folder

D = datetime(2025, 6, 1)


def _effect(tables, as_of=AS_OF):
    with DuckDBEngine() as engine:
        assert load_tables(tables, engine, now=NOW).usable
        return decision_effect(engine, latest_decisions(engine, as_of), as_of)


def test_activity_on_each_side_of_a_decision_is_counted_per_account():
    """a: two sessions in the 30 days before its ban, an action 5 days after and one exactly
    at the decision (after it); b: last seen 40 days before (not active before, not
    counted); c: cleared, active the day before and next 31 days after (outside); e: decided
    under 30 days before T."""
    sessions = [{"account_id": "a", "started_at": D - timedelta(days=10), "ip_token": "i1"},
                {"account_id": "a", "started_at": D - timedelta(days=29), "ip_token": "i1"},
                {"account_id": "b", "started_at": D - timedelta(days=40), "ip_token": "i2"},
                {"account_id": "b", "started_at": D + timedelta(days=2), "ip_token": "i2"},
                {"account_id": "c", "started_at": D - timedelta(days=1), "ip_token": "i3"},
                {"account_id": "c", "started_at": D + timedelta(days=31), "ip_token": "i3"},
                {"account_id": "e", "started_at": datetime(2025, 9, 1), "ip_token": "i4"}]
    activity = [{"account_id": "a", "ts": D + timedelta(days=5), "kind": "message"},
                {"account_id": "a", "ts": D, "kind": "other"}]
    labels = [{"account_id": "a", "label": 1, "decided_at": D},
              {"account_id": "b", "label": 1, "decided_at": D},
              {"account_id": "c", "label": 0, "decided_at": D + timedelta(seconds=1)},
              {"account_id": "e", "label": 1, "decided_at": datetime(2025, 9, 10)}]
    tables = make_tables(sessions=sessions, activity=activity, labels=labels)
    assert _effect(tables, datetime(2025, 10, 1)) == DecisionEffect(1, 2, 2, 1, 1, 0)


def test_no_sessions_or_activity_tells_nothing():
    labels = [{"account_id": "a", "label": 1, "decided_at": D}]
    assert _effect(make_tables(labels=labels)) is None


@pytest.mark.parametrize("counts, kept", [
    ((10, 100, 50, 10, 100, 100), True),    # half the cleared's rate
    ((10, 100, 49, 10, 100, 100), False),
    ((20, 300, 0, 40, 500, 400), False),    # bans that stop the accounts
    ((20, 300, 12, 40, 500, 400), False),   # a few logins after a ban (appeals)
    ((20, 300, 12, 40, 500, 20), False),    # dormant accounts on both sides
    ((9, 90, 90, 50, 500, 500), False),     # too few confirmed accounts to tell
    ((10, 100, 100, 9, 90, 90), False),     # too few cleared
    ((10, 100, 30, 10, 100, 0), False)])    # nobody worked after a decision
def test_the_confirmed_kept_working_at_half_the_cleared_rate(counts, kept):
    assert DecisionEffect(*counts).kept_working is kept


def test_bans_that_stop_the_accounts_are_told_apart_from_labels_that_do_not():
    banned = _effect(small_market(seed=1))
    # (An action two hours after a session just before the ban is after it.)
    assert banned.told and banned.confirmed_after <= 2 and banned.others_after > 100
    assert not banned.kept_working
    assert _effect(small_market(seed=1, bans_stop=False)).kept_working


def _same(got, want, name):
    if want is None or (isinstance(want, float) and math.isnan(want)):
        assert got is None or (isinstance(got, float) and math.isnan(got)), name
    else:
        assert got == pytest.approx(want), name


def test_the_final_fit_reads_every_account_at_t_only_where_decisions_did_not_stop_them(
        tmp_path):
    tables = small_market(seed=2, accounts=200, bans_stop=False)
    ts = prepare(write_folder(tables, tmp_path / "data"), AS_OF, workdir=tmp_path / "work",
                 snapshot_days=120)
    labelled = ts.labelled()
    at_t = ts.rows_at_t
    assert at_t is not None
    is_labelled = np.asarray(at_t.column("_labelled").to_pylist())
    decided = at_t.filter(is_labelled)
    assert decided.num_rows == labelled.num_rows > 20
    assert ts.counts["decided_read_at_t"] == decided.num_rows
    # Validation keeps every decided row from before its decision.
    assert all(r["_snapshot"] <= r["_decided_at"] for r in labelled.to_pylist())
    expected = compute(tables, as_of=AS_OF)
    for row in at_t.to_pylist():
        assert row["_snapshot"] == AS_OF
        for name in ts.features:
            _same(row[name], expected[row["account_id"]][name], name)
    # The unlabelled rows at T are the final snapshot's undecided accounts.
    decided_ids = set(decided.column("account_id").to_pylist())
    final_ids = [a for a in ts.final.column("account_id").to_pylist() if a not in decided_ids]
    assert at_t.filter(~is_labelled).column("account_id").to_pylist() == final_ids
    assert final_fit_rows(ts.rows, at_t).column_names == ts.rows.column_names
    quiet = prepare(write_folder(small_market(seed=2, accounts=200), tmp_path / "quiet"),
                    AS_OF, workdir=tmp_path / "quiet-work", snapshot_days=120)
    assert quiet.rows_at_t is None and "decided_read_at_t" not in quiet.counts
    assert final_fit_rows(quiet.rows, None) is quiet.rows


def test_bans_alone_are_compared_with_the_undecided_accounts():
    """No cleared decision: the confirmed accounts' work after their decision is compared
    with that of the accounts never decided, around the median decision."""
    tables = small_market(seed=1, bans_stop=False)
    labels = tables["labels"]
    tables["labels"] = labels.filter(pa.compute.equal(labels.column("label"), 1))
    kept = _effect(tables)
    assert kept.others == "undecided" and kept.others_accounts > 50 and kept.kept_working
    stopped = _effect(small_market(seed=1))
    labels = small_market(seed=1)["labels"]
    banned_only = {**small_market(seed=1),
                   "labels": labels.filter(pa.compute.equal(labels.column("label"), 1))}
    assert stopped.others == "cleared"
    assert not _effect(banned_only).kept_working
    assert _effect(banned_only).others == "undecided"


def test_the_model_card_says_where_the_final_fit_read_the_decided_accounts():
    from accountrisk.training.model_card import model_card

    counts = {"training": {"counts": {"decided_read_at_t": 7}}}
    card = model_card({"kind": "model", **counts, "final_fit": {"decided_read_at_t": True}})
    assert "The final fit read the 7 decided accounts and its unlabelled ones at as-of" in card
    # A final fit that kept the rows before the decisions: not said.
    kept = model_card({"kind": "model", **counts, "final_fit": {"decided_read_at_t": False}})
    assert "final fit read" not in kept


def test_a_final_fit_that_learns_from_unlabelled_rows_reads_them_at_t_too(tmp_path):
    from accountrisk.training.api import train

    data = write_folder(small_market(seed=2, accounts=200, bans_stop=False), tmp_path / "data")
    fits = {}
    for strategy in ("ignore", "negatives"):
        result = train(data, AS_OF, workdir=tmp_path / strategy, snapshot_days=120,
                       unlabelled=strategy, register=False, plots=False)
        fits[strategy] = result.metadata["final_fit"]
    assert fits["ignore"]["decided_read_at_t"] and fits["negatives"]["decided_read_at_t"]
    # Every unlabelled row read at T (the accounts active then): more than were sampled.
    assert fits["negatives"]["unlabelled_rows"] > 100
