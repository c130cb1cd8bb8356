"""The queue's skip rule: an account decided since its score last changed is not shown
again, unless new evidence arrived.

Only final decisions (``confirmed_fronting``, ``cleared``) close a case; ``escalated`` and
``needs_info`` keep the account in the queue. When the account's latest decision before
as-of is final, it is compared with the score the reviewer was shown then:

- *score change*: the score rose by more than ``SCORE_RISE`` (0.05) or the band became
  narrower (riskier) than the band shown;
- *new evidence*: a reason raising the score now that was not among the reasons shown.

Either brings the account back. A decision recorded without a shown score (no queue had
shown the account) counts as taken on the current score: the account is skipped.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from .store import LABEL_OF, Decision, open_store

SCORE_RISE = 0.05


def reopened_by(decision: Decision, current: Any, band_names: Sequence[str]) -> str | None:
    """Why ``current`` (an AccountScore) reopens a decided case, or None (it stays closed)."""
    if decision.decision not in LABEL_OF:
        return "open decision"
    if decision.score is None:
        return None
    rank = {name: len(band_names) - i for i, name in enumerate(band_names)}
    if current.score > decision.score + SCORE_RISE:
        return f"score rose from {decision.score:.3f} to {current.score:.3f}"
    if rank.get(current.band, 0) > rank.get(decision.band or "", 0):
        return f"band rose from {decision.band or 'none'} to {current.band}"
    shown = set(decision.reason_features)
    new = [r.feature for r in current.reasons
           if r.direction == "raises" and r.feature not in shown]
    if decision.reason_features and new:
        return f"new evidence: {', '.join(new)}"
    return None


def skip_decided(scores: Sequence[Any], workdir: str | Path, as_of: datetime,
                 band_names: Sequence[str]) -> tuple[list[Any], dict[str, str]]:
    """``scores`` without the accounts the rule skips; and, per account kept despite a
    decision, why it is back."""
    decisions = open_store(workdir).read([s.account_id for s in scores], before=as_of)
    latest: dict[str, Decision] = {}
    for d in decisions:  # oldest first: the last one wins
        latest[d.account_id] = d
    kept, back = [], {}
    for s in scores:
        last = latest.get(s.account_id)
        if last is None:
            kept.append(s)
            continue
        why = reopened_by(last, s, band_names)
        if why is not None:
            kept.append(s)
            back[s.account_id] = why
    return kept, back


def decided_count(workdir: str | Path, as_of: datetime) -> int:
    """How many accounts have a decision before ``as_of`` (at most that many can be
    skipped)."""
    return len({d.account_id for d in open_store(workdir).read(before=as_of)})
