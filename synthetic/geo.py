"""Static geography of the synthetic marketplace: countries, their zones, networks and names.

Weights are rough shares of freelancers per country on a large global marketplace. ASNs are
real, well-known networks where we name them; countries without a list get stable synthetic
ASNs. ``KP`` has weight 0: it only appears in operator leaks and operator zones.
"""

from __future__ import annotations

import numpy as np

# code, legit weight, name pool, zones (name, weight), residential ASNs, mobile ASNs
_COUNTRIES: tuple = (
    (
        "US",
        16.0,
        "us_mix",
        (
            ("America/New_York", 0.42),
            ("America/Chicago", 0.27),
            ("America/Denver", 0.07),
            ("America/Phoenix", 0.04),
            ("America/Los_Angeles", 0.20),
        ),
        (7922, 20115, 7018, 701, 22773, 209),
        (21928, 22394, 20057),
    ),
    (
        "IN",
        14.0,
        "south_asia",
        (("Asia/Kolkata", 1.0),),
        (55836, 24560, 9829, 17488, 24309),
        (55836, 45609, 38266),
    ),
    ("PK", 7.0, "south_asia", (("Asia/Karachi", 1.0),), (17557, 9541), (45669, 24499, 59257)),
    ("PH", 6.0, "filipino", (("Asia/Manila", 1.0),), (9299, 4775, 17639), (132199, 10139)),
    ("UA", 4.5, "slavic", (("Europe/Kyiv", 1.0),), (15895, 6849, 13188, 25229), (15895, 21497, 34058)),
    ("BD", 4.5, "south_asia", (("Asia/Dhaka", 1.0),), (), ()),
    ("GB", 3.5, "anglo", (("Europe/London", 1.0),), (2856, 5089, 5607, 13285), (12576, 25135, 206067)),
    ("NG", 3.0, "west_africa", (("Africa/Lagos", 1.0),), (), (29465, 37148, 36873)),
    ("EG", 2.5, "arab", (("Africa/Cairo", 1.0),), (), ()),
    (
        "BR",
        2.5,
        "latin",
        (("America/Sao_Paulo", 0.9), ("America/Manaus", 0.1)),
        (28573, 18881, 26599, 7738),
        (28573, 26599),
    ),
    ("KE", 2.0, "east_africa", (("Africa/Nairobi", 1.0),), (), ()),
    (
        "CA",
        2.0,
        "anglo",
        (("America/Toronto", 0.6), ("America/Vancouver", 0.25), ("America/Edmonton", 0.15)),
        (812, 577, 852, 6327),
        (812, 577, 852),
    ),
    ("DE", 1.8, "european", (("Europe/Berlin", 1.0),), (3320, 3209, 6805, 8881), (3320, 6805)),
    ("RU", 1.5, "slavic", (("Europe/Moscow", 0.85), ("Asia/Yekaterinburg", 0.15)), (12389, 8402), ()),
    ("VN", 1.5, "east_asia", (("Asia/Ho_Chi_Minh", 1.0),), (), ()),
    ("ID", 1.2, "east_asia", (("Asia/Jakarta", 0.75), ("Asia/Makassar", 0.25)), (), ()),
    ("RO", 1.2, "european", (("Europe/Bucharest", 1.0),), (), ()),
    ("PL", 1.2, "slavic", (("Europe/Warsaw", 1.0),), (), ()),
    ("AR", 1.2, "latin", (("America/Argentina/Buenos_Aires", 1.0),), (), ()),
    (
        "AU",
        1.0,
        "anglo",
        (
            ("Australia/Sydney", 0.45),
            ("Australia/Melbourne", 0.3),
            ("Australia/Brisbane", 0.12),
            ("Australia/Perth", 0.08),
            ("Australia/Adelaide", 0.05),
        ),
        (1221, 4804, 7545),
        (1221,),
    ),
    ("ES", 1.0, "latin", (("Europe/Madrid", 1.0),), (3352, 12479, 12430), ()),
    ("NP", 1.0, "south_asia", (("Asia/Kathmandu", 1.0),), (), ()),
    ("LK", 0.9, "south_asia", (("Asia/Colombo", 1.0),), (), ()),
    ("MX", 1.0, "latin", (("America/Mexico_City", 0.8), ("America/Tijuana", 0.2)), (), ()),
    ("CN", 0.8, "east_asia", (("Asia/Shanghai", 1.0),), (4134, 4837, 9808), (9808,)),
    ("FR", 0.8, "european", (("Europe/Paris", 1.0),), (3215, 12322, 5410, 15557), ()),
    ("RS", 0.8, "slavic", (("Europe/Belgrade", 1.0),), (), ()),
    ("CO", 0.8, "latin", (("America/Bogota", 1.0),), (), ()),
    ("TR", 0.7, "turkic", (("Europe/Istanbul", 1.0),), (), ()),
    ("ZA", 0.7, "east_africa", (("Africa/Johannesburg", 1.0),), (), ()),
    ("IT", 0.6, "european", (("Europe/Rome", 1.0),), (), ()),
    ("VE", 0.6, "latin", (("America/Caracas", 1.0),), (), ()),
    ("NL", 0.5, "european", (("Europe/Amsterdam", 1.0),), (), ()),
    ("GH", 0.5, "west_africa", (("Africa/Accra", 1.0),), (), ()),
    ("MA", 0.5, "arab", (("Africa/Casablanca", 1.0),), (), ()),
    ("BY", 0.4, "slavic", (("Europe/Minsk", 1.0),), (), ()),
    ("PT", 0.4, "latin", (("Europe/Lisbon", 1.0),), (), ()),
    ("MY", 0.4, "east_asia", (("Asia/Kuala_Lumpur", 1.0),), (), ()),
    ("GE", 0.3, "turkic", (("Asia/Tbilisi", 1.0),), (), ()),
    ("AM", 0.3, "turkic", (("Asia/Yerevan", 1.0),), (), ()),
    ("UZ", 0.3, "turkic", (("Asia/Tashkent", 1.0),), (), ()),
    ("TH", 0.3, "east_asia", (("Asia/Bangkok", 1.0),), (), ()),
    ("AE", 0.3, "arab", (("Asia/Dubai", 1.0),), (), ()),
    ("JP", 0.2, "east_asia", (("Asia/Tokyo", 1.0),), (), ()),
    ("KR", 0.2, "east_asia", (("Asia/Seoul", 1.0),), (), ()),
    ("SG", 0.2, "east_asia", (("Asia/Singapore", 1.0),), (), ()),
    ("NZ", 0.2, "anglo", (("Pacific/Auckland", 1.0),), (), ()),
    ("IE", 0.2, "anglo", (("Europe/Dublin", 1.0),), (), ()),
    ("SE", 0.2, "european", (("Europe/Stockholm", 1.0),), (), ()),
    ("CH", 0.1, "european", (("Europe/Zurich", 1.0),), (), ()),
    ("HK", 0.1, "east_asia", (("Asia/Hong_Kong", 1.0),), (), ()),
    ("LA", 0.0, "east_asia", (("Asia/Vientiane", 1.0),), (), ()),
    ("KP", 0.0, "east_asia", (("Asia/Pyongyang", 1.0),), (131279,), ()),
)

