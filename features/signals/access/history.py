"""The session sums the access stage reads as of T, shared by a training set's snapshots.

A training set asks for the same sessions' sums at 19 or more times T. Every sum the stage
takes per (IP, account) is additive, a minimum or a maximum, so it is kept once per (IP,
account, week) over every session; a snapshot adds up the weeks that end before T and reads
the sessions of T's own week one by one. The change of IP country between consecutive
sessions depends only on the sessions before it, so it is flagged once per session. Outside
a training set (:attr:`StageContext.reuses_rows` false) the same sums are taken from the
sessions as of T directly: one pass pays nothing for the weeks.
"""

from __future__ import annotations

from ...dialect import Dialect
from ...registry import StageContext

WEEK_DAYS = 7

# (column, expression over one session row, how rows combine: sum, min or max); "<day>"
# stands for the session's day number.
Parts = tuple[tuple[str, str, str], ...]


def _week(d: Dialect, ts: str) -> str:
    return f"CAST(floor({d.day_number(ts)} / {WEEK_DAYS}) AS BIGINT)"


def _combined(parts: Parts, source: str, keys: str) -> str:
    combined = ", ".join(f"{how}({name}) AS {name}" for name, _, how in parts)
    return f"SELECT {keys}, {combined} FROM {source} GROUP BY {keys}"


def ip_account_sums(ctx: StageContext, parts: Parts) -> str:
    """A subquery of ``(ip_token, account_id)`` with every column of ``parts`` combined over
    the account's sessions on that IP as of T."""
    d = ctx.d
    day = d.day_number("started_at")
    per_row = ", ".join(f"{expr.replace('<day>', day)} AS {name}" for name, expr, _ in parts)
    sessions = ctx.table("sessions")
    keys = "ip_token, account_id"
    if not ctx.reuses_rows:
        return f"({_combined(parts, f'(SELECT {keys}, {per_row} FROM {sessions})', keys)})"
    weeks = ctx.once("access_ip_account_weeks", _combined(
        parts, f"(SELECT {keys}, {_week(d, 'started_at')} AS week, {per_row} "
               f"FROM {ctx.whole_table('sessions')})", f"{keys}, week"))
    this_week = _week(d, ctx.as_of_sql)
    columns = ", ".join(name for name, _, _ in parts)
    rows = f"""(
        SELECT {keys}, {columns} FROM {weeks}
        WHERE week < {this_week}
          AND account_id IN (SELECT account_id FROM {ctx.table('accounts')})
        UNION ALL
        SELECT {keys}, {per_row} FROM {sessions}
        WHERE {_week(d, 'started_at')} >= {this_week})"""
    return f"({_combined(parts, rows, keys)})"


def _flag_changes(sessions: str) -> str:
    previous = ("lag(ip_country) OVER (PARTITION BY account_id "
                "ORDER BY started_at, ip_country)")
    return f"""
        SELECT account_id, started_at, ip_country,
               {Dialect.flag("ip_country <> previous_country")} AS is_change
        FROM (SELECT account_id, started_at, ip_country, {previous} AS previous_country
              FROM {sessions} WHERE ip_country IS NOT NULL) AS ordered"""


def country_changes(ctx: StageContext) -> str:
    """A subquery of ``(account_id, started_at, ip_country, is_change)``: the sessions as of
    T with a known IP country, each flagged when its country differs from the account's
    previous such session's."""
    if not ctx.reuses_rows:
        return f"({_flag_changes(ctx.table('sessions'))})"
    # An account's sessions as of T are the first of its sessions in this order (all of
    # them or none, by its creation), so the flags over every session hold as of T.
    once = ctx.once("access_country_changes", _flag_changes(ctx.whole_table("sessions")))
    return ctx.point_in_time(once, "sessions")
