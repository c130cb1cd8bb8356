"""The feature registry: every signal with its name, description and reason template.

A feature is a function whose name is its output column (Hamilton style). The same name is
the model's feature name, its SHAP column and the key of its reason text, so they cannot
drift apart. A *stage* is one SQL query per account that a family of features reads::

    @stage(needs=("payout_methods",))
    def payout_links(ctx: StageContext) -> str:
        return f"SELECT account_id, count(*) AS shared_count FROM {ctx.table('payout_methods')} ..."

    @feature(payout_links, reason="shares payout accounts with {value:.0f} other accounts", fill=0)
    def payout_shared_account_count(d: Dialect) -> str:
        '''Other accounts using any of this account's payout destinations.'''
        return "shared_count"
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from datetime import datetime
from typing import Literal, Protocol

import pyarrow as pa

from .dialect import Dialect

FEATURE_SET_VERSION = "1"


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
    after: tuple[str, ...] = ()  # stages whose helper tables this one reads
    # Second phase: the stage reads the other features of accounts (``ctx.base_features``),
    # so it runs once the per-account base table is built, and its columns are joined on.
    # Its output columns may depend on the folder; each must match a FeaturePattern.
    reads_base_features: bool = False


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


STAGES: dict[str, Stage] = {}
FEATURES: dict[str, Feature] = {}
PATTERNS: list[FeaturePattern] = []


def stage(needs: tuple[str, ...] = (), after: tuple[str, ...] = (), *,
          reads_base_features: bool = False):
    """Register a stage; its name is the function's name. ``reads_base_features`` puts it
    in the second phase (see :class:`Stage`)."""

    def register(build: Callable[[StageContext], str]) -> Stage:
        name = build.__name__
        if name in STAGES:
            raise ValueError(f"stage {name!r} is registered twice")
        registered = Stage(name=name, needs=tuple(needs), build=build, after=tuple(after),
                           reads_base_features=reads_base_features)
        STAGES[name] = registered
        return registered

    return register


def feature(of: Stage, *, reason: str, direction: int = 1, fill: float | None = None,
            family: str | None = None):
    """Register a feature computed from stage ``of``; its name is the function's name and
    its description the first line of the docstring."""

    def register(expression: Callable[[Dialect], str]) -> Callable[[Dialect], str]:
        name = expression.__name__
        if name in FEATURES:
            raise ValueError(f"feature {name!r} is registered twice")
        doc = (expression.__doc__ or "").strip().splitlines()
        if not doc:
            raise ValueError(f"feature {name!r} needs a one-line docstring (its description)")
        module_family = expression.__module__.rsplit(".", 1)[-1]
        FEATURES[name] = Feature(
            name=name,
            stage=of.name,
            family=family or module_family,
            description=doc[0],
            reason=reason,
            expression=expression,
            direction=direction,
            fill=fill,
        )
        return expression

    return register


def feature_pattern(of: Stage, pattern: str, *, description: str, reason: str,
                    direction: int = 0, fill: float | None = None, family: str,
                    words: Callable[[dict[str, str]], dict[str, str]] | None = None,
                    placeholders: tuple[tuple[str, str], ...] = ()) -> FeaturePattern:
    """Register a pattern of run-time feature names made by stage ``of`` (see
    :class:`FeaturePattern`)."""
    if any(p.pattern == pattern for p in PATTERNS):
        raise ValueError(f"feature pattern {pattern!r} is registered twice")
    registered = FeaturePattern(pattern=pattern, stage=of.name, family=family,
                                description=description, reason=reason,
                                direction=direction, fill=fill, words=words,
                                placeholders=tuple(placeholders))
    PATTERNS.append(registered)
    return registered


def match_feature(name: str) -> tuple[FeaturePattern, dict[str, str]] | None:
    """The pattern a run-time feature name fits, with its placeholders' values (the
    shortest first placeholder wins, see :class:`FeaturePattern`); None if none fits."""
    from . import signals  # noqa: F401  (registers every family)

    fits = [(len(next(iter(fields.values()), "")), i, p, fields)
            for i, p in enumerate(PATTERNS) if (fields := p.match(name)) is not None]
    if not fits:
        return None
    best = min(fits, key=lambda f: f[:2])
    return best[2], best[3]


def describe_feature(name: str) -> Feature | None:
    """The registry's entry for a feature column: a static feature, or one named at run
    time that fits a :class:`FeaturePattern`; None for anything else (``attr_*``)."""
    from . import signals  # noqa: F401  (registers every family)

    known = FEATURES.get(name)
    if known is not None:
        return known
    found = match_feature(name)
    return found[0].resolve(name) if found else None


def feature_names() -> list[str]:
    """Names of the static features, in output order (``attr_*`` columns follow them)."""
    from . import signals  # noqa: F401  (registers every family)

    return list(FEATURES)


def registry_rows() -> list[dict[str, object]]:
    """The registry as plain rows, for docs and model metadata."""
    from . import signals  # noqa: F401

    return [
        {"name": f.name, "family": f.family, "description": f.description,
         "reason": f.reason, "direction": f.direction, "kind": f.kind}
        for f in FEATURES.values()
    ]


def pattern_rows() -> list[dict[str, object]]:
    """The feature patterns as plain rows, for docs."""
    from . import signals  # noqa: F401

    return [{"pattern": p.pattern, "family": p.family, "description": p.description,
             "reason": p.reason, "direction": p.direction,
             "placeholders": dict(p.placeholders)} for p in PATTERNS]


def signals_markdown() -> str:
    """The registry as the Markdown page ``docs/signals.md``."""
    lines = [
        "# Signals",
        "",
        "Generated by `accountrisk signals --markdown`; a test keeps it equal to the registry.",
        "Each name is the feature column, the model's feature and the key of its reason text.",
        "Direction: + larger means riskier, - larger means less risky, 0 no fixed direction.",
        "Every account_attributes column also becomes a feature `attr_<column>`.",
        "",
        "| signal | family | direction | description | reason template |",
        "|---|---|---|---|---|",
    ]
    sign = {1: "+", -1: "-", 0: "0"}
    for row in registry_rows():
        reason = str(row["reason"]).replace("|", "\\|")
        lines.append(f"| `{row['name']}` | {row['family']} | {sign[int(row['direction'])]} | "
                     f"{row['description']} | {reason} |")
    patterns = pattern_rows()
    if patterns:
        lines += [
            "",
            "## Signals named after the folder",
            "",
            "These columns exist when the folder has what they are about; their names carry",
            "a marketplace's own words (link kinds, attribute columns), so the registry",
            "describes them by pattern. `<placeholders>` stand for the parts of a name; the",
            "description and reason template of a column are the pattern's with them filled in.",
            "",
            "| pattern | family | direction | description | reason template |",
            "|---|---|---|---|---|",
        ]
        for row in patterns:
            # A bare <placeholder> would read as an HTML tag in rendered Markdown.
            reason = str(row["reason"]).replace("|", "\\|").replace("<", "\\<")
            description = str(row["description"]).replace("<", "\\<")
            lines.append(f"| `{row['pattern']}` | {row['family']} | "
                         f"{sign[int(row['direction'])]} | {description} | {reason} |")
        meanings: dict[str, str] = {}
        for row in patterns:
            meanings.update(row["placeholders"])  # type: ignore[arg-type]
        lines += [""] + [f"- `<{k}>`: {v}." for k, v in meanings.items()]
    return "\n".join(lines) + "\n"
