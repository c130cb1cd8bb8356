from datetime import datetime

import pytest

from accountrisk.features.engine import DuckDBEngine
from accountrisk.features.errors import UsageError
from accountrisk.features.load import load_tables
from accountrisk.features.registry import FEATURES, Family, Feature, default_registry
from accountrisk.features.signals import access
from accountrisk.features.signals.identity_graph import DENSE_KIND_PARTNERS
from accountrisk.scoring import evidence as ev
from accountrisk.scoring.evidence import (
    build_features_for_evidence,
    collect_evidence,
    collect_timeline,
    shorten_token,
)
from tests.conftest import NOW, make_tables

AS_OF = "2025-12-01"


def load(**tables):
    engine = DuckDBEngine()
    report = load_tables(make_tables(**tables), engine, now=NOW)
    assert report.usable, [p.render() for p in report.problems]
    return engine


def one(engine, account, feature, as_of=AS_OF):
    return collect_evidence(engine, as_of, [account], [feature])[account][feature]


def test_shorten_token_never_shows_the_whole_token():
    assert shorten_token("3f9a0c1d2e3f4a5b", "pay") == "pay_3f9a…"
    assert shorten_token("pay-3f9a0c1d2e3f", "pay") == "pay_3f9a…"
    assert shorten_token("abcd", "ip") == "ip_ab…"
    assert shorten_token(None, "dev") == "dev_?"
    for token in ("x", "ab", "abcdefgh", "pay-12345678"):
        shown = shorten_token(token, "pay").removeprefix("pay_").removesuffix("…")
        assert len(shown) < len(token)


def test_payout_evidence_names_the_sharers_and_who_is_confirmed():
    token = "3f9a0c1d2e3f4a5b"
    with load(payout_methods=[
            {"account_id": "a", "payout_token": token, "method": "crypto",
             "destination_country": "KP"},
            {"account_id": "b", "payout_token": token},
            {"account_id": "c", "payout_token": token},
            {"account_id": "d", "payout_token": "other-token-0000"}],
            labels=[{"account_id": "b", "decided_at": datetime(2025, 5, 1)}]) as engine:
        found = one(engine, "a", "payout_shared_account_count")
    assert {(x.account_id, x.is_confirmed_fraud) for x in found.accounts} == {
        ("b", True), ("c", False)}
    assert found.accounts[0].account_id == "b"  # confirmed ones first
    assert [t.token for t in found.tokens] == ["pay_3f9a…"]
    assert (found.tokens[0].account_count, found.tokens[0].confirmed_count) == (2, 1)
    assert "crypto" in found.tokens[0].detail and "KP" in found.tokens[0].detail
    assert token not in found.model_dump_json()


def test_evidence_is_point_in_time():
    with load(
            payout_methods=[{"account_id": "a", "payout_token": "p1"},
                            {"account_id": "b", "payout_token": "p1"},
                            {"account_id": "late", "payout_token": "p1",
                             "added_at": datetime(2025, 12, 2)}],
            sessions=[{"account_id": "a", "ip_token": "ip1", "device_token": "d1",
                       "started_at": datetime(2025, 12, 3)}],
            activity=[{"account_id": "a", "ts": datetime(2025, 6, 1, 15)},
                      {"account_id": "a", "ts": datetime(2025, 12, 1, 15)}],
            labels=[{"account_id": "b", "decided_at": datetime(2025, 12, 1)}]) as engine:
        payout = one(engine, "a", "payout_shared_account_count")
        hours = one(engine, "a", "activity_claimed_night_ratio")
        sessions = one(engine, "a", "device_shared_account_count")
        later = one(engine, "a", "payout_shared_account_count", "2025-12-05")
    # The late sharer and b's decision (at T, not before) are not visible at T.
    assert [(x.account_id, x.is_confirmed_fraud) for x in payout.accounts] == [("b", False)]
    assert sum(hours.claimed_hour_histogram) == 1  # the action at T itself is excluded
    assert sessions.tokens == [] and sessions.accounts == []
    assert {(x.account_id, x.is_confirmed_fraud) for x in later.accounts} == {
        ("b", True), ("late", False)}


