"""Neighbour aggregates: what an account's neighbours look like and how they were judged,
per relation, as of T; hand-written graphs checked by hand."""

from __future__ import annotations

import math
from datetime import datetime

import pyarrow as pa
import pytest

from accountrisk.features.engine import DuckDBEngine
from accountrisk.features.errors import FeatureError
from accountrisk.features.load import load_tables
from accountrisk.features.pipeline import build_features
from accountrisk.features.registry import (
    FEATURES,
    STAGES,
    Stage,
    describe_feature,
    signals_markdown,
)
from accountrisk.features.signals.neighbours import naming
from accountrisk.features.signals.neighbours.relations import link_relations, sanitized
from accountrisk.features.signals.payout import PAIRED_TOKEN_MAX_ACCOUNTS
from accountrisk.training.fitting import reason_templates
from accountrisk.training.model import monotone_constraints
from accountrisk.training.predict import render_reason
from tests.conftest import NOW, compute, make_tables

LATE = datetime(2025, 12, 10)  # after T = 2025-12-01


def link(a: str, b: str, kind: str = "co_worked", **extra) -> dict:
    return {"account_id": a, "other_account_id": b, "kind": kind, **extra}


def neighbour_columns(row: dict) -> dict:
    return {k: v for k, v in row.items() if k.startswith(naming.PREFIX)}


def with_attributes(tables: dict, **columns: list) -> dict:
    """``tables`` plus an account_attributes table for accounts in the given order."""
    ids = [r["account_id"] for r in tables["accounts"].to_pylist()]
    values = {name: dict(zip(ids_, vals)) for name, (ids_, vals) in columns.items()}
    table = {"account_id": ids}
    for name, by_id in values.items():
        table[name] = [by_id.get(a) for a in ids]
    return {**tables, "account_attributes": pa.table(table)}


def star(kind: str = "co_worked") -> list[dict]:
    """h linked to a, b, c, d; a also to b."""
    return [link("h", x, kind) for x in "abcd"] + [link("a", "b", kind)]


def test_degree_and_strength_count_distinct_neighbours_and_repeated_rows():
    tables = make_tables(account_links=star() + [link("a", "h"), link("h", "e", "messaged")])
    f = compute(tables)
    assert f["h"]["nbr_co_worked_account_count"] == 4
    assert f["h"]["nbr_co_worked_link_count"] == 5  # a-h twice (either direction)
    assert f["a"]["nbr_co_worked_account_count"] == 2
    assert f["h"]["nbr_messaged_account_count"] == 1
    assert f["e"]["nbr_co_worked_account_count"] == 0  # filled: the relation exists
    assert f["e"]["nbr_co_worked_confirmed_ratio"] is None  # no neighbours: unknown


def test_confirmed_and_cleared_shares_use_latest_decision_before_t():
    tables = make_tables(
        account_links=star(),
        labels=[{"account_id": "a", "label": 1, "decided_at": datetime(2025, 5, 1)},
                {"account_id": "b", "label": 1, "decided_at": datetime(2025, 5, 1)},
                {"account_id": "b", "label": 0, "decided_at": datetime(2025, 9, 1)},
                {"account_id": "c", "label": 1, "decided_at": LATE},  # after T
                {"account_id": "d", "label": 0, "decided_at": LATE}])
    h = compute(tables)["h"]
    assert h["nbr_co_worked_confirmed_ratio"] == 1 / 4  # a
    assert h["nbr_co_worked_cleared_ratio"] == 1 / 4  # b, cleared after its confirmation
    assert h["nbr_co_worked_decided_confirmed_ratio"] == 1 / 2
    later = compute(tables, "2025-12-31")["h"]
    assert later["nbr_co_worked_confirmed_ratio"] == 2 / 4  # a, c
    assert later["nbr_co_worked_decided_confirmed_ratio"] == 2 / 4


def test_an_export_of_bans_alone_leaves_the_decided_share_unknown():
    def h(labels):
        return compute(make_tables(account_links=star(), labels=labels))["h"]

    bans = [{"account_id": x, "label": 1} for x in "ab"]
    assert h(bans)["nbr_co_worked_decided_confirmed_ratio"] is None
    assert h(bans)["nbr_co_worked_confirmed_ratio"] == 2 / 4
    # One clearance among nineteen decisions (over 5%) makes them decisions again; h's own
    # decision is not counted among them.
    many = [{"account_id": f"z{i:02d}", "label": 1} for i in range(16)]
    cleared = [{"account_id": "c", "label": 0}]
    assert h(bans + many + cleared)["nbr_co_worked_decided_confirmed_ratio"] == 2 / 3
    own = [{"account_id": "h", "label": 0}]
    assert h(bans + many + own)["nbr_co_worked_decided_confirmed_ratio"] is None


