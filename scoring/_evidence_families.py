"""Evidence behind payout, access, working-hour and takeover reasons, account by account.

Each collector takes a DuckDB connection, the as-of time (naive UTC) and account ids, and
returns ``{account_id: Evidence}`` for the accounts it has something to say about. The
rules (hub sizes, overlap windows, business hours) are the signal families' own constants,
so evidence names exactly the accounts the features counted.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, timedelta
from typing import Any

import duckdb

from accountrisk.features import zone_offsets
from accountrisk.features.dialect import DUCKDB
from accountrisk.features.reference import iana_zone_names
from accountrisk.features.signals import access, payout, takeover, working_hours
from accountrisk.scoring._evidence_common import (MAX_LISTED_ACCOUNTS, confirmed_before,
                                                  confirmed_sql,
                                                  helper, helpers_ready, plural, rows,
                                                  shorten_token, tables)
from accountrisk.scoring.models import Evidence, LinkedAccount, SharedToken

_IDS = "account_id IN (SELECT unnest($ids::VARCHAR[]))"
LISTED_USERS_PER_TOKEN = 200


def _linked(others: dict[str, set[str]], kind: str, confirmed: set[str]
            ) -> tuple[list[LinkedAccount], int]:
    """LinkedAccounts (confirmed ones first, then by id), at most MAX_LISTED_ACCOUNTS, and
    how many were left out."""
    order = sorted(others, key=lambda a: (a not in confirmed, a))
    shown = [LinkedAccount(account_id=a, shared=sorted(others[a]), link_kind=kind,
                           is_confirmed_fraud=a in confirmed)
             for a in order[:MAX_LISTED_ACCOUNTS]]
    return shown, max(0, len(order) - MAX_LISTED_ACCOUNTS)


def _more_note(left_out: int, what: str) -> list[str]:
    return [f"{left_out} more {what} not listed"] if left_out else []


# -- payout ----------------------------------------------------------------------------------
def payout_evidence(con: duckdb.DuckDBPyConnection, as_of: datetime, ids: list[str]
                    ) -> dict[str, Evidence]:
    """Other accounts using this account's payout destinations (methods on file or payouts)."""
    present = tables(con)
    if "payout_methods" not in present:
        return {}
    sources = [("payout_methods", "added_at")] + (
        [("payouts", "paid_at")] if "payouts" in present else [])
    # The account's own destinations first, then only their users: no pass over all pairs.
    own = " UNION ".join(f"SELECT account_id, payout_token FROM {t} WHERE {c} < $t AND {_IDS}"
                         for t, c in sources)
    used = " UNION ".join(
        f"SELECT account_id, payout_token FROM {t} WHERE {c} < $t "
        f"AND payout_token IN (SELECT payout_token FROM own)" for t, c in sources)
    params = {"t": as_of, "ids": ids}
    # A destination used by crowds lists its first users only; its counts stay exact.
    found = rows(con, f"""
        WITH own AS ({own}),
        used AS ({used}),
        confirmed AS ({confirmed_sql(present)}),
        users AS (
            SELECT u.payout_token, u.account_id AS other_id,
                   CASE WHEN c.account_id IS NULL THEN 0 ELSE 1 END AS is_confirmed,
                   count(*) OVER (PARTITION BY u.payout_token) AS user_n,
                   sum(CASE WHEN c.account_id IS NULL THEN 0 ELSE 1 END)
                       OVER (PARTITION BY u.payout_token) AS confirmed_n,
                   row_number() OVER (PARTITION BY u.payout_token
                                      ORDER BY c.account_id IS NULL, u.account_id) AS pick
            FROM used AS u LEFT JOIN confirmed AS c ON c.account_id = u.account_id
        )
        SELECT o.account_id, o.payout_token, s.other_id, s.is_confirmed, s.user_n,
               s.confirmed_n
        FROM own AS o JOIN users AS s ON s.payout_token = o.payout_token
        WHERE s.pick <= {LISTED_USERS_PER_TOKEN} OR s.other_id = o.account_id
        ORDER BY o.account_id, o.payout_token, s.other_id""", params)
    methods = rows(con, f"""
        SELECT account_id, payout_token, method, destination_country FROM payout_methods
        WHERE added_at < $t AND {_IDS}""", params)
    users: dict[str, set[str]] = defaultdict(set)
    own_tokens: dict[str, set[str]] = defaultdict(set)
    sizes: dict[str, tuple[int, int]] = {}
    confirmed: set[str] = set()
    for r in found:
        users[r["payout_token"]].add(r["other_id"])
        own_tokens[r["account_id"]].add(r["payout_token"])
        sizes[r["payout_token"]] = (int(r["user_n"]), int(r["confirmed_n"]))
        if r["is_confirmed"]:
            confirmed.add(r["other_id"])
    described = {(m["account_id"], m["payout_token"]):
                 ", ".join(x for x in (m["method"], m["destination_country"]
                                       and f"destination {m['destination_country']}") if x)
                 for m in methods}
    out = {}
    for account, tokens in own_tokens.items():
        others: dict[str, set[str]] = defaultdict(set)
        shared = []
        for token in sorted(tokens):
            short = shorten_token(token, "pay")
            other_users = users[token] - {account}
            for other in other_users:
                others[other].add(short)
            user_n, confirmed_n = sizes[token]
            own_confirmed = 1 if account in confirmed else 0
            detail = described.get((account, token), "")
            if user_n - 1 > payout.PAIRED_TOKEN_MAX_ACCOUNTS:
                detail = ", ".join(x for x in (detail, "a widely shared destination") if x)
            shared.append(SharedToken(token=short, kind="payout", account_count=user_n - 1,
                                      confirmed_count=confirmed_n - own_confirmed,
                                      detail=detail))
        listed, left_out = _linked(others, "payout", confirmed)
        shared.sort(key=lambda s: (-s.account_count, s.token))
        out[account] = Evidence(accounts=listed, tokens=shared,
                                notes=_more_note(left_out, "accounts sharing payout "
                                                           "destinations"))
    return out


