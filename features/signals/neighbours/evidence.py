"""Evidence behind neighbour reasons: which neighbours, per relation, and how they were judged.

"25% of its co_worked neighbours were confirmed fraudulent before T" is checked by listing
them: the account's neighbours in that relation, confirmed ones first, then cleared ones,
then the most strongly tied, with a note "3 of its 12 co_worked neighbours were confirmed
fraudulent before T; 1 was cleared". A reason shows only its own relation's neighbours
(:func:`narrow`).

From the pipeline's kept tables (``nbr_edges``, ``nbr_nodes``, ``nbr_relations``) the
neighbours are exactly those the features aggregated. Without them (another cursor), the
marketplace link kinds and shared payout destinations are recomputed with the neighbour
stage's rules; access and portfolio neighbours come from those families' own evidence,
which lists at most ``MAX_LISTED_ACCOUNTS`` of them (the note says so).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import datetime

import duckdb

from accountrisk.scoring.evidence_tools import (
    MAX_LISTED_ACCOUNTS,
    decisions_before,
    helper,
    helpers_ready,
    plural,
    rows,
    tables,
)
from accountrisk.scoring.models import Evidence, LinkedAccount

from ..payout import PAIRED_TOKEN_MAX_ACCOUNTS
from . import naming
from .relations import ACCESS, PORTFOLIO, link_relations

# Kept by build_features_for_evidence: the neighbours exactly as the features saw them.
KEPT_TABLES = ("nbr_edges", "nbr_nodes", "nbr_relations")
# Without kept tables, access and portfolio neighbours come from those families' evidence.
EVIDENCE_READS = (ACCESS, PORTFOLIO)
FamilyEvidence = Callable[[str], dict[str, Evidence]]
Ties = dict[str, dict[str, dict[str, float]]]  # account -> relation -> neighbour -> weight
_IDS = "IN (SELECT unnest($ids::VARCHAR[]))"


def neighbour_evidence(con: duckdb.DuckDBPyConnection, as_of: datetime, ids: list[str],
                       family: FamilyEvidence | None = None) -> dict[str, Evidence]:
    """Each account's neighbours in every relation, with counts and decisions."""
    if helpers_ready(con, as_of, *KEPT_TABLES):
        ties, partial = _kept(con, ids), set[str]()
    else:
        ties, partial = _recomputed(con, as_of, ids, family)
    others = sorted({o for by in ties.values() for n in by.values() for o in n})
    decided = decisions_before(con, as_of, others)
    out = {}
    for account in ids:
        by_relation = ties.get(account, {})
        if not by_relation:
            continue
        listed: list[LinkedAccount] = []
        notes: list[str] = []
        counts: dict[str, int] = {}
        for relation, neighbours in sorted(by_relation.items()):
            confirmed = sum(decided.get(o) == 1 for o in neighbours)
            cleared = sum(decided.get(o) == 0 for o in neighbours)
            order = sorted(neighbours, key=lambda o: (decided.get(o) != 1, decided.get(o) != 0,
                                                      -neighbours[o], o))
            listed += [LinkedAccount(account_id=o, link_kind=relation,
                                     is_confirmed_fraud=decided.get(o) == 1,
                                     is_cleared=decided.get(o) == 0,
                                     shared=[f"{neighbours[o]:g} ties"] if neighbours[o] > 1
                                     else [])
                       for o in order[:MAX_LISTED_ACCOUNTS]]
            single = confirmed == 1 or len(neighbours) == 1
            notes.append(f"{confirmed} of its {plural(len(neighbours), relation + ' neighbour')} "
                         f"{'was' if single else 'were'} confirmed fraudulent before T; "
                         f"{cleared} {'was' if cleared == 1 else 'were'} cleared")
            if relation in partial:
                notes.append(f"its {relation} neighbours are listed from the {relation} "
                             f"evidence (at most {MAX_LISTED_ACCOUNTS}); features built with "
                             "build_features_for_evidence give them all")
            elif len(order) > MAX_LISTED_ACCOUNTS:
                notes.append(f"the first {MAX_LISTED_ACCOUNTS} of its {relation} neighbours "
                             "are listed: confirmed, then cleared, then the most strongly tied")
            counts.update({f"{relation} neighbours": len(neighbours),
                           f"{relation} confirmed": confirmed, f"{relation} cleared": cleared})
        out[account] = Evidence(accounts=listed, notes=notes, counts=counts)
    return out


