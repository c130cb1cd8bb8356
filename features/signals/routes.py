"""How an account's sessions reach the marketplace: rotating addresses, tunnels, slips.

An operator abroad reaches the marketplace through something that looks local: a rented
residential proxy that hands out a new address every few weeks, a VPN or a data-center
server, a facilitator's line. Now and then the tunnel is down and a session comes from
somewhere else entirely. Honest people have one home line and a phone, a VPN user one or
two exits, a traveller a trip abroad. These signals read the per-(IP, account) table
``access_ip_accounts`` that :mod:`.access` made, and the sessions' IP countries.
"""

from __future__ import annotations

from ..dialect import Dialect
from ..registry import StageContext, feature, stage

MIN_SESSIONS = 5  # below this a share of distinct addresses is mostly 1


@stage(needs=("accounts", "sessions"), after=("access_links",))
def session_routes(ctx: StageContext) -> str:
    """Per account: address rotation, tunnelled sessions and sessions from a third country."""
    sessions, accounts = ctx.table("sessions"), ctx.table("accounts")
    return f"""
    WITH addresses AS (
        SELECT account_id, count(*) AS ip_n, sum(session_n) AS session_n,
               sum(anonymizer_n + hosting_n) AS routed_n, sum(typed_n) AS typed_n
        FROM access_ip_accounts GROUP BY account_id
    ),
    countries AS (
        SELECT account_id, ip_country, count(*) AS country_n,
               row_number() OVER (PARTITION BY account_id
                                  ORDER BY count(*) DESC, ip_country) AS country_rank
        FROM {sessions} WHERE ip_country IS NOT NULL
        GROUP BY account_id, ip_country
    ),
    slips AS (
        SELECT c.account_id, sum(c.country_n) AS known_n,
               sum(CASE WHEN c.country_rank > 1 AND c.ip_country <> a.claimed_country
                        THEN c.country_n ELSE 0 END) AS slip_n,
               max(CASE WHEN c.country_rank = 1 AND c.ip_country <> a.claimed_country
                        THEN 1 ELSE 0 END) AS top_abroad
        FROM countries AS c JOIN {accounts} AS a ON a.account_id = c.account_id
        GROUP BY c.account_id
    )
    SELECT d.account_id,
           CASE WHEN d.session_n >= {MIN_SESSIONS}
                THEN CAST(d.ip_n AS DOUBLE) / d.session_n END AS ip_per_session,
           CASE WHEN d.typed_n > 0 THEN CAST(d.routed_n AS DOUBLE) / d.typed_n END
               AS routed_ratio,
           CASE WHEN s.known_n > 0 THEN CAST(s.slip_n AS DOUBLE) / s.known_n END AS slip_ratio,
           s.top_abroad
    FROM addresses AS d LEFT JOIN slips AS s ON s.account_id = d.account_id
    """


@feature(session_routes, family="access", direction=0,
         reason="used {value:.0%} as many different IP addresses as it had sessions")
def ip_address_per_session_ratio(d: Dialect) -> str:
    """Distinct IP addresses over sessions (rotating proxies near 1; NULL under 5 sessions)."""
    return "ip_per_session"


@feature(session_routes, family="access",
         reason="{value:.0%} of sessions came through a VPN, proxy, Tor or data-center address")
def routed_session_ratio(d: Dialect) -> str:
    """Share of sessions (IP type known) from VPN, proxy, Tor or hosting addresses."""
    return "routed_ratio"


@feature(session_routes, family="access",
         reason="{value:.0%} of sessions came from a country that is neither the claimed "
                "country {claimed_country} nor where it usually logs in from")
def ip_country_slip_session_ratio(d: Dialect) -> str:
    """Share of sessions (IP country known) from a country other than the claimed one and
    the account's most common session country."""
    return "slip_ratio"


@feature(session_routes, family="access", direction=0,
         reason="usually logs in from a country other than the claimed country "
                "{claimed_country}")
def is_usual_ip_country_abroad(d: Dialect) -> str:
    """1 when the account's most common session IP country is not the claimed country."""
    return "top_abroad"
