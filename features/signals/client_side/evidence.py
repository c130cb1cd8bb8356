"""What a reviewer checks behind a client-side reason: the clients that pay the account and
how they are tied to it, the accounts sending its proposal text, the authors of its
reviews. Reads the kept helper tables of the same as-of when there are any."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

import duckdb

from accountrisk.scoring.evidence_tools import (
    MAX_LISTED_ACCOUNTS,
    helper,
    helpers_ready,
    more_note,
    rows,
    tables,
)
from accountrisk.scoring.models import Evidence, LinkedAccount

KEPT_TABLES = ("client_hire_flags", "proposal_account_pairs")
_FLAG_WORDS = (("is_linked", "linked to it"), ("is_overlap", "also hires its link group"),
               ("is_confirmed_client", "hired confirmed accounts"))


def _clients(con: duckdb.DuckDBPyConnection, as_of: datetime, ids: list[str]
             ) -> dict[str, tuple[list[LinkedAccount], list[str]]]:
    params = {"t": as_of, "ids": ids}
    if helpers_ready(con, as_of, "client_hire_flags"):
        found = rows(con, f"""
            SELECT freelancer_id, client_id, billed_cents, contract_count, is_linked,
                   is_overlap, is_confirmed_client
            FROM {helper('client_hire_flags')}
            WHERE freelancer_id IN (SELECT unnest($ids::VARCHAR[]))
            ORDER BY freelancer_id, billed_cents DESC, client_id""", {"ids": ids})
    else:
        found = rows(con, """
            SELECT freelancer_account_id AS freelancer_id, client_account_id AS client_id,
                   sum(CAST(round(coalesce(billed_usd, 0) * 100) AS BIGINT)) AS billed_cents,
                   count(*) AS contract_count, 0 AS is_linked, 0 AS is_overlap,
                   0 AS is_confirmed_client
            FROM contracts WHERE started_at < $t
              AND freelancer_account_id IN (SELECT unnest($ids::VARCHAR[]))
            GROUP BY ALL ORDER BY freelancer_id, billed_cents DESC, client_id""", params)
    by_account: dict[str, list[dict]] = defaultdict(list)
    for r in found:
        by_account[r["freelancer_id"]].append(r)
    out = {}
    for account, hires in by_account.items():
        total = sum(h["billed_cents"] for h in hires)
        listed, notes = [], []
        for h in hires[:MAX_LISTED_ACCOUNTS]:
            ties = [words for flag, words in _FLAG_WORDS if h[flag]]
            share = h["billed_cents"] / total if total else 0.0
            listed.append(LinkedAccount(
                account_id=h["client_id"], link_kind="client",
                shared=[f"{share:.0%} of billed, {h['contract_count']} contracts", *ties]))
        for flag, words in _FLAG_WORDS:
            tied = [h for h in hires if h[flag]]
            if tied and total:
                share = sum(h["billed_cents"] for h in tied) / total
                names = ", ".join(h["client_id"] for h in tied[:5])
                notes.append(f"{share:.0%} of its billed amount comes from {len(tied)} "
                             f"clients that {words.replace('it', 'this account')}: {names}")
        notes += more_note(len(hires) - len(listed), "clients")
        out[account] = (listed, notes)
    return out


def client_side_evidence(con: duckdb.DuckDBPyConnection, as_of: datetime, ids: list[str]
                         ) -> dict[str, Evidence]:
    """Clients, proposal-text twins and review authors of the accounts ``ids``."""
    present = tables(con)
    accounts: dict[str, list[LinkedAccount]] = defaultdict(list)
    notes: dict[str, list[str]] = defaultdict(list)
    if "contracts" in present:
        for account, (listed, said) in _clients(con, as_of, ids).items():
            accounts[account] += listed
            notes[account] += said
    if helpers_ready(con, as_of, "proposal_account_pairs"):
        for r in rows(con, f"""
                SELECT DISTINCT account_id, other_account_id
                FROM {helper('proposal_account_pairs')}
                WHERE account_id IN (SELECT unnest($ids::VARCHAR[]))
                  AND other_account_id <> account_id
                ORDER BY account_id, other_account_id""", {"ids": ids}):
            if sum(a.link_kind == "proposal_text" for a in accounts[r["account_id"]]) \
                    < MAX_LISTED_ACCOUNTS:
                accounts[r["account_id"]].append(LinkedAccount(
                    account_id=r["other_account_id"], link_kind="proposal_text",
                    shared=["near-duplicate cover text"]))
    if "reviews" in present:
        for r in rows(con, """
                SELECT subject_account_id AS account_id, author_account_id AS author,
                       count(*) AS review_count, avg(rating) AS mean_rating
                FROM reviews WHERE created_at < $t
                  AND subject_account_id IN (SELECT unnest($ids::VARCHAR[]))
                GROUP BY ALL ORDER BY account_id, review_count DESC, author""",
                {"t": as_of, "ids": ids}):
            if sum(a.link_kind == "review" for a in accounts[r["account_id"]]) \
                    < MAX_LISTED_ACCOUNTS:
                accounts[r["account_id"]].append(LinkedAccount(
                    account_id=r["author"], link_kind="review",
                    shared=[f"{r['review_count']} reviews, mean {r['mean_rating']:.1f} stars"]))
    return {a: Evidence(accounts=accounts.get(a, []), notes=notes.get(a, []))
            for a in set(accounts) | set(notes)}
