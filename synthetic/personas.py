"""Personas: stretches of an account's life with one consistent behaviour.

Most accounts have one persona. A traveller has three (before, during and after the trip);
a rented account has two (the honest owner, then the ring after ``takeover_at``). A persona
fixes the working rhythm (local hours in a zone), the mix of IP sources, the browser's
reported zone, devices, remote-desktop tools and activity volume. :mod:`.sessions` turns
personas into session and activity rows.
"""

from __future__ import annotations

import numpy as np

from . import geo
from .frame import DAY_SEC, Cols, Window
from .networks import (
    MOBILE_HEAVY,
    SOURCES,
    pick_exits,
)
from .population import (
    EVASION_BIT,
    LOOKALIKES,
    RHYTHM_DAY,
    RHYTHM_EVENING,
    RHYTHM_NIGHT,
    RHYTHM_OPERATOR,
    RHYTHM_SPLIT,
    RHYTHM_US_SHIFT,
)
from .randomness import choice_index, group_slices
from .rings import REMOTE_TOOLS, SCHEME_FARM

_CAT = {name: i for i, name in enumerate(LOOKALIKES)}
_TOOL = {name: i for i, name in enumerate(REMOTE_TOOLS)}
# rhythm: window 1 start/length (local hours), window 2 start/length, P(window 1), P(any hour),
# P(keeping a session that falls on a weekend)
_RHYTHMS = {
    RHYTHM_DAY: ((7.5, 10.5), (7, 10), (19, 21), (3, 3), 0.9, 0.04, (0.08, 0.4)),
    RHYTHM_SPLIT: ((7, 9.5), (4.5, 4.5), (18.5, 21), (4, 4), 0.5, 0.04, (0.2, 0.5)),
    RHYTHM_EVENING: ((17.5, 19.5), (4, 5.5), (8.5, 11), (6, 6), 0.75, 0.05, (0.6, 0.95)),
    RHYTHM_NIGHT: ((19.5, 22), (5.5, 8), (12, 15), (4, 4), 0.85, 0.05, (0.3, 0.6)),
    RHYTHM_OPERATOR: ((8.5, 10), (11, 13), (13, 15), (3, 3), 0.95, 0.04, (0.75, 0.97)),
    RHYTHM_US_SHIFT: ((8, 10), (8, 10), (19, 21), (3, 3), 0.9, 0.03, (0.45, 0.8)),
}


def group_leader(group: np.ndarray) -> np.ndarray:
    """Lowest row index of each row's group (the row itself outside groups)."""
    leader = np.arange(len(group))
    rows = np.flatnonzero(group >= 0)
    order, starts, ends = group_slices(group[rows])
    first = rows[order[starts]]
    leader[rows[order]] = np.repeat(first, ends - starts)
    return leader


def set_rhythm(p: Cols, rows: np.ndarray, code: np.ndarray, rng: np.random.Generator) -> None:
    """Working windows, their odds and the weekend habit of persona ``rows`` for rhythm codes ``code``."""
    for c, (s1, l1, s2, l2, pw1, pany, keep) in _RHYTHMS.items():
        r = rows[code == c]
        k = len(r)
        p.w1_start_hours[r] = rng.uniform(*s1, k)
        p.w1_len_hours[r] = rng.uniform(*l1, k)
        p.w2_start_hours[r] = rng.uniform(*s2, k)
        p.w2_len_hours[r] = rng.uniform(*l2, k)
        p.p_w1[r], p.p_any[r] = pw1, pany
        p.weekend_keep[r] = rng.uniform(*keep, k)


def source_mix(**weights: np.ndarray | float) -> np.ndarray:
    """Cumulative source probabilities (rows, len(SOURCES)) from per-source weights."""
    n = max(np.size(w) for w in weights.values())
    mat = np.zeros((n, len(SOURCES)), np.float32)
    for name, w in weights.items():
        mat[:, SOURCES.index(name)] = w
    mat /= mat.sum(axis=1, keepdims=True)
    return np.cumsum(mat, axis=1)


