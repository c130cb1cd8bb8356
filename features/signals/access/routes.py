"""How an account's sessions reach the marketplace: tunnels and a home abroad.

An operator abroad reaches the marketplace through something that looks local: a VPN or
proxy of its own, a rented data-center server, a facilitator's line or a residential proxy
in the claimed country. An honest VPN user tunnels too, and a digital nomad really lives
abroad; so the tunnelled share is one graded signal among others, and where an account
*usually* logs in from is told apart from the odd trip, and how often the login country
changes from one session to the next is counted. These signals read the per-(IP, account)
table ``access_ip_accounts`` that :mod:`.links` made, and the sessions' IP countries.
"""

from __future__ import annotations

from ...dialect import Dialect
from ...registry import FeatureSpec, StageContext, stage
from .links import IP_ACCOUNTS_TABLE, access_links

ROUTE_FEATURES = (
    FeatureSpec("routed_session_ratio",
                "Share of sessions (IP type known) from VPN, proxy, Tor or hosting addresses.",
                reason="{value:.0%} of sessions came through a VPN, proxy, Tor or data-center "
                       "address"),
    FeatureSpec("is_usual_ip_country_abroad",
                "1 when the account's most common session IP country (ties: first code) is not "
                "the claimed country; NULL when no session country is known.",
                reason="usually logs in from a country other than the claimed country "
                       "{claimed_country}", direction=0),
    FeatureSpec("ip_country_distinct_count",
                "Distinct countries the session IP addresses were located in.",
                reason="logged in from {value:.0f} different IP countries", fill=0),
    FeatureSpec("ip_country_change_per_30d_ratio",
                "IP-country changes between consecutive sessions per 30 days (spans under 30 "
                "days count as 30).",
                reason="the IP country changed {value:.1f} times per 30 days between sessions"),
)


@stage(needs=("accounts", "sessions"), after=(access_links,), features=ROUTE_FEATURES)
def session_routes(ctx: StageContext) -> str:
    """Per account: the tunnelled share of sessions, whether it usually logs in from
    abroad, and how often its login country changes."""
    # Each value reads the account's own rows: a pass wanting a few accounts reads theirs.
    sessions, accounts = ctx.own_rows("sessions"), ctx.own_rows("accounts")
    previous_country = ("lag(ip_country) OVER (PARTITION BY account_id "
                        "ORDER BY started_at, ip_country)")
    return f"""
    WITH tunnels AS (
        SELECT account_id, sum(anonymizer_n + hosting_n) AS routed_n, sum(typed_n) AS typed_n
        FROM {ctx.own_rows(IP_ACCOUNTS_TABLE)} GROUP BY account_id
    ),
    countries AS (
        SELECT account_id, ip_country,
               row_number() OVER (PARTITION BY account_id
                                  ORDER BY count(*) DESC, ip_country) AS country_rank
        FROM {sessions} WHERE ip_country IS NOT NULL
        GROUP BY account_id, ip_country
    ),
    usual AS (
        SELECT c.account_id,
               CASE WHEN c.ip_country <> a.claimed_country THEN 1 ELSE 0 END AS usual_abroad
        FROM countries AS c JOIN {accounts} AS a ON a.account_id = c.account_id
        WHERE c.country_rank = 1
    ),
    ordered AS (
        SELECT account_id, started_at, ip_country, {previous_country} AS previous_country
        FROM {sessions} WHERE ip_country IS NOT NULL
    ),
    churn AS (
        SELECT account_id, count(DISTINCT ip_country) AS country_n,
               sum({Dialect.flag("ip_country <> previous_country")}) AS change_n,
               {ctx.d.days_between("min(started_at)", "max(started_at)")} AS span_days
        FROM ordered GROUP BY account_id
    )
    SELECT t.account_id,
           CASE WHEN t.typed_n > 0 THEN CAST(t.routed_n AS DOUBLE) / t.typed_n END
               AS routed_session_ratio,
           u.usual_abroad AS is_usual_ip_country_abroad,
           coalesce(ch.country_n, 0) AS ip_country_distinct_count,
           CASE WHEN ch.account_id IS NOT NULL
                THEN CAST(ch.change_n AS DOUBLE) * 30
                     / CASE WHEN ch.span_days > 30 THEN CAST(ch.span_days AS DOUBLE) ELSE 30 END
           END AS ip_country_change_per_30d_ratio
    FROM tunnels AS t
    LEFT JOIN usual AS u ON u.account_id = t.account_id
    LEFT JOIN churn AS ch ON ch.account_id = t.account_id
    """
