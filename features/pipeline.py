"""Run every registered signal as of a time T: one pipeline, any engine.

The pipeline makes point-in-time views of the loaded contract tables (only rows dated
before T), runs each stage's SQL into a table keyed by account, and joins them onto the
accounts that existed before T: the *base* features. Stages registered with
``reads_base_features`` (neighbour aggregates: what an account's neighbours look like) then
run over that base table, and their columns are joined on after the base columns.
A pass that wants a few accounts' rows (a training set's older snapshot) lets stages
compute theirs alone (:mod:`.pass_context`: ``own_rows``, and ``reach_rows`` for the key
signals the neighbour statistics read, whose stages run last in the first phase).
Engines differ only in :mod:`.dialect` and :mod:`.engine`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa

from . import contract
from .engine import Engine
from .errors import FeatureError
from .pass_context import RowCache, _Context, _point_in_time_sql
from .registry import Feature, Registry, Stage, default_registry

Progress = Callable[[str, float, float], None]  # step, done, total (fractions allowed)

ATTRIBUTE_PREFIX = "attr_"
# Stages may compute the rows of requested accounts alone (StageContext.targets) when these
# are at most this share of the accounts (a training set's older snapshots: its decided and
# sampled accounts); above it they compute every account's, which costs less then.
TARGETED_MAX_SHARE = 0.2


def parse_as_of(text: str | datetime) -> datetime:
    """An as-of time from an ISO date or date-time; naive means UTC. Returns naive UTC."""
    if isinstance(text, datetime):
        moment = text
    else:
        try:
            moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
        except ValueError:
            raise FeatureError(
                f"as-of time {text!r} is not an ISO date or date-time; "
                "write it like 2026-06-01 or 2026-06-01T12:00:00Z") from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def _stage_sql(stage: Stage, features: list[Feature], ctx: _Context) -> str:
    """The stage's query, reduced to ``account_id`` and its features' columns as DOUBLE."""
    inner = stage.build(ctx)
    columns = ", ".join(f"CAST({f.name} AS DOUBLE) AS {f.name}" for f in features)
    return f"SELECT account_id, {columns} FROM ({inner}) AS s"


def _attribute_columns(engine: Engine) -> list[tuple[str, str, bool]]:
    """(source column, feature name, is_category) for each account_attributes column."""
    out = []
    for name, type_name in engine.columns("account_attributes"):
        if name == "account_id":
            continue
        is_category = type_name.upper() in ("VARCHAR", "STRING")
        out.append((name, ATTRIBUTE_PREFIX + name, is_category))
    return out


def build_features(engine: Engine, as_of: str | datetime, *,
                   progress: Progress | None = None, keep: Sequence[str] = (),
                   registry: Registry | None = None, cache: RowCache | None = None,
                   accounts: str | None = None) -> pa.Table:
    """Features of every account created before ``as_of``, one row per account.

    Only rows whose own timestamp is before ``as_of`` count, and labels decided before it.
    A contract table the folder did not have leaves its signals NULL for every account.
    Helper tables the stages made (pair and group tables) are dropped afterwards, except
    those named in ``keep`` (e.g. ``link_group_membership`` for the rings view), which stay
    until the engine's connection closes. ``registry`` defaults to every signal family
    (:func:`~.registry.default_registry`). ``cache`` keeps the stages' per-row derivations
    for the next pass of the same caller (see :class:`RowCache`). ``accounts`` names a table
    on the engine with an ``account_id`` column: only those accounts' rows are returned (on
    Spark only they reach the driver); when they are at most ``TARGETED_MAX_SHARE`` of the
    accounts, stages that can compute their rows alone do (:attr:`StageContext.targets`:
    the proposal search, account takeover, the neighbour statistics, the hour profiles; the
    key signals' stages compute theirs and their neighbours'), with the same values.
    """
    name = build_features_table(engine, as_of, progress=progress, keep=keep,
                                registry=registry, cache=cache, accounts=accounts)
    if progress:
        progress("collect", 1, 1)
    try:
        return engine.arrow(f"SELECT * FROM {name} ORDER BY account_id")
    finally:
        engine.drop([name])


def write_features(engine: Engine, as_of: str | datetime, path: Path, *,
                   progress: Progress | None = None) -> tuple[int, int]:
    """As :func:`build_features`, but the rows go straight to ``path`` (Parquet or CSV by its
    extension) without passing through Python where the engine can write files itself
    (DuckDB: within its memory limit). Returns the number of accounts and of signals."""
    name = build_features_table(engine, as_of, progress=progress)
    if progress:
        progress("write", 1, 1)
    try:
        engine.write_file(f"SELECT * FROM {name} ORDER BY account_id", path)
        accounts = engine.scalar(f"SELECT count(*) FROM {name}")
        return int(accounts), len(engine.columns(name)) - 1  # type: ignore[call-overload]
    finally:
        engine.drop([name])


def build_features_table(engine: Engine, as_of: str | datetime, *, name: str = "features",
                         progress: Progress | None = None, keep: Sequence[str] = (),
                         registry: Registry | None = None, cache: RowCache | None = None,
                         accounts: str | None = None) -> str:
    """As :func:`build_features`, but the rows stay on the engine as the table ``name``
    (returned): on Spark they are not collected to the driver, so batch scoring can read
    them where they are. The caller drops the table."""
    registry = registry or default_registry()
    moment = parse_as_of(as_of)
    loaded = engine.tables()
    if "accounts" not in loaded:
        raise FeatureError("no accounts table is loaded; run `accountrisk validate DATA_DIR` "
                           "and load the folder first")
    available = frozenset(t.name for t in contract.TABLES if t.name in loaded)
    ctx = _Context(engine=engine, d=engine.dialect, as_of=moment, available=available,
                   cache=cache)
    ctx.all_accounts_exist = not engine.scalar(
        f"SELECT count(*) FROM accounts WHERE created_at >= {ctx.as_of_sql}")
    for loaded_name in sorted(available):
        table = contract.table(loaded_name)
        columns = [c for c, _ in engine.columns(loaded_name)]
        engine.create_view(f"pit_{loaded_name}", _point_in_time_sql(
            table, columns, ctx.as_of_sql, all_accounts_exist=ctx.all_accounts_exist))
    if accounts is not None and _few(engine, accounts):
        ctx.targets = accounts

    stages = registry.ordered_stages()
    runnable = [s for s in stages if all(ctx.has(t) for t in s.needs)]
    ctx.running = frozenset(s.name for s in runnable)
    first = _reach_last([s for s in runnable if not s.reads_base_features])
    second = [s for s in runnable if s.reads_base_features]
    outputs: dict[str, str] = {}
    for i, stage in enumerate(first):
        if progress:
            progress(stage.name, i, len(runnable))
        if stage.reads_reach and not ctx.reach_open:
            ctx.open_reach()
        features = [f for f in registry.features.values() if f.stage == stage.name]
        if features:
            outputs[stage.name] = ctx.create(f"stage_{stage.name}",
                                             _stage_sql(stage, features, ctx))
        else:
            stage.build(ctx)  # a stage that only makes helper tables for later stages
    if progress:
        progress("join", len(first), len(runnable))
    base_sql, numeric = _base_sql(engine, ctx, outputs, registry)
    # The requested accounts are picked before the stages' tables are joined on: DuckDB
    # does not push an IN filter through some forty LEFT JOINs of every account's rows.
    picked_sql = base_sql if accounts is None else _base_sql(
        engine, ctx, outputs, registry, accounts=accounts)[0]
    if not second:
        engine.create_table(name, picked_sql)
    else:
        # A view, not a table: the neighbour stage reads a few of its columns (joining
        # only their stages' tables), the final join all of them once.
        ctx.base = f"{name}_base"
        engine.create_view(ctx.base, base_sql)
        ctx.created.append(ctx.base)
        ctx.narrow_base = lambda columns: _base_sql(engine, ctx, outputs, registry,
                                                    set(columns))[0]
        ctx.base_columns = tuple(numeric)
        joined = []
        for i, stage in enumerate(second, start=len(first)):
            if progress:
                progress(stage.name, i, len(runnable))
            made = ctx.create(f"stage_{stage.name}", f"SELECT * FROM ({stage.build(ctx)}) AS s")
            joined.append((made, _run_time_features(engine, stage, made, registry)))
        if progress:
            progress("join", len(runnable), len(runnable))
        final = _joined_sql(f"({picked_sql})", joined, engine)
        engine.create_table(name, f"SELECT * FROM ({final}) AS j")
    engine.drop([n for n in ctx.created if n not in keep]
                + [f"pit_{n}" for n in available if f"pit_{n}" not in keep])
    return name


def _reach_last(stages: list[Stage]) -> list[Stage]:
    """First-phase stages in order, those reading ``reach_rows`` (and those waiting for
    them) last: the others may name the accounts the reach holds
    (:meth:`StageContext.add_reach`)."""
    late: set[str] = set()
    for s in stages:  # in dependency order: a stage's waits are decided before it
        if s.reads_reach or any(before.name in late for before in s.after):
            late.add(s.name)
    return [s for s in stages if s.name not in late] + [s for s in stages if s.name in late]


def _few(engine: Engine, accounts: str) -> bool:
    """Whether ``accounts`` are few enough for stages to compute their rows alone: a
    targeted search looks at each pair from both sides and one hop further, so it pays only
    well below a third of the accounts."""
    counts = engine.arrow(f"""
        SELECT (SELECT count(*) FROM {accounts}) AS wanted,
               (SELECT count(*) FROM pit_accounts) AS existing""").to_pylist()[0]
    return int(counts["wanted"]) <= TARGETED_MAX_SHARE * int(counts["existing"])


def _base_sql(engine: Engine, ctx: _Context, outputs: dict[str, str], registry: Registry,
              columns: set[str] | None = None, accounts: str | None = None
              ) -> tuple[str, list[str]]:
    """The first phase's table: every static feature (NULL when its stage did not run) and
    every attribute column, per account created before T; and its numeric columns that
    this run computed. ``columns``: only these (and only the tables holding them);
    ``accounts``: only the accounts of this table."""
    def wanted(column: str) -> bool:
        return columns is None or column in columns

    select = ["a.account_id"]
    joins = []
    numeric = []
    for stage_name, table_name in outputs.items():
        if columns is not None and not any(f.stage == stage_name and f.name in columns
                                           for f in registry.features.values()):
            continue
        alias = f"j_{stage_name}"
        joins.append(f"LEFT JOIN {table_name} AS {alias} ON {alias}.account_id = a.account_id")
    for f in registry.features.values():
        if registry.stages[f.stage].reads_base_features or not wanted(f.name):
            continue  # second-phase columns are joined on in the second phase
        if f.stage in outputs:
            value = f"j_{f.stage}.{f.name}"
            if f.fill is not None:
                value = f"coalesce({value}, CAST({f.fill!r} AS DOUBLE))"
            select.append(f"{value} AS {f.name}")
            numeric.append(f.name)
        else:
            select.append(f"CAST(NULL AS DOUBLE) AS {f.name}")
    attributes = [c for c in _attribute_columns(engine) if wanted(c[1])] \
        if ctx.has("account_attributes") else []
    if attributes:
        joins.append("LEFT JOIN pit_account_attributes AS attrs ON attrs.account_id = a.account_id")
        for column, attribute, is_category in attributes:
            kind = ctx.d.string_type if is_category else "DOUBLE"
            source = f"attrs.{engine.quote(column)}"
            select.append(f"CAST({source} AS {kind}) AS {engine.quote(attribute)}")
            if not is_category:
                numeric.append(attribute)
    source = "pit_accounts" if accounts is None else (
        f"(SELECT * FROM pit_accounts WHERE account_id IN "
        f"(SELECT account_id FROM {accounts}))")
    return f"SELECT {', '.join(select)} FROM {source} AS a {' '.join(joins)}", numeric


def _run_time_features(engine: Engine, stage: Stage, table: str, registry: Registry
                       ) -> list[Feature]:
    """The features of a second-phase stage's output columns, each described by the
    registry (a static feature of the stage or a pattern of it)."""
    out = []
    for column, _ in engine.columns(table):
        if column == "account_id":
            continue
        found = registry.describe(column)
        if found is None or found.stage != stage.name:
            raise FeatureError(f"stage {stage.name!r} made column {column!r}, which no "
                               "feature or feature pattern of that stage describes")
        out.append(found)
    return out


def _joined_sql(base: str, joined: list[tuple[str, list[Feature]]], engine: Engine) -> str:
    """The base table with the second phase's columns joined on (fills applied)."""
    select = ["b.*"]
    joins = []
    for i, (table, features) in enumerate(joined):
        alias = f"n{i}"
        joins.append(f"LEFT JOIN {table} AS {alias} ON {alias}.account_id = b.account_id")
        for f in features:
            column = engine.quote(f.name)
            value = f"CAST({alias}.{column} AS DOUBLE)"
            if f.fill is not None:
                value = f"coalesce({value}, CAST({f.fill!r} AS DOUBLE))"
            select.append(f"{value} AS {column}")
    return f"SELECT {', '.join(select)} FROM {base} AS b {' '.join(joins)}"


def feature_columns(result: pa.Table) -> list[str]:
    """The feature columns of a :func:`build_features` result (all but ``account_id``)."""
    return [c for c in result.column_names if c != "account_id"]
