"""What a signal family declares: its stages, the features they emit, and the family itself.

A *stage* is one SQL query per account (or a helper that only makes tables for later
stages); a *feature* is one column of a stage's output, named as the model's feature, its
SHAP column and the key of its reason text, so they cannot drift apart. Features are data
(:class:`FeatureSpec`) next to the stage that emits them, whose SQL names its columns
exactly so. A *family* is one module (or small package) under ``features/signals/``
holding its stages, their features and its evidence collector side by side::

    PAYOUT_FEATURES = (
        FeatureSpec("payout_shared_account_count",
                    "Other accounts that use any of this account's payout destinations.",
                    reason="shares payout destinations with {value:.0f} other accounts",
                    fill=0),
    )

    @stage(needs=("payout_methods",), after=(confirmed_accounts,), features=PAYOUT_FEATURES)
    def payout_links(ctx: StageContext) -> str:
        return (f"SELECT account_id, count(*) AS payout_shared_account_count "
                f"FROM {ctx.table('payout_methods')} ...")

    def payout_evidence(con, as_of, ids) -> dict[str, Evidence]:
        ...  # which other accounts use the same destinations

    FAMILY = Family("payout", stages=(payout_links,), evidence=payout_evidence)

Dependencies between stages are the stage objects themselves (``after=``), so the order in
which families are imported or registered never matters (see :mod:`.registry`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Literal, Protocol

import pyarrow as pa

from .dialect import Dialect

if TYPE_CHECKING:  # the evidence types are the scoring layer's
    from accountrisk.scoring.models import Evidence

Kind = Literal["number", "category"]


class StageContext(Protocol):
    """What a stage's SQL builder may use; the pipeline provides it."""

    d: Dialect
    as_of: datetime

    @property
    def as_of_sql(self) -> str: ...

    def table(self, name: str) -> str:
        """The point-in-time view of a contract table (rows dated before as-of)."""
        ...

    def has(self, name: str) -> bool:
        """Whether the data folder had this contract table."""
        ...

    def runs(self, stage: Stage) -> bool:
        """Whether this run includes ``stage`` (its family is registered and the folder has
        every table it needs), so that the helper tables it makes exist once it is done."""
        ...

    def create(self, name: str, sql: str) -> str:
        """Materialize ``sql`` as a helper table other stages may read; returns its name."""
        ...

    def create_from_arrow(self, name: str, table: pa.Table) -> str:
        """Materialize a small Arrow table computed in Python as a helper table."""
        ...

    @property
    def reuses_rows(self) -> bool:
        """Whether :meth:`once` tables outlive this pass (a training set's snapshots share
        them): a stage may then take a path that pays off only across passes."""
        ...

    def once(self, name: str, sql: str) -> str:
        """Materialize a per-row derivation that does not depend on T (it reads
        :meth:`whole_table` rows or other ``once`` tables, never ``as_of``); a training set's
        snapshots compute it once. Read its rows as of T through :meth:`point_in_time`."""
        ...

    def point_in_time(self, name: str, of: str) -> str:
        """A view of the ``once`` table ``name`` holding the rows that exist as of T, by the
        time and account columns of contract table ``of`` (which it must keep), exactly as
        :meth:`table` filters ``of``."""
        ...

    def every_row_exists(self, of: str) -> bool:
        """True when every loaded row of contract table ``of`` exists as of T (none dated
        at or after T, every account created before T): :meth:`point_in_time` would keep
        them all, so a ``once`` table of ``of`` may be read whole (a daily pass as of now)."""
        ...

    def scalar(self, sql: str) -> object:
        """The single value of a small query (e.g. a count that decides a Python loop)."""
        ...

    def arrow(self, sql: str) -> pa.Table:
        """The rows of a small query (e.g. the inputs of a Python-built helper table)."""
        ...

    def whole_table(self, name: str) -> str:
        """A loaded contract table with every row, whatever its date. Only for deciding
        which columns exist (e.g. which link kinds get their own), so that every as-of time
        of one folder gives the same columns, and for :meth:`once` derivations; never for
        feature values directly."""
        ...

    @property
    def targets(self) -> str | None:
        """A table (``account_id``) of the few accounts whose rows this pass hands back (a
        training set's older snapshot), or None: every account's. A stage whose values for
        an account depend only on rows and pairs touching it may compute them for these
        accounts only, provided no later stage reads them for other accounts (neighbour
        aggregates read the key signals of :mod:`..signals.neighbours.naming` for the
        targets' neighbours: see :meth:`reach_rows`); the results for these accounts must
        not change (``tests/features/test_targeted.py``)."""
        ...

    def own_rows(self, name: str) -> str:
        """As :meth:`table`, for a stage whose values for an account read only that
        account's own rows of ``name`` (by ``account_id``) and that no later stage reads for
        other accounts: only the :attr:`targets`' rows when the pass wants a few accounts.
        ``name`` is a contract table or a helper table an earlier stage of this pass made
        with an ``account_id`` column (e.g. the per-session hour slots)."""
        ...

    def add_reach(self, sql: str) -> None:
        """When the pass wants a few accounts (:attr:`targets`), name more accounts whose
        values a second-phase stage reads for them (``sql`` selects ``account_id``: the
        neighbour statistics read their neighbours' key signals). Only for stages that do
        not read :meth:`reach_rows` themselves; a no-op when the pass wants every account."""
        ...

    def reach_rows(self, name: str) -> str:
        """As :meth:`own_rows`, for a stage whose values the second phase reads for other
        accounts too (key signals): the rows of the :attr:`targets` and of every account
        named through :meth:`add_reach`. The stage must be declared ``reads_reach=True``
        (it then runs after the stages that name accounts)."""
        ...

    @property
    def base_features(self) -> str:
        """The view of every per-account feature of the first phase (static features and
        ``attr_*`` columns, one row per account; it joins every first-phase stage's table,
        so read a few columns through :meth:`base_features_of`); only for stages
        registered with ``reads_base_features=True``, which run after it is built."""
        ...

    @property
    def base_feature_columns(self) -> tuple[str, ...]:
        """The numeric columns of :attr:`base_features` that this run computed (features
        of stages whose tables were missing are left out, as are text attributes)."""
        ...

    def base_features_of(self, columns: Sequence[str]) -> str:
        """``account_id`` and ``columns`` of :attr:`base_features`, every account's row (a
        table or parenthesised subquery) joining only the stage tables that hold
        ``columns``."""
        ...