# -- access ----------------------------------------------------------------------------------
def _flag(condition: str) -> str:
    return f"max(CASE WHEN {condition} THEN 1 ELSE 0 END)"


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
                   {_flag(f"ip_type IN {access.HUB_IP_TYPES}")} AS hub_type,
                   {_flag(f"ip_type IS NOT NULL AND ip_type NOT IN {access.LINKING_IP_TYPES}")}
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
        WHERE t.account_n <= {access.HUB_ACCOUNTS} OR a.{_IDS}""", params)
    devices = rows(con, f"""
        SELECT device_token, account_id FROM (
            SELECT device_token, account_id,
                   count(*) OVER (PARTITION BY device_token) AS account_n
            FROM (SELECT DISTINCT device_token, account_id FROM sessions
                  WHERE started_at < $t
                    AND device_token IN (SELECT unnest($devices::VARCHAR[]))) AS pairs
        ) AS counted WHERE account_n <= {access.HUB_ACCOUNTS}""", params)
    mix = rows(con, f"""
        SELECT account_id, 'tool' AS what, remote_access_tool AS name, count(*) AS n
        FROM sessions WHERE started_at < $t AND {_IDS}
          AND remote_access_tool IS NOT NULL AND remote_access_tool <> ''
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
            linking = (1 < mine["account_n"] <= access.HUB_ACCOUNTS
                       and not mine["token_hub"] and not mine["token_nonlinking"])
            if not linking:
                hub_tokens += mine["account_n"] > 1
                continue
            short = shorten_token(token, "ip")
            near = {u["account_id"] for u in users if u["account_id"] != account
                    and u["first_day"] <= mine["last_day"] + access.IP_OVERLAP_DAYS
                    and mine["first_day"] <= u["last_day"] + access.IP_OVERLAP_DAYS}
            for other in near:
                ip_others[other].add(short)
            if near:
                shared.append(SharedToken(
                    token=short, kind="ip", account_count=len(near),
                    confirmed_count=len(near & confirmed),
                    detail=f"{plural(int(mine['session_n']), 'session')} of this account"))
        for token, users in device_users.items():
            if account not in users or not 1 < len(users) <= access.HUB_ACCOUNTS:
                continue
            short = shorten_token(token, "dev")
            near = users - {account}
            for other in near:
                dev_others[other].add(short)
            shared.append(SharedToken(token=short, kind="device", account_count=len(near),
                                      confirmed_count=len(near & confirmed)))
        ip_listed, ip_left = _linked(ip_others, "ip", confirmed)
        dev_listed, dev_left = _linked(dev_others, "device", confirmed)
        counts = {f"{r['what']}: {r['name']}": int(r["n"])
                  for r in sorted(mix, key=lambda r: (r["what"], -r["n"], str(r["name"])))
                  if r["account_id"] == account}
        tools = sorted((k.removeprefix("tool: "), n) for k, n in counts.items()
                       if k.startswith("tool: "))
        notes = _more_note(ip_left + dev_left, "accounts sharing IPs or devices")
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


