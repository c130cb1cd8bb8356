"""The relations neighbour aggregates run over, and their edge table.

A relation is one kind of tie between two accounts: each of the marketplace's own link
kinds (the ``MAX_OWN_KINDS`` most frequent; the rest together are ``other_link``), shared
payout destinations, shared access (non-hub residential IPs and devices) and reused
portfolio items or profile photos. Every relation is stored in ``nbr_edges(relation_id,
node, other_node, weight)``: both directions, one row per pair, no self loops, both
accounts created before T (``nbr_accounts`` numbers them: integer keys join and group
faster than account ids); ``weight`` is the tie's strength:

- a marketplace kind: the pair's link rows (a relation repeated per contract counts more);
- payout: distinct destinations the two share (only destinations with at most
  ``PAIRED_TOKEN_MAX_ACCOUNTS`` users pair accounts, the payout family's own rule);
- access: kinds shared (a non-hub IP, a device: 1 or 2), from ``access_account_pairs``;
- portfolio: match kinds shared (link, image, text, photo: 1 to 4), from
  ``portfolio_account_pairs``.

Unlike the identity graph, no account is dropped as a hub: on a crowd-work platform a
dense relation is normal, and aggregates (shares, means) stay meaningful at any degree.

Which link kinds get their own relation is decided from the whole ``account_links`` table
(every row, whatever its date), like attribute columns: every as-of time of one folder then
has the same columns (training stacks snapshots). Only the columns depend on it; every
value reads rows dated before T only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pyarrow as pa

from ...registry import StageContext
from ..access import access_links
from ..payout import PAIRED_TOKEN_MAX_ACCOUNTS, payout_links, payout_usage_sql
from ..portfolio import portfolio_pair_edges

MAX_OWN_KINDS = 4
OTHER_LINKS = "other_link"
PAYOUT, ACCESS, PORTFOLIO = "payout", "access", "portfolio"
RESERVED = (OTHER_LINKS, PAYOUT, ACCESS, PORTFOLIO)
EDGES = "nbr_edges"
ONE_WAY = "nbr_ties"
NODES = "nbr_nodes"
NUMBERS = "nbr_accounts"
LINK_KINDS = "nbr_link_kinds"
RELATIONS = "nbr_relations"
DECISIONS = "nbr_decisions"


@dataclass(frozen=True)
class Relation:
    """One relation: its id in ``nbr_edges``, its name in feature names, and the
    marketplace kinds it holds (empty for payout, access and portfolio)."""

    relation_id: int
    name: str
    kinds: tuple[str, ...] = ()


def sanitized(kind: str) -> str:
    """A link kind as a name part: lower-case letters, digits and single ``_``."""
    text = re.sub(r"[^a-z0-9]+", "_", kind.lower()).strip("_")
    if not text:
        return "kind"
    return f"k_{text}" if text[0].isdigit() else text


def link_relations(kind_counts: list[tuple[str, int]], start: int = 0) -> list[Relation]:
    """Relations of the marketplace's link kinds: the ``MAX_OWN_KINDS`` most frequent
    (ties by kind) each on its own, the rest merged into ``other_link``. Names are
    sanitized kinds, made unique and kept apart from the other relations' names."""
    ranked = [k for k, _ in sorted(kind_counts, key=lambda kc: (-kc[1], kc[0]))]
    own, rest = ranked[:MAX_OWN_KINDS], ranked[MAX_OWN_KINDS:]
    out: list[Relation] = []
    taken = set(RESERVED)
    for kind in own:
        name = sanitized(kind)
        if name in RESERVED:
            name = f"{name}_kind"
        base, n = name, 2
        while name in taken:
            name, n = f"{base}_{n}", n + 1
        taken.add(name)
        out.append(Relation(start + len(out), name, (kind,)))
    if rest:
        out.append(Relation(start + len(out), OTHER_LINKS, tuple(rest)))
    return out


