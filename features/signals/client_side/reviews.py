"""Rating rings: reviews an account receives from accounts tied to it, and fast praise.

A review is *linked* when its author is directly linked to its subject (the identity
graph's ``link_edges``) or in the same link group. *Fast praise*: five stars for a contract
that ran under a week. Freelancers reviewing their clients back is ordinary on every
marketplace, so reciprocity alone is not a signal here.
"""

from __future__ import annotations

from ...registry import FeatureSpec, StageContext, stage
from ..identity_graph import identity_links
from .contracts import RING_GROUPS

SHORT_CONTRACT_DAYS = 7
REVIEW_FEATURES = (
    FeatureSpec("review_linked_author_ratio",
                "Share of the reviews this account received before T whose author is linked "
                "to it (shared payout, IP, device, portfolio, relation or link group).",
                reason="{value:.0%} of the reviews it received come from accounts linked to "
                       "it", focus=("review",)),
    FeatureSpec("review_short_contract_five_star_ratio",
                f"Share of the reviews received that give five stars for a contract that ran "
                f"under {SHORT_CONTRACT_DAYS} days.",
                reason=f"{{value:.0%}} of its reviews are five stars for contracts shorter "
                       f"than {SHORT_CONTRACT_DAYS} days", focus=("review",)),
    FeatureSpec("review_received_count",
                "Reviews this account received before T.",
                reason="received {value:.0f} reviews", direction=0, fill=0,
                has_evidence=False),
)


@stage(needs=("accounts", "reviews"), after=(identity_links,), features=REVIEW_FEATURES)
def rating_rings(ctx: StageContext) -> str:
    """Per reviewed account: linked authors and fast five-star praise."""
    d = ctx.d
    groups = RING_GROUPS
    if ctx.has("contracts"):
        short = (f"r.rating >= 5 AND k.ended_at < {ctx.as_of_sql} AND "
                 f"{d.days_between('k.started_at', 'k.ended_at')} < {SHORT_CONTRACT_DAYS}")
        contracts = (f"LEFT JOIN {ctx.table('contracts')} AS k "
                     "ON k.contract_id = r.contract_id")
    else:
        short, contracts = "FALSE", ""
    return f"""
    WITH reviewed AS (
        SELECT r.review_id, r.subject_account_id AS account_id, r.author_account_id,
               {d.flag(short)} AS is_short_five_star
        FROM {ctx.table('reviews')} AS r {contracts}
        WHERE r.author_account_id <> r.subject_account_id
    ),
    linked AS (
        SELECT DISTINCT v.review_id FROM reviewed AS v
        JOIN link_edges AS e ON e.account_id = v.account_id
                            AND e.other_account_id = v.author_account_id
        UNION
        SELECT v.review_id FROM reviewed AS v
        JOIN {groups} AS gs ON gs.account_id = v.account_id
        JOIN {groups} AS ga ON ga.account_id = v.author_account_id AND ga.group_id = gs.group_id
    )
    SELECT v.account_id,
           avg(CASE WHEN l.review_id IS NOT NULL THEN {d.one} ELSE {d.zero} END)
               AS review_linked_author_ratio,
           avg(CASE WHEN v.is_short_five_star = 1 THEN {d.one} ELSE {d.zero} END)
               AS review_short_contract_five_star_ratio,
           count(*) AS review_received_count
    FROM reviewed AS v LEFT JOIN linked AS l ON l.review_id = v.review_id
    GROUP BY v.account_id
    """
