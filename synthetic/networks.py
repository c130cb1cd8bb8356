"""Where sessions come from: IP sources, the shared VPN exit pool and IP attributes.

An IP is an *entity* (see :mod:`.randomness`); its country, ASN and type are functions of the
entity and its context, so the same IP always geolocates the same way. Sources:

- home: the account's (or its household's) residential line, re-assigned by the ISP now and then;
  in countries where ISPs put home lines behind carrier-grade NAT (and on campus or apartment
  networks) the address is shared with unrelated neighbours
- mobile: a carrier-grade-NAT pool per country (many unrelated users share each address)
- cowork: a coworking space or agency office (``business``), shared by its members
- vpn: an exit from one global pool shared by honest VPN users and rings alike
- farm: a facilitator's residential lines, behind which a ring's laptops sit
- resi_proxy: a sticky residential proxy per identity in the claimed country
- vps: a ring's own rented servers (``hosting``), or an honest developer's cloud desktop
- trip: hotel / rental IPs of a traveller abroad
- leak: the operators' own network showing through (China, Russia, rarely North Korea)
- own_vpn: a dedicated VPN/proxy address rented by one identity alone (an exit of the pool's
  kind and country, but an address nobody else uses)
"""

from __future__ import annotations

import numpy as np

from ..features.contract import IP_TYPES
from . import geo
from .frame import DAY_SEC, Cols
from .randomness import (
    NS_COWORK_IP,
    NS_FARM_IP,
    NS_HOME_IP,
    NS_LEAK_IP,
    NS_MOBILE_IP,
    NS_RESI_PROXY_IP,
    NS_TRIP_IP,
    NS_VPN_IP,
    NS_VPS_IP,
    choice_index,
    entity,
    mix64,
)

# new sources go at the end: a draw over the cumulative weights does not move when a column
# that no one uses is appended
SOURCES = ("home", "mobile", "cowork", "vpn", "farm", "resi_proxy", "vps", "trip", "leak", "own_vpn")
(SRC_HOME, SRC_MOBILE, SRC_COWORK, SRC_VPN, SRC_FARM, SRC_RESI, SRC_VPS, SRC_TRIP, SRC_LEAK, SRC_OWN_VPN) = (
    range(len(SOURCES))
)
IPT = {name: i for i, name in enumerate(IP_TYPES)}
MOBILE_HEAVY = geo.countries(("NG", "KE", "PH", "IN", "PK", "BD", "EG", "GH", "VN", "ID"))
# share of home lines behind shared addresses (ISP CGNAT, campus, apartment networks), by country
_SHARED_HOME = np.full(len(geo.COUNTRY_CODES), 0.04)
for _code, _share in (
    ("IN", 0.25),
    ("PK", 0.3),
    ("BD", 0.3),
    ("NG", 0.35),
    ("EG", 0.25),
    ("PH", 0.25),
    ("VN", 0.2),
    ("ID", 0.2),
    ("KE", 0.3),
    ("GH", 0.3),
    ("LK", 0.2),
    ("NP", 0.2),
    ("US", 0.03),
    ("GB", 0.02),
):
    _SHARED_HOME[geo.COUNTRY_INDEX[_code]] = _share
_SHARED_HOME_PERMILLE = (_SHARED_HOME * 1000).astype(np.uint64)
_HOME_SHARED_BIT = 1 << 50
_VPS_HONEST_BIT = 1 << 50
_VPN_DEDICATED_BIT = 1 << 50
_U = np.uint64


