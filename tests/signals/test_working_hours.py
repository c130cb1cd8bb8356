from datetime import datetime, timedelta

import pytest

from accountrisk.features import contract
from accountrisk.features.engine import DuckDBEngine
from accountrisk.features.load import load_tables
from accountrisk.features.pipeline import _Context, _point_in_time_sql, _stage_sql, build_features
from accountrisk.features.registry import FEATURES, STAGES
from tests.conftest import NOW, compute, make_tables


def acts(account, times):
    return [{"account_id": account, "ts": t} for t in times]


def sess(account, **rows):
    return {"account_id": account, **rows}


def test_new_york_business_hours_follow_the_march_dst_change():
    # 13:30 UTC is 08:30 EST before 2025-03-09 and 09:30 EDT after it.
    tables = make_tables(
        accounts=[{"account_id": "before"}, {"account_id": "after"}],
        activity=acts("before", [datetime(2025, 3, 8, 13, 30)])
        + acts("after", [datetime(2025, 3, 10, 13, 30)]),
    )
    f = compute(tables)
    assert f["before"]["activity_claimed_business_hours_ratio"] == 0
    assert f["after"]["activity_claimed_business_hours_ratio"] == 1


def test_new_york_night_and_business_hours_follow_the_november_dst_change():
    tables = make_tables(
        activity=acts("bus_before", [datetime(2025, 11, 1, 13, 30)])  # 09:30 EDT
        + acts("bus_after", [datetime(2025, 11, 3, 13, 30)])  # 08:30 EST
        + acts("night_before", [datetime(2025, 11, 1, 4, 30)])  # 00:30 EDT
        + acts("night_after", [datetime(2025, 11, 3, 4, 30)]),  # 23:30 EST
    )
    f = compute(tables)
    assert f["bus_before"]["activity_claimed_business_hours_ratio"] == 1
    assert f["bus_after"]["activity_claimed_business_hours_ratio"] == 0
    assert f["night_before"]["activity_claimed_night_ratio"] == 1
    assert f["night_after"]["activity_claimed_night_ratio"] == 0


def test_casablanca_follows_tzdata_in_october_2026():
    # tzdata 2026f keeps Morocco on +01:00 after 20 Sep 2026 (engines' own tz databases
    # said +00:00): 23:30 UTC is 00:30 local, night; 12:00 UTC is 13:00, business hours.
    tables = make_tables(
        accounts=[{"account_id": "c", "claimed_country": "MA",
                   "claimed_timezone": "Africa/Casablanca"}],
        activity=acts("c", [datetime(2026, 9, 25, 23, 30), datetime(2026, 10, 1, 23, 15),
                            datetime(2026, 10, 2, 12)]),
        sessions=[sess("c", started_at=datetime(2026, 10, 1, 9), browser_utc_offset_min=60),
                  sess("c", started_at=datetime(2026, 10, 2, 9), browser_utc_offset_min=0)],
    )
    with DuckDBEngine() as engine:
        assert load_tables(tables, engine, now=datetime(2026, 11, 29)).usable
        f = build_features(engine, "2026-11-29").to_pylist()[0]
    assert f["activity_claimed_night_ratio"] == pytest.approx(2 / 3)
    assert f["activity_claimed_business_hours_ratio"] == pytest.approx(1 / 3)
    assert f["browser_offset_mismatch_session_ratio"] == 0.5
    assert f["browser_offset_gap_mean_hours"] == pytest.approx(0.5)


def test_kathmandu_quarter_hour_offset_puts_18_20_utc_in_the_night():
    tables = make_tables(
        accounts=[{"account_id": "k", "claimed_country": "NP",
                   "claimed_timezone": "Asia/Kathmandu"}],
        activity=acts("k", [datetime(2025, 6, 1, 18, 20),  # 00:05 local
                            datetime(2025, 6, 1, 18, 10)]),  # 23:55 local
        sessions=[sess("k", browser_utc_offset_min=345), sess("k", browser_utc_offset_min=330)],
    )
    f = compute(tables)["k"]
    assert f["activity_claimed_night_ratio"] == 0.5
    assert f["browser_offset_mismatch_session_ratio"] == 0.5
    assert f["browser_offset_gap_mean_hours"] == pytest.approx(0.125)