def test_access_evidence_follows_the_hub_and_overlap_rules():
    crowd = [{"account_id": f"crowd{i:02d}", "ip_token": "kiosk"}
             for i in range(access.HUB_ACCOUNTS + 1)]
    with load(sessions=[
            {"account_id": "a", "ip_token": "home", "ip_type": "residential",
             "device_token": "laptop", "remote_access_tool": "AnyDesk"},
            {"account_id": "a", "ip_token": "kiosk"},
            {"account_id": "a", "ip_token": "vpn-exit", "ip_type": "vpn"},
            {"account_id": "b", "ip_token": "home", "ip_type": "residential"},
            {"account_id": "c", "ip_token": "home", "ip_type": "residential",
             "started_at": datetime(2025, 9, 1)},  # months later: another household
            {"account_id": "d", "ip_token": "vpn-exit", "ip_type": "vpn"},
            {"account_id": "e", "ip_token": "x", "device_token": "laptop"},
            *crowd]) as engine:
        found = one(engine, "a", "shared_access_confirmed_account_count")
        ip_only = one(engine, "a", "residential_ip_shared_account_count")
        device_only = one(engine, "a", "device_shared_account_count")
    linked = {(x.account_id, x.link_kind) for x in found.accounts}
    assert linked == {("b", "ip"), ("e", "device")}
    # A reason about one kind of link shows that kind only.
    assert {(x.account_id, x.link_kind) for x in ip_only.accounts} == {("b", "ip")}
    assert {t.kind for t in ip_only.tokens} == {"ip"}
    assert {(x.account_id, x.link_kind) for x in device_only.accounts} == {("e", "device")}
    kinds = {t.kind: t for t in found.tokens}
    assert kinds["ip"].token == "ip_home…" or kinds["ip"].token.startswith("ip_")
    assert kinds["device"].account_count == 1
    assert found.counts["tool: AnyDesk"] == 1
    assert any("AnyDesk" in n for n in found.notes)
    assert any("not counted" in n for n in found.notes)  # the kiosk and the VPN exit


def test_hour_histogram_is_in_the_claimed_zone():
    # 15:00 UTC in June is 11:00 in New York (EDT) and 00:00 next day in Tokyo.
    with load(accounts=[{"account_id": "ny", "claimed_timezone": "America/New_York"},
                        {"account_id": "tk", "claimed_timezone": "Asia/Tokyo"}],
              activity=[{"account_id": a, "ts": datetime(2025, 6, 1, 15)}
                        for a in ("ny", "ny", "tk")],
              sessions=[{"account_id": "tk", "browser_utc_offset_min": 480}]) as engine:
        found = collect_evidence(engine, AS_OF, ["ny", "tk"], ["activity_claimed_night_ratio"])
    ny = found["ny"]["activity_claimed_night_ratio"]
    tk = found["tk"]["activity_claimed_night_ratio"]
    assert ny.claimed_timezone == "America/New_York" and ny.claimed_hour_histogram[11] == 2
    assert len(tk.claimed_hour_histogram) == 24 and tk.claimed_hour_histogram[0] == 1
    assert tk.counts == {"browser clock UTC+08:00": 1}


def test_remote_desktop_hours_are_counted_in_the_claimed_zone():
    # New York in June (EDT): 06:30 UTC is 02:30, 18:30 UTC is 14:30; the session at T and
    # the one without a tool do not count.
    times = [datetime(2025, 6, 2, 6, 30), datetime(2025, 6, 3, 6, 30),
             datetime(2025, 6, 3, 18, 30), datetime(2025, 12, 1, 6, 30)]
    with load(sessions=[*({"account_id": "farm", "started_at": t,
                           "remote_access_tool": "AnyDesk"} for t in times),
                        {"account_id": "farm", "started_at": datetime(2025, 6, 4, 6, 30)}],
              ) as engine:
        found = one(engine, "farm", "remote_session_claimed_night_ratio")
    assert ("3 sessions through a remote-desktop tool; 2 of them started between 00:00 and "
            "06:00 in the claimed time zone America/New_York") in found.notes


