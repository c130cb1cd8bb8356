"""Generator modes: which world is simulated and which tables a run writes.

- ``classic``: the full marketplace with rings, facilitators, rented accounts and waves of
  ring-wide enforcement (the historical output, byte for byte).
- ``realistic``: the classic world at a realistic prevalence of fronted accounts.
- ``behaviour``: fronted identities are isolated cells that share nothing with any other
  account (no IP, device, payout, photo or portfolio in common, no ring links); only the
  behavioural tells (working hours, browser zone, remote tools, routes, no breaks) remain.
- ``platform``: a crowd-work platform in the style of the public Tolokers graph: per-account
  attributes and one dense ``co_worked`` relation, nothing else.
- ``thin``: the classic world exported thinly (accounts, sessions and labels only).

The full export (classic, realistic, behaviour) includes contract 1.1's client side.
"""

from __future__ import annotations

from ..features.errors import UsageError

MODES = ("classic", "realistic", "behaviour", "platform", "thin")

# share of fronted (in ``platform``: banned) accounts when the caller gives none
DEFAULT_FRONTED_SHARE = {
    "classic": 0.01,
    "realistic": 0.003,
    "behaviour": 0.01,
    "platform": 0.22,
    "thin": 0.01,
}

_FULL = (
    "accounts",
    "sessions",
    "activity",
    "payout_methods",
    "payouts",
    "portfolio_items",
    "account_attributes",
    "account_links",
    "contracts",
    "proposals",
    "reviews",
    "labels",
)
# contract tables each mode writes (ground_truth.parquet and generation.json always)
MODE_TABLES = {
    "classic": _FULL,
    "realistic": _FULL,
    "behaviour": _FULL,
    "platform": ("accounts", "account_attributes", "account_links", "labels"),
    "thin": ("accounts", "sessions", "labels"),
}


def resolve(mode: str, fronted_share: float | None) -> float:
    """The fronted share a run uses: the caller's, else the mode's default."""
    if mode not in MODES:
        raise UsageError(f"mode must be one of {', '.join(MODES)}; got {mode!r}")
    return DEFAULT_FRONTED_SHARE[mode] if fronted_share is None else float(fronted_share)
