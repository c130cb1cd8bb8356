"""The shape of the working week against the claimed zone: weekends, breaks, day blocks.

An operator works a long shift six or seven days a week and never takes a holiday; in the
claimed zone that shift falls in the evening, the night and the early morning. A night
owl also works the claimed night, but goes to bed before dawn, keeps most weekends and
takes a vacation now and then. So these signals describe the *shape* of the work, read
from the claimed-local hour slots that :mod:`.hours` made (one time-zone
conversion per row).

:func:`rhythm_sql` is shared with :mod:`.login_hours`, which reads the same shape from
session start times (login times) when an export has no ``activity`` table.
"""

from __future__ import annotations

from ...dialect import Dialect
from ...registry import StageContext, feature, stage
from .hours import (BUSINESS_END_HOUR, BUSINESS_START_HOUR, MIN_ACTIVITY_FOR_OFFSET,
                    NIGHT_END_HOUR, SLOTS_TABLE, WORKDAY_CENTER_HOUR, activity_hours,
                    circular_hours_between)

MORNING_START_HOUR = 6  # the claimed-local early morning is 06:00-09:00
MORNING_END_HOUR = 9
EVENING_START_HOUR = 18  # the claimed-local evening is 18:00-24:00
MIN_ACTIVE_DAYS_FOR_BREAKS = 10  # below this the longest break says little
# Day 0 (1970-01-01) was a Thursday: (day + 3) % 7 is 0 on Mondays, 5 and 6 on weekends.
_WEEKDAY_SHIFT = 3


def rhythm_sql(slots: str, count: str) -> str:
    """Per account, from a claimed-local hour slot table ``slots`` (account_id, local_slot
    = claimed-local hours since 1970, ``count`` = events in that hour): the shares of
    events at night, in business hours, in the early morning, in the evening and on
    weekends, the circular mean hour's distance from 13:30, active days per active week,
    the share of weeks with any event and the longest break between active days."""
    hour = "local_slot % 24"
    angle = f"((CAST({hour} AS DOUBLE) + 0.5) * pi() / 12)"
    day = "CAST(floor(local_slot / 24) AS BIGINT)"
    week = f"CAST(floor((local_day + {_WEEKDAY_SHIFT}) / 7) AS BIGINT)"
    weekend = f"(local_day + {_WEEKDAY_SHIFT}) % 7 >= 5"
    morning = f"{hour} >= {MORNING_START_HOUR} AND {hour} < {MORNING_END_HOUR}"
    evening = f"{hour} >= {EVENING_START_HOUR}"
    night = f"{hour} < {NIGHT_END_HOUR}"
    business = f"{hour} >= {BUSINESS_START_HOUR} AND {hour} < {BUSINESS_END_HOUR}"
    center = f"({WORKDAY_CENTER_HOUR} * pi() / 12)"
    return f"""
    WITH hours AS (
        SELECT account_id, sum({count}) AS total_n,
               sum(CASE WHEN {night} THEN {count} ELSE 0 END) AS night_n,
               sum(CASE WHEN {business} THEN {count} ELSE 0 END) AS business_n,
               sum(CASE WHEN {morning} THEN {count} ELSE 0 END) AS morning_n,
               sum(CASE WHEN {evening} THEN {count} ELSE 0 END) AS evening_n,
               sum({count} * sin({angle})) AS sin_sum,
               sum({count} * cos({angle})) AS cos_sum
        FROM {slots} GROUP BY account_id
    ),
    days AS (
        SELECT account_id, {day} AS local_day, sum({count}) AS day_n
        FROM {slots} GROUP BY account_id, {day}
    ),
    gaps AS (
        SELECT account_id, local_day, day_n,
               local_day - lag(local_day) OVER (PARTITION BY account_id ORDER BY local_day)
                   - 1 AS gap_days
        FROM days
    ),
    spans AS (
        SELECT account_id, count(*) AS active_days,
               max(gap_days) AS longest_gap_days,
               sum(CASE WHEN {weekend} THEN day_n ELSE 0 END) AS weekend_n
        FROM gaps GROUP BY account_id
    ),
    weeks AS (
        SELECT account_id, {week} AS local_week, count(*) AS week_days
        FROM days GROUP BY account_id, {week}
    ),
    weekly AS (
        SELECT account_id, count(*) AS active_weeks,
               max(local_week) - min(local_week) + 1 AS span_weeks,
               avg(CAST(week_days AS DOUBLE)) AS week_days_mean
        FROM weeks GROUP BY account_id
    )
    SELECT h.account_id, h.total_n,
           CAST(h.night_n AS DOUBLE) / h.total_n AS night_ratio,
           CAST(h.business_n AS DOUBLE) / h.total_n AS business_ratio,
           CASE WHEN h.total_n >= {MIN_ACTIVITY_FOR_OFFSET}
                THEN {circular_hours_between('h.sin_sum', 'h.cos_sum',
                                             f'sin({center})', f'cos({center})')}
           END AS offset_gap_hours,
           w.week_days_mean,
           CAST(s.weekend_n AS DOUBLE) / h.total_n AS weekend_ratio,
           CAST(h.morning_n AS DOUBLE) / h.total_n AS morning_ratio,
           CAST(h.evening_n AS DOUBLE) / h.total_n AS evening_ratio,
           CASE WHEN s.active_days >= {MIN_ACTIVE_DAYS_FOR_BREAKS}
                THEN s.longest_gap_days END AS longest_break_days,
           CAST(w.active_weeks AS DOUBLE) / w.span_weeks AS active_week_ratio
    FROM hours AS h
    JOIN spans AS s ON s.account_id = h.account_id
    JOIN weekly AS w ON w.account_id = h.account_id
    """


@stage(needs=("accounts", "activity"), after=(activity_hours,))
def activity_rhythm(ctx: StageContext) -> str:
    """Per account: the weekly shape of its work actions in claimed-local time."""
    return rhythm_sql(SLOTS_TABLE, "activity_count")


@feature(activity_rhythm,
         reason="{value:.0%} of work activity happened on Saturdays and Sundays in the "
                "claimed time zone {claimed_timezone}")
def activity_claimed_weekend_ratio(d: Dialect) -> str:
    """Share of work actions on claimed-local Saturdays and Sundays (DST-correct)."""
    return "weekend_ratio"


@feature(activity_rhythm, direction=0,
         reason="{value:.0%} of work activity falls between 6 and 9 a.m. in the claimed "
                "time zone {claimed_timezone}")
def activity_claimed_morning_ratio(d: Dialect) -> str:
    """Share of work actions between 06:00 and 09:00 claimed-local time."""
    return "morning_ratio"


@feature(activity_rhythm, direction=0,
         reason="{value:.0%} of work activity falls between 6 p.m. and midnight in the "
                "claimed time zone {claimed_timezone}")
def activity_claimed_evening_ratio(d: Dialect) -> str:
    """Share of work actions between 18:00 and 24:00 claimed-local time."""
    return "evening_ratio"


@feature(activity_rhythm, direction=0,
         reason="its longest break between active days was {value:.0f} days")
def activity_longest_break_days(d: Dialect) -> str:
    """Most days in a row without work inside the active span (NULL under 10 active days)."""
    return "longest_break_days"


@feature(activity_rhythm, direction=0,
         reason="worked in {value:.0%} of the weeks from its first to its last active week")
def activity_active_week_ratio(d: Dialect) -> str:
    """Active weeks over the weeks from the first to the last active week (no weeks off: 1)."""
    return "active_week_ratio"
