"""Names, words and directions of the neighbour aggregates.

A column is ``nbr_<relation>_<aggregate>``: per relation the neighbours' count and link
strength, the shares of them decided before T, and the mean, maximum and standard
deviation of each *signal* of theirs: the ``KEY_SIGNALS`` (base features that tell a
fronting cell from an agency sharing one payout account) and the numeric ``attr_*``
columns. The names depend on the folder, so the registry describes them by pattern
(:data:`PATTERNS`), and :func:`column_names` checks that every name it makes resolves back
to its relation and signal.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ...errors import FeatureError
from ...pipeline import ATTRIBUTE_PREFIX
from ...registry import describe_feature, match_feature
from .relations import Relation

PREFIX = "nbr_"
FAMILY = "neighbours"
# Attribute columns aggregated over neighbours, in the folder's column order: enough for the
# public fraud graphs' exports (10 to 32 attributes); each costs three columns a relation
# and time in the stage (100k accounts, 4.5M links, 32 numeric attributes: 18 s at 32 against
# 9 s at 16; benchmarks/neighbours.py --attributes 28, docs/training-log.md).
MAX_ATTRIBUTE_SIGNALS = 32

# Base features aggregated over neighbours: (words in a reason, the value as text). None
# may read a label: an account's own label would reach it through its neighbours' values.
KEY_SIGNALS: dict[str, tuple[str, str]] = {
    "activity_claimed_night_ratio": ("night-work share", "{value:.0%}"),
    "activity_implied_offset_gap_hours": ("gap between activity-implied and claimed UTC offset",
                                          "{value:.1f} hours"),
    "browser_offset_gap_mean_hours": ("browser clock gap to the claimed zone",
                                      "{value:.1f} hours"),
    "remote_access_session_ratio": ("share of remote-desktop sessions", "{value:.0%}"),
    "anonymizer_session_ratio": ("share of VPN, proxy or Tor sessions", "{value:.0%}"),
    "ip_country_mismatch_session_ratio": ("share of sessions from outside the claimed country",
                                          "{value:.0%}"),
    "account_age_days": ("account age", "{value:.0f} days"),
    "payout_shared_account_count": ("count of other accounts on their payout destinations",
                                    "{value:.1f}"),
}
# The largest magnitude some key signals can take (shares: 1; hours around the clock: 12).
# Their weighted means are scaled by it rather than by the largest value over all
# accounts: stages reading reach rows compute them for the wanted accounts' reach only.
SIGNAL_BOUNDS: dict[str, float] = {
    "activity_claimed_night_ratio": 1.0,
    "activity_implied_offset_gap_hours": 12.0,
    "browser_offset_gap_mean_hours": 12.0,
    "ip_country_mismatch_session_ratio": 1.0,
}
PLACEHOLDERS = (
    ("relation", "a marketplace link kind (its 4 most frequent, as lower-case identifiers), "
                 "`other_link` (the other kinds), `payout`, `access` or `portfolio`"),
    ("signal", "one of " + ", ".join(f"`{s}`" for s in KEY_SIGNALS)
               + f", or a numeric `attr_*` column (the first {MAX_ATTRIBUTE_SIGNALS} in the "
                 "folder's column order)"),
)


@dataclass(frozen=True)
class Aggregate:
    """One aggregate per relation (``per_signal``: one per signal) and its registry text."""

    suffix: str  # the name after nbr_<relation>_ (before _<signal>)
    column: str  # its column in the per-relation statistics table
    description: str
    reason: str
    direction: int = 0
    fill: float | None = None
    per_signal: bool = False

    @property
    def pattern(self) -> str:
        tail = f"{self.suffix}_<signal>" if self.per_signal else self.suffix
        return f"{PREFIX}<relation>_{tail}"


# Directions only where surely right: a larger share of confirmed neighbours is riskier.
# A cleared neighbour was reviewed, and reviews follow suspicion, so cleared shares have no
# fixed direction; degree and signal statistics neither (dense relations are normal).
AGGREGATES: tuple[Aggregate, ...] = (
    Aggregate("account_count", "account_n", fill=0,
              description="Accounts tied to this one by <relation> before T.",
              reason="is tied by <relation> to {value:.0f} other accounts"),
    Aggregate("link_count", "link_n", fill=0,
              description="Its <relation> ties counted by strength (link rows, shared "
                          "destinations, or kinds of shared access or portfolio match).",
              reason="has {value:.0f} <relation> ties to other accounts, counting repeats"),
    Aggregate("confirmed_ratio", "confirmed_ratio", direction=1,
              description="Share of its <relation> neighbours whose latest decision before T "
                          "is confirmed fraud (NULL without neighbours).",
              reason="{value:.0%} of its <relation> neighbours were confirmed fraudulent "
                     "before T"),
    Aggregate("cleared_ratio", "cleared_ratio",
              description="Share of its <relation> neighbours whose latest decision before T "
                          "cleared them (NULL without neighbours).",
              reason="{value:.0%} of its <relation> neighbours were cleared by review before T"),
    Aggregate("decided_confirmed_ratio", "decided_confirmed_ratio", direction=1,
              description="Of its <relation> neighbours decided before T, the share confirmed "
                          "fraudulent (NULL when none was decided, or when under 5% of "
                          "the export's other decisions before T are clearances: bans alone).",
              reason="{value:.0%} of its <relation> neighbours decided before T were "
                     "confirmed fraudulent"),
    Aggregate("two_hop_confirmed_ratio", "two_hop_confirmed_ratio", direction=1,
              description="Share confirmed fraudulent before T among the accounts two "
                          "<relation> ties away (one per path through a neighbour; itself "
                          "excluded).",
              reason="{value:.0%} of the accounts two <relation> ties away were confirmed "
                     "fraudulent before T"),
    Aggregate("mean", "mean", per_signal=True,
              description="Mean of <signal> over its <relation> neighbours, weighted by tie "
                          "strength.",
              reason="its <relation> neighbours' mean <signal_words> is <signal_value>"),
    Aggregate("max", "max", per_signal=True,
              description="Largest <signal> among its <relation> neighbours.",
              reason="the highest <signal_words> among its <relation> neighbours is "
                     "<signal_value>"),
    Aggregate("std", "std", per_signal=True,
              description="Standard deviation of <signal> over its <relation> neighbours, "
                          "weighted by tie strength.",
              reason="its <relation> neighbours' <signal_words> varies by <signal_value> "
                     "(standard deviation)"),
)


def signal_words(fields: dict[str, str]) -> dict[str, str]:
    """Reason words for a matched ``<signal>``: the key signal's own, else the attribute's
    name."""
    signal = fields.get("signal")
    if signal is None:
        return {}
    if signal in KEY_SIGNALS:
        words, value = KEY_SIGNALS[signal]
    else:
        words, value = signal.removeprefix(ATTRIBUTE_PREFIX), "{value:.3g}"
    return {"signal_words": words, "signal_value": value}


def signals(base_columns: tuple[str, ...]) -> list[str]:
    """The base columns aggregated over neighbours in this run: the key signals that were
    computed, then the first ``MAX_ATTRIBUTE_SIGNALS`` numeric attribute columns."""
    present = set(base_columns)
    keys = [s for s in KEY_SIGNALS if s in present]
    attributes = [c for c in base_columns if c.startswith(ATTRIBUTE_PREFIX)]
    return keys + attributes[:MAX_ATTRIBUTE_SIGNALS]


def _name(relation: str, aggregate: Aggregate, signal: str | None) -> str:
    tail = f"{aggregate.suffix}_{signal}" if signal else aggregate.suffix
    return f"{PREFIX}{relation}_{tail}"


def _resolves(relation: str, signal_names: list[str]) -> bool:
    """Whether every name of ``relation`` reads back as this relation (and signal)."""
    for aggregate in AGGREGATES:
        for signal in (signal_names if aggregate.per_signal else [None]):
            name = _name(relation, aggregate, signal)
            found = describe_feature(name)
            expected = aggregate.reason.replace("<relation>", relation)
            if signal is not None:
                words = signal_words({"signal": signal})
                expected = (expected.replace("<signal_words>", words["signal_words"])
                            .replace("<signal_value>", words["signal_value"]))
            if found is None or found.reason != expected:
                return False
    return True


def named(found: list[Relation], signal_names: list[str]) -> list[Relation]:
    """The relations with the names their columns carry: a link kind whose names would
    read back as another relation or signal (a kind called ``x_mean`` and the like) is
    renamed ``link_kind_<relation id>``."""
    out = []
    for relation in found:
        name = relation.name
        if not _resolves(name, signal_names):
            name = f"link_kind_{relation.relation_id}"
            if not _resolves(name, signal_names):
                raise FeatureError(f"neighbour feature names of relation {relation.name!r} "
                                   "do not resolve in the registry")
        out.append(replace(relation, name=name))
    return out


def column_names(found: list[Relation], signal_names: list[str]
                 ) -> list[tuple[Relation, str, Aggregate, int | None]]:
    """Every output column of :func:`named` relations: (relation, column name, aggregate,
    signal index or None)."""
    out: list[tuple[Relation, str, Aggregate, int | None]] = []
    for relation in found:
        for aggregate in AGGREGATES:
            if aggregate.per_signal:
                out += [(relation, _name(relation.name, aggregate, s), aggregate, i)
                        for i, s in enumerate(signal_names)]
            else:
                out.append((relation, _name(relation.name, aggregate, None), aggregate, None))
    return out


def relation_of(feature: str) -> str | None:
    """The relation a neighbour feature is about (None for any other feature)."""
    found = match_feature(feature)
    if found is None or found[0].family != FAMILY:
        return None
    return found[1].get("relation")