def _base(plan: Cols, facs: Cols, exits: Cols, rng: np.random.Generator) -> Cols:
    n = len(plan)
    f32 = lambda v=0.0: np.full(n, v, np.float32)  # noqa: E731
    fac = np.maximum(plan.facilitator, 0)
    leader = group_leader(plan.household)
    mobile = np.where(
        np.isin(plan.loc_country, MOBILE_HEAVY), rng.uniform(0.15, 0.4, n), rng.uniform(0.03, 0.15, n)
    )
    vpn = np.where(rng.random(n) < 0.015, rng.uniform(0.03, 0.15, n), 0.0)
    cloud = np.where(
        (rng.random(n) < 0.01) & ~plan.is_fronted, rng.uniform(0.05, 0.3, n), 0.0
    )  # cloud desktops
    p = Cols(
        acct=np.arange(n, dtype=np.int32),
        t0_sec=plan.active_start_sec.copy(),
        t1_sec=plan.stop_sec.copy(),
        rate_per_day=plan.rate_per_day.copy(),
        signup=np.ones(n, bool),
        rhythm_zone=plan.loc_zone.copy(),
        device_zone=plan.loc_zone.copy(),
        claimed_zone=plan.zone.copy(),
        loc_country=plan.loc_country.copy(),
        claimed_country=plan.country.copy(),
        w1_start_hours=f32(),
        w1_len_hours=f32(),
        w2_start_hours=f32(),
        w2_len_hours=f32(),
        p_w1=f32(),
        p_any=f32(),
        weekend_keep=f32(),
        vac_start_day=np.full(n, -1, np.int64),
        vac_days=np.zeros(n, np.int64),
        src_cum=source_mix(home=1.0 - mobile - vpn - cloud, mobile=mobile, vpn=vpn, vps=cloud),
        pb_claimed=f32(),
        pb_exit=f32(),
        farm_leak=f32(),
        vpn_first=pick_exits(exits, n, rng),
        vpn_count=rng.integers(1, 4, n).astype(np.int8),
        home_owner=leader.astype(np.int32),
        cowork=np.full(n, -1, np.int32),
        ring=plan.ring.copy(),
        facilitator=plan.facilitator.copy(),
        fac_country=facs.country[fac].astype(np.int16),
        farm_ip_count=facs.farm_ip_count[fac].astype(np.int8),
        trip_country=plan.trip_country.copy(),
        dev_owner=np.arange(n, dtype=np.int32),
        dev_slot_base=np.zeros(n, np.int8),
        dev_count=(1 + choice_index(rng, (55, 35, 10), n)).astype(np.int8),
        dev_leader=leader.astype(np.int32),
        p_dev_shared=f32(),
        spoof=np.zeros(n, bool),
        p_op_dev=f32(),
        p_tool=f32(),
        tool_a=np.full(n, _TOOL["chrome_remote_desktop"], np.int8),
        tool_b=np.full(n, _TOOL["anydesk"], np.int8),
        p_tool_farm=f32(),
        act_mean=rng.lognormal(np.log(2.6), 0.45, n).astype(np.float32),
        kind_profile=np.zeros(n, np.int8),
    )
    set_rhythm(p, np.arange(n), plan.rhythm, rng)
    vac = np.flatnonzero(rng.random(n) < 0.55)
    span = (p.t1_sec[vac] - p.t0_sec[vac]).astype(np.float64)
    p.vac_start_day[vac] = (p.t0_sec[vac] + rng.random(len(vac)) * span).astype(np.int64) // DAY_SEC
    p.vac_days[vac] = rng.integers(7, 21, len(vac))
    rare_tool = rng.random(n) < 0.004
    p.p_tool[rare_tool] = rng.uniform(0.02, 0.1, int(rare_tool.sum()))
    return p


