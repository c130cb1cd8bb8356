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

from collections.abc import Sequence

from ...dialect import Dialect
from ...registry import FeatureSpec, StageContext, stage
from .hours import (
    BUSINESS_END_HOUR,
    BUSINESS_START_HOUR,
    MIN_ACTIVITY_FOR_OFFSET,
    NIGHT_END_HOUR,
    SLOTS_TABLE,
    WORKDAY_CENTER_HOUR,
    activity_hours,
    circular_hours_between,
)

MORNING_START_HOUR = 6  # the claimed-local early morning is 06:00-09:00
MORNING_END_HOUR = 9
EVENING_START_HOUR = 18  # the claimed-local evening is 18:00-24:00
MIN_ACTIVE_DAYS_FOR_BREAKS = 10  # below this the longest break says little
# Day 0 (1970-01-01) was a Thursday: (day + 3) % 7 is 0 on Mondays, 5 and 6 on weekends.
_WEEKDAY_SHIFT = 3
_CENTER = f"({WORKDAY_CENTER_HOUR} * pi() / 12)"
# What rhythm_sql can emit, over its CTEs h (hours), s (spans) and w (weekly); a stage
# names each column it wants ``<prefix><measure>``.
_MEASURES = {
    "claimed_night_ratio": "CAST(h.night_n AS DOUBLE) / h.total_n",
    "claimed_business_hours_ratio": "CAST(h.business_n AS DOUBLE) / h.total_n",
    "implied_offset_gap_hours": f"""CASE WHEN h.total_n >= {MIN_ACTIVITY_FOR_OFFSET}
                THEN {circular_hours_between('h.sin_sum', 'h.cos_sum',
                                             f'sin({_CENTER})', f'cos({_CENTER})')}
           END""",
    "active_days_per_week": "w.week_days_mean",
    "claimed_weekend_ratio": "CAST(s.weekend_n AS DOUBLE) / h.total_n",
    "claimed_morning_ratio": "CAST(h.morning_n AS DOUBLE) / h.total_n",
    "claimed_evening_ratio": "CAST(h.evening_n AS DOUBLE) / h.total_n",
    "longest_break_days": f"""CASE WHEN s.active_days >= {MIN_ACTIVE_DAYS_FOR_BREAKS}
                THEN s.longest_gap_days END""",
    "active_week_ratio": "CAST(w.active_weeks AS DOUBLE) / w.span_weeks",
}
RHYTHM_MEASURES = tuple(_MEASURES)


def _measure_columns(names: Sequence[str], prefix: str) -> str:
    """The select list of :func:`rhythm_sql`: each name's measure, named as it."""
    columns = []
    for name in names:
        measure = name[len(prefix):] if name.startswith(prefix) else None
        if measure not in _MEASURES:
            raise ValueError(f"rhythm column {name!r} is not {prefix!r} followed by one of "
                             f"{', '.join(RHYTHM_MEASURES)}")
        columns.append(f"{_MEASURES[measure]} AS {name}")
    return ",\n           ".join(columns)


def rhythm_sql(slots: str, count: str, names: Sequence[str], prefix: str) -> str:
    """Per account, from a claimed-local hour slot table ``slots`` (account_id, local_slot
    = claimed-local hours since 1970, ``count`` = events in that hour): one column per
    name of ``names``, each ``prefix`` followed by one of :data:`RHYTHM_MEASURES`: the
    shares of events at night, in business hours, in the early morning, in the evening and
    on weekends, the circular mean hour's distance from 13:30, active days per active week,
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
    return f"""
    WITH hours AS (
        SELECT account_id, sum({count}) AS total_n,
               sum(CASE WHEN {night} THEN {count} ELSE 0 END) AS night_n,
               sum(CASE WHEN {business} THEN {count} ELSE 0 END) AS business_n,
               sum(CASE WHEN {morning} THEN {count} ELSE 0 END) AS morning_n,
               sum(CASE WHEN {evening} THEN {count} ELSE 0 END) AS evening_n,
               {Dialect.exact_sum(f"{count} * sin({angle})")} AS sin_sum,
               {Dialect.exact_sum(f"{count} * cos({angle})")} AS cos_sum
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
    SELECT h.account_id, {_measure_columns(names, prefix)}
    FROM hours AS h
    JOIN spans AS s ON s.account_id = h.account_id
    JOIN weekly AS w ON w.account_id = h.account_id
    """


ACTIVITY_RHYTHM_FEATURES = (
    FeatureSpec("activity_claimed_weekend_ratio",
                "Share of work actions on claimed-local Saturdays and Sundays (DST-correct).",
                reason="{value:.0%} of work activity happened on Saturdays and Sundays in the "
                       "claimed time zone {claimed_timezone}"),
    FeatureSpec("activity_claimed_morning_ratio",
                "Share of work actions between 06:00 and 09:00 claimed-local time.",
                reason="{value:.0%} of work activity falls between 6 and 9 a.m. in the claimed "
                       "time zone {claimed_timezone}", direction=0),
    FeatureSpec("activity_claimed_evening_ratio",
                "Share of work actions between 18:00 and 24:00 claimed-local time.",
                reason="{value:.0%} of work activity falls between 6 p.m. and midnight in the "
                       "claimed time zone {claimed_timezone}", direction=0),
    FeatureSpec("activity_longest_break_days",
                "Most days in a row without work inside the active span (NULL under 10 active "
                "days).",
                reason="its longest break between active days was {value:.0f} days", direction=0),
    FeatureSpec("activity_active_week_ratio",
                "Active weeks over the weeks from the first to the last active week (no weeks "
                "off: 1).",
                reason="worked in {value:.0%} of the weeks from its first to its last active week",
                direction=0),
)


@stage(needs=("accounts", "activity"), after=(activity_hours,),
       features=ACTIVITY_RHYTHM_FEATURES)
def activity_rhythm(ctx: StageContext) -> str:
    """Per account: the weekly shape of its work actions in claimed-local time."""
    return rhythm_sql(ctx.own_rows(SLOTS_TABLE), "activity_count",
                      [f.name for f in ACTIVITY_RHYTHM_FEATURES], prefix="activity_")
