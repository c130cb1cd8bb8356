"""Per-relation neighbour statistics in two linear passes over the edge table.

Pass 1 groups the edges, joined to the neighbours' signals and decisions (``nbr_nodes``),
by (relation, account): degree, strength, confirmed and cleared neighbours, and per signal the
weighted mean, maximum and minimum. Pass 2 groups the same edges again, now also joined to
each end's pass-1 row: the two-hop counts (a neighbour's confirmed neighbours minus the
account itself if confirmed, over its degree minus one, so no two-hop path is ever
materialized) and the weighted squared deviations from the pass-1 mean. Two passes, not
``E[x^2] - E[x]^2``: the one-pass formula cancels catastrophically for near-equal values
and would make engines disagree; equal values give exactly 0.

Sums of fractions are exact (:meth:`Dialect.exact_sum`) so that every run gives the same bits:
values enter them scaled into [-1, 1], by the signal's bound when it has one
(:data:`.naming.SIGNAL_BOUNDS`: a targeted pass computes those signals for the wanted
accounts' neighbours only), else its largest magnitude over all accounts (means), or by the
group's range (deviations).

Every query is a GROUP BY over edges: time and memory grow with the number of edges, and no
degree is too large. When the pass wants a few accounts (:attr:`StageContext.targets`: a
training set's older snapshot), pass 2 groups only their edges and pass 1 only the edges of
them and their neighbours (whose pass-1 rows pass 2 reads); the scales stay those of every
account, so their values keep every bit.
"""

from __future__ import annotations

from ...dialect import Dialect
from ...registry import StageContext
from .naming import SIGNAL_BOUNDS, Aggregate
from .relations import DECISIONS, EDGES, NODES, Relation

PASS_ONE = "nbr_pass1"
PASS_TWO = "nbr_pass2"
STATS = "nbr_stats"
# Below this share of clearances among the decisions before T, an export lists bans, not
# decisions, and the share of decided neighbours confirmed means nothing (NULL).
MIN_CLEARED_SHARE = 0.05


