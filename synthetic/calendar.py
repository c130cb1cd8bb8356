"""Time-zone arithmetic for whole arrays: UTC offsets with DST, local wall time to UTC.

For each zone in :data:`geo.ZONES` the UTC offset is tabulated once over the generation
window as a list of transitions found with :mod:`zoneinfo` (daily scan, then a bisection to
the minute). All zones' transitions live in one sorted key array ``zone << 34 | seconds``,
so the offset of any (zone, instant) pair is one ``np.searchsorted``.
Times are int64 seconds since the Unix epoch (UTC).
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np

from . import geo

DAY_SEC = 86_400
HOUR_SEC = 3_600
_ZONE_SHIFT = np.int64(1) << np.int64(34)
_QUARTER_SEC = 900


def _offset_min(zone: ZoneInfo, t_sec: int) -> int:
    off = datetime.fromtimestamp(t_sec, tz=UTC).astimezone(zone).utcoffset()
    assert off is not None  # an aware datetime always has one
    return int(off.total_seconds() // 60)


def _transitions(name: str, start_sec: int, stop_sec: int) -> list[tuple[int, int]]:
    """(instant, offset from then on) pairs of ``name`` over [start, stop], first at start."""
    zone = ZoneInfo(name)
    out = [(start_sec, _offset_min(zone, start_sec))]
    prev_t, prev_off = start_sec, out[0][1]
    for t in range(start_sec + DAY_SEC, stop_sec + DAY_SEC, DAY_SEC):
        off = _offset_min(zone, t)
        if off != prev_off:
            lo, hi = prev_t, t  # offset(lo) == prev_off, offset(hi) == off
            while hi - lo > 60:
                mid = (lo + hi) // 2 // 60 * 60
                if mid <= lo:
                    mid = lo + 60
                if _offset_min(zone, mid) == prev_off:
                    lo = mid
                else:
                    hi = mid
            out.append((hi, off))
        prev_t, prev_off = t, off
    return out


class ZoneTable:
    """UTC offsets of every generator zone between ``start_sec`` and ``stop_sec``."""

    def __init__(self, start_sec: int, stop_sec: int) -> None:
        self.start_sec = int(start_sec)
        self.stop_sec = int(stop_sec)
        keys, offsets = [], []
        for z, name in enumerate(geo.ZONES):
            for t, off in _transitions(name, self.start_sec, self.stop_sec):
                keys.append(int(z) * int(_ZONE_SHIFT) + (t - self.start_sec))
                offsets.append(off)
        self.keys = np.array(keys, dtype=np.int64)
        self.offsets_min = np.array(offsets, dtype=np.int32)
        self.transition_count = (
            np.bincount((self.keys // _ZONE_SHIFT).astype(np.int64), minlength=len(geo.ZONES)) - 1
        )
        self._dense = self._dense_table()

    def _dense_table(self) -> np.ndarray | None:
        """Offsets per zone and quarter hour, or None if a transition is off the quarter-hour grid."""
        rel = self.keys % _ZONE_SHIFT
        if np.any(rel % _QUARTER_SEC) or self.start_sec % _QUARTER_SEC:
            return None
        self._slots = (self.stop_sec - self.start_sec) // _QUARTER_SEC + DAY_SEC // _QUARTER_SEC + 1
        zone_of = (self.keys // _ZONE_SHIFT).astype(np.int64)
        slot = np.minimum(rel // _QUARTER_SEC, self._slots)
        nxt = np.append(slot[1:], self._slots)
        nxt[np.append(zone_of[1:] != zone_of[:-1], True)] = self._slots
        dense = np.repeat(self.offsets_min.astype(np.int16), nxt - slot)
        return dense

    def offset_min(self, zone: np.ndarray, t_sec: np.ndarray) -> np.ndarray:
        """UTC offset (minutes east) of ``zone`` (zone indices) at UTC instants ``t_sec``."""
        rel = np.clip(
            np.asarray(t_sec, dtype=np.int64) - self.start_sec, 0, self.stop_sec - self.start_sec + DAY_SEC
        )
        if self._dense is not None:
            return np.take(self._dense, np.asarray(zone, dtype=np.int64) * self._slots + rel // _QUARTER_SEC)
        key = np.asarray(zone, dtype=np.int64) * _ZONE_SHIFT + rel
        return self.offsets_min[np.searchsorted(self.keys, key, side="right") - 1]

    def to_local(self, zone: np.ndarray, t_sec: np.ndarray) -> np.ndarray:
        """Local wall-clock seconds (as if UTC) of UTC instants in ``zone``."""
        return np.asarray(t_sec, dtype=np.int64) + self.offset_min(zone, t_sec).astype(np.int64) * 60

    def to_utc(self, zone: np.ndarray, local_sec: np.ndarray) -> np.ndarray:
        """UTC instants of local wall-clock seconds in ``zone`` (DST gaps/overlaps resolved forward)."""
        local_sec = np.asarray(local_sec, dtype=np.int64)
        first = local_sec - self.offset_min(zone, local_sec).astype(np.int64) * 60
        return local_sec - self.offset_min(zone, first).astype(np.int64) * 60


@lru_cache(maxsize=4)
def zone_table(start_sec: int, stop_sec: int) -> ZoneTable:
    """The (cached) :class:`ZoneTable` of a window."""
    return ZoneTable(start_sec, stop_sec)


def local_day(local_sec: np.ndarray) -> np.ndarray:
    """Day number (days since 1970-01-01) of local wall-clock seconds."""
    return np.floor_divide(local_sec, DAY_SEC)


def weekday(day: np.ndarray) -> np.ndarray:
    """Weekday of a day number, Monday = 0 ... Sunday = 6 (1970-01-01 was a Thursday)."""
    return (np.asarray(day) + 3) % 7