def vpn_exits(n_accounts: int, rng: np.random.Generator) -> Cols:
    """The shared pool of VPN/proxy exits, sorted by country, with a popularity weight each."""
    n = max(40, n_accounts // 1500)
    country = geo.VPN_EXIT_COUNTRIES[choice_index(rng, geo.VPN_EXIT_WEIGHTS, n)]
    order = np.argsort(country, kind="stable")
    country = country[order]
    kinds = np.array([IPT["vpn"], IPT["hosting"], IPT["proxy"], IPT["tor"]], np.int8)
    ip_type = kinds[choice_index(rng, (68, 22, 7, 3), n)]
    return Cols(
        country=country,
        zone=geo.COUNTRY_MAIN_ZONE[country],
        asn=geo.VPN_ASNS[rng.integers(0, len(geo.VPN_ASNS), n)],
        ip_type=ip_type,
        weight=1.0 / (1.0 + rng.permutation(n)) ** 0.8,
    )


def pick_exits(exits: Cols, n: int, rng: np.random.Generator, country: int | None = None) -> np.ndarray:
    """First favourite exit per user by popularity, optionally among one country's exits."""
    if country is not None and np.any(exits.country == country):
        rows = np.flatnonzero(exits.country == country)
    else:
        rows = np.arange(len(exits))
    return rows[choice_index(rng, exits.weight[rows], n)].astype(np.int32)


def address_pools(loc_country: np.ndarray) -> Cols:
    """Sizes of the shared address pools per country: mobile carrier NAT (about one address per
    40 accounts living there) and shared home lines (one per ~25 accounts behind them)."""
    counts = np.bincount(loc_country.astype(np.int64), minlength=len(geo.COUNTRY_CODES))
    return Cols(
        mobile=np.maximum(4, counts // 40).astype(np.int64),
        home=np.maximum(2, (counts * _SHARED_HOME / 25).astype(np.int64)),
    )


def _period_epoch(
    owner: np.ndarray, t_sec: np.ndarray, low_days: int, span_days: int, salt: int
) -> np.ndarray:
    """Index of the address-assignment period an instant falls in, with a per-owner period and phase."""
    h = mix64(owner.astype(np.uint64) ^ _U(salt))
    period = (low_days + (h % _U(span_days)).astype(np.int64)) * DAY_SEC
    phase = ((h >> _U(20)) % _U(1 << 30)).astype(np.int64) % period
    return (t_sec + phase) // period


def ip_rows(
    src: np.ndarray, ctx: Cols, t_sec: np.ndarray, u: np.ndarray, exits: Cols, pools: Cols
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Entity id, country, ASN and IP type of each session from its source and context.

    ``ctx`` holds per-session context: home_owner, loc_country, claimed_country, cowork,
    vpn_first, vpn_count, facilitator, fac_country, farm_ip_count, acct, ring, trip_country.
    ``u`` is a uniform random number per session (which address of a set is used).
    """
    n = len(src)
    ent = np.zeros(n, np.uint64)
    country = np.zeros(n, np.int16)
    asn = np.zeros(n, np.int64)
    ip_type = np.full(n, IPT["residential"], np.int8)
    pick = (u * 1_000_003).astype(np.int64)

    m = src == SRC_HOME
    owner = ctx.home_owner[m].astype(np.int64)
    epoch = _period_epoch(owner, t_sec[m], 45, 255, 0x11)
    line = owner * 64 + epoch % 64
    c = ctx.loc_country[m].astype(np.int64)
    h = mix64(owner.astype(np.uint64) ^ _U(0x5A))
    behind_nat = h % _U(1000) < _SHARED_HOME_PERMILLE[c]
    shared_line = _HOME_SHARED_BIT | (
        c * 1_000_000 + (mix64(line.astype(np.uint64)) % pools.home[c].astype(np.uint64)).astype(np.int64)
    )
    ent[m] = entity(NS_HOME_IP, np.where(behind_nat, shared_line, line))
    country[m] = c
    asn[m] = geo.residential_asn(country[m], mix64(owner.astype(np.uint64)))

    m = src == SRC_MOBILE
    c = ctx.loc_country[m].astype(np.int64)
    ent[m] = entity(NS_MOBILE_IP, c * 1_000_000 + pick[m] % pools.mobile[c])
    country[m] = c
    asn[m] = geo.mobile_asn(c, mix64(ent[m]))
    ip_type[m] = IPT["mobile"]

    m = src == SRC_COWORK
    ent[m] = entity(NS_COWORK_IP, ctx.cowork[m])
    country[m] = ctx.loc_country[m]
    asn[m] = geo.residential_asn(country[m], mix64(ent[m]))
    ip_type[m] = IPT["business"]

    m = src == SRC_VPN
    ex = ctx.vpn_first[m] + pick[m] % np.maximum(ctx.vpn_count[m], 1)
    ex = ex % len(exits)
    ent[m] = entity(NS_VPN_IP, ex)
    country[m], asn[m], ip_type[m] = exits.country[ex], exits.asn[ex], exits.ip_type[ex]

    m = src == SRC_FARM
    fac = ctx.facilitator[m].astype(np.int64)
    epoch = t_sec[m] // (150 * DAY_SEC)
    ent[m] = entity(NS_FARM_IP, fac * 256 + (epoch % 16) * 4 + pick[m] % np.maximum(ctx.farm_ip_count[m], 1))
    country[m] = ctx.fac_country[m]
    asn[m] = geo.residential_asn(country[m], mix64(fac.astype(np.uint64) ^ _U(0xFA)))

    m = src == SRC_RESI
    acct = ctx.acct[m].astype(np.int64)
    epoch = _period_epoch(acct, t_sec[m], 20, 40, 0x22)
    ent[m] = entity(NS_RESI_PROXY_IP, acct * 64 + epoch % 64)
    country[m] = ctx.claimed_country[m]
    h = mix64(ent[m])
    asn[m] = geo.residential_asn(country[m], h)
    ip_type[m] = np.where(h % _U(100) < _U(12), IPT["proxy"], IPT["residential"])

    m = src == SRC_VPS
    ring = ctx.ring[m].astype(np.int64)
    ent[m] = entity(
        NS_VPS_IP, np.where(ring >= 0, ring * 4 + pick[m] % 2, _VPS_HONEST_BIT | ctx.acct[m].astype(np.int64))
    )
    country[m] = ctx.claimed_country[m]
    asn[m] = geo.HOSTING_ASNS[(mix64(ent[m]) % _U(len(geo.HOSTING_ASNS))).astype(np.int64)]
    ip_type[m] = IPT["hosting"]

    m = src == SRC_TRIP
    ent[m] = entity(NS_TRIP_IP, ctx.acct[m].astype(np.int64) * 4 + pick[m] % 3)
    country[m] = ctx.trip_country[m]
    h = mix64(ent[m])
    asn[m] = geo.residential_asn(country[m], h)
    ip_type[m] = np.where(h % _U(3) == _U(0), IPT["business"], IPT["residential"])

    m = src == SRC_LEAK
    ent[m] = entity(NS_LEAK_IP, ctx.ring[m].astype(np.int64) * 4 + pick[m] % 2)
    cum = np.cumsum(geo.LEAK_WEIGHTS) / geo.LEAK_WEIGHTS.sum()
    which = np.searchsorted(cum, (mix64(ent[m]) % _U(10_000)).astype(np.float64) / 10_000, side="right")
    which = np.minimum(which, len(cum) - 1)
    country[m], asn[m] = geo.LEAK_COUNTRIES[which], geo.LEAK_ASNS[which]

    m = src == SRC_OWN_VPN
    ex = ctx.vpn_first[m] % len(exits)
    ent[m] = entity(NS_VPN_IP, _VPN_DEDICATED_BIT | (ctx.acct[m].astype(np.int64) * 4 + pick[m] % 2))
    country[m], asn[m], ip_type[m] = exits.country[ex], exits.asn[ex], exits.ip_type[ex]
    return ent, country, asn, ip_type