def build_statistics(ctx: StageContext, signals: list[str]) -> str:
    """Materialize ``nbr_stats``: one row per (relation, node with neighbours) holding
    every aggregate's column (``mean_<i>``, ``max_<i>``, ``std_<i>`` for ``signals[i]``,
    column ``s_<i>`` of ``nbr_nodes``)."""
    signal_count = len(signals)
    first = []
    second = []
    final = []
    scales = []
    for i, signal in enumerate(signals):
        x = f"b.s_{i}"
        bound = SIGNAL_BOUNDS.get(signal)
        scales.append(f"CAST({bound!r} AS DOUBLE) AS scale_{i}" if bound is not None else
                      f"coalesce(nullif(max(abs(s_{i})), 0), 1) AS scale_{i}")
        first += [f"sum(CASE WHEN {x} IS NOT NULL THEN e.weight END) AS w_{i}",
                  # The scaled mean (in [-1, 1]) before the scale: no overflow near the
                  # largest double.
                  f"z.scale_{i} * ({Dialect.exact_sum(f'e.weight * ({x} / z.scale_{i})')} "
                  f"/ sum(CASE WHEN {x} IS NOT NULL THEN e.weight END)) AS mean_{i}",
                  f"max({x}) AS max_{i}", f"min({x}) AS min_{i}"]
        # Halves throughout: exact in binary, so the same bits, and no overflow between
        # values near the largest double (a range of 1e308 - (-1e308) is infinite).
        deviation = f"({x} / 2 - p.mean_{i} / 2) / (p.max_{i} / 2 - p.min_{i} / 2)"
        spread = f"CASE WHEN p.max_{i} > p.min_{i} THEN e.weight * {deviation} * {deviation} END"
        second.append(f"{Dialect.exact_sum(spread)} AS sq_{i}")
        final += [f"p.mean_{i}", f"p.max_{i}",
                  f"CASE WHEN p.max_{i} = p.min_{i} THEN CAST(0 AS DOUBLE) "
                  f"ELSE (p.max_{i} / 2 - p.min_{i} / 2) * (2 * sqrt(t.sq_{i} / p.w_{i})) "
                  f"END AS std_{i}"]
    near, wanted = _edge_filters(ctx)
    scale_table = ctx.create("nbr_scales", "SELECT " + (", ".join(scales) or "1 AS scale_none")
                             + f" FROM {NODES}")
    per_signal = "".join(f",\n               {c}" for c in first)
    ctx.create(PASS_ONE, f"""
        SELECT e.relation_id, e.node, count(*) AS account_n, sum(e.weight) AS link_n,
               sum({Dialect.flag("b.label = 1")}) AS confirmed_n,
               sum({Dialect.flag("b.label = 0")}) AS cleared_n{per_signal}
        FROM {EDGES} AS e JOIN {NODES} AS b ON b.node = e.other_node
        CROSS JOIN {scale_table} AS z{near}
        GROUP BY e.relation_id, e.node{"".join(f", z.scale_{i}" for i in range(signal_count))}""")
    deviations = "".join(f",\n               {c}" for c in second)
    # The account's own label enters only to be taken out again: q.confirmed_n counts it
    # when it is confirmed, and (q.account_n - 1) leaves it out of the paths.
    ctx.create(PASS_TWO, f"""
        SELECT e.relation_id, e.node,
               sum(q.confirmed_n - {Dialect.flag("o.label = 1")}) AS two_hop_confirmed_n,
               sum(q.account_n - 1) AS two_hop_n{deviations}
        FROM {EDGES} AS e
        JOIN {PASS_ONE} AS p ON p.relation_id = e.relation_id AND p.node = e.node
        JOIN {PASS_ONE} AS q ON q.relation_id = e.relation_id AND q.node = e.other_node
        JOIN {NODES} AS b ON b.node = e.other_node
        JOIN {NODES} AS o ON o.node = e.node{wanted}
        GROUP BY e.relation_id, e.node""")
    statistics = "".join(f",\n               {c}" for c in final)
    # An export that lists (almost) only bans makes every decided neighbour a confirmed one:
    # the share among the decided would read 1 wherever a neighbour was banned. Unknown then.
    # The account's own decision is left out of the export's counts, as from every share.
    decisions = ctx.create("nbr_decision_counts", f"""
        SELECT sum({Dialect.flag("label = 0")}) AS cleared_n, count(*) AS decided_n
        FROM {DECISIONS}""")
    cleared = f"(x.cleared_n - {Dialect.flag('o.label = 0')})"
    decided = f"(x.decided_n - {Dialect.flag('o.label IS NOT NULL')})"
    return ctx.create(STATS, f"""
        SELECT p.relation_id, p.node, p.account_n, p.link_n,
               {Dialect.ratio("p.confirmed_n", "p.account_n")} AS confirmed_ratio,
               {Dialect.ratio("p.cleared_n", "p.account_n")} AS cleared_ratio,
               CASE WHEN {cleared} >= {MIN_CLEARED_SHARE!r} * {decided} THEN
               {Dialect.ratio("p.confirmed_n", "p.confirmed_n + p.cleared_n")} END
                   AS decided_confirmed_ratio,
               {Dialect.ratio("t.two_hop_confirmed_n", "t.two_hop_n")}
                   AS two_hop_confirmed_ratio{statistics}
        FROM {PASS_ONE} AS p
        JOIN {PASS_TWO} AS t ON t.relation_id = p.relation_id AND t.node = p.node
        JOIN {NODES} AS o ON o.node = p.node
        CROSS JOIN {decisions} AS x""")


def _edge_filters(ctx: StageContext) -> tuple[str, str]:
    """WHERE clauses on the edges ``e`` for pass 1 and pass 2 (empty for every account)."""
    if ctx.targets is None:
        return "", ""
    wanted = ctx.create("nbr_wanted_nodes", f"""
        SELECT node FROM {NODES} WHERE account_id IN (SELECT account_id FROM {ctx.targets})""")
    near = ctx.create("nbr_near_nodes", f"""
        SELECT node FROM {wanted}
        UNION
        SELECT other_node AS node FROM {EDGES} WHERE node IN (SELECT node FROM {wanted})""")
    return (f"\n        WHERE e.node IN (SELECT node FROM {near})",
            f"\n        WHERE e.node IN (SELECT node FROM {wanted})")


def wide_sql(ctx: StageContext, stats: str,
             columns: list[tuple[Relation, str, Aggregate, int | None]]) -> str:
    """One row per account with neighbours, one column per (relation, aggregate, signal):
    the statistics table turned from long to wide in one grouped pass, then ids again."""
    q = ctx.d.quote
    select = []
    for relation, name, aggregate, signal in columns:
        source = aggregate.column if signal is None else f"{aggregate.column}_{signal}"
        select.append(f"max(CASE WHEN relation_id = {relation.relation_id} "
                      f"THEN {source} END) AS {q(name)}")
    body = ",\n                   ".join(select)
    names = "".join(f", w.{q(name)}" for _, name, _, _ in columns)
    return f"""
        SELECT n.account_id{names} FROM (
            SELECT node,
                   {body}
            FROM {stats} GROUP BY node) AS w
        JOIN {NODES} AS n ON n.node = w.node"""