def narrow(feature: str, evidence: Evidence) -> Evidence:
    """Only the neighbours, notes and counts of the relation ``feature`` is about."""
    relation = naming.relation_of(feature)
    if relation is None:
        return evidence
    return evidence.model_copy(update={
        "accounts": [a for a in evidence.accounts if a.link_kind == relation],
        "notes": [n for n in evidence.notes if f" {relation} neighbour" in n],
        "counts": {k: v for k, v in evidence.counts.items() if k.startswith(f"{relation} ")}})


def _kept(con: duckdb.DuckDBPyConnection, ids: list[str]) -> Ties:
    found = rows(con, f"""
        SELECT s.account_id AS subject, r.relation, o.account_id AS other, e.weight
        FROM {helper('nbr_nodes')} AS s
        JOIN {helper('nbr_edges')} AS e ON e.node = s.node
        JOIN {helper('nbr_nodes')} AS o ON o.node = e.other_node
        JOIN {helper('nbr_relations')} AS r ON r.relation_id = e.relation_id
        WHERE s.account_id {_IDS}""", {"ids": ids})
    ties: Ties = defaultdict(lambda: defaultdict(dict))
    for r in found:
        ties[r["subject"]][r["relation"]][r["other"]] = float(r["weight"])
    return ties


def _recomputed(con: duckdb.DuckDBPyConnection, as_of: datetime, ids: list[str],
                family: FamilyEvidence | None) -> tuple[Ties, set[str]]:
    present = tables(con)
    params = {"t": as_of, "ids": ids}
    ties: Ties = defaultdict(lambda: defaultdict(lambda: defaultdict(float)))
    existing = "SELECT account_id FROM accounts WHERE created_at < $t"
    if "account_links" in present:
        kinds = rows(con, "SELECT kind, count(*) AS n FROM account_links GROUP BY kind")
        # Names as the stage gives them (a pathological kind's renaming depends on the
        # run's signals, which are not known here).
        found = naming.named(link_relations([(r["kind"], int(r["n"])) for r in kinds]), [])
        relation_of_kind = {k: r.name for r in found for k in r.kinds}
        for r in rows(con, f"""
                SELECT subject, other, kind FROM (
                    SELECT account_id AS subject, other_account_id AS other, kind, linked_at
                    FROM account_links WHERE account_id {_IDS}
                    UNION ALL
                    SELECT other_account_id, account_id, kind, linked_at
                    FROM account_links WHERE other_account_id {_IDS}) AS l
                WHERE (linked_at IS NULL OR linked_at < $t) AND subject <> other
                  AND subject IN ({existing}) AND other IN ({existing})""", params):
            ties[r["subject"]][relation_of_kind[r["kind"]]][r["other"]] += 1
    if "payout_methods" in present:
        used = "SELECT DISTINCT account_id, payout_token FROM payout_methods WHERE added_at < $t"
        if "payouts" in present:
            used += (" UNION SELECT DISTINCT account_id, payout_token FROM payouts "
                     "WHERE paid_at < $t")
        for r in rows(con, f"""
                WITH used AS ({used}),
                own AS (SELECT * FROM used WHERE account_id {_IDS}),
                sized AS (SELECT payout_token FROM used
                          WHERE payout_token IN (SELECT payout_token FROM own)
                          GROUP BY payout_token
                          HAVING count(*) BETWEEN 2 AND {PAIRED_TOKEN_MAX_ACCOUNTS})
                SELECT o.account_id AS subject, u.account_id AS other, count(*) AS shared
                FROM own AS o JOIN sized AS z ON z.payout_token = o.payout_token
                JOIN used AS u ON u.payout_token = o.payout_token
                                AND u.account_id <> o.account_id
                WHERE o.account_id IN ({existing}) AND u.account_id IN ({existing})
                GROUP BY o.account_id, u.account_id""", params):
            ties[r["subject"]]["payout"][r["other"]] = float(r["shared"])
    partial = set()
    if family is not None:
        for relation in EVIDENCE_READS:  # each relation is named after its family
            for account, evidence in family(relation).items():
                kinds_by_other: dict[str, set[str]] = defaultdict(set)
                for linked in evidence.accounts:
                    kinds_by_other[linked.account_id].add(linked.link_kind)
                for other, shared in kinds_by_other.items():
                    ties[account][relation][other] = float(len(shared))
                    partial.add(relation)
    return ties, partial
