"""The red-flag rule score: the public advisories' warning signs, weighed by kind.

Each flag is one signal against a fixed threshold, from the FBI / State / Treasury advisories
on North Korean remote IT workers (joint advisory May 2022, FBI PSAs October 2023 and
January 2025): working hours and browser clocks that do not fit the claimed location,
remote-desktop tools, VPN / proxy / data-center connections, IP addresses abroad, accounts
sharing payout destinations, IP addresses, devices or portfolios, links to accounts already
banned, crypto payouts and payout churn, sudden takeovers. Several thresholds on one signal
grade it (a remote-desktop tool in 5% of sessions is one point, in 30% two).

Flags come in *families* (one kind of evidence each), and a family's points are capped:
many signs of one kind are one piece of evidence, not many. Each kind of shared thing is its
own family, capped at one point: the money (a payout account), the access (a home IP, a
device), the work history (portfolio links and images) and the face (a profile photo). An
agency paying its members through one account and showing the agency's portfolio shares
two kinds and does nothing else; a household shares one; a fronting cell shares most of
them and also works operator hours through remote tools. So a shared payout account alone
never outranks behaviour; several independent kinds of evidence rank highest, which is
what the advisories ask reviewers to look for. A sign seen at all earns a point (operators
slip now and then rather than always), a sign seen often earns a little more. One sign
answers others: a worker who openly lives abroad (the connection's country and the browser
clock agree) explains off-hours work and foreign addresses, and takes their points back.

The score is the capped points summed over families (none or fewer count as none),
squashed to [0, 1). It is what a
marketplace runs on day one with no labels, the baseline every model is compared with, and
(as points) the prior a model with few labels starts from. Thresholds come from the
advisories' wording, not from labels; training weighs down the flags many of the
marketplace's own accounts raise (:func:`weighed_by_rarity`), and the bundle keeps the
weighed flags.
"""

from __future__ import annotations

import fnmatch
import functools
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np

from .matrix import column, column_names


