"""The evidence behind each reason: other accounts, shortened tokens, matched items, hours.

A reviewer reads "shares payout destinations with 6 other accounts" and asks *which ones*.
:func:`collect_evidence` answers for a few accounts at a time, point in time (only rows
dated before as-of, labels decided before it), from the loaded contract tables of a DuckDB
database. Evidence is chosen by the feature's *family* in the registry, so a new feature in
a family gets its family's evidence with no change here; another family registers its own
collector with :func:`register_collector`.

Cheap per account: small bound queries for payouts, sessions and activity. Portfolio
matches and link groups are global searches; they are read from the pipeline's own helper
tables when the features were built with :func:`build_features_for_evidence` on the same
connection, and otherwise recomputed around the requested accounts (portfolio) or reduced
to direct links (identity graph).

Thread safety: a DuckDB connection must not be shared between threads. Give each thread
its own ``engine.con.cursor()`` (contract tables are shared; the kept helper tables are
temporary tables of the connection that built them, so a cursor recomputes), or serialize
calls on one connection with a lock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

import duckdb

from accountrisk.features.registry import FEATURES
from accountrisk.scoring._evidence_common import (HELPER_TABLES, as_of_moment,
                                                  build_features_for_evidence, connection,
                                                  id_list, rows, shorten_token, tables)
from accountrisk.scoring._evidence_families import (access_evidence, hours_evidence,
                                                    payout_evidence, takeover_evidence)
from accountrisk.scoring._evidence_graph import identity_evidence
from accountrisk.scoring._evidence_portfolio import portfolio_evidence
from accountrisk.scoring.models import Evidence

__all__ = ["HELPER_TABLES", "build_features_for_evidence", "collect_evidence",
           "collect_timeline", "account_profile", "register_collector", "shorten_token",
           "without_evidence"]

Collector = Callable[..., dict[str, Evidence]]
_COLLECTORS: dict[str, Collector] = {
    "payout": payout_evidence,
    "access": access_evidence,
    "working_hours": hours_evidence,
    "portfolio": portfolio_evidence,
    "takeover": takeover_evidence,
    "identity_graph": identity_evidence,
}
# Features about the account alone, whose family's evidence (other accounts) says nothing
# about them: they get no evidence.
_WITHOUT_EVIDENCE = {"account_age_days"}
# Features about one kind of link show only that kind of the family's evidence (a reason
# "shows the same portfolio link as 1 other account" must not list the image matches).
# Values are link kinds (LinkedAccount.link_kind, SharedToken.kind, MatchedItem.match).
FOCUS: dict[str, frozenset[str]] = {
    "residential_ip_shared_account_count": frozenset({"ip"}),
    "device_shared_account_count": frozenset({"device"}),
    "portfolio_link_shared_account_count": frozenset({"portfolio_link", "link"}),
    "portfolio_image_near_duplicate_account_count": frozenset({"portfolio_image", "image"}),
    "portfolio_text_near_duplicate_account_count": frozenset({"portfolio_text", "text"}),
    "profile_photo_near_duplicate_account_count": frozenset({"profile_photo", "photo"}),
}
EMPTY = Evidence()
TIMELINE_TOKENS_PER_KIND = 12


def register_collector(family: str, collector: Collector) -> None:
    """Use ``collector(con, as_of, account_ids) -> {account_id: Evidence}`` for every
    feature of ``family`` (the registry's family name: the signal module's name)."""
    _COLLECTORS[family] = collector


def without_evidence(feature: str) -> None:
    """Give ``feature`` no evidence even though its family has some (it describes the
    account alone, like its age)."""
    _WITHOUT_EVIDENCE.add(feature)


def _families(features: Iterable[str]) -> dict[str, str]:
    from accountrisk.features import signals  # noqa: F401  (registers every family)

    return {f: FEATURES[f].family for f in features
            if f in FEATURES and f not in _WITHOUT_EVIDENCE}


def collect_evidence(engine: Any, as_of: str | datetime, account_ids: Iterable[str],
                     features: Sequence[str] | None = None
                     ) -> dict[str, dict[str, Evidence]]:
    """Evidence per account and feature: ``{account_id: {feature: Evidence}}``.

    ``engine`` is a ``DuckDBEngine`` (or a DuckDB connection or cursor) holding the loaded
    contract tables; any table but ``accounts`` may be missing (its evidence is then empty).
    ``features`` defaults to every registered feature; a feature outside the registry (an
    ``attr_*`` column) or with nothing to show gets an empty Evidence. Features of one
    family share one Evidence object.
    """
    from accountrisk.features import signals  # noqa: F401

    con = connection(engine)
    moment = as_of_moment(as_of)
    ids = id_list(account_ids)
    wanted = list(FEATURES) if features is None else list(features)
    family_of = _families(wanted)
    memo: dict[str, dict[str, Evidence]] = {}

    def family(name: str) -> dict[str, Evidence]:
        if name not in memo:
            collector = _COLLECTORS.get(name)
            if collector is None or not ids:
                memo[name] = {}
            elif collector is identity_evidence:
                memo[name] = identity_evidence(con, moment, ids, family=family)
            else:
                memo[name] = collector(con, moment, ids)
        return memo[name]

    out: dict[str, dict[str, Evidence]] = {a: {} for a in ids}
    for feature in wanted:
        found = family(family_of[feature]) if feature in family_of else {}
        for account in ids:
            evidence = found.get(account, EMPTY)
            if feature in FOCUS and evidence is not EMPTY:
                evidence = _narrowed(evidence, FOCUS[feature])
            out[account][feature] = evidence
    return out


def _narrowed(evidence: Evidence, kinds: frozenset[str]) -> Evidence:
    """Only the accounts, tokens and items of ``kinds`` (notes and counts stay)."""
    return evidence.model_copy(update={
        "accounts": [a for a in evidence.accounts if a.link_kind in kinds],
        "tokens": [t for t in evidence.tokens if t.kind in kinds],
        "items": [i for i in evidence.items if i.match in kinds]})


def account_profile(engine: Any, as_of: str | datetime, account_id: str) -> dict[str, Any]:
    """What the case report's header shows: the account row (display name included, for
    analysts' eyes only) and its latest decision before as-of, if any. Empty if unknown."""
    con = connection(engine)
    moment = as_of_moment(as_of)
    found = rows(con, """SELECT * EXCLUDE (profile_photo_phash),
                                profile_photo_phash IS NOT NULL AS has_profile_photo
                         FROM accounts WHERE account_id = $a""", {"a": account_id})
    if not found:
        return {}
    profile = found[0]
    if "labels" in tables(con):
        decided = rows(con, """SELECT label, decided_at, source FROM labels
                               WHERE account_id = $a AND decided_at < $t
                               ORDER BY decided_at DESC, label DESC LIMIT 1""",
                       {"a": account_id, "t": moment})
        profile["decision"] = decided[0] if decided else None
    return profile


