from datetime import datetime

import pytest

from tests.conftest import compute, make_tables


def _sessions(account, times, tool=None):
    return [{"account_id": account, "started_at": t, "remote_access_tool": tool} for t in times]


def test_remote_sessions_at_claimed_night_against_a_support_workers_day():
    # Claimed zone New York (EDT in July): 06:30 UTC is 02:30 local, 18:30 UTC is 14:30.
    night, day = datetime(2025, 7, 1, 6, 30), datetime(2025, 7, 1, 18, 30)
    tables = make_tables(sessions=[
        *_sessions("farm", [night, night, day, day], tool="anydesk"),
        *_sessions("farm", [night, night]),  # no tool: not a remote session
        *_sessions("support", [day, day, day], tool="teamviewer"),
        *_sessions("support", [night]),
        *_sessions("owl", [night, night]),
        *_sessions("blank", [night], tool=""),  # an empty tool name is no tool
    ])
    f = compute(tables)
    assert f["farm"]["remote_session_claimed_night_ratio"] == pytest.approx(0.5)
    assert f["support"]["remote_session_claimed_night_ratio"] == 0
    assert f["owl"]["remote_session_claimed_night_ratio"] is None
    assert f["blank"]["remote_session_claimed_night_ratio"] is None


def test_remote_night_follows_daylight_saving():
    # 10:30 UTC is 05:30 EST in January (night) and 06:30 EDT in July (morning).
    tables = make_tables(sessions=[
        *_sessions("winter", [datetime(2025, 1, 15, 10, 30)], tool="rustdesk"),
        *_sessions("summer", [datetime(2025, 7, 15, 10, 30)], tool="rustdesk"),
    ])
    f = compute(tables)
    assert f["winter"]["remote_session_claimed_night_ratio"] == 1
    assert f["summer"]["remote_session_claimed_night_ratio"] == 0
