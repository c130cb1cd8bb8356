"""Takeover change points: an aged account whose devices, payout and hours change together.

Rented and bought accounts keep their history (reviews, age) while a new operator moves in:
new devices, a new payout destination and a different working day, all at once. The last
30 days before T are compared with the account's own earlier history. Only accounts created
at least 90 days before that window have a history to compare; the rest stay NULL.

Each part reads its own table and is NULL when that table is missing, so the stage needs
only ``accounts``. The evidence (:func:`takeover_evidence`) lists the devices first used and
the payout destinations first added in the window.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

import duckdb

from accountrisk.scoring.evidence_tools import plural, rows, shorten_token, tables
from accountrisk.scoring.models import Evidence, SharedToken

from ..dialect import Dialect
from ..registry import Family, FeatureSpec, StageContext, stage
from .working_hours.hours import circular_hours_between

WINDOW_DAYS = 30
MIN_HISTORY_DAYS = 90  # account age before the window needed for a baseline
MIN_ACTIVITY_PER_PERIOD = 5  # actions needed on each side for a mean hour
NEW_DEVICE_RATIO_CHANGE = 0.5
HOUR_SHIFT_CHANGE_HOURS = 4  # beyond a DST hour and ordinary drift
_IDS = "account_id IN (SELECT unnest($ids::VARCHAR[]))"


def _utc_angle(ts: str, d: Dialect) -> str:
    """Angle in radians of the UTC time of day of ``ts`` on a 24-hour circle."""
    return f"(CAST({d.hour_of_day(ts)} * 60 + minute({ts}) AS DOUBLE) * pi() / 720)"


TAKEOVER_FEATURES = (
    FeatureSpec("recent_new_device_session_ratio",
                "Share of last-30-day sessions on devices unseen before (aged accounts with a "
                "baseline).",
                reason=f"{{value:.0%}} of sessions in the last {WINDOW_DAYS} days were on "
                       "devices this account had never used before"),
    FeatureSpec("has_recent_new_payout_method",
                "1 when an aged account added a new payout destination in the last 30 days "
                "beside old ones.",
                reason=f"added a new payout destination in the last {WINDOW_DAYS} days although "
                       "it already had others"),
    FeatureSpec("recent_activity_hour_shift_hours",
                "Hours (0..12, circular) between the mean UTC activity hour of the last 30 days "
                "and before (NULL when either period's hours cancel out).",
                reason=f"its working hours moved by {{value:.1f}} hours in the last {WINDOW_DAYS} "
                       "days"),
    FeatureSpec("takeover_change_count",
                "How many of new devices (>= 50%), new payout and hour shift (>= 4 h) hold "
                "(0..3).",
                reason=f"{{value:.0f}} of 3 takeover signs (new devices, new payout destination, "
                       f"shifted hours) appeared together in the last {WINDOW_DAYS} days"),
)


@stage(needs=("accounts",), features=TAKEOVER_FEATURES)
def takeover_changes(ctx: StageContext) -> str:
    """Per aged account: what changed in the last 30 days against its earlier history
    (its own rows alone: a pass that wants a few accounts reads theirs only)."""
    d = ctx.d
    window = d.timestamp_literal(ctx.as_of - timedelta(days=WINDOW_DAYS))
    aged_before = d.timestamp_literal(
        ctx.as_of - timedelta(days=WINDOW_DAYS + MIN_HISTORY_DAYS))
    parts = [f"aged AS (SELECT account_id FROM {ctx.own_rows('accounts')} "
             f"WHERE created_at <= {aged_before})"]
    joins = []
    columns = []
    if ctx.has("sessions"):
        # Per device its first session and its sessions in the window; a device is new when
        # the account never used it before the window.
        parts.append(f"""devices AS (
            SELECT account_id, device_token, min(started_at) AS first_seen,
                   sum(CASE WHEN started_at >= {window} THEN 1 ELSE 0 END) AS recent_sessions
            FROM {ctx.own_rows('sessions')} WHERE device_token IS NOT NULL
            GROUP BY account_id, device_token)""")
        parts.append(f"""device_change AS (
            SELECT account_id, sum(recent_sessions) AS recent_sessions,
                   sum(CASE WHEN first_seen >= {window} THEN recent_sessions ELSE 0 END)
                       AS new_device_sessions,
                   sum(CASE WHEN first_seen < {window} THEN 1 ELSE 0 END) AS old_devices
            FROM devices GROUP BY account_id)""")
        joins.append("LEFT JOIN device_change AS dc ON dc.account_id = g.account_id")
        columns.append("""CASE WHEN dc.old_devices > 0 AND dc.recent_sessions > 0
                 THEN CAST(dc.new_device_sessions AS DOUBLE) / dc.recent_sessions
            END AS new_device_ratio""")
    else:
        columns.append("CAST(NULL AS DOUBLE) AS new_device_ratio")
    if ctx.has("payout_methods"):
        parts.append(f"""payout_firsts AS (
            SELECT account_id, payout_token, min(added_at) AS first_added
            FROM {ctx.own_rows('payout_methods')} GROUP BY account_id, payout_token)""")
        parts.append(f"""payout_change AS (
            SELECT account_id,
                   max(CASE WHEN first_added >= {window} THEN 1 ELSE 0 END) AS any_new,
                   max(CASE WHEN first_added < {window} THEN 1 ELSE 0 END) AS any_old
            FROM payout_firsts GROUP BY account_id)""")
        joins.append("LEFT JOIN payout_change AS pc ON pc.account_id = g.account_id")
        columns.append("""CASE WHEN pc.any_new = 1 AND pc.any_old = 1 THEN 1 ELSE 0 END
            AS new_payout""")
    else:
        columns.append("CAST(NULL AS INTEGER) AS new_payout")
    if ctx.has("activity"):
        angle = _utc_angle("ts", d)
        recent = f"ts >= {window}"
        exact = Dialect.exact_sum
        parts.append(f"""hour_change AS (
            SELECT account_id,
                   sum(CASE WHEN {recent} THEN 1 ELSE 0 END) AS recent_count,
                   sum(CASE WHEN {recent} THEN 0 ELSE 1 END) AS earlier_count,
                   {exact(f"CASE WHEN {recent} THEN sin({angle}) ELSE 0 END")} AS recent_sin,
                   {exact(f"CASE WHEN {recent} THEN cos({angle}) ELSE 0 END")} AS recent_cos,
                   {exact(f"CASE WHEN {recent} THEN 0 ELSE sin({angle}) END")} AS earlier_sin,
                   {exact(f"CASE WHEN {recent} THEN 0 ELSE cos({angle}) END")} AS earlier_cos
            FROM {ctx.own_rows('activity')} GROUP BY account_id)""")
        joins.append("LEFT JOIN hour_change AS hc ON hc.account_id = g.account_id")
        shift = circular_hours_between("hc.recent_sin", "hc.recent_cos",
                                       "hc.earlier_sin", "hc.earlier_cos")
        columns.append(f"""CASE WHEN hc.recent_count >= {MIN_ACTIVITY_PER_PERIOD}
                      AND hc.earlier_count >= {MIN_ACTIVITY_PER_PERIOD}
                 THEN {shift} END AS hour_shift_hours""")
    else:
        columns.append("CAST(NULL AS DOUBLE) AS hour_shift_hours")
    return f"""
    WITH {', '.join(parts)},
    changes AS (
        SELECT g.account_id, {', '.join(columns)}
        FROM aged AS g {' '.join(joins)}
    )
    SELECT account_id, new_device_ratio AS recent_new_device_session_ratio,
           new_payout AS has_recent_new_payout_method,
           hour_shift_hours AS recent_activity_hour_shift_hours,
           CASE WHEN new_device_ratio >= {NEW_DEVICE_RATIO_CHANGE} THEN 1 ELSE 0 END
           + CASE WHEN new_payout = 1 THEN 1 ELSE 0 END
           + CASE WHEN hour_shift_hours >= {HOUR_SHIFT_CHANGE_HOURS} THEN 1 ELSE 0 END
               AS takeover_change_count
    FROM changes
    """


def takeover_evidence(con: duckdb.DuckDBPyConnection, as_of: datetime, ids: list[str]
                      ) -> dict[str, Evidence]:
    """Devices first used and payout destinations first added in the last window."""
    present = tables(con)
    window = as_of - timedelta(days=WINDOW_DAYS)
    params = {"t": as_of, "w": window, "ids": ids}
    parts = []
    if "sessions" in present:
        parts.append(f"""SELECT account_id, 'device' AS kind, device_token AS token,
                min(started_at) AS first_seen FROM sessions
            WHERE started_at < $t AND device_token IS NOT NULL AND {_IDS}
            GROUP BY account_id, device_token""")
    if "payout_methods" in present:
        parts.append(f"""SELECT account_id, 'payout' AS kind, payout_token AS token,
                min(added_at) AS first_seen
            FROM payout_methods WHERE added_at < $t AND {_IDS}
            GROUP BY account_id, payout_token""")
    if not parts:
        return {}
    found = rows(con, " UNION ALL ".join(parts), params)
    out = {}
    for account in ids:
        mine = [r for r in found if r["account_id"] == account]
        new = [r for r in mine if r["first_seen"] >= window]
        if not new:
            continue
        prefix = {"device": "dev", "payout": "pay"}
        tokens = [SharedToken(token=shorten_token(r["token"], prefix[r["kind"]]),
                              kind=r["kind"],
                              detail=f"first seen {r['first_seen']:%Y-%m-%d}")
                  for r in sorted(new, key=lambda r: r["first_seen"])]
        kinds = Counter(r["kind"] for r in new)
        older = Counter(r["kind"] for r in mine if r["first_seen"] < window)
        noun = {"device": "device", "payout": "payout destination"}
        notes = [f"{plural(kinds[k], 'new ' + noun[k])} in the last {WINDOW_DAYS} "
                 f"days beside {older[k]} older" for k in sorted(kinds)]
        out[account] = Evidence(tokens=tokens, notes=notes)
    return out


FAMILY = Family("takeover", stages=(takeover_changes,), evidence=takeover_evidence)
