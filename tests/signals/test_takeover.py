from datetime import datetime, timedelta

import pytest

from tests.conftest import compute, make_tables
from tests.signals.test_working_hours import assert_same_features, spark_stage_features

AS_OF = datetime(2025, 12, 1)  # the window is 2025-11-01 .. 2025-12-01
OLD = datetime(2025, 1, 1)


def history(account, device="d-old", utc_hour=14):
    """Earlier life: one device, working around ``utc_hour`` UTC, from March to October."""
    days = [datetime(2025, 3, 1) + timedelta(days=7 * i) for i in range(30)]
    sessions = [{"account_id": account, "device_token": device, "started_at": d + timedelta(
        hours=utc_hour)} for d in days]
    activity = [{"account_id": account, "ts": d + timedelta(hours=utc_hour, minutes=m)}
                for d in days for m in (0, 30)]
    return sessions, activity


def recent(account, devices, utc_hour):
    days = [datetime(2025, 11, 3) + timedelta(days=i) for i in range(len(devices))]
    sessions = [{"account_id": account, "device_token": dev, "started_at": d + timedelta(
        hours=utc_hour)} for d, dev in zip(days, devices)]
    activity = [{"account_id": account, "ts": d + timedelta(hours=utc_hour, minutes=m)}
                for d in days for m in (0, 20)]
    return sessions, activity


def test_taken_over_account_changes_devices_payout_and_hours_together():
    s_old, a_old = history("taken", utc_hour=14)
    s_new, a_new = recent("taken", ["d-new", "d-new", "d-new2", "d-old"], utc_hour=2)
    tables = make_tables(
        accounts=[{"account_id": "taken", "created_at": OLD}],
        sessions=s_old + s_new, activity=a_old + a_new,
        payout_methods=[
            {"account_id": "taken", "payout_token": "p1", "added_at": datetime(2025, 2, 1)},
            {"account_id": "taken", "payout_token": "p2", "added_at": datetime(2025, 11, 15)},
        ],
    )
    f = compute(tables, AS_OF)["taken"]
    assert f["recent_new_device_session_ratio"] == 0.75
    assert f["has_recent_new_payout_method"] == 1
    # Earlier centred at 14:15 UTC, now at 02:10: 12 h 05 min apart, 11 h 55 min around.
    assert f["recent_activity_hour_shift_hours"] == pytest.approx(11 + 55 / 60)
    assert f["takeover_change_count"] == 3


def test_steady_aged_account_shows_no_change():
    s_old, a_old = history("steady", utc_hour=14)
    s_new, a_new = recent("steady", ["d-old"] * 4, utc_hour=15)
    tables = make_tables(
        accounts=[{"account_id": "steady", "created_at": OLD}],
        sessions=s_old + s_new, activity=a_old + a_new,
        payout_methods=[
            {"account_id": "steady", "payout_token": "p1", "added_at": datetime(2025, 2, 1)},
            # The same destination entered again is not a new one.
            {"account_id": "steady", "payout_token": "p1", "added_at": datetime(2025, 11, 20)},
        ],
    )
    f = compute(tables, AS_OF)["steady"]
    assert f["recent_new_device_session_ratio"] == 0
    assert f["has_recent_new_payout_method"] == 0
    assert f["recent_activity_hour_shift_hours"] == pytest.approx(1 - 5 / 60)  # 14:15 vs 15:10
    assert f["takeover_change_count"] == 0


def test_first_payout_method_is_not_a_change():
    tables = make_tables(
        accounts=[{"account_id": "a", "created_at": OLD}],
        payout_methods=[{"account_id": "a", "payout_token": "p1",
                         "added_at": datetime(2025, 11, 15)}],
    )
    assert compute(tables, AS_OF)["a"]["has_recent_new_payout_method"] == 0


