"""Who the accounts say they are: names, link handles, account attributes, ground truth.

Display names come from the name pool of the claimed country, typed in various ways; a small
share are hostile strings (markup, SQL, control characters, very long) that downstream code
must treat as plain data. Household members often share a last name.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import geo, vocab
from .frame import Cols
from .personas import group_leader
from .population import EVASIONS, LOOKALIKES, NAME_POOLS, SCHEMES
from .randomness import choice_index
from .text import choose, pick
from .writer import numbers, strings, timestamps

_FIRST = [w for p in NAME_POOLS for w in vocab.NAME_POOLS[p][0]]
_LAST = [w for p in NAME_POOLS for w in vocab.NAME_POOLS[p][1]]
_FIRST_START = np.cumsum([0] + [len(vocab.NAME_POOLS[p][0]) for p in NAME_POOLS])[:-1]
_FIRST_SIZE = np.array([len(vocab.NAME_POOLS[p][0]) for p in NAME_POOLS])
_LAST_START = np.cumsum([0] + [len(vocab.NAME_POOLS[p][1]) for p in NAME_POOLS])[:-1]
_LAST_SIZE = np.array([len(vocab.NAME_POOLS[p][1]) for p in NAME_POOLS])
HOSTILE_SHARE = 0.005
LONG_SHARE = 0.001
NULL_NAME_SHARE = 0.01


class Names:
    """First and last names (Arrow strings) of every account, drawn once."""

    def __init__(self, plan: Cols, rng: np.random.Generator) -> None:
        n = len(plan)
        pool = plan.name_pool.astype(np.int64)
        fi = _FIRST_START[pool] + rng.integers(0, 1 << 30, n) % _FIRST_SIZE[pool]
        li = _LAST_START[pool] + rng.integers(0, 1 << 30, n) % _LAST_SIZE[pool]
        leader = group_leader(plan.household)
        family = (plan.household >= 0) & (rng.random(n) < 0.6)
        li = np.where(family, li[leader], li)
        self.first = pick(_FIRST, fi)
        self.last = pick(_LAST, li)
        self.n = n

    def display(self, rng: np.random.Generator) -> pa.Array:
        """Display names as typed on profiles, with a few hostile or missing ones."""
        n = self.n
        f, last = self.first, self.last
        initial = pc.utf8_slice_codeunits(last, 0, 1)
        middle = pick([chr(c) for c in range(65, 91)], rng.integers(0, 26, n))
        space = pa.array([" "] * n, pa.string())
        variants = (
            pc.binary_join_element_wise(f, last, " "),
            pc.binary_join_element_wise(f, space, initial, pa.array(["."] * n, pa.string()), ""),
            pc.utf8_lower(pc.binary_join_element_wise(f, last, " ")),
            pc.utf8_upper(pc.binary_join_element_wise(f, last, " ")),
            pc.binary_join_element_wise(
                f, pc.binary_join_element_wise(middle, pa.array(["."] * n), ""), last, " "
            ),
            pc.binary_join_element_wise(last, f, " "),
            f,
            pc.binary_join_element_wise(
                f, space, last, pick([", MBA", ", PhD", " Jr.", " CPA"], rng.integers(0, 4, n)), ""
            ),
        )
        name = choose(choice_index(rng, (58, 14, 6, 3, 7, 4, 4, 4), n), *variants)
        hostile = rng.random(n) < HOSTILE_SHARE
        bad = pick(vocab.HOSTILE_NAMES, rng.integers(0, len(vocab.HOSTILE_NAMES), n))
        name = pc.if_else(pa.array(hostile), bad, name)
        long = rng.random(n) < LONG_SHARE
        long_text = pa.array(
            [vocab.LONG_NAME_UNIT * int(k) for k in rng.integers(20, 60, int(long.sum()))], pa.string()
        )
        if long.any():
            idx = np.cumsum(long) - 1
            name = pc.if_else(pa.array(long), long_text.take(pa.array(np.maximum(idx, 0))), name)
        missing = rng.random(n) < NULL_NAME_SHARE
        return pc.if_else(pa.array(missing), pa.nulls(n, pa.string()), name)

    def handles(self, rng: np.random.Generator) -> pa.Array:
        """Link handles such as ``janedoe``, ``jane-doe`` or ``jdoe91`` (lower case, no spaces)."""
        n = self.n
        sep = pick(["", "-", "_", "."], choice_index(rng, (50, 25, 15, 10), n))
        digits = pc.if_else(
            pa.array(rng.random(n) < 0.35),
            pc.cast(pa.array(rng.integers(1, 99, n)), pa.string()),
            pa.array([""] * n),
        )
        first = pc.if_else(
            pa.array(rng.random(n) < 0.2), pc.utf8_slice_codeunits(self.first, 0, 1), self.first
        )
        handle = pc.binary_join_element_wise(first, sep, self.last, digits, "")
        handle = pc.utf8_lower(pc.replace_substring(handle, " ", ""))
        return pc.replace_substring(handle, "'", "")


def attributes(plan: Cols, payout_count: np.ndarray, rng: np.random.Generator) -> tuple[dict, pa.Schema]:
    """account_attributes columns beyond account_id, and their Arrow schema."""
    n = len(plan)
    fronted = plan.is_fronted & (plan.takeover_sec < 0)
    west = np.isin(
        plan.country, geo.countries(("US", "CA", "GB", "AU", "DE", "FR", "NL", "IE", "SE", "CH", "NZ"))
    )
    verify = np.where(fronted, choice_index(rng, (90, 5, 2, 3), n), choice_index(rng, (72, 8, 5, 15), n))
    verify = np.where(plan.takeover_sec >= 0, 0, verify)
    rating = np.where(fronted, 5.0 - rng.exponential(0.2, n), 5.0 - rng.exponential(0.35, n))
    rating = np.round(np.clip(rating, 1.0, 5.0), 1)
    rate = np.where(west, rng.lognormal(np.log(45.0), 0.5, n), rng.lognormal(np.log(18.0), 0.55, n))
    rate = np.where(fronted, rng.lognormal(np.log(35.0), 0.35, n), rate)
    score_ok = rng.random(n) < np.where(fronted, 0.65, 0.4)
    score = np.where(fronted, rng.normal(86, 8, n), rng.normal(72, 12, n))
    columns = {
        "id_verification": strings(("passed", "pending", "failed", "none"), verify),
        "rating": numbers(rating, pa.float64(), payout_count > 0),
        "hourly_rate_usd": numbers(np.round(np.clip(rate, 3.0, 400.0) * 2) / 2, pa.float64()),
        "skill_test_score": numbers(np.clip(np.round(score), 0, 100).astype(np.int64), pa.int64(), score_ok),
        "is_phone_verified": pa.array(rng.random(n) < np.where(fronted, 0.97, 0.8), pa.bool_()),
        "jobs_completed": numbers(payout_count.astype(np.int64), pa.int64()),
    }
    schema = pa.schema(
        [
            pa.field("id_verification", pa.string()),
            pa.field("rating", pa.float64()),
            pa.field("hourly_rate_usd", pa.float64()),
            pa.field("skill_test_score", pa.int64()),
            pa.field("is_phone_verified", pa.bool_()),
            pa.field("jobs_completed", pa.int64()),
        ]
    )
    return columns, schema


GROUND_TRUTH_SCHEMA = pa.schema(
    [
        pa.field("account_id", pa.string(), nullable=False),
        pa.field("is_fronted", pa.bool_(), nullable=False),
        pa.field("scheme", pa.string()),
        pa.field("ring_id", pa.string()),
        pa.field("facilitator_id", pa.string()),
        pa.field("evasions", pa.string(), nullable=False),
        pa.field("lookalike", pa.string()),
        pa.field("takeover_at", pa.timestamp("us")),
    ]
)


def ground_truth(plan: Cols, ids: pa.Array) -> dict:
    """Ground-truth columns (not a contract table): who is fronted, how, and the look-alikes."""
    n = len(plan)
    combos = [",".join(e for i, e in enumerate(EVASIONS) if b >> i & 1) for b in range(1 << len(EVASIONS))]
    ring_ids = pc.binary_join_element_wise(
        "R", pc.utf8_lpad(pc.cast(pa.array(plan.ring.astype(np.int64) + 1), pa.string()), 4, "0"), ""
    )
    fac_ids = pc.binary_join_element_wise(
        "F", pc.utf8_lpad(pc.cast(pa.array(plan.facilitator.astype(np.int64) + 1), pa.string()), 3, "0"), ""
    )
    fronted = np.asarray(plan.is_fronted, bool)
    return {
        "account_id": ids,
        "is_fronted": pa.array(fronted, pa.bool_()),
        "scheme": strings(SCHEMES, plan.scheme),
        "ring_id": pc.if_else(pa.array(plan.ring >= 0), ring_ids, pa.nulls(n, pa.string())),
        "facilitator_id": pc.if_else(pa.array(plan.facilitator >= 0), fac_ids, pa.nulls(n, pa.string())),
        "evasions": strings(combos, plan.evasion.astype(np.int64)),
        "lookalike": strings(LOOKALIKES, plan.lookalike),
        "takeover_at": timestamps(np.maximum(plan.takeover_sec, 0), plan.takeover_sec >= 0),
    }
