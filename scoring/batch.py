"""A batch of scores (``ScoreBatch``) and reasons as readable text.

``reason_text`` turns one reason into the phrase the ``score`` command and the review
queue print, naming the other accounts of its evidence.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from accountrisk.features.errors import UsageError
from accountrisk.scoring.evidence_tools import MAX_LISTED_ACCOUNTS
from accountrisk.scoring.models import AccountScore, Evidence, Reason

LISTED_IN_TEXT = 3


@dataclass
class ScoreBatch:
    """Scores of many accounts: ``frame`` (account_id, score, band, reasons, raw_score)
    and the explained accounts as :class:`AccountScore` (``explained``); ``score(id)``
    builds any other account's result on demand."""

    frame: pa.Table
    explained: dict[str, AccountScore] = field(default_factory=dict)
    _maker: Any = None

    def __len__(self) -> int:
        return self.frame.num_rows

    def score(self, account_id: str) -> AccountScore:
        """The result of one account of the batch (with reasons if it was explained)."""
        if account_id in self.explained:
            return self.explained[account_id]
        return self._maker(account_id)

    def to_polars(self) -> Any:
        """``frame`` as a Polars DataFrame (zero-copy from Arrow; needs the ``polars``
        extra)."""
        try:
            import polars as pl
        except ImportError:
            raise UsageError("ScoreBatch.to_polars needs Polars: pip install "
                             "'accountrisk[polars]' (or read .frame, an Arrow table)") from None
        return pl.from_arrow(self.frame)

    @property
    def scores(self) -> list[AccountScore]:
        """Every account's result, in frame order (builds one object per row: keep it for
        small batches; large ones read ``frame``)."""
        return [self.score(a) for a in self.frame.column("account_id").to_pylist()]


def with_evidence(batch: ScoreBatch,
                  found: Mapping[str, Mapping[str, Evidence]]) -> ScoreBatch:
    """The batch with each explained reason's evidence replaced by ``found``'s."""
    explained = {}
    for account, result in batch.explained.items():
        mine = found.get(account, {})
        reasons = [r.model_copy(update={"evidence": mine.get(r.feature, r.evidence)})
                   for r in result.reasons]
        explained[account] = result.model_copy(update={"reasons": reasons})
    texts = batch.frame.column("reasons").to_pylist()
    position = {a: i for i, a in enumerate(batch.frame.column("account_id").to_pylist())}
    for account, result in explained.items():
        texts[position[account]] = reasons_text(result.reasons)
    frame = batch.frame.set_column(batch.frame.column_names.index("reasons"), "reasons",
                                   pa.array(texts, pa.string()))
    return ScoreBatch(frame=frame, explained=explained, _maker=batch._maker)


def reason_text(reason: Reason) -> str:
    """A reason as one readable phrase, naming the other accounts behind it:
    "... (u0000123, u0000456, …; 2 already confirmed)"."""
    text = reason.sentence
    accounts: dict[str, bool] = {}  # an account may appear once per shared token or item
    for a in reason.evidence.accounts:
        accounts[a.account_id] = accounts.get(a.account_id, False) or a.is_confirmed_fraud
    if accounts:
        shown = ", ".join(list(accounts)[:LISTED_IN_TEXT])
        more = ", …" if len(accounts) > LISTED_IN_TEXT else ""
        text += f" ({shown}{more}{_confirmed_tail(reason.evidence, accounts)})"
    if reason.direction == "lowers":
        text = "lowers the score: " + text
    return text


def _confirmed_tail(evidence: Evidence, accounts: dict[str, bool]) -> str:
    """"; N already confirmed": N from the evidence's own count where it keeps one (a
    neighbour relation's "<relation> confirmed"), since the accounts it lists are cut at
    ``MAX_LISTED_ACCOUNTS``; else from the listed accounts, "at least" when the list may
    have been cut."""
    kept = [n for name, n in evidence.counts.items() if name.endswith(" confirmed")]
    confirmed = sum(kept) if kept else sum(accounts.values())
    if not confirmed:
        return ""
    cut = not kept and len(accounts) >= MAX_LISTED_ACCOUNTS
    return f"; {'at least ' if cut else ''}{confirmed} already confirmed"


def reasons_text(reasons: Sequence[Reason]) -> str:
    """The reasons of one account joined by "; " (raising ones first)."""
    ordered = [r for r in reasons if r.direction == "raises"] + \
        [r for r in reasons if r.direction != "raises"]
    return "; ".join(reason_text(r) for r in ordered)
