"""account_links: relations between accounts (same_client, co_worked, messaged).

Honest accounts link at random (more often within a country); agency members co-work;
household members message each other; ring members message and co-work with each other
sometimes and share clients with honest freelancers. A link holds from some instant while
both accounts are active (unknown for ~10% of links). Each unordered pair appears once.
"""

from __future__ import annotations

import numpy as np

from .frame import Cols
from .randomness import choice_index

LINK_KINDS = ("same_client", "co_worked", "messaged")
SAME_CLIENT, CO_WORKED, MESSAGED = range(3)
HONEST_LINKS_PER_ACCOUNT = 0.55
RING_PAIR_LINK_SHARE = 0.15


def _group_pairs(group: np.ndarray, share: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Random pairs inside groups: each member linked to about ``share`` of the others (>= 1 link)."""
    rows = np.flatnonzero(group >= 0)
    if len(rows) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    size = np.bincount(group[rows]).astype(np.int64)
    k = np.maximum(1, (share * (size[group[rows]] - 1)).astype(np.int64))
    a = np.repeat(rows, k)
    # partner: another member of the same group, drawn among the group's rows
    order = np.argsort(group[rows], kind="stable")
    grouped = rows[order]
    start = np.searchsorted(group[grouped], group[a])
    b = grouped[start + rng.integers(0, 1 << 30, len(a)) % size[group[a]]]
    return a, b


def build_links(plan: Cols, rng: np.random.Generator) -> Cols:
    """Link rows (a, b, kind, linked_sec, linked_ok), unique unordered pairs, sorted by a then b."""
    n = len(plan)
    parts = []
    m = int(round(HONEST_LINKS_PER_ACCOUNT * n))
    a = rng.integers(0, n, m)
    same_country = rng.random(m) < 0.5
    by_country = np.argsort(plan.country, kind="stable")
    sorted_country = plan.country[by_country]
    lo = np.searchsorted(sorted_country, plan.country[a], side="left")
    hi = np.searchsorted(sorted_country, plan.country[a], side="right")
    b = np.where(
        same_country, by_country[lo + (rng.random(m) * (hi - lo)).astype(np.int64)], rng.integers(0, n, m)
    )
    parts.append((a, b, np.array([SAME_CLIENT, MESSAGED, CO_WORKED])[choice_index(rng, (45, 35, 20), m)]))
    for group, share, link_kind in (
        (plan.agency, 0.5, CO_WORKED),
        (plan.household, 1.0, MESSAGED),
        (plan.cowork, 0.05, MESSAGED),
    ):
        ga, gb = _group_pairs(group, share, rng)
        keep = rng.random(len(ga)) < (0.6 if link_kind != CO_WORKED else 1.0)
        parts.append((ga[keep], gb[keep], np.full(int(keep.sum()), link_kind)))
    ring = np.where(plan.is_fronted, plan.ring, -1)
    ra, rb = _group_pairs(ring, RING_PAIR_LINK_SHARE, rng)
    parts.append((ra, rb, np.where(rng.random(len(ra)) < 0.6, MESSAGED, CO_WORKED)))
    fronted = np.flatnonzero(plan.is_fronted)
    fa = fronted[rng.random(len(fronted)) < 0.3]
    parts.append((fa, rng.integers(0, n, len(fa)), np.full(len(fa), SAME_CLIENT)))

    a = np.concatenate([p[0] for p in parts]).astype(np.int64)
    b = np.concatenate([p[1] for p in parts]).astype(np.int64)
    kind = np.concatenate([p[2] for p in parts]).astype(np.int8)
    lo_pair, hi_pair = np.minimum(a, b), np.maximum(a, b)
    keep = lo_pair != hi_pair
    _, first = np.unique(lo_pair[keep] * n + hi_pair[keep], return_index=True)
    sel = np.flatnonzero(keep)[np.sort(first)]
    a, b, kind = a[sel], b[sel], kind[sel]
    start = np.maximum(plan.active_start_sec[a], plan.active_start_sec[b])
    stop = np.minimum(plan.stop_sec[a], plan.stop_sec[b])
    ok = stop > start
    a, b, kind, start, stop = a[ok], b[ok], kind[ok], start[ok], stop[ok]
    linked = start + (rng.random(len(a)) * (stop - start)).astype(np.int64)
    swap = rng.random(len(a)) < 0.5  # links are undirected; the platform writes either end first
    a, b = np.where(swap, b, a), np.where(swap, a, b)
    links = Cols(a=a, b=b, kind=kind, linked_sec=linked, linked_ok=rng.random(len(a)) >= 0.1)
    return links.take(np.lexsort((links.b, links.a)))