def _portfolio_tables():
    text = "Built a scalable kubernetes platform for fintech clients with terraform and go"
    stock = [{"account_id": f"s{i:02d}", "item_id": f"stock{i}", "image_phash": "ffff0000ffff0000"}
             for i in range(30)]
    return dict(
        accounts=[{"account_id": "a", "profile_photo_phash": "1111222233334444",
                   "created_at": datetime(2025, 3, 1)},
                  {"account_id": "b", "profile_photo_phash": "1111222233334445"}],
        portfolio_items=[
            {"account_id": "a", "item_id": "a1", "url": "https://www.GitHub.com/x/y?utm=1",
             "image_phash": "0123456789abcdef", "description": text, "title": "Fintech",
             "added_at": datetime(2025, 4, 1)},
            {"account_id": "a", "item_id": "a2", "image_phash": "ffff0000ffff0001"},
            {"account_id": "b", "item_id": "b1", "url": "http://github.com/x/y/",
             "image_phash": "0123456789abcdee", "description": text.replace("go", "rust"),
             "added_at": datetime(2025, 2, 1)},
            {"account_id": "c", "item_id": "c1", "description": text,
             "added_at": datetime(2025, 12, 2)},  # after T
            *stock])


def test_portfolio_evidence_lists_matched_items_and_who_came_first():
    with load(**_portfolio_tables()) as engine:
        found = one(engine, "a", "portfolio_confirmed_match_account_count")
        image_only = one(engine, "a", "portfolio_image_near_duplicate_account_count")
    assert {i.match for i in image_only.items} == {"image"}
    assert {x.link_kind for x in image_only.accounts} == {"portfolio_image"}
    items = {(i.item_id, i.other_item_id, i.match): i for i in found.items}
    assert set(items) == {("a1", "b1", "link"), ("a1", "b1", "image"), ("a1", "b1", "text"),
                          ("profile photo", "profile photo", "photo")}
    assert items[("a1", "b1", "image")].detail == "pHash 1 bit apart"
    assert items[("a1", "b1", "link")].detail == "same link github.com/x/y"
    assert items[("a1", "b1", "text")].detail.startswith("shingle Jaccard 0.")
    assert items[("a1", "b1", "image")].this_is_newer is True
    assert items[("a1", "b1", "image")].title == "Fintech"
    assert items[("profile photo", "profile photo", "photo")].this_is_newer is True
    # The stock image used by 30 accounts is common: its near-copy a2 matches nothing.
    assert not any(i.item_id == "a2" for i in found.items)
    assert {x.account_id for x in found.accounts} == {"b"}


def test_kept_helper_tables_and_recomputation_agree():
    tables = _portfolio_tables()
    tables["payout_methods"] = [{"account_id": "a", "payout_token": "p1"},
                                {"account_id": "b", "payout_token": "p1"}]
    features = [f for f in FEATURES if FEATURES[f].family in ("portfolio", "payout",
                                                                 "working_hours", "access")]
    with load(**tables) as engine:
        before = collect_evidence(engine, AS_OF, ["a", "b", "c"], features)
        build_features_for_evidence(engine, AS_OF)
        after = collect_evidence(engine, AS_OF, ["a", "b", "c"], features)
        other_time = collect_evidence(engine, "2025-12-05", ["c"], features)
    assert before == after
    # At another time the kept tables are not used: c's item (added after T) now matches.
    assert other_time["c"]["portfolio_text_near_duplicate_account_count"].items


