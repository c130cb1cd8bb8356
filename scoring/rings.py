"""Rings: the identity-link groups of accounts, what links them, and their members' scores.

A group is a connected set of accounts joined by non-hub links (shared payout destinations,
farm IPs and devices, recycled portfolios and photos, marketplace relations), exactly as
the identity-graph family found them (its ``link_group_membership`` and ``link_edges``
helper tables, kept by :func:`~accountrisk.scoring.evidence.build_features_for_evidence`).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from accountrisk.features.engine import DuckDBEngine
from accountrisk.features.signals.identity_graph import GIANT_GROUP_ACCOUNTS, KEPT_TABLES
from accountrisk.scoring.evidence import build_features_for_evidence
from accountrisk.scoring.evidence_tools import (
    as_of_moment,
    bound,
    confirmed_sql,
    connection,
    helper,
    helpers_ready,
    rows,
    tables,
)

RING_TABLES = KEPT_TABLES  # the identity graph's link edges and groups
MAX_DRAWN_MEMBERS = 40

RING_SCHEMA = pa.schema([
    ("group_id", pa.string()),
    ("member_count", pa.int64()),
    ("members", pa.list_(pa.string())),
    ("edge_count", pa.int64()),
    ("link_kinds", pa.list_(pa.struct([("kind", pa.string()), ("count", pa.int64())]))),
    ("confirmed_count", pa.int64()),
    ("confirmed_members", pa.list_(pa.string())),
    ("is_chained", pa.bool_()),
])


def _ensure_helpers(engine: Any, moment: datetime, build: bool) -> duckdb.DuckDBPyConnection:
    con = connection(engine)
    if not helpers_ready(con, moment, *RING_TABLES):
        if not build:
            raise LookupError("link groups are not built for this as-of time on this "
                              "connection; call build_features_for_evidence first")
        build_features_for_evidence(engine if hasattr(engine, "tables") else DuckDBEngine(con),
                                    moment)
    return con


def find_rings(engine: Any, as_of: str | datetime, min_size: int = 2, *,
               build: bool = True) -> pa.Table:
    """One row per link group of at least ``min_size`` accounts, as of ``as_of``.

    Columns: ``group_id`` (its smallest account id), ``member_count``, ``members``,
    ``edge_count`` (linked account pairs), ``link_kinds`` (list of {kind, count}: pairs
    linked by each kind, most first), ``confirmed_count`` and ``confirmed_members``
    (confirmed fraudulent before as-of), ``is_chained`` (over the identity-graph family's
    giant-group size: chained by everyday links, not a ring). Rings first, then by
    confirmed members and size. Builds the features (keeping the link tables) unless they
    were already built for this as-of on this connection with
    :func:`~accountrisk.scoring.evidence.build_features_for_evidence`; ``build=False``
    raises ``LookupError`` instead.
    """
    moment = as_of_moment(as_of)
    con = _ensure_helpers(engine, moment, build)
    edges, groups = helper("link_edges"), helper("link_group_membership")
    sql = f"""
    WITH m AS (SELECT account_id, group_id FROM {groups}),
    sizes AS (
        SELECT group_id, count(*) AS member_count, list(account_id ORDER BY account_id) AS members
        FROM m GROUP BY group_id HAVING count(*) >= $min_size
    ),
    kinds AS (
        SELECT m.group_id, e.link_kind, CAST(count(*) // 2 AS BIGINT) AS n
        FROM {edges} AS e JOIN m ON m.account_id = e.account_id
        WHERE m.group_id IN (SELECT group_id FROM sizes)
        GROUP BY m.group_id, e.link_kind
    ),
    kind_lists AS (
        SELECT group_id, CAST(sum(n) AS BIGINT) AS edge_count,
               list({{'kind': link_kind, 'count': n}} ORDER BY n DESC, link_kind) AS link_kinds
        FROM kinds GROUP BY group_id
    ),
    confirmed AS ({confirmed_sql(tables(con))}),
    conf AS (
        SELECT m.group_id, count(*) AS confirmed_count,
               list(m.account_id ORDER BY m.account_id) AS confirmed_members
        FROM m JOIN confirmed AS c ON c.account_id = m.account_id GROUP BY m.group_id
    )
    SELECT s.group_id, s.member_count, s.members, coalesce(k.edge_count, 0) AS edge_count,
           coalesce(k.link_kinds, []) AS link_kinds,
           coalesce(c.confirmed_count, 0) AS confirmed_count,
           coalesce(c.confirmed_members, CAST([] AS VARCHAR[])) AS confirmed_members,
           s.member_count > $giant AS is_chained
    FROM sizes AS s LEFT JOIN kind_lists AS k ON k.group_id = s.group_id
    LEFT JOIN conf AS c ON c.group_id = s.group_id
    ORDER BY is_chained, confirmed_count DESC, s.member_count DESC, s.group_id"""
    params = {"min_size": int(min_size), "giant": GIANT_GROUP_ACCOUNTS, "t": moment}
    return con.sql(sql, params=bound(sql, params)).to_arrow_table().cast(RING_SCHEMA)


def _score_rows(scores: Any) -> list[dict[str, Any]]:
    """(account_id, score, band) rows from an Arrow table, a mapping or a list of dicts or
    AccountScore objects."""
    if isinstance(scores, pa.Table):
        return scores.select(["account_id", "score", "band"]).to_pylist()
    if isinstance(scores, Mapping):
        return [{"account_id": a, "score": s[0], "band": s[1]} for a, s in scores.items()]
    out = []
    for s in scores:
        get = s.get if isinstance(s, Mapping) else lambda k, s=s: getattr(s, k)
        out.append({"account_id": get("account_id"), "score": get("score"),
                    "band": get("band")})
    return out


def _member_scores(scores: Any, members: list[str]) -> dict[str, dict[str, Any]]:
    """The score rows of ``members`` only: a table is filtered before it is converted and a
    mapping is looked up, so drawing one ring does not convert a whole batch's scores."""
    if scores is None:
        return {}
    if isinstance(scores, pa.Table):
        scores = scores.filter(pc.is_in(scores.column("account_id"),
                                        value_set=pa.array(members, pa.string())))
    elif isinstance(scores, Mapping):
        scores = {m: scores[m] for m in members if m in scores}
    wanted = set(members)
    return {r["account_id"]: r for r in _score_rows(scores) if r["account_id"] in wanted}


def join_ring_scores(rings: pa.Table, scores: Any) -> pa.Table:
    """``rings`` (from :func:`find_rings`) with its members' scores: ``max_score``,
    ``mean_score`` (over scored members), ``banded_count`` (members in a review band) and
    ``member_scores`` (list of {account_id, score, band}, highest first), ordered by
    ``max_score``. ``scores``: a table or rows with account_id, score, band."""
    by_id = {r["account_id"]: r for r in _score_rows(scores)}
    max_scores, mean_scores, banded, member_scores = [], [], [], []
    for members in rings.column("members").to_pylist():
        scored = sorted((by_id[m] for m in members if m in by_id),
                        key=lambda r: (-float(r["score"]), r["account_id"]))
        values = [float(r["score"]) for r in scored]
        max_scores.append(max(values) if values else None)
        mean_scores.append(sum(values) / len(values) if values else None)
        banded.append(sum(1 for r in scored if r["band"]))
        member_scores.append([{"account_id": r["account_id"], "score": float(r["score"]),
                               "band": r["band"] or ""} for r in scored])
    entry = pa.struct([("account_id", pa.string()), ("score", pa.float64()),
                       ("band", pa.string())])
    joined = (rings.append_column("max_score", pa.array(max_scores, pa.float64()))
              .append_column("mean_score", pa.array(mean_scores, pa.float64()))
              .append_column("banded_count", pa.array(banded, pa.int64()))
              .append_column("member_scores", pa.array(member_scores, pa.list_(entry))))
    order = sorted(range(joined.num_rows),
                   key=lambda i: (max_scores[i] is None, -(max_scores[i] or 0.0), i))
    return joined.take(pa.array(order, pa.int64()))


def ring_for_account(engine: Any, as_of: str | datetime, account_id: str, *,
                     scores: Any = None, max_members: int = MAX_DRAWN_MEMBERS,
                     build: bool = False) -> dict[str, Any] | None:
    """The link group of one account, ready to draw in its case report, or None when the
    account is in no group. A group chained by everyday links (over the identity-graph
    family's giant size) is not a ring: then only the account and its direct links are drawn.

    Returns ``{"group_id", "member_count", "chained", "subject", "members": [{"account_id",
    "score", "band", "confirmed", "is_subject"}], "edges": [{"a", "b", "kinds"}],
    "link_kinds": {kind: pairs}, "confirmed_count", "shown"}`` (kinds and confirmed members
    among those drawn when chained). A large group keeps the account, its
    direct links, then confirmed and highest-scored members, up to ``max_members``.
    Needs the link tables of :func:`~accountrisk.scoring.evidence.build_features_for_evidence`
    (``build=True`` builds them, else ``LookupError``).
    """
    moment = as_of_moment(as_of)
    con = _ensure_helpers(engine, moment, build)
    edges, groups = helper("link_edges"), helper("link_group_membership")
    mine = f"(SELECT group_id FROM {groups} WHERE account_id = $a)"
    # Size first: a chained group can hold a large share of all accounts, and its member
    # list is not drawn.
    size = rows(con, f"""SELECT count(*) AS n, min(account_id) AS group_id FROM {groups}
        WHERE group_id = {mine}""", {"a": account_id})[0]
    if not size["n"]:
        return None
    chained = size["n"] > GIANT_GROUP_ACCOUNTS
    if chained:  # not a ring: draw the account and its direct links only
        near = rows(con, f"SELECT DISTINCT other_account_id FROM {edges} WHERE account_id = $a",
                    {"a": account_id})
        members = sorted({account_id} | {r["other_account_id"] for r in near})
    else:
        members = sorted(r["account_id"] for r in rows(
            con, f"SELECT account_id FROM {groups} WHERE group_id = {mine}", {"a": account_id}))
    links = rows(con, f"""SELECT account_id AS a, other_account_id AS b, link_kind
        FROM {edges} WHERE account_id IN (SELECT unnest($m::VARCHAR[]))
          AND other_account_id IN (SELECT unnest($m::VARCHAR[]))
          AND account_id < other_account_id""", {"m": members})
    confirmed = {r["account_id"] for r in rows(
        con, f"SELECT account_id FROM ({confirmed_sql(tables(con))}) AS c "
             "WHERE account_id IN (SELECT unnest($m::VARCHAR[]))", {"t": moment, "m": members})}
    score_of = _member_scores(scores, members)
    direct = {r["b"] for r in links if r["a"] == account_id} | {
        r["a"] for r in links if r["b"] == account_id}
    ranked = sorted(members, key=lambda m: (
        m != account_id, m not in direct, m not in confirmed,
        -float(score_of[m]["score"]) if m in score_of else 0.0, m))
    shown = set(ranked[:max_members])
    pair_kinds: dict[tuple[str, str], set[str]] = defaultdict(set)
    kinds: Counter[str] = Counter()
    for r in links:
        kinds[r["link_kind"]] += 1
        if r["a"] in shown and r["b"] in shown:
            pair_kinds[(r["a"], r["b"])].add(r["link_kind"])
    return {
        "group_id": size["group_id"], "member_count": int(size["n"]),
        "chained": chained, "subject": account_id,
        "members": [{"account_id": m,
                     "score": float(score_of[m]["score"]) if m in score_of else None,
                     "band": (score_of[m]["band"] or "") if m in score_of else "",
                     "confirmed": m in confirmed, "is_subject": m == account_id}
                    for m in ranked if m in shown],
        "edges": [{"a": a, "b": b, "kinds": sorted(k)} for (a, b), k in sorted(pair_kinds.items())],
        "link_kinds": dict(kinds.most_common()), "confirmed_count": len(confirmed),
        "shown": len(shown),
    }
