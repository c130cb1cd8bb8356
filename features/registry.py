"""The feature registry: the signal families, and the order their stages run in.

Every family (a :class:`~.declarations.Family`: stages with the features they emit) is
listed once in ``features/signals/__init__.py``; :func:`build_registry` turns such a list
into a :class:`Registry`. Nothing depends on the list's order or on import order:

- stages run in a topological order of their declared dependencies (``after=``, stage
  objects), ties broken by stage name;
- output columns come grouped by family, families in name order, each family's features
  in its own declaration order.

``FEATURES``, ``STAGES`` and ``PATTERNS`` are the default registry's (every family in
``features/signals/``), filled when that package is imported.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from .declarations import Family, Feature, FeaturePattern, FeatureSpec, Stage, StageContext, stage
from .errors import FeatureError

__all__ = ["FEATURES", "FEATURE_SET_VERSION", "PATTERNS", "STAGES", "Family", "Feature",
           "FeaturePattern", "FeatureSpec", "Registry", "Stage", "StageContext",
           "build_registry", "default_registry", "describe_feature", "feature_names",
           "install", "match_feature", "pattern_rows", "registry_rows", "signals_markdown",
           "stage"]

FEATURE_SET_VERSION = "1"


@dataclass
class Registry:
    """Registered families with their stages, features and feature patterns.

    Build one with :func:`build_registry`. The containers are plain dicts and a list so
    that tests can swap a stage or feature in and out; :meth:`ordered_stages` reads them
    as they are when called.
    """

    families: dict[str, Family] = field(default_factory=dict)
    stages: dict[str, Stage] = field(default_factory=dict)
    features: dict[str, Feature] = field(default_factory=dict)
    patterns: list[FeaturePattern] = field(default_factory=list)

    def ordered_stages(self) -> list[Stage]:
        """Every registered stage, each after the stages it waits for; stages that do not
        depend on each other come in name order, so the order is the same whatever order
        the families were registered in.

        Raises :class:`FeatureError` for a cycle, a stage waiting for one no registered
        family has, or a first-phase stage waiting for a second-phase one.
        """
        ordered: list[Stage] = []
        done: set[str] = set()

        def visit(current: Stage, trail: tuple[str, ...]) -> None:
            if current.name in done:
                return
            if current.name in trail:
                raise FeatureError(f"stages depend on each other in a cycle: "
                                   f"{trail[trail.index(current.name):] + (current.name,)}")
            for before in sorted(current.after, key=lambda s: s.name):
                registered = self.stages.get(before.name)
                if registered is None:
                    raise FeatureError(f"stage {current.name!r} waits for stage "
                                       f"{before.name!r}, which no registered family has")
                visit(registered, trail + (current.name,))
            done.add(current.name)
            ordered.append(current)

        for name in sorted(self.stages):
            visit(self.stages[name], ())
        for current in ordered:
            late = [s.name for s in current.after if self.stages[s.name].reads_base_features]
            if late and not current.reads_base_features:
                raise FeatureError(f"stage {current.name!r} waits for {late}, which read the "
                                   "base features: it must read them too "
                                   "(reads_base_features=True)")
        return ordered

    def match(self, name: str) -> tuple[FeaturePattern, dict[str, str]] | None:
        """The pattern a run-time feature name fits, with its placeholders' values (the
        shortest first placeholder wins, see :class:`FeaturePattern`); None if none fits."""
        fits = [(len(next(iter(fields.values()), "")), i, p, fields)
                for i, p in enumerate(self.patterns) if (fields := p.match(name)) is not None]
        if not fits:
            return None
        best = min(fits, key=lambda f: f[:2])
        return best[2], best[3]

    def describe(self, name: str) -> Feature | None:
        """The entry for a feature column: a static feature, or one named at run time that
        fits a :class:`FeaturePattern`; None for anything else (``attr_*``)."""
        known = self.features.get(name)
        if known is not None:
            return known
        found = self.match(name)
        return found[0].resolve(name) if found else None


def build_registry(families: Iterable[Family]) -> Registry:
    """A registry of ``families``, the same whatever their order.

    Raises :class:`FeatureError` when two families, stages, features or patterns share a
    name, a family reads the evidence of one that is not registered, or the stages'
    dependencies are unusable (see :meth:`Registry.ordered_stages`).
    """
    registry = Registry()
    for family in sorted(families, key=lambda f: f.name):
        if family.name in registry.families:
            raise FeatureError(f"family {family.name!r} is registered twice")
        registry.families[family.name] = family
        for declared in family.stages:
            if declared.name in registry.stages:
                raise FeatureError(f"stage {declared.name!r} is registered twice")
            registry.stages[declared.name] = declared
            for spec in declared.features:
                if spec.name in registry.features:
                    raise FeatureError(f"feature {spec.name!r} is registered twice")
                registry.features[spec.name] = Feature.declared(spec, stage=declared.name,
                                                                family=family.name)
            for pattern in declared.patterns:
                if any(p.pattern == pattern.pattern for p in registry.patterns):
                    raise FeatureError(f"feature pattern {pattern.pattern!r} is registered "
                                       "twice")
                registry.patterns.append(replace(pattern, stage=declared.name,
                                                 family=family.name))
    for family in registry.families.values():
        unknown = [n for n in family.evidence_reads if n not in registry.families]
        if unknown:
            raise FeatureError(f"family {family.name!r} reads the evidence of {unknown}, "
                               "which are not registered")
    registry.ordered_stages()  # fail now on unusable dependencies
    return registry


STAGES: dict[str, Stage] = {}
FEATURES: dict[str, Feature] = {}
PATTERNS: list[FeaturePattern] = []
_DEFAULT = Registry(stages=STAGES, features=FEATURES, patterns=PATTERNS)


def install(families: Iterable[Family]) -> Registry:
    """Make ``families`` the default registry (``FEATURES``, ``STAGES`` and ``PATTERNS``
    are updated in place); ``features/signals/__init__.py`` does it for every family."""
    built = build_registry(families)
    _DEFAULT.families.clear()
    _DEFAULT.families.update(built.families)
    STAGES.clear()
    STAGES.update(built.stages)
    FEATURES.clear()
    FEATURES.update(built.features)
    PATTERNS[:] = built.patterns
    return _DEFAULT


def default_registry() -> Registry:
    """The registry of every family in ``features/signals/``."""
    from . import signals  # noqa: F401  (installs every family)

    return _DEFAULT


def match_feature(name: str) -> tuple[FeaturePattern, dict[str, str]] | None:
    """The pattern a run-time feature name fits, with its placeholders' values (the
    shortest first placeholder wins, see :class:`FeaturePattern`); None if none fits."""
    return default_registry().match(name)


def describe_feature(name: str) -> Feature | None:
    """The registry's entry for a feature column: a static feature, or one named at run
    time that fits a :class:`FeaturePattern`; None for anything else (``attr_*``)."""
    return default_registry().describe(name)


def feature_names() -> list[str]:
    """Names of the static features, in output order (``attr_*`` columns follow them)."""
    return list(default_registry().features)


def registry_rows() -> list[dict[str, Any]]:
    """The registry as plain rows, for docs and model metadata."""
    return [
        {"name": f.name, "family": f.family, "description": f.description,
         "reason": f.reason, "direction": f.direction, "kind": f.kind}
        for f in default_registry().features.values()
    ]


def pattern_rows() -> list[dict[str, Any]]:
    """The feature patterns as plain rows, for docs."""
    return [{"pattern": p.pattern, "family": p.family, "description": p.description,
             "reason": p.reason, "direction": p.direction,
             "placeholders": dict(p.placeholders)} for p in default_registry().patterns]


def signals_markdown() -> str:
    """The registry as the Markdown page ``docs/signals.md``."""
    lines = [
        "# Signals",
        "",
        "Generated by `accountrisk signals --markdown`; a test keeps it equal to the registry.",
        "Each name is the feature column, the model's feature and the key of its reason text.",
        "Direction: + larger means riskier, - larger means less risky, 0 no fixed direction.",
        "Every account_attributes column also becomes a feature `attr_<column>`.",
        "To add a signal family, see [adding-a-signal.md](adding-a-signal.md).",
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
            meanings.update(row["placeholders"])
        lines += [""] + [f"- `<{k}>`: {v}." for k, v in meanings.items()]
    return "\n".join(lines) + "\n"
