"""Whether an export's decisions stopped the accounts, and where decided accounts are read.

A training row of a decided account is read before its decision (:mod:`.dataset`): on a
marketplace that bans, a confirmed account goes quiet, and rows read later would teach the
model "no recent activity = fraud". Some exports are not like that: the labels annotate
accounts that went on working as before (a list of accounts confirmed later by an outside
investigation, or a benchmark that hides labels without touching the activity). There a
decided account read before its decision shows only part of the history an account scored
at T shows, and the trees learn from short, noisy histories what they then apply to long
ones (on `benchmarks/stranger_fronts.py`, fronts that share nothing, seed 12: the trees
rank the undecided accounts 0.786 learning from rows read before the decisions, 0.847
learning from the same accounts read at T).

The test reads the activity around each decision made at least :data:`WINDOW_DAYS` before
T: for the decided accounts active (a session or work action) in the window before their
decision, their sessions and actions in the window after it per one in the window before,
for the confirmed and for the cleared accounts. Events rather than accounts: a banned
account that still logs in now and then to appeal has stopped working. Where the confirmed
accounts kept at least :data:`KEPT_WORKING_SHARE` of the cleared ones' rate and
:data:`MIN_KEPT_RATE` events after per one before (a few logins do not make a dormant
population's decisions look harmless), and enough of each were active to tell, the
decisions did not stop the accounts, and the final fit learns from the decided accounts
read at T, as accounts are scored, with the undecided accounts of the final snapshot (T) as
its unlabelled rows, so that no rows of two ages meet. Validation keeps the rows before
each decision (read at T, a row sees the later decisions of its neighbours that validation
must judge). With too few cleared accounts active (an export of bans alone) the confirmed
are compared with the accounts never decided, around the median decision. Generated
marketplaces, whose bans stop the accounts, give no session or action of a confirmed
account after its decision.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..features.engine import Engine
from .snapshots import LeanSnapshots, ReferenceSnapshots, rows_of, with_meta

WINDOW_DAYS = 30  # activity this long before and after a decision is compared
KEPT_WORKING_SHARE = 0.5  # the confirmed kept at least this share of the others' rate
MIN_KEPT_RATE = 0.2  # and at least this many events after a decision per one before
MIN_ACTIVE_EACH = 10  # confirmed and compared accounts active before the decision, at least
WINDOWS = "_decision_windows"


@dataclass(frozen=True)
class DecisionEffect:
    """Decided accounts active in the window before their decision, and their sessions and
    actions in the windows before and after it, for the confirmed and the others."""

    confirmed_accounts: int
    confirmed_before: int
    confirmed_after: int
    others_accounts: int
    others_before: int
    others_after: int
    # What the confirmed are compared with: the cleared accounts, or (too few cleared ones,
    # as in an export of bans alone) the undecided accounts around the median decision.
    others: str = "cleared"

    @property
    def told(self) -> bool:
        """Whether enough accounts of each kind were active to tell."""
        return min(self.confirmed_accounts, self.others_accounts) >= MIN_ACTIVE_EACH

    @property
    def kept_working(self) -> bool:
        """Whether the confirmed accounts went on working after their decision about as
        much as the others did (the decisions did not stop them)."""
        if not self.told or self.others_after == 0:
            return False
        confirmed = self.confirmed_after / self.confirmed_before
        others = self.others_after / self.others_before
        return confirmed >= max(MIN_KEPT_RATE, KEPT_WORKING_SHARE * others)

    def sentence(self) -> str:
        """What was measured, for the run's output."""
        def rate(after: int, before: int) -> str:
            return f"{after / before:.2f}" if before else "-"
        return (f"{self.confirmed_accounts} confirmed accounts active in the {WINDOW_DAYS} "
                "days before their decision logged "
                f"{rate(self.confirmed_after, self.confirmed_before)} sessions and actions in "
                f"the {WINDOW_DAYS} days after it per one before, {self.others_accounts} "
                f"{self.others} ones {rate(self.others_after, self.others_before)}")

    def verdict(self) -> str:
        """The measurement and what follows from it, for the run's output."""
        return f"{self.sentence()}: " + (
            "the decisions did not stop the accounts, so the final model learns from the "
            "decided and unlabelled accounts read at T, as accounts are scored (validation "
            "keeps the rows before each decision)" if self.kept_working else
            "the decisions stopped the accounts, so decided accounts are read before their "
            "decision, never after it")

    def to_json(self) -> dict[str, int]:
        return {"confirmed_active_before_decision": self.confirmed_accounts,
                "confirmed_events_before_decision": self.confirmed_before,
                "confirmed_events_after_decision": self.confirmed_after,
                f"{self.others}_active_before_decision": self.others_accounts,
                f"{self.others}_events_before_decision": self.others_before,
                f"{self.others}_events_after_decision": self.others_after}


