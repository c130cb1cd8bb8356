"""Fronted rings, their facilitators and rented accounts.

A *ring* is a group of 3-30 front identities run by operators sitting in UTC+7..+10 (mostly
Asia/Shanghai and Asia/Pyongyang). Identities claim a Western country (mostly the US) and are
created in bursts. A *facilitator* in that country hosts laptop farms for one or more rings
(a few residential IPs, remote-desktop/KVM tools) and often owns shared payout accounts.
Each ring evades 0-3 signals. *Rented* accounts are honest accounts taken over later by a
ring. This module only plans them; personas, money and portfolios act the plan out.
"""

from __future__ import annotations

import numpy as np

from . import geo
from .frame import DAY_SEC, Cols, Window
from .population import (
    EVASION_BIT,
    EVASIONS,
    RHYTHM_OPERATOR,
    RHYTHM_US_SHIFT,
    activity_span,
    created_times,
    default_plan,
    legit_rates,
    pick_name_pools,
    pick_zones,
)
from .randomness import choice_index

SCHEME_FARM, SCHEME_PROXY, SCHEME_RENTED = 0, 1, 2
RENTED_SHARE = 0.15
RING_SIZE_RANGE = (3, 30)
REMOTE_TOOLS = (
    "anydesk",
    "teamviewer",
    "pikvm",
    "tinypilot",
    "rustdesk",
    "chrome_remote_desktop",
    "splashtop",
)
FARM_TOOL_WEIGHTS = (30, 14, 16, 10, 14, 12, 4)
EVASION_COUNT_WEIGHTS = (35, 35, 20, 10)  # rings evading 0, 1, 2, 3 signals
PHOTO_SHARED, PHOTO_COPIED, PHOTO_FRESH = range(3)


