"""Behaviour mode: fronted identities as isolated cells that share nothing.

Each identity is a ring of one with a facilitator of its own (its own laptop, farm line and
payout account), a fresh portfolio and a fresh photo: no IP, device, payout token, photo,
portfolio item or link is shared with any other account, and no ring links exist. What
remains are the tells of how the operators work, each with a strength of its own per
identity (strong, weak or absent), so that no single tell finds them all:

- hours: operator-zone working hours (most; a blurred rhythm for some); ``us_hours``
  evaders keep a US shift in the claimed zone
- browser zone: the operators' zone shows on a share of sessions (``browser_spoof``: never)
- remote-access tools on a share of sessions (some never)
- VPN/proxy/hosting routes on a share of sessions (some never)
- sessions from the operators' own network abroad (some never)
- no breaks: no vacations, weekends worked more or less often

Identities are caught one by one (no enforcement waves), each with the same probability.
"""

from __future__ import annotations

import numpy as np

from . import geo
from .frame import DAY_SEC, Cols, Window
from .labels import into_label_window
from .networks import pick_exits
from .personas import set_rhythm, source_mix
from .population import (
    EVASION_BIT,
    RHYTHM_OPERATOR,
    RHYTHM_US_SHIFT,
    created_times,
    default_plan,
    pick_name_pools,
    pick_zones,
)
from .randomness import choice_index, random_u64
from .rings import FARM_TOOL_WEIGHTS, PHOTO_FRESH, SCHEME_FARM, SCHEME_PROXY, operator_life

# every cell pays out to an account of its own and builds its own portfolio
ALWAYS_EVADED = EVASION_BIT["own_payout"] | EVASION_BIT["fresh_portfolio"]
# shares of cells with each optional evasion (drawn independently)
CELL_EVASION_SHARES = (("us_hours", 0.25), ("browser_spoof", 0.3), ("residential_proxy", 0.25))
CELL_DETECT = 0.5
PHOTO_SHARE = 0.97


def _strength(rng: np.random.Generator, n: int, absent_share: float, low: float, high: float) -> np.ndarray:
    """Per-cell strength of a tell: 0 for ``absent_share`` of the cells, else uniform in [low, high)."""
    return np.where(rng.random(n) < absent_share, 0.0, rng.uniform(low, high, n))


def cell_plan(n: int, rng: np.random.Generator, win: Window) -> tuple[Cols, Cols, Cols]:
    """Plan rows of ``n`` isolated fronted identities, their one-member rings and facilitators."""
    evasion = np.full(n, ALWAYS_EVADED, np.uint8)
    for name, share in CELL_EVASION_SHARES:
        evasion |= np.where(rng.random(n) < share, EVASION_BIT[name], 0).astype(np.uint8)
    resi = (evasion & EVASION_BIT["residential_proxy"]) > 0
    spoof = (evasion & EVASION_BIT["browser_spoof"]) > 0
    scheme = np.where(resi | (rng.random(n) < 0.35), SCHEME_PROXY, SCHEME_FARM).astype(np.int8)
    # one facilitator per cell; at least one row, since honest accounts look up row 0
    n_fac = max(n, 1)
    country = geo.FRONT_COUNTRIES[choice_index(rng, geo.FRONT_WEIGHTS, n_fac)].astype(np.int16)
    zone = pick_zones(country, rng)
    facilitators = Cols(
        country=country,
        zone=zone,
        farm_ip_count=rng.integers(1, 3, n_fac),
        payout_token_count=np.ones(n_fac, np.int64),
        tool_a=choice_index(rng, FARM_TOOL_WEIGHTS, n_fac).astype(np.int8),
        tool_b=choice_index(rng, FARM_TOOL_WEIGHTS, n_fac).astype(np.int8),
    )
    country, zone = country[:n], zone[:n]
    created = created_times(n, rng, win)  # spread like everyone's: no sign-up bursts
    op_zone = geo.OPERATOR_ZONES[choice_index(rng, geo.OPERATOR_ZONE_WEIGHTS, n)]
    blurred = rng.random(n) < 0.25
    rings = Cols(
        size=np.ones(n, np.int64),
        evasion=evasion,
        scheme=scheme,
        facilitator=np.arange(n, dtype=np.int32),
        country=country,
        main_zone=zone,
        op_zone=op_zone,
        start_sec=created,
        second_burst_days=np.full(n, -1.0),
        leak_share=_strength(rng, n, 0.5, 0.005, 0.08),
        operator_device_share=np.where(spoof, 0.0, _strength(rng, n, 0.5, 0.05, 0.5)),
        farm_leak_share=np.where(spoof, 0.0, _strength(rng, n, 0.4, 0.02, 0.3)),
        photo_mode=np.full(n, PHOTO_FRESH, np.int8),
        browser_claimed_share=np.where(spoof, 1.0, rng.uniform(0.3, 0.97, n)),
        any_hour_share=np.where(blurred, rng.uniform(0.25, 0.6, n), rng.uniform(0.02, 0.08, n)),
        weekend_keep=rng.uniform(0.5, 0.97, n),
        farm_tool_share=_strength(rng, n, 0.35, 0.1, 0.9),
        tool_share=_strength(rng, n, 0.6, 0.02, 0.3),
        route_share=_strength(rng, n, 0.3, 0.05, 0.6),
    )
    plan = default_plan(n)
    plan.is_fronted[:] = True
    plan.ring = np.arange(n, dtype=np.int32)
    plan.scheme = scheme
    plan.facilitator = np.arange(n, dtype=np.int32)
    plan.evasion = evasion
    plan.country, plan.zone = country, zone
    plan.loc_zone = op_zone
    plan.loc_country = geo.ZONE_COUNTRY[op_zone]
    plan.created_sec = created
    plan.active_start_sec, plan.stop_sec = operator_life(created, rng, win)
    plan.rate_per_day = rng.lognormal(np.log(0.5), 0.4, n).astype(np.float32)
    us_hours = (evasion & EVASION_BIT["us_hours"]) > 0
    plan.rhythm = np.where(us_hours, RHYTHM_US_SHIFT, RHYTHM_OPERATOR).astype(np.int8)
    plan.name_pool = pick_name_pools(country, rng)
    return plan, rings, facilitators


