"""Evidence behind access reasons: the accounts sharing a home IP or a device with this
one, the shortened tokens, and the remote-desktop tools and IP types of its sessions.

The rules are the stage's own (:mod:`.links`: hub sizes, linking IP types, the overlap
window), so the evidence names exactly the accounts the features counted.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

import duckdb

from accountrisk.features.dialect import DUCKDB, Dialect
from accountrisk.scoring.evidence_tools import (
    confirmed_before,
    listed_accounts,
    more_note,
    plural,
    rows,
    shorten_token,
    tables,
)
from accountrisk.scoring.models import Evidence, SharedToken

from ..base import remote_tool_seen_sql
from .links import HUB_ACCOUNTS, HUB_IP_TYPES, IP_OVERLAP_DAYS, LINKING_IP_TYPES

_IDS = "account_id IN (SELECT unnest($ids::VARCHAR[]))"


def _any(condition: str) -> str:
    """1 if ``condition`` held on any row of the group, else 0."""
    return f"max({Dialect.flag(condition)})"


def access_evidence(con: duckdb.DuckDBPyConnection, as_of: datetime, ids: list[str]
                    ) -> dict[str, Evidence]:
    """Accounts sharing non-hub IPs (within the overlap window) or devices with this one,
    the shortened tokens, the remote-desktop tools and IP types seen."""
    if "sessions" not in tables(con):
        return {}
    params = {"t": as_of, "ids": ids}
    day = DUCKDB.day_number("started_at")
    # The accounts' own tokens first; then one pass over the sessions using them.
    own = rows(con, f"""SELECT DISTINCT ip_token, device_token FROM sessions
                        WHERE started_at < $t AND {_IDS}""", params)
    params["ips"] = sorted({r["ip_token"] for r in own if r["ip_token"]})
    params["devices"] = sorted({r["device_token"] for r in own if r["device_token"]})
    ips = rows(con, f"""
        WITH per_account AS (
            SELECT ip_token, account_id, count(*) AS session_n,
                   {_any(f"ip_type IN {HUB_IP_TYPES}")} AS hub_type,
                   {_any(f"ip_type IS NOT NULL AND ip_type NOT IN {LINKING_IP_TYPES}")}
                       AS nonlinking_type,
                   min({day}) AS first_day, max({day}) AS last_day
            FROM sessions
            WHERE started_at < $t AND ip_token IN (SELECT unnest($ips::VARCHAR[]))
            GROUP BY ip_token, account_id
        ),
        per_token AS (
            SELECT ip_token, count(*) AS account_n, max(hub_type) AS hub_type,
                   max(nonlinking_type) AS nonlinking_type
            FROM per_account GROUP BY ip_token
        )
        SELECT a.*, t.account_n, t.hub_type AS token_hub, t.nonlinking_type AS token_nonlinking
        FROM per_account AS a JOIN per_token AS t ON t.ip_token = a.ip_token
        WHERE t.account_n <= {HUB_ACCOUNTS} OR a.{_IDS}""", params)
    devices = rows(con, f"""
        SELECT device_token, account_id FROM (
            SELECT device_token, account_id,
                   count(*) OVER (PARTITION BY device_token) AS account_n
            FROM (SELECT DISTINCT device_token, account_id FROM sessions
                  WHERE started_at < $t
                    AND device_token IN (SELECT unnest($devices::VARCHAR[]))) AS pairs
        ) AS counted WHERE account_n <= {HUB_ACCOUNTS}""", params)
    mix = rows(con, f"""
        SELECT account_id, 'tool' AS what, remote_access_tool AS name, count(*) AS n
        FROM sessions WHERE started_at < $t AND {_IDS}
          AND {remote_tool_seen_sql()}
        GROUP BY account_id, remote_access_tool
        UNION ALL
        SELECT account_id, 'ip_type', coalesce(ip_type, 'unknown'), count(*)
        FROM sessions WHERE started_at < $t AND {_IDS} GROUP BY account_id, ip_type""", params)
    by_token: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in ips:
        by_token[r["ip_token"]].append(r)
    device_users: dict[str, set[str]] = defaultdict(set)
    for r in devices:
        device_users[r["device_token"]].add(r["account_id"])
    others_all = {r["account_id"] for r in ips} | {r["account_id"] for r in devices}
    confirmed = confirmed_before(con, as_of, sorted(others_all))
    out = {}
    for account in ids:
        ip_others: dict[str, set[str]] = defaultdict(set)
        dev_others: dict[str, set[str]] = defaultdict(set)
        shared: list[SharedToken] = []
        hub_tokens = 0
        for token, users in by_token.items():
            mine = next((u for u in users if u["account_id"] == account), None)
            if mine is None:
                continue
            linking = (1 < mine["account_n"] <= HUB_ACCOUNTS
                       and not mine["token_hub"] and not mine["token_nonlinking"])
            if not linking:
                hub_tokens += mine["account_n"] > 1
                continue
            short = shorten_token(token, "ip")
            near = {u["account_id"] for u in users if u["account_id"] != account
                    and u["first_day"] <= mine["last_day"] + IP_OVERLAP_DAYS
                    and mine["first_day"] <= u["last_day"] + IP_OVERLAP_DAYS}
            for other in near:
                ip_others[other].add(short)
            if near:
                shared.append(SharedToken(
                    token=short, kind="ip", account_count=len(near),
                    confirmed_count=len(near & confirmed),
                    detail=f"{plural(int(mine['session_n']), 'session')} of this account"))
        for token, device_accounts in device_users.items():
            if account not in device_accounts or not 1 < len(device_accounts) <= HUB_ACCOUNTS:
                continue
            short = shorten_token(token, "dev")
            near_device = device_accounts - {account}
            for other in near_device:
                dev_others[other].add(short)
            shared.append(SharedToken(token=short, kind="device",
                                      account_count=len(near_device),
                                      confirmed_count=len(near_device & confirmed)))
        ip_listed, ip_left = listed_accounts(ip_others, "ip", confirmed)
        dev_listed, dev_left = listed_accounts(dev_others, "device", confirmed)
        counts = {f"{r['what']}: {r['name']}": int(r["n"])
                  for r in sorted(mix, key=lambda r: (r["what"], -r["n"], str(r["name"])))
                  if r["account_id"] == account}
        tools = sorted((k.removeprefix("tool: "), n) for k, n in counts.items()
                       if k.startswith("tool: "))
        notes = more_note(ip_left + dev_left, "accounts sharing IPs or devices")
        if tools:
            notes.append("remote-desktop tools seen: "
                         + ", ".join(f"{name} ({plural(n, 'session')})" for name, n in tools))
        if hub_tokens:
            notes.append(f"{hub_tokens} shared IP addresses are VPN exits, data centres, "
                         "offices or crowded addresses and are not counted as links")
        if counts or shared:
            shared.sort(key=lambda s: (s.kind, -s.account_count, s.token))
            out[account] = Evidence(accounts=ip_listed + dev_listed, tokens=shared,
                                    counts=counts, notes=notes)
    return out
