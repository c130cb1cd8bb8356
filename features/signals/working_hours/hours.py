"""Working hours against the claimed time zone: operators keep Pyongyang/Shenyang hours.

A fronted account claims, say, America/New_York but its work happens in the US night
(UTC+8/+9 business hours). Night owls and travellers exist, so every signal is a graded
share or distance, never a yes/no. Activity (work actions) is the evidence of working
hours; sessions add the browser's own clock offset and the IP's country.

Time zones are converted once per row: activity is first reduced to an "hour calendar"
(account, claimed-local clock hour since 1970, actions), materialized as a helper table
that every activity signal and the reviewers' hour histogram read. The UTC offsets come
from Python's tz database on every engine (:mod:`...zone_offsets`): the helper stage
``zone_offsets`` makes the ``zone_day_offsets`` table that the conversions join.
"""

from __future__ import annotations

from ... import zone_offsets as zo
from ...dialect import Dialect
from ...reference import iana_zone_names
from ...registry import FeatureSpec, StageContext, stage
from ..base import remote_tool_seen_sql

NIGHT_END_HOUR = 6  # night is 00:00-06:00 claimed-local time
BUSINESS_START_HOUR = 9  # business hours are 09:00-18:00 claimed-local time
BUSINESS_END_HOUR = 18
# Centre of 09:00-18:00: where an honest office worker's activity is centred, so a worker
# keeping the claimed zone's business hours has an implied offset gap near zero.
WORKDAY_CENTER_HOUR = 13.5
MIN_ACTIVITY_FOR_OFFSET = 10  # below this a circular mean of hours is noise
SAME_DIRECTION_HOURS = 1e-9  # closer directions on the clock are equal (rounding noise)
# A sum of unit vectors this short is hours cancelling out (rounding noise leaves ~1e-15 per
# term); real unbalanced hours sum to far more.
NO_DIRECTION_LENGTH = 1e-9

SLOTS_TABLE = "activity_claimed_hour_slots"
HISTOGRAM_TABLE = "activity_claimed_hour_histogram"
SESSION_SLOTS_TABLE = "session_claimed_hour_slots"

_ONE = Dialect.double("1")  # not 1.0: see Dialect.double
_ZERO = Dialect.double("0")


def _hour_angle(hour: str) -> str:
    """Angle in radians of the middle of clock hour ``hour`` (0..23) on a 24-hour circle."""
    return f"((CAST({hour} AS DOUBLE) + 0.5) * pi() / 12)"


def circular_hours_between(sin_a: str, cos_a: str, sin_b: str, cos_b: str) -> str:
    """Distance in hours (0..12) between two directions on the 24-hour clock, each given as
    a (sin, cos) vector of any length; atan2(cross, dot) is exact at every angle.

    Engines add the vectors' terms in different orders, so two equal directions come out
    1e-16 hours apart on one engine and 7e-16 on another: distances under
    ``SAME_DIRECTION_HOURS`` read as 0. A vector shorter than ``NO_DIRECTION_LENGTH`` (hours
    that cancel out, such as two sessions twelve hours apart) has no direction: NULL, where
    atan2 of rounding noise gave any distance, a different one on each engine."""
    cross = f"(({sin_a}) * ({cos_b}) - ({cos_a}) * ({sin_b}))"
    dot = f"(({cos_a}) * ({cos_b}) + ({sin_a}) * ({sin_b}))"
    hours = f"(abs(atan2({cross}, {dot})) * 12 / pi())"
    floor = f"CAST({NO_DIRECTION_LENGTH ** 2!r} AS DOUBLE)"
    short = " OR ".join(f"({s}) * ({s}) + ({c}) * ({c}) < {floor}"
                        for s, c in ((sin_a, cos_a), (sin_b, cos_b)))
    return (f"(CASE WHEN {short} THEN CAST(NULL AS DOUBLE) "
            f"WHEN {hours} < {SAME_DIRECTION_HOURS} THEN 0 ELSE {hours} END)")


TIMED_TABLES = (("activity", "ts"), ("sessions", "started_at"))


@stage(needs=("accounts",))
def zone_offsets(ctx: StageContext) -> str:
    """Helper: ``zone_day_offsets`` (and ``zone_bases``) for the claimed zones over the
    days of the timed rows."""
    # Every zone and day of the folder, whatever T: a row's offset does not depend on T,
    # and the claimed-local slots of a training set's snapshots are then made once
    # (:func:`claimed_slots_sql`).
    spans = [(ctx.whole_table(name), column) for name, column in TIMED_TABLES
             if ctx.has(name)]
    if not spans:
        return ""
    days = ctx.arrow(zo.day_range_sql(ctx.d, spans)).to_pylist()[0]
    zones = [] if days["first_day"] is None else [
        z for z in ctx.arrow(f"SELECT DISTINCT claimed_timezone AS zone "
                             f"FROM {ctx.whole_table('accounts')}").column("zone").to_pylist()
        if z in iana_zone_names()]  # validation let no other zone in
    first, last = days["first_day"] or 0, days["last_day"] or -1
    ctx.create_from_arrow(zo.BASES_TABLE, zo.zone_bases(zones))
    ctx.create_from_arrow(zo.TABLE, zo.zone_day_offsets(zones, first, last))
    return ""


