"""Random-number tree, keyed hashes and vectorized helpers shared by the generator.

Everything random comes from one ``numpy.random.SeedSequence(seed)`` tree: each part of the
generator asks :func:`child_rng` for its own stream by a fixed path of small integers, so
adding a draw in one part never shifts the numbers of another. Tokens are made by a keyed
64-bit mix of an *entity id* (an integer naming the underlying IP, device, wallet...), the
way a marketplace makes them with an HMAC: equal entities give equal tokens.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

# Stream paths (first element of every child_rng path); never renumber, only append.
PART_POPULATION = 1
PART_LOOKALIKES = 2
PART_RINGS = 3
PART_LABELS = 4
PART_PERSONAS = 5
PART_SESSIONS = 6
PART_MONEY = 7
PART_PORTFOLIO = 8
PART_LINKS = 9
PART_ATTRIBUTES = 10
PART_KEYS = 11
PART_TEXT = 12
PART_CELLS = 13  # behaviour mode: isolated fronted cells
PART_PLATFORM = 14  # platform mode: the crowd-work graph
PART_CLIENTS = 15  # contract 1.1: contracts, proposals, reviews

# Entity namespaces: the top byte of a 64-bit entity id says what kind of thing it is.
NS_HOME_IP = 1
NS_MOBILE_IP = 2
NS_COWORK_IP = 3
NS_VPN_IP = 4
NS_FARM_IP = 5
NS_RESI_PROXY_IP = 6
NS_VPS_IP = 7
NS_TRIP_IP = 8
NS_LEAK_IP = 9
NS_DEVICE = 20
NS_FARM_DEVICE = 21
NS_OPERATOR_DEVICE = 22
NS_SPOOF_DEVICE = 23
NS_COMMON_DEVICE = 24
NS_PAYOUT_OWN = 40
NS_PAYOUT_AGENCY = 41
NS_PAYOUT_RING = 42
NS_PAYOUT_FACILITATOR = 43
NS_PAYOUT_HOUSEHOLD = 44

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_HEX_DIGITS = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


def child_rng(seed: int, *path: int) -> np.random.Generator:
    """The generator of the stream at ``path`` under the root ``seed`` (PCG64)."""
    seq = np.random.SeedSequence(entropy=int(seed), spawn_key=tuple(int(p) for p in path))
    return np.random.Generator(np.random.PCG64(seq))


def mix64(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finalizer, vectorized: a bijection of uint64, so distinct inputs stay distinct."""
    z = np.asarray(x, dtype=np.uint64) + _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


def entity(namespace: int, local_id: np.ndarray) -> np.ndarray:
    """64-bit entity ids ``namespace << 56 | local_id`` (local ids must be below 2**56)."""
    return (np.uint64(namespace) << np.uint64(56)) | np.asarray(local_id).astype(np.uint64)


def keyed_hash(entity_ids: np.ndarray, key: int) -> np.ndarray:
    """The marketplace's keyed hash of entity ids (uint64), key-dependent and collision-free."""
    return mix64(mix64(entity_ids) ^ np.uint64(key & 0xFFFFFFFFFFFFFFFF))


def hex16(values: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """uint64 values as an Arrow string array of 16 lowercase hex characters (nulls where not valid)."""
    v = np.ascontiguousarray(np.asarray(values, dtype=np.uint64).astype(">u8"))
    n = v.shape[0]
    b = v.view(np.uint8).reshape(n, 8)
    out = np.empty((n, 16), dtype=np.uint8)
    out[:, 0::2] = _HEX_DIGITS[b >> 4]
    out[:, 1::2] = _HEX_DIGITS[b & 15]
    offsets = np.arange(0, 16 * (n + 1), 16, dtype=np.int32)
    bitmap = None
    null_count = 0
    if valid is not None:
        valid = np.asarray(valid, dtype=bool)
        null_count = int(n - valid.sum())
        if null_count:
            bitmap = pa.py_buffer(np.packbits(valid, bitorder="little"))
    return pa.Array.from_buffers(
        pa.string(), n, [bitmap, pa.py_buffer(offsets), pa.py_buffer(out)], null_count=null_count
    )


def flip_bits(values: np.ndarray, rng: np.random.Generator, low: int = 1, high: int = 4) -> np.ndarray:
    """Flip between ``low`` and ``high`` distinct random bits of each uint64 (a re-encoded image)."""
    values = np.asarray(values, dtype=np.uint64)
    n: int = values.shape[0]
    if n == 0:
        return values.copy()
    count = rng.integers(low, high + 1, size=n)
    positions = np.argsort(rng.random((n, 64)), axis=1)[:, :high].astype(np.uint64)
    masks = np.uint64(1) << positions
    use = np.arange(high)[None, :] < count[:, None]
    flip = np.bitwise_or.reduce(np.where(use, masks, np.uint64(0)), axis=1)
    return values ^ flip


def random_u64(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` uniform random uint64 values."""
    return rng.integers(0, 2**64 - 1, size=n, dtype=np.uint64, endpoint=True)


def categorical(rng: np.random.Generator, cum_probs: np.ndarray) -> np.ndarray:
    """One draw per row from row-wise cumulative probabilities ``cum_probs`` (rows, k)."""
    rows: int = cum_probs.shape[0]
    u = rng.random(rows)[:, None] * cum_probs[:, -1:]
    return np.minimum((u >= cum_probs).sum(axis=1), cum_probs.shape[1] - 1)


def choice_index(rng: np.random.Generator, weights, size: int) -> np.ndarray:
    """``size`` draws of indices 0..len(weights)-1 with the given (unnormalized) weights."""
    w = np.asarray(weights, dtype=np.float64)
    return np.searchsorted(np.cumsum(w) / w.sum(), rng.random(size), side="right").clip(0, len(w) - 1)


def group_slices(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stable sort order of integer ``keys`` and the start/end of each run of equal keys."""
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    if len(sorted_keys) == 0:
        return order, np.zeros(0, np.int64), np.zeros(0, np.int64)
    cut = np.flatnonzero(np.diff(sorted_keys)) + 1
    starts = np.concatenate(([0], cut))
    ends = np.concatenate((cut, [len(sorted_keys)]))
    return order, starts, ends


def rank_within_groups(keys: np.ndarray) -> np.ndarray:
    """Position of each element among the elements with the same key, in index order."""
    order, starts, ends = group_slices(keys)
    ranks = np.empty(len(keys), dtype=np.int64)
    run_start = np.repeat(starts, ends - starts)
    ranks[order] = np.arange(len(keys)) - run_start
    return ranks
