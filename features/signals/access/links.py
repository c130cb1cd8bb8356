"""Laptop-farm and facilitator traces in login sessions.

A facilitator's laptop farm hosts many fronted accounts behind a few residential IPs and
devices, driven through remote-desktop tools, with VPN or proxy exits on the side. The
legitimate look-alikes are discounted: a household shares one home IP among a few accounts
(the counts stay small), a coworking space shares a business IP (business IPs never link),
and a VPN exit or public kiosk is shared by crowds of unrelated accounts (a *hub*: more than
``HUB_ACCOUNTS`` accounts, or an anonymizer/hosting IP type, never links accounts).

Besides its features, the stage materializes ``access_account_pairs(account_id,
other_account_id, link_kind)`` (``link_kind`` 'ip' or 'device', both directions, distinct,
non-hub links only) for the identity-link graph.
"""

from __future__ import annotations

from ...dialect import Dialect
from ...registry import FeatureSpec, StageContext, stage
from ..base import confirmed_accounts, remote_tool_seen_sql

# A token used by more accounts than this (before T) is a hub (VPN exit, carrier NAT, kiosk).
HUB_ACCOUNTS = 20
# Two accounts share a dynamic residential IP only if they used it within this many days of
# each other; ISPs reassign addresses, and months apart it is another household.
IP_OVERLAP_DAYS = 30
HUB_IP_TYPES = "('vpn', 'proxy', 'tor', 'hosting')"
ANONYMIZER_IP_TYPES = "('vpn', 'proxy', 'tor')"
# Only these IP types (or an unknown type) link accounts; business IPs are offices and
# coworking spaces, where unrelated people share an address by design.
LINKING_IP_TYPES = "('residential', 'mobile', 'unknown')"
IP_ACCOUNTS_TABLE = "access_ip_accounts"  # helper: one row per (IP, account) with its mix


ACCESS_FEATURES = (
    FeatureSpec("residential_ip_shared_account_count",
                "Other accounts on one of its home, mobile or unknown-type IPs within 30 days "
                "(no hubs).",
                reason="shares a home or mobile IP address with {value:.0f} other accounts",
                fill=0, focus=("ip",)),
    FeatureSpec("device_shared_account_count",
                "Other accounts seen on the same device fingerprint (devices used by crowds "
                "excluded).",
                reason="shares a device with {value:.0f} other accounts",
                fill=0, focus=("device",)),
    FeatureSpec("shared_access_confirmed_account_count",
                "Accounts confirmed fraudulent before T sharing a non-hub IP or a device with "
                "this one.",
                reason="shares an IP address or device with {value:.0f} accounts already "
                       "confirmed fraudulent", fill=0),
    FeatureSpec("remote_access_session_ratio",
                "Share of sessions in which a remote-desktop or KVM tool was detected.",
                reason="{value:.0%} of sessions ran through a remote-desktop tool"),
    FeatureSpec("anonymizer_session_ratio",
                "Share of sessions (with a known IP type) from VPN, proxy or Tor addresses.",
                reason="{value:.0%} of sessions came through a VPN, proxy or Tor"),
    FeatureSpec("hosting_session_ratio",
                "Share of sessions (with a known IP type) from hosting (data-center) addresses.",
                reason="{value:.0%} of sessions came from data-center addresses"),
    FeatureSpec("hub_ip_session_ratio",
                "Share of sessions on hub IPs (used by crowds of accounts, or "
                "VPN/proxy/hosting/Tor).",
                reason="{value:.0%} of sessions came from addresses shared by many accounts",
                direction=0),
    FeatureSpec("session_count",
                "Login sessions before T.",
                reason="had {value:.0f} sessions", direction=0, fill=0),
)