COUNTRY_CODES: tuple[str, ...] = tuple(row[0] for row in _COUNTRIES)
COUNTRY_INDEX: dict[str, int] = {c: i for i, c in enumerate(COUNTRY_CODES)}
COUNTRY_WEIGHT = np.array([row[1] for row in _COUNTRIES], dtype=np.float64)
COUNTRY_NAME_POOL: tuple[str, ...] = tuple(row[2] for row in _COUNTRIES)
EXTRA_ZONES = ("Asia/Vladivostok",)

ZONES: tuple[str, ...] = tuple(
    dict.fromkeys([z for row in _COUNTRIES for z, _ in row[3]] + list(EXTRA_ZONES))
)
ZONE_INDEX: dict[str, int] = {z: i for i, z in enumerate(ZONES)}
# the country a zone belongs to (its first listing); Vladivostok is Russian
ZONE_COUNTRY = np.array(
    [
        next((i for i, row in enumerate(_COUNTRIES) if any(z == n for n, _ in row[3])), COUNTRY_INDEX["RU"])
        for z in ZONES
    ],
    dtype=np.int16,
)
# main zone of each country (for trips, VPN exits, payout destinations)
COUNTRY_MAIN_ZONE = np.array(
    [ZONE_INDEX[max(row[3], key=lambda zw: zw[1])[0]] for row in _COUNTRIES], dtype=np.int16
)


def country_zone_choices(country: str) -> tuple[np.ndarray, np.ndarray]:
    """Zone indices of ``country`` and their weights (summing to 1)."""
    row = _COUNTRIES[COUNTRY_INDEX[country]]
    zones = np.array([ZONE_INDEX[z] for z, _ in row[3]], dtype=np.int16)
    w = np.array([w for _, w in row[3]], dtype=np.float64)
    return zones, w / w.sum()


