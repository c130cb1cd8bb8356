"""What a case report shows besides the reasons, for many accounts in one pass: the account
row with its latest decision, and the timeline of its payout destinations, devices and IPs.

One query per table for the whole queue (accounts listed in a bound parameter), not one per
account: a review queue of thousands of accounts reads each large table a few times.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

import duckdb

from accountrisk.scoring.evidence_tools import rows, shorten_token, tables

TIMELINE_TOKENS_PER_KIND = 12
_IDS = "account_id IN (SELECT unnest($ids::VARCHAR[]))"
_PREFIX = {"payout": "pay", "device": "dev", "ip": "ip"}


def profiles(con: duckdb.DuckDBPyConnection, moment: datetime, ids: list[str]
             ) -> dict[str, dict[str, Any]]:
    """Each known account's row (without the photo hash) and its latest decision."""
    found = {r["account_id"]: r for r in rows(con, f"""
        SELECT * EXCLUDE (profile_photo_phash),
               profile_photo_phash IS NOT NULL AS has_profile_photo
        FROM accounts WHERE {_IDS}""", {"ids": ids})}
    if "labels" in tables(con):
        for r in rows(con, f"""
                SELECT account_id, label, decided_at, source FROM labels
                WHERE {_IDS} AND decided_at < $t
                QUALIFY row_number() OVER (PARTITION BY account_id
                                           ORDER BY decided_at DESC, label DESC) = 1""",
                      {"ids": ids, "t": moment}):
            account = r.pop("account_id")
            found[account]["decision"] = r
        for profile in found.values():
            profile.setdefault("decision", None)
    return found


def _token_rows(con: duckdb.DuckDBPyConnection, present: set[str], moment: datetime,
                ids: list[str]) -> list[dict[str, Any]]:
    parts = []
    if "sessions" in present:
        for kind, column in (("ip", "ip_token"), ("device", "device_token")):
            extra = ("coalesce(mode(ip_type), 'unknown type') || ' IP' "
                     "|| coalesce(' in ' || mode(ip_country), '')"
                     if kind == "ip" else "NULL")
            parts.append(f"""SELECT account_id, '{kind}' AS kind, {column} AS token,
                    min(started_at) AS first_seen, max(started_at) AS last_seen,
                    count(*) AS n, {extra} AS detail, CAST(NULL AS DOUBLE) AS amount
                FROM sessions WHERE {_IDS} AND started_at < $t
                  AND {column} IS NOT NULL GROUP BY account_id, {column}""")
    if "payout_methods" in present:
        paid = (f"SELECT account_id, payout_token, min(paid_at) AS first_paid, "
                f"max(paid_at) AS last_paid, count(*) AS n, sum(amount_usd) AS amount "
                f"FROM payouts WHERE {_IDS} AND paid_at < $t GROUP BY account_id, payout_token"
                if "payouts" in present else
                "SELECT NULL AS account_id, NULL AS payout_token, NULL AS first_paid, "
                "NULL AS last_paid, 0 AS n, NULL AS amount WHERE 1 = 0")
        parts.append(f"""SELECT m.account_id, 'payout' AS kind, m.payout_token AS token,
                least(min(m.added_at), min(p.first_paid)) AS first_seen,
                greatest(max(m.added_at), max(p.last_paid)) AS last_seen,
                coalesce(max(p.n), 0) AS n,
                min(m.method) || coalesce(', destination ' || min(m.destination_country), '')
                    AS detail, max(p.amount) AS amount
            FROM payout_methods AS m LEFT JOIN ({paid}) AS p
              ON p.account_id = m.account_id AND p.payout_token = m.payout_token
            WHERE m.{_IDS} AND m.added_at < $t GROUP BY m.account_id, m.payout_token""")
    if not parts:
        return []
    return rows(con, " UNION ALL ".join(parts) + " ORDER BY account_id, kind, first_seen, token",
                {"ids": ids, "t": moment})


def _shared_counts(con: duckdb.DuckDBPyConnection, present: set[str], moment: datetime,
                   tokens: dict[str, set[str]]) -> dict[tuple[str, str], int]:
    """Accounts that used each token before as-of (all of them, the account included)."""
    queries = []
    if "sessions" in present:
        queries += [("ip", "SELECT ip_token AS token, account_id FROM sessions "
                           "WHERE started_at < $t AND ip_token IN (SELECT unnest($k))"),
                    ("device", "SELECT device_token AS token, account_id FROM sessions "
                               "WHERE started_at < $t AND device_token IN (SELECT unnest($k))")]
    if "payout_methods" in present:
        queries.append(("payout", "SELECT payout_token AS token, account_id FROM payout_methods "
                                  "WHERE added_at < $t AND payout_token IN (SELECT unnest($k))"))
    out = {}
    for kind, sql in queries:
        if tokens.get(kind):
            for r in rows(con, f"""SELECT token, count(DISTINCT account_id) AS users
                                   FROM ({sql}) AS u GROUP BY token""",
                          {"t": moment, "k": sorted(tokens[kind])}):
                out[(kind, r["token"])] = int(r["users"])
    return out


def timelines(con: duckdb.DuckDBPyConnection, moment: datetime, ids: list[str]
              ) -> dict[str, dict[str, Any]]:
    """Each account's timeline (see :func:`accountrisk.scoring.evidence.collect_timeline`)."""
    # The working-hours family's own evidence; imported here so that importing the scoring
    # layer never has to import every signal family first.
    from accountrisk.features.signals.working_hours.evidence import hours_evidence

    present = tables(con)
    created = {r["account_id"]: r["created_at"] for r in rows(
        con, f"SELECT account_id, created_at FROM accounts WHERE {_IDS}", {"ids": ids})}
    by_account: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in _token_rows(con, present, moment, ids):
        by_account[r["account_id"]].append(r)
    kept: dict[str, list[dict[str, Any]]] = {}
    omitted: dict[str, dict[str, int]] = {}
    tokens: dict[str, set[str]] = defaultdict(set)
    for account in ids:
        kept[account], omitted[account] = [], {}
        for kind in ("payout", "device", "ip"):
            mine = sorted((r for r in by_account.get(account, []) if r["kind"] == kind),
                          key=lambda r: (-int(r["n"]), r["first_seen"]))
            kept[account] += mine[:TIMELINE_TOKENS_PER_KIND]
            if len(mine) > TIMELINE_TOKENS_PER_KIND:
                omitted[account][kind] = len(mine) - TIMELINE_TOKENS_PER_KIND
            tokens[kind].update(r["token"] for r in mine[:TIMELINE_TOKENS_PER_KIND])
    users = _shared_counts(con, present, moment, tokens)
    hours = hours_evidence(con, moment, ids)
    out = {}
    for account in ids:
        tracks = [{"kind": r["kind"], "token": shorten_token(r["token"], _PREFIX[r["kind"]]),
                   "first_seen": r["first_seen"], "last_seen": r["last_seen"],
                   "count": int(r["n"]), "detail": r["detail"] or "", "amount_usd": r["amount"],
                   "shared_with": max(users.get((r["kind"], r["token"]), 1) - 1, 0)}
                  for r in sorted(kept[account], key=lambda r: (r["kind"], r["first_seen"]))]
        found = hours.get(account)
        out[account] = {
            "account_id": account, "created_at": created.get(account), "as_of": moment,
            "tracks": tracks, "omitted": omitted[account],
            "hours": None if found is None or found.claimed_hour_histogram is None else
            {"histogram": found.claimed_hour_histogram,
             "claimed_timezone": found.claimed_timezone}}
    return out