@dataclass(frozen=True)
class Stage:
    """One per-account SQL query of a family, with the features it emits and the stages
    whose helper tables it reads."""

    name: str
    needs: tuple[str, ...]
    build: Callable[[StageContext], str]
    # Stages whose helper tables this one reads: it runs after each of them (when they run
    # at all; a stage whose tables the folder lacks does not). Objects, not names, so that
    # importing this stage's module imports theirs.
    after: tuple[Stage, ...] = ()
    # The features it emits: its SQL has one column per feature, named as the feature, plus
    # account_id (a stage that only makes helper tables emits none).
    features: tuple[FeatureSpec, ...] = ()
    # Run-time names of its columns (second phase only: the names depend on the folder).
    patterns: tuple[FeaturePattern, ...] = ()
    # Second phase: the stage reads the other features of accounts (``ctx.base_features``),
    # so it runs once the per-account base table is built, and its columns are joined on.
    # Its output columns may depend on the folder; each must match a FeaturePattern.
    reads_base_features: bool = False
    # Reads ``ctx.reach_rows``: it runs after the first-phase stages that do not (one of
    # them names the accounts the reach holds), as do the stages that wait for it.
    reads_reach: bool = False

    def __post_init__(self) -> None:
        for before in self.after:
            if not isinstance(before, Stage):
                raise TypeError(f"stage {self.name!r} must name the stages it waits for by "
                                f"object (import them), not {before!r}")


@dataclass(frozen=True)
class FeatureSpec:
    """One feature as its family declares it, next to the stage that emits a column of
    exactly this name."""

    name: str
    description: str  # one sentence: what the value is
    reason: str  # format string; ``{value}`` and context fields such as ``{claimed_timezone}``
    # +1: larger means riskier (monotone constraint candidate); -1 the opposite; 0 unknown.
    direction: int = 1
    # Value when the account has no rows in the stage's tables (the table itself exists);
    # None keeps NULL (unknown), as for ratios over nothing.
    fill: float | None = None
    # The link kinds of its family's evidence that a reason about it shows (a reason "shows
    # the same portfolio link as 1 other account" lists no image matches); empty: all.
    # Kinds as in LinkedAccount.link_kind, SharedToken.kind and MatchedItem.match.
    focus: Iterable[str] = frozenset()
    # False for a feature about the account alone (its age): its family's evidence, other
    # accounts, says nothing about it.
    has_evidence: bool = True
    kind: Kind = "number"

    def __post_init__(self) -> None:
        object.__setattr__(self, "focus", frozenset(self.focus))


@dataclass(frozen=True)
class Feature:
    """A registered feature: its declaration, the stage that emits it and its family."""

    name: str
    stage: str
    family: str
    description: str
    reason: str  # as FeatureSpec.reason
    direction: int = 1  # as FeatureSpec.direction
    fill: float | None = None  # as FeatureSpec.fill
    kind: Kind = "number"
    focus: frozenset[str] = frozenset()  # as FeatureSpec.focus
    has_evidence: bool = True  # as FeatureSpec.has_evidence

    @classmethod
    def declared(cls, spec: FeatureSpec, *, stage: str, family: str) -> Feature:
        """The registry's entry for ``spec``, emitted by ``stage`` of ``family``."""
        return cls(stage=stage, family=family,
                   **{f.name: getattr(spec, f.name) for f in fields(FeatureSpec)})


_PLACEHOLDER = re.compile(r"<([a-z_]+)>")


