"""Where a training set's snapshot rows come from: two paths that give the same rows.

A snapshot takes the features of its decided accounts and of a random sample of the
accounts active then with no decision before T (the unlabelled pool, in feature-row order:
by account id). The *reference* path builds every account's features at every snapshot and
picks rows in Python. The *lean* path (the default) finds the pool on the engine, draws the
same sample positions from the same random stream (``choice(pool)`` of an increasing pool
equals ``pool[choice(len(pool))]``), hands back only the rows the set takes, lets the
snapshots share the stages' per-row derivations (:class:`~..features.pipeline.RowCache`),
and lets an older snapshot's stages that can compute the wanted accounts' rows alone do so
(``build_features(accounts=...)``).
The final snapshot (T) is the population the review bands and the drift reference are
read from: every account active at T, or a uniform sample of at most ``size`` of them
(:data:`POPULATION_SAMPLE` by default), drawn the same way on both paths. On Spark nothing
proportional to all accounts reaches the driver: the pools' sizes, the sampled ids and
their rows do.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pyarrow as pa

from ..features.engine import Engine
from ..features.pipeline import RowCache, build_features

DECIDED = "_training_decided"
CHOSEN = "_training_accounts"
POSITIONS = "_training_positions"
# Accounts whose features as of T stand for the active population (review bands, drift
# reference, plots, ground-truth metrics): a band's top 0.5% then holds 500 of them, and
# the share it takes of the whole population is off by about 0.02 points (binomial).
POPULATION_SAMPLE = 100_000


def active_sql(engine: Engine, as_of: datetime, active_days: int) -> str:
    """Accounts with a session or work action in the ``active_days`` before T, not already
    confirmed fraudulent before T; every account created before T if neither table exists."""
    d, t = engine.dialect, engine.dialect.timestamp_literal(as_of)
    start = d.timestamp_literal(as_of - timedelta(days=active_days))
    tables = engine.tables()
    parts = [f"SELECT account_id FROM {name} WHERE {col} >= {start} AND {col} < {t}"
             for name, col in (("sessions", "started_at"), ("activity", "ts")) if name in tables]
    if not parts:
        parts = [f"SELECT account_id FROM accounts WHERE created_at < {t}"]
    active = " UNION ".join(parts)
    if "labels" not in tables:
        return active
    confirmed = f"""
        SELECT account_id FROM (
            SELECT account_id, label,
                   row_number() OVER (PARTITION BY account_id
                                      ORDER BY decided_at DESC, label DESC) AS pick
            FROM labels WHERE decided_at < {t}) AS l
        WHERE pick = 1 AND label = 1"""
    return (f"SELECT account_id FROM ({active}) AS a "
            f"WHERE account_id NOT IN ({confirmed})")


def active_accounts(engine: Engine, as_of: datetime, active_days: int) -> set[str]:
    """The accounts of :func:`active_sql`, as a set."""
    found = engine.arrow(active_sql(engine, as_of, active_days))
    return set(found.column("account_id").to_pylist())


def decision_snapshots(created: np.ndarray, decided: np.ndarray, missing: np.ndarray,
                       limit: int) -> np.ndarray:
    """Each ``missing`` decided account's read time at an extra snapshot (NaT where none):
    the fewest times such that each account existed then (created before) and was not yet
    decided (the time is at or before its decision). Greedy over decisions in time order:
    an account decided at d opens a snapshot at d that every later-decided account created
    before d shares. Past ``limit`` snapshots, those reading the most accounts are kept."""
    read = np.full(len(decided), np.datetime64("NaT"), "datetime64[us]")
    order = [i for i in np.argsort(decided, kind="stable")
             if missing[i] and created[i] < decided[i]]
    opened: list[np.datetime64] = []
    members: list[list[int]] = []
    for i in order:
        if not opened or created[i] >= opened[-1]:
            opened.append(decided[i])
            members.append([])
        members[-1].append(i)
    for k in sorted(range(len(opened)), key=lambda k: -len(members[k]))[:limit]:
        read[members[k]] = opened[k]
    return read


def rows_of(table: pa.Table, accounts: np.ndarray) -> pa.Table:
    """The rows of ``table`` for ``accounts``, in that order."""
    position = {a: i for i, a in enumerate(table.column("account_id").to_pylist())}
    return table.take(pa.array([position[a] for a in accounts], pa.int64()))


def with_meta(table: pa.Table, snapshot: datetime, label: np.ndarray, decided: np.ndarray,
              labelled: bool, holdout: np.ndarray, weight: np.ndarray) -> pa.Table:
    """``table`` (feature rows read at ``snapshot``) with a training set's meta columns."""
    n = table.num_rows
    decided_us = np.asarray(decided, dtype="datetime64[us]")
    times = decided_us if labelled else np.full(n, np.datetime64(snapshot, "us"))
    return (table
            .append_column("_snapshot", pa.array([snapshot] * n, pa.timestamp("us")))
            .append_column("_label", pa.array(label, pa.float64()))
            .append_column("_decided_at", pa.array(decided_us, pa.timestamp("us")))
            .append_column("_time", pa.array(times, pa.timestamp("us")))
            .append_column("_labelled", pa.array([labelled] * n, pa.bool_()))
            .append_column("_holdout", pa.array(holdout, pa.bool_()))
            .append_column("_weight", pa.array(weight, pa.float64())))


