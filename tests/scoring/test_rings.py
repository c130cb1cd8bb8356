from datetime import datetime

import pyarrow as pa
import pytest

from accountrisk.features.engine import DuckDBEngine
from accountrisk.features.load import load_tables
from accountrisk.features.signals import identity_graph
from accountrisk.scoring.evidence import build_features_for_evidence
from accountrisk.scoring.rings import find_rings, join_ring_scores, ring_for_account
from tests.conftest import NOW, make_tables

AS_OF = "2025-12-01"


@pytest.fixture
def graph():
    """Ring a-b-c-d (payout, device, marketplace link), pair e-f (payout), g alone, and a
    link to h that only exists after T."""
    tables = make_tables(
        payout_methods=[{"account_id": "a", "payout_token": "p1"},
                        {"account_id": "b", "payout_token": "p1"},
                        {"account_id": "e", "payout_token": "p2"},
                        {"account_id": "f", "payout_token": "p2"},
                        {"account_id": "g", "payout_token": "p3"}],
        sessions=[{"account_id": "b", "ip_token": "x1", "device_token": "laptop"},
                  {"account_id": "c", "ip_token": "x2", "device_token": "laptop"}],
        account_links=[{"account_id": "c", "other_account_id": "d", "kind": "same_client"},
                       {"account_id": "d", "other_account_id": "h", "kind": "messaged",
                        "linked_at": datetime(2025, 12, 10)}],
        labels=[{"account_id": "d", "decided_at": datetime(2025, 6, 1)},
                {"account_id": "a", "decided_at": datetime(2025, 12, 20)}],
    )
    with DuckDBEngine() as engine:
        assert load_tables(tables, engine, now=NOW).usable
        yield engine


def test_rings_list_groups_with_members_kinds_and_confirmed_members(graph):
    rings = find_rings(graph, AS_OF)
    rows = {r["group_id"]: r for r in rings.to_pylist()}
    assert set(rows) == {"a", "e"}
    ring = rows["a"]
    assert ring["members"] == ["a", "b", "c", "d"] and ring["member_count"] == 4
    assert {k["kind"]: k["count"] for k in ring["link_kinds"]} == {
        "payout": 1, "device": 1, "same_client": 1}
    assert ring["edge_count"] == 3
    assert ring["confirmed_members"] == ["d"]  # a is confirmed only after T
    assert not ring["is_chained"]
    assert rings.column_names[0] == "group_id" and rings.to_pylist()[0]["group_id"] == "a"
    assert find_rings(graph, AS_OF, min_size=3).column("group_id").to_pylist() == ["a"]


def test_rings_are_point_in_time(graph):
    later = {r["group_id"]: r for r in find_rings(graph, "2025-12-31").to_pylist()}
    assert later["a"]["members"] == ["a", "b", "c", "d", "h"]
    assert later["a"]["confirmed_members"] == ["a", "d"]


def test_join_ring_scores_orders_by_the_highest_member(graph):
    rings = find_rings(graph, AS_OF)
    scores = pa.table({"account_id": ["e", "f", "a", "zz"], "score": [0.9, 0.2, 0.4, 1.0],
                       "band": ["high", "", "watch", "high"]})
    joined = join_ring_scores(rings, scores).to_pylist()
    assert [r["group_id"] for r in joined] == ["e", "a"]
    assert joined[0]["max_score"] == 0.9 and joined[0]["mean_score"] == pytest.approx(0.55)
    assert joined[0]["banded_count"] == 1
    assert joined[0]["member_scores"][0] == {"account_id": "e", "score": 0.9, "band": "high"}
    assert joined[1]["member_scores"] == [{"account_id": "a", "score": 0.4, "band": "watch"}]
    same = join_ring_scores(rings, {"e": (0.9, "high")}).column("max_score").to_pylist()
    assert same == [0.9, None]


def test_ring_for_account_needs_the_kept_tables_and_draws_the_group(graph):
    with pytest.raises(LookupError):
        ring_for_account(graph, AS_OF, "a")
    build_features_for_evidence(graph, AS_OF)
    ring = ring_for_account(graph, AS_OF, "b", scores={"b": (0.8, "high")})
    assert ring["member_count"] == 4 and ring["subject"] == "b" and not ring["chained"]
    assert ring["members"][0]["account_id"] == "b" and ring["members"][0]["is_subject"]
    assert ring["members"][0]["score"] == 0.8
    assert {m["account_id"] for m in ring["members"] if m["confirmed"]} == {"d"}
    assert {(e["a"], e["b"], tuple(e["kinds"])) for e in ring["edges"]} == {
        ("a", "b", ("payout",)), ("b", "c", ("device",)), ("c", "d", ("same_client",))}
    assert ring_for_account(graph, AS_OF, "g") is None
    small = ring_for_account(graph, AS_OF, "b", max_members=2)
    assert small["shown"] == 2 and {m["account_id"] for m in small["members"]} <= {"a", "b", "c"}


def test_a_chained_group_is_drawn_as_the_account_and_its_direct_links(graph, monkeypatch):
    build_features_for_evidence(graph, AS_OF)
    monkeypatch.setattr("accountrisk.scoring.rings.GIANT_GROUP_ACCOUNTS", 3)
    ring = ring_for_account(graph, AS_OF, "b")
    assert ring["chained"] and ring["member_count"] == 4
    assert {m["account_id"] for m in ring["members"]} == {"a", "b", "c"}
    assert identity_graph.GIANT_GROUP_ACCOUNTS > 3