@dataclass(frozen=True)
class Rule:
    """One red flag: fires when ``feature`` is at least ``threshold`` (above it when
    ``strict``; at most it, or below it when strict, for a flag ``below``); worth ``weight``
    points within its ``family``. ``feature`` may name several columns separated by commas,
    and a name with a ``*`` is a pattern over run-time columns
    (``nbr_*_decided_confirmed_ratio``: any relation); the flag then reads their largest
    value. A flag that ``answers`` families is not a red flag but an explanation: where it
    fires it takes back the points those families gave (see :func:`flag_points`)."""

    name: str
    feature: str
    threshold: float
    weight: float = 1.0
    strict: bool = False
    family: str = ""
    below: bool = False
    answers: tuple[str, ...] = ()

    def fires(self, values: np.ndarray) -> np.ndarray:
        values = np.asarray(values, dtype=np.float64)
        with np.errstate(invalid="ignore"):
            if self.below:
                hit = values < self.threshold if self.strict else values <= self.threshold
            else:
                hit = values > self.threshold if self.strict else values >= self.threshold
        return hit & ~np.isnan(values)

    @property
    def names(self) -> list[str]:
        """The names and patterns in ``feature``."""
        return [n.strip() for n in self.feature.split(",") if n.strip()]

    @property
    def reads_one_column(self) -> bool:
        """Whether the flag reads a single named column (no pattern, no list)."""
        return "*" not in self.feature and "," not in self.feature

    def columns(self, available: Sequence[str]) -> list[str]:
        """The columns of ``available`` this flag reads (its features, and every match of
        its patterns), in the order of ``available`` for patterns."""
        present = set(available)
        out: list[str] = []
        for name in self.names:
            found = ([c for c in available if fnmatch.fnmatchcase(c, name)] if "*" in name
                     else [name] if name in present else [])
            out += [c for c in found if c not in out]
        return out

    def strongest(self, matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per row of ``matrix`` (rows x this flag's columns): the largest value and the
        position of its column (NaN and 0 where every value is missing)."""
        if matrix.shape[1] == 1:
            return matrix[:, 0], np.zeros(len(matrix), dtype=np.int64)
        filled = np.where(np.isnan(matrix), -np.inf, matrix)
        where = np.argmax(filled, axis=1)
        value = filled[np.arange(len(matrix)), where]
        return np.where(np.isinf(value), np.nan, value), where


# Points a family can give at most: one kind of evidence counts once, however loud. Where
# someone is (IP country, browser clock) is capped lowest beside each kind of sharing:
# travellers, nomads and VPN users show it too; how someone connects and works (routes,
# remote desktops, hours) counts more, and several independent kinds together count most.
# Sharing was one family capped at one point until a cell sharing payout, devices,
# portfolio and photos ranked with a nomad's single sign (docs/training.md, section 4).
FAMILY_CAPS: dict[str, float] = {
    "hours": 1.5, "browser_clock": 1.0, "routes": 1.5, "location": 0.5,
    "remote_access": 1.5, "shared_payout": 1.0, "shared_access": 1.0,
    "shared_portfolio": 1.0, "shared_photo": 1.0, "confirmed_links": 3.0, "money": 1.0,
    "takeover": 1.0,
    # Answers give no points: one takes points back (see its rule), the other takes back
    # what the families it answers gave (Rule.answers).
    "honest_location": 0.0, "explained_sharing": 0.0,
}

RULES: tuple[Rule, ...] = (
    # Work at hours that do not fit the claimed location.
    Rule("off_hours_work", "activity_claimed_night_ratio", 0.2, family="hours"),
    Rule("mostly_off_hours_work", "activity_claimed_night_ratio", 0.4, weight=0.5,
         family="hours"),
    Rule("working_day_off_claimed_zone", "activity_implied_offset_gap_hours", 6, weight=0.5,
         family="hours"),
    Rule("off_hours_logins", "session_claimed_night_ratio", 0.2, family="hours"),
    # A browser clock set to another zone than the profile claims; worth a full point when
    # it fits the connection's country neither: a clock from a place the connection hides.
    Rule("browser_clock_not_claimed_zone", "browser_offset_mismatch_session_ratio", 0,
         strict=True, weight=0.5, family="browser_clock"),
    Rule("browser_clock_fits_nowhere", "browser_clock_fits_nowhere_session_ratio", 0,
         strict=True, family="browser_clock"),
    # Connections that hide where the worker is: VPN, proxy, Tor, data centers.
    Rule("vpn_or_anonymizer", "anonymizer_session_ratio", 0, strict=True, weight=0.5,
         family="routes"),
    Rule("mostly_vpn_or_anonymizer", "anonymizer_session_ratio", 0.3, weight=0.5,
         family="routes"),
    Rule("data_center_connections", "hosting_session_ratio", 0, strict=True, family="routes"),
    # IP addresses outside the claimed country.
    Rule("ip_country_not_claimed", "ip_country_mismatch_session_ratio", 0, strict=True,
         weight=0.5, family="location"),
    # Remote-desktop and KVM tools (laptop farms).
    Rule("remote_desktop_tool", "remote_access_session_ratio", 0, strict=True,
         family="remote_access"),
    Rule("remote_desktop_most_sessions", "remote_access_session_ratio", 0.3,
         family="remote_access"),
    # Several "different" freelancers behind one payout account, IP, device or portfolio.
    Rule("shared_payout_account", "payout_shared_account_count", 1, family="shared_payout"),
    Rule("accounts_per_residential_ip", "residential_ip_shared_account_count", 1,
         family="shared_access"),
    Rule("shared_device", "device_shared_account_count", 1, weight=0.5,
         family="shared_access"),
    Rule("reused_portfolio_link", "portfolio_link_shared_account_count", 1,
         family="shared_portfolio"),
    Rule("reused_portfolio_image", "portfolio_image_near_duplicate_account_count", 1,
         family="shared_portfolio"),
    Rule("reused_profile_photo", "profile_photo_near_duplicate_account_count", 1,
         family="shared_photo"),
    # Ties to accounts already banned.
    Rule("linked_to_confirmed_account", "direct_link_confirmed_account_count", 1, weight=2,
         family="confirmed_links"),
    Rule("payout_shared_with_confirmed", "payout_shared_confirmed_account_count", 1, weight=2,
         family="confirmed_links"),
    Rule("access_shared_with_confirmed", "shared_access_confirmed_account_count", 1,
         weight=2, family="confirmed_links"),
    Rule("portfolio_shared_with_confirmed", "portfolio_confirmed_match_account_count", 1,
         weight=2, family="confirmed_links"),
    Rule("neighbours_mostly_confirmed", "nbr_*_decided_confirmed_ratio", 0.5, weight=2,
         family="confirmed_links"),
    # Money moved where the claimed worker is not.
    Rule("crypto_payout", "payout_crypto_method_ratio", 0, weight=0.5, strict=True,
         family="money"),
    Rule("payout_abroad", "payout_destination_mismatch_ratio", 0, strict=True, weight=0.5,
         family="money"),
    Rule("payout_method_churn", "payout_method_added_90d_count", 2, weight=0.5,
         family="money"),
    # A bought or rented account: new devices, payout and hours at once. One point: on
    # generated marketplaces it fired on 1% of fronts and 0.5% of everyone else.
    Rule("takeover_signs", "takeover_change_count", 2, family="takeover"),
    # Not red flags but their answers. A worker who openly lives elsewhere (sessions from
    # abroad with that country's clock, a fifth of them or more) explains the off-hours work
    # and the foreign addresses, so it takes back what those two families give at most.
    # Operators hide where they are; a nomad or a traveller does not.
    Rule("clock_fits_connection_abroad", "abroad_clock_fits_ip_session_ratio", 0.2,
         weight=-(FAMILY_CAPS["hours"] + FAMILY_CAPS["location"]), family="honest_location"),
    # Accounts sharing a payout destination whose every other holder shows no operator sign
    # (browser clocks at their claimed zone, no VPN or proxy, no remote-desktop tool): an
    # agency or a household paid through one account, which explains the sharing. A
    # fronting cell's holders show those signs; each account's own signs still count.
    Rule("payout_mates_show_no_operator_sign",
         "nbr_payout_max_browser_offset_gap_mean_hours, nbr_payout_max_anonymizer_session_ratio, "
         "nbr_payout_max_remote_access_session_ratio", 0, below=True, weight=0,
         family="explained_sharing",
         answers=("shared_payout", "shared_access", "shared_portfolio", "shared_photo")),
)

# 2 points (one strong kind of evidence, or two ordinary ones) score 0.63.
SCALE = 2.0


def rules_to_json(rules: Sequence[Rule] = RULES) -> list[dict[str, Any]]:
    """The rules as plain dicts, for model metadata (a bundle carries its own rules)."""
    return [asdict(r) for r in rules]


def rules_from_json(rows: Sequence[dict[str, Any]]) -> tuple[Rule, ...]:
    return tuple(Rule(**{**row, "answers": tuple(row.get("answers", ()))}) for row in rows)


def usable_rules(available: Sequence[str], rules: Sequence[Rule] = RULES) -> list[Rule]:
    """Rules whose feature exists; a missing feature means that rule cannot fire."""
    return [r for r in rules if r.columns(available)]


def rule_values(data: Any, rule: Rule) -> tuple[np.ndarray, list[str], np.ndarray]:
    """The value a flag reads on each row, the columns it read, and which of them gave the
    value (its position); all-NaN values when ``data`` has none of its columns."""
    names = column_names(data)
    rows = len(column(data, names[0])) if names else 0
    read = rule.columns(names)
    if not read:
        return np.full(rows, np.nan), [], np.zeros(rows, dtype=np.int64)
    value, where = rule.strongest(np.column_stack([column(data, c) for c in read]))
    return value, read, where


def fired(data: Any, rules: Sequence[Rule] = RULES) -> np.ndarray:
    """Rows x rules boolean matrix: which rule fires on which row (False if the feature is
    missing from ``data``)."""
    names = column_names(data)
    rows = len(column(data, names[0])) if names else 0
    out = np.zeros((rows, len(rules)), dtype=bool)
    for j, rule in enumerate(rules):
        out[:, j] = rule.fires(rule_values(data, rule)[0])
    return out


def flag_points(hits: np.ndarray, rules: Sequence[Rule]) -> np.ndarray:
    """Rows x rules points each fired flag contributes after its family's cap (a capped
    family's points are shared among its fired flags in proportion to their weights).
    Where a flag that ``answers`` families fires, it carries minus the points those
    families gave, so they count for nothing on that row and an explanation shows why."""
    weights, family_of, members, caps, answered = _families(tuple(rules))
    raw = hits.astype(np.float64) * weights
    totals = raw @ members
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = np.where(totals > caps, caps / totals, 1.0)
    out = raw * scale[:, family_of]
    for j, families in answered:
        taken = out[:, np.isin(family_of, families)].clip(min=0).sum(axis=1)
        out[:, j] += np.where(hits[:, j], -taken, 0.0)
    return out


@functools.lru_cache(maxsize=64)
def _families(rules: tuple[Rule, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                                                tuple[tuple[int, np.ndarray], ...]]:
    """Each rule's weight and family position, the rules x families membership matrix,
    each family's cap, and the answering rules with the positions of the families they
    answer: worked out once per rule set (scoring one account at a time calls
    :func:`flag_points` per request)."""
    families = sorted({r.family for r in rules} | {f for r in rules for f in r.answers})
    position = {f: k for k, f in enumerate(families)}
    weights = np.array([r.weight for r in rules], dtype=np.float64)
    family_of = np.array([position[r.family] for r in rules], dtype=np.int64)
    caps = np.array([FAMILY_CAPS.get(f, np.inf) for f in families], dtype=np.float64)
    members = (family_of[:, None] == np.arange(len(families))).astype(np.float64)
    answered = tuple((j, np.array([position[f] for f in r.answers], dtype=np.int64))
                     for j, r in enumerate(rules) if r.answers)
    return weights, family_of, members, caps, answered


def rule_points(data: Any, rules: Sequence[Rule] = RULES) -> np.ndarray:
    """Capped red-flag points of each row (0 when nothing fires; below 0 when only an
    answering sign such as an open life abroad fires)."""
    return flag_points(fired(data, rules), rules).sum(axis=1)


def rule_score(data: Any, rules: Sequence[Rule] = RULES) -> np.ndarray:
    """The rule score of each row in [0, 1): 1 - exp(-points / SCALE), 0 for no points or
    fewer."""
    return 1.0 - np.exp(-np.maximum(rule_points(data, rules), 0.0) / SCALE)


# A red flag is a sign few accounts raise. Where more than one active account in twenty
# raises it (a marketplace where half the honest users touch a VPN now and then), it says
# less: its weight shrinks by its surprisal, log(rate) / log(COMMON_FLAG_RATE) (a flag on
# 50% of the accounts keeps about a quarter of its weight, on everyone none). Rates are read on
# the accounts being ranked, never on labels.
COMMON_FLAG_RATE = 0.05


@dataclass(frozen=True)
class CommonFlag:
    """A flag weighed down on this marketplace: the share of active accounts it fires on
    and the part of its weight it keeps."""

    name: str
    rate: float
    kept: float


def weighed_by_rarity(population: Any, rules: Sequence[Rule]
                      ) -> tuple[list[Rule], list[CommonFlag]]:
    """``rules`` with each red flag's weight shrunk by how common it is among the rows of
    ``population`` (the accounts active at T; see :data:`COMMON_FLAG_RATE`), and the flags
    weighed down. Answers (weights of 0 or less) stay as they are."""
    names = column_names(population)
    if not names or not len(column(population, names[0])):
        return list(rules), []
    hits = fired(population, rules)
    out: list[Rule] = []
    common: list[CommonFlag] = []
    for j, rule in enumerate(rules):
        rate = float(hits[:, j].mean())
        if rule.weight > 0 and rate > COMMON_FLAG_RATE:
            kept = float(np.log(rate) / np.log(COMMON_FLAG_RATE))
            rule = replace(rule, weight=rule.weight * kept)
            common.append(CommonFlag(rule.name, rate, kept))
        out.append(rule)
    return out, common