@dataclass(frozen=True)
class FeaturePattern:
    """Features a stage names at run time, because the names depend on the folder (its
    link kinds, its attribute columns), described once by a pattern.

    ``pattern`` spells the names with ``<placeholders>``: ``nbr_<relation>_confirmed_ratio``.
    ``description`` and ``reason`` use the same placeholders, plus any that ``words``
    derives from the matched ones (``{"signal": ...}`` -> ``{"signal_words": ...}``); the
    reason keeps ``{value...}`` for :func:`~accountrisk.training.predict.render_reason`.
    A placeholder matches letters, digits and ``_``; when a name fits several ways the
    shortest first placeholder wins, so a stage must choose names that resolve back to
    what it meant (the neighbours stage checks this).
    """

    pattern: str
    description: str
    reason: str
    direction: int = 0  # as FeatureSpec.direction
    fill: float | None = None  # as FeatureSpec.fill
    words: Callable[[dict[str, str]], dict[str, str]] | None = None
    placeholders: tuple[tuple[str, str], ...] = ()  # (placeholder, what it stands for)
    stage: str = ""  # set on registration: the stage that emits the columns
    family: str = ""  # set on registration: that stage's family

    @cached_property
    def regex(self) -> re.Pattern[str]:
        parts = _PLACEHOLDER.split(self.pattern)  # text, name, text, name, ..., text
        body = "".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>[A-Za-z0-9_]+?)"
                       for i, p in enumerate(parts))
        return re.compile(body)

    def match(self, name: str) -> dict[str, str] | None:
        """The placeholders' values if ``name`` fits the pattern, else None."""
        found = self.regex.fullmatch(name)
        return found.groupdict() if found else None

    def resolve(self, name: str) -> Feature | None:
        """The feature ``name`` as this pattern describes it, or None if it does not fit."""
        fields = self.match(name)
        if fields is None:
            return None
        if self.words:
            fields = {**fields, **self.words(fields)}

        def filled(text: str) -> str:
            return _PLACEHOLDER.sub(lambda m: fields.get(m.group(1), m.group(0)), text)

        return Feature(name=name, stage=self.stage, family=self.family,
                       description=filled(self.description), reason=filled(self.reason),
                       direction=self.direction, fill=self.fill)


# collector(con, as_of, account_ids) -> {account_id: Evidence}: what a reviewer checks behind
# a reason (DuckDB connection, naive-UTC as-of time; see accountrisk.scoring.evidence). A
# family that reads other families' evidence is also given family=, a function from a
# family name to that family's {account_id: Evidence}.
EvidenceCollector = Callable[..., "dict[str, Evidence]"]
# narrow(feature, evidence) -> the part of the family's evidence one feature is about.
EvidenceNarrowing = Callable[[str, "Evidence"], "Evidence"]


@dataclass(frozen=True)
class Family:
    """A signal family: its stages with the features they emit, and the evidence behind
    its reasons.

    ``name`` is the family of each of its features (docs, evidence). ``evidence`` collects
    what a reviewer checks behind a reason of any of its features (see
    :data:`EvidenceCollector`); ``narrow`` keeps what one feature is about, for features
    without a declared ``focus``; ``evidence_reads`` names the families whose evidence the
    collector reads (it gets ``family=``); ``kept_tables`` are the helper tables its
    evidence reads when ``build_features_for_evidence`` kept them.

    Families are registered as a set (:func:`~accountrisk.features.registry.build_registry`):
    their order never matters.
    """

    name: str
    stages: tuple[Stage, ...]
    evidence: EvidenceCollector | None = None
    narrow: EvidenceNarrowing | None = None
    evidence_reads: tuple[str, ...] = ()
    kept_tables: tuple[str, ...] = ()

    @property
    def features(self) -> tuple[FeatureSpec, ...]:
        """Every feature its stages emit, in declaration order."""
        return tuple(f for s in self.stages for f in s.features)

    @property
    def patterns(self) -> tuple[FeaturePattern, ...]:
        """Every feature pattern of its stages, in declaration order."""
        return tuple(p for s in self.stages for p in s.patterns)


def stage(needs: tuple[str, ...] = (), after: tuple[Stage, ...] = (), *,
          features: tuple[FeatureSpec, ...] = (), patterns: tuple[FeaturePattern, ...] = (),
          reads_base_features: bool = False, reads_reach: bool = False
          ) -> Callable[[Callable[[StageContext], str]], Stage]:
    """Declare a stage; its name is the function's name. ``after`` lists the stages whose
    helper tables it reads, ``features`` the columns its SQL emits (``patterns``: their
    names, for a second-phase stage); ``reads_base_features`` puts it in the second phase,
    ``reads_reach`` after the stages that name its reach (see :class:`Stage`)."""

    def declare(build: Callable[[StageContext], str]) -> Stage:
        return Stage(name=build.__name__, needs=tuple(needs), build=build, after=tuple(after),
                     features=tuple(features), patterns=tuple(patterns),
                     reads_base_features=reads_base_features, reads_reach=reads_reach)

    return declare