def test_young_account_has_no_history_to_compare():
    # Created 100 days before T: fewer than 90 days before the 30-day window.
    s_new, a_new = recent("young", ["d-new"] * 4, utc_hour=2)
    tables = make_tables(
        accounts=[{"account_id": "young", "created_at": AS_OF - timedelta(days=100)},
                  {"account_id": "edge", "created_at": AS_OF - timedelta(days=120)}],
        sessions=s_new, activity=a_new,
        payout_methods=[{"account_id": "young", "payout_token": "p2",
                         "added_at": datetime(2025, 11, 15)}],
    )
    f = compute(tables, AS_OF)
    for name in ("recent_new_device_session_ratio", "has_recent_new_payout_method",
                 "recent_activity_hour_shift_hours", "takeover_change_count"):
        assert f["young"][name] is None
    assert f["edge"]["takeover_change_count"] == 0  # exactly 120 days old counts as aged


def test_no_baseline_leaves_device_and_hour_parts_unknown():
    # Aged but silent before the window: nothing to compare against.
    s_new, a_new = recent("dormant", ["d-new"] * 4, utc_hour=2)
    tables = make_tables(accounts=[{"account_id": "dormant", "created_at": OLD}],
                         sessions=s_new, activity=a_new)
    f = compute(tables, AS_OF)["dormant"]
    assert f["recent_new_device_session_ratio"] is None
    assert f["recent_activity_hour_shift_hours"] is None
    assert f["takeover_change_count"] == 0


def test_missing_payout_table_leaves_payout_part_null():
    s_old, a_old = history("taken", utc_hour=14)
    s_new, a_new = recent("taken", ["d-new"] * 4, utc_hour=2)
    tables = make_tables(accounts=[{"account_id": "taken", "created_at": OLD}],
                         sessions=s_old + s_new, activity=a_old + a_new)
    f = compute(tables, AS_OF)["taken"]
    assert f["has_recent_new_payout_method"] is None
    assert f["recent_new_device_session_ratio"] == 1
    assert f["takeover_change_count"] == 2


def test_only_accounts_table_gives_null_parts():
    f = compute(make_tables(accounts=[{"account_id": "a", "created_at": OLD}]), AS_OF)["a"]
    assert f["recent_new_device_session_ratio"] is None
    assert f["has_recent_new_payout_method"] is None
    assert f["recent_activity_hour_shift_hours"] is None
    assert f["takeover_change_count"] == 0


def test_rows_at_or_after_as_of_do_not_count():
    s_old, a_old = history("a", utc_hour=14)
    s_new, a_new = recent("a", ["d-old"] * 4, utc_hour=14)
    late = [{"account_id": "a", "device_token": "d-late", "started_at": AS_OF + timedelta(h)}
            for h in range(3)] + [{"account_id": "a", "device_token": "d-late",
                                   "started_at": AS_OF}]
    tables = make_tables(
        accounts=[{"account_id": "a", "created_at": OLD}],
        sessions=s_old + s_new + late, activity=a_old + a_new,
        payout_methods=[
            {"account_id": "a", "payout_token": "p1", "added_at": datetime(2025, 2, 1)},
            {"account_id": "a", "payout_token": "p2", "added_at": AS_OF},
        ],
    )
    f = compute(tables, AS_OF)["a"]
    assert f["recent_new_device_session_ratio"] == 0
    assert f["has_recent_new_payout_method"] == 0


@pytest.mark.spark
def test_same_features_on_spark(spark_engine):
    s_old, a_old = history("taken", utc_hour=14)
    s_new, a_new = recent("taken", ["d-new", "d-new", "d-new2", "d-old"], utc_hour=2)
    s_old2, a_old2 = history("steady", utc_hour=14)
    s_new2, a_new2 = recent("steady", ["d-old"] * 4, utc_hour=15)
    tables = make_tables(
        accounts=[{"account_id": "taken", "created_at": OLD},
                  {"account_id": "steady", "created_at": OLD},
                  {"account_id": "young", "created_at": AS_OF - timedelta(days=100)}],
        sessions=s_old + s_new + s_old2 + s_new2, activity=a_old + a_new + a_old2 + a_new2,
        payout_methods=[
            {"account_id": "taken", "payout_token": "p1", "added_at": datetime(2025, 2, 1)},
            {"account_id": "taken", "payout_token": "p2", "added_at": datetime(2025, 11, 15)},
        ],
    )
    got = spark_stage_features(spark_engine, tables, AS_OF, ["takeover_changes"])
    assert set(got) == {"taken", "steady"}
    assert got["taken"]["takeover_change_count"] == 3
    assert_same_features(got, compute(tables, AS_OF))