def population_positions(count: int, rng: np.random.Generator, size: int) -> np.ndarray:
    """Sorted positions of the final snapshot's sample among ``count`` active accounts
    ordered by id: all of them when they are at most ``size``."""
    if count <= size:
        return np.arange(count)
    return np.sort(rng.choice(count, size=size, replace=False))


def _ids(table: pa.Table) -> np.ndarray:
    return np.asarray(table.column("account_id").to_pylist(), dtype=object)


class ReferenceSnapshots:
    """Every account's features at every snapshot, rows picked in Python."""

    def __init__(self, engine: Engine, decided_before_t: np.ndarray, active_days: int) -> None:
        self.engine, self.active_days = engine, active_days
        self.decided = set(decided_before_t.tolist())
        self.table: pa.Table | None = None

    def final(self, moment: datetime, rng: np.random.Generator, size: int
              ) -> tuple[pa.Table, int]:
        table = build_features(self.engine, moment)
        active = active_accounts(self.engine, moment, self.active_days)
        ids = np.array([a for a in _ids(table) if a in active], dtype=object)
        return rows_of(table, ids[population_positions(len(ids), rng, size)]), len(ids)

    def sample(self, snapshot: datetime, rng: np.random.Generator, size: int
               ) -> tuple[np.ndarray, float]:
        self.table = build_features(self.engine, snapshot)
        ids = _ids(self.table)
        active = active_accounts(self.engine, snapshot, self.active_days)
        pool = np.flatnonzero([a in active and a not in self.decided for a in ids])
        take = min(len(pool), size)
        if take == 0:
            return ids[:0], 0.0
        return ids[np.sort(rng.choice(pool, size=take, replace=False))], len(pool) / take

    def rows(self, snapshot: datetime, accounts: np.ndarray) -> pa.Table:
        assert self.table is not None
        return self.table

    def close(self) -> None:
        self.table = None


class LeanSnapshots:
    """The pool found on the engine; only the rows the set takes are built and handed back."""

    def __init__(self, engine: Engine, decided_before_t: np.ndarray, active_days: int) -> None:
        self.engine, self.active_days = engine, active_days
        self.cache = RowCache(engine)
        engine.create_table_from_arrow(DECIDED, pa.table(
            {"account_id": pa.array(sorted(set(decided_before_t.tolist())), pa.string())}))

    def _active_sql(self, snapshot: datetime) -> str:
        """The accounts that exist and are active at ``snapshot``."""
        t = self.engine.dialect.timestamp_literal(snapshot)
        return f"""
            SELECT account_id FROM accounts
            WHERE created_at < {t}
              AND account_id IN ({active_sql(self.engine, snapshot, self.active_days)})"""

    def _pool_sql(self, snapshot: datetime) -> str:
        return (f"{self._active_sql(snapshot)}\n"
                f"              AND account_id NOT IN (SELECT account_id FROM {DECIDED})")

    def final(self, moment: datetime, rng: np.random.Generator, size: int
              ) -> tuple[pa.Table, int]:
        pool = self._active_sql(moment)
        count = self._count(pool)
        if count <= size:
            self.engine.create_table(CHOSEN, pool)
        else:
            self.engine.create_table_from_arrow(CHOSEN, pa.table({"account_id": pa.array(
                self._picked(pool, population_positions(count, rng, size)), pa.string())}))
        return self._build(moment), count

    def _count(self, pool: str) -> int:
        found = self.engine.scalar(f"SELECT count(*) FROM ({pool}) AS p")
        return int(found) if isinstance(found, int) else 0

    def sample(self, snapshot: datetime, rng: np.random.Generator, size: int
               ) -> tuple[np.ndarray, float]:
        pool = self._pool_sql(snapshot)
        count = self._count(pool)
        take = min(count, size)
        if take == 0:
            return np.array([], dtype=object), 0.0
        positions = np.sort(rng.choice(count, size=take, replace=False))
        return self._picked(pool, positions), count / take

    def _picked(self, pool: str, positions: np.ndarray) -> np.ndarray:
        """The ids at ``positions`` of ``pool`` ordered by id."""
        self.engine.create_table_from_arrow(POSITIONS, pa.table(
            {"position": pa.array(positions, pa.int64())}))
        try:
            found = self.engine.arrow(f"""
                SELECT account_id FROM (
                    SELECT account_id, row_number() OVER (ORDER BY account_id) - 1 AS position
                    FROM ({pool}) AS p) AS numbered
                WHERE position IN (SELECT position FROM {POSITIONS})
                ORDER BY account_id""")
        finally:
            self.engine.drop([POSITIONS])
        return _ids(found)

    def rows(self, snapshot: datetime, accounts: np.ndarray) -> pa.Table:
        self.engine.create_table_from_arrow(CHOSEN, pa.table(
            {"account_id": pa.array(sorted(set(accounts.tolist())), pa.string())}))
        return self._build(snapshot)

    def _build(self, snapshot: datetime) -> pa.Table:
        try:
            return build_features(self.engine, snapshot, cache=self.cache, accounts=CHOSEN)
        finally:
            self.engine.drop([CHOSEN])

    def close(self) -> None:
        self.cache.drop()
        self.engine.drop([DECIDED])
