from datetime import datetime, timedelta

import pytest

from tests.conftest import compute, make_tables


def acts(account, times):
    return [{"account_id": account, "ts": t} for t in times]


def noon_edt(day: datetime) -> datetime:
    return day.replace(hour=16)  # 12:00 EDT


def test_weekend_is_the_claimed_zone_weekend():
    tables = make_tables(
        accounts=[{"account_id": "ny"},
                  {"account_id": "tokyo", "claimed_country": "JP",
                   "claimed_timezone": "Asia/Tokyo"}],
        activity=acts("ny", [datetime(2025, 7, 5, 3, 30),  # Friday 23:30 EDT
                             datetime(2025, 7, 5, 4, 30),  # Saturday 00:30 EDT
                             datetime(2025, 7, 7, 3, 30),  # Sunday 23:30 EDT
                             datetime(2025, 7, 7, 4, 30)])  # Monday 00:30 EDT
        + acts("tokyo", [datetime(2025, 7, 4, 15, 30),  # Saturday 00:30 JST
                         datetime(2025, 7, 6, 15, 30)]),  # Monday 00:30 JST
    )
    f = compute(tables)
    assert f["ny"]["activity_claimed_weekend_ratio"] == 0.5
    assert f["tokyo"]["activity_claimed_weekend_ratio"] == 0.5


def test_weekend_boundary_follows_the_dst_changes():
    tables = make_tables(activity=acts("spring", [datetime(2025, 3, 10, 4, 30)])  # Mon 00:30 EDT
                         + acts("autumn", [datetime(2025, 11, 3, 4, 30)]))  # Sun 23:30 EST
    f = compute(tables)
    assert f["spring"]["activity_claimed_weekend_ratio"] == 0
    assert f["autumn"]["activity_claimed_weekend_ratio"] == 1


def test_morning_and_evening_blocks_of_the_claimed_day():
    day = datetime(2025, 7, 15)
    tables = make_tables(activity=acts("a", [day.replace(hour=9, minute=59),  # 05:59 EDT
                                             day.replace(hour=10),  # 06:00 EDT: morning
                                             day.replace(hour=12, minute=59),  # 08:59 EDT
                                             day.replace(hour=13),  # 09:00 EDT
                                             day.replace(hour=21, minute=59),  # 17:59 EDT
                                             day.replace(hour=22),  # 18:00 EDT: evening
                                             day.replace(hour=23),
                                             day + timedelta(hours=27, minutes=59)]))  # 23:59
    f = compute(tables)["a"]
    assert f["activity_claimed_morning_ratio"] == pytest.approx(2 / 8)
    assert f["activity_claimed_evening_ratio"] == pytest.approx(3 / 8)


def test_longest_break_inside_the_active_span():
    days = [datetime(2025, 7, d) for d in range(1, 11)] + [
        datetime(2025, 7, d) for d in range(21, 26)]
    tables = make_tables(
        activity=acts("vacation", [noon_edt(d) for d in days])
        # Nine active days are too few; ten in a row have no break at all.
        + acts("few", [noon_edt(d) for d in days[:9]])
        + acts("steady", [noon_edt(d) for d in days[:10]]))
    f = compute(tables)
    v = f["vacation"]
    assert v["activity_longest_break_days"] == 10  # 11 to 20 July
    assert f["few"]["activity_longest_break_days"] is None
    assert f["steady"]["activity_longest_break_days"] == 0


def test_days_are_claimed_local_days():
    # 03:00 UTC on 16 July is 23:00 EDT on 15 July: the break is 11-14 July (UTC: 11-15).
    tables = make_tables(activity=acts("a", [noon_edt(datetime(2025, 7, d)) for d in range(1, 11)]
                                           + [datetime(2025, 7, 16, 3)]))
    f = compute(tables)["a"]
    assert f["activity_longest_break_days"] == 4


def test_active_weeks_are_claimed_local_monday_weeks():
    monday = datetime(2025, 7, 7)
    days = ([monday + timedelta(days=i) for i in range(6)]  # six days in the first week
            + [monday + timedelta(days=7), monday + timedelta(days=8)]  # two in the next
            + [monday + timedelta(days=21)])  # and one three weeks later
    tables = make_tables(activity=acts("a", [noon_edt(d) for d in days]))
    f = compute(tables)["a"]
    assert f["activity_active_week_ratio"] == pytest.approx(3 / 4)


def test_no_activity_leaves_the_shape_unknown():
    f = compute(make_tables(accounts=[{"account_id": "a"}],
                            activity=acts("b", [datetime(2025, 7, 1)])))["a"]
    assert f["activity_claimed_weekend_ratio"] is None
    assert f["activity_active_week_ratio"] is None
    assert f["activity_longest_break_days"] is None
