"""Self-dealing and client concentration: who pays a freelancer, and how they are tied to it.

A contract is *self-dealing* when its client and its freelancer are directly linked
(shared payout destination, IP, device, portfolio or a marketplace relation: the identity
graph's ``link_edges``) or sit in the same link group. Amounts are summed in whole cents
(integers), so the ratios are exact and the same on every engine and thread count.

Contracts are as of T (started before T, both accounts existing); ``billed_usd`` is the
total billed up to the export, so a contract counts with its whole amount (the contract
says so).
"""

from __future__ import annotations

from ...registry import FeatureSpec, StageContext, stage
from ..base import confirmed_accounts
from ..identity_graph import GIANT_GROUP_ACCOUNTS, identity_links

CONTRACT_FEATURES = (
    FeatureSpec("client_self_dealing_billed_ratio",
                "Share of the billed amount (contract count where none is billed) that comes "
                "from clients linked to this account (shared payout, IP, device, portfolio, "
                "relation or link group).",
                reason="{value:.0%} of its billed amount comes from clients linked to it "
                       "(shared payout destinations, IPs, devices or relations)",
                focus=("client",)),
    FeatureSpec("client_self_dealing_client_count",
                "Distinct clients linked to this account that hired it before T.",
                reason="was hired by {value:.0f} clients linked to it", fill=0,
                focus=("client",)),
    FeatureSpec("client_group_overlap_billed_ratio",
                "Share of the billed amount from clients that also hired other members of "
                "this account's link group.",
                reason="{value:.0%} of its billed amount comes from clients that also hire "
                       "other accounts of its link group", focus=("client",)),
    FeatureSpec("client_confirmed_hire_billed_ratio",
                "Share of the billed amount from clients that hired accounts confirmed "
                "fraudulent before T.",
                reason="{value:.0%} of its billed amount comes from clients that also hired "
                       "accounts already confirmed fraudulent", focus=("client",)),
    FeatureSpec("client_linked_hires_max_ratio",
                "Over this account's clients, the largest share of a client's hires that are "
                "linked to another of its hires (a client hiring one ring).",
                reason="one of its clients hires mostly linked accounts: {value:.0%} of that "
                       "client's hires are linked to each other", focus=("client",)),
)


# Link-group membership without chained giant groups (households and co-workers adding up):
# sharing such a group says nothing about a client or a reviewer.
RING_GROUPS = f"""(SELECT m.account_id, m.group_id FROM link_group_membership AS m
                 JOIN (SELECT group_id FROM link_group_membership GROUP BY group_id
                       HAVING count(*) <= {GIANT_GROUP_ACCOUNTS}) AS g
                   ON g.group_id = m.group_id)"""


def _hires_sql(ctx: StageContext) -> str:
    """(client, freelancer, billed_cents, contract_count) per pair, as of T."""
    return f"""
    SELECT client_account_id AS client_id, freelancer_account_id AS freelancer_id,
           sum(CAST(round(coalesce(billed_usd, 0) * 100) AS BIGINT)) AS billed_cents,
           count(*) AS contract_count
    FROM {ctx.table('contracts')}
    WHERE client_account_id <> freelancer_account_id
    GROUP BY client_account_id, freelancer_account_id"""


@stage(needs=("accounts", "contracts"), after=(confirmed_accounts, identity_links),
       features=CONTRACT_FEATURES)