def claimed_slots_sql(ctx: StageContext, of: str, ts: str, columns: tuple[str, ...],
                      count: str, sums: tuple[str, ...] = ()) -> str:
    """Per (account, claimed-local hour since 1970 ``local_slot``, ``columns``): the
    ``count`` of rows of contract table ``of`` (timestamp ``ts``) that exist as of T, and
    the integer ``sums`` (expressions over the row ``x``, each ``AS`` a name) over them.

    One time-zone conversion per row. When the run reuses rows (a training set's
    snapshots), rows are converted once, counted per UTC day, and each snapshot adds up the
    days before T's day plus its own conversion of the rows from T's day on.
    ``columns`` are expressions over the row ``x`` and ``offsets`` row ``o``, each ``AS``
    a name."""
    d = ctx.d
    local = zo.local_epoch_seconds_sql(d, f"x.{ts}")
    names = [c.rsplit(" AS ", 1)[1] for c in columns]
    summed = [c.rsplit(" AS ", 1)[1] for c in sums]
    select = ", ".join([f"CAST(floor({local} / 3600) AS BIGINT) AS local_slot", *columns,
                        *sums])
    keys = ", ".join(["account_id", "local_slot", *names])
    # Counts per group, then (reusing rows) the days' counts added up.
    counted = ", ".join([f"count(*) AS {count}",
                         *(f"CAST(sum({n}) AS BIGINT) AS {n}" for n in summed)])
    carried = ", ".join([count, *summed])
    added = ", ".join(f"CAST(sum({n}) AS BIGINT) AS {n}" for n in (count, *summed))

    def converted(rows: str, accounts: str, extra: str = "") -> str:
        return f"""
            SELECT x.account_id, {select}{extra}
            FROM {rows} AS x
            JOIN {zo.with_zone_base_sql(accounts)} AS a ON a.account_id = x.account_id
            {zo.join_sql(d, 'a.zone_base', f'x.{ts}')}"""

    # The claimed-local slots feed key signals (night share, offset gap): a pass that wants
    # a few accounts converts the rows of those and of their neighbours (reach_rows).
    rows, accounts = ctx.reach_rows(of), ctx.reach_rows("accounts")
    if not ctx.reuses_rows:
        return (f"SELECT {keys}, {counted} "
                f"FROM ({converted(rows, accounts)}) AS c GROUP BY {keys}")
    daily = ctx.once(f"{of}_claimed_slot_days", f"""
        SELECT {keys}, utc_day, {counted}
        FROM ({converted(ctx.whole_table(of), ctx.whole_table('accounts'),
                         f", {d.utc_day(f'x.{ts}')} AS utc_day")}) AS c
        GROUP BY {keys}, utc_day""")
    day_start = ctx.as_of.replace(hour=0, minute=0, second=0, microsecond=0)
    today = f"(SELECT * FROM {rows} WHERE {ts} >= {d.timestamp_literal(day_start)})"
    return f"""
        SELECT {keys}, {added} FROM (
            SELECT {keys}, {carried} FROM {daily}
            WHERE utc_day < {d.utc_day(d.timestamp_literal(day_start))}
              AND account_id IN (SELECT account_id FROM {accounts})
            UNION ALL
            SELECT {keys}, {counted}
            FROM ({converted(today, accounts)}) AS c GROUP BY {keys}
        ) AS parts
        GROUP BY {keys}"""


