"""What an account's neighbours look like, and how they were judged, per relation.

Counting neighbours says little on a platform where everyone co-works with dozens of
others; what the neighbours are says more. For each relation (:mod:`.relations`: the
marketplace's link kinds, shared payout destinations, shared access, reused portfolio
items) and each account, as of T: how many neighbours and how strongly tied, the shares
of them confirmed or cleared before T (and two ties away), and the mean, maximum and
standard deviation of their key signals and numeric attributes (:mod:`.naming`). An agency
whose members share one payout account has neighbours who work in daytime from the
claimed country; a fronting cell's neighbours share its night hours and remote desktops.

The stage reads the other features of the neighbours, so it runs in the pipeline's second
phase (``reads_base_features``), over the base table; the edges are built in the first
phase (``neighbour_edges``), so that a pass wanting a few accounts knows their neighbours
before the stages of the key signals run (they compute those accounts' rows alone).
An account's own label never reaches its own features: shares count neighbours only, the
two-hop share takes the account out of its neighbours' counts, and no key signal reads a
label.

Helper tables (kept for evidence with ``build_features_for_evidence``): ``nbr_edges``,
``nbr_nodes`` (node numbers of account ids, decisions), ``nbr_relations`` (relation_id,
relation). The evidence (:mod:`.evidence`) lists an account's neighbours per relation.
"""

from __future__ import annotations

from ...registry import Family, FeaturePattern, StageContext, stage
from ..access import access_links
from ..base import confirmed_accounts
from ..payout import payout_links
from ..portfolio import portfolio_pair_edges
from . import aggregates, naming, relations
from .evidence import EVIDENCE_READS, KEPT_TABLES, narrow, neighbour_evidence

NEIGHBOUR_PATTERNS = tuple(
    FeaturePattern(a.pattern, description=a.description, reason=a.reason,
                   direction=a.direction, fill=a.fill, words=naming.signal_words,
                   placeholders=naming.PLACEHOLDERS)
    for a in naming.AGGREGATES
)


@stage(needs=("accounts",), after=(confirmed_accounts, payout_links, access_links,
                                   portfolio_pair_edges))
def neighbour_edges(ctx: StageContext) -> str:
    """Helper: the relations' edges (``nbr_edges``), the accounts' numbers
    (``nbr_accounts``) and decisions before T (``nbr_decisions``). When the pass wants a
    few accounts, their neighbours join the reach: the statistics read their key signals
    (:meth:`StageContext.add_reach`)."""
    relations.build_decisions(ctx)
    numbers = relations.build_numbering(ctx)
    relations.build_edges(ctx, relations.relations(ctx), numbers)
    if ctx.targets is not None:
        ctx.add_reach(relations.reach_sql(ctx.targets))
    return ""


@stage(needs=("accounts",), after=(neighbour_edges,), patterns=NEIGHBOUR_PATTERNS,
       reads_base_features=True)
def neighbour_aggregates(ctx: StageContext) -> str:
    """Per account, one column per relation, aggregate and signal (see the module)."""
    signal_names = naming.signals(ctx.base_feature_columns)
    base = ctx.base_features_of(signal_names)
    found = naming.named(relations.relations(ctx), signal_names)
    relations.build_relations(ctx, found)
    relations.build_nodes(ctx, base, signal_names)
    if not found:
        return f"SELECT account_id FROM {base} WHERE 1 = 0"
    stats = aggregates.build_statistics(ctx, signal_names)
    return aggregates.wide_sql(ctx, stats, naming.column_names(found, signal_names))


FAMILY = Family(naming.FAMILY, stages=(neighbour_edges, neighbour_aggregates),
                evidence=neighbour_evidence, narrow=narrow, evidence_reads=EVIDENCE_READS,
                kept_tables=KEPT_TABLES)