def relations(ctx: StageContext) -> list[Relation]:
    """The relations this folder has, in feature order: link kinds, payout, access,
    portfolio."""
    out: list[Relation] = []
    if ctx.has("account_links"):
        counts = ctx.arrow(f"SELECT kind, count(*) AS n FROM {ctx.whole_table('account_links')}"
                           " GROUP BY kind").to_pylist()
        out += link_relations([(r["kind"], int(r["n"])) for r in counts])
    for name, stage in ((PAYOUT, payout_links), (ACCESS, access_links),
                        (PORTFOLIO, portfolio_pair_edges)):
        if ctx.runs(stage):
            out.append(Relation(len(out), name))
    return out


# Each source below gives every tie once, in either direction, with its part of the
# weight; build_edges stores both directions and adds the parts up per pair.
def _link_edges(ctx: StageContext, kinds_table: str) -> str:
    """One row per link row (weight 1)."""
    return f"""
        SELECT k.relation_id, l.account_id, l.other_account_id, CAST(1 AS DOUBLE) AS weight
        FROM {ctx.table("account_links")} AS l JOIN {kinds_table} AS k ON k.kind = l.kind"""


def _payout_edges(ctx: StageContext, relation_id: int) -> str:
    """One row per pair sharing a destination; ``used`` is distinct (account,
    destination), so count(*) per pair is the destinations they share."""
    return f"""
        WITH used AS ({payout_usage_sql(ctx)}),
        token_size AS (
            SELECT payout_token, count(*) AS account_count FROM used GROUP BY payout_token
        )
        SELECT {relation_id} AS relation_id, u.account_id, o.account_id AS other_account_id,
               CAST(count(*) AS DOUBLE) AS weight
        FROM used AS u
        JOIN token_size AS z ON z.payout_token = u.payout_token
            AND z.account_count BETWEEN 2 AND {PAIRED_TOKEN_MAX_ACCOUNTS}
        JOIN used AS o ON o.payout_token = u.payout_token AND o.account_id > u.account_id
        GROUP BY u.account_id, o.account_id"""


def _kind_pair_edges(table: str, relation_id: int) -> str:
    """One row per pair of a pair table (account_id, other_account_id, link_kind), read
    both ways (it need not be symmetric); the weight is the number of kinds shared."""
    return f"""
        SELECT {relation_id} AS relation_id, account_id, other_account_id,
               CAST(count(DISTINCT link_kind) AS DOUBLE) AS weight
        FROM (SELECT account_id, other_account_id, link_kind FROM {table}
              UNION ALL SELECT other_account_id, account_id, link_kind FROM {table}) AS p
        WHERE account_id < other_account_id
        GROUP BY account_id, other_account_id"""


def build_relations(ctx: StageContext, found: list[Relation]) -> str:
    """Materialize ``nbr_relations(relation_id, relation)``: the names as the columns carry
    them (see :func:`.naming.named`)."""
    return ctx.create_from_arrow(RELATIONS, pa.table({
        "relation_id": pa.array([r.relation_id for r in found], pa.int64()),
        "relation": pa.array([r.name for r in found], pa.string())}))


