"""Where the browser clock says the worker is, against the profile *and* the connection.

A browser clock off the claimed zone is common among honest people: a nomad living in
Bangkok on a US profile keeps a Bangkok clock and connects from Thai addresses, a traveller
does the same for a week. The clock then fits the country of the IP address. An operator
behind a laptop farm, a US VPN exit or a residential proxy connects from the claimed
country while the machine keeps the operator's clock: the clock fits neither the profile
nor the connection, a third place the connection hides. Fraud teams read exactly this
mismatch (device time zone against IP geolocation); it tells a nomad from a front, which
the plain clock and IP-country shares cannot. A clock that fits a country the account
openly connects from on a fifth of its sessions or more is not hidden either: the nomad
who tunnels home through a VPN on some days keeps the clock of the place the other days
show, while an operator's own network leaks through on a few sessions, not on a fifth.

A country's clock offsets are every UTC offset any of its zones (tzdata's ``zone.tab``)
uses during the folder's time span, summer and winter alike: generous by design, so that
only a clock no zone of that country uses counts as "fits nowhere". An ``ip_country`` that
is not an ISO 3166 alpha-2 code in ``zone.tab`` (``"USA"``, ``"??"``) leaves the session
unknown, never a mismatch.
"""

from __future__ import annotations

from collections import defaultdict
from functools import lru_cache
from importlib import resources

import pyarrow as pa

from ... import zone_offsets as zo
from ...dialect import Dialect
from ...registry import FeatureSpec, StageContext, stage
from .hours import SESSION_SLOTS_TABLE, session_hours

COUNTRY_OFFSETS_TABLE = "country_clock_offsets"
# A country holding this share of an account's sessions is a place it openly shows.
SHOWN_COUNTRY_SESSION_SHARE = 0.2

_ONE = Dialect.double("1")  # not 1.0: see Dialect.double


@lru_cache(maxsize=1)
def country_zones() -> dict[str, tuple[str, ...]]:
    """ISO 3166 alpha-2 country code -> its IANA zones, from tzdata's ``zone.tab``."""
    zones: dict[str, list[str]] = defaultdict(list)
    path = resources.files("tzdata").joinpath("zoneinfo", "zone.tab")
    with path.open(encoding="utf-8") as rows:
        for row in rows:
            if row.startswith("#") or not row.strip():
                continue
            code, _, zone = row.rstrip("\n").split("\t")[:3]
            zones[code].append(zone)
    return {code: tuple(names) for code, names in zones.items()}


def country_clock_offsets(countries: list[str], first_day: int, last_day: int) -> pa.Table:
    """Rows (country, offset_minutes): every UTC offset that a zone of each known country
    in ``countries`` uses on UTC days ``first_day..last_day``."""
    known = country_zones()
    rows: set[tuple[str, int]] = set()
    for country in sorted({c for c in countries if c in known}):
        for zone in known[country]:
            rows.update((country, int(m)) for m in zo.offsets_in_use(zone, first_day, last_day))
    ordered = sorted(rows)
    return pa.table({"country": pa.array([r[0] for r in ordered], pa.string()),
                     "offset_minutes": pa.array([r[1] for r in ordered], pa.int64())})


CLOCK_PLACE_FEATURES = (
    FeatureSpec("browser_clock_fits_nowhere_session_ratio",
                "Share of sessions (browser offset and a known IP country) whose browser offset "
                "is neither the claimed zone's then, nor any zone's of the IP's country, nor "
                "of a country a fifth or more of the account's sessions come from.",
                reason="{value:.0%} of sessions had a browser clock that fits neither the "
                       "claimed time zone {claimed_timezone}, nor the country of the IP "
                       "address, nor a country it often connects from: the computer's clock "
                       "is somewhere its connections do not show"),
    FeatureSpec("abroad_clock_fits_ip_session_ratio",
                "Share of sessions (browser offset and a known IP country) from outside the "
                "claimed country whose browser offset fits the IP's country: honest trips.",
                reason="{value:.0%} of sessions came from abroad with a browser clock that fits "
                       "the country of the IP address, as a traveller's or a nomad's do",
                direction=-1),
)


@stage(needs=("accounts", "sessions"), after=(session_hours,), features=CLOCK_PLACE_FEATURES)
def session_clock_place(ctx: StageContext) -> str:
    """Per account: how often the browser clock fits the connection's country, and how
    often it fits neither that country, nor one the account often shows, nor the profile."""
    spans = [(ctx.whole_table("sessions"), "started_at")]
    days = ctx.arrow(zo.day_range_sql(ctx.d, spans)).to_pylist()[0]
    countries = [] if days["first_day"] is None else [
        c for c in ctx.arrow(f"SELECT DISTINCT ip_country AS country "
                             f"FROM {ctx.whole_table('sessions')}").column("country").to_pylist()
        if c is not None]
    first, last = days["first_day"] or 0, days["last_day"] or -1
    ctx.create_from_arrow(COUNTRY_OFFSETS_TABLE,
                          country_clock_offsets(countries, first, last))
    browser = "s.browser_utc_offset_min"
    # An account's values read its own sessions only: a pass wanting a few accounts
    # judges theirs alone.
    slots = ctx.own_rows(SESSION_SLOTS_TABLE)
    return f"""
    WITH country_share AS (
        SELECT account_id, ip_country,
               {_ONE} * sum(session_count)
                   / sum(sum(session_count)) OVER (PARTITION BY account_id) AS session_share
        FROM {slots} WHERE ip_country IS NOT NULL
        GROUP BY account_id, ip_country
    ),
    shown_offsets AS (
        SELECT DISTINCT c.account_id, f.offset_minutes
        FROM country_share AS c
        JOIN {COUNTRY_OFFSETS_TABLE} AS f ON f.country = c.ip_country
        WHERE c.session_share >= {SHOWN_COUNTRY_SESSION_SHARE}
    ),
    judged AS (
        SELECT s.account_id, s.session_count,
               CASE WHEN {browser} = s.claimed_offset_min THEN 1 ELSE 0 END AS at_claimed,
               CASE WHEN s.ip_country = a.claimed_country THEN 1 ELSE 0 END AS at_home,
               CASE WHEN f.country IS NULL THEN 0 ELSE 1 END AS fits_ip,
               CASE WHEN o.account_id IS NULL THEN 0 ELSE 1 END AS fits_shown
        FROM {slots} AS s
        JOIN {ctx.own_rows('accounts')} AS a ON a.account_id = s.account_id
        LEFT JOIN {COUNTRY_OFFSETS_TABLE} AS f
            ON f.country = s.ip_country AND f.offset_minutes = {browser}
        LEFT JOIN shown_offsets AS o
            ON o.account_id = s.account_id AND o.offset_minutes = {browser}
        WHERE {browser} IS NOT NULL
          AND s.ip_country IN (SELECT DISTINCT country FROM {COUNTRY_OFFSETS_TABLE})
    )
    SELECT account_id,
           {_ONE} * sum(CASE WHEN at_claimed = 0 AND fits_ip = 0 AND fits_shown = 0
                             THEN session_count ELSE 0 END)
               / sum(session_count) AS browser_clock_fits_nowhere_session_ratio,
           {_ONE} * sum(CASE WHEN at_home = 0 AND fits_ip = 1 THEN session_count ELSE 0 END)
               / sum(session_count) AS abroad_clock_fits_ip_session_ratio
    FROM judged GROUP BY account_id
    """
