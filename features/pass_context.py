"""The context a feature pass hands its stages (:class:`~.declarations.StageContext`), and
the per-row derivations a caller's passes share (:class:`RowCache`).

Point-in-time views, helper tables, and, when the pass wants a few accounts, the rows each
stage may restrict itself to: ``own_rows`` (the wanted accounts') and ``reach_rows`` (theirs
and the accounts a second-phase stage reads for them).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import pyarrow as pa

from . import contract
from .declarations import Stage
from .dialect import Dialect
from .engine import Engine
from .errors import FeatureError

# Above this share of the accounts, a stage reading reach_rows reads every row: filtering
# costs more than it saves (a dense relation reaches almost everyone in one hop).
REACH_MAX_SHARE = 0.5
REACH_TABLE = "reach_account_ids"


@dataclass
class RowCache:
    """Per-row derivations of the loaded tables that do not depend on T (normalized texts
    and their shingles, rows converted to claimed-local hours), kept on the engine between
    feature passes of one caller, so that the snapshots of a training set compute them
    once. Only for a caller that does not reload the data meanwhile; :meth:`drop` removes
    them."""

    engine: Engine
    names: list[str] = field(default_factory=list)

    def drop(self) -> None:
        self.engine.drop(self.names)
        self.names.clear()


@dataclass
class _Context:
    """The StageContext handed to stage builders."""

    engine: Engine
    d: Dialect
    as_of: datetime
    available: frozenset[str]
    created: list[str] = field(default_factory=list)
    running: frozenset[str] = frozenset()  # names of the stages this run includes
    base: str | None = None  # set once the first phase's table exists
    base_columns: tuple[str, ...] = ()
    # Given columns of the base, SQL joining only the stage tables that hold them (set with
    # the base, see base_features_of).
    narrow_base: Callable[[Sequence[str]], str] | None = None
    cache: RowCache | None = None
    targets: str | None = None
    # Queries of accounts a second-phase stage reads for the targets (add_reach), then,
    # once the stages reading reach_rows start (open_reach), their table (None: every row).
    reach_sources: list[str] = field(default_factory=list)
    reach: str | None = None
    reach_open: bool = False
    # No account was created at or after T: every row's account exists as of T (see
    # _point_in_time_sql).
    all_accounts_exist: bool = False

    @property
    def as_of_sql(self) -> str:
        return self.d.timestamp_literal(self.as_of)

    def table(self, name: str) -> str:
        if name not in self.available:
            raise FeatureError(f"table {name!r} is not loaded; a stage needing it must list it")
        return f"pit_{name}"

    def own_rows(self, name: str) -> str:
        if self.targets is None:
            return self._rows_of(name)
        return self._rows_among(name, self.targets, "own")

    def add_reach(self, sql: str) -> None:
        if self.targets is None:
            return
        if self.reach_open:
            raise FeatureError("a stage named reach accounts after stages read reach_rows: "
                               "declare the readers with reads_reach=True")
        self.reach_sources.append(sql)

    def open_reach(self) -> None:
        """Make the reach table before the first stage reading it (see
        :meth:`reach_rows`); above ``REACH_MAX_SHARE`` of the accounts, every row is read."""
        self.reach_open = True
        if self.targets is None:
            return
        parts = [f"SELECT account_id FROM {self.targets}", *self.reach_sources]
        reach = self.create(REACH_TABLE, " UNION ".join(
            f"SELECT account_id FROM ({sql}) AS r{i}" for i, sql in enumerate(parts)))
        counts = self.engine.arrow(f"""
            SELECT (SELECT count(*) FROM {reach}) AS held,
                   (SELECT count(*) FROM {self.table('accounts')}) AS existing""").to_pylist()[0]
        self.reach = reach if int(counts["held"]) <= REACH_MAX_SHARE * int(counts["existing"]) \
            else None

    def reach_rows(self, name: str) -> str:
        view = self._rows_of(name)
        if self.targets is None:
            return view
        if not self.reach_open:
            raise FeatureError(f"reach_rows({name!r}) read before the reach was known: declare "
                               "the stage with reads_reach=True")
        if self.reach is None:
            return view
        return self._rows_among(name, self.reach, "reach_rows")

    def _rows_of(self, name: str) -> str:
        """A contract table's view as of T, or a helper table this pass made."""
        made = name in self.created or (self.cache is not None and name in self.cache.names)
        return name if made else self.table(name)

    def _rows_among(self, name: str, accounts: str, prefix: str) -> str:
        """The view ``<prefix>_<name>``: the rows of :meth:`_rows_of` whose account is in
        ``accounts`` (made once per pass)."""
        view = f"{prefix}_{name}"
        if view not in self.created:
            self.engine.create_view(view, f"SELECT * FROM {self._rows_of(name)} WHERE "
                                          f"account_id IN (SELECT account_id FROM {accounts})")
            self.created.append(view)
        return view

    def whole_table(self, name: str) -> str:
        if name not in self.available:
            raise FeatureError(f"table {name!r} is not loaded; a stage needing it must list it")
        return name

    @property
    def base_features(self) -> str:
        if self.base is None:
            raise FeatureError("the base features are not built yet: a stage reading them "
                               "must be registered with reads_base_features=True")
        return self.base

    @property
    def base_feature_columns(self) -> tuple[str, ...]:
        return self.base_columns

    def base_features_of(self, columns: Sequence[str]) -> str:
        base = self.base_features
        return base if self.narrow_base is None else f"({self.narrow_base(columns)})"

    def has(self, name: str) -> bool:
        return name in self.available

    def runs(self, stage: Stage) -> bool:
        return stage.name in self.running

    def create(self, name: str, sql: str) -> str:
        self.engine.create_table(name, sql)
        self.created.append(name)
        return name

    @property
    def reuses_rows(self) -> bool:
        return self.cache is not None

    def once(self, name: str, sql: str) -> str:
        if self.cache is None:
            return self.create(name, sql)
        if name not in self.cache.names:
            self.engine.create_table(name, sql)
            self.cache.names.append(name)
        return name

    def point_in_time(self, name: str, of: str) -> str:
        columns = [c for c, _ in self.engine.columns(name)]
        table = contract.table(of)
        missing = [c for c in (table.time_column, *table.account_columns)
                   if c is not None and c not in columns]
        if missing:
            raise FeatureError(f"{name!r} must keep {', '.join(missing)} of {of!r} to be "
                               "filtered as of T")
        view = f"pit_{name}"
        self.engine.create_view(view, _point_in_time_sql(
            table, columns, self.as_of_sql, source=name,
            all_accounts_exist=self.all_accounts_exist))
        self.created.append(view)
        return view

    def every_row_exists(self, of: str) -> bool:
        column = contract.table(of).time_column
        return self.all_accounts_exist and (column is None or not self.engine.scalar(
            f"SELECT count(*) FROM {self.whole_table(of)} WHERE {column} >= {self.as_of_sql}"))

    def create_from_arrow(self, name: str, table: pa.Table) -> str:
        self.engine.create_table_from_arrow(name, table)
        self.created.append(name)
        return name

    def scalar(self, sql: str) -> object:
        return self.engine.scalar(sql)

    def arrow(self, sql: str) -> pa.Table:
        return self.engine.arrow(sql)