def test_operator_hours_account_works_the_claimed_night():
    # Pyongyang 09:00-18:00 is 00:00-09:00 UTC: 20:30-04:30 in New York summer time.
    operator = [datetime(2025, 7, day, h, 30) for day in (14, 15, 16) for h in range(9)]
    # An honest New York worker: 09:30-17:30 EDT.
    honest = [datetime(2025, 7, day, h, 30) for day in (14, 15, 16) for h in range(13, 22)]
    tables = make_tables(activity=acts("op", operator) + acts("ok", honest))
    f = compute(tables)
    assert f["op"]["activity_count"] == 27
    assert f["op"]["activity_claimed_night_ratio"] == pytest.approx(5 / 9)
    assert f["op"]["activity_claimed_business_hours_ratio"] == 0
    # Work centred at 00:30 local instead of 13:30: 13 hours, i.e. 11 around the clock.
    assert f["op"]["activity_implied_offset_gap_hours"] == pytest.approx(11, abs=1e-9)
    assert f["ok"]["activity_claimed_night_ratio"] == 0
    assert f["ok"]["activity_claimed_business_hours_ratio"] == 1
    assert f["ok"]["activity_implied_offset_gap_hours"] == pytest.approx(0, abs=1e-9)


def test_implied_offset_gap_needs_ten_actions():
    tables = make_tables(activity=acts("few", [datetime(2025, 7, 1, h) for h in range(9)]))
    f = compute(tables)["few"]
    assert f["activity_count"] == 9
    assert f["activity_implied_offset_gap_hours"] is None
    assert f["activity_claimed_night_ratio"] is not None


def test_browser_offset_mismatch_is_dst_correct_and_ignores_unknown_offsets():
    tables = make_tables(sessions=[
        sess("a", started_at=datetime(2025, 1, 15, 15), browser_utc_offset_min=-300),  # ok
        sess("a", started_at=datetime(2025, 7, 15, 15), browser_utc_offset_min=-240),  # ok
        sess("a", started_at=datetime(2025, 7, 15, 16), browser_utc_offset_min=-300),  # wrong
        sess("a", started_at=datetime(2025, 7, 15, 17), browser_utc_offset_min=None),  # unknown
        # The switch instant: 07:00 UTC on 2025-03-09 is already EDT.
        sess("a", started_at=datetime(2025, 3, 9, 6, 59), browser_utc_offset_min=-300),  # ok
        sess("a", started_at=datetime(2025, 3, 9, 7, 0), browser_utc_offset_min=-240),  # ok
        sess("b", started_at=datetime(2025, 7, 15, 2), browser_utc_offset_min=540),  # Seoul
        sess("c", started_at=datetime(2025, 7, 15, 2), browser_utc_offset_min=None),
    ])
    f = compute(tables)
    assert f["a"]["browser_offset_mismatch_session_ratio"] == pytest.approx(1 / 5)
    assert f["a"]["browser_offset_gap_mean_hours"] == pytest.approx(0.2)
    assert f["b"]["browser_offset_mismatch_session_ratio"] == 1
    assert f["b"]["browser_offset_gap_mean_hours"] == pytest.approx(11)  # +9 vs -4: 13 -> 11
    assert f["c"]["browser_offset_mismatch_session_ratio"] is None
    assert f["c"]["browser_offset_gap_mean_hours"] is None


def test_browser_offset_gap_wraps_around_the_date_line():
    tables = make_tables(
        accounts=[{"account_id": "kiri", "claimed_country": "KI",
                   "claimed_timezone": "Pacific/Kiritimati"}],  # +14:00, no DST
        sessions=[sess("kiri", browser_utc_offset_min=-600),  # same clock, other day
                  sess("kiri", browser_utc_offset_min=-720)],  # 26 h apart: 2 h around
    )
    f = compute(tables)["kiri"]
    assert f["browser_offset_mismatch_session_ratio"] == 1
    assert f["browser_offset_gap_mean_hours"] == pytest.approx(1)


def test_ip_country_mismatch_counts_known_countries_only():
    tables = make_tables(
        accounts=[{"account_id": "a", "claimed_country": "US"}],
        sessions=[sess("a", ip_country="US"), sess("a", ip_country="CN"),
                  sess("a", ip_country=None), sess("n", ip_country=None)],
    )
    f = compute(tables)
    assert f["a"]["ip_country_mismatch_session_ratio"] == 0.5
    assert f["n"]["ip_country_mismatch_session_ratio"] is None