def _flatten_asns(lists: list, salt: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    flat: list[int] = []
    start, count = [], []
    for i, listed in enumerate(lists):
        asns = list(listed) or [196608 + 131 * i + 17 * k + salt for k in range(3)]
        start.append(len(flat))
        count.append(len(asns))
        flat.extend(asns)
    return np.array(flat, np.int64), np.array(start, np.int64), np.array(count, np.int64)


RES_ASN, RES_ASN_START, RES_ASN_COUNT = _flatten_asns([row[4] for row in _COUNTRIES], 0)
# mobile carriers; countries without a list use their residential ISPs (often the same firms)
MOB_ASN, MOB_ASN_START, MOB_ASN_COUNT = _flatten_asns([row[5] or row[4] for row in _COUNTRIES], 0)


def residential_asn(country: np.ndarray, h: np.ndarray) -> np.ndarray:
    """A residential ISP ASN of ``country`` picked by the hash ``h`` (uint64) of the IP entity."""
    c = country.astype(np.int64)
    k = (h % RES_ASN_COUNT[c].astype(np.uint64)).astype(np.int64)
    return RES_ASN[RES_ASN_START[c] + k]


def mobile_asn(country: np.ndarray, h: np.ndarray) -> np.ndarray:
    """A mobile carrier ASN of ``country`` picked by the hash ``h`` (uint64) of the IP entity."""
    c = country.astype(np.int64)
    k = (h % MOB_ASN_COUNT[c].astype(np.uint64)).astype(np.int64)
    return MOB_ASN[MOB_ASN_START[c] + k]


def countries(codes) -> np.ndarray:
    """Country indices of ISO codes."""
    return np.array([COUNTRY_INDEX[c] for c in codes], dtype=np.int16)


# VPN / proxy exits: countries of exits with weights, and provider networks (ASNs)
VPN_EXIT_COUNTRIES = countries(("US", "NL", "DE", "GB", "SG", "CA", "CH", "SE", "JP", "FR", "HK", "AU"))
VPN_EXIT_WEIGHTS = np.array([35, 12, 10, 10, 6, 5, 5, 4, 4, 4, 3, 2], dtype=np.float64)
VPN_ASNS = np.array([9009, 60068, 212238, 16276, 20473, 24940, 51167, 136787, 62240], dtype=np.int64)
HOSTING_ASNS = np.array([14061, 20473, 16509, 63949, 16276, 24940], dtype=np.int64)
# China Unicom / China Telecom / Rostelecom / Star JV: operator leaks
LEAK_COUNTRIES = countries(("CN", "CN", "RU", "KP"))
LEAK_ASNS = np.array([4837, 4134, 12389, 131279], dtype=np.int64)
LEAK_WEIGHTS = np.array([55, 30, 12, 3], dtype=np.float64)

# where front identities claim to live, and the facilitators' countries
FRONT_COUNTRIES = countries(("US", "CA", "GB", "AU", "DE"))
FRONT_WEIGHTS = np.array([82, 7, 6, 3, 2], dtype=np.float64)
# where the operators really sit
OPERATOR_ZONES = np.array(
    [ZONE_INDEX[z] for z in ("Asia/Shanghai", "Asia/Pyongyang", "Asia/Vladivostok", "Asia/Vientiane")],
    dtype=np.int16,
)
OPERATOR_ZONE_WEIGHTS = np.array([52, 33, 8, 7], dtype=np.float64)
# long-term nomads: claimed (Western) home and where they really are
NOMAD_CLAIMED = countries(("US", "GB", "DE", "CA", "AU", "FR", "NL"))
NOMAD_CLAIMED_WEIGHTS = np.array([45, 15, 10, 10, 8, 6, 6], dtype=np.float64)
NOMAD_REAL = countries(("TH", "ID", "MX", "PT", "CO", "GE", "VN", "ES", "AR", "MY", "PH", "JP", "KR", "SG"))
NOMAD_REAL_WEIGHTS = np.array([14, 14, 10, 8, 6, 5, 8, 5, 3, 6, 9, 5, 5, 3], dtype=np.float64)
# travel destinations
TRIP_COUNTRIES = countries(
    (
        "GB",
        "FR",
        "ES",
        "IT",
        "US",
        "MX",
        "TH",
        "JP",
        "AE",
        "TR",
        "PT",
        "DE",
        "ID",
        "SG",
        "CN",
        "KR",
        "CA",
        "IN",
    )
)
TRIP_WEIGHTS = np.array([10, 9, 9, 8, 9, 6, 6, 4, 5, 5, 4, 5, 3, 3, 2, 2, 4, 3], dtype=np.float64)
# payout destinations seen on fronted accounts besides the claimed country
FRONT_PAYOUT_ELSEWHERE = countries(("HK", "CN", "AE", "SG", "RU", "LA"))
FRONT_PAYOUT_ELSEWHERE_WEIGHTS = np.array([35, 25, 15, 12, 8, 5], dtype=np.float64)
