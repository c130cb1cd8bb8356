"""Groups of accounts connected through shared tokens and marketplace links.

Fronted identities run by one facilitator touch each other somewhere: a shared payout
destination, a farm's home IP or laptop, a recycled portfolio, a client they both work for.
Each such relation is an undirected edge; a connected group of accounts is a candidate ring.
Hubs are discounted before they can chain unrelated accounts together: crowded IPs and
devices are dropped by the access stage, payout destinations shared by more than
``PAYOUT_HUB_ACCOUNTS`` accounts and accounts with more than ``LINK_HUB_ACCOUNTS`` marketplace
links are dropped here, and so are the marketplace's dense link kinds (over
``DENSE_KIND_PARTNERS`` partners an account on average: co-activity, not identity).

Connected components are found in plain SQL (min-label propagation that also hooks each
label's owner, plus pointer jumping), one materialized table per round, so the same code runs
on DuckDB and Spark. The stage
materializes ``link_edges(account_id, other_account_id, link_kind)`` (both directions) and
``link_group_membership(account_id, group_id)`` (accounts in a group of two or more; the
group id is its smallest account id) for the rings command.

Weak links add up: households, co-workers and shared addresses percolate into one giant
group once there are enough of them. A group over ``GIANT_GROUP_ACCOUNTS`` is chained, not a
ring, so its members' group features are NULL (unknown); their direct-link features stay.

The evidence (:func:`identity_evidence`) shows the group and what links it, from the kept
``link_edges`` and ``link_group_membership``; without them, the direct links only.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import datetime

import duckdb

from accountrisk.scoring.evidence_tools import (
    MAX_LISTED_ACCOUNTS,
    confirmed_before,
    helper,
    helpers_ready,
    plural,
    rows,
    tables,
)
from accountrisk.scoring.models import Evidence, LinkedAccount

from ..errors import FeatureError
from ..registry import Family, FeatureSpec, StageContext, stage
from .access import access_links
from .base import confirmed_accounts
from .portfolio import portfolio_pair_edges

PAYOUT_HUB_ACCOUNTS = 50
LINK_HUB_ACCOUNTS = 50
# A marketplace link kind whose accounts have more partners than this on average is dense
# co-activity (a crowd platform's "same task": about 90), left to the neighbour aggregates.
DENSE_KIND_PARTNERS = 10
MAX_ROUNDS = 50
# A group larger than this is chained by percolation (households, co-workers, shared
# addresses adding up), not a ring: its group features are unknown (NULL), not huge.
GIANT_GROUP_ACCOUNTS = 1000
KEPT_TABLES = ("link_edges", "link_group_membership")  # evidence and rings read them
# Without kept tables, direct links come from these families' evidence.
EVIDENCE_READS = ("payout", "access", "portfolio")
_IDS = "account_id IN (SELECT unnest($ids::VARCHAR[]))"
FamilyEvidence = Callable[[str], dict[str, Evidence]]


def _payout_edges(ctx: StageContext) -> str | None:
    tables = [t for t in ("payout_methods", "payouts") if ctx.has(t)]
    if not tables:
        return None
    used = " UNION ".join(f"SELECT DISTINCT account_id, payout_token FROM {ctx.table(t)}"
                          for t in tables)
    shared = ctx.create("link_payout_tokens", f"""
        SELECT payout_token, account_id FROM (
            SELECT payout_token, account_id,
                   count(*) OVER (PARTITION BY payout_token) AS account_n
            FROM ({used}) AS used
        ) AS counted
        WHERE account_n > 1 AND account_n <= {PAYOUT_HUB_ACCOUNTS}""")
    return f"""
        SELECT u.account_id, o.account_id AS other_account_id, 'payout' AS link_kind
        FROM {shared} AS u JOIN {shared} AS o
          ON o.payout_token = u.payout_token AND o.account_id <> u.account_id"""


def _marketplace_edges(ctx: StageContext) -> str | None:
    if not ctx.has("account_links"):
        return None
    links = ctx.table("account_links")
    # Both ends must exist before T; linked_at after T is already cut by the view.
    both_ways = ctx.create("link_marketplace_pairs", f"""
        SELECT DISTINCT s.account_id, s.other_account_id, s.link_kind FROM (
            SELECT account_id, other_account_id, kind AS link_kind FROM {links}
            UNION ALL
            SELECT other_account_id, account_id, kind FROM {links}
        ) AS s
        JOIN {ctx.table('accounts')} AS a ON a.account_id = s.account_id
        JOIN {ctx.table('accounts')} AS b ON b.account_id = s.other_account_id
        WHERE s.account_id <> s.other_account_id""")
    # A kind where the average account has dozens of partners (worked on the same task) is
    # everyday co-activity, not identity: being tied to a banned account by it says little.
    # Such kinds feed the neighbour aggregates only (features/signals/neighbours).
    sparse = ctx.create("link_marketplace_sparse", f"""
        SELECT account_id, other_account_id, link_kind FROM {both_ways}
        WHERE link_kind IN ({sparse_kinds_sql(both_ways, "link_kind")})""")
    # A relation partner of crowds (a big client, a support account) would chain everyone.
    degree = (f"(SELECT account_id, count(DISTINCT other_account_id) AS partner_n "
              f"FROM {sparse} GROUP BY account_id)")
    return f"""
        SELECT w.account_id, w.other_account_id, w.link_kind
        FROM {sparse} AS w
        JOIN {degree} AS da ON da.account_id = w.account_id
        JOIN {degree} AS db ON db.account_id = w.other_account_id
        WHERE da.partner_n <= {LINK_HUB_ACCOUNTS} AND db.partner_n <= {LINK_HUB_ACCOUNTS}"""


def sparse_kinds_sql(both_ways: str, kind: str) -> str:
    """The link kinds of ``both_ways`` (distinct pairs stored both ways, kind in column
    ``kind``) with at most ``DENSE_KIND_PARTNERS`` partners an account on average."""
    return (f"SELECT {kind} FROM {both_ways} GROUP BY {kind} "
            f"HAVING count(*) <= {DENSE_KIND_PARTNERS} * count(DISTINCT account_id)")


def _edges_sql(ctx: StageContext) -> str:
    """Every non-hub edge between two accounts created before T, both directions, distinct."""
    sources = [s for s in (_payout_edges(ctx), _marketplace_edges(ctx)) if s]
    if ctx.runs(access_links):
        sources.append("SELECT account_id, other_account_id, link_kind "
                       "FROM access_account_pairs")
    if ctx.runs(portfolio_pair_edges):
        sources.append("SELECT account_id, other_account_id, link_kind "
                       "FROM portfolio_account_pairs UNION ALL "
                       "SELECT other_account_id, account_id, link_kind "
                       "FROM portfolio_account_pairs")
    accounts = ctx.table("accounts")
    if not sources:
        return (f"SELECT account_id, account_id AS other_account_id, 'none' AS link_kind "
                f"FROM {accounts} WHERE 1 = 0")
    union = " UNION ALL ".join(f"SELECT account_id, other_account_id, link_kind FROM ({s}) "
                               f"AS src_{i}" for i, s in enumerate(sources))
    return f"""
        SELECT DISTINCT e.account_id, e.other_account_id, e.link_kind
        FROM ({union}) AS e
        JOIN {accounts} AS a ON a.account_id = e.account_id
        JOIN {accounts} AS b ON b.account_id = e.other_account_id
        WHERE e.account_id <> e.other_account_id"""


def connected_groups(ctx: StageContext, edges: str, name: str) -> str:
    """Materialize ``name(account_id, group_id)`` for every account on an edge of ``edges``
    (an undirected edge table stored both ways); ``group_id`` is the smallest account id of
    its connected group.

    Each round, an account takes the smallest label among its neighbours, and so does the
    account its label names (hooking the whole tree, not one node); then every label jumps
    to its label's label. Labels only decrease and always name a member of the group, and a
    round that changes nothing means neighbours agree, so the result is exact; rounds grow
    with the log of a chain's length.
    """
    tables = (f"{name}_round_a", f"{name}_round_b")
    # ``lowest`` (the smallest label among the neighbours) is carried from round to round:
    # labels only decrease, so it is the previous value or a changed neighbour's new
    # label. A round reads only the edges whose other end changed (few after the first
    # rounds), not every edge again.
    current = ctx.create(tables[0], f"""
        SELECT account_id,
               CASE WHEN min(other_account_id) < account_id THEN min(other_account_id)
                    ELSE account_id END AS label,
               min(other_account_id) AS lowest, 1 AS changed
        FROM {edges} GROUP BY account_id""")
    for round_number in range(1, MAX_ROUNDS + 1):
        target = tables[round_number % 2]
        ctx.create(target, f"""
            WITH fresh AS (
                SELECT e.account_id, min(n.label) AS lowest
                FROM {edges} AS e JOIN {current} AS n ON n.account_id = e.other_account_id
                WHERE n.changed = 1
                GROUP BY e.account_id
            ),
            neighbour AS (
                SELECT s.account_id, s.label,
                       CASE WHEN f.lowest < s.lowest THEN f.lowest ELSE s.lowest END AS lowest
                FROM {current} AS s LEFT JOIN fresh AS f ON f.account_id = s.account_id
            ),
            offers AS (
                SELECT account_id, label AS offer FROM {current}
                UNION ALL SELECT account_id, lowest FROM neighbour
                UNION ALL SELECT label, lowest FROM neighbour
            ),
            hooked AS (SELECT account_id, min(offer) AS label FROM offers GROUP BY account_id)
            SELECT h.account_id, least(h.label, j.label) AS label, n.lowest,
                   CASE WHEN least(h.label, j.label) <> n.label THEN 1 ELSE 0 END AS changed
            FROM hooked AS h
            JOIN hooked AS j ON j.account_id = h.label
            JOIN neighbour AS n ON n.account_id = h.account_id""")
        current = target
        if not ctx.scalar(f"SELECT count(*) FROM {current} WHERE changed = 1"):
            return ctx.create(name, f"SELECT account_id, label AS group_id FROM {current}")
    raise FeatureError(
        f"link groups did not settle within {MAX_ROUNDS} rounds of label propagation; "
        "the identity-link graph is unusually deep: check for a hub token or a marketplace "
        "link kind that chains unrelated accounts, or raise MAX_ROUNDS")


IDENTITY_FEATURES = (
    FeatureSpec("link_group_account_count",
                "Accounts in this account's link group, itself included (1 alone; NULL if "
                "chained).",
                reason="belongs to a group of {value:.0f} accounts linked by shared payout "
                       "destinations, IPs, devices, portfolios or marketplace relations"),
    FeatureSpec("link_group_confirmed_account_count",
                "Other members of the link group confirmed fraudulent before T.",
                reason="its link group holds {value:.0f} other accounts already confirmed "
                       "fraudulent"),
    FeatureSpec("link_group_link_kind_count",
                "Distinct kinds of link (payout, ip, device, portfolio, marketplace kinds) in "
                "the group.",
                reason="its link group is tied together by {value:.0f} different kinds of link"),
    FeatureSpec("direct_link_account_count",
                "Accounts directly linked to this one by any kind of link (hubs and the "
                "marketplace's dense link kinds, over 10 partners an account, left out).",
                reason="is directly linked to {value:.0f} other accounts", fill=0),
    FeatureSpec("direct_link_confirmed_account_count",
                "Directly linked accounts confirmed fraudulent before T.",
                reason="is directly linked to {value:.0f} accounts already confirmed fraudulent",
                fill=0),
    FeatureSpec("account_age_days",
                "Days from sign-up to T.",
                reason="the account is {value:.0f} days old", direction=-1, has_evidence=False),
)


@stage(needs=("accounts",), after=(confirmed_accounts, access_links, portfolio_pair_edges),
       features=IDENTITY_FEATURES)
def identity_links(ctx: StageContext) -> str:
    """Direct links and connected link groups per account, plus account age."""
    edges = ctx.create("link_edges", _edges_sql(ctx))
    groups = connected_groups(ctx, edges, "link_group_membership")
    age = ctx.d.days_between("a.created_at", ctx.as_of_sql)
    giant = f"g.account_n > {GIANT_GROUP_ACCOUNTS}"
    return f"""
    WITH group_stats AS (
        SELECT m.group_id, count(*) AS account_n, count(c.account_id) AS confirmed_n
        FROM {groups} AS m LEFT JOIN confirmed_accounts AS c ON c.account_id = m.account_id
        GROUP BY m.group_id
    ),
    group_kinds AS (
        SELECT m.group_id, count(DISTINCT e.link_kind) AS kind_n
        FROM {edges} AS e JOIN {groups} AS m ON m.account_id = e.account_id
        GROUP BY m.group_id
    ),
    direct AS (
        SELECT e.account_id, count(DISTINCT e.other_account_id) AS account_n,
               count(DISTINCT c.account_id) AS confirmed_n
        FROM {edges} AS e
        LEFT JOIN confirmed_accounts AS c ON c.account_id = e.other_account_id
        GROUP BY e.account_id
    )
    SELECT a.account_id,
           CASE WHEN {giant} THEN NULL ELSE coalesce(g.account_n, 1) END
               AS link_group_account_count,
           CASE WHEN {giant} THEN NULL
                ELSE coalesce(g.confirmed_n, 0)
                     - CASE WHEN g.group_id IS NOT NULL AND own.account_id IS NOT NULL
                            THEN 1 ELSE 0 END END AS link_group_confirmed_account_count,
           CASE WHEN {giant} THEN NULL ELSE coalesce(k.kind_n, 0) END
               AS link_group_link_kind_count,
           coalesce(dl.account_n, 0) AS direct_link_account_count,
           coalesce(dl.confirmed_n, 0) AS direct_link_confirmed_account_count,
           {age} AS account_age_days
    FROM {ctx.table('accounts')} AS a
    LEFT JOIN {groups} AS m ON m.account_id = a.account_id
    LEFT JOIN group_stats AS g ON g.group_id = m.group_id
    LEFT JOIN group_kinds AS k ON k.group_id = m.group_id
    LEFT JOIN direct AS dl ON dl.account_id = a.account_id
    LEFT JOIN confirmed_accounts AS own ON own.account_id = a.account_id
    """


def identity_evidence(con: duckdb.DuckDBPyConnection, as_of: datetime, ids: list[str],
                      family: FamilyEvidence | None = None) -> dict[str, Evidence]:
    """Direct links (other account, kind) and the link group's size, confirmed members and
    link kinds. Without kept helper tables the group is unknown and the direct links come
    from the other families' evidence (``family(name)``) and the marketplace's own links."""
    if helpers_ready(con, as_of, "link_edges", "link_group_membership"):
        return _from_helpers(con, as_of, ids)
    return _direct_only(con, as_of, ids, family)


def _from_helpers(con: duckdb.DuckDBPyConnection, as_of: datetime, ids: list[str]
                  ) -> dict[str, Evidence]:
    edges, groups = helper("link_edges"), helper("link_group_membership")
    params = {"ids": ids, "giant": GIANT_GROUP_ACCOUNTS}
    direct = rows(con, f"""SELECT account_id, other_account_id, link_kind FROM {edges}
                           WHERE {_IDS}""", params)
    membership = rows(con, f"""
        WITH mine AS (SELECT account_id, group_id FROM {groups} WHERE {_IDS}),
        sizes AS (SELECT group_id, count(*) AS member_n FROM {groups}
                  WHERE group_id IN (SELECT group_id FROM mine) GROUP BY group_id)
        SELECT m.account_id AS subject, g.account_id AS member, s.group_id, s.member_n
        FROM mine AS m JOIN sizes AS s ON s.group_id = m.group_id
        JOIN {groups} AS g ON g.group_id = m.group_id
        WHERE s.member_n <= $giant OR g.account_id = m.account_id""", params)
    kinds = rows(con, f"""
        SELECT m.group_id, e.link_kind, count(*) / 2 AS edge_n
        FROM {edges} AS e JOIN {groups} AS m ON m.account_id = e.account_id
        WHERE m.group_id IN (SELECT group_id FROM {groups} WHERE {_IDS})
        GROUP BY m.group_id, e.link_kind""", params)
    members: dict[str, set[str]] = defaultdict(set)
    group_of: dict[str, tuple[str, int]] = {}
    for r in membership:
        members[r["subject"]].add(r["member"])
        group_of[r["subject"]] = (r["group_id"], int(r["member_n"]))
    everyone = {r["other_account_id"] for r in direct} | {m for s in members.values() for m in s}
    confirmed = confirmed_before(con, as_of, sorted(everyone))
    kind_counts: dict[str, dict[str, int]] = defaultdict(dict)
    for r in kinds:
        kind_counts[r["group_id"]][r["link_kind"]] = int(r["edge_n"])
    out = {}
    for account in ids:
        links = defaultdict(set)
        for r in direct:
            if r["account_id"] == account:
                links[r["other_account_id"]].add(r["link_kind"])
        if account not in group_of and not links:
            continue
        listed = _listed(links, members.get(account, set()) - {account} - set(links),
                         confirmed)
        notes, counts = [], {}
        if account in group_of:
            group_id, size = group_of[account]
            group_confirmed = len((members[account] - {account}) & confirmed)
            if size > GIANT_GROUP_ACCOUNTS:
                notes.append(f"its link group of {size} accounts is chained by everyday links "
                             "(households, co-workers), not a ring; direct links shown")
            else:
                counts = {f"{k} links": n for k, n in sorted(kind_counts[group_id].items())}
                notes.append(f"link group {group_id}: {size} accounts, "
                             f"{plural(group_confirmed, 'other member')} confirmed fraudulent")
        out[account] = Evidence(accounts=listed, counts=counts, notes=notes)
    return out


def _listed(links: dict[str, set[str]], indirect: set[str], confirmed: set[str]
            ) -> list[LinkedAccount]:
    """Confirmed accounts first, then direct links before the group's other members; one
    entry per direct link kind. At most twice MAX_LISTED_ACCOUNTS entries."""
    order = sorted(set(links) | indirect,
                   key=lambda a: (a not in confirmed, a not in links, a))
    out = [LinkedAccount(account_id=other, link_kind=kind, is_confirmed_fraud=other in confirmed)
           for other in order for kind in sorted(links.get(other, {"same group"}))]
    return out[:MAX_LISTED_ACCOUNTS * 2]


def _direct_only(con: duckdb.DuckDBPyConnection, as_of: datetime, ids: list[str],
                 family: FamilyEvidence | None) -> dict[str, Evidence]:
    links: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    if family is not None:
        for name in EVIDENCE_READS:
            for account, evidence in family(name).items():
                for linked in evidence.accounts:
                    links[account][linked.account_id].add(linked.link_kind)
    if "account_links" in tables(con):
        # The identity graph's kinds: dense ones (co-activity) are the neighbours' evidence.
        found = rows(con, f"""
            WITH dated AS (SELECT * FROM account_links
                           WHERE linked_at IS NULL OR linked_at < $t),
            both_ways AS (SELECT account_id, other_account_id, kind FROM dated
                          UNION SELECT other_account_id, account_id, kind FROM dated)
            SELECT account_id, other_account_id, kind FROM both_ways
            WHERE {_IDS} AND kind IN ({sparse_kinds_sql("both_ways", "kind")})""",
                     {"t": as_of, "ids": ids})
        for r in found:
            if r["account_id"] != r["other_account_id"]:
                links[r["account_id"]][r["other_account_id"]].add(r["kind"])
    confirmed = confirmed_before(con, as_of,
                                 sorted({o for m in links.values() for o in m}))
    out = {}
    for account in ids:
        if links.get(account):
            kinds = Counter(k for ks in links[account].values() for k in ks)
            out[account] = Evidence(
                accounts=_listed(links[account], set(), confirmed),
                counts={f"{k} links": n for k, n in sorted(kinds.items())},
                notes=["direct links only: the link group is known when features are built "
                       "with build_features_for_evidence"])
    return out


FAMILY = Family("identity_graph", stages=(identity_links,), evidence=identity_evidence,
                evidence_reads=EVIDENCE_READS, kept_tables=KEPT_TABLES)
