"""The working-hours family: when an account works and logs in, against its claimed zone.

- :mod:`.hours`: claimed-local hour profiles of work actions, and the browser clock and IP
  country of sessions against the claimed zone and country (time zones converted once per
  row into helper tables);
- :mod:`.rhythm`: the shape of the working week (weekends, mornings, evenings, breaks);
- :mod:`.login_hours`: the same hour and week signals from login times, for exports
  without an ``activity`` table.
"""

from __future__ import annotations

from ...registry import Family
from .hours import (BUSINESS_END_HOUR, BUSINESS_START_HOUR, HISTOGRAM_TABLE,
                    MIN_ACTIVITY_FOR_OFFSET, NIGHT_END_HOUR, SESSION_SLOTS_TABLE, SLOTS_TABLE,
                    WORKDAY_CENTER_HOUR, activity_active_days_per_week,
                    activity_active_hours_per_day, activity_active_hours_per_week,
                    activity_claimed_business_hours_ratio, activity_claimed_night_ratio,
                    activity_count, activity_hour_coverage_count, activity_hours,
                    activity_implied_offset_gap_hours, browser_offset_gap_distinct_count,
                    browser_offset_gap_mean_hours, browser_offset_mismatch_session_ratio,
                    circular_hours_between, ip_country_mismatch_session_ratio,
                    session_hours, session_zone_mismatch, zone_offsets)
from .login_hours import (login_hours, session_active_days_per_week,
                          session_active_week_ratio, session_claimed_business_hours_ratio,
                          session_claimed_morning_ratio, session_claimed_night_ratio,
                          session_claimed_weekend_ratio, session_implied_offset_gap_hours,
                          session_longest_break_days)
from .rhythm import (activity_active_week_ratio, activity_claimed_evening_ratio,
                     activity_claimed_morning_ratio, activity_claimed_weekend_ratio,
                     activity_longest_break_days, activity_rhythm, rhythm_sql)

__all__ = ["BUSINESS_END_HOUR", "BUSINESS_START_HOUR", "FAMILY", "HISTOGRAM_TABLE",
           "MIN_ACTIVITY_FOR_OFFSET", "NIGHT_END_HOUR", "SESSION_SLOTS_TABLE", "SLOTS_TABLE",
           "WORKDAY_CENTER_HOUR", "circular_hours_between", "rhythm_sql"]

FAMILY = Family(
    "working_hours",
    stages=(zone_offsets, activity_hours, session_hours, session_zone_mismatch,
            activity_rhythm, login_hours),
    features=(activity_count, activity_claimed_night_ratio,
              activity_claimed_business_hours_ratio, activity_implied_offset_gap_hours,
              activity_active_hours_per_day, activity_active_hours_per_week,
              activity_active_days_per_week, activity_hour_coverage_count,
              browser_offset_mismatch_session_ratio, browser_offset_gap_mean_hours,
              browser_offset_gap_distinct_count, ip_country_mismatch_session_ratio,
              activity_claimed_weekend_ratio, activity_claimed_morning_ratio,
              activity_claimed_evening_ratio, activity_longest_break_days,
              activity_active_week_ratio,
              session_claimed_night_ratio, session_claimed_business_hours_ratio,
              session_implied_offset_gap_hours, session_claimed_weekend_ratio,
              session_claimed_morning_ratio, session_active_days_per_week,
              session_longest_break_days, session_active_week_ratio),
)
