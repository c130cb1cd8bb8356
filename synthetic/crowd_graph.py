"""The co-working graph of the platform mode: task communities and who worked with whom.

Workers join one to a few task communities (projects of very different sizes). Two workers
are linked (``co_worked``) when they worked on the same tasks: links are drawn inside a
community with both ends chosen in proportion to the workers' activity (a Chung-Lu graph
per community, so degrees are heavy-tailed), plus a few links between strangers of
platform-wide tasks. Every unordered pair appears once; the graph has exactly
``mean_degree * n / 2`` links when that many distinct pairs can be drawn.
"""

from __future__ import annotations

import numpy as np

from .frame import Cols
from .randomness import group_slices

TARGET_MEAN_DEGREE = 90.0
COMMUNITY_MEMBERS_MEAN = 400  # memberships per community, on average
EXTRA_MEMBERSHIPS_MEAN = 0.6  # communities beyond the first one
STRANGER_LINK_SHARE = 0.02
SECONDARY_STRENGTH = 0.1  # a worker's share of a side community's work, relative to its primary one
ACTIVITY_SIGMA = 0.9
ACTIVITY_FLOOR = 0.15
_DRAW_ROUNDS = 6


def activity_weights(n: int, rng: np.random.Generator) -> np.ndarray:
    """How much each worker works (relative; mean ~1, heavy right tail, no one idle)."""
    return np.maximum(rng.lognormal(-0.5 * ACTIVITY_SIGMA**2, ACTIVITY_SIGMA, n), ACTIVITY_FLOOR)


def memberships(n: int, rng: np.random.Generator) -> tuple[Cols, int]:
    """Membership rows (acct, community, primary) and the number of communities.

    Community sizes are heavy-tailed (popularity drawn log-normal); the first membership
    of each worker is its primary community.
    """
    extra = np.minimum(rng.poisson(EXTRA_MEMBERSHIPS_MEAN, n), 4)
    count = 1 + extra
    k = max(4, int(round(count.sum() / COMMUNITY_MEMBERS_MEAN)))
    popularity = 0.25 + rng.lognormal(0.0, 0.7, k)  # no community too small to work in
    cum = np.cumsum(popularity) / popularity.sum()
    acct = np.repeat(np.arange(n), count)
    community = np.searchsorted(cum, rng.random(len(acct)), side="right").clip(0, k - 1)
    primary = np.zeros(len(acct), bool)
    primary[np.cumsum(count) - count] = True
    # a worker joins a community once: repeated picks are dropped (the primary one is kept)
    key = acct.astype(np.int64) * k + community
    _, first = np.unique(key, return_index=True)
    keep = np.sort(first)
    return Cols(acct=acct[keep], community=community[keep].astype(np.int32), primary=primary[keep]), k


def _pairs_in_communities(
    m: Cols, weight: np.ndarray, k: int, count: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """``count`` candidate pairs: a community by its total activity, then both ends in it by activity."""
    order, starts, ends = group_slices(m.community)
    members = m.acct[order]
    cw = np.cumsum(weight[members] * np.where(m.primary[order], 1.0, SECONDARY_STRENGTH))
    lo = np.where(starts > 0, cw[np.maximum(starts - 1, 0)], 0.0)
    hi = cw[ends - 1]
    present = m.community[order[starts]]
    community_weight = np.zeros(k)
    community_weight[present] = hi - lo
    c = np.searchsorted(np.cumsum(community_weight) / community_weight.sum(), rng.random(count), side="right")
    c = c.clip(0, k - 1)
    slot = np.searchsorted(present, c)  # position of each drawn community among the present ones
    span_lo, span_hi = lo[slot], hi[slot]
    ends_pair = []
    for _ in range(2):
        u = span_lo + rng.random(count) * (span_hi - span_lo)
        idx = np.searchsorted(cw, u, side="right").clip(0, len(cw) - 1)
        ends_pair.append(members[idx])
    return ends_pair[0], ends_pair[1]


def _pairs_among_all(
    weight: np.ndarray, count: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """``count`` candidate pairs of strangers, both ends by activity."""
    cum = np.cumsum(weight) / weight.sum()
    a = np.searchsorted(cum, rng.random(count), side="right").clip(0, len(weight) - 1)
    b = np.searchsorted(cum, rng.random(count), side="right").clip(0, len(weight) - 1)
    return a, b


def co_work_links(
    m: Cols, weight: np.ndarray, k: int, rng: np.random.Generator, mean_degree: float = TARGET_MEAN_DEGREE
) -> tuple[np.ndarray, np.ndarray]:
    """Distinct undirected links (a, b) with a < b, ``mean_degree`` per worker on average,
    sorted by a then b (the earliest-drawn distinct pairs are kept)."""
    n = len(weight)
    target = int(round(mean_degree * n / 2))
    target = min(target, n * (n - 1) // 2)
    keys = np.zeros(0, np.int64)
    first_seen = np.zeros(0, np.int64)
    drawn = 0
    for _ in range(_DRAW_ROUNDS):
        need = target - len(keys)
        if need <= 0:
            break
        count = int(need * 1.3) + target // 50 + 64
        strangers = rng.random(count) < STRANGER_LINK_SHARE
        a, b = _pairs_in_communities(m, weight, k, count, rng)
        sa, sb = _pairs_among_all(weight, int(strangers.sum()), rng)
        a[strangers], b[strangers] = sa, sb
        lo, hi = np.minimum(a, b), np.maximum(a, b)
        ok = lo != hi
        new_keys = lo[ok].astype(np.int64) * n + hi[ok]
        position = drawn + np.flatnonzero(ok)
        drawn += count
        keys = np.concatenate([keys, new_keys])
        first_seen = np.concatenate([first_seen, position])
        keys, idx = np.unique(keys, return_index=True)  # keeps the earliest draw of each pair
        first_seen = first_seen[idx]
    chosen = np.sort(np.argsort(first_seen, kind="stable")[:target])
    keys = keys[chosen]
    return keys // n, keys % n


def component_sizes(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Sizes of the connected components of the undirected graph (n nodes, links a-b)."""
    label = np.arange(n)
    while True:
        low = np.minimum(label[a], label[b])
        new = label.copy()
        np.minimum.at(new, a, low)
        np.minimum.at(new, b, low)
        new = new[new]  # jump to the root's label
        if np.array_equal(new, label):
            break
        label = new
    return np.bincount(np.unique(label, return_inverse=True)[1])
