import random
from datetime import datetime

import pytest

from accountrisk.features.engine import DuckDBEngine
from accountrisk.features.errors import FeatureError
from accountrisk.features.load import load_tables
from accountrisk.features.pipeline import _Context, build_features, parse_as_of
from accountrisk.features.registry import STAGES, Stage
from accountrisk.features.signals import identity_graph
from accountrisk.features.signals.identity_graph import (
    DENSE_KIND_PARTNERS,
    LINK_HUB_ACCOUNTS,
    PAYOUT_HUB_ACCOUNTS,
    connected_groups,
)
from accountrisk.features.signals.portfolio import portfolio_pair_edges
from tests.conftest import NOW, compute, make_tables


def _run(tables, as_of="2025-12-01", before=None, monkeypatch=None):
    """Features plus the graph tables the rings command reads (kept by skipping the drop)."""
    with DuckDBEngine() as engine:
        assert load_tables(tables, engine, now=NOW).usable
        if before:
            before(engine)
        monkeypatch.setattr(engine, "drop", lambda names: None)
        result = build_features(engine, as_of)
        groups = dict(engine.con.sql("SELECT account_id, group_id FROM link_group_membership")
                      .fetchall())
        edges = set(engine.con.sql("SELECT account_id, other_account_id, link_kind "
                                   "FROM link_edges").fetchall())
    return {r["account_id"]: r for r in result.to_pylist()}, groups, edges


def test_chain_of_three_kinds_forms_one_group(monkeypatch):
    tables = make_tables(
        payout_methods=[{"account_id": "a", "payout_token": "p1"},
                        {"account_id": "b", "payout_token": "p1"}],
        sessions=[{"account_id": "b", "ip_token": "ip-b", "device_token": "dev"},
                  {"account_id": "c", "ip_token": "ip-c", "device_token": "dev"},
                  {"account_id": "e", "ip_token": "ip-e"}],
        account_links=[{"account_id": "c", "other_account_id": "d", "kind": "same_client"}],
    )
    f, groups, edges = _run(tables, monkeypatch=monkeypatch)
    for account in "abcd":
        assert f[account]["link_group_account_count"] == 4
        assert f[account]["link_group_link_kind_count"] == 3
        assert groups[account] == "a"
    assert f["b"]["direct_link_account_count"] == 2
    assert f["d"]["direct_link_account_count"] == 1
    assert f["e"]["link_group_account_count"] == 1
    assert f["e"]["link_group_link_kind_count"] == 0
    assert f["e"]["direct_link_account_count"] == 0
    assert "e" not in groups
    assert ("d", "c", "same_client") in edges and ("c", "d", "same_client") in edges
    assert ("a", "b", "payout") in edges and ("c", "b", "device") in edges


def test_confirmed_members_count_only_before_t_and_never_self():
    tables = make_tables(
        account_links=[{"account_id": "a", "other_account_id": "b"},
                       {"account_id": "b", "other_account_id": "c"},
                       {"account_id": "c", "other_account_id": "d"}],
        labels=[{"account_id": "a", "label": 1, "decided_at": datetime(2025, 5, 1)},
                {"account_id": "c", "label": 1, "decided_at": datetime(2025, 5, 1)},
                {"account_id": "c", "label": 0, "decided_at": datetime(2025, 12, 3)},
                {"account_id": "d", "label": 1, "decided_at": datetime(2025, 12, 5)}],
    )
    f = compute(tables, "2025-12-01")
    assert f["a"]["link_group_confirmed_account_count"] == 1  # c; not a itself, not d yet
    assert f["b"]["link_group_confirmed_account_count"] == 2
    assert f["d"]["link_group_confirmed_account_count"] == 2
    assert f["b"]["direct_link_confirmed_account_count"] == 2
    assert f["d"]["direct_link_confirmed_account_count"] == 1
    assert f["a"]["direct_link_confirmed_account_count"] == 0
    # After the later decisions, c is cleared and d confirmed.
    later = compute(tables, "2025-12-31")
    assert later["a"]["link_group_confirmed_account_count"] == 1  # d
    assert later["d"]["link_group_confirmed_account_count"] == 1  # a


def test_links_dated_after_t_and_accounts_created_after_t_are_ignored():
    tables = make_tables(
        accounts=[{"account_id": "late", "created_at": datetime(2025, 12, 20)}],
        account_links=[
            {"account_id": "a", "other_account_id": "b", "linked_at": datetime(2025, 12, 10)},
            {"account_id": "a", "other_account_id": "c", "linked_at": None},
            {"account_id": "a", "other_account_id": "late"},
        ],
    )
    f = compute(tables, "2025-12-01")
    assert f["a"]["link_group_account_count"] == 2  # a and c only
    assert f["b"]["link_group_account_count"] == 1
    assert "late" not in f
    assert compute(tables, "2025-12-31")["a"]["link_group_account_count"] == 4


