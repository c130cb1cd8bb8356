"""Portfolio matches of a few accounts without the pipeline's kept tables.

Images, profile photos and links: the portfolio family's own stages run on a small
*neighbourhood* of the requested accounts, on a cursor whose temporary tables vanish with
it: every item or photo whose hash is within twice the near-duplicate distance of one of
theirs (the common-image cap looks one step beyond a match, so this keeps it exact) and
every item showing one of their links. Matches are then exactly the features'.

Descriptions: a near-copy (shingle Jaccard >= ``TEXT_JACCARD_MIN``) shares more than half
of a text's shingles, so it contains one of any ``half + 1`` of them as a phrase; one regular
expression finds those candidates, and the Jaccard is computed exactly against each. Unlike
the full search, which counts only informative shingles (boilerplate in more than
``SHINGLE_MAX_DOCS`` texts counts on neither side, and that needs every text's shingles),
this Jaccard is over all shingles, and it applies the common-text cap to the account's own
texts only: an approximation that can list a few more or fewer description matches than the
feature counted. Scoring reads the pipeline's kept tables, which are exact.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import duckdb
import pyarrow as pa

from accountrisk.scoring.evidence_tools import confirmed_sql, rows

from ... import neardup as nd
from ...dialect import DUCKDB, Dialect
from ...errors import FeatureError
from ...registry import Stage
from .stages import PORTFOLIO_STAGES

_IDS = "account_id IN (SELECT unnest($ids::VARCHAR[]))"
TABLES = ("portfolio_item_keys", "portfolio_item_matches", "profile_photo_account_pairs")
_SEPARATOR = "[^a-z0-9]+"
# Past this many candidate descriptions (templated texts share most phrases) shingling them
# costs about what the full search does: the text matches are then not listed here.
MAX_TEXT_CANDIDATES = 20_000


@dataclass
class _NeighbourhoodContext:
    """The :class:`StageContext` of the portfolio stages on a neighbourhood: its contract
    views already hold only the requested accounts' neighbourhood as of T, so every
    point-in-time and targeting question has the trivial answer."""

    con: duckdb.DuckDBPyConnection
    as_of: datetime
    views: dict[str, str]
    d: Dialect = DUCKDB
    created: list[str] = field(default_factory=list)

    @property
    def as_of_sql(self) -> str:
        return self.d.timestamp_literal(self.as_of)

    def table(self, name: str) -> str:
        return self.views[name]

    def whole_table(self, name: str) -> str:
        return self.views[name]

    def own_rows(self, name: str) -> str:
        return self.views.get(name, name)  # a helper table an earlier stage made

    def reach_rows(self, name: str) -> str:
        return self.own_rows(name)

    def add_reach(self, sql: str) -> None:
        return None

    @property
    def reuses_rows(self) -> bool:
        return False

    @property
    def targets(self) -> str | None:
        return None

    def once(self, name: str, sql: str) -> str:
        return self.create(name, sql)

    def point_in_time(self, name: str, of: str) -> str:
        return name

    def every_row_exists(self, of: str) -> bool:
        return True

    def has(self, name: str) -> bool:
        return name in self.views

    def runs(self, stage: Stage) -> bool:
        return stage in PORTFOLIO_STAGES and all(self.has(t) for t in stage.needs)

    def create(self, name: str, sql: str) -> str:
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {sql}")
        self.created.append(name)
        return name

    def create_from_arrow(self, name: str, table: pa.Table) -> str:
        self.con.register(f"{name}_arrow", table)
        try:
            return self.create(name, f"SELECT * FROM {name}_arrow")
        finally:
            self.con.unregister(f"{name}_arrow")

    def scalar(self, sql: str) -> object:
        found = self.con.execute(sql).fetchall()
        return found[0][0] if found else None

    def arrow(self, sql: str) -> pa.Table:
        return self.con.sql(sql).to_arrow_table()

    # The portfolio stages run in the first phase: nothing here reads the base features.
    @property
    def base_features(self) -> str:
        raise FeatureError("the portfolio evidence runs no stage that reads base features")

    @property
    def base_feature_columns(self) -> tuple[str, ...]:
        raise FeatureError("the portfolio evidence runs no stage that reads base features")

    def base_features_of(self, columns: Sequence[str]) -> str:
        raise FeatureError("the portfolio evidence runs no stage that reads base features")


def family_stages() -> list[Stage]:
    """The portfolio family's stages, each after the family stages it waits for."""
    own = {s.name: s for s in PORTFOLIO_STAGES}
    ordered: list[Stage] = []

    def visit(name: str) -> None:
        if name in own and own[name] not in ordered:
            for before in own[name].after:
                visit(before.name)
            ordered.append(own[name])

    for name in own:
        visit(name)
    return ordered