def _token_rows(con: duckdb.DuckDBPyConnection, present: set[str], moment: datetime,
                account_id: str) -> list[dict[str, Any]]:
    params = {"a": account_id, "t": moment}
    parts = []
    if "sessions" in present:
        for kind, column in (("ip", "ip_token"), ("device", "device_token")):
            extra = ("coalesce(mode(ip_type), 'unknown type') || ' IP' "
                     "|| coalesce(' in ' || mode(ip_country), '')"
                     if kind == "ip" else "NULL")
            parts.append(f"""SELECT '{kind}' AS kind, {column} AS token,
                    min(started_at) AS first_seen, max(started_at) AS last_seen,
                    count(*) AS n, {extra} AS detail, CAST(NULL AS DOUBLE) AS amount
                FROM sessions WHERE account_id = $a AND started_at < $t
                  AND {column} IS NOT NULL GROUP BY {column}""")
    if "payout_methods" in present:
        paid = ("SELECT payout_token, min(paid_at) AS first_paid, max(paid_at) AS last_paid, "
                "count(*) AS n, sum(amount_usd) AS amount FROM payouts "
                "WHERE account_id = $a AND paid_at < $t GROUP BY payout_token"
                if "payouts" in present else
                "SELECT NULL AS payout_token, NULL AS first_paid, NULL AS last_paid, "
                "0 AS n, NULL AS amount WHERE 1 = 0")
        parts.append(f"""SELECT 'payout' AS kind, m.payout_token AS token,
                least(min(m.added_at), min(p.first_paid)) AS first_seen,
                greatest(max(m.added_at), max(p.last_paid)) AS last_seen,
                coalesce(max(p.n), 0) AS n,
                min(m.method) || coalesce(', destination ' || min(m.destination_country), '')
                    AS detail, max(p.amount) AS amount
            FROM payout_methods AS m LEFT JOIN ({paid}) AS p
              ON p.payout_token = m.payout_token
            WHERE m.account_id = $a AND m.added_at < $t GROUP BY m.payout_token""")
    if not parts:
        return []
    return rows(con, " UNION ALL ".join(parts) + " ORDER BY kind, first_seen, token", params)


