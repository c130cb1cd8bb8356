"""Portfolio items and profile photos: honest, shared by agencies, recycled by rings.

Honest items are fresh text (boilerplate phrases are common, whole descriptions are not),
unique images except popular stock images (a hub, exact or re-encoded), links typed in many
ways. Agencies share a pool of items across members. Rings copy items of real freelancers
(text edited a few words, images re-encoded: 1-4 pHash bits flipped, same link typed
differently, always newer than the original) and recycle them across members, unless the
ring evades with ``fresh_portfolio``. Photos: rings reuse one face (near-duplicates) or copy
honest members' photos.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import text, vocab
from .frame import DAY_SEC, Cols
from .personas import group_leader
from .population import EVASION_BIT
from .randomness import choice_index, flip_bits, random_u64
from .rings import PHOTO_COPIED, PHOTO_SHARED

ITEM_COUNT_WEIGHTS = (45, 20, 14, 9, 5, 3, 2, 2)  # 0..7 items of an honest freelancer
STOCK_SHARE = 0.03


def _fresh(
    acct: np.ndarray,
    added: np.ndarray,
    handles: pa.Array,
    rng: np.random.Generator,
    stock: np.ndarray,
    stock_share: float = STOCK_SHARE,
) -> dict:
    """Fresh items of accounts ``acct`` (one row each) as column pieces; ``stock_share`` of
    the images are popular stock images."""
    n = len(acct)
    d_words, d_off = text.descriptions(n, rng)
    t_words, t_off = text.titles(n, rng)
    phash = random_u64(rng, n)
    use_stock = rng.random(n) < stock_share
    stock_pick = stock[rng.integers(0, len(stock), int(use_stock.sum()))]
    reenc = rng.random(len(stock_pick)) < 0.3
    stock_pick[reenc] = flip_bits(stock_pick[reenc], rng, 1, 2)
    phash[use_stock] = stock_pick
    host = choice_index(rng, (40, 18, 14, 8, 20), n)
    number = pc.cast(pa.array(rng.integers(1_000_000, 99_999_999, n)), pa.string())
    slug = text.slugs(n, rng)
    handle = handles.take(pa.array(acct.astype(np.int64)))
    tld = text.pick(vocab.OWN_TLDS, rng.integers(0, len(vocab.OWN_TLDS), n))
    gh = pc.binary_join_element_wise("github.com/", handle, "/", slug, "")
    be = pc.binary_join_element_wise("behance.net/gallery/", number, "/", pc.utf8_title(slug), "")
    dr = pc.binary_join_element_wise("dribbble.com/shots/", number, "-", slug, "")
    gl = pc.binary_join_element_wise("gitlab.com/", handle, "/", slug, "")
    own = pc.binary_join_element_wise(
        handle,
        tld,
        text.choose(rng.integers(0, 2, n), pa.array(["/work/"] * n), pa.array(["/projects/"] * n)),
        slug,
        "",
    )
    canonical = text.choose(host, gh, be, dr, gl, own)
    return dict(
        acct=acct,
        added=added,
        d_words=d_words,
        d_off=d_off,
        t_words=t_words,
        t_off=t_off,
        phash=phash,
        canonical=canonical,
    )


def _copies(
    src: dict,
    rows: np.ndarray,
    acct: np.ndarray,
    added: np.ndarray,
    n_edits: np.ndarray,
    flip_low: int,
    flip_high: int,
    rng: np.random.Generator,
) -> dict:
    """Copies of items ``rows`` of ``src`` for accounts ``acct``: edited text, re-encoded image."""
    d_parts, t_parts = [], []
    for r, k in zip(rows.tolist(), n_edits.tolist()):
        words = src["d_words"][src["d_off"][r] : src["d_off"][r + 1]]
        d_parts.append(text.edit_words(words, k, rng) if k else words)
        t_parts.append(src["t_words"][src["t_off"][r] : src["t_off"][r + 1]])
    d_len = np.array([len(x) for x in d_parts], np.int64)
    t_len = np.array([len(x) for x in t_parts], np.int64)
    cat = lambda parts: np.concatenate(parts).astype(np.int32) if parts else np.zeros(0, np.int32)  # noqa: E731
    phash = src["phash"][rows]
    if flip_high > 0:
        phash = flip_bits(phash, rng, flip_low, flip_high)
    return dict(
        acct=acct,
        added=added,
        d_words=cat(d_parts),
        d_off=np.concatenate([[0], np.cumsum(d_len)]),
        t_words=cat(t_parts),
        t_off=np.concatenate([[0], np.cumsum(t_len)]),
        phash=phash,
        canonical=src["canonical"].take(pa.array(rows.astype(np.int64))),
    )


def _concat(parts: list[dict]) -> dict:
    out = {}
    for k in ("acct", "added", "phash", "d_words", "t_words"):
        out[k] = np.concatenate([p[k] for p in parts])
    for k in ("d_off", "t_off"):
        shift = np.cumsum([0] + [p[k][-1] for p in parts[:-1]])
        out[k] = np.concatenate([[0]] + [p[k][1:] + s for p, s in zip(parts, shift)]).astype(np.int64)
    out["canonical"] = pa.concat_arrays([p["canonical"] for p in parts])
    return out


def _times(rng: np.random.Generator, lo: np.ndarray, hi: np.ndarray, power: float = 2.0) -> np.ndarray:
    return lo + ((hi - lo).astype(np.float64) * rng.random(len(lo)) ** power).astype(np.int64)


def build_items(
    plan: Cols,
    rings: Cols,
    handles: pa.Array,
    rng: np.random.Generator,
    fronted_stock_share: float = STOCK_SHARE,
) -> dict:
    """All portfolio items (before rendering), sorted by account then time; fresh items of
    fronted accounts use stock images at ``fronted_stock_share``."""
    n = len(plan)
    stock = random_u64(rng, max(20, n // 4000))
    end = plan.stop_sec  # ban or end: nothing is added after
    honest_end = np.where(plan.takeover_sec >= 0, np.minimum(plan.takeover_sec, end), end)
    honest = ~plan.is_fronted | (plan.takeover_sec >= 0)
    count = np.where(honest, choice_index(rng, ITEM_COUNT_WEIGHTS, n), 0)
    acct = np.repeat(np.arange(n), count)
    legit = _fresh(acct, _times(rng, plan.active_start_sec[acct], honest_end[acct]), handles, rng, stock)
    parts = [legit]

    # agencies: members carry copies of the items of the agency's first member
    leader = group_leader(plan.agency)
    first_item = np.cumsum(count) - count
    members = np.flatnonzero((plan.agency >= 0) & (leader != np.arange(n)) & (count[leader] > 0))
    pool = count[leader[members]]
    k = np.minimum(pool, rng.integers(1, 4, len(members)))
    dst = np.repeat(members, k)
    j = np.arange(len(dst)) - np.repeat(np.cumsum(k) - k, k)
    src_rows = first_item[leader[dst]] + (
        np.repeat(rng.integers(0, 1 << 20, len(members)), k) + j
    ) % np.repeat(pool, k)
    if len(dst):
        edits = np.where(rng.random(len(dst)) < 0.7, 0, rng.integers(1, 3, len(dst)))
        parts.append(
            _copies(
                legit,
                src_rows,
                dst,
                _times(rng, plan.active_start_sec[dst], honest_end[dst]),
                edits,
                0,
                0,
                rng,
            )
        )

    # rings: a pool of copied honest items per ring, recycled across members
    order = np.argsort(legit["added"], kind="stable")
    sorted_added = legit["added"][order]
    f_rows = np.flatnonzero(plan.is_fronted)
    lo = np.where(plan.takeover_sec[f_rows] >= 0, plan.takeover_sec[f_rows], plan.active_start_sec[f_rows])
    fresh_ev = (plan.evasion[f_rows] & EVASION_BIT["fresh_portfolio"]) > 0
    k = np.where(
        plan.takeover_sec[f_rows] >= 0, rng.integers(0, 3, len(f_rows)), rng.integers(1, 5, len(f_rows))
    )
    m_acct = np.repeat(f_rows, k)
    m_lo = np.repeat(lo, k)
    m_added = _times(rng, m_lo, end[m_acct], 1.5)
    m_fresh = np.repeat(fresh_ev, k)
    if m_fresh.any():
        parts.append(_fresh(m_acct[m_fresh], m_added[m_fresh], handles, rng, stock, fronted_stock_share))
    copy_acct, copy_added = m_acct[~m_fresh], m_added[~m_fresh]
    if len(copy_acct) and len(order):
        ring = plan.ring[copy_acct]
        ring_start = rings.start_sec[ring]
        avail = np.searchsorted(sorted_added, ring_start)  # honest items older than the ring
        pool_size = np.maximum(2, rings.size[ring] // 2 + 1)
        slot = rng.integers(0, 1 << 30, len(copy_acct)) % pool_size
        direct = rng.random(len(copy_acct)) < 0.25  # copied straight from someone, not the pool
        # the pool slot picks a deterministic honest item per (ring, slot); direct copies pick anew
        h = ring.astype(np.uint64) * np.uint64(0x9E3779B1) + slot.astype(np.uint64) * np.uint64(0x85EBCA77)
        pool_pick = (h % np.maximum(avail, 1).astype(np.uint64)).astype(np.int64)
        pick = np.where(
            direct, (rng.random(len(copy_acct)) * np.maximum(avail, 1)).astype(np.int64), pool_pick
        )
        src = order[np.minimum(pick, len(order) - 1)]
        ok = (avail > 0) & (legit["added"][src] < copy_added)
        copy_added = np.maximum(copy_added, legit["added"][src] + DAY_SEC)
        ok &= copy_added < end[copy_acct]
        edits = np.where(rng.random(len(src)) < 0.85, rng.integers(1, 4, len(src)), 0)
        parts.append(_copies(legit, src[ok], copy_acct[ok], copy_added[ok], edits[ok], 1, 4, rng))
    items = _concat(parts)
    order = np.lexsort((items["added"], items["acct"]))
    return _reorder(items, order)


def _reorder(items: dict, order: np.ndarray) -> dict:
    out = {k: items[k][order] for k in ("acct", "added", "phash")}
    for w, o in (("d_words", "d_off"), ("t_words", "t_off")):
        lens = np.diff(items[o])[order]
        starts = items[o][:-1][order]
        idx = np.repeat(starts - np.concatenate([[0], np.cumsum(lens)[:-1]]), lens) + np.arange(lens.sum())
        out[w] = items[w][idx]
        out[o] = np.concatenate([[0], np.cumsum(lens)]).astype(np.int64)
    out["canonical"] = items["canonical"].take(pa.array(order.astype(np.int64)))
    return out


def profile_photos(plan: Cols, rings: Cols, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Profile photo pHash per account and whether there is one."""
    n = len(plan)
    photo = random_u64(rng, n)
    has = rng.random(n) < 0.88
    stock_avatars = random_u64(rng, 8)
    avatar = has & (rng.random(n) < 0.02)
    photo[avatar] = stock_avatars[rng.integers(0, 8, int(avatar.sum()))]
    members = np.flatnonzero(plan.is_fronted & (plan.takeover_sec < 0))
    has[members] = rng.random(len(members)) < 0.97
    mode = rings.photo_mode[plan.ring[members]]
    base = random_u64(rng, len(rings))
    shared = members[mode == PHOTO_SHARED]
    photo[shared] = flip_bits(base[plan.ring[shared]], rng, 1, 4)
    copied = members[mode == PHOTO_COPIED]
    honest = np.flatnonzero(~plan.is_fronted & has)
    if len(honest):
        photo[copied] = flip_bits(photo[honest[rng.integers(0, len(honest), len(copied))]], rng, 1, 4)
    return photo, has
