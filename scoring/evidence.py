"""The evidence behind each reason: other accounts, shortened tokens, matched items, hours.

A reviewer reads "shares payout destinations with 6 other accounts" and asks *which ones*.
:func:`collect_evidence` answers for a few accounts at a time, point in time (only rows
dated before as-of, labels decided before it), from the loaded contract tables of a DuckDB
database. Each signal family carries its own collector, next to its stage SQL
(``Family.evidence`` in ``features/signals/``), so a new feature of a family gets its
family's evidence with no change here, and a new family brings its own.

Cheap per account: small bound queries for payouts, sessions and activity. Portfolio
matches and link groups are global searches; they are read from the pipeline's own helper
tables when the features were built with :func:`build_features_for_evidence` on the same
connection, and otherwise recomputed around the requested accounts (portfolio) or reduced
to direct links (identity graph).

Thread safety: a DuckDB connection must not be shared between threads. Give each thread
its own ``engine.con.cursor()`` (contract tables are shared; the kept helper tables are
temporary tables of the connection that built them, so a cursor recomputes), or serialize
calls on one connection with a lock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from accountrisk.features.declarations import EvidenceCollector, EvidenceNarrowing
from accountrisk.features.errors import UsageError
from accountrisk.features.pipeline import build_features, parse_as_of
from accountrisk.features.registry import Family, Feature, default_registry
from accountrisk.scoring import _timeline
from accountrisk.scoring.evidence_tools import (
    as_of_moment,
    connection,
    id_list,
    keep_helper_tables,
    shorten_token,
)
from accountrisk.scoring.models import Evidence

__all__ = ["HELPER_TABLES", "build_features_for_evidence", "collect_evidence",  # noqa: F822 (module __getattr__)
           "collect_timeline", "collect_timelines", "account_profile", "account_profiles",
           "helper_tables", "register_collector", "shorten_token",
           "without_evidence"]

EMPTY = Evidence()
TIMELINE_TOKENS_PER_KIND = _timeline.TIMELINE_TOKENS_PER_KIND


def helper_tables() -> tuple[str, ...]:
    """The pipeline's helper tables that evidence and rings read when kept: every family's
    ``kept_tables``."""
    return tuple(t for f in default_registry().families.values() for t in f.kept_tables)


def __getattr__(name: str) -> Any:
    # HELPER_TABLES follows the registered families, which are known once they are imported.
    if name == "HELPER_TABLES":
        return helper_tables()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def build_features_for_evidence(engine: Any, as_of: str | datetime, *,
                                progress: Any = None) -> Any:
    """:func:`~accountrisk.features.pipeline.build_features`, keeping the helper tables
    that evidence and rings read (renamed ``evidence__*``, with the as-of time recorded).

    Call it instead of ``build_features`` when reasons will need evidence: evidence for
    portfolio matches and link groups then comes from the very tables the features were
    computed from, cheaply. The kept tables are temporary tables of this engine's
    connection (other connections or cursors recompute instead).
    """
    moment = parse_as_of(as_of)
    kept = helper_tables()
    result = build_features(engine, moment, progress=progress, keep=kept)
    keep_helper_tables(connection(engine), kept, moment)
    return result


def register_collector(family: str, collector: EvidenceCollector,
                       narrow: EvidenceNarrowing | None = None) -> None:
    """Use ``collector(con, as_of, account_ids) -> {account_id: Evidence}`` for every
    feature of the registered family ``family`` instead of its own collector;
    ``narrow(feature, evidence)``, if given, keeps what one feature is about. A new family
    declares its collector on its ``Family`` instead."""
    registry = default_registry()
    found = registry.families.get(family)
    if found is None:
        raise UsageError(f"no signal family is named {family!r}; families: "
                         f"{', '.join(sorted(registry.families))}")
    registry.families[family] = replace(found, evidence=collector, narrow=narrow)


def without_evidence(feature: str) -> None:
    """Give the registered feature ``feature`` no evidence even though its family has some
    (it describes the account alone, like its age); a family declares this with
    ``FeatureSpec(..., has_evidence=False)``."""
    registry = default_registry()
    known = registry.features.get(feature)
    if known is None:
        raise UsageError(f"{feature!r} is not a registered feature")
    registry.features[feature] = replace(known, has_evidence=False)


def collect_evidence(engine: Any, as_of: str | datetime, account_ids: Iterable[str],
                     features: Sequence[str] | None = None
                     ) -> dict[str, dict[str, Evidence]]:
    """Evidence per account and feature: ``{account_id: {feature: Evidence}}``.

    ``engine`` is a ``DuckDBEngine`` (or a DuckDB connection or cursor) holding the loaded
    contract tables; any table but ``accounts`` may be missing (its evidence is then empty).
    ``features`` defaults to every registered feature; a feature outside the registry (an
    ``attr_*`` column) or with nothing to show gets an empty Evidence. Features of one
    family share one Evidence object.
    """
    registry = default_registry()
    con = connection(engine)
    moment = as_of_moment(as_of)
    ids = id_list(account_ids)
    wanted = list(registry.features) if features is None else list(features)
    memo: dict[str, dict[str, Evidence]] = {}

    def family_evidence(name: str) -> dict[str, Evidence]:
        if name not in memo:
            family = registry.families.get(name)
            if family is None or family.evidence is None or not ids:
                memo[name] = {}
            elif family.evidence_reads:
                memo[name] = family.evidence(con, moment, ids,
                                             family=_reading(family, family_evidence))
            else:
                memo[name] = family.evidence(con, moment, ids)
        return memo[name]

    out: dict[str, dict[str, Evidence]] = {a: {} for a in ids}
    for feature in wanted:
        known = registry.describe(feature)  # neighbour aggregates are named at run time
        if known is not None and not known.has_evidence:
            known = None
        found = family_evidence(known.family) if known is not None else {}
        for account in ids:
            evidence = found.get(account, EMPTY)
            if known is not None and evidence is not EMPTY:
                evidence = _focused(known, evidence, registry.families.get(known.family))
            out[account][feature] = evidence
    return out


def _reading(family: Family, family_evidence: Callable[[str], dict[str, Evidence]]
             ) -> Callable[[str], dict[str, Evidence]]:
    """The ``family=`` a collector that reads other families' evidence gets: those its
    family declares (``evidence_reads``), and no others."""
    def read(name: str) -> dict[str, Evidence]:
        if name not in family.evidence_reads:
            raise UsageError(f"family {family.name!r} reads the evidence of {name!r}, which "
                             "its Family.evidence_reads does not list")
        return family_evidence(name)
    return read


def _focused(feature: Feature, evidence: Evidence, family: Family | None) -> Evidence:
    """What of its family's evidence ``feature`` is about: its focus kinds, or what the
    family's narrowing keeps (a reason about co_worked neighbours lists those only)."""
    if feature.focus:
        return _narrowed(evidence, feature.focus)
    if family is not None and family.narrow is not None:
        return family.narrow(feature.name, evidence)
    return evidence