def test_round_the_clock_and_seven_day_weeks():
    monday = datetime(2025, 7, 7, 4, 30)  # 00:30 EDT on Monday 2025-07-07
    every_hour = [monday + timedelta(hours=h) for h in range(7 * 24)]
    # Office hours Monday to Friday, 09:30-16:30 EDT, two actions per hour.
    office = [monday + timedelta(days=day, hours=h, minutes=m)
              for day in range(5) for h in range(9, 17) for m in (0, 10)]
    tables = make_tables(activity=acts("farm", every_hour) + acts("office", office))
    f = compute(tables)
    assert f["farm"]["activity_active_hours_per_day"] == 24
    assert f["farm"]["activity_active_hours_per_week"] == 168
    assert f["farm"]["activity_active_days_per_week"] == 7
    assert f["farm"]["activity_hour_coverage_count"] == 24
    assert f["office"]["activity_count"] == 80
    assert f["office"]["activity_active_hours_per_day"] == 8
    assert f["office"]["activity_active_hours_per_week"] == 40
    assert f["office"]["activity_active_days_per_week"] == 5
    assert f["office"]["activity_hour_coverage_count"] == 8


def test_weeks_are_claimed_local_monday_weeks():
    # Sunday 23:30 and Monday 00:30 EDT: two days in two weeks, one day in each.
    tables = make_tables(activity=acts("a", [datetime(2025, 7, 7, 3, 30),
                                             datetime(2025, 7, 7, 4, 30)]))
    f = compute(tables)["a"]
    assert f["activity_active_days_per_week"] == 1
    assert f["activity_active_hours_per_week"] == 1
    assert f["activity_active_hours_per_day"] == 1


def test_rows_at_or_after_as_of_are_ignored():
    as_of = datetime(2025, 12, 1)
    tables = make_tables(
        activity=acts("a", [as_of - timedelta(seconds=1), as_of, as_of + timedelta(days=1)]),
        sessions=[sess("a", started_at=as_of - timedelta(hours=1), browser_utc_offset_min=-300,
                       ip_country="US"),
                  sess("a", started_at=as_of, browser_utc_offset_min=540, ip_country="KP")],
    )
    f = compute(tables, as_of)["a"]
    assert f["activity_count"] == 1
    assert f["browser_offset_mismatch_session_ratio"] == 0
    assert f["ip_country_mismatch_session_ratio"] == 0


def test_missing_tables_leave_signals_missing_and_no_rows_is_zero_count():
    f = compute(make_tables(accounts=[{"account_id": "a"}]))["a"]
    assert f["activity_count"] is None
    assert f["activity_claimed_night_ratio"] is None
    assert f["browser_offset_mismatch_session_ratio"] is None
    assert f["ip_country_mismatch_session_ratio"] is None
    f = compute(make_tables(accounts=[{"account_id": "a"}],
                            activity=acts("b", [datetime(2025, 7, 1)])))["a"]
    assert f["activity_count"] == 0
    assert f["activity_hour_coverage_count"] == 0
    assert f["activity_claimed_night_ratio"] is None
    assert f["activity_active_hours_per_day"] is None


def test_claimed_hour_histogram_helper_table(engine):
    tables = make_tables(activity=acts("a", [datetime(2025, 1, 10, 14, 0),  # 09:00 EST
                                             datetime(2025, 1, 10, 14, 50),
                                             datetime(2025, 7, 10, 13, 5),  # 09:05 EDT
                                             datetime(2025, 7, 10, 2, 0)]))  # 22:00 EDT
    report = load_tables(tables, engine, now=NOW)
    assert report.usable
    engine.drop = lambda names: None  # keep the helper tables to look at them
    build_features(engine, "2025-12-01")
    rows = engine.arrow("SELECT account_id, local_hour, activity_count "
                        "FROM activity_claimed_hour_histogram ORDER BY local_hour").to_pylist()
    assert [(r["account_id"], r["local_hour"], r["activity_count"]) for r in rows] == [
        ("a", 9, 3), ("a", 22, 1)]


def spark_stage_features(engine, tables, as_of, stage_names, now=NOW):
    """Load ``tables`` on the Spark engine and run only the named stages there; features
    by account id."""
    from accountrisk.features.spark import load_tables_spark

    assert load_tables_spark(tables, engine, now=now).usable
    available = frozenset(name for name in tables if name in engine.tables())
    ctx = _Context(engine=engine, d=engine.dialect, as_of=as_of, available=available)
    for name in available:
        columns = [c for c, _ in engine.columns(name)]
        engine.create_view(f"pit_{name}", _point_in_time_sql(contract.table(name), columns,
                                                             ctx.as_of_sql))
    out: dict[str, dict[str, object]] = {}
    try:
        helpers: list[str] = []  # helper stages (zone_day_offsets ...), dependencies first

        def add_helpers(name: str) -> None:
            for helper in STAGES[name].after:
                add_helpers(helper.name)
                if helper.name not in helpers:
                    helpers.append(helper.name)

        for name in stage_names:
            add_helpers(name)
        for helper in helpers:
            STAGES[helper].build(ctx)
        for stage_name in stage_names:
            features = [f for f in FEATURES.values() if f.stage == stage_name]
            for row in engine.arrow(_stage_sql(STAGES[stage_name], features, ctx)).to_pylist():
                out.setdefault(row["account_id"], {}).update(
                    {f.name: row[f.name] for f in features})
    finally:
        engine.drop(ctx.created + [f"pit_{name}" for name in available])
    return out


