"""zone_day_offsets against Python's tz database: every zone, random instants and instants a
second either side of every transition, plus the one-change-per-UTC-day assumption."""

from __future__ import annotations

import random
import zoneinfo
from collections import Counter
from datetime import UTC, datetime
from zoneinfo import _zoneinfo

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from accountrisk.features.dialect import DUCKDB
from accountrisk.features.reference import iana_zone_names
from accountrisk.features.zone_offsets import (
    join_sql,
    offset_minutes_sql,
    zone_bases,
    zone_day_offsets,
)

ZONES = sorted(iana_zone_names())
DAY = 86400
FIRST = int(datetime(2000, 1, 1, tzinfo=UTC).timestamp()) // DAY
LAST = int(datetime(2030, 12, 31, tzinfo=UTC).timestamp()) // DAY
END_OF_EXPLICIT = int(datetime(2038, 1, 1, tzinfo=UTC).timestamp())


def offset_seconds(zone: str, epoch: int) -> int:
    moment = datetime.fromtimestamp(epoch, zoneinfo.ZoneInfo(zone))
    return int(moment.utcoffset().total_seconds())


def changes(zone: str, start: int, stop: int) -> list[int]:
    """Instants in [start, stop) where the zone's UTC offset changes (tzdata's explicit
    transitions, which run to 2037; some only change the abbreviation or DST flag)."""
    found = _zoneinfo.ZoneInfo.no_cache(zone)._trans_utc
    return [t for t in found if start <= t < stop
            and offset_seconds(zone, t - 1) != offset_seconds(zone, t)]


def test_at_most_one_offset_change_per_utc_day_and_whole_minutes_from_2000():
    worst = Counter()
    for zone in ZONES:
        per_day = Counter(t // DAY for t in changes(zone, FIRST * DAY, END_OF_EXPLICIT))
        worst[zone] = max(per_day.values(), default=0)
        for t in changes(zone, FIRST * DAY, END_OF_EXPLICIT):
            assert offset_seconds(zone, t) % 60 == 0, zone
        assert offset_seconds(zone, FIRST * DAY) % 60 == 0, zone
    assert max(worst.values()) == 1, worst.most_common(5)


@pytest.fixture(scope="module")
def table():
    return zone_day_offsets(ZONES, FIRST, LAST)


def lookup(table, zones: list[str], instants: list[int]) -> list[int]:
    """Offset minutes of each (zone, epoch second) read from the table as the SQL does."""
    span = LAST - FIRST + 1
    index = {z: i for i, z in enumerate(ZONES)}
    rows = np.array([index[z] * span + t // DAY - FIRST for z, t in zip(zones, instants)])
    before = table.column("offset_minutes").to_numpy()[rows]
    after = table.column("offset_after_minutes").to_numpy()[rows]
    change = table.column("change_at").cast("int64").fill_null(-1).to_numpy()[rows]
    seconds = np.array(instants) * 1_000_000
    return np.where((change >= 0) & (seconds >= change), after, before).tolist()


def sample() -> tuple[list[str], list[int]]:
    """Random instants of every zone, and a second before, at and after each change."""
    rng = random.Random(20261129)
    zones, instants = [], []
    for zone in ZONES:
        for _ in range(40):
            zones.append(zone)
            instants.append(rng.randrange(FIRST * DAY, (LAST + 1) * DAY))
        for t in changes(zone, FIRST * DAY + 1, (LAST + 1) * DAY - 1):
            zones += [zone] * 3
            instants += [t - 1, t, t + 1]
    return zones, instants


def test_table_shape(table):
    assert table.num_rows == len(ZONES) * (LAST - FIRST + 1)
    assert table.schema.names == ["zone", "day", "offset_minutes", "change_at",
                                  "offset_after_minutes", "zone_day"]
    bases = dict(zip(*zone_bases(ZONES).to_pydict().values()))
    first = table.slice(0, 1).to_pylist()[0]
    assert first["zone_day"] == bases[first["zone"]] + first["day"]


def test_table_equals_zoneinfo_for_every_zone(table):
    zones, instants = sample()
    assert len(instants) > 60_000
    expected = [offset_seconds(z, t) // 60 for z, t in zip(zones, instants)]
    got = lookup(table, zones, instants)
    wrong = [(z, datetime.fromtimestamp(t, UTC), e, g)
             for z, t, e, g in zip(zones, instants, expected, got) if e != g]
    assert not wrong, wrong[:10]


@pytest.mark.parametrize("zone, moment, minutes", [
    ("Africa/Casablanca", datetime(2026, 10, 1, 12), 60),
    ("Africa/Casablanca", datetime(2027, 3, 1, 12), 0),  # Ramadan: back to UTC
    ("America/Vancouver", datetime(2026, 10, 31, 12), -420),
    ("America/Vancouver", datetime(2026, 11, 1, 8, 59, 59), -420),
    ("America/Vancouver", datetime(2026, 11, 1, 9), -480),  # tzdata 2026f: PST again
    ("America/Vancouver", datetime(2026, 11, 29, 12), -480),
    ("Australia/Lord_Howe", datetime(2026, 1, 15), 660),  # +11:00 in the southern summer
    ("Australia/Lord_Howe", datetime(2026, 7, 15), 630),  # +10:30: a 30-minute DST
    ("Asia/Kathmandu", datetime(2026, 7, 15), 345),
    ("America/New_York", datetime(2025, 3, 9, 6, 59, 59), -300),
    ("America/New_York", datetime(2025, 3, 9, 7), -240),
])
def test_known_offsets(table, zone, moment, minutes):
    epoch = int(moment.replace(tzinfo=UTC).timestamp())
    assert offset_seconds(zone, epoch) // 60 == minutes  # what tzdata says
    assert lookup(table, [zone], [epoch]) == [minutes]


def test_the_sql_join_reads_the_same_offsets():
    zones, instants = sample()
    picked = [(z, t) for z, t in zip(zones, instants)
              if z in ("Africa/Casablanca", "America/Vancouver", "Australia/Lord_Howe",
                       "Europe/Chisinau", "America/Havana", "Asia/Kathmandu")]
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.register("zone_day_offsets", zone_day_offsets({z for z, _ in picked}, FIRST, LAST))
    con.register("zone_bases", zone_bases({z for z, _ in picked}))
    # Sub-second instants too: the day key must not round 23:59:59.6 into the next day.
    moments = [(z, datetime.fromtimestamp(t, UTC).replace(tzinfo=None), t)
               for z, t in picked]
    moments += [(z, datetime.fromtimestamp(t - 1, UTC).replace(
        tzinfo=None, microsecond=600_000), t - 1) for z, t in picked]
    con.register("instants", pa.table({
        "zone": [m[0] for m in moments], "ts": [m[1] for m in moments],
        "epoch": [m[2] for m in moments]}))
    got = con.execute(f"""
        SELECT i.zone, i.epoch, {offset_minutes_sql('i.ts')} AS minutes
        FROM instants AS i JOIN zone_bases AS z ON z.zone = i.zone
        {join_sql(DUCKDB, 'z.zone_base', 'i.ts')}""").fetchall()
    assert len(got) == len(moments)
    wrong = [(z, t, m) for z, t, m in got if offset_seconds(z, t) // 60 != m]
    assert not wrong, wrong[:10]


def test_empty_inputs_give_an_empty_table_with_the_schema():
    assert zone_day_offsets([], 10, 20).num_rows == 0
    empty = zone_day_offsets(["UTC"], 21, 20)
    assert empty.num_rows == 0 and empty.schema.names[0] == "zone"