def build_edges(ctx: StageContext, found: list[Relation], nodes: str) -> str:
    """Materialize ``nbr_edges`` (see the module docstring); ``nodes`` numbers the accounts
    created before T (``node``, ``account_id``)."""
    sources = []
    links = [r for r in found if r.kinds]
    if links:
        # Kinds travel as data (an Arrow table), never as SQL text.
        kinds = ctx.create_from_arrow(LINK_KINDS, pa.table({
            "kind": pa.array([k for r in links for k in r.kinds], pa.string()),
            "relation_id": pa.array([r.relation_id for r in links for _ in r.kinds],
                                    pa.int64())}))
        sources.append(_link_edges(ctx, kinds))
    for r in found:
        if r.name == PAYOUT:
            sources.append(_payout_edges(ctx, r.relation_id))
        elif r.name == ACCESS:
            sources.append(_kind_pair_edges("access_account_pairs", r.relation_id))
        elif r.name == PORTFOLIO:
            sources.append(_kind_pair_edges("portfolio_account_pairs", r.relation_id))
    if not sources:
        sources.append(f"SELECT CAST(0 AS BIGINT) AS relation_id, account_id, "
                       f"account_id AS other_account_id, CAST(1 AS DOUBLE) AS weight "
                       f"FROM {nodes} WHERE 1 = 0")
    union = " UNION ALL ".join(
        f"SELECT CAST(relation_id AS BIGINT) AS relation_id, account_id, other_account_id, "
        f"weight FROM ({s}) AS src_{i}" for i, s in enumerate(sources))
    # Joining the nodes keeps accounts created before T and swaps ids for numbers, once
    # per tie; each pair is summed once (smaller node first), then stored both ways.
    one_way = ctx.create(ONE_WAY, f"""
        SELECT e.relation_id, least(a.node, b.node) AS x, greatest(a.node, b.node) AS y,
               sum(e.weight) AS weight
        FROM ({union}) AS e
        JOIN {nodes} AS a ON a.account_id = e.account_id
        JOIN {nodes} AS b ON b.account_id = e.other_account_id
        WHERE a.node <> b.node
        GROUP BY e.relation_id, least(a.node, b.node), greatest(a.node, b.node)""")
    return ctx.create(EDGES, f"""
        SELECT relation_id, x AS node, y AS other_node, weight FROM {one_way}
        UNION ALL SELECT relation_id, y AS node, x AS other_node, weight FROM {one_way}""")


def build_decisions(ctx: StageContext) -> str:
    """Materialize ``nbr_decisions(account_id, label)``: each account's latest decision
    before T (the ``confirmed_accounts`` rule: the latest wins, a tie goes to label 1)."""
    if not ctx.has("labels"):
        return ctx.create(DECISIONS, f"SELECT account_id, CAST(NULL AS INTEGER) AS label "
                                     f"FROM {ctx.table('accounts')} WHERE 1 = 0")
    return ctx.create(DECISIONS, f"""
        SELECT account_id, CAST(label AS INTEGER) AS label FROM (
            SELECT account_id, label,
                   row_number() OVER (PARTITION BY account_id
                                      ORDER BY decided_at DESC, label DESC) AS pick
            FROM {ctx.table('labels')}
        ) AS latest WHERE pick = 1""")


def build_numbering(ctx: StageContext) -> str:
    """Materialize ``nbr_accounts(node, account_id)``: the accounts created before T
    numbered in account id order (the base table's accounts, before it exists)."""
    return ctx.create(NUMBERS, f"""
        SELECT row_number() OVER (ORDER BY account_id) AS node, account_id
        FROM {ctx.table('accounts')}""")


def reach_sql(targets: str) -> str:
    """The accounts tied on some relation to an account of ``targets`` (a table of
    ``account_id``): the neighbours whose key signals the statistics read for it."""
    return f"""
        SELECT n.account_id FROM {EDGES} AS e JOIN {NUMBERS} AS n ON n.node = e.other_node
        WHERE e.node IN (SELECT w.node FROM {NUMBERS} AS w
                         WHERE w.account_id IN (SELECT account_id FROM {targets}))"""


def build_nodes(ctx: StageContext, base: str, signals: list[str]) -> str:
    """Materialize ``nbr_nodes(node, account_id, label, s_0, s_1, ...)``: every numbered
    account with its latest decision before T and the signals aggregated over neighbours
    (``s_<i>`` is ``signals[i]``, from the ``base`` table)."""
    q = ctx.d.quote
    values = "".join(f", b.{q(s)} AS s_{i}" for i, s in enumerate(signals))
    return ctx.create(NODES, f"""
        SELECT n.node, n.account_id, d.label{values}
        FROM {NUMBERS} AS n JOIN {base} AS b ON b.account_id = n.account_id
        LEFT JOIN {DECISIONS} AS d ON d.account_id = n.account_id""")
