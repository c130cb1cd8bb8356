"""Working hours from login times: the hour signals of an export without ``activity``.

A thin export (only ``accounts``, ``sessions`` and ``labels``) has no work actions, but a
session's start is a login, and operators log in on their own clock too. These signals
read the claimed-local session start hours that :mod:`.hours` converted once per
session (``session_claimed_hour_slots``) with the same shape SQL as the activity signals
(:func:`.rhythm.rhythm_sql`); they are named ``session_*`` so they never mix with those.
"""

from __future__ import annotations

from ...registry import FeatureSpec, StageContext, stage
from .hours import SESSION_SLOTS_TABLE, session_hours
from .rhythm import rhythm_sql

LOGIN_HOUR_FEATURES = (
    FeatureSpec("session_claimed_night_ratio",
                "Share of sessions starting between 00:00 and 06:00 claimed-local time "
                "(DST-correct).",
                reason="{value:.0%} of logins fall between midnight and 6 a.m. in the claimed "
                       "time zone {claimed_timezone}"),
    FeatureSpec("session_claimed_business_hours_ratio",
                "Share of sessions starting between 09:00 and 18:00 claimed-local time.",
                reason="only {value:.0%} of logins fall in 9:00-18:00 business hours of the "
                       "claimed time zone {claimed_timezone}", direction=-1),
    FeatureSpec("session_implied_offset_gap_hours",
                "Hours (0..12) between the circular mean claimed-local login hour and 13:30 "
                "(NULL under 10 sessions or when the hours cancel out).",
                reason="logins are centred {value:.1f} hours away from a 9:00-18:00 day in the "
                       "claimed time zone {claimed_timezone}"),
    FeatureSpec("session_claimed_weekend_ratio",
                "Share of sessions starting on claimed-local Saturdays and Sundays.",
                reason="{value:.0%} of logins were on Saturdays and Sundays in the claimed time "
                       "zone {claimed_timezone}"),
    FeatureSpec("session_claimed_morning_ratio",
                "Share of sessions starting between 06:00 and 09:00 claimed-local time.",
                reason="{value:.0%} of logins fall between 6 and 9 a.m. in the claimed time zone "
                       "{claimed_timezone}", direction=0),
    FeatureSpec("session_active_days_per_week",
                "Days with a session start per active (claimed-local, Monday-based) week, on "
                "average.",
                reason="logged in on {value:.1f} days per active week", direction=0),
    FeatureSpec("session_longest_break_days",
                "Most days in a row without a login inside the login span (NULL under 10 login "
                "days).",
                reason="its longest break between logins was {value:.0f} days", direction=0),
    FeatureSpec("session_active_week_ratio",
                "Weeks with a login over the weeks from the first to the last login week.",
                reason="logged in during {value:.0%} of the weeks from its first to its last "
                       "login", direction=0),
)


@stage(needs=("accounts", "sessions"), after=(session_hours,), features=LOGIN_HOUR_FEATURES)
def login_hours(ctx: StageContext) -> str:
    """Per account: the claimed-local hour and week profile of its session starts."""
    return rhythm_sql(ctx.own_rows(SESSION_SLOTS_TABLE), "session_count",
                      [f.name for f in LOGIN_HOUR_FEATURES], prefix="session_")
