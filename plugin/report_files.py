"""Case report files: one self-contained HTML page per account and the queue's index.

The pages are rendered by :mod:`.report_html`; this module reads what they show from the
loaded contract tables (profiles and timelines for the whole queue in one pass) and writes
them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from accountrisk.plugin.report_html import (
    INDEX_FILE,
    case_file_name,
    render_case_report,
    render_index,
)
from accountrisk.scoring.models import AccountScore


# -- files -----------------------------------------------------------------------------------
@dataclass
class ReportFiles:
    """Where :func:`write_reports` put the pages."""

    index: Path
    cases: dict[str, Path] = field(default_factory=dict)


def case_inputs(engine: Any, as_of: Any, account_id: str, *, scores: Any = None
                ) -> dict[str, Any]:
    """``account``, ``timeline`` and ``ring`` for :func:`render_case_report`, read from the
    loaded contract tables (the ring only when the link tables were kept by
    ``build_features_for_evidence`` for this as-of)."""
    from accountrisk.scoring.evidence import account_profile, collect_timeline
    from accountrisk.scoring.evidence_tools import as_of_moment, connection
    from accountrisk.scoring.facilitators import entities_of_accounts

    moment = as_of_moment(as_of)
    return {"account": account_profile(engine, as_of, account_id),
            "timeline": collect_timeline(engine, as_of, account_id),
            "ring": _read_ring(engine, as_of, account_id, scores),
            "entities": entities_of_accounts(connection(engine), moment,
                                             [account_id]).get(account_id)}


def _read_ring(engine: Any, as_of: Any, account_id: str, scores: Any
               ) -> Mapping[str, Any] | None:
    from accountrisk.scoring.rings import ring_for_account

    try:
        return ring_for_account(engine, as_of, account_id, scores=scores)
    except LookupError:
        return None


def _read_batch(engine: Any, scores: Sequence[AccountScore]) -> dict[str, dict[str, Any]]:
    """Profiles and timelines of every account of ``scores``, one pass per as-of."""
    from accountrisk.scoring.evidence import account_profiles, collect_timelines
    from accountrisk.scoring.evidence_tools import connection
    from accountrisk.scoring.facilitators import entities_of_accounts

    read: dict[str, dict[str, Any]] = {"account": {}, "timeline": {}, "entities": {}}
    by_time: dict[Any, list[str]] = {}
    for s in scores:
        by_time.setdefault(s.as_of, []).append(s.account_id)
    for as_of, ids in by_time.items():
        read["account"].update(account_profiles(engine, as_of, ids))
        read["timeline"].update(collect_timelines(engine, as_of, ids))
        read["entities"].update(entities_of_accounts(connection(engine), as_of, ids))
    return read


def _read_decisions(workdir: str | Path | None, scores: Sequence[AccountScore]
                    ) -> list[Any] | None:
    """Every decision of the work directory's store before the latest as-of (one read)."""
    if workdir is None or not scores:
        return None
    from accountrisk.training.review.store import open_store

    return open_store(workdir).read(before=max(s.as_of for s in scores))


def case_decisions(workdir: str | Path, engine: Any, score: AccountScore,
                   ring: Mapping[str, Any] | None = None) -> dict[str, list[dict[str, Any]]]:
    """Earlier decisions on ``score``'s account and its linked accounts (the link group
    read from ``engine`` when ``ring`` is not given)."""
    from accountrisk.training.review.history import decision_history, linked_ids

    if ring is None and engine is not None:
        ring = _read_ring(engine, score.as_of, score.account_id, None)
    return decision_history(workdir, score.account_id, linked_ids(score, ring),
                            before=score.as_of)


def write_reports(folder: str | Path, scores: Sequence[AccountScore], *, engine: Any = None,
                  accounts: Mapping[str, Mapping[str, Any]] | None = None,
                  timelines: Mapping[str, Mapping[str, Any]] | None = None,
                  rings: Mapping[str, Mapping[str, Any] | None] | None = None,
                  expected_log_odds: float | None = None,
                  title: str = "Review queue",
                  progress: Callable[[str, float, float], None] | None = None,
                  workdir: str | Path | None = None) -> ReportFiles:
    """Write ``index.html`` and one ``case-….html`` per score into ``folder``.

    Account rows, timelines and rings come from the mappings when given, else from
    ``engine`` (see :func:`case_inputs`), else are left out. ``progress(step, done,
    total)`` is called after each page. With ``workdir``, each page lists the earlier
    decisions on the account and its linked accounts from that work directory's store.
    """
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    links = {s.account_id: case_file_name(s.account_id) for s in scores}
    files = ReportFiles(index=out / INDEX_FILE)
    profiles: dict[str, Mapping[str, Any] | None] = {}
    read = _read_batch(engine, scores) if engine is not None else {}
    # Looked up per ring member; converting the queue's list for every page is quadratic.
    score_of = {s.account_id: (s.score, s.band) for s in scores}
    decided = _read_decisions(workdir, scores)
    for s in scores:
        inputs: dict[str, Any] = {"account": None, "timeline": None, "ring": None,
                                  "entities": None}
        if engine is not None:
            inputs = {"account": read["account"].get(s.account_id, {}),
                      "timeline": read["timeline"].get(s.account_id),
                      "ring": _read_ring(engine, s.as_of, s.account_id, score_of),
                      "entities": read["entities"].get(s.account_id)}
        for key, given in (("account", accounts), ("timeline", timelines), ("ring", rings)):
            if given is not None and s.account_id in given:
                inputs[key] = given[s.account_id]
        profiles[s.account_id] = inputs["account"]
        history = None
        if decided is not None:
            from accountrisk.training.review.history import history_of, linked_ids

            history = history_of(decided, s.account_id, linked_ids(s, inputs["ring"]),
                                 before=s.as_of)
        page = render_case_report(s, expected_log_odds=expected_log_odds, links=links,
                                  index_href=INDEX_FILE, decisions=history, **inputs)
        path = out / links[s.account_id]
        path.write_text(page, encoding="utf-8")
        files.cases[s.account_id] = path
        if progress:
            progress(f"case reports {len(files.cases):,}/{len(scores):,}", len(files.cases),
                     len(scores))
    names = {a: (p or {}).get("display_name") for a, p in profiles.items()}
    files.index.write_text(render_index(scores, links, title=title, names=names),
                           encoding="utf-8")
    return files