def _point_in_time_sql(table: contract.Table, columns: list[str], as_of_sql: str, *,
                       source: str | None = None, all_accounts_exist: bool = False) -> str:
    """The rows of ``table`` (or of ``source``, a per-row derivation of it keeping its time
    and account columns) that exist as of T: dated before T, and (real exports backfill)
    about accounts that exist before T, so a row dated before its account's creation
    counts only once the account exists. Features as of T are then the same on a folder
    and on that folder cut at T, where such rows would name unknown accounts."""
    select = ", ".join(columns)
    conditions = []
    if table.time_column is not None:
        column = table.column_by_name[table.time_column]
        condition = f"{column.name} < {as_of_sql}"
        if not column.required:  # unknown time means "always" (account_links.linked_at)
            condition = f"({column.name} IS NULL OR {condition})"
        conditions.append(condition)
    if table.name != "accounts" and all_accounts_exist:
        # Loading keeps only rows whose accounts are in `accounts`, so when all of them were
        # created before T the look-up (a join per scan, a shuffle of the rows on Spark once
        # the accounts pass its broadcast limit) decides nothing but NULLs.
        conditions += [f"{name} IS NOT NULL" for name in table.account_columns
                       if name in columns]
    elif table.name != "accounts":
        existing = f"(SELECT account_id FROM accounts WHERE created_at < {as_of_sql})"
        conditions += [f"{name} IN {existing}" for name in table.account_columns
                       if name in columns]
    where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    return f"SELECT {select} FROM {source or table.name}{where}"
