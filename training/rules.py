"""The red-flag rule score: the public advisories' warning signs, counted.

Each rule is one feature against a fixed threshold, from the FBI / State / Treasury
advisories on North Korean remote IT workers: shared payout accounts, several accounts on
one residential IP (laptop farms), remote-desktop tools, VPN use, off-hours work, IP
country unlike the claimed one, reused portfolio links, crypto payouts. The score is the
weighted count of rules that fire, squashed to [0, 1]. It is what a marketplace can run on
day one with no labels, and the baseline every model is compared with.

Thresholds come from the advisories' wording, not from data: they were never tuned on
labels, so the comparison with the model is fair.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from .matrix import column, column_names


@dataclass(frozen=True)
class Rule:
    """One red flag: fires when ``feature`` is at least ``threshold`` (above it when
    ``strict``)."""

    name: str
    feature: str
    threshold: float
    weight: float = 1.0
    strict: bool = False

    def fires(self, values: np.ndarray) -> np.ndarray:
        values = np.asarray(values, dtype=np.float64)
        with np.errstate(invalid="ignore"):
            hit = values > self.threshold if self.strict else values >= self.threshold
        return hit & ~np.isnan(values)


RULES: tuple[Rule, ...] = (
    Rule("shared_payout_account", "payout_shared_account_count", 1, weight=2.0),
    Rule("accounts_per_residential_ip", "residential_ip_shared_account_count", 2, weight=1.5),
    Rule("remote_desktop_tool", "remote_access_session_ratio", 0.1, weight=1.5),
    Rule("vpn_or_anonymizer", "anonymizer_session_ratio", 0.3),
    Rule("off_hours_work", "activity_claimed_night_ratio", 0.3),
    Rule("ip_country_not_claimed", "ip_country_mismatch_session_ratio", 0.3),
    Rule("reused_portfolio_link", "portfolio_link_shared_account_count", 1),
    Rule("crypto_payout", "payout_crypto_method_ratio", 0, strict=True),
)

# A weighted count of 2 (one strong flag, or two ordinary ones) scores 0.63.
SCALE = 2.0


def rules_to_json(rules: Sequence[Rule] = RULES) -> list[dict[str, Any]]:
    """The rules as plain dicts, for model metadata (a rules bundle carries its own rules)."""
    return [asdict(r) for r in rules]


def rules_from_json(rows: Sequence[dict[str, Any]]) -> tuple[Rule, ...]:
    return tuple(Rule(**row) for row in rows)


def usable_rules(available: Sequence[str], rules: Sequence[Rule] = RULES) -> list[Rule]:
    """Rules whose feature exists; a missing feature means that rule cannot fire."""
    have = set(available)
    return [r for r in rules if r.feature in have]


def fired(data: Any, rules: Sequence[Rule] = RULES) -> np.ndarray:
    """Rows x rules boolean matrix: which rule fires on which row (False if the feature is
    missing from ``data``)."""
    names = set(column_names(data))
    rows = len(column(data, column_names(data)[0]))
    out = np.zeros((rows, len(rules)), dtype=bool)
    for j, rule in enumerate(rules):
        if rule.feature in names:
            out[:, j] = rule.fires(column(data, rule.feature))
    return out


def rule_score(data: Any, rules: Sequence[Rule] = RULES) -> np.ndarray:
    """The rule score of each row in [0, 1): 1 - exp(-weighted count / SCALE)."""
    weights = np.array([r.weight for r in rules], dtype=np.float64)
    count = fired(data, rules).astype(np.float64) @ weights
    return 1.0 - np.exp(-count / SCALE)