ACTIVITY_HOUR_FEATURES = (
    FeatureSpec("activity_count",
                "Work actions (activity rows) before T; the volume the hour signals rest on.",
                reason="{value:.0f} work actions on record", direction=0, fill=0),
    FeatureSpec("activity_claimed_night_ratio",
                "Share of work actions between 00:00 and 06:00 claimed-local time (DST-correct).",
                reason="{value:.0%} of work activity falls between midnight and 6 a.m. in the "
                       "claimed time zone {claimed_timezone}"),
    FeatureSpec("activity_claimed_business_hours_ratio",
                "Share of work actions between 09:00 and 18:00 claimed-local time (any weekday).",
                reason="only {value:.0%} of work activity falls in 9:00-18:00 business hours of "
                       "the claimed time zone {claimed_timezone}", direction=-1),
    # The circular mean of the claimed-local activity hour is compared with 13:30, the middle
    # of a 09:00-18:00 day: the same as the circular distance between the offset that puts
    # the mean UTC activity hour at 13:30 and the claimed offset at those times. NULL with
    # fewer than 10 actions.
    FeatureSpec("activity_implied_offset_gap_hours",
                "Hours (0..12) between the UTC offset the activity implies and the claimed "
                "zone's (NULL when its hours cancel out).",
                reason="working hours are centred {value:.1f} hours away from a 9:00-18:00 day "
                       "in the claimed time zone {claimed_timezone}"),
    FeatureSpec("activity_active_hours_per_day",
                "Distinct clock hours with activity per active (claimed-local) day, on average.",
                reason="active in {value:.1f} different clock hours per active day"),
    FeatureSpec("activity_active_hours_per_week",
                "Distinct (day, hour) slots with activity per active (claimed-local) week, on "
                "average.",
                reason="active in {value:.0f} distinct hours per active week"),
    FeatureSpec("activity_active_days_per_week",
                "Days with activity per active (claimed-local, Monday-based) week, on average.",
                reason="active on {value:.1f} days per active week"),
    FeatureSpec("activity_hour_coverage_count",
                "Distinct clock hours of the day (0..24) ever active; grows with volume too.",
                reason="has worked in {value:.0f} of the 24 hours of the day", direction=0, fill=0),
)


@stage(needs=("accounts", "activity"), after=(zone_offsets,),
       features=ACTIVITY_HOUR_FEATURES, reads_reach=True)
def activity_hours(ctx: StageContext) -> str:
    """Per account: the claimed-local hour profile of its work actions."""
    # The claimed-local hour number since 1970 (a single narrow group key is the
    # cheapest to aggregate).
    ctx.create(SLOTS_TABLE, claimed_slots_sql(ctx, "activity", "ts", (), "activity_count"))
    ctx.create(HISTOGRAM_TABLE, f"""
        SELECT account_id, local_slot % 24 AS local_hour, sum(activity_count) AS activity_count
        FROM {SLOTS_TABLE} GROUP BY account_id, local_slot % 24""")
    angle = _hour_angle("local_hour")
    center = f"({WORKDAY_CENTER_HOUR} * pi() / 12)"
    night = f"local_hour < {NIGHT_END_HOUR}"
    business = f"local_hour >= {BUSINESS_START_HOUR} AND local_hour < {BUSINESS_END_HOUR}"
    day = "CAST(floor(local_slot / 24) AS BIGINT)"
    # Day 0 (1970-01-01) was a Thursday: shifting by 3 starts weeks on Monday.
    week = "CAST(floor((local_day + 3) / 7) AS BIGINT)"
    return f"""
    WITH hours AS (
        SELECT account_id,
               sum(activity_count) AS total_count,
               count(*) AS hour_coverage,
               sum(CASE WHEN {night} THEN activity_count ELSE 0 END) AS night_count,
               sum(CASE WHEN {business} THEN activity_count ELSE 0 END) AS business_count,
               {Dialect.exact_sum(f"activity_count * sin({angle})")} AS sin_sum,
               {Dialect.exact_sum(f"activity_count * cos({angle})")} AS cos_sum
        FROM {HISTOGRAM_TABLE} GROUP BY account_id
    ),
    days AS (
        SELECT account_id, {day} AS local_day, count(*) AS day_hours
        FROM {SLOTS_TABLE} GROUP BY account_id, {day}
    ),
    weeks AS (
        SELECT account_id, {week} AS local_week, count(*) AS week_days,
               sum(day_hours) AS week_hours
        FROM days GROUP BY account_id, {week}
    ),
    weekly AS (
        SELECT account_id,
               avg(CAST(week_hours AS DOUBLE)) AS week_hours_mean,
               avg(CAST(week_days AS DOUBLE)) AS week_days_mean,
               CAST(sum(week_hours) AS DOUBLE) / sum(week_days) AS day_hours_mean
        FROM weeks GROUP BY account_id
    )
    SELECT h.account_id, h.total_count AS activity_count,
           CAST(h.night_count AS DOUBLE) / h.total_count AS activity_claimed_night_ratio,
           CAST(h.business_count AS DOUBLE) / h.total_count
               AS activity_claimed_business_hours_ratio,
           CASE WHEN h.total_count >= {MIN_ACTIVITY_FOR_OFFSET}
                THEN {circular_hours_between('h.sin_sum', 'h.cos_sum',
                                             f'sin({center})', f'cos({center})')}
           END AS activity_implied_offset_gap_hours,
           w.day_hours_mean AS activity_active_hours_per_day,
           w.week_hours_mean AS activity_active_hours_per_week,
           w.week_days_mean AS activity_active_days_per_week,
           h.hour_coverage AS activity_hour_coverage_count
    FROM hours AS h JOIN weekly AS w ON w.account_id = h.account_id
    """


