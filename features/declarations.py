"""What a signal family declares: its stages, the features they emit, and the family itself.

A *stage* is one SQL query per account (or a helper that only makes tables for later
stages); a *feature* is one column of a stage's output, named as the model's feature, its
SHAP column and the key of its reason text, so they cannot drift apart. A *family* is one
module (or small package) under ``features/signals/`` holding its stages and features side
by side::

    @stage(needs=("payout_methods",), after=(confirmed_accounts,))
    def payout_links(ctx: StageContext) -> str:
        return f"SELECT account_id, count(*) AS shared_count FROM {ctx.table('payout_methods')} ..."

    @feature(payout_links, reason="shares payout accounts with {value:.0f} other accounts", fill=0)
    def payout_shared_account_count(d: Dialect) -> str:
        '''Other accounts using any of this account's payout destinations.'''
        return "shared_count"

    FAMILY = Family("payout", stages=(payout_links,), features=(payout_shared_account_count,))

Dependencies between stages are the stage objects themselves (``after=``), so the order in
which families are imported or registered never matters (see :mod:`.registry`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Literal, Protocol

import pyarrow as pa

from .dialect import Dialect


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

    def scalar(self, sql: str) -> object:
        """The single value of a small query (e.g. a count that decides a Python loop)."""
        ...

    def arrow(self, sql: str) -> pa.Table:
        """The rows of a small query (e.g. the inputs of a Python-built helper table)."""
        ...

    def whole_table(self, name: str) -> str:
        """A loaded contract table with every row, whatever its date. Only for deciding
        which columns exist (e.g. which link kinds get their own), so that every as-of time
        of one folder gives the same columns; never for feature values."""
        ...

    @property
    def base_features(self) -> str:
        """The table of every per-account feature of the first phase (static features and
        ``attr_*`` columns, one row per account); only for stages registered with
        ``reads_base_features=True``, which run after it is built."""
        ...

    @property
    def base_feature_columns(self) -> tuple[str, ...]:
        """The numeric columns of :attr:`base_features` that this run computed (features
        of stages whose tables were missing are left out, as are text attributes)."""
        ...


@dataclass(frozen=True)
class Stage:
    """One per-account SQL query that a family of features reads."""

    name: str
    needs: tuple[str, ...]
    build: Callable[[StageContext], str]
    # Stages whose helper tables this one reads: it runs after each of them (when they run
    # at all; a stage whose tables the folder lacks does not). Objects, not names, so that
    # importing this stage's module imports theirs.
    after: tuple[Stage, ...] = ()
    # Second phase: the stage reads the other features of accounts (``ctx.base_features``),
    # so it runs once the per-account base table is built, and its columns are joined on.
    # Its output columns may depend on the folder; each must match a FeaturePattern.
    reads_base_features: bool = False

    def __post_init__(self) -> None:
        for before in self.after:
            if not isinstance(before, Stage):
                raise TypeError(f"stage {self.name!r} must name the stages it waits for by "
                                f"object (import them), not {before!r}")


@dataclass(frozen=True)
class Feature:
    """One model feature: output column, meaning, reason text and how it is computed."""

    name: str
    stage: str
    family: str
    description: str
    reason: str  # format string; ``{value}`` and context fields such as ``{claimed_timezone}``
    expression: Callable[[Dialect], str]
    # +1: larger means riskier (monotone constraint candidate); -1 the opposite; 0 unknown.
    direction: int = 1
    # Value when the account has no rows in the stage's tables (the table itself exists);
    # None keeps NULL (unknown), as for ratios over nothing.
    fill: float | None = None
    kind: Literal["number", "category"] = "number"


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
    stage: str
    family: str
    description: str
    reason: str
    direction: int = 0  # as Feature.direction
    fill: float | None = None  # as Feature.fill
    words: Callable[[dict[str, str]], dict[str, str]] | None = None
    placeholders: tuple[tuple[str, str], ...] = ()  # (placeholder, what it stands for)

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
                       expression=lambda d: name, direction=self.direction, fill=self.fill)


@dataclass(frozen=True)
class Family:
    """A signal family: its stages, the features and feature patterns they emit.

    ``name`` is the family of each of its features (docs, evidence). Families are
    registered as a set (:func:`~accountrisk.features.registry.build_registry`): their
    order never matters.
    """

    name: str
    stages: tuple[Stage, ...]
    features: tuple[Feature, ...] = ()
    patterns: tuple[FeaturePattern, ...] = ()


def stage(needs: tuple[str, ...] = (), after: tuple[Stage, ...] = (), *,
          reads_base_features: bool = False) -> Callable[[Callable[[StageContext], str]], Stage]:
    """Declare a stage; its name is the function's name. ``after`` lists the stages whose
    helper tables it reads; ``reads_base_features`` puts it in the second phase (see
    :class:`Stage`)."""

    def declare(build: Callable[[StageContext], str]) -> Stage:
        return Stage(name=build.__name__, needs=tuple(needs), build=build, after=tuple(after),
                     reads_base_features=reads_base_features)

    return declare


def feature(of: Stage, *, reason: str, direction: int = 1, fill: float | None = None
            ) -> Callable[[Callable[[Dialect], str]], Feature]:
    """Declare a feature computed from stage ``of``; its name is the function's name and
    its description the first line of the docstring. Its family is set when its
    :class:`Family` is registered."""

    def declare(expression: Callable[[Dialect], str]) -> Feature:
        name = expression.__name__
        doc = (expression.__doc__ or "").strip().splitlines()
        if not doc:
            raise ValueError(f"feature {name!r} needs a one-line docstring (its description)")
        return Feature(name=name, stage=of.name, family="", description=doc[0],
                       reason=reason, expression=expression, direction=direction, fill=fill)

    return declare


def feature_pattern(of: Stage, pattern: str, *, description: str, reason: str,
                    direction: int = 0, fill: float | None = None,
                    words: Callable[[dict[str, str]], dict[str, str]] | None = None,
                    placeholders: tuple[tuple[str, str], ...] = ()) -> FeaturePattern:
    """Declare a pattern of run-time feature names made by stage ``of`` (see
    :class:`FeaturePattern`); its family is set when its :class:`Family` is registered."""
    return FeaturePattern(pattern=pattern, stage=of.name, family="", description=description,
                          reason=reason, direction=direction, fill=fill, words=words,
                          placeholders=tuple(placeholders))
