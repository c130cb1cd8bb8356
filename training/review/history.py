"""Earlier decisions on an account and on its linked accounts, as a case report and
``explain --json`` show them ("u0000042 was confirmed on 2026-09-12 by r.lee")."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from .store import Decision, open_store

VERBS = {"confirmed_fronting": "confirmed", "cleared": "cleared",
         "escalated": "escalated", "needs_info": "marked as needing information"}


def sentence(d: Decision) -> str:
    """One decision in words."""
    text = f"{d.account_id} was {VERBS.get(d.decision, d.decision)} on " \
           f"{d.decided_at:%Y-%m-%d} by {d.reviewer}"
    return text + (f": {d.note}" if d.note else "")


def linked_ids(score: Any, ring: Any = None) -> list[str]:
    """Accounts linked to a scored account: those its reasons' evidence names and its
    link group's members."""
    found: dict[str, None] = {}
    for reason in getattr(score, "reasons", []):
        for other in reason.evidence.accounts:
            found[other.account_id] = None
    for member in (ring or {}).get("members", []):
        found[member["account_id"]] = None
    found.pop(getattr(score, "account_id", ""), None)
    return list(found)


def decision_history(workdir: str | Path, account_id: str, linked: Iterable[str] = (), *,
                     before: datetime | None = None) -> dict[str, list[dict[str, Any]]]:
    """``{"account": [...], "linked": [...]}``: the decisions (newest first, decided
    before ``before`` when given) on the account and on ``linked`` accounts, each with
    its sentence."""
    others = [a for a in linked if a != account_id]
    rows = open_store(workdir).read([account_id, *others], before=before)
    return history_of(rows, account_id, others, before=before)


def history_of(rows: Iterable[Decision], account_id: str, linked: Iterable[str], *,
               before: datetime | None = None) -> dict[str, list[dict[str, Any]]]:
    """As :func:`decision_history`, from decisions already read (a queue reads once)."""
    wanted = set(linked) - {account_id}
    out: dict[str, list[dict[str, Any]]] = {"account": [], "linked": []}
    chosen = [d for d in rows if (d.account_id == account_id or d.account_id in wanted)
              and (before is None or d.decided_at < before)]
    for d in sorted(chosen, key=lambda d: d.decided_at, reverse=True):
        out["account" if d.account_id == account_id else "linked"].append(
            {**d.as_json(), "sentence": sentence(d)})
    return out
