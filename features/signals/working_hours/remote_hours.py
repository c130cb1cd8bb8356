"""When remote-desktop sessions happen, against the claimed zone.

A remote-desktop or KVM tool alone is common among honest people: support staff, admins and
developers drive other machines all day, in their own working hours. A laptop farm's
machine is driven by an operator on another continent, on the operator's clock: its remote
sessions start when the claimed zone sleeps. Reading the tool together with the hour tells
the two apart, which the tool's share of sessions cannot.
"""

from __future__ import annotations

from ...dialect import Dialect
from ...registry import FeatureSpec, StageContext, stage
from .hours import NIGHT_END_HOUR, SESSION_SLOTS_TABLE, session_hours

REMOTE_HOUR_FEATURES = (
    FeatureSpec("remote_session_claimed_night_ratio",
                "Share of the sessions with a remote-desktop or KVM tool that started between "
                "00:00 and 06:00 claimed-local time (NULL without such a session).",
                reason="{value:.0%} of its remote-desktop sessions started between midnight "
                       "and 6 a.m. in the claimed time zone {claimed_timezone}: the machine "
                       "is driven from another clock"),
)


@stage(needs=("accounts", "sessions"), after=(session_hours,), features=REMOTE_HOUR_FEATURES)
def remote_session_hours(ctx: StageContext) -> str:
    """Per account with a remote-desktop session: how many of them start at claimed night."""
    night = f"local_slot % 24 < {NIGHT_END_HOUR}"
    return f"""
    SELECT account_id,
           {Dialect.ratio(f"sum(CASE WHEN {night} THEN remote_session_count ELSE 0 END)",
                          "sum(remote_session_count)")} AS remote_session_claimed_night_ratio
    FROM {ctx.own_rows(SESSION_SLOTS_TABLE)}
    GROUP BY account_id
    """
