"""Evidence behind working-hour reasons: the claimed-zone hour histogram of the work
actions, the claimed zone, the browser clock offsets and IP countries of the sessions, and
how many remote-desktop sessions started at the claimed night.

The histogram is the one the features read (``activity_claimed_hour_histogram``, kept by
``build_features_for_evidence``), or is recomputed with the features' own time-zone offsets.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import duckdb

from accountrisk.features import zone_offsets
from accountrisk.features.dialect import DUCKDB
from accountrisk.features.reference import iana_zone_names
from accountrisk.scoring.evidence_tools import helper, helpers_ready, rows, tables
from accountrisk.scoring.models import Evidence

from ..base import remote_tool_seen_sql
from .hours import HISTOGRAM_TABLE, NIGHT_END_HOUR

_IDS = "account_id IN (SELECT unnest($ids::VARCHAR[]))"


def _offset_text(minutes: int) -> str:
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _claimed_hour_counts(con: duckdb.DuckDBPyConnection, params: dict[str, Any],
                         of: str = "activity", ts: str = "ts", only: str = "TRUE"
                         ) -> list[dict[str, Any]]:
    """(account_id, local_hour, activity_count) of the accounts' rows of ``of`` (time
    ``ts``, condition ``only`` on row ``x``) before T: by default their work actions, with
    the feature's own offsets (Python's tz database, as ``activity_hours``)."""
    d, table, bases = DUCKDB, "_evidence_zone_day_offsets", "_evidence_zone_bases"
    span = rows(con, f"""SELECT {d.utc_day(f'min(x.{ts})')} AS first_day,
        {d.utc_day(f'max(x.{ts})')} AS last_day, list(DISTINCT a.claimed_timezone) AS zones
        FROM {of} AS x JOIN accounts AS a ON a.account_id = x.account_id
        WHERE x.{ts} < $t AND x.{_IDS} AND {only}""", params)[0]
    if span["first_day"] is None:
        return []
    zones = [z for z in span["zones"] if z in iana_zone_names()]
    con.register(table, zone_offsets.zone_day_offsets(zones, span["first_day"],
                                                      span["last_day"]))
    con.register(bases, zone_offsets.zone_bases(zones))
    try:
        local = zone_offsets.local_epoch_seconds_sql(d, f"x.{ts}")
        return rows(con, f"""
            SELECT account_id, local_hour, count(*) AS activity_count
            FROM (SELECT x.account_id, CAST(floor({local} / 3600) AS BIGINT) % 24 AS local_hour
                  FROM {of} AS x
                  JOIN {zone_offsets.with_zone_base_sql('accounts', bases=bases)} AS a
                    ON a.account_id = x.account_id
                  {zone_offsets.join_sql(d, 'a.zone_base', f'x.{ts}', table)}
                  WHERE x.{ts} < $t AND x.{_IDS} AND {only}) AS converted
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
    if helpers_ready(con, as_of, HISTOGRAM_TABLE):
        found = rows(con, f"""SELECT account_id, local_hour, activity_count
            FROM {helper(HISTOGRAM_TABLE)} WHERE {_IDS}""", params)
    elif "activity" in present:
        found = _claimed_hour_counts(con, params)
    else:
        found = []
    for r in found:
        histograms.setdefault(r["account_id"], [0] * 24)[int(r["local_hour"])] += int(
            r["activity_count"])
    sessions, remote_hours = [], []
    if "sessions" in present:
        remote_hours = _claimed_hour_counts(con, params, "sessions", "started_at",
                                            f"({remote_tool_seen_sql('x')})")
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
        remote = [r for r in remote_hours if r["account_id"] == account]
        if histogram is None and not counts and not remote:
            continue
        notes = []
        if histogram:
            total = sum(histogram)
            night = sum(histogram[:NIGHT_END_HOUR])
            notes.append(f"{total} work actions; {night / total:.0%} between 00:00 and "
                         f"{NIGHT_END_HOUR:02d}:00 "
                         f"in the claimed time zone {zone}")
        if remote:
            total = sum(int(r["activity_count"]) for r in remote)
            night = sum(int(r["activity_count"]) for r in remote
                        if int(r["local_hour"]) < NIGHT_END_HOUR)
            notes.append(f"{total} sessions through a remote-desktop tool; {night} of them "
                         f"started between 00:00 and {NIGHT_END_HOUR:02d}:00 in the claimed "
                         f"time zone {zone}")
        out[account] = Evidence(claimed_hour_histogram=histogram, claimed_timezone=zone,
                                counts=counts, notes=notes)
    return out
