"""Labels as a platform has them: late, partial, noisy, with ring-wide enforcement days.

Fronted rings are caught in enforcement *waves*: one day on which several members active by
then are banned together; a later wave may catch members created after the first one.
Clumsy rings (no evasions) are caught more often and sooner than evasive ones. Some
look-alikes are reviewed and cleared (label 0), a few accounts get random reviews, a few
fronted accounts are wrongly cleared and a very few honest ones wrongly banned. Every label
1 is a ban: the account leaves no row after ``decided_at`` (``plan.ban_sec``). Decisions fall
in the last ~18 months of the window.
"""

from __future__ import annotations

import numpy as np

from .frame import DAY_SEC, Cols, Window
from .population import EVASION_BIT
from .randomness import choice_index

SOURCE_ENFORCEMENT, SOURCE_REVIEW, SOURCE_OTHER = range(3)
RING_DETECT_BY_EVASIONS = (0.88, 0.72, 0.55, 0.4)
MEMBER_BAN_BY_EVASIONS = (0.85, 0.75, 0.65, 0.55)
RENTED_DETECT = 0.45
LOOKALIKE_REVIEW = 0.09
RANDOM_REVIEW = 0.01
WRONG_BAN_OF_REVIEWED = 0.004
WRONG_CLEAR_OF_FRONTED = 0.04


def _evasion_count(bits: np.ndarray) -> np.ndarray:
    b = bits.astype(np.int64)
    count = np.zeros_like(b)
    for i in range(len(EVASION_BIT)):
        count += (b >> i) & 1
    return count


def into_label_window(t: np.ndarray, rng: np.random.Generator, win: Window) -> np.ndarray:
    """Decisions before the label window are moved into its first weeks (labelling began then)."""
    early = t < win.label_start_sec
    moved = win.label_start_sec + (rng.exponential(35.0, len(t)) * DAY_SEC).astype(np.int64)
    return np.where(early, moved, t)


def _waves(plan: Cols, rings: Cols, rng: np.random.Generator, win: Window) -> np.ndarray:
    """Decision instants of ring members caught in enforcement waves (-1: not caught)."""
    decided = np.full(len(plan), -1, np.int64)
    members = np.flatnonzero(plan.is_fronted & (plan.ring >= 0) & (plan.takeover_sec < 0))
    k_ring = _evasion_count(rings.evasion)
    for r in range(len(rings)):
        rows = members[plan.ring[members] == r]
        if len(rows) == 0 or rng.random() >= RING_DETECT_BY_EVASIONS[k_ring[r]]:
            continue
        start = plan.active_start_sec[rows].min()
        delay = np.clip(rng.lognormal(np.log(110.0), 0.5), 21, 320) * DAY_SEC
        wave = int(into_label_window(np.array([start + int(delay)]), rng, win)[0])
        p_ban = MEMBER_BAN_BY_EVASIONS[k_ring[r]]
        pending = rows
        for _ in range(3):
            if wave >= win.end_sec or len(pending) == 0:
                break
            active = plan.active_start_sec[pending] + 7 * DAY_SEC < wave
            hit = pending[active & (rng.random(len(pending)) < p_ban)]
            decided[hit] = wave + rng.integers(0, 3600, len(hit))  # same day, minutes apart
            pending = np.setdiff1d(pending, hit)
            wave += int(rng.uniform(45, 160) * DAY_SEC)
            p_ban *= 0.8
    # a few members are caught one by one whatever the ring's fate
    rest = members[decided[members] < 0]
    single = rest[rng.random(len(rest)) < 0.08]
    t = plan.active_start_sec[single] + (rng.lognormal(np.log(120.0), 0.6, len(single)) * DAY_SEC).astype(
        np.int64
    )
    decided[single] = into_label_window(t, rng, win)
    return decided


def decide_labels(
    plan: Cols, rings: Cols, rng: np.random.Generator, win: Window, fronted_decided: np.ndarray | None = None
) -> Cols:
    """Label rows (account, label, decided_sec, source, noise flag) and the bans in ``plan.ban_sec``.

    Ring members are caught in enforcement waves unless ``fronted_decided`` gives their ban
    instants (-1: not caught) already.
    """
    n = len(plan)
    decided1 = _waves(plan, rings, rng, win) if fronted_decided is None else fronted_decided.copy()
    rented = np.flatnonzero(plan.takeover_sec >= 0)
    k = _evasion_count(plan.evasion[rented])
    caught = rng.random(len(rented)) < RENTED_DETECT * (1.0 - 0.15 * k)
    t = plan.takeover_sec[rented] + (rng.lognormal(np.log(70.0), 0.6, len(rented)) * DAY_SEC).astype(np.int64)
    decided1[rented[caught]] = into_label_window(t[caught], rng, win)

    # honest accounts reviewed: look-alikes often, anyone rarely
    legit = ~plan.is_fronted
    p_review = np.where(plan.lookalike >= 0, LOOKALIKE_REVIEW, RANDOM_REVIEW) * legit
    reviewed = rng.random(n) < p_review
    # fronted accounts reviewed and (wrongly) cleared
    reviewed |= plan.is_fronted & (decided1 < 0) & (rng.random(n) < WRONG_CLEAR_OF_FRONTED)
    lo = np.maximum(plan.active_start_sec + 14 * DAY_SEC, win.label_start_sec)
    hi = np.minimum(plan.stop_sec + 60 * DAY_SEC, win.end_sec)
    reviewed &= hi > lo
    decided0 = np.where(reviewed, lo + (rng.random(n) * np.maximum(hi - lo, 0)).astype(np.int64), -1)
    wrong_ban = reviewed & legit & (rng.random(n) < WRONG_BAN_OF_REVIEWED)
    decided1 = np.where(wrong_ban, decided0, decided1)
    decided0[wrong_ban] = -1

    decided1[decided1 >= win.end_sec] = -1
    has1 = decided1 >= 0
    decided0[has1 | (decided0 >= win.end_sec)] = -1
    has0 = decided0 >= 0
    plan.ban_sec = np.where(has1, decided1, -1)

    rows1, rows0 = np.flatnonzero(has1), np.flatnonzero(has0)
    source1 = np.array([SOURCE_ENFORCEMENT, SOURCE_REVIEW, SOURCE_OTHER])[
        choice_index(rng, (80, 15, 5), len(rows1))
    ]
    source1[wrong_ban[rows1]] = SOURCE_REVIEW
    source0 = np.array([SOURCE_REVIEW, SOURCE_OTHER])[choice_index(rng, (85, 15), len(rows0))]
    account = np.concatenate([rows1, rows0]).astype(np.int64)
    labels = Cols(
        account=account,
        label=np.concatenate([np.ones(len(rows1), np.int8), np.zeros(len(rows0), np.int8)]),
        decided_sec=np.concatenate([decided1[rows1], decided0[rows0]]),
        source=np.concatenate([source1, source0]).astype(np.int8),
        noise=np.concatenate([wrong_ban[rows1], plan.is_fronted[rows0]]),
    )
    return labels.take(np.argsort(account, kind="stable"))


def apply_bans(plan: Cols) -> None:
    """Banned accounts stop being active at the ban (sessions and everything else end there)."""
    banned = plan.ban_sec >= 0
    plan.stop_sec = np.where(banned, np.minimum(plan.stop_sec, plan.ban_sec), plan.stop_sec)
