"""Shared payout destinations: the money trail that links fronted identities.

The whole family in one module: the stage's SQL (``payout_links``), the features it emits
(``PAYOUT_FEATURES``), the evidence behind their reasons (``payout_evidence``: which other
accounts use the same destinations) and ``FAMILY``, which ties them together.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

import duckdb

from accountrisk.scoring.evidence_tools import (
    confirmed_sql,
    listed_accounts,
    more_note,
    rows,
    shorten_token,
    tables,
)
from accountrisk.scoring.models import Evidence, SharedToken

from ..dialect import Dialect
from ..registry import Family, FeatureSpec, StageContext, stage
from .base import confirmed_accounts

RECENT_DAYS = 90
# Destinations shared by more accounts are not paired out account by account (that is
# quadratic); their user count stands in as a lower bound of the distinct others.
PAIRED_TOKEN_MAX_ACCOUNTS = 200
_ONE = Dialect.double("1")  # not 1.0: see Dialect.double
_ZERO = Dialect.double("0")
# Evidence lists the first users of a destination this widely shared; its counts stay exact.
LISTED_USERS_PER_TOKEN = 200
_IDS = "account_id IN (SELECT unnest($ids::VARCHAR[]))"


def payout_usage_sql(ctx: StageContext) -> str:
    """(account_id, payout_token), distinct: destinations on file or paid to before T."""
    used = f"SELECT DISTINCT account_id, payout_token FROM {ctx.table('payout_methods')}"
    if ctx.has("payouts"):
        used += f" UNION SELECT DISTINCT account_id, payout_token FROM {ctx.table('payouts')}"
    return used


PAYOUT_FEATURES = (
    FeatureSpec("payout_shared_account_count",
                "Other accounts that use any of this account's payout destinations.",
                reason="shares payout destinations with {value:.0f} other accounts", fill=0),
    FeatureSpec("payout_shared_confirmed_account_count",
                "Accounts confirmed fraudulent before T that share a payout destination with "
                "this one.",
                reason="shares payout destinations with {value:.0f} accounts already confirmed "
                       "fraudulent", fill=0),
    FeatureSpec("payout_method_count",
                "Distinct payout destinations this account has added.",
                reason="has {value:.0f} payout destinations on file", fill=0),
    FeatureSpec("payout_method_added_90d_count",
                "Payout destinations added in the 90 days before T (method churn).",
                reason=f"added {{value:.0f}} payout destinations in the {RECENT_DAYS} days before",
                fill=0),
    FeatureSpec("payout_crypto_method_ratio",
                "Share of this account's payout destinations that are crypto wallets.",
                reason="{value:.0%} of payout destinations are crypto wallets"),
    FeatureSpec("payout_destination_mismatch_ratio",
                "Share of payout destinations (with a known country) outside the claimed country.",
                reason="{value:.0%} of payout destinations are in a country other than the "
                       "claimed {claimed_country}"),
)


@stage(needs=("accounts", "payout_methods"), after=(confirmed_accounts,), features=PAYOUT_FEATURES)
def payout_links(ctx: StageContext) -> str:
    """Per account: how many others share its payout destinations, and how it is paid."""
    d = ctx.d
    used = payout_usage_sql(ctx)
    recent = f"{d.days_between('m.added_at', ctx.as_of_sql)} <= {RECENT_DAYS}"
    return f"""
    WITH used AS ({used}),
    token_size AS (
        SELECT payout_token, count(*) AS account_count FROM used GROUP BY payout_token
    ),
    sharers AS (
        SELECT DISTINCT u.account_id, o.account_id AS other_id
        FROM used AS u
        JOIN token_size AS z ON z.payout_token = u.payout_token
            AND z.account_count BETWEEN 2 AND {PAIRED_TOKEN_MAX_ACCOUNTS}
        JOIN used AS o ON o.payout_token = u.payout_token AND o.account_id <> u.account_id
    ),
    paired AS (
        SELECT s.account_id, count(*) AS other_count,
               count(c.account_id) AS other_confirmed_count
        FROM sharers AS s LEFT JOIN confirmed_accounts AS c ON c.account_id = s.other_id
        GROUP BY s.account_id
    ),
    big AS (  -- tokens too widely shared to pair out: count their users, not pairs
        SELECT u.account_id,
               max(z.account_count) - 1 AS other_count,
               max(z.confirmed_count
                   - CASE WHEN c.account_id IS NULL THEN 0 ELSE 1 END) AS other_confirmed_count
        FROM used AS u
        JOIN (SELECT t.payout_token, t.account_count, count(c2.account_id) AS confirmed_count
              FROM token_size AS t JOIN used AS u2 ON u2.payout_token = t.payout_token
              LEFT JOIN confirmed_accounts AS c2 ON c2.account_id = u2.account_id
              WHERE t.account_count > {PAIRED_TOKEN_MAX_ACCOUNTS}
              GROUP BY t.payout_token, t.account_count) AS z
          ON z.payout_token = u.payout_token
        LEFT JOIN confirmed_accounts AS c ON c.account_id = u.account_id
        GROUP BY u.account_id
    ),
    shared AS (
        SELECT coalesce(p.account_id, b.account_id) AS account_id,
               greatest(coalesce(p.other_count, 0), coalesce(b.other_count, 0)) AS other_count,
               greatest(coalesce(p.other_confirmed_count, 0),
                        coalesce(b.other_confirmed_count, 0)) AS other_confirmed_count
        FROM paired AS p FULL OUTER JOIN big AS b ON b.account_id = p.account_id
    ),
    methods AS (
        SELECT m.account_id,
               count(DISTINCT m.payout_token) AS method_count,
               avg(CASE WHEN m.method = 'crypto' THEN {_ONE} ELSE {_ZERO} END) AS crypto_ratio,
               avg(CASE WHEN m.destination_country IS NULL THEN NULL
                        WHEN m.destination_country <> a.claimed_country THEN {_ONE}
                        ELSE {_ZERO} END) AS destination_mismatch_ratio,
               sum(CASE WHEN {recent} THEN 1 ELSE 0 END) AS recent_added_count
        FROM {ctx.table('payout_methods')} AS m
        JOIN {ctx.table('accounts')} AS a ON a.account_id = m.account_id
        GROUP BY m.account_id
    )
    SELECT coalesce(m.account_id, s.account_id) AS account_id,
           s.other_count AS payout_shared_account_count,
           s.other_confirmed_count AS payout_shared_confirmed_account_count,
           m.method_count AS payout_method_count,
           m.recent_added_count AS payout_method_added_90d_count,
           m.crypto_ratio AS payout_crypto_method_ratio,
           m.destination_mismatch_ratio AS payout_destination_mismatch_ratio
    FROM methods AS m FULL OUTER JOIN shared AS s ON s.account_id = m.account_id
    """


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
            if user_n - 1 > PAIRED_TOKEN_MAX_ACCOUNTS:
                detail = ", ".join(x for x in (detail, "a widely shared destination") if x)
            shared.append(SharedToken(token=short, kind="payout", account_count=user_n - 1,
                                      confirmed_count=confirmed_n - own_confirmed,
                                      detail=detail))
        listed, left_out = listed_accounts(others, "payout", confirmed)
        shared.sort(key=lambda s: (-s.account_count, s.token))
        out[account] = Evidence(accounts=listed, tokens=shared,
                                notes=more_note(left_out, "accounts sharing payout "
                                                           "destinations"))
    return out


FAMILY = Family("payout", stages=(payout_links,), evidence=payout_evidence)