def test_hub_payout_token_and_hub_marketplace_account_do_not_link():
    crowd = [{"account_id": f"p{i:02d}", "payout_token": "escrow"}
             for i in range(PAYOUT_HUB_ACCOUNTS + 1)]
    clients = [{"account_id": "client", "other_account_id": f"m{i:02d}", "kind": "hired"}
               for i in range(LINK_HUB_ACCOUNTS + 1)]
    tables = make_tables(
        payout_methods=crowd,
        account_links=[*clients, {"account_id": "m00", "other_account_id": "m01",
                                  "kind": "messaged"}])
    f = compute(tables)
    assert f["p00"]["link_group_account_count"] == 1
    assert f["client"]["direct_link_account_count"] == 0
    assert f["m00"]["link_group_account_count"] == 2
    assert f["m00"]["link_group_link_kind_count"] == 1


def test_a_dense_link_kind_feeds_the_neighbours_but_not_the_identity_graph():
    # Twelve workers on one task (11 partners each, over the dense bound) and a pair of
    # them also in one household: only the household ties them as identities.
    workers = [f"w{i:02d}" for i in range(DENSE_KIND_PARTNERS + 2)]
    task = [{"account_id": a, "other_account_id": b, "kind": "same_task"}
            for i, a in enumerate(workers) for b in workers[i + 1:]]
    tables = make_tables(
        account_links=[*task, {"account_id": "w00", "other_account_id": "w01",
                               "kind": "household"}],
        labels=[{"account_id": "w05", "label": 1}])
    f = compute(tables)
    assert f["w00"]["direct_link_account_count"] == 1
    assert f["w00"]["link_group_account_count"] == 2
    assert f["w02"]["direct_link_account_count"] == 0
    assert f["w02"]["direct_link_confirmed_account_count"] == 0
    assert f["w02"]["nbr_same_task_account_count"] == len(workers) - 1
    assert f["w02"]["nbr_same_task_confirmed_ratio"] == 1 / (len(workers) - 1)
    sparse = compute(make_tables(account_links=task[:DENSE_KIND_PARTNERS],
                                 labels=[{"account_id": "w05", "label": 1}]))
    assert sparse["w00"]["direct_link_confirmed_account_count"] == 1


def test_portfolio_pairs_join_the_graph_when_the_portfolio_stage_ran(monkeypatch):
    # Stands in for the portfolio stage, so that only the pairs made below are read.
    fake = Stage(name=portfolio_pair_edges.name, needs=("accounts",), build=lambda c: "")
    monkeypatch.setitem(STAGES, fake.name, fake)

    def pairs(engine):
        engine.create_table("portfolio_account_pairs",
                            "SELECT 'x' AS account_id, 'y' AS other_account_id, "
                            "'portfolio_image' AS link_kind")
    tables = make_tables(accounts=[{"account_id": "x"}, {"account_id": "y"}])
    f, groups, edges = _run(tables, before=pairs, monkeypatch=monkeypatch)
    assert f["y"]["link_group_account_count"] == 2
    assert ("y", "x", "portfolio_image") in edges  # stored both ways


def test_only_accounts_gives_singletons_and_age():
    f = compute(make_tables(accounts=[{"account_id": "a", "created_at": datetime(2025, 11, 1)}]),
                "2025-12-01")["a"]
    assert f["link_group_account_count"] == 1
    assert f["direct_link_account_count"] == 0
    assert f["link_group_confirmed_account_count"] == 0
    assert f["account_age_days"] == 30


def _components(engine, edge_pairs, monkeypatch=None, rounds=None):
    engine.con.execute("CREATE TABLE e (account_id VARCHAR, other_account_id VARCHAR)")
    both = edge_pairs + [(b, a) for a, b in edge_pairs]
    engine.con.executemany("INSERT INTO e VALUES (?, ?)", both)
    ctx = _Context(engine=engine, d=engine.dialect, as_of=parse_as_of("2025-12-01"),
                   available=frozenset())
    calls = []
    original = ctx.scalar

    def counting(sql):
        calls.append(sql)
        return original(sql)
    ctx.scalar = counting
    table = connected_groups(ctx, "e", "groups")
    return dict(engine.con.sql(f"SELECT account_id, group_id FROM {table}").fetchall()), calls


@pytest.mark.parametrize("order", ["sorted", "reversed", "shuffled"])
def test_label_propagation_converges_on_a_long_path(engine, order):
    ids = [f"n{i:03d}" for i in range(200)]
    if order == "reversed":
        ids.reverse()
    elif order == "shuffled":
        random.Random(7).shuffle(ids)
    path = list(zip(ids, ids[1:]))
    groups, rounds = _components(engine, path + [("z1", "z2")])
    assert {g for k, g in groups.items() if k.startswith("n")} == {"n000"}
    assert groups["z2"] == "z1"
    assert len(rounds) <= 12  # ~log2(200); plain min-label propagation needs ~100


def _smallest_member(pairs):
    """Each node's smallest group member, by union-find (the definition to compare with)."""
    parent: dict[str, str] = {}

    def root(x):
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x
    for a, b in pairs:
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return {x: root(x) for x in list(parent)}