def decision_effect(engine: Engine, decisions: dict[str, np.ndarray], as_of: datetime
                    ) -> DecisionEffect | None:
    """Activity around the decisions made at least :data:`WINDOW_DAYS` before ``as_of``
    (``decisions``: :func:`.dataset.latest_decisions`); None without sessions or activity."""
    tables = engine.tables()
    sources = [(name, col) for name, col in (("sessions", "started_at"), ("activity", "ts"))
               if name in tables]
    if not sources:
        return None
    window = np.timedelta64(WINDOW_DAYS, "D")
    decided = np.asarray(decisions["decided_at"], dtype="datetime64[us]")
    measured = decided + window <= np.datetime64(as_of.replace(tzinfo=None), "us")
    engine.create_table_from_arrow(WINDOWS, pa.table({
        "account_id": pa.array(decisions["account_id"].tolist(), pa.string()),
        "label": pa.array(decisions["label"], pa.float64()),
        "measured": pa.array(measured, pa.bool_()),
        "before_from": pa.array(decided - window, pa.timestamp("us")),
        "decided_at": pa.array(decided, pa.timestamp("us")),
        "after_to": pa.array(decided + window, pa.timestamp("us"))}))
    events = " UNION ALL ".join(f"SELECT account_id, {col} AS t FROM {name}"
                                for name, col in sources)
    try:
        found = engine.arrow(f"""
            SELECT label, count(*) AS accounts, sum(events_before) AS events_before,
                   sum(events_after) AS events_after
            FROM (SELECT w.account_id, w.label,
                         sum(CASE WHEN e.t < w.decided_at THEN 1 ELSE 0 END) AS events_before,
                         sum(CASE WHEN e.t >= w.decided_at THEN 1 ELSE 0 END) AS events_after
                  FROM {WINDOWS} AS w JOIN ({events}) AS e
                    ON e.account_id = w.account_id AND e.t >= w.before_from
                       AND e.t < w.after_to
                  WHERE w.measured
                  GROUP BY w.account_id, w.label) AS per_account
            WHERE events_before > 0
            GROUP BY label""").to_pylist()
        counts = {row["label"]: _counts(row) for row in found}
        confirmed, cleared = counts.get(1.0, (0, 0, 0)), counts.get(0.0, (0, 0, 0))
        if cleared[0] >= MIN_ACTIVE_EACH or confirmed[0] < MIN_ACTIVE_EACH:
            return DecisionEffect(*confirmed, *cleared)
        at = np.sort(decided[measured & (decisions["label"] == 1)])
        median = at[len(at) // 2].astype(datetime)
        return DecisionEffect(*confirmed, *_undecided(engine, events, median), "undecided")
    finally:
        engine.drop([WINDOWS])


def _counts(row: dict[str, Any]) -> tuple[int, int, int]:
    return (int(row["accounts"] or 0), int(row["events_before"] or 0),
            int(row["events_after"] or 0))


def _undecided(engine: Engine, events: str, moment: datetime) -> tuple[int, int, int]:
    """Accounts with no decision before T active in the window before ``moment``, and their
    events in the windows before and after it."""
    d = engine.dialect
    start, end = (d.timestamp_literal(moment + k * timedelta(days=WINDOW_DAYS))
                  for k in (-1, 1))
    at = d.timestamp_literal(moment)
    row = engine.arrow(f"""
        SELECT count(*) AS accounts, sum(events_before) AS events_before,
               sum(events_after) AS events_after
        FROM (SELECT e.account_id,
                     sum(CASE WHEN e.t < {at} THEN 1 ELSE 0 END) AS events_before,
                     sum(CASE WHEN e.t >= {at} THEN 1 ELSE 0 END) AS events_after
              FROM ({events}) AS e
              WHERE e.t >= {start} AND e.t < {end}
                AND e.account_id NOT IN (SELECT account_id FROM {WINDOWS})
              GROUP BY e.account_id) AS per_account
        WHERE events_before > 0""").to_pylist()[0]
    return _counts(row)


def read_at_t(source: LeanSnapshots | ReferenceSnapshots, moment: datetime,
              decisions: dict[str, np.ndarray], final: pa.Table, final_weight: float
              ) -> pa.Table:
    """The final fit's rows read at T: every decided account (created before T), and as the
    unlabelled rows the final snapshot's undecided accounts (each standing for
    ``final_weight`` active accounts)."""
    made = np.flatnonzero(decisions["created_at"] < np.datetime64(moment, "us"))
    ids = decisions["account_id"][made]
    source.sample(moment, np.random.default_rng(0), 0)  # prepares the snapshot; draws nothing
    decided = with_meta(rows_of(source.rows(moment, ids), ids), moment,
                        decisions["label"][made], decisions["decided_at"][made], True,
                        np.zeros(len(made), bool), np.ones(len(made)))
    undecided = final.filter(pc.invert(pc.is_in(final.column("account_id"), value_set=pa.array(
        decisions["account_id"].tolist(), pa.string()))))
    n = undecided.num_rows
    unlabelled = with_meta(undecided, moment, np.full(n, np.nan),
                           np.full(n, np.datetime64("NaT"), "datetime64[us]"), False,
                           np.zeros(n, bool), np.full(n, final_weight))
    return pa.concat_tables([unlabelled, decided.select(unlabelled.column_names)])


def final_fit_rows(rows: pa.Table, rows_at_t: pa.Table | None) -> pa.Table:
    """The rows the final model learns from: the training rows, or where the decisions did
    not stop the accounts, those read at T (same columns, in the training rows' order)."""
    return rows if rows_at_t is None else rows_at_t.select(rows.column_names)
