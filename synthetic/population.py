"""The legitimate freelancer population: who they are, where, since when and how much they work.

An account *plan* is a :class:`~.frame.Cols` with one row per account; this module makes the
rows of ordinary freelancers (and the honest first life of rented accounts). Look-alikes
(:mod:`.lookalikes`) and fronted rings (:mod:`.rings`) edit or add plan rows.
"""

from __future__ import annotations

import numpy as np

from . import geo, vocab
from .frame import DAY_SEC, Cols, Window
from .randomness import choice_index

NAME_POOLS = tuple(vocab.NAME_POOLS)
NAME_POOL_INDEX = {p: i for i, p in enumerate(NAME_POOLS)}

# working-rhythm codes (see personas.py for the hours of each)
RHYTHM_DAY, RHYTHM_SPLIT, RHYTHM_EVENING, RHYTHM_NIGHT, RHYTHM_OPERATOR, RHYTHM_US_SHIFT = range(6)

LOOKALIKES = (
    "vpn_user",
    "household",
    "coworking",
    "agency",
    "it_support",
    "crypto",
    "traveler",
    "night_owl",
    "nomad",
)
SCHEMES = ("laptop_farm", "proxy_ring", "rented")
EVASIONS = ("us_hours", "browser_spoof", "own_payout", "fresh_portfolio", "residential_proxy")
EVASION_BIT = {name: 1 << i for i, name in enumerate(EVASIONS)}

# mean sessions per active day of an ordinary freelancer (log-normal across accounts)
LEGIT_SESSION_RATE_PER_DAY = 0.056
LEGIT_RATE_SIGMA = 1.1
CHURN_SHARE = 0.4
CHURN_MEAN_DAYS = 160.0


def default_plan(n: int) -> Cols:
    """Plan rows with every column at its 'ordinary, not set' value."""
    i8 = lambda v: np.full(n, v, dtype=np.int64)  # noqa: E731
    return Cols(
        created_sec=i8(0),
        country=np.zeros(n, np.int16),
        zone=np.zeros(n, np.int16),
        loc_country=np.zeros(n, np.int16),
        loc_zone=np.zeros(n, np.int16),
        active_start_sec=i8(0),
        stop_sec=i8(0),
        ban_sec=i8(-1),
        rate_per_day=np.zeros(n, np.float32),
        rhythm=np.zeros(n, np.int8),
        name_pool=np.zeros(n, np.int8),
        lookalike=np.full(n, -1, np.int8),
        household=np.full(n, -1, np.int32),
        cowork=np.full(n, -1, np.int32),
        agency=np.full(n, -1, np.int32),
        trip_start_sec=i8(-1),
        trip_days=np.zeros(n, np.int16),
        trip_country=np.zeros(n, np.int16),
        is_fronted=np.zeros(n, bool),
        scheme=np.full(n, -1, np.int8),
        ring=np.full(n, -1, np.int32),
        facilitator=np.full(n, -1, np.int32),
        evasion=np.zeros(n, np.uint8),
        takeover_sec=i8(-1),
    )


def pick_zones(country: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A plausible IANA zone (index) for each country index, by the country's zone weights."""
    zone = np.zeros(len(country), dtype=np.int16)
    for c in np.unique(country):
        rows = np.flatnonzero(country == c)
        zones, w = geo.country_zone_choices(geo.COUNTRY_CODES[c])
        zone[rows] = zones[choice_index(rng, w, len(rows))]
    return zone


def pick_name_pools(country: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Name pool (index into ``NAME_POOLS``) per account; the US draws from a mix."""
    pools = np.array([NAME_POOL_INDEX[p] if p != "us_mix" else -1 for p in geo.COUNTRY_NAME_POOL], np.int8)
    out = pools[country]
    us = out < 0
    mix_pools = np.array([NAME_POOL_INDEX[p] for p, _ in vocab.US_NAME_MIX], np.int8)
    out[us] = mix_pools[choice_index(rng, [w for _, w in vocab.US_NAME_MIX], int(us.sum()))]
    return out


def created_times(n: int, rng: np.random.Generator, win: Window, skew: float = 0.8) -> np.ndarray:
    """Sign-up instants over the window, denser recently (platform growth)."""
    span = win.last_created_sec - win.first_created_sec
    return win.first_created_sec + (span * rng.random(n) ** skew).astype(np.int64)


def activity_span(
    created_sec: np.ndarray, rng: np.random.Generator, win: Window, churn_share: float = CHURN_SHARE
) -> tuple[np.ndarray, np.ndarray]:
    """Start and stop of the active life of ordinary accounts (a share churns early)."""
    n = len(created_sec)
    start = created_sec + (rng.exponential(2.0, n) * DAY_SEC).astype(np.int64)
    churn = rng.random(n) < churn_share
    life = ((rng.exponential(CHURN_MEAN_DAYS, n) + 3.0) * DAY_SEC).astype(np.int64)
    stop = np.where(churn, np.minimum(start + life, win.end_sec), win.end_sec)
    start = np.minimum(start, win.end_sec - 3600)
    return start, np.maximum(stop, start + 3600)


def legit_rates(n: int, rng: np.random.Generator) -> np.ndarray:
    """Sessions per active day of ordinary freelancers (heavy-tailed across accounts)."""
    mu = np.log(LEGIT_SESSION_RATE_PER_DAY) - 0.5 * LEGIT_RATE_SIGMA**2
    return np.minimum(rng.lognormal(mu, LEGIT_RATE_SIGMA, n), 4.0).astype(np.float32)


def legit_accounts(n: int, rng: np.random.Generator, win: Window) -> Cols:
    """Plan rows of ``n`` ordinary freelancers (no look-alike behaviour yet)."""
    plan = default_plan(n)
    plan.country = choice_index(rng, geo.COUNTRY_WEIGHT, n).astype(np.int16)
    plan.zone = pick_zones(plan.country, rng)
    plan.loc_country = plan.country.copy()
    plan.loc_zone = plan.zone.copy()
    plan.created_sec = created_times(n, rng, win)
    plan.active_start_sec, plan.stop_sec = activity_span(plan.created_sec, rng, win)
    plan.rate_per_day = legit_rates(n, rng)
    plan.rhythm = np.array([RHYTHM_DAY, RHYTHM_SPLIT, RHYTHM_EVENING], np.int8)[
        choice_index(rng, [80, 9, 11], n)
    ]
    plan.name_pool = pick_name_pools(plan.country, rng)
    return plan


def order_by_creation(plan: Cols, rng: np.random.Generator) -> np.ndarray:
    """Final account order: by sign-up time (ids are sequential like a real platform's)."""
    tie = rng.random(len(plan))
    return np.lexsort((tie, plan.created_sec))