@pytest.mark.parametrize("seed", range(6))
def test_label_propagation_equals_union_find_on_random_graphs(seed):
    # Sparse random graphs: long chains, trees and small rings at once, so later rounds
    # read only the edges next to changed labels (the carried neighbour minimum).
    rng = random.Random(seed)
    nodes = [f"a{rng.randrange(10**6):06d}" for _ in range(300)]
    pairs = [(rng.choice(nodes), rng.choice(nodes)) for _ in range(rng.choice((150, 260, 330)))]
    pairs = [(a, b) for a, b in pairs if a != b]
    with DuckDBEngine() as engine:
        groups, _ = _components(engine, pairs)
    assert groups == _smallest_member(pairs)


def test_too_many_rounds_raise_a_clear_error(engine, monkeypatch):
    monkeypatch.setattr(identity_graph, "MAX_ROUNDS", 2)
    ids = [f"n{i:03d}" for i in range(200)]
    with pytest.raises(FeatureError, match="did not settle"):
        _components(engine, list(zip(ids, ids[1:])))


def test_giant_chained_group_has_unknown_group_features(monkeypatch):
    monkeypatch.setattr(identity_graph, "GIANT_GROUP_ACCOUNTS", 3)
    tables = make_tables(
        account_links=[{"account_id": a, "other_account_id": b}
                       for a, b in [("a", "b"), ("b", "c"), ("c", "d"), ("x", "y")]],
        labels=[{"account_id": "a", "label": 1}])
    f = compute(tables)
    for name in ("link_group_account_count", "link_group_confirmed_account_count",
                 "link_group_link_kind_count"):
        assert f["b"][name] is None, name
    assert f["b"]["direct_link_account_count"] == 2
    assert f["b"]["direct_link_confirmed_account_count"] == 1
    assert f["x"]["link_group_account_count"] == 2


@pytest.mark.spark
def test_access_and_graph_signals_agree_on_spark(monkeypatch, spark_engine):
    from accountrisk.features.registry import FEATURES
    from accountrisk.features.spark import load_tables_spark

    keep = {"confirmed_accounts", "access_links", "session_routes", "identity_links"}
    for name in [n for n in STAGES if n not in keep]:
        monkeypatch.delitem(STAGES, name)
    for name in [n for n, f in FEATURES.items() if f.stage not in keep]:
        monkeypatch.delitem(FEATURES, name)
    # Stands in for the portfolio stage, which does not run without portfolio items.
    monkeypatch.setitem(STAGES, portfolio_pair_edges.name, Stage(
        portfolio_pair_edges.name, needs=("portfolio_items",), build=lambda c: ""))
    day = datetime(2025, 6, 1)
    sessions = [{"account_id": f"f{i}", "ip_token": "farm", "ip_type": "residential",
                 "device_token": f"dev{i % 2}", "remote_access_tool": "anydesk" if i else None,
                 "ip_country": "US", "started_at": day} for i in range(4)]
    sessions += [{"account_id": "f1", "ip_token": "vpn", "ip_type": "vpn", "ip_country": "KP",
                  "started_at": datetime(2025, 6, 3)},
                 {"account_id": "f1", "ip_token": "hosting", "ip_type": "hosting",
                  "ip_country": "US", "started_at": datetime(2025, 7, 9)}]
    sessions += [{"account_id": f"c{i:02d}", "ip_token": "crowd", "ip_type": "mobile",
                  "started_at": day} for i in range(25)]
    tables = make_tables(
        accounts=[{"account_id": "late", "created_at": datetime(2025, 12, 20)}],
        sessions=sessions,
        payout_methods=[{"account_id": "f3", "payout_token": "p"},
                        {"account_id": "x", "payout_token": "p"}],
        account_links=[{"account_id": "x", "other_account_id": "y", "kind": "co_worked"},
                       {"account_id": "y", "other_account_id": "late"},
                       {"account_id": "y", "other_account_id": "z",
                        "linked_at": datetime(2025, 12, 10)}],
        labels=[{"account_id": "f0", "label": 1}, {"account_id": "y", "label": 1}])
    with DuckDBEngine() as duck:
        assert load_tables(tables, duck, now=NOW).usable
        expected = {r["account_id"]: r for r in build_features(duck, "2025-12-01").to_pylist()}
    assert load_tables_spark(tables, spark_engine, now=NOW).usable
    got = {r["account_id"]: r
           for r in build_features(spark_engine, "2025-12-01").to_pylist()}
    f1 = got["f1"]
    assert (f1["link_group_account_count"], f1["residential_ip_shared_account_count"],
            f1["device_shared_account_count"], f1["shared_access_confirmed_account_count"],
            f1["ip_country_distinct_count"], f1["hub_ip_session_ratio"]) == (6, 3, 1, 1, 2, 2 / 3)
    assert f1["ip_country_change_per_30d_ratio"] == pytest.approx(2 * 30 / 38)
    assert got["c00"]["link_group_account_count"] == 1 and "late" not in got
    assert got.keys() == expected.keys()
    for account, row in expected.items():
        for name, value in row.items():
            assert got[account][name] == pytest.approx(value, nan_ok=True), (account, name)
