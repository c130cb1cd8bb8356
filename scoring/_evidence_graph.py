"""Evidence behind identity-graph reasons: the link group, its members and what links them."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import datetime

import duckdb

from accountrisk.features.signals import identity_graph
from accountrisk.scoring._evidence_common import (MAX_LISTED_ACCOUNTS, confirmed_before,
                                                  helper, helpers_ready, plural, rows,
                                                  tables)
from accountrisk.scoring.models import Evidence, LinkedAccount

_IDS = "account_id IN (SELECT unnest($ids::VARCHAR[]))"
FamilyEvidence = Callable[[str], dict[str, Evidence]]


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
    params = {"ids": ids, "giant": identity_graph.GIANT_GROUP_ACCOUNTS}
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
            if size > identity_graph.GIANT_GROUP_ACCOUNTS:
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
        for name in ("payout", "access", "portfolio"):
            for account, evidence in family(name).items():
                for linked in evidence.accounts:
                    links[account][linked.account_id].add(linked.link_kind)
    if "account_links" in tables(con):
        found = rows(con, f"""
            SELECT account_id, other_account_id, kind FROM account_links
            WHERE (linked_at IS NULL OR linked_at < $t) AND {_IDS}
            UNION
            SELECT other_account_id, account_id, kind FROM account_links
            WHERE (linked_at IS NULL OR linked_at < $t)
              AND other_account_id IN (SELECT unnest($ids::VARCHAR[]))""",
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