def test_identity_evidence_shows_the_group_when_kept_and_direct_links_otherwise():
    with load(payout_methods=[{"account_id": "a", "payout_token": "p1"},
                              {"account_id": "b", "payout_token": "p1"}],
              account_links=[{"account_id": "b", "other_account_id": "c", "kind": "co_worked"}],
              labels=[{"account_id": "c", "decided_at": datetime(2025, 5, 1)}]) as engine:
        direct = one(engine, "a", "link_group_account_count")
        build_features_for_evidence(engine, AS_OF)
        group = one(engine, "a", "link_group_account_count")
    assert [(x.account_id, x.link_kind) for x in direct.accounts] == [("b", "payout")]
    assert "direct links only" in direct.notes[0]
    assert [(x.account_id, x.link_kind, x.is_confirmed_fraud) for x in group.accounts] == [
        ("c", "same group", True), ("b", "payout", False)]
    assert "3 accounts" in group.notes[0] and "1 other member confirmed" in group.notes[0]
    assert group.counts == {"co_worked links": 1, "payout links": 1}


def test_direct_link_evidence_leaves_out_a_dense_link_kind_like_the_feature():
    workers = [f"w{i:02d}" for i in range(DENSE_KIND_PARTNERS + 2)]
    task = [{"account_id": a, "other_account_id": b, "kind": "same_task"}
            for i, a in enumerate(workers) for b in workers[i + 1:]]
    household = {"account_id": "w00", "other_account_id": "w01", "kind": "household"}
    with load(account_links=[*task, household]) as engine:
        direct = one(engine, "w00", "direct_link_account_count")
        build_features_for_evidence(engine, AS_OF)
        kept = one(engine, "w00", "direct_link_account_count")
    for evidence in (direct, kept):
        assert [(x.account_id, x.link_kind) for x in evidence.accounts] == [("w01", "household")]


def test_evidence_is_chosen_by_family(monkeypatch):
    with load(payout_methods=[{"account_id": "a", "payout_token": "p1"},
                              {"account_id": "b", "payout_token": "p1"}]) as engine:
        found = collect_evidence(engine, AS_OF, ["a", "nobody"],
                                 ["payout_method_count", "payout_shared_account_count",
                                  "attr_rating", "account_age_days"])
        template = FEATURES["payout_method_count"]
        monkeypatch.setitem(FEATURES, "payout_new_signal", Feature(
            name="payout_new_signal", stage=template.stage, family="payout",
            description="x", reason="x"))
        monkeypatch.setitem(default_registry().families, "custom", Family(
            "custom", stages=(), evidence=lambda con, t, ids: {
                a: ev.Evidence(notes=[f"custom {a}"]) for a in ids}))
        monkeypatch.setitem(FEATURES, "custom_signal", Feature(
            name="custom_signal", stage=template.stage, family="custom", description="x",
            reason="x"))
        added = collect_evidence(engine, AS_OF, ["a"], ["payout_new_signal", "custom_signal"])
    a = found["a"]
    assert a["payout_method_count"] == a["payout_shared_account_count"]
    assert a["payout_method_count"].accounts[0].account_id == "b"
    assert a["attr_rating"] == ev.Evidence() and a["account_age_days"] == ev.Evidence()
    assert all(e == ev.Evidence() for e in found["nobody"].values())
    assert added["a"]["payout_new_signal"] == a["payout_method_count"]
    assert added["a"]["custom_signal"].notes == ["custom a"]


def test_a_registered_collector_replaces_its_familys_own():
    def mine(con, t, ids):
        return {a: ev.Evidence(notes=["mine"]) for a in ids}

    ev.register_collector("payout", mine)  # the conftest fixture restores the registry
    with load(payout_methods=[{"account_id": "a", "payout_token": "p1"}]) as engine:
        found = one(engine, "a", "payout_method_count")
    assert found.notes == ["mine"]
    with pytest.raises(UsageError, match="no signal family is named 'nope'"):
        ev.register_collector("nope", mine)


def test_a_collector_reads_only_the_families_it_declares(monkeypatch):
    def nosy(con, t, ids, family):
        return family("access")

    registry = default_registry()
    monkeypatch.setitem(registry.families, "payout", Family(
        "payout", stages=registry.families["payout"].stages, evidence=nosy,
        evidence_reads=("portfolio",)))
    with load(payout_methods=[{"account_id": "a", "payout_token": "p1"}]) as engine:
        with pytest.raises(UsageError, match="reads the evidence of 'access'"):
            one(engine, "a", "payout_method_count")