def _hash_parts(column: str) -> str:
    d = DUCKDB
    return (f"{d.hex_to_int(f'substr({column}, 1, 8)')} AS hi, "
            f"{d.hex_to_int(f'substr({column}, 9, 8)')} AS lo")


def recompute(cur: duckdb.DuckDBPyConnection, as_of: datetime, ids: list[str],
              present: set[str]) -> dict[str, str]:
    """Run the portfolio family's stages on the neighbourhood; returns the helper tables
    made (name → table on ``cur``). Text matches from it are partial: use :func:`text_matches`."""
    d = DUCKDB
    params: dict[str, Any] = {"t": as_of, "ids": ids}
    has_items = "portfolio_items" in present
    hashes = "SELECT profile_photo_phash AS h FROM accounts WHERE created_at < $t"
    own_hashes = f"{hashes} AND {_IDS}"
    links: list[str] = []
    if has_items:
        hashes += " UNION ALL SELECT image_phash FROM portfolio_items WHERE added_at < $t"
        own_hashes += (" UNION ALL SELECT image_phash FROM portfolio_items "
                       f"WHERE added_at < $t AND {_IDS}")
        links = sorted({r["link"] for r in rows(cur, f"""
            SELECT {nd.normalized_link_sql(d, 'url')} AS link FROM portfolio_items
            WHERE added_at < $t AND {_IDS}""", params) if r["link"]})
    distance = f"{d.bit_count(d.xor('a.hi', 'o.hi'))} + {d.bit_count(d.xor('a.lo', 'o.lo'))}"
    cur.execute(f"""
        CREATE OR REPLACE TEMP TABLE ev_ring AS
        WITH own AS (SELECT DISTINCT h, {_hash_parts('h')} FROM ({own_hashes}) AS x
                     WHERE h IS NOT NULL),
        every AS (SELECT h, {_hash_parts('h')} FROM (SELECT DISTINCT h FROM ({hashes}) AS y
                                                     WHERE h IS NOT NULL) AS z)
        SELECT DISTINCT a.h FROM every AS a JOIN own AS o
          ON {distance} <= {2 * nd.PHASH_MAX_DISTANCE_BITS}""", params)
    cur.execute(f"""
        CREATE OR REPLACE TEMP TABLE ev_accounts AS SELECT * FROM accounts
        WHERE created_at < $t AND ({_IDS} OR profile_photo_phash IN (SELECT h FROM ev_ring))""",
                params)
    views = {"accounts": "ev_accounts"}
    if has_items:
        # A normalized link is a substring of the lower-cased link it came from.
        cur.execute(f"""
            CREATE OR REPLACE TEMP TABLE ev_portfolio_items AS SELECT * FROM portfolio_items
            WHERE added_at < $t AND ({_IDS} OR image_phash IN (SELECT h FROM ev_ring)
                OR len(list_filter($links::VARCHAR[],
                                   lambda k: contains(lower(trim(url)), k))) > 0)""",
                    {**params, "links": links})
        views["portfolio_items"] = "ev_portfolio_items"
    ctx = _NeighbourhoodContext(cur, as_of, views)
    cur.execute(f"CREATE OR REPLACE TEMP TABLE confirmed_accounts AS {confirmed_sql(present)}",
                {"t": as_of} if "labels" in present else {})
    for stage in family_stages():
        if ctx.runs(stage):
            stage.build(ctx)
    return {n: n for n in TABLES if n in ctx.created}


