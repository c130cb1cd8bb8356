"""Hard legitimate look-alikes: honest accounts that trip single fraud signals.

Each ordinary account gets at most one look-alike category (recorded in the ground truth).
Shares are of legitimate accounts and are tuned so that any single-flag rule (a VPN, a
shared IP, a remote-desktop tool, a shared payout token, US-night hours, a +8 browser...)
catches many more honest accounts than fronted ones. Groups (households, coworking spaces,
agencies) are formed inside one country and share a zone.
"""

from __future__ import annotations

import numpy as np

from . import geo
from .frame import DAY_SEC, Cols, Window
from .population import LOOKALIKES, RHYTHM_NIGHT, pick_name_pools, pick_zones
from .randomness import choice_index

LOOKALIKE_SHARES = {
    "vpn_user": 0.09,
    "household": 0.03,
    "coworking": 0.025,
    "agency": 0.02,
    "it_support": 0.02,
    "crypto": 0.03,
    "traveler": 0.05,
    "night_owl": 0.06,
    "nomad": 0.02,
}
# group sizes (inclusive)
HOUSEHOLD_SIZE = (2, 4)
COWORK_SIZE = (10, 60)
AGENCY_SIZE = (3, 12)


def make_groups(
    country: np.ndarray,
    members: np.ndarray,
    size_range: tuple[int, int],
    rng: np.random.Generator,
    first_id: int = 0,
) -> np.ndarray:
    """Group id per row (-1 outside) for rows ``members``, each group inside one country.

    Countries with fewer members than the minimum size get no group (their rows stay -1).
    """
    low, high = size_range
    group = np.full(len(country), -1, dtype=np.int32)
    next_id = first_id
    member_rows = np.flatnonzero(members)
    for c in np.unique(country[member_rows]):
        rows = member_rows[country[member_rows] == c]
        rows = rows[rng.permutation(len(rows))]
        if len(rows) < low:
            continue
        pos = 0
        while pos < len(rows):
            size = int(rng.integers(low, high + 1))
            if len(rows) - pos - size < low:
                size = len(rows) - pos
            group[rows[pos : pos + size]] = next_id
            next_id += 1
            pos += size
    return group


def _share_zone(plan: Cols, group: np.ndarray) -> None:
    """Every member of a group takes the zone of the group's first member."""
    rows = np.flatnonzero(group >= 0)
    if len(rows) == 0:
        return
    g = group[rows]
    first: dict[int, int] = {}
    for r, gid in zip(rows.tolist(), g.tolist()):
        first.setdefault(gid, r)
    leader = np.array([first[x] for x in g.tolist()])
    plan.zone[rows] = plan.zone[leader]
    plan.loc_zone[rows] = plan.zone[leader]


def assign_lookalikes(plan: Cols, eligible: np.ndarray, rng: np.random.Generator, win: Window) -> None:
    """Give look-alike categories (and their groups, trips, places) to ``eligible`` plan rows."""
    n = len(plan)
    rows = np.flatnonzero(eligible)
    shares = np.array([LOOKALIKE_SHARES[name] for name in LOOKALIKES])
    draw = choice_index(rng, np.append(shares, 1.0 - shares.sum()), len(rows))
    code = np.full(n, -1, dtype=np.int8)
    code[rows] = np.where(draw < len(LOOKALIKES), draw, -1).astype(np.int8)
    cat = {name: i for i, name in enumerate(LOOKALIKES)}

    # nomads: a Western profile, really living elsewhere long-term
    nomad = np.flatnonzero(code == cat["nomad"])
    plan.country[nomad] = geo.NOMAD_CLAIMED[choice_index(rng, geo.NOMAD_CLAIMED_WEIGHTS, len(nomad))]
    plan.zone[nomad] = pick_zones(plan.country[nomad], rng)
    plan.name_pool[nomad] = pick_name_pools(plan.country[nomad], rng)
    plan.loc_country[nomad] = geo.NOMAD_REAL[choice_index(rng, geo.NOMAD_REAL_WEIGHTS, len(nomad))]
    plan.loc_zone[nomad] = pick_zones(plan.loc_country[nomad], rng)

    for name, size, column in (
        ("household", HOUSEHOLD_SIZE, "household"),
        ("coworking", COWORK_SIZE, "cowork"),
        ("agency", AGENCY_SIZE, "agency"),
    ):
        members = code == cat[name]
        group = make_groups(plan.country, members, size, rng)
        code[members & (group < 0)] = -1  # too few in that country to form a group
        setattr(plan, column, group)
        _share_zone(plan, group)
    # agencies and coworking members work a lot; households share a last name in the plan later
    busy = (plan.agency >= 0) | (plan.cowork >= 0)
    plan.rate_per_day[busy] = np.maximum(plan.rate_per_day[busy], rng.uniform(0.1, 0.35, int(busy.sum())))

    night = code == cat["night_owl"]
    plan.rhythm[night] = RHYTHM_NIGHT

    trav = np.flatnonzero(code == cat["traveler"])
    trip_days = rng.integers(7, 22, len(trav))
    span = plan.stop_sec[trav] - plan.active_start_sec[trav] - trip_days * DAY_SEC
    ok = span > 10 * DAY_SEC
    start = plan.active_start_sec[trav] + (rng.random(len(trav)) * np.maximum(span, 0)).astype(np.int64)
    dest = geo.TRIP_COUNTRIES[choice_index(rng, geo.TRIP_WEIGHTS, len(trav))]
    home = plan.loc_country[trav]
    gb, fr = geo.COUNTRY_INDEX["GB"], geo.COUNTRY_INDEX["FR"]
    dest = np.where(dest == home, np.where(home == gb, fr, gb), dest).astype(np.int16)
    plan.trip_start_sec[trav] = np.where(ok, start, -1)
    plan.trip_days[trav] = trip_days
    plan.trip_country[trav] = dest
    # travellers need a long enough active life to travel in; make them active longer
    short = trav[~ok]
    plan.stop_sec[short] = win.end_sec
    start2 = plan.active_start_sec[short] + (
        rng.random(len(short))
        * np.maximum(win.end_sec - plan.active_start_sec[short] - (trip_days[~ok] + 2) * DAY_SEC, 0)
    ).astype(np.int64)
    good2 = win.end_sec - plan.active_start_sec[short] > (trip_days[~ok] + 12) * DAY_SEC
    plan.trip_start_sec[short] = np.where(good2, start2, -1)
    code[short[~good2]] = -1
    # travellers and nomads are active people
    active = (code == cat["traveler"]) | (code == cat["nomad"])
    plan.rate_per_day[active] = np.maximum(
        plan.rate_per_day[active], rng.uniform(0.06, 0.25, int(active.sum()))
    )
    plan.lookalike = code