def assert_same_features(spark_rows, duck_rows):
    for account, values in spark_rows.items():
        for name, value in values.items():
            expected = duck_rows[account][name]
            if expected is None:
                assert value is None, (account, name)
            else:
                assert value == pytest.approx(expected, abs=1e-9), (account, name)


@pytest.mark.spark
def test_same_features_on_spark(spark_engine):
    operator = [datetime(2025, 7, day, h, 30) for day in (14, 15, 16) for h in range(9)]
    casablanca = [datetime(2026, 9, 25, 23, 30), datetime(2026, 10, 1, 23, 15),
                  datetime(2026, 10, 2, 12)]
    tables = make_tables(
        accounts=[{"account_id": "k", "claimed_country": "NP",
                   "claimed_timezone": "Asia/Kathmandu"},
                  {"account_id": "ma", "claimed_country": "MA",
                   "claimed_timezone": "Africa/Casablanca"}],
        activity=acts("op", operator) + acts("k", [datetime(2025, 6, 1, 18, 20)])
        + acts("ma", casablanca)
        + acts("dst", [datetime(2025, 3, 8, 13, 30), datetime(2025, 3, 10, 13, 30),
                       datetime(2025, 11, 1, 4, 30), datetime(2025, 11, 3, 4, 30)]),
        sessions=[
            sess("dst", started_at=datetime(2025, 3, 9, 6, 59), browser_utc_offset_min=-300),
            sess("dst", started_at=datetime(2025, 3, 9, 7, 0), browser_utc_offset_min=-300),
            sess("dst", started_at=datetime(2025, 7, 1), browser_utc_offset_min=540,
                 ip_country="KP"),
            sess("k", browser_utc_offset_min=345, ip_country="NP"),
            sess("k", browser_utc_offset_min=480, ip_country="NP"),
            sess("ma", started_at=datetime(2026, 10, 1, 9), browser_utc_offset_min=60),
            sess("ma", started_at=datetime(2026, 10, 2, 9), browser_utc_offset_min=60,
                 ip_country="ES"),
        ],
    )
    as_of = datetime(2026, 11, 29)
    got = spark_stage_features(spark_engine, tables, as_of,
                               ["activity_hours", "session_zone_mismatch",
                                "session_clock_place"], now=as_of)
    assert set(got) == {"op", "k", "dst", "ma"}
    with DuckDBEngine() as engine:
        assert load_tables(tables, engine, now=as_of).usable
        want = {r["account_id"]: r for r in build_features(engine, as_of).to_pylist()}
    assert want["ma"]["activity_claimed_night_ratio"] == pytest.approx(2 / 3)  # tzdata's +01
    assert_same_features(got, want)


def test_browser_offset_variety_is_counted_against_the_claimed_zone():
    tables = make_tables(sessions=[
        sess("a", started_at=datetime(2025, 1, 15, 15), browser_utc_offset_min=-300),  # 0 h
        sess("a", started_at=datetime(2025, 7, 15, 15), browser_utc_offset_min=-240),  # 0 h
        sess("a", started_at=datetime(2025, 7, 15, 16), browser_utc_offset_min=-300),  # 1 h
        sess("a", started_at=datetime(2025, 7, 15, 17), browser_utc_offset_min=-420),  # 3 h
        sess("a", started_at=datetime(2025, 7, 15, 18), browser_utc_offset_min=540),  # 11 h
        sess("a", started_at=datetime(2025, 7, 16, 18), browser_utc_offset_min=540),
        sess("a", started_at=datetime(2025, 7, 15, 19), browser_utc_offset_min=None),
        sess("n", started_at=datetime(2025, 7, 15, 19), browser_utc_offset_min=None),
    ])
    f = compute(tables)
    # Differences from the claimed offset: 0 (winter and summer alike), -60, -180, +780.
    assert f["a"]["browser_offset_gap_distinct_count"] == 4
    assert f["n"]["browser_offset_gap_distinct_count"] is None