def _phrase_pattern(texts: list[str]) -> str | None:
    """A regular expression matching any description that can be a near-copy of one of
    ``texts`` (normalized): it contains one of the ``half + 1`` chosen shingles of each, as a
    phrase. Shingles with the longest words are chosen: they are the rarest."""
    phrases: set[str] = set()
    for text in texts:
        words = text.split(" ")
        if len(words) < nd.MIN_TEXT_WORDS:
            continue
        shingles = {tuple(words[i:i + nd.SHINGLE_WORDS])
                    for i in range(len(words) - nd.SHINGLE_WORDS + 1)}
        chosen = sorted(shingles, key=lambda s: (-max(map(len, s)), -sum(map(len, s)), s))
        phrases.update(_SEPARATOR.join(s) for s in chosen[:len(shingles) // 2 + 1])
    if not phrases:
        return None
    return f"(^|[^a-z0-9])(?:{'|'.join(sorted(phrases))})([^a-z0-9]|$)"


def text_matches(cur: duckdb.DuckDBPyConnection, as_of: datetime, ids: list[str]
                 ) -> list[dict[str, Any]] | None:
    """Near-copies of the accounts' descriptions in other accounts' items, as match rows
    (account_id, kind, item_id, other_account_id, other_item_id, added_at, other_added_at,
    key, other_key, jaccard); None when there are too many candidates to check cheaply."""
    d = DUCKDB
    params: dict[str, Any] = {"t": as_of, "ids": ids}
    normalized = nd.normalized_text_sql(d, "description")
    own = rows(cur, f"""SELECT {normalized} AS norm FROM portfolio_items
                        WHERE added_at < $t AND description IS NOT NULL AND {_IDS}""", params)
    pattern = _phrase_pattern([r["norm"] for r in own if r["norm"]])
    if pattern is None:
        return []
    candidates = rows(cur, """SELECT count(*) AS n FROM portfolio_items
        WHERE added_at < $t AND description IS NOT NULL
          AND regexp_matches(lower(description), $pattern)""", {**params, "pattern": pattern})
    if candidates[0]["n"] > MAX_TEXT_CANDIDATES:
        return None
    words = nd.text_words_sql(d, "norm")
    shingles = d.list_distinct(d.word_shingles("words", nd.SHINGLE_WORDS))
    # Materialized once: normalizing and shingling is the expensive part.
    cur.execute(f"""
        CREATE OR REPLACE TEMP TABLE ev_text_docs AS
        SELECT item_id, account_id, added_at, norm, {shingles} AS s,
               account_id IN (SELECT unnest($ids::VARCHAR[])) AS is_own
        FROM (SELECT *, {words} AS words FROM (
                SELECT item_id, account_id, added_at, {normalized} AS norm
                FROM portfolio_items
                WHERE added_at < $t AND description IS NOT NULL
                  AND ({_IDS} OR regexp_matches(lower(description), $pattern))) AS n
             ) AS w
        WHERE {d.list_size('words')} >= {nd.MIN_TEXT_WORDS}""", {**params, "pattern": pattern})
    found = rows(cur, f"""
        WITH docs AS (SELECT * FROM ev_text_docs),
        own_shingles AS (SELECT item_id, unnest(s) AS shingle FROM docs WHERE is_own),
        shared AS (  -- an equi-join on shingles: no pass over all pairs of documents
            SELECT o.item_id, c.item_id AS other_item_id, count(*) AS shared
            FROM own_shingles AS o
            JOIN (SELECT item_id, unnest(s) AS shingle FROM docs) AS c
              ON c.shingle = o.shingle AND c.item_id <> o.item_id
            GROUP BY o.item_id, c.item_id
        )
        SELECT a.account_id, a.item_id, a.added_at, a.norm AS key,
               b.account_id AS other_account_id, b.item_id AS other_item_id,
               b.added_at AS other_added_at, b.norm AS other_key,
               CAST(x.shared AS DOUBLE) / (len(a.s) + len(b.s) - x.shared) AS jaccard
        FROM shared AS x JOIN docs AS a ON a.item_id = x.item_id
        JOIN docs AS b ON b.item_id = x.other_item_id
        WHERE CAST(x.shared AS DOUBLE) >= {nd.TEXT_JACCARD_MIN} * (len(a.s) + len(b.s) - x.shared)
        ORDER BY a.item_id, b.item_id""")
    # A text whose near-copies are used by crowds of accounts is a template: no evidence.
    reach: dict[str, set[str]] = defaultdict(set)
    for m in found:
        reach[m["item_id"]] |= {m["account_id"], m["other_account_id"]}
    return [{**m, "kind": "portfolio_text", "distance_bits": None} for m in found
            if m["other_account_id"] != m["account_id"]
            and len(reach[m["item_id"]]) <= nd.COMMON_KEY_ACCOUNTS]