def cell_decisions(plan: Cols, rng: np.random.Generator, win: Window) -> np.ndarray:
    """Ban instants of fronted accounts caught one by one (-1: not caught), in the label window."""
    decided = np.full(len(plan), -1, np.int64)
    rows = np.flatnonzero(plan.is_fronted)
    caught = rows[rng.random(len(rows)) < CELL_DETECT]
    start = plan.active_start_sec[caught]
    t = start + (rng.lognormal(np.log(120.0), 0.6, len(caught)) * DAY_SEC).astype(np.int64)
    t = into_label_window(t, rng, win)
    # a decision that would come after the end falls somewhere in the account's labelled life
    lo = np.maximum(start + 14 * DAY_SEC, win.label_start_sec)
    anywhere = lo + (rng.random(len(caught)) * np.maximum(win.end_sec - lo, 0)).astype(np.int64)
    t = np.where(t >= win.end_sec, anywhere, t)
    decided[caught] = np.where(t < win.end_sec, t, -1)
    return decided


def cell_personas(
    p: Cols, plan: Cols, rings: Cols, facs: Cols, exits: Cols, rng: np.random.Generator
) -> None:
    """Act out the fronted personas of ``p`` as isolated cells (in place), each tell at the
    strength its cell drew."""
    rows = np.flatnonzero(plan.is_fronted[p.acct])
    k = len(rows)
    if k == 0:
        return
    acct = p.acct[rows]
    cell = plan.ring[acct]
    ev = plan.evasion[acct].astype(np.int64)
    us_hours = (ev & EVASION_BIT["us_hours"]) > 0
    spoof = (ev & EVASION_BIT["browser_spoof"]) > 0
    resi = (ev & EVASION_BIT["residential_proxy"]) > 0
    op_zone = rings.op_zone[cell]
    p.device_zone[rows] = op_zone
    p.rhythm_zone[rows] = np.where(us_hours, p.claimed_zone[rows], op_zone)
    set_rhythm(p, rows, np.where(us_hours, RHYTHM_US_SHIFT, RHYTHM_OPERATOR), rng)
    p.p_any[rows] = rings.any_hour_share[cell]
    p.weekend_keep[rows] = rings.weekend_keep[cell]
    p.vac_start_day[rows] = -1
    p.pb_claimed[rows] = rings.browser_claimed_share[cell]
    p.pb_exit[rows] = 0.0
    p.farm_leak[rows] = rings.farm_leak_share[cell]
    farm = (rings.scheme[cell] == SCHEME_FARM) & ~resi
    farm_share = np.where(farm, rng.uniform(0.5, 0.9, k), 0.0)
    route = rings.route_share[cell]
    rest = 1.0 - farm_share
    p.src_cum[rows] = source_mix(
        farm=farm_share,
        own_vpn=rest * route * 0.7,
        vps=rest * route * 0.3,
        resi_proxy=rest * (1.0 - route),
        leak=rings.leak_share[cell],
    )
    us_exits = pick_exits(exits, k, rng, country=geo.COUNTRY_INDEX["US"])
    p.vpn_first[rows] = np.where(rng.random(k) < 0.8, us_exits, pick_exits(exits, k, rng))
    p.vpn_count[rows] = 1
    p.spoof[rows] = spoof
    p.p_op_dev[rows] = rings.operator_device_share[cell]
    p.dev_count[rows] = rng.integers(1, 3, k)
    p.p_tool_farm[rows] = np.where(farm, rings.farm_tool_share[cell], 0.0)
    p.p_tool[rows] = rings.tool_share[cell]
    p.tool_a[rows] = facs.tool_a[cell]
    p.tool_b[rows] = facs.tool_b[cell]
    p.act_mean[rows] = rng.lognormal(np.log(5.5), 0.3, k)
    p.kind_profile[rows] = 1
    p.home_owner[rows] = acct
    p.dev_leader[rows] = acct
    p.p_dev_shared[rows] = 0.0


def cell_photos(
    photo: np.ndarray, has_photo: np.ndarray, plan: Cols, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Profile photos with every fronted account's replaced by a fresh one (no stock avatar)."""
    rows = np.flatnonzero(plan.is_fronted)
    photo, has_photo = photo.copy(), has_photo.copy()
    photo[rows] = random_u64(rng, len(rows))
    has_photo[rows] = rng.random(len(rows)) < PHOTO_SHARE
    return photo, has_photo


def without_fronted_pairs(links: Cols, plan: Cols) -> Cols:
    """Links minus those between two fronted accounts (cells never meet)."""
    return links.take(~(plan.is_fronted[links.a] & plan.is_fronted[links.b]))