@stage(needs=("accounts", "sessions"), after=(confirmed_accounts,), features=ACCESS_FEATURES)
def access_links(ctx: StageContext) -> str:
    """Per-account session mix plus the non-hub IP and device links between accounts."""
    d = ctx.d
    sessions = ctx.table("sessions")
    day = d.day_number("started_at")
    # One row per (IP, account): everything later reads this instead of the raw sessions.
    ip_accounts = ctx.create(IP_ACCOUNTS_TABLE, f"""
        WITH per_account AS (
            SELECT ip_token, account_id, count(*) AS session_n,
                   sum({Dialect.flag(remote_tool_seen_sql())}) AS remote_n,
                   sum({Dialect.flag(f"ip_type IN {ANONYMIZER_IP_TYPES}")}) AS anonymizer_n,
                   sum({Dialect.flag("ip_type = 'hosting'")}) AS hosting_n,
                   sum({Dialect.flag("ip_type IS NOT NULL")}) AS typed_n,
                   max({Dialect.flag(f"ip_type IN {HUB_IP_TYPES}")}) AS hub_type,
                   max({Dialect.flag(f"ip_type IS NOT NULL AND ip_type NOT IN {LINKING_IP_TYPES}")})
                       AS nonlinking_type,
                   min({day}) AS first_day, max({day}) AS last_day
            FROM {sessions}
            GROUP BY ip_token, account_id
        ),
        per_token AS (
            SELECT ip_token, count(*) AS account_n, max(hub_type) AS hub_type,
                   max(nonlinking_type) AS nonlinking_type
            FROM per_account GROUP BY ip_token
        )
        SELECT a.ip_token, a.account_id, a.session_n, a.remote_n, a.anonymizer_n,
               a.hosting_n, a.typed_n, a.first_day, a.last_day,
               {Dialect.flag(f"t.account_n > {HUB_ACCOUNTS} OR t.hub_type = 1")} AS is_hub,
               {Dialect.flag(f"t.account_n > 1 AND t.account_n <= {HUB_ACCOUNTS} "
                      "AND t.hub_type = 0 AND t.nonlinking_type = 0")} AS is_linking
        FROM per_account AS a JOIN per_token AS t ON t.ip_token = a.ip_token""")
    device_accounts = f"""
        SELECT device_token, account_id FROM (
            SELECT device_token, account_id,
                   count(*) OVER (PARTITION BY device_token) AS account_n
            FROM (SELECT DISTINCT device_token, account_id FROM {sessions}
                  WHERE device_token IS NOT NULL) AS pairs
        ) AS counted
        WHERE account_n > 1 AND account_n <= {HUB_ACCOUNTS}"""
    pairs = ctx.create("access_account_pairs", f"""
        WITH linking_ip AS (
            SELECT ip_token, account_id, first_day, last_day
            FROM {ip_accounts} WHERE is_linking = 1
        ),
        shared_device AS ({device_accounts})
        SELECT DISTINCT u.account_id, o.account_id AS other_account_id, 'ip' AS link_kind
        FROM linking_ip AS u JOIN linking_ip AS o
          ON o.ip_token = u.ip_token AND o.account_id <> u.account_id
        WHERE o.first_day <= u.last_day + {IP_OVERLAP_DAYS}
          AND u.first_day <= o.last_day + {IP_OVERLAP_DAYS}
        UNION
        SELECT DISTINCT u.account_id, o.account_id AS other_account_id, 'device' AS link_kind
        FROM shared_device AS u JOIN shared_device AS o
          ON o.device_token = u.device_token AND o.account_id <> u.account_id""")
    return f"""
    WITH mix AS (
        SELECT account_id, sum(session_n) AS session_n, sum(remote_n) AS remote_n,
               sum(anonymizer_n) AS anonymizer_n, sum(hosting_n) AS hosting_n,
               sum(typed_n) AS typed_n,
               sum(CASE WHEN is_hub = 1 THEN session_n ELSE 0 END) AS hub_session_n
        FROM {ip_accounts} GROUP BY account_id
    ),
    links AS (
        SELECT p.account_id,
               count(DISTINCT CASE WHEN p.link_kind = 'ip' THEN p.other_account_id END)
                   AS ip_shared_n,
               count(DISTINCT CASE WHEN p.link_kind = 'device' THEN p.other_account_id END)
                   AS device_shared_n,
               count(DISTINCT c.account_id) AS confirmed_shared_n
        FROM {pairs} AS p
        LEFT JOIN confirmed_accounts AS c ON c.account_id = p.other_account_id
        GROUP BY p.account_id
    )
    SELECT m.account_id,
           coalesce(l.ip_shared_n, 0) AS residential_ip_shared_account_count,
           coalesce(l.device_shared_n, 0) AS device_shared_account_count,
           coalesce(l.confirmed_shared_n, 0) AS shared_access_confirmed_account_count,
           {Dialect.ratio("m.remote_n", "m.session_n")} AS remote_access_session_ratio,
           {Dialect.ratio("m.anonymizer_n", "m.typed_n")} AS anonymizer_session_ratio,
           {Dialect.ratio("m.hosting_n", "m.typed_n")} AS hosting_session_ratio,
           {Dialect.ratio("m.hub_session_n", "m.session_n")} AS hub_ip_session_ratio,
           m.session_n AS session_count
    FROM mix AS m
    LEFT JOIN links AS l ON l.account_id = m.account_id
    """