def test_own_label_never_reaches_own_features_but_reaches_neighbours():
    def run(label_of_a):
        labels = [{"account_id": "c", "label": 1}]
        if label_of_a is not None:
            labels.append({"account_id": "a", "label": label_of_a})
        sessions = [{"account_id": x, "remote_access_tool": "anydesk" if x in "ab" else None}
                    for x in "habcd"]
        return compute(make_tables(account_links=star(), labels=labels, sessions=sessions,
                                   payout_methods=[{"account_id": "a", "payout_token": "p"},
                                                   {"account_id": "h", "payout_token": "p"}],
                                   activity=[{"account_id": x} for x in "habcd"]))

    unlabelled, confirmed, cleared = run(None), run(1), run(0)
    own = neighbour_columns(unlabelled["a"])
    assert own and any(v for v in own.values())
    assert neighbour_columns(confirmed["a"]) == own
    assert neighbour_columns(cleared["a"]) == own
    assert unlabelled["h"]["nbr_co_worked_confirmed_ratio"] == 1 / 4
    assert confirmed["h"]["nbr_co_worked_confirmed_ratio"] == 2 / 4
    assert confirmed["h"]["nbr_payout_confirmed_ratio"] == 1
    assert cleared["h"]["nbr_co_worked_cleared_ratio"] == 1 / 4


def test_two_hop_share_goes_through_each_neighbour_and_leaves_self_out():
    # a - h - {b, c, d}; a - b. Confirmed: a, c.
    tables = make_tables(account_links=star(),
                         labels=[{"account_id": "a", "label": 1}, {"account_id": "c", "label": 1}])
    f = compute(tables)
    # From a: through h (others b, c, d: c confirmed) and b (other h: no) -> 1 of 4 paths.
    assert f["a"]["nbr_co_worked_two_hop_confirmed_ratio"] == 1 / 4
    # From h: through a (b), b (a), c (none), d (none) -> paths a->b, b->a: 1 of 2.
    assert f["h"]["nbr_co_worked_two_hop_confirmed_ratio"] == 1 / 2
    # From c: through h (a, b, d): a confirmed; c itself (confirmed) is left out.
    assert f["c"]["nbr_co_worked_two_hop_confirmed_ratio"] == 1 / 3
    # d's only neighbour's other neighbours: a, b, c -> 2 of 3.
    assert f["d"]["nbr_co_worked_two_hop_confirmed_ratio"] == 2 / 3


def test_weighted_mean_max_and_std_by_hand():
    # h tied to b by two link rows (weight 2) and to c by one; x: b 1, c 4, d None.
    tables = make_tables(account_links=[link("h", "b"), link("b", "h"), link("h", "c"),
                                        link("h", "d")])
    tables = with_attributes(tables, x=(["b", "c", "h"], [1.0, 4.0, 100.0]),
                             flag=(["b", "c"], [True, False]), name=(["b"], ["text"]))
    h = compute(tables)["h"]
    assert h["nbr_co_worked_mean_attr_x"] == pytest.approx((2 * 1 + 4) / 3)  # 2, d unknown
    assert h["nbr_co_worked_max_attr_x"] == 4
    assert h["nbr_co_worked_std_attr_x"] == pytest.approx(math.sqrt((2 * 1 + 4) / 3))
    assert h["nbr_co_worked_mean_attr_flag"] == pytest.approx(2 / 3)  # booleans as 0/1
    assert "nbr_co_worked_mean_attr_name" not in h  # text attributes are not aggregated
    b = compute(tables)["b"]
    assert b["nbr_co_worked_mean_attr_x"] == 100  # its own x (1) is not its neighbours'
    assert b["nbr_co_worked_std_attr_x"] == 0


def test_equal_values_have_exactly_zero_spread():
    tables = make_tables(account_links=[link("h", x) for x in "abc"])
    tables = with_attributes(tables, x=(["a", "b", "c"], [0.1, 0.1, 0.1]))
    assert compute(tables)["h"]["nbr_co_worked_std_attr_x"] == 0.0


