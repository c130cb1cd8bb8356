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

from collections.abc import Callable
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Stage:
    """One per-account SQL query that a family of features reads."""

    name: str
    needs: tuple[str, ...]
    build: Callable[[StageContext], str]
    after: tuple[str, ...] = ()  # stages whose helper tables this one reads


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


STAGES: dict[str, Stage] = {}
FEATURES: dict[str, Feature] = {}


def stage(needs: tuple[str, ...] = (), after: tuple[str, ...] = ()):
    """Register a stage; its name is the function's name."""

    def register(build: Callable[[StageContext], str]) -> Stage:
        name = build.__name__
        if name in STAGES:
            raise ValueError(f"stage {name!r} is registered twice")
        registered = Stage(name=name, needs=tuple(needs), build=build, after=tuple(after))
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
    return "\n".join(lines) + "\n"