def ring_sizes(n_members: int, rng: np.random.Generator) -> np.ndarray:
    """Sizes of rings adding up to ``n_members`` (3-30 each, typically 5-12)."""
    low, high = RING_SIZE_RANGE
    if n_members <= 0:
        return np.zeros(0, np.int64)
    sizes: list[int] = []
    while sum(sizes) < n_members:
        sizes.append(int(np.clip(round(rng.lognormal(np.log(8.0), 0.55)), low, high)))
    sizes[-1] -= sum(sizes) - n_members
    if sizes[-1] < low and len(sizes) > 1:
        last = sizes.pop()
        sizes[-1] += last
        if sizes[-1] > high:  # split the merged ring again in two valid halves
            total = sizes.pop()
            sizes += [total // 2, total - total // 2]
    return np.array(sizes, np.int64)


def ring_evasions(n_rings: int, rng: np.random.Generator) -> np.ndarray:
    """Evasion bit sets per ring: 0-3 evasions each, taken in turn from a shuffled cycle so
    that every evasion appears as soon as there are enough rings."""
    k = choice_index(rng, EVASION_COUNT_WEIGHTS, n_rings)
    for i in range(n_rings):  # enough picks to cover every evasion when possible
        if k.sum() >= len(EVASIONS):
            break
        k[i] = max(k[i], min(3, len(EVASIONS) - (k.sum() - k[i])))
    cycle = rng.permutation(len(EVASIONS))
    bits = np.zeros(n_rings, np.uint8)
    pos = 0
    for i in range(n_rings):
        for _ in range(int(k[i])):
            bits[i] |= np.uint8(1 << int(cycle[pos % len(EVASIONS)]))
            pos += 1
    return bits


def build_rings(n_rings_members: int, rng: np.random.Generator, win: Window) -> tuple[Cols, Cols]:
    """Ring and facilitator tables for rings totalling ``n_rings_members`` identities."""
    sizes = ring_sizes(n_rings_members, rng)
    n = len(sizes)
    evasion = ring_evasions(n, rng)
    resi = (evasion & EVASION_BIT["residential_proxy"]) > 0
    scheme = np.where(resi | (rng.random(n) < 0.35), SCHEME_PROXY, SCHEME_FARM).astype(np.int8)

    n_fac = max(1, int(round(n / 2.2)))
    fac_country = geo.FRONT_COUNTRIES[choice_index(rng, geo.FRONT_WEIGHTS, n_fac)]
    facilitators = Cols(
        country=fac_country,
        zone=pick_zones(fac_country, rng),
        farm_ip_count=rng.integers(1, 4, n_fac),
        payout_token_count=rng.integers(1, 4, n_fac),
        tool_a=choice_index(rng, FARM_TOOL_WEIGHTS, n_fac).astype(np.int8),
        tool_b=choice_index(rng, FARM_TOOL_WEIGHTS, n_fac).astype(np.int8),
    )
    has_fac = (scheme == SCHEME_FARM) | (rng.random(n) < 0.5)
    fac = np.where(has_fac, rng.integers(0, n_fac, n), -1).astype(np.int32)
    own_country = geo.FRONT_COUNTRIES[choice_index(rng, geo.FRONT_WEIGHTS, n)]
    country = np.where(fac >= 0, fac_country[np.maximum(fac, 0)], own_country).astype(np.int16)
    main_zone = np.where(fac >= 0, facilitators.zone[np.maximum(fac, 0)], pick_zones(country, rng))

    clumsy = np.array([bin(int(b)).count("1") for b in evasion]) == 0
    photo = choice_index(rng, (55, 30, 15), n).astype(np.int8)
    photo[(evasion & EVASION_BIT["fresh_portfolio"]) > 0] = PHOTO_FRESH
    rings = Cols(
        size=sizes,
        evasion=evasion,
        scheme=scheme,
        facilitator=fac,
        country=country,
        main_zone=main_zone.astype(np.int16),
        op_zone=geo.OPERATOR_ZONES[choice_index(rng, geo.OPERATOR_ZONE_WEIGHTS, n)],
        start_sec=win.first_created_sec
        + 30 * DAY_SEC
        + (rng.random(n) * (win.last_created_sec - win.first_created_sec - 60 * DAY_SEC)).astype(np.int64),
        second_burst_days=np.where(rng.random(n) < 0.4, rng.uniform(20, 240, n), -1.0),
        leak_share=np.where(clumsy, rng.uniform(0.005, 0.03, n), 0.0),
        operator_device_share=np.where(
            (evasion & EVASION_BIT["browser_spoof"]) > 0,
            0.0,
            rng.uniform(0.0, 0.5, n) * (rng.random(n) < 0.6),
        ),
        farm_leak_share=np.where((evasion & EVASION_BIT["browser_spoof"]) > 0, 0.0, rng.uniform(0, 0.15, n)),
        photo_mode=photo,
    )
    return rings, facilitators


def operator_life(
    created_sec: np.ndarray, rng: np.random.Generator, win: Window
) -> tuple[np.ndarray, np.ndarray]:
    """Start and stop of the active life of front identities: busy within days of sign-up,
    a tenth abandoned after some months, the rest active to the end."""
    m = len(created_sec)
    start = created_sec + ((1.0 + rng.exponential(3.0, m)) * DAY_SEC).astype(np.int64)
    abandoned = rng.random(m) < 0.1
    stop = np.where(
        abandoned,
        np.minimum(start + ((20 + rng.exponential(200, m)) * DAY_SEC).astype(np.int64), win.end_sec),
        win.end_sec,
    )
    start = np.minimum(start, win.end_sec - 3600)
    return start, np.maximum(stop, start + 3600)


def ring_members(rings: Cols, rng: np.random.Generator, win: Window) -> Cols:
    """Plan rows of the identities of every ring (created in bursts, operator rhythm)."""
    ring = np.repeat(np.arange(len(rings), dtype=np.int32), rings.size)
    m = len(ring)
    plan = default_plan(m)
    plan.is_fronted[:] = True
    plan.ring = ring
    plan.scheme = rings.scheme[ring]
    plan.facilitator = rings.facilitator[ring]
    plan.evasion = rings.evasion[ring]
    plan.country = rings.country[ring]
    plan.zone = np.where(rng.random(m) < 0.65, rings.main_zone[ring], pick_zones(plan.country, rng)).astype(
        np.int16
    )
    plan.loc_zone = rings.op_zone[ring]
    plan.loc_country = geo.ZONE_COUNTRY[plan.loc_zone]
    second = (rings.second_burst_days[ring] > 0) & (rng.random(m) < 0.45)
    burst = rings.start_sec[ring] + np.where(second, rings.second_burst_days[ring] * DAY_SEC, 0).astype(
        np.int64
    )
    created = burst + (rng.exponential(2.5, m) * DAY_SEC).astype(np.int64)
    plan.created_sec = np.clip(created, win.first_created_sec, win.last_created_sec)
    plan.active_start_sec, plan.stop_sec = operator_life(plan.created_sec, rng, win)
    plan.rate_per_day = rng.lognormal(np.log(0.5), 0.4, m).astype(np.float32)
    us_hours = (plan.evasion & EVASION_BIT["us_hours"]) > 0
    plan.rhythm = np.where(us_hours, RHYTHM_US_SHIFT, RHYTHM_OPERATOR).astype(np.int8)
    plan.name_pool = pick_name_pools(plan.country, rng)
    return plan


def rented_accounts(n: int, rings: Cols, rng: np.random.Generator, win: Window) -> Cols:
    """Plan rows of honest accounts (old, legit rhythm) that a ring takes over later."""
    plan = default_plan(n)
    if n == 0 or len(rings) == 0:
        return plan
    western = rng.random(n) < 0.75
    plan.country = np.where(
        western,
        geo.FRONT_COUNTRIES[choice_index(rng, geo.FRONT_WEIGHTS, n)],
        choice_index(rng, geo.COUNTRY_WEIGHT, n),
    ).astype(np.int16)
    plan.zone = pick_zones(plan.country, rng)
    plan.loc_country, plan.loc_zone = plan.country.copy(), plan.zone.copy()
    late = win.end_sec - 330 * DAY_SEC
    plan.created_sec = created_times(
        n, rng, Window(win.end_sec, win.first_created_sec, late, win.label_start_sec), skew=1.0
    )
    plan.active_start_sec, plan.stop_sec = activity_span(plan.created_sec, rng, win, churn_share=0.0)
    plan.rate_per_day = np.maximum(legit_rates(n, rng), 0.05)
    plan.rhythm = np.zeros(n, np.int8)
    plan.name_pool = pick_name_pools(plan.country, rng)
    lo = np.maximum(plan.created_sec + 200 * DAY_SEC, win.end_sec - 520 * DAY_SEC)
    hi = win.end_sec - 25 * DAY_SEC
    plan.takeover_sec = lo + (rng.random(n) * np.maximum(hi - lo, DAY_SEC)).astype(np.int64)
    plan.is_fronted[:] = True
    plan.scheme[:] = SCHEME_RENTED
    plan.ring = rng.integers(0, len(rings), n).astype(np.int32)
    plan.facilitator = rings.facilitator[plan.ring]
    plan.evasion = rings.evasion[plan.ring]
    return plan


def fronted_plan(n_fronted: int, rng: np.random.Generator, win: Window) -> tuple[Cols, Cols, Cols]:
    """Plan rows of all fronted accounts, with the ring and facilitator tables."""
    n_rented = int(round(RENTED_SHARE * n_fronted)) if n_fronted >= 5 else 0
    rings, facilitators = build_rings(n_fronted - n_rented, rng, win)
    members = ring_members(rings, rng, win)
    rented = rented_accounts(n_rented, rings, rng, win)
    return Cols.concat([members, rented]), rings, facilitators