def _shared_counts(con: duckdb.DuckDBPyConnection, present: set[str], moment: datetime,
                   account_id: str, tokens: dict[str, list[str]]) -> dict[tuple[str, str], int]:
    """Other accounts that used each token before as-of."""
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
            for r in rows(con, f"""SELECT token, count(DISTINCT account_id) - 1 AS others
                                   FROM ({sql}) AS u GROUP BY token""",
                          {"t": moment, "k": tokens[kind]}):
                out[(kind, r["token"])] = int(r["others"])
    return out


def collect_timeline(engine: Any, as_of: str | datetime, account_id: str) -> dict[str, Any]:
    """First and last use of each payout destination, device and IP of one account before
    as-of, for the case report's timeline.

    Returns ``{"account_id", "created_at", "as_of", "tracks": [...], "omitted": {kind: n},
    "hours": {"histogram": 24 ints, "claimed_timezone"} or None}``;
    each track is ``{"kind": "payout"|"device"|"ip", "token": shortened, "first_seen",
    "last_seen", "count", "detail", "amount_usd", "shared_with"}``. At most
    ``TIMELINE_TOKENS_PER_KIND`` tokens per kind (the most used) are kept.
    """
    con = connection(engine)
    moment = as_of_moment(as_of)
    present = tables(con)
    created = rows(con, "SELECT created_at FROM accounts WHERE account_id = $a",
                   {"a": account_id})
    found = _token_rows(con, present, moment, account_id)
    kept: list[dict[str, Any]] = []
    omitted: dict[str, int] = {}
    for kind in ("payout", "device", "ip"):
        mine = sorted((r for r in found if r["kind"] == kind),
                      key=lambda r: (-int(r["n"]), r["first_seen"]))
        kept += mine[:TIMELINE_TOKENS_PER_KIND]
        if len(mine) > TIMELINE_TOKENS_PER_KIND:
            omitted[kind] = len(mine) - TIMELINE_TOKENS_PER_KIND
    by_kind: dict[str, list[str]] = {}
    for r in kept:
        by_kind.setdefault(r["kind"], []).append(r["token"])
    shared = _shared_counts(con, present, moment, account_id, by_kind)
    prefix = {"payout": "pay", "device": "dev", "ip": "ip"}
    tracks = [{"kind": r["kind"], "token": shorten_token(r["token"], prefix[r["kind"]]),
               "first_seen": r["first_seen"], "last_seen": r["last_seen"],
               "count": int(r["n"]), "detail": r["detail"] or "",
               "amount_usd": r["amount"], "shared_with": shared.get((r["kind"], r["token"]), 0)}
              for r in sorted(kept, key=lambda r: (r["kind"], r["first_seen"]))]
    hours = hours_evidence(con, moment, [account_id]).get(account_id)
    return {"account_id": account_id, "created_at": created[0]["created_at"] if created else None,
            "as_of": moment, "tracks": tracks, "omitted": omitted,
            "hours": None if hours is None or hours.claimed_hour_histogram is None else
            {"histogram": hours.claimed_hour_histogram, "claimed_timezone": hours.claimed_timezone}}
