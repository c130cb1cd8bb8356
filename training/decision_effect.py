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
decisions did not stop the accounts, and a final fit that learns from the decisions alone
(unlabelled strategy ``ignore``) learns from every decided account read at T, as accounts
are scored; one that learns from unlabelled rows too keeps the rows before the decisions
(its unlabelled rows were sampled at those snapshots, and rows of two ages would teach it
the age). Validation keeps the rows before each decision (read at T, a row sees the later
decisions of its neighbours that validation must judge). Generated marketplaces, whose bans
stop the accounts, give no session or action of a confirmed account after its decision.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..features.engine import Engine
from .snapshots import LeanSnapshots, ReferenceSnapshots, rows_of

WINDOW_DAYS = 30  # activity this long before and after a decision is compared
KEPT_WORKING_SHARE = 0.5  # the confirmed kept at least this share of the cleared's rate
MIN_KEPT_RATE = 0.2  # and at least this many events after a decision per one before
MIN_ACTIVE_EACH = 10  # confirmed and cleared accounts active before their decision, at least
WINDOWS = "_decision_windows"


@dataclass(frozen=True)
class DecisionEffect:
    """Decided accounts active in the window before their decision, and their sessions and
    actions in the windows before and after it, for the confirmed and the cleared."""

    confirmed_accounts: int
    confirmed_before: int
    confirmed_after: int
    cleared_accounts: int
    cleared_before: int
    cleared_after: int

    @property
    def told(self) -> bool:
        """Whether enough accounts of each kind were active to tell."""
        return min(self.confirmed_accounts, self.cleared_accounts) >= MIN_ACTIVE_EACH

    @property
    def kept_working(self) -> bool:
        """Whether the confirmed accounts went on working after their decision about as
        much as the cleared ones did (the decisions did not stop them)."""
        if not self.told or self.cleared_after == 0:
            return False
        confirmed = self.confirmed_after / self.confirmed_before
        cleared = self.cleared_after / self.cleared_before
        return confirmed >= max(MIN_KEPT_RATE, KEPT_WORKING_SHARE * cleared)

    def sentence(self) -> str:
        """What was measured, for the run's output."""
        def rate(after: int, before: int) -> str:
            return f"{after / before:.2f}" if before else "-"
        return (f"{self.confirmed_accounts} confirmed accounts active in the {WINDOW_DAYS} "
                "days before their decision logged "
                f"{rate(self.confirmed_after, self.confirmed_before)} sessions and actions in "
                f"the {WINDOW_DAYS} days after it per one before, {self.cleared_accounts} "
                f"cleared ones {rate(self.cleared_after, self.cleared_before)}")

    def verdict(self) -> str:
        """The measurement and what follows from it, for the run's output."""
        return f"{self.sentence()}: " + (
            "the decisions did not stop the accounts, so a final model that learns from the "
            "decisions alone reads every decided account at T, as accounts are scored "
            "(validation keeps the rows before each decision)" if self.kept_working else
            "the decisions stopped the accounts, so decided accounts are read before their "
            "decision, never after it")

    def to_json(self) -> dict[str, int]:
        return {"confirmed_active_before_decision": self.confirmed_accounts,
                "confirmed_events_before_decision": self.confirmed_before,
                "confirmed_events_after_decision": self.confirmed_after,
                "cleared_active_before_decision": self.cleared_accounts,
                "cleared_events_before_decision": self.cleared_before,
                "cleared_events_after_decision": self.cleared_after}


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
    keep = decided + window <= np.datetime64(as_of.replace(tzinfo=None), "us")
    engine.create_table_from_arrow(WINDOWS, pa.table({
        "account_id": pa.array(decisions["account_id"][keep].tolist(), pa.string()),
        "label": pa.array(decisions["label"][keep], pa.float64()),
        "before_from": pa.array(decided[keep] - window, pa.timestamp("us")),
        "decided_at": pa.array(decided[keep], pa.timestamp("us")),
        "after_to": pa.array(decided[keep] + window, pa.timestamp("us"))}))
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
                  GROUP BY w.account_id, w.label) AS per_account
            WHERE events_before > 0
            GROUP BY label""").to_pylist()
    finally:
        engine.drop([WINDOWS])
    counts = {row["label"]: (int(row["accounts"]), int(row["events_before"]),
                             int(row["events_after"])) for row in found}
    confirmed, cleared = counts.get(1.0, (0, 0, 0)), counts.get(0.0, (0, 0, 0))
    return DecisionEffect(*confirmed, *cleared)


def rows_at(source: LeanSnapshots | ReferenceSnapshots, moment: datetime,
            accounts: np.ndarray) -> pa.Table:
    """The features of ``accounts`` as of ``moment``, in that order."""
    source.sample(moment, np.random.default_rng(0), 0)  # prepares the snapshot; draws nothing
    return rows_of(source.rows(moment, accounts), accounts)


def final_fit_rows(rows: pa.Table, decided_at_t: pa.Table | None) -> pa.Table:
    """The rows the final model learns from: ``rows`` with the decided accounts' rows
    replaced by their rows read at T where the decisions did not stop the accounts."""
    if decided_at_t is None:
        return rows
    unlabelled = rows.filter(pc.invert(rows.column("_labelled")))
    return pa.concat_tables([unlabelled, decided_at_t.select(rows.column_names)])
