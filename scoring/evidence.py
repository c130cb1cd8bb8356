"""The evidence behind each reason: other accounts, shortened tokens, matched items, hours.

A reviewer reads "shares payout destinations with 6 other accounts" and asks *which ones*.
:func:`collect_evidence` answers for a few accounts at a time, point in time (only rows
dated before as-of, labels decided before it), from the loaded contract tables of a DuckDB
database. Evidence is chosen by the feature's *family* in the registry, so a new feature in
a family gets its family's evidence with no change here; another family registers its own
collector with :func:`register_collector`.

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

from accountrisk.features.registry import (FEATURES, Feature, default_registry,
                                           describe_feature)
from accountrisk.scoring._evidence_common import (HELPER_TABLES, as_of_moment,
                                                  build_features_for_evidence, connection,
                                                  id_list, shorten_token)
from accountrisk.scoring._evidence_families import (access_evidence, hours_evidence,
                                                    payout_evidence, takeover_evidence)
from accountrisk.scoring import _timeline
from accountrisk.scoring._evidence_graph import identity_evidence
from accountrisk.scoring._evidence_neighbours import narrow as narrow_neighbours
from accountrisk.scoring._evidence_neighbours import neighbour_evidence
from accountrisk.scoring._evidence_portfolio import portfolio_evidence
from accountrisk.scoring.models import Evidence

__all__ = ["HELPER_TABLES", "build_features_for_evidence", "collect_evidence",
           "collect_timeline", "collect_timelines", "account_profile", "account_profiles",
           "register_collector", "shorten_token",
           "without_evidence"]

Collector = Callable[..., dict[str, Evidence]]
Narrow = Callable[[str, Evidence], Evidence]
_COLLECTORS: dict[str, Collector] = {
    "payout": payout_evidence,
    "access": access_evidence,
    "working_hours": hours_evidence,
    "portfolio": portfolio_evidence,
    "takeover": takeover_evidence,
    "identity_graph": identity_evidence,
    "neighbours": neighbour_evidence,
}
# Collectors that fall back on other families' evidence (passed as ``family=``).
_READ_FAMILIES = {identity_evidence, neighbour_evidence}
# Per family, what of its evidence one feature shows (a reason about co_worked neighbours
# lists those, not the payout neighbours).
_NARROW: dict[str, Narrow] = {"neighbours": narrow_neighbours}
EMPTY = Evidence()
TIMELINE_TOKENS_PER_KIND = _timeline.TIMELINE_TOKENS_PER_KIND


def register_collector(family: str, collector: Collector, narrow: Narrow | None = None
                       ) -> None:
    """Use ``collector(con, as_of, account_ids) -> {account_id: Evidence}`` for every
    feature of ``family`` (the registry's family name: the signal module's name);
    ``narrow(feature, evidence)``, if given, keeps what one feature is about."""
    _COLLECTORS[family] = collector
    if narrow is not None:
        _NARROW[family] = narrow
    else:
        _NARROW.pop(family, None)


def without_evidence(feature: str) -> None:
    """Give the registered feature ``feature`` no evidence even though its family has some
    (it describes the account alone, like its age); a family declares this with
    ``FeatureSpec(..., has_evidence=False)``."""
    registry = default_registry()
    known = registry.features.get(feature)
    if known is None:
        raise ValueError(f"{feature!r} is not a registered feature")
    registry.features[feature] = replace(known, has_evidence=False)


def _described(features: Iterable[str]) -> dict[str, Feature]:
    """The registry's entry of each feature that has evidence (``attr_*`` columns and
    features about the account alone have none)."""
    out = {}
    for name in features:
        known = describe_feature(name)  # neighbour aggregates are named at run time
        if known is not None and known.has_evidence:
            out[name] = known
    return out


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
    from accountrisk.features import signals  # noqa: F401

    con = connection(engine)
    moment = as_of_moment(as_of)
    ids = id_list(account_ids)
    wanted = list(FEATURES) if features is None else list(features)
    described = _described(wanted)
    memo: dict[str, dict[str, Evidence]] = {}

    def family(name: str) -> dict[str, Evidence]:
        if name not in memo:
            collector = _COLLECTORS.get(name)
            if collector is None or not ids:
                memo[name] = {}
            elif collector in _READ_FAMILIES:
                memo[name] = collector(con, moment, ids, family=family)
            else:
                memo[name] = collector(con, moment, ids)
        return memo[name]

    out: dict[str, dict[str, Evidence]] = {a: {} for a in ids}
    for feature in wanted:
        known = described.get(feature)
        found = family(known.family) if known is not None else {}
        for account in ids:
            evidence = found.get(account, EMPTY)
            if known is not None and evidence is not EMPTY:
                evidence = _focused(known, evidence)
            out[account][feature] = evidence
    return out


def _focused(feature: Feature, evidence: Evidence) -> Evidence:
    """What of its family's evidence ``feature`` is about: its focus kinds, or what the
    family's narrowing keeps (a reason about co_worked neighbours lists those only)."""
    if feature.focus:
        return _narrowed(evidence, feature.focus)
    narrow = _NARROW.get(feature.family)
    return narrow(feature.name, evidence) if narrow else evidence


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
