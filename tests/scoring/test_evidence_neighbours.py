"""Evidence behind neighbour reasons: which neighbours of the reason's relation, and which
of them were confirmed or cleared before T."""

from datetime import datetime

import pytest

from accountrisk.features.engine import DuckDBEngine
from accountrisk.features.load import load_tables
from accountrisk.scoring.evidence import build_features_for_evidence, collect_evidence
from accountrisk.scoring.evidence_tools import MAX_LISTED_ACCOUNTS
from tests.conftest import NOW, make_tables

AS_OF = "2025-12-01"
FEATURES = ["nbr_co_worked_confirmed_ratio", "nbr_payout_account_count",
            "nbr_messaged_mean_account_age_days"]


def market():
    links = [{"account_id": "h", "other_account_id": x, "kind": "co_worked"} for x in "abcd"]
    links += [{"account_id": "h", "other_account_id": "a", "kind": "co_worked"},
              {"account_id": "h", "other_account_id": "m", "kind": "messaged"},
              {"account_id": "h", "other_account_id": "late", "kind": "co_worked",
               "linked_at": datetime(2025, 12, 5)}]
    tables = make_tables(
        account_links=links,
        payout_methods=[{"account_id": "h", "payout_token": "p"},
                        {"account_id": "p1", "payout_token": "p"}],
        labels=[{"account_id": "c", "label": 1},
                {"account_id": "b", "label": 0},
                {"account_id": "d", "label": 1, "decided_at": datetime(2025, 12, 3)},
                {"account_id": "h", "label": 1}])
    engine = DuckDBEngine()
    assert load_tables(tables, engine, now=NOW).usable
    return engine


@pytest.mark.parametrize("kept", [True, False])
def test_a_neighbour_reason_lists_its_relations_neighbours_and_their_decisions(kept):
    with market() as engine:
        if kept:
            rows = {r["account_id"]: r for r in
                    build_features_for_evidence(engine, AS_OF).to_pylist()}
            assert rows["h"]["nbr_co_worked_confirmed_ratio"] == 1 / 4
        source = engine if kept else engine.con.cursor()  # a cursor recomputes
        found = collect_evidence(source, AS_OF, ["h"], FEATURES)["h"]
    co_worked = found["nbr_co_worked_confirmed_ratio"]
    assert [(a.account_id, a.link_kind, a.is_confirmed_fraud, a.is_cleared)
            for a in co_worked.accounts] == [
        ("c", "co_worked", True, False), ("b", "co_worked", False, True),
        ("a", "co_worked", False, False), ("d", "co_worked", False, False)]
    assert co_worked.accounts[2].shared == ["2 ties"]  # two link rows with a
    assert co_worked.notes == ["1 of its 4 co_worked neighbours was confirmed fraudulent "
                               "before T; 1 was cleared"]
    assert co_worked.counts == {"co_worked neighbours": 4, "co_worked confirmed": 1,
                                "co_worked cleared": 1}
    payout = found["nbr_payout_account_count"]
    assert [(a.account_id, a.link_kind) for a in payout.accounts] == [("p1", "payout")]
    assert payout.notes == ["0 of its 1 payout neighbour was confirmed fraudulent before T; "
                            "0 were cleared"]
    assert [a.account_id for a in found["nbr_messaged_mean_account_age_days"].accounts] == ["m"]


def test_own_label_is_not_evidence_and_long_lists_are_cut_with_a_note():
    links = [{"account_id": "h", "other_account_id": f"n{i:02d}", "kind": "co_worked"}
             for i in range(MAX_LISTED_ACCOUNTS + 5)]
    labels = [{"account_id": "n29", "label": 1}, {"account_id": "h", "label": 1}]
    with DuckDBEngine() as engine:
        assert load_tables(make_tables(account_links=links, labels=labels), engine,
                           now=NOW).usable
        build_features_for_evidence(engine, AS_OF)
        found = collect_evidence(engine, AS_OF, ["h", "n00"],
                                 ["nbr_co_worked_account_count"])
    hub = found["h"]["nbr_co_worked_account_count"]
    assert len(hub.accounts) == MAX_LISTED_ACCOUNTS
    assert hub.accounts[0].account_id == "n29" and hub.accounts[0].is_confirmed_fraud
    assert hub.counts["co_worked neighbours"] == MAX_LISTED_ACCOUNTS + 5
    assert any(f"first {MAX_LISTED_ACCOUNTS}" in n for n in hub.notes)
    leaf = found["n00"]["nbr_co_worked_account_count"]
    assert [(a.account_id, a.is_confirmed_fraud) for a in leaf.accounts] == [("h", True)]