def client_contracts(ctx: StageContext) -> str:
    """Per freelancer: how much of its pay comes from clients tied to it or to its group."""
    d = ctx.d
    hires = ctx.create("client_hires", _hires_sql(ctx))
    groups = RING_GROUPS
    # every column of a hire the freelancer's ratios weigh, one row per (client, freelancer)
    ctx.create("client_hire_flags", f"""
    WITH linked AS (
        SELECT DISTINCT h.client_id, h.freelancer_id FROM {hires} AS h
        JOIN link_edges AS e ON e.account_id = h.client_id AND e.other_account_id = h.freelancer_id
        UNION
        SELECT h.client_id, h.freelancer_id FROM {hires} AS h
        JOIN {groups} AS gc ON gc.account_id = h.client_id
        JOIN {groups} AS gf ON gf.account_id = h.freelancer_id AND gf.group_id = gc.group_id
    ),
    overlap AS (  -- the client also hired another member of the freelancer's group
        SELECT DISTINCT h.client_id, h.freelancer_id FROM {hires} AS h
        JOIN {groups} AS gf ON gf.account_id = h.freelancer_id
        JOIN {groups} AS go ON go.group_id = gf.group_id AND go.account_id <> h.freelancer_id
        JOIN {hires} AS h2 ON h2.client_id = h.client_id AND h2.freelancer_id = go.account_id
    ),
    confirmed_clients AS (
        SELECT DISTINCT h.client_id, h.freelancer_id FROM {hires} AS h
        JOIN {hires} AS h2 ON h2.client_id = h.client_id AND h2.freelancer_id <> h.freelancer_id
        JOIN confirmed_accounts AS c ON c.account_id = h2.freelancer_id
    ),
    linked_hires AS (  -- per client: share of its hires linked to another of its hires
        SELECT h.client_id,
               {d.ratio('count(DISTINCT x.freelancer_id)',
                        'count(DISTINCT h.freelancer_id)')} AS linked_ratio
        FROM {hires} AS h
        LEFT JOIN (SELECT DISTINCT h1.client_id, h1.freelancer_id FROM {hires} AS h1
                   JOIN link_edges AS e ON e.account_id = h1.freelancer_id
                   JOIN {hires} AS h2 ON h2.client_id = h1.client_id
                                     AND h2.freelancer_id = e.other_account_id) AS x
          ON x.client_id = h.client_id AND x.freelancer_id = h.freelancer_id
        GROUP BY h.client_id
    )
    SELECT h.client_id, h.freelancer_id, h.billed_cents, h.contract_count,
           {d.flag('l.client_id IS NOT NULL')} AS is_linked,
           {d.flag('o.client_id IS NOT NULL')} AS is_overlap,
           {d.flag('c.client_id IS NOT NULL')} AS is_confirmed_client,
           lh.linked_ratio
    FROM {hires} AS h
    LEFT JOIN linked AS l ON l.client_id = h.client_id AND l.freelancer_id = h.freelancer_id
    LEFT JOIN overlap AS o ON o.client_id = h.client_id AND o.freelancer_id = h.freelancer_id
    LEFT JOIN confirmed_clients AS c
      ON c.client_id = h.client_id AND c.freelancer_id = h.freelancer_id
    LEFT JOIN linked_hires AS lh ON lh.client_id = h.client_id""")
    # weights: cents where anything is billed, else one per contract
    weight = "CASE WHEN t.billed_total > 0 THEN f.billed_cents ELSE f.contract_count END"
    whole = "max(CASE WHEN t.billed_total > 0 THEN t.billed_total ELSE t.contract_total END)"
    return f"""
    SELECT f.freelancer_id AS account_id,
           {d.ratio(f'sum(f.is_linked * {weight})', whole)} AS client_self_dealing_billed_ratio,
           sum(f.is_linked) AS client_self_dealing_client_count,
           {d.ratio(f'sum(f.is_overlap * {weight})', whole)} AS client_group_overlap_billed_ratio,
           {d.ratio(f'sum(f.is_confirmed_client * {weight})', whole)}
               AS client_confirmed_hire_billed_ratio,
           max(f.linked_ratio) AS client_linked_hires_max_ratio
    FROM client_hire_flags AS f
    JOIN (SELECT freelancer_id, sum(billed_cents) AS billed_total,
                 sum(contract_count) AS contract_total
          FROM client_hire_flags GROUP BY freelancer_id) AS t
      ON t.freelancer_id = f.freelancer_id
    GROUP BY f.freelancer_id
    """
