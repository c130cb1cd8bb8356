"""Point-in-time training sets: every row's features as the platform saw them back then.

Features are computed at *snapshots* every ``snapshot_days`` going back from T until the
first decision. A labelled account takes its features from the latest snapshot at or before
its decision at which it already existed: never after it (banned accounts go quiet, and that
silence must not leak into training; the final fit reads them at T where the decisions did
not stop the accounts, :mod:`.decision_effect`). Accounts decided before they existed
at any snapshot (decided days after sign-up, as fronts often are) are read at a few extra
snapshots at decision times, the fewest that read them all (at most
``DECISION_SNAPSHOTS_PER_SNAPSHOT`` per regular one, those reading the most accounts kept);
the rest (past that, or decided when created) are counted and dropped. Where the confirmed
accounts were all decided at one or two instants (an export stamped with one date), the
decided accounts are also read just after their instant (``TrainingSet.after_instant``):
there they see one another's decisions, as every account scored later does, which the red
flags that read neighbours' decisions need to be judged fairly (:mod:`.selection`). The
trees do not train on those rows: accounts decided together (a ring banned at once) see one
another banned far more often than an account scored later sees its banned neighbours, and
trees would learn that; unless the decisions look like a random sample of the accounts
(:mod:`.decision_sample`), where an account scored later sees its neighbours decided as
often as a decided one did.

Unlabelled accounts (no decision before T) are sampled at every snapshot from the accounts
active then (in an export stamped with one date, only where its confirmed accounts are
read, so that time does not tell the two apart), each row with a population weight (pool
size / sample size). Each unlabelled account is either *held out* (about half of them, by a
hash of its id and the seed) or not: validation judges models on the held-out accounts and
trains them on the others, so no account is both trained on and used to judge; the final
model trains on all of them.

Which decisions validate which model is decided later, by label counts (:mod:`.validation`);
rows carry the times that needs: ``_time`` is the decision time of a decided row and the
snapshot time of an unlabelled one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..features.engine import Engine
from ..features.pipeline import feature_columns, parse_as_of
from .decision_effect import decision_effect, read_at_t
from .decision_sample import flag_columns, where_trees_read
from .snapshots import (
    POPULATION_SAMPLE,
    LeanSnapshots,
    ReferenceSnapshots,
    decision_snapshots,
    rows_of,
    with_meta,
)

Say = Callable[[str], None]

META = ("_snapshot", "_label", "_decided_at", "_time", "_labelled", "_holdout", "_weight")
HOLDOUT_SHARE = 0.5
MIN_POSITIVES = 10  # fewer confirmed accounts than this: the rules, not a model
MIN_DECISION_INSTANTS = 3  # confirmed accounts decided at fewer instants cannot be cut by time
# Extra snapshots at decision times (for accounts decided before any snapshot at which they
# existed) per regular snapshot: the feature work at most triples where decisions come
# within hours of sign-up all year round.
DECISION_SNAPSHOTS_PER_SNAPSHOT = 2


@dataclass
class TrainingSet:
    """Feature rows with their meta columns (``_snapshot``, ``_label`` (NaN unlabelled),
    ``_decided_at``, ``_time``, ``_labelled``, ``_holdout``, ``_weight``) and the final
    snapshot's rows (accounts active at T, not already confirmed, or a uniform sample of
    them: each row stands for ``final_weight`` active accounts) for review budgets."""

    rows: pa.Table
    final: pa.Table
    features: list[str]
    as_of: datetime
    snapshots: list[datetime]
    periods: dict[str, str | None]
    counts: dict[str, int] = field(default_factory=dict)
    # Decided accounts' features just after their decision instant, in an export stamped
    # with one date, and those of the unlabelled accounts sampled with them (``_snapshot``:
    # where the row they stand for was read; None otherwise): what the red flags are
    # judged on (module doc), so only the columns they read (``flag_columns``).
    after_instant: pa.Table | None = None
    # The final fit's rows read at T (:mod:`.decision_effect`), or None: read where they are.
    rows_at_t: pa.Table | None = None

    @property
    def final_weight(self) -> float:
        """How many active accounts each final row stands for (1 unless sampled)."""
        active = self.counts.get("final_active_accounts", self.final.num_rows)
        return active / self.final.num_rows if self.final.num_rows else 1.0

    def labelled(self, flag: bool = True) -> pa.Table:
        """The decided rows (or, with ``flag=False``, the unlabelled sample)."""
        return self.rows.filter(pc.equal(self.rows.column("_labelled"), flag))


def latest_decisions(engine: Engine, as_of: datetime) -> dict[str, np.ndarray]:
    """Each account's latest decision before ``as_of`` (ties: label 1 wins), with its
    creation time: columns account_id, label, decided_at, created_at."""
    empty = {"account_id": np.array([], dtype=object), "label": np.array([], dtype=np.float64),
             "decided_at": np.array([], dtype="datetime64[us]"),
             "created_at": np.array([], dtype="datetime64[us]")}
    if "labels" not in engine.tables():
        return empty
    t = engine.dialect.timestamp_literal(as_of)
    table = engine.arrow(f"""
        SELECT l.account_id, CAST(l.label AS DOUBLE) AS label, l.decided_at, a.created_at
        FROM (SELECT account_id, label, decided_at,
                     row_number() OVER (PARTITION BY account_id
                                        ORDER BY decided_at DESC, label DESC) AS pick
              FROM labels WHERE decided_at < {t}) AS l
        JOIN accounts AS a ON a.account_id = l.account_id
        WHERE l.pick = 1 ORDER BY l.decided_at, l.account_id""")
    if table.num_rows == 0:
        return empty
    return {"account_id": np.asarray(table.column("account_id").to_pylist(), dtype=object),
            "label": table.column("label").to_numpy(),
            "decided_at": _datetimes(table.column("decided_at")),
            "created_at": _datetimes(table.column("created_at"))}


def _datetimes(values: pa.ChunkedArray) -> np.ndarray:
    return np.asarray(values.cast(pa.timestamp("us")).to_numpy(zero_copy_only=False),
                      dtype="datetime64[us]")


def snapshot_times(first: datetime, as_of: datetime, days: int) -> list[datetime]:
    """T, T - days, T - 2 days, ... down to the first snapshot at or before ``first``;
    returned oldest first."""
    step = timedelta(days=days)
    count = 0
    while as_of - count * step > first:
        count += 1
    return [as_of - k * step for k in range(count, -1, -1)]


def _snapshot_index(decided: np.ndarray, snapshots: list[datetime]) -> np.ndarray:
    """Index of the latest snapshot at or before each decision time (-1 if none)."""
    times = np.array(snapshots, dtype="datetime64[us]")
    return np.searchsorted(times, decided, side="right") - 1


def decided_at_few_instants(confirmed_decision_times: np.ndarray) -> bool:
    """Whether the confirmed accounts were decided at fewer than ``MIN_DECISION_INSTANTS``
    distinct times (an export stamped with one date): time cannot split them, and the
    training set also reads decided accounts just after their instant
    (:func:`_after_one_instant`)."""
    return len(np.unique(confirmed_decision_times)) < MIN_DECISION_INSTANTS


def _after_one_instant(decisions: dict[str, np.ndarray], moment: datetime) -> np.ndarray:
    """Snapshot times just after each decision instant (1 microsecond later) when the
    confirmed accounts were decided at a few instants only, else none (also with too few
    confirmed accounts for a model: then nothing trains on these rows).

    Such an export (one ban wave, or decisions stamped with the export's date) gives a
    decided account no earlier snapshot in which its neighbours were decided; read before the
    instant, no row would show a banned neighbour that every account scored after it sees.
    Just after it, a row sees the other decisions of its instant, nothing later, and never
    its own decision (no feature reads an account's own label)."""
    confirmed = decisions["decided_at"][decisions["label"] == 1]
    if len(confirmed) < MIN_POSITIVES or not decided_at_few_instants(confirmed):
        return np.array([], dtype="datetime64[us]")
    after = np.unique(confirmed) + np.timedelta64(1, "us")
    return after[after < np.datetime64(moment, "us")]


def _after_instant_rows(source: LeanSnapshots | ReferenceSnapshots, snapshot: datetime,
                        rng: np.random.Generator, decided_ids: np.ndarray, mine: np.ndarray,
                        snapshot_of: np.ndarray, sampled: dict[datetime, np.ndarray]
                        ) -> pa.Table:
    """Rows just after an instant of its decided accounts (``mine``) and of the unlabelled
    ones sampled where they are read, so that the flags are judged on like rows (module
    doc); ``_snapshot`` names that snapshot, the last before the instant."""
    read_at = snapshot_of[mine][0].astype(datetime)
    wanted = np.concatenate([decided_ids[mine], sampled.get(read_at, [])])
    source.sample(snapshot, rng, 0)  # prepares the snapshot; draws nothing
    piece = rows_of(source.rows(snapshot, wanted), wanted)
    return piece.append_column("_snapshot",
                               pa.array([read_at] * len(wanted), pa.timestamp("us")))


def _snapshot_pieces(source: LeanSnapshots | ReferenceSnapshots, snapshot: datetime,
                     decided: np.ndarray, label: np.ndarray, decided_at: np.ndarray,
                     sample: np.ndarray, weight: float, seed: int) -> list[pa.Table]:
    """The decided accounts' and the unlabelled sample's rows read at ``snapshot``, with
    their meta columns; the snapshot's whole table is freed on return, not kept while the
    next one is built (up to 2 GB on an export of millions: docs/training-log.md)."""
    rows = source.rows(snapshot, np.concatenate([decided, sample]))
    pieces = []
    if len(decided):
        pieces.append(with_meta(rows_of(rows, decided), snapshot, label, decided_at, True,
                                np.zeros(len(decided), bool), np.ones(len(decided))))
    if len(sample):
        holdout = np.array([is_holdout(str(a), seed) for a in sample], dtype=bool)
        pieces.append(with_meta(rows_of(rows, sample), snapshot, np.full(len(sample), np.nan),
                                np.full(len(sample), np.datetime64("NaT"), "datetime64[us]"),
                                False, holdout, np.full(len(sample), weight)))
    return pieces


def is_holdout(account_id: str, seed: int, share: float = HOLDOUT_SHARE) -> bool:
    """Whether an unlabelled account is held out for validation (stable per id and seed)."""
    digest = hashlib.blake2b(f"{seed}:{account_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") < share * 2.0 ** 64


def build_training_set(engine: Engine, as_of: str | datetime, *, snapshot_days: int = 30,
                       unlabelled_sample: int = 20_000, active_days: int = 30, seed: int = 0,
                       since: datetime | None = None, say: Say | None = None,
                       lean: bool = True, population_sample: int = POPULATION_SAMPLE
                       ) -> TrainingSet:
    """The point-in-time training set of a loaded folder as of T (see the module doc).

    ``unlabelled_sample`` unlabelled rows in all, spread evenly over the snapshots before T;
    ``since`` keeps only decisions from then on (an evaluation period). ``lean=False``
    takes the reference path (every account's features at every snapshot, nothing shared
    between snapshots), which gives the same rows, more slowly. The final snapshot holds
    the accounts active at T, a seeded uniform sample of ``population_sample`` of them
    where they are more (what the bands and the drift reference read needs no more).
    """
    say = say or (lambda message: None)
    moment = parse_as_of(as_of)
    decisions = latest_decisions(engine, moment)
    if since is not None:
        keep = decisions["decided_at"] >= np.datetime64(parse_as_of(since), "us")
        decisions = {k: v[keep] for k, v in decisions.items()}
    counts: dict[str, int] = {"labelled_accounts": len(decisions["account_id"])}
    periods: dict[str, str | None] = {"as_of": moment.isoformat(), "first_decision": None,
                                      "last_decision": None}
    if len(decisions["account_id"]) == 0:
        snapshots = [moment]
    else:
        first = decisions["decided_at"].min().astype(datetime)
        snapshots = snapshot_times(first, moment, snapshot_days)
        periods.update(first_decision=first.isoformat(),
                       last_decision=decisions["decided_at"].max().astype(datetime).isoformat())
    index = _snapshot_index(decisions["decided_at"], snapshots)
    snapshot_of = np.array(snapshots, dtype="datetime64[us]")[np.maximum(index, 0)]
    exists = (index >= 0) & (decisions["created_at"] < snapshot_of)
    instants = _after_one_instant(decisions, moment)
    if not len(instants):
        # Accounts decided soon after sign-up exist at no snapshot before their decision:
        # read them at a few extra snapshots at decision times. An export stamped with one
        # date keeps its own reading around the instant (below).
        extra = decision_snapshots(decisions["created_at"], decisions["decided_at"], ~exists,
                                   DECISION_SNAPSHOTS_PER_SNAPSHOT * len(snapshots))
        found = ~np.isnat(extra)
        snapshot_of, exists = np.where(found, extra, snapshot_of), exists | found
        counts["read_at_decision"] = int(found.sum())
        counts["read_confirmed_at_decision"] = int(np.sum(found & (decisions["label"] == 1)))
    after_of = decisions["decided_at"] + np.timedelta64(1, "us")
    if len(instants):
        say(f"the confirmed accounts were decided at {len(instants)} instant(s): the "
            "unlabelled accounts are sampled where they are read, and the decided accounts "
            "are also read just after their instant (each seeing the others' decisions, "
            "never its own) to judge the red flags as accounts are scored")
    effect = None if len(instants) else decision_effect(engine, decisions, moment)
    if effect is not None and effect.told:
        say(effect.verdict())
        counts.update(effect.to_json())
    counts["dropped_decided_before_first_snapshot"] = int(np.sum(~exists))
    counts["dropped_confirmed"] = int(np.sum(~exists & (decisions["label"] == 1)))

    rng = np.random.default_rng(seed)
    # The unlabelled rows are sampled where the decided rows are read: at every snapshot
    # before T, or (one date) where the confirmed ones are. Sampled elsewhere, they would
    # differ from the decided rows by their time (accounts' ages), and a model trained on
    # both would learn the time.
    confirmed = exists & (decisions["label"] == 1)
    sampled_at = ({t.astype(datetime) for t in np.unique(snapshot_of[confirmed])}
                  if len(instants) else set(snapshots) - {moment})
    instant_times = {t.astype(datetime) for t in instants}
    after_pieces: list[pa.Table] = []
    sampled: dict[datetime, np.ndarray] = {}
    per_snapshot = int(np.ceil(unlabelled_sample / max(1, len(sampled_at))))
    pieces: list[pa.Table] = []
    decided_ids = decisions["account_id"]
    source = (LeanSnapshots if lean else ReferenceSnapshots)(engine, decided_ids, active_days)
    read_at = {t.astype(datetime) for t in np.unique(snapshot_of[exists])}
    times = sorted({moment} | sampled_at | instant_times | read_at)
    assert times[-1] == moment  # every decision, and so every reading, is before T
    try:
        for k, snapshot in enumerate(times[:-1]):
            say(f"features as of {snapshot:%Y-%m-%d} (snapshot {k + 1} of {len(times)})")
            if snapshot in instant_times:
                mine = exists & (after_of == np.datetime64(snapshot, "us"))
                if mine.any():
                    after_pieces.append(_after_instant_rows(source, snapshot, rng, decided_ids,
                                                            mine, snapshot_of, sampled))
                if snapshot not in sampled_at and snapshot not in read_at:
                    continue
            chosen = np.flatnonzero(exists & (snapshot_of == np.datetime64(snapshot, "us")))
            # A sample of 0 draws nothing from the random stream.
            sample, weight = source.sample(snapshot, rng,
                                           per_snapshot if snapshot in sampled_at else 0)
            sampled[snapshot] = sample
            pieces += _snapshot_pieces(source, snapshot, decided_ids[chosen],
                                       decisions["label"][chosen],
                                       decisions["decided_at"][chosen], sample, weight, seed)
        # Settled before T is read, so that only what the flags read of the rows just
        # after the instant is held while it is (on an export of millions, 1.5 GB).
        after = pa.concat_tables(after_pieces) if after_pieces else None
        after_pieces.clear()
        rows = None
        if pieces and after is not None:
            rows, counts["trees_read_after_instant"] = where_trees_read(pieces, after,
                                                                        decided_ids, say)
            after = flag_columns(after)
        elif pieces:
            rows = pa.concat_tables(pieces)
        say(f"features as of {moment:%Y-%m-%d} (snapshot {len(times)} of {len(times)})")
        # Its own random stream: the unlabelled samples do not depend on it.
        final, active_count = source.final(moment, np.random.default_rng([seed, 1]),
                                           population_sample)
        rows_at_t = None
        if effect is not None and effect.kept_working:  # read where accounts are scored
            rows_at_t = read_at_t(source, moment, decisions, final,
                                  active_count / max(1, final.num_rows))
            counts["decided_read_at_t"] = int(np.sum(rows_at_t.column("_labelled").to_numpy(
                zero_copy_only=False)))
    finally:
        source.close()
    features = feature_columns(final)
    if rows is None:
        rows = with_meta(final.slice(0, 0), moment, np.array([]),
                         np.array([], "datetime64[us]"), True, np.array([], bool), np.array([]))
    labels = np.asarray(rows.filter(rows.column("_labelled")).column("_label").to_numpy())
    counts.update(training_rows=rows.num_rows, final_active_accounts=active_count,
                  final_sampled_accounts=final.num_rows,
                  positives=int(np.sum(labels == 1)), negatives=int(np.sum(labels == 0)),
                  unlabelled_rows=rows.num_rows - len(labels))
    return TrainingSet(rows=rows, final=final, features=features, as_of=moment,
                       snapshots=snapshots, periods=periods, counts=counts,
                       after_instant=after, rows_at_t=rows_at_t)


def fingerprint(table: pa.Table, columns: list[str]) -> str:
    """sha256 of the given columns' values, in row order (the training data's identity)."""
    digest = hashlib.sha256()
    for name in columns:
        digest.update(name.encode() + b"\0")
        values = table.column(name)
        if pa.types.is_timestamp(values.type):
            values = values.cast(pa.int64())
        if pa.types.is_floating(values.type) or pa.types.is_integer(values.type):
            digest.update(values.cast(pa.float64()).to_numpy(zero_copy_only=False).tobytes())
        else:
            digest.update("\x1f".join("\x00" if v is None else str(v)
                                      for v in values.to_pylist()).encode())
    return digest.hexdigest()


def describe(ts: TrainingSet) -> list[str]:
    """Plain-language lines about the training set, for the run's output."""
    c = ts.counts
    lines = [f"{c['labelled_accounts']:,} accounts decided before {ts.as_of:%Y-%m-%d}; "
             f"{len(ts.snapshots)} snapshots"]
    if c.get("dropped_decided_before_first_snapshot"):
        lines.append(f"{c['dropped_decided_before_first_snapshot']:,} decided accounts "
                     f"({c['dropped_confirmed']:,} confirmed) were dropped: decided before "
                     "any snapshot could read them (at or before sign-up, or not read at an "
                     "extra snapshot; a shorter --snapshot-days reads more)")
    if c.get("read_at_decision"):
        lines.append(f"{c['read_at_decision']:,} decided accounts "
                     f"({c.get('read_confirmed_at_decision', 0):,} confirmed) existed at no "
                     "snapshot before their decision: read at extra snapshots at their decisions")
    if c.get("decided_read_at_t"):
        lines.append(f"the final model learns from {c['decided_read_at_t']:,} decided accounts "
                     "and the unlabelled ones read at T (the decisions did not stop them)")
    lines.append(f"{c['positives']:,} confirmed and {c['negatives']:,} cleared accounts "
                 f"with features; {c['unlabelled_rows']:,} unlabelled rows sampled")
    if c.get("final_sampled_accounts", 0) < c.get("final_active_accounts", 0):
        lines.append(f"review bands and the drift reference read a uniform sample of "
                     f"{c['final_sampled_accounts']:,} of the {c['final_active_accounts']:,} "
                     f"accounts active at {ts.as_of:%Y-%m-%d}")
    return lines


def times_of(rows: pa.Table, name: str = "_snapshot") -> np.ndarray:
    """A time column of the rows (by default each row's snapshot) as ``datetime64[us]``."""
    return np.asarray(rows.column(name).to_numpy(zero_copy_only=False),
                      dtype="datetime64[us]")


def meta_value(table: pa.Table, name: str) -> Any:
    """A meta column as numpy (labels/weights float, parts object)."""
    values = table.column(name)
    if pa.types.is_floating(values.type):
        return values.to_numpy()
    return np.asarray(values.to_pylist(), dtype=object)