def test_a_node_with_more_than_a_thousand_neighbours_still_gets_values():
    leaves = [f"n{i:04d}" for i in range(1200)]
    tables = make_tables(account_links=[link("hub", n) for n in leaves],
                         labels=[{"account_id": n, "label": 1} for n in leaves[:300]])
    f = compute(tables)
    assert f["hub"]["nbr_co_worked_account_count"] == 1200
    assert f["hub"]["nbr_co_worked_confirmed_ratio"] == 300 / 1200
    assert f["n0500"]["nbr_co_worked_two_hop_confirmed_ratio"] == 300 / 1199


def test_kinds_beyond_the_four_most_frequent_are_merged_into_other_link():
    rows = []
    for kind, n in (("Co-Worked", 5), ("messaged", 4), ("same client", 3), ("payout", 3),
                    ("hired", 2), ("referred", 1)):
        rows += [link(f"{kind[:3]}{i}", "z", kind) for i in range(n)]
    f = compute(make_tables(account_links=rows))["z"]
    assert f["nbr_co_worked_account_count"] == 5
    assert f["nbr_messaged_account_count"] == 4
    assert f["nbr_same_client_account_count"] == 3
    assert f["nbr_payout_kind_account_count"] == 3  # apart from the payout relation
    assert f["nbr_other_link_account_count"] == 3  # hired 2 + referred 1
    assert "nbr_hired_account_count" not in f and "nbr_payout_account_count" not in f


def test_relation_names_are_identifiers_and_read_back():
    assert sanitized("Co-Worked!") == "co_worked" and sanitized("2nd") == "k_2nd"
    assert sanitized("???") == "kind"
    found = link_relations([("a b", 3), ("A-B", 2), ("x_mean", 1)])
    assert [r.name for r in found] == ["a_b", "a_b_2", "x_mean"]
    columns = naming.column_names(naming.named(found, ["attr_mean_x", "account_age_days"]),
                                  ["attr_mean_x", "account_age_days"])
    # "x_mean" would read as relation "x" in nbr_x_mean_mean_...: renamed.
    assert [c[1] for c in columns if c[2].suffix == "account_count"] == [
        "nbr_a_b_account_count", "nbr_a_b_2_account_count", "nbr_link_kind_2_account_count"]
    assert naming.relation_of("nbr_a_b_2_mean_attr_mean_x") == "a_b_2"
    assert naming.relation_of("payout_shared_account_count") is None
    for _relation, name, _aggregate, _signal in columns:
        assert describe_feature(name).description, name


def test_attribute_columns_are_aggregated_at_most_the_cap_in_column_order():
    cap = naming.MAX_ATTRIBUTE_SIGNALS
    tables = make_tables(account_links=[link("a", "b")])
    tables = with_attributes(tables, **{f"v{i:02d}": (["a", "b"], [i, i + 1])
                                        for i in range(cap + 2)})
    a = compute(tables)["a"]
    means = [k for k in a if k.startswith("nbr_co_worked_mean_attr_")]
    assert means == [f"nbr_co_worked_mean_attr_v{i:02d}" for i in range(cap)]
    assert a["nbr_co_worked_mean_attr_v03"] == 4
    assert a[f"attr_v{cap + 1:02d}"] == cap + 1  # beyond the cap still a feature of its own


def test_a_folder_without_links_payouts_or_sessions_still_works():
    f = compute(make_tables(accounts=[{"account_id": "a"}, {"account_id": "b"}]))
    names = neighbour_columns(f["a"])
    relations = {n.removeprefix("nbr_").split("_")[0] for n in names}
    assert relations == {"portfolio"}  # profile photos are always there to compare
    assert f["a"]["nbr_portfolio_account_count"] == 0