def _narrowed(evidence: Evidence, kinds: frozenset[str]) -> Evidence:
    """Only the accounts, tokens and items of ``kinds`` (notes and counts stay)."""
    return evidence.model_copy(update={
        "accounts": [a for a in evidence.accounts if a.link_kind in kinds],
        "tokens": [t for t in evidence.tokens if t.kind in kinds],
        "items": [i for i in evidence.items if i.match in kinds]})


def account_profile(engine: Any, as_of: str | datetime, account_id: str) -> dict[str, Any]:
    """What the case report's header shows: the account row (display name included, for
    analysts' eyes only) and its latest decision before as-of, if any. Empty if unknown."""
    return account_profiles(engine, as_of, [account_id]).get(account_id, {})


def account_profiles(engine: Any, as_of: str | datetime, account_ids: Iterable[str]
                     ) -> dict[str, dict[str, Any]]:
    """:func:`account_profile` of many accounts in one query per table (unknown ids are
    left out)."""
    return _timeline.profiles(connection(engine), as_of_moment(as_of), id_list(account_ids))


def collect_timeline(engine: Any, as_of: str | datetime, account_id: str) -> dict[str, Any]:
    """First and last use of each payout destination, device and IP of one account before
    as-of, for the case report's timeline.

    Returns ``{"account_id", "created_at", "as_of", "tracks": [...], "omitted": {kind: n},
    "hours": {"histogram": 24 ints, "claimed_timezone"} or None}``;
    each track is ``{"kind": "payout"|"device"|"ip", "token": shortened, "first_seen",
    "last_seen", "count", "detail", "amount_usd", "shared_with"}``. At most
    ``TIMELINE_TOKENS_PER_KIND`` tokens per kind (the most used) are kept.
    """
    return collect_timelines(engine, as_of, [account_id])[account_id]


def collect_timelines(engine: Any, as_of: str | datetime, account_ids: Iterable[str]
                      ) -> dict[str, dict[str, Any]]:
    """:func:`collect_timeline` of many accounts, reading each table once for all."""
    return _timeline.timelines(connection(engine), as_of_moment(as_of), id_list(account_ids))