@stage(needs=("accounts", "sessions"), after=(zone_offsets,), reads_reach=True)
def session_hours(ctx: StageContext) -> str:
    """Helper: ``session_claimed_hour_slots``, the sessions' claimed-local start hours with
    the claimed and the browser's UTC offsets and the IP's country, and how many of them
    ran a remote-desktop tool (one time-zone conversion per session)."""
    ctx.create(SESSION_SLOTS_TABLE, claimed_slots_sql(
        ctx, "sessions", "started_at",
        (f"{zo.offset_minutes_sql('x.started_at')} AS claimed_offset_min",
         "x.browser_utc_offset_min AS browser_utc_offset_min",
         "x.ip_country AS ip_country"), "session_count",
        sums=(f"{Dialect.flag(remote_tool_seen_sql('x'))} AS remote_session_count",)))
    return ""


def offset_gap_hours_sql(browser: str, claimed: str) -> str:
    """Hours (0..12) between two UTC offsets in minutes, around the clock: offsets run from
    -12:00 to +14:00, so two of them can be more than a day apart."""
    apart = f"(abs({browser} - {claimed}) % 1440)"
    return f"(least({apart}, 1440 - {apart}) / 60)"


SESSION_ZONE_FEATURES = (
    FeatureSpec("browser_offset_mismatch_session_ratio",
                "Share of sessions (browser offset known) whose offset is not the claimed zone's "
                "then.",
                reason="{value:.0%} of sessions had a browser clock offset that does not match "
                       "the claimed time zone {claimed_timezone}"),
    FeatureSpec("browser_offset_gap_mean_hours",
                "Mean hours (0..12, circular) between browser offset and the claimed zone's "
                "offset.",
                reason="the browser clock is on average {value:.1f} hours off the claimed time "
                       "zone {claimed_timezone}"),
    FeatureSpec("browser_offset_gap_distinct_count",
                "Distinct differences between browser offset and claimed offset (DST moves both).",
                reason="the browser clock was set {value:.0f} different ways relative to the "
                       "claimed time zone {claimed_timezone}", direction=0),
    FeatureSpec("ip_country_mismatch_session_ratio",
                "Share of sessions (IP country known) whose IP country is not the claimed "
                "country.",
                reason="{value:.0%} of sessions came from IP addresses outside the claimed "
                       "country {claimed_country}"),
)


@stage(needs=("accounts", "sessions"), after=(session_hours,),
       features=SESSION_ZONE_FEATURES, reads_reach=True)
def session_zone_mismatch(ctx: StageContext) -> str:
    """Per account: how often the browser clock and the IP disagree with the profile."""
    browser, claimed = "browser_utc_offset_min", "claimed_offset_min"
    known = f"CASE WHEN {browser} IS NULL THEN 0 ELSE session_count END"
    return f"""
    WITH clock AS (
        SELECT account_id, sum({known}) AS known_n,
               sum(CASE WHEN {browser} <> {claimed} THEN session_count ELSE 0 END)
                   AS mismatch_n,
               sum(CASE WHEN {browser} IS NULL THEN 0
                        ELSE session_count * {offset_gap_hours_sql(browser, claimed)} END)
                   AS gap_hours_sum,
               count(DISTINCT {browser} - {claimed}) AS gap_distinct_n
        FROM {SESSION_SLOTS_TABLE} GROUP BY account_id
    ),
    place AS (
        SELECT s.account_id,
               avg(CASE WHEN s.ip_country IS NULL THEN NULL
                        WHEN s.ip_country <> a.claimed_country THEN {_ONE} ELSE {_ZERO} END)
                   AS ip_mismatch_ratio
        FROM {ctx.reach_rows('sessions')} AS s
        JOIN {ctx.reach_rows('accounts')} AS a ON a.account_id = s.account_id
        GROUP BY s.account_id
    )
    SELECT p.account_id,
           CASE WHEN c.known_n > 0 THEN CAST(c.mismatch_n AS DOUBLE) / c.known_n END
               AS browser_offset_mismatch_session_ratio,
           CASE WHEN c.known_n > 0 THEN c.gap_hours_sum / c.known_n END
               AS browser_offset_gap_mean_hours,
           CASE WHEN c.known_n > 0 THEN c.gap_distinct_n END
               AS browser_offset_gap_distinct_count,
           p.ip_mismatch_ratio AS ip_country_mismatch_session_ratio
    FROM place AS p LEFT JOIN clock AS c ON c.account_id = p.account_id
    """
