"""The working-hours family: when an account works and logs in, against its claimed zone.

- :mod:`.hours`: claimed-local hour profiles of work actions, and the browser clock and IP
  country of sessions against the claimed zone and country (time zones converted once per
  row into helper tables);
- :mod:`.clock_place`: whether the browser clock fits the IP's country, the claimed zone,
  or neither (a nomad's honest clock against an operator's hidden one);
- :mod:`.rhythm`: the shape of the working week (weekends, mornings, evenings, breaks);
- :mod:`.login_hours`: the same hour and week signals from login times, for exports
  without an ``activity`` table;
- :mod:`.remote_hours`: remote-desktop sessions at the claimed zone's night (a machine
  driven from another clock, not a support worker's day);
- :mod:`.evidence`: the claimed-zone hour histogram, browser clocks and IP countries behind
  the reasons.
"""

from __future__ import annotations

from ...registry import Family
from .clock_place import session_clock_place
from .evidence import hours_evidence
from .hours import (
                    BUSINESS_END_HOUR,
                    BUSINESS_START_HOUR,
                    HISTOGRAM_TABLE,
                    MIN_ACTIVITY_FOR_OFFSET,
                    NIGHT_END_HOUR,
                    SESSION_SLOTS_TABLE,
                    SLOTS_TABLE,
                    WORKDAY_CENTER_HOUR,
                    activity_hours,
                    circular_hours_between,
                    session_hours,
                    session_zone_mismatch,
                    zone_offsets,
)
from .login_hours import login_hours
from .remote_hours import remote_session_hours
from .rhythm import activity_rhythm, rhythm_sql

__all__ = ["BUSINESS_END_HOUR", "BUSINESS_START_HOUR", "FAMILY", "HISTOGRAM_TABLE",
           "MIN_ACTIVITY_FOR_OFFSET", "NIGHT_END_HOUR", "SESSION_SLOTS_TABLE", "SLOTS_TABLE",
           "WORKDAY_CENTER_HOUR", "activity_hours", "activity_rhythm", "circular_hours_between",
           "login_hours", "remote_session_hours", "rhythm_sql", "session_clock_place",
           "session_hours", "session_zone_mismatch", "zone_offsets"]

FAMILY = Family("working_hours",
                stages=(zone_offsets, activity_hours, session_hours, session_zone_mismatch,
                        session_clock_place,
                        activity_rhythm, login_hours, remote_session_hours),
                evidence=hours_evidence, kept_tables=(HISTOGRAM_TABLE,))