def test_payout_access_and_portfolio_relations_weigh_what_the_pair_shares():
    many = [{"account_id": f"m{i:03d}", "payout_token": "escrow"}
            for i in range(PAIRED_TOKEN_MAX_ACCOUNTS + 1)]
    tables = make_tables(
        payout_methods=[{"account_id": "a", "payout_token": "p1"},
                        {"account_id": "b", "payout_token": "p1"},
                        {"account_id": "a", "payout_token": "p2"},
                        {"account_id": "b", "payout_token": "p2"},
                        {"account_id": "c", "payout_token": "p2"},
                        {"account_id": "a", "payout_token": "escrow"}] + many,
        sessions=[{"account_id": x, "ip_token": "home", "ip_type": "residential",
                   "device_token": "laptop" if x in "ab" else None} for x in "abc"],
        accounts=[{"account_id": x, "profile_photo_phash": "0123456789abcdef"} for x in "de"])
    f = compute(tables)
    assert f["a"]["nbr_payout_account_count"] == 2  # b, c; the escrow crowd is not paired
    assert f["a"]["nbr_payout_link_count"] == 3  # two destinations with b, one with c
    assert f["m000"]["nbr_payout_account_count"] == 0
    assert f["a"]["nbr_access_account_count"] == 2
    assert f["a"]["nbr_access_link_count"] == 3  # b: IP and device; c: IP
    assert f["d"]["nbr_portfolio_account_count"] == 1


def test_point_in_time_links_accounts_and_signals_after_t_do_not_count():
    tables = make_tables(
        accounts=[{"account_id": "new", "created_at": LATE}],
        account_links=[link("a", "b"), link("a", "c", linked_at=LATE), link("a", "new"),
                       link("a", "d", linked_at=None)],
        sessions=[{"account_id": "b", "remote_access_tool": "anydesk",
                   "started_at": datetime(2025, 6, 1)},
                  {"account_id": "b", "started_at": LATE},
                  {"account_id": "d", "started_at": LATE, "remote_access_tool": "anydesk"}])
    a = compute(tables)["a"]
    assert a["nbr_co_worked_account_count"] == 2  # b and d (no date: always)
    assert a["nbr_co_worked_mean_remote_access_session_ratio"] == 1  # d has no session yet
    assert compute(tables, "2025-12-31")["a"]["nbr_co_worked_account_count"] == 4


def test_base_features_are_the_same_with_and_without_the_second_phase(monkeypatch):
    tables = make_tables(account_links=star(), labels=[{"account_id": "a", "label": 1}],
                         sessions=[{"account_id": "a"}])
    with_phase = compute(tables)
    monkeypatch.delitem(STAGES, "neighbour_aggregates")
    without = compute(tables)
    assert {a: {k: v for k, v in r.items() if not k.startswith("nbr_")}
            for a, r in with_phase.items()} == without


def test_a_first_phase_stage_cannot_wait_for_a_second_phase_stage(monkeypatch):
    monkeypatch.setitem(STAGES, "early", Stage("early", ("accounts",), lambda c: "",
                                               after=(STAGES["neighbour_aggregates"],)))
    with DuckDBEngine() as engine:
        assert load_tables(make_tables(accounts=[{"account_id": "a"}]), engine,
                           now=NOW).usable
        with pytest.raises(FeatureError, match="reads_base_features"):
            build_features(engine, "2025-12-01")


def test_registry_gives_every_column_text_direction_and_a_rendered_reason():
    tables = with_attributes(make_tables(account_links=star(), sessions=[{"account_id": "a"}],
                                         payout_methods=[{"account_id": "a"}],
                                         activity=[{"account_id": "a"}]),
                             rating=(["a", "b"], [4.5, 3.0]))
    names = list(neighbour_columns(compute(tables)["h"]))
    assert len(names) > 50
    templates = reason_templates(names)
    directions = dict(zip(names, monotone_constraints(names)))
    for name in names:
        known = describe_feature(name)
        assert known is not None and known.family == "neighbours", name
        assert "<" not in known.reason and "<" not in known.description, name
        assert templates[name] == known.reason
        text = render_reason(known.reason, 0.25, {}, name)
        assert "{" not in text and "?" not in text, (name, text)
    assert templates["nbr_co_worked_confirmed_ratio"] == (
        "{value:.0%} of its co_worked neighbours were confirmed fraudulent before T")
    assert render_reason(templates["nbr_payout_mean_activity_claimed_night_ratio"], 0.4) == (
        "its payout neighbours' mean night-work share is 40%")
    assert directions["nbr_co_worked_confirmed_ratio"] == 1
    assert directions["nbr_access_two_hop_confirmed_ratio"] == 1
    assert directions["nbr_co_worked_cleared_ratio"] == 0
    assert directions["nbr_co_worked_mean_attr_rating"] == 0
    assert directions["nbr_co_worked_account_count"] == 0
    assert not set(naming.KEY_SIGNALS) - set(FEATURES)  # every key signal exists
    assert "nbr_<relation>_confirmed_ratio" in signals_markdown()
