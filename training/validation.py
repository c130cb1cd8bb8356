"""Which decisions validate which model: windows sized by label counts, later in time.

Settings (tree shape and count, unlabelled strategy, prior) are chosen on *temporal*
validation: the latest decisions are cut into windows holding equal numbers of confirmed
accounts, and each window is judged by models trained only on what was decided before it
(expanding windows). How many confirmed accounts validate, and in how many windows, follows
the label count, not the calendar: a marketplace with 30 confirmed accounts validates on its
latest 12 in one window (the model trains on 18); one with thousands on three windows of a
few hundred each. Ties in time stay in one window (an enforcement wave is one decision).

A window also judges the *held-out* unlabelled accounts sampled at the snapshots its
decisions read (they stand for the population a review budget is taken from); models train
on the other unlabelled accounts, sampled before the window.

When the decision times cannot be cut (every confirmed account decided at one instant, as in
an export stamped with one date), validation falls back to folds of accounts, stratified by
label, and says so. The final model is refit on every decision before T with the settings
validation chose (:mod:`.fitting`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .dataset import MIN_POSITIVES, TrainingSet, decided_at_few_instants, times_of
from .matrix import column

MIN_VALIDATION_POSITIVES = 5
VALIDATION_SHARE = 0.4  # of the confirmed accounts, the latest ones
MAX_VALIDATION_POSITIVES = 600
RANDOM_FOLDS = 3


@dataclass
class Fold:
    """Row masks over ``TrainingSet.rows``: what one validation model trains on and what it
    is judged on."""

    train: np.ndarray
    valid: np.ndarray
    label: str


@dataclass
class Plan:
    """How a training set is validated: ``kind`` temporal, random or none (too few labels,
    with the reason), and its folds."""

    kind: str
    folds: list[Fold] = field(default_factory=list)
    reason: str = ""

    def describe(self) -> str:
        if self.kind == "none":
            return f"no validation: {self.reason}"
        names = ", ".join(f.label for f in self.folds)
        return f"{self.kind} validation in {len(self.folds)} window(s): {names}"


def window_count(validation_positives: int) -> int:
    """Windows the validation positives are cut into (each keeps at least ~8)."""
    return 1 if validation_positives < 16 else 2 if validation_positives < 40 else 3


def plan_validation(ts: TrainingSet, seed: int = 0) -> Plan:
    """The validation plan of ``ts`` (see the module doc)."""
    rows = ts.rows
    labelled = column(rows, "_labelled").astype(bool)
    label = np.nan_to_num(column(rows, "_label"), nan=0.0)
    positives = labelled & (label == 1)
    count = int(positives.sum())
    if not labelled.any():
        dropped = ts.counts.get("dropped_decided_before_first_snapshot", 0)
        return Plan("none", reason=(
            f"none of the {dropped:,} decisions before the as-of time could be read: each "
            "came before any snapshot at which its account existed (dated at or before "
            "accounts.created_at, which `accountrisk validate` counts, or too soon after it)"
            if dropped else "the folder has no decisions (labels) before the as-of time"))
    if count < MIN_POSITIVES:
        return Plan("none", reason=f"{count} confirmed accounts with features before T; a model "
                                   f"needs at least {MIN_POSITIVES} (and some to validate on)")
    times = times_of(rows, "_time")
    pos_times = np.sort(times[positives])
    if decided_at_few_instants(pos_times):
        return _random_plan(rows, labelled, label, seed,
                            "the confirmed accounts were decided at fewer than 3 distinct "
                            "times, so decisions cannot be cut by time")
    validating = int(np.clip(round(VALIDATION_SHARE * count), MIN_VALIDATION_POSITIVES,
                             MAX_VALIDATION_POSITIVES))
    windows = window_count(validating)
    cuts = [count - validating + (k * validating) // windows for k in range(windows)]
    starts = sorted({pos_times[c] for c in cuts if pos_times[c] > pos_times[0]})
    if not starts:
        return _random_plan(rows, labelled, label, seed,
                            "most confirmed accounts were decided at one instant")
    holdout = column(rows, "_holdout").astype(bool)
    snapshots = times_of(rows)
    folds = []
    for k, start in enumerate(starts):
        end = starts[k + 1] if k + 1 < len(starts) else np.datetime64("9999-01-01", "us")
        in_window = labelled & (times >= start) & (times < end)
        read = np.unique(snapshots[in_window])
        train = (labelled & (times < start)) | (~labelled & ~holdout & (snapshots < start))
        valid = in_window | (~labelled & holdout & np.isin(snapshots, read))
        if positives[train].sum() and positives[valid].sum():
            folds.append(Fold(train, valid, f"decisions from {str(start)[:10]}"))
    if not folds:
        return _random_plan(rows, labelled, label, seed,
                            "no time window has confirmed accounts both before and in it")
    return Plan("temporal", folds)


def _random_plan(rows, labelled: np.ndarray, label: np.ndarray, seed: int, why: str) -> Plan:
    """Folds of accounts (decided ones stratified by label), when time cannot split them."""
    rng = np.random.default_rng(seed)
    fold = np.full(len(labelled), -1)
    for value in (0.0, 1.0):
        members = np.flatnonzero(labelled & (label == value))
        fold[members[rng.permutation(len(members))]] = np.arange(len(members)) % RANDOM_FOLDS
    holdout = column(rows, "_holdout").astype(bool)
    ids = column(rows, "account_id")
    unlabelled_fold = np.array([hash_fold(str(a), seed) for a in ids])
    fold = np.where(labelled, fold, unlabelled_fold)
    folds = []
    for k in range(RANDOM_FOLDS):
        train = (labelled & (fold != k)) | (~labelled & ~holdout)
        valid = (labelled & (fold == k)) | (~labelled & holdout & (fold == k))
        folds.append(Fold(train, valid, f"account fold {k + 1} of {RANDOM_FOLDS}"))
    return Plan("random", folds, reason=why)


def hash_fold(account_id: str, seed: int) -> int:
    """A stable fold number for an unlabelled account."""
    import hashlib

    digest = hashlib.blake2b(f"fold:{seed}:{account_id}".encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big") % RANDOM_FOLDS