def test_missing_tables_give_empty_evidence_and_hostile_ids_are_just_data():
    hostile = "x'); DROP TABLE accounts; --"
    with load(accounts=[{"account_id": hostile}]) as engine:
        found = collect_evidence(engine, AS_OF, [hostile])
        assert "accounts" in engine.tables()
    assert all(e == ev.Evidence() for e in found[hostile].values())


def test_timeline_tracks_first_and_last_use_of_each_token():
    with load(sessions=[
            {"account_id": "a", "ip_token": "ip1", "device_token": "d1",
             "started_at": datetime(2025, 3, 1)},
            {"account_id": "a", "ip_token": "ip1", "device_token": "d1",
             "started_at": datetime(2025, 4, 1)},
            {"account_id": "b", "ip_token": "ip1", "started_at": datetime(2025, 4, 2)},
            {"account_id": "a", "ip_token": "ip2", "started_at": datetime(2025, 12, 2)}],
              payout_methods=[{"account_id": "a", "payout_token": "p1"}],
              payouts=[{"account_id": "a", "payout_token": "p1", "amount_usd": 250.0,
                        "paid_at": datetime(2025, 6, 1)}],
              activity=[{"account_id": "a"}]) as engine:
        timeline = collect_timeline(engine, AS_OF, "a")
    tracks = {(t["kind"], t["token"]): t for t in timeline["tracks"]}
    assert set(tracks) == {("ip", "ip_ip…"), ("device", "dev_d…"), ("payout", "pay_p…")} or \
        len(tracks) == 3
    ip = next(t for t in timeline["tracks"] if t["kind"] == "ip")
    assert (ip["first_seen"], ip["last_seen"], ip["count"]) == (
        datetime(2025, 3, 1), datetime(2025, 4, 1), 2)
    assert ip["shared_with"] == 1
    pay = next(t for t in timeline["tracks"] if t["kind"] == "payout")
    assert (pay["first_seen"], pay["last_seen"], pay["amount_usd"]) == (
        datetime(2025, 2, 1), datetime(2025, 6, 1), 250.0)
    assert timeline["created_at"] == datetime(2025, 1, 1)
    assert sum(timeline["hours"]["histogram"]) == 1


def test_threads_with_their_own_cursors_get_the_same_evidence():
    from concurrent.futures import ThreadPoolExecutor

    tables = _portfolio_tables()
    tables["payout_methods"] = [{"account_id": "a", "payout_token": "p1"},
                                {"account_id": "b", "payout_token": "p1"}]
    with load(**tables) as engine:
        alone = collect_evidence(engine, AS_OF, ["a", "b"])

        def work(_):
            cursor = engine.con.cursor()
            try:
                return collect_evidence(cursor, AS_OF, ["a", "b"])
            finally:
                cursor.close()

        with ThreadPoolExecutor(4) as pool:
            results = list(pool.map(work, range(8)))
    assert all(r == alone for r in results)


def test_takeover_evidence_names_what_is_new_in_the_last_window():
    with load(sessions=[{"account_id": "a", "ip_token": "i", "device_token": "old",
                         "started_at": datetime(2025, 3, 1)},
                        {"account_id": "a", "ip_token": "i", "device_token": "fresh0001",
                         "started_at": datetime(2025, 11, 20)}],
              payout_methods=[{"account_id": "a", "payout_token": "payold00"},
                              {"account_id": "a", "payout_token": "paynew00",
                               "added_at": datetime(2025, 11, 25)}]) as engine:
        found = one(engine, "a", "takeover_change_count")
    assert [(t.kind, t.token) for t in found.tokens] == [("device", "dev_fres…"),
                                                         ("payout", "pay_payn…")]
    assert found.notes == ["1 new device in the last 30 days beside 1 older",
                           "1 new payout destination in the last 30 days beside 1 older"]