def _lookalikes(p: Cols, plan: Cols, exits: Cols, rng: np.random.Generator) -> None:
    code = plan.lookalike

    def rows(name: str) -> np.ndarray:
        return np.flatnonzero(code == _CAT[name])

    r = rows("vpn_user")
    vpn_share = rng.uniform(0.2, 0.9, len(r))
    p.src_cum[r] = source_mix(home=(1 - vpn_share) * 0.85, mobile=(1 - vpn_share) * 0.15, vpn=vpn_share)
    p.pb_exit[r] = np.where(rng.random(len(r)) < 0.15, rng.uniform(0.1, 0.6, len(r)), 0.0)

    r = rows("household")
    shares = rng.random(len(r)) < 0.5
    p.p_dev_shared[r] = np.where(shares, rng.uniform(0.1, 0.4, len(r)), 0.0)

    cowork_groups = int(plan.cowork.max()) + 1 if len(plan) else 0
    has_office = rng.random(int(plan.agency.max()) + 2) < 0.5  # half the agencies share an office
    office = (plan.agency >= 0) & has_office[plan.agency]
    in_space = (plan.cowork >= 0) | office
    space = np.where(plan.cowork >= 0, plan.cowork, cowork_groups + plan.agency)
    r = np.flatnonzero(in_space)
    share = rng.uniform(0.35, 0.85, len(r))
    p.cowork[r] = space[r]
    p.src_cum[r] = source_mix(home=(1 - share) * 0.85, mobile=(1 - share) * 0.15, cowork=share)
    r = rows("agency")
    p.act_mean[r] *= 1.3

    r = rows("it_support")
    p.p_tool[r] = rng.uniform(0.2, 0.6, len(r))
    p.tool_a[r] = _TOOL["anydesk"]
    p.tool_b[r] = np.where(rng.random(len(r)) < 0.7, _TOOL["teamviewer"], _TOOL["rustdesk"])
    p.dev_count[r] = rng.integers(3, 6, len(r))

    r = rows("nomad")
    p.pb_claimed[r] = np.where(rng.random(len(r)) < 0.3, rng.uniform(0.3, 1.0, len(r)), 0.0)
    vpn_share = np.where(rng.random(len(r)) < 0.35, rng.uniform(0.1, 0.6, len(r)), 0.0)
    p.src_cum[r] = source_mix(home=(1 - vpn_share) * 0.8, mobile=(1 - vpn_share) * 0.2, vpn=vpn_share)
    home_vpn = r[rng.random(len(r)) < 0.5]  # some tunnel home to the claimed country
    for c in np.unique(plan.country[home_vpn]):
        sel = home_vpn[plan.country[home_vpn] == c]
        p.vpn_first[sel] = pick_exits(exits, len(sel), rng, country=int(c))