# -- working hours ---------------------------------------------------------------------------
def _offset_text(minutes: int) -> str:
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _claimed_hour_counts(con: duckdb.DuckDBPyConnection, params: dict[str, Any]
                         ) -> list[dict[str, Any]]:
    """(account_id, local_hour, activity_count) of the accounts' work actions before T,
    with the feature's own offsets (Python's tz database, as ``activity_hours``)."""
    d, table, bases = DUCKDB, "_evidence_zone_day_offsets", "_evidence_zone_bases"
    span = rows(con, f"""SELECT {d.utc_day('min(x.ts)')} AS first_day,
        {d.utc_day('max(x.ts)')} AS last_day, list(DISTINCT a.claimed_timezone) AS zones
        FROM activity AS x JOIN accounts AS a ON a.account_id = x.account_id
        WHERE x.ts < $t AND x.{_IDS}""", params)[0]
    if span["first_day"] is None:
        return []
    zones = [z for z in span["zones"] if z in iana_zone_names()]
    con.register(table, zone_offsets.zone_day_offsets(zones, span["first_day"],
                                                      span["last_day"]))
    con.register(bases, zone_offsets.zone_bases(zones))
    try:
        local = zone_offsets.local_epoch_seconds_sql(d, "x.ts")
        return rows(con, f"""
            SELECT account_id, local_hour, count(*) AS activity_count
            FROM (SELECT x.account_id, CAST(floor({local} / 3600) AS BIGINT) % 24 AS local_hour
                  FROM activity AS x
                  JOIN {zone_offsets.with_zone_base_sql('accounts', bases=bases)} AS a
                    ON a.account_id = x.account_id
                  {zone_offsets.join_sql(d, 'a.zone_base', 'x.ts', table)}
                  WHERE x.ts < $t AND x.{_IDS}) AS converted
            GROUP BY account_id, local_hour""", params)
    finally:
        con.unregister(table)
        con.unregister(bases)


def hours_evidence(con: duckdb.DuckDBPyConnection, as_of: datetime, ids: list[str]
                   ) -> dict[str, Evidence]:
    """The claimed-zone hour histogram of work actions, the claimed zone, and the browser
    clock offsets and IP countries seen in sessions."""
    present = tables(con)
    params = {"t": as_of, "ids": ids}
    zones = {r["account_id"]: r for r in rows(con, f"""
        SELECT account_id, claimed_timezone, claimed_country FROM accounts
        WHERE created_at < $t AND {_IDS}""", params)}
    histograms: dict[str, list[int]] = {}
    if helpers_ready(con, as_of, working_hours.HISTOGRAM_TABLE):
        found = rows(con, f"""SELECT account_id, local_hour, activity_count
            FROM {helper(working_hours.HISTOGRAM_TABLE)} WHERE {_IDS}""", params)
    elif "activity" in present:
        found = _claimed_hour_counts(con, params)
    else:
        found = []
    for r in found:
        histograms.setdefault(r["account_id"], [0] * 24)[int(r["local_hour"])] += int(
            r["activity_count"])
    sessions = []
    if "sessions" in present:
        sessions = rows(con, f"""
            SELECT account_id, 'browser clock ' AS what, browser_utc_offset_min AS v,
                   count(*) AS n
            FROM sessions WHERE started_at < $t AND {_IDS}
              AND browser_utc_offset_min IS NOT NULL
            GROUP BY account_id, browser_utc_offset_min
            UNION ALL
            SELECT account_id, 'IP country ', ip_country, count(*) FROM sessions
            WHERE started_at < $t AND {_IDS} AND ip_country IS NOT NULL
            GROUP BY account_id, ip_country""", params)
    out = {}
    for account in ids:
        counts = {}
        for r in sorted((r for r in sessions if r["account_id"] == account),
                        key=lambda r: (r["what"], -r["n"], str(r["v"]))):
            value = _offset_text(int(r["v"])) if r["what"].startswith("browser") else r["v"]
            counts[f"{r['what']}{value}"] = int(r["n"])
        histogram = histograms.get(account)
        zone = zones.get(account, {}).get("claimed_timezone")
        if histogram is None and not counts:
            continue
        notes = []
        if histogram:
            total = sum(histogram)
            night = sum(histogram[:working_hours.NIGHT_END_HOUR])
            notes.append(f"{total} work actions; {night / total:.0%} between 00:00 and "
                         f"{working_hours.NIGHT_END_HOUR:02d}:00 "
                         f"in the claimed time zone {zone}")
        out[account] = Evidence(claimed_hour_histogram=histogram, claimed_timezone=zone,
                                counts=counts, notes=notes)
    return out


# -- takeover --------------------------------------------------------------------------------
def takeover_evidence(con: duckdb.DuckDBPyConnection, as_of: datetime, ids: list[str]
                      ) -> dict[str, Evidence]:
    """Devices first used and payout destinations first added in the last window."""
    present = tables(con)
    window = as_of - timedelta(days=takeover.WINDOW_DAYS)
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
        notes = [f"{plural(kinds[k], 'new ' + noun[k])} in the last {takeover.WINDOW_DAYS} "
                 f"days beside {older[k]} older" for k in sorted(kinds)]
        out[account] = Evidence(tokens=tokens, notes=notes)
    return out
