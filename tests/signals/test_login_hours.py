from datetime import datetime, timedelta

import pytest

from tests.conftest import compute, make_tables


def logins(account, times, **extra):
    return [{"account_id": account, "started_at": t, **extra} for t in times]


def thin(**tables):
    """A thin export: accounts, sessions and labels only (no activity table)."""
    out = make_tables(**tables)
    assert set(out) <= {"accounts", "sessions", "labels"}
    return out


def test_thin_export_still_has_working_hour_signals():
    # Pyongyang 09:00-18:00 is 20:00-05:00 EDT; an honest login at 09:30 EDT.
    operator = [datetime(2025, 7, d, h, 30) for d in (14, 15, 16, 17) for h in (0, 3, 6)]
    tables = thin(sessions=logins("op", operator)
                  + logins("ok", [datetime(2025, 7, d, 13, 30) for d in range(1, 13)]),
                  labels=[{"account_id": "ok", "label": 0}])
    f = compute(tables)
    op, ok = f["op"], f["ok"]
    assert op["activity_claimed_night_ratio"] is None  # no activity table
    assert op["activity_claimed_weekend_ratio"] is None
    # 20:30, 23:30 and 02:30 EDT.
    assert op["session_claimed_night_ratio"] == pytest.approx(1 / 3)
    assert op["session_claimed_business_hours_ratio"] == 0
    assert ok["session_claimed_night_ratio"] == 0
    assert ok["session_claimed_business_hours_ratio"] == 1
    assert ok["session_implied_offset_gap_hours"] == pytest.approx(4)  # 09:30 vs 13:30
    # Circular mean of 20:30, 23:30 and 02:30 is 23:30: ten hours from 13:30.
    assert op["session_implied_offset_gap_hours"] == pytest.approx(10)


def test_login_hours_follow_the_dst_change():
    tables = thin(sessions=logins("before", [datetime(2025, 3, 8, 13, 30)])  # 08:30 EST
                  + logins("after", [datetime(2025, 3, 10, 13, 30)])  # 09:30 EDT
                  + logins("night", [datetime(2025, 11, 3, 4, 30)]))  # Sunday 23:30 EST
    f = compute(tables)
    assert f["before"]["session_claimed_business_hours_ratio"] == 0
    assert f["before"]["session_claimed_morning_ratio"] == 1
    assert f["after"]["session_claimed_business_hours_ratio"] == 1
    assert f["night"]["session_claimed_night_ratio"] == 0
    assert f["night"]["session_claimed_weekend_ratio"] == 1


def test_login_weeks_and_breaks():
    monday = datetime(2025, 7, 7, 14)
    days = [monday + timedelta(days=i) for i in range(10)] + [monday + timedelta(days=24)]
    tables = thin(sessions=logins("a", days + days[:2])  # two days with two logins
                  + logins("few", days[:9]))
    f = compute(tables)
    a = f["a"]
    assert a["session_active_days_per_week"] == pytest.approx((7 + 3 + 1) / 3)
    assert a["session_active_week_ratio"] == pytest.approx(3 / 4)
    assert a["session_longest_break_days"] == 14  # 17 to 30 July
    assert a["session_implied_offset_gap_hours"] == pytest.approx(3)  # hour 10 is 10:30
    assert f["few"]["session_longest_break_days"] is None
    assert f["few"]["session_implied_offset_gap_hours"] is None  # under 10 sessions


def test_accounts_without_sessions_have_no_login_hours():
    f = compute(thin(accounts=[{"account_id": "a"}],
                     sessions=logins("b", [datetime(2025, 7, 1)])))["a"]
    assert f["session_claimed_night_ratio"] is None
    assert f["session_active_days_per_week"] is None


def test_hours_that_cancel_out_have_no_implied_offset():
    # Ten logins twelve hours apart (03:30 and 15:30 UTC), and a day of one login an hour:
    # no mean hour, so no gap to the claimed zone (atan2 of rounding noise gave any value,
    # a different one on each engine). An unbalanced day still has its gap.
    apart = [datetime(2025, 7, d, h, 30) for d in range(1, 6) for h in (3, 15)]
    round_clock = [datetime(2025, 7, 1, h, 30) for h in range(24)]
    lopsided = [datetime(2025, 7, 1, h, 30) for h in range(23)]
    tables = thin(sessions=logins("apart", apart) + logins("clock", round_clock)
                  + logins("lopsided", lopsided))
    f = compute(tables)
    assert f["apart"]["session_implied_offset_gap_hours"] is None
    assert f["clock"]["session_implied_offset_gap_hours"] is None
    assert f["lopsided"]["session_implied_offset_gap_hours"] is not None
    assert f["apart"]["session_claimed_night_ratio"] is not None  # the other hour signals stay