def _fronted(
    p: Cols, rows: np.ndarray, plan: Cols, rings: Cols, facs: Cols, exits: Cols, rng: np.random.Generator
) -> None:
    """Turn persona rows ``rows`` (of fronted accounts) into operator behaviour of their ring."""
    k = len(rows)
    if k == 0:
        return
    acct = p.acct[rows]
    ring = plan.ring[acct]
    ev = plan.evasion[acct].astype(np.int64)
    has = lambda name: (ev & EVASION_BIT[name]) > 0  # noqa: E731
    op_zone = rings.op_zone[ring]
    us_hours, spoof, resi = has("us_hours"), has("browser_spoof"), has("residential_proxy")
    p.device_zone[rows] = op_zone
    p.rhythm_zone[rows] = np.where(us_hours, p.claimed_zone[rows], op_zone)
    set_rhythm(p, rows, np.where(us_hours, RHYTHM_US_SHIFT, RHYTHM_OPERATOR), rng)
    p.vac_start_day[rows] = -1
    p.pb_claimed[rows] = np.where(spoof, 1.0, rng.uniform(0.05, 0.5, k))
    p.pb_exit[rows] = np.where(spoof, 0.0, rng.uniform(0.0, 0.3, k))
    p.farm_leak[rows] = rings.farm_leak_share[ring]
    farm = (rings.scheme[ring] == SCHEME_FARM) & ~resi
    farm_share = np.where(farm, rng.uniform(0.55, 0.88, k), 0.0)
    rest = 1.0 - farm_share
    leak = rings.leak_share[ring]
    p.src_cum[rows] = np.where(
        resi[:, None],
        source_mix(resi_proxy=np.ones(k)),
        source_mix(farm=farm_share, vpn=rest * 0.6, vps=rest * 0.25, resi_proxy=rest * 0.15, leak=leak),
    )
    us_exits = pick_exits(exits, k, rng, country=geo.COUNTRY_INDEX["US"])
    p.vpn_first[rows] = np.where(rng.random(k) < 0.8, us_exits, p.vpn_first[rows])
    p.vpn_count[rows] = rng.integers(1, 5, k)
    p.spoof[rows] = spoof
    p.p_op_dev[rows] = rings.operator_device_share[ring]
    p.dev_count[rows] = rng.integers(1, 3, k)
    fac = np.maximum(plan.facilitator[acct], 0)
    p.p_tool_farm[rows] = np.where(farm, rng.uniform(0.6, 0.95, k), 0.0)
    p.p_tool[rows] = np.where(resi, 0.0, 0.02)
    p.tool_a[rows] = facs.tool_a[fac]
    p.tool_b[rows] = facs.tool_b[fac]
    p.act_mean[rows] = rng.lognormal(np.log(5.5), 0.3, k)
    p.kind_profile[rows] = 1
    p.home_owner[rows] = acct
    p.dev_leader[rows] = acct
    p.p_dev_shared[rows] = 0.0


def build_personas(
    plan: Cols, rings: Cols, facs: Cols, exits: Cols, rng: np.random.Generator, win: Window
) -> Cols:
    """All personas of all accounts, sorted by account then start time."""
    p = _base(plan, facs, exits, rng)
    _lookalikes(p, plan, exits, rng)
    members = np.flatnonzero(plan.is_fronted & (plan.takeover_sec < 0))
    _fronted(p, members, plan, rings, facs, exits, rng)
    parts = [p]

    rented = np.flatnonzero(plan.takeover_sec >= 0)
    if len(rented):
        q = p.take(rented)
        q.t0_sec = plan.takeover_sec[rented].copy()
        q.signup[:] = False
        q.rate_per_day = rng.lognormal(np.log(0.5), 0.4, len(rented)).astype(np.float32)
        q.dev_slot_base[:] = 8  # new devices after the takeover
        _fronted(q, np.arange(len(q)), plan, rings, facs, exits, rng)
        p.t1_sec[rented] = np.minimum(p.t1_sec[rented], plan.takeover_sec[rented])
        parts.append(q)

    trav = np.flatnonzero(plan.trip_start_sec >= 0)
    if len(trav):
        trip_end = plan.trip_start_sec[trav] + plan.trip_days[trav].astype(np.int64) * DAY_SEC
        trip, after = p.take(trav), p.take(trav)
        trip.t0_sec = plan.trip_start_sec[trav].copy()
        trip.t1_sec = np.minimum(trip_end, p.t1_sec[trav])
        trip.signup[:] = after.signup[:] = False
        zone = geo.COUNTRY_MAIN_ZONE[plan.trip_country[trav]]
        trip.rhythm_zone, trip.device_zone = zone.copy(), zone.copy()
        trip.loc_country = plan.trip_country[trav].copy()
        trip.pb_claimed = np.where(rng.random(len(trav)) < 0.25, 1.0, 0.0).astype(np.float32)
        trip.src_cum = source_mix(trip=np.full(len(trav), 0.75), mobile=0.25)
        trip.rate_per_day = np.maximum(trip.rate_per_day * 0.7, 0.3).astype(np.float32)
        trip.vac_start_day[:] = -1
        after.t0_sec = trip_end
        p.t1_sec[trav] = np.minimum(p.t1_sec[trav], plan.trip_start_sec[trav])
        parts += [trip, after]

    out = Cols.concat(parts)
    order = np.lexsort((out.t0_sec, out.acct))
    return out.take(order)
