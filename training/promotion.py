"""The promotion gate: ``champion`` moves to the challenger only if it wins, head to head,
on the same recent decisions of the folder given, with features computed point in time.

The evaluation period is the decisions made after both models' training as-of times when
there are enough of them (at least ``MIN_EACH`` confirmed and cleared); otherwise the latest
``validation_share`` of the decision period, which the models may have seen (the run says
so). The challenger must beat the champion's PR-AUC by more than ``min_gain``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast

import numpy as np
import pyarrow.compute as pc

from ..features.errors import TrainingError
from ..features.pipeline import parse_as_of
from ..features.sources import shown
from ..features.validate import require_usable
from ..features.workspace import DEFAULT_WORKDIR, ensure_loaded, open_database
from .bundle import Bundle
from .dataset import build_training_set, latest_decisions
from .matrix import column
from .metrics import evaluate
from .predict import probabilities, raw_scores
from .review.labels import overlay_decisions

MIN_EACH = 5
Say = Callable[[str], None]


@dataclass
class PromoteResult:
    """The gate's decision, its reason and the numbers behind it."""

    promoted: bool
    reason: str
    champion: str | None
    challenger: str | None
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)
    run_id: str | None = None


def _trained_until(bundle: Bundle) -> datetime:
    return parse_as_of(bundle.metadata["training"]["as_of"])


def head_to_head(bundles: dict[str, Bundle], engine: Any, as_of: datetime, *,
                 snapshot_days: int = 30, validation_share: float = 0.25, seed: int = 0,
                 say: Say | None = None) -> tuple[dict[str, dict[str, float]], dict[str, Any]]:
    """Metrics of each bundle on the same recent decisions; and what the period was."""
    say = say or (lambda message: None)
    decisions = latest_decisions(engine, as_of)
    if len(decisions["label"]) == 0:
        raise TrainingError("the folder has no decisions before the as-of time: nothing to "
                            "compare the models on")
    until = max(_trained_until(b) for b in bundles.values())
    fresh = decisions["decided_at"] >= np.datetime64(until, "us")
    labels = decisions["label"][fresh]
    if np.sum(labels == 1) >= MIN_EACH and np.sum(labels == 0) >= MIN_EACH:
        since = until
        period = f"decisions from {until:%Y-%m-%d} (after both models' training data)"
    else:
        first = decisions["decided_at"].min().astype(datetime)
        last = decisions["decided_at"].max().astype(datetime)
        since = first + (last - first) * (1.0 - validation_share)
        period = (f"the latest {validation_share:.0%} of the decision period, from "
                  f"{since:%Y-%m-%d}: too few decisions after both models' training data, so "
                  "the models may have seen some of these")
    say(f"comparing on {period}")
    ts = build_training_set(engine, as_of, snapshot_days=snapshot_days, since=since,
                            unlabelled_sample=5000, seed=seed, say=say)
    labelled = ts.rows.filter(ts.rows.column("_labelled"))
    population = ts.rows.filter(pc.invert(ts.rows.column("_labelled")))
    y = np.nan_to_num(column(labelled, "_label"))
    out = {}
    for name, bundle in bundles.items():
        raw = raw_scores(bundle, labelled)
        pop = raw_scores(bundle, population) if population.num_rows else None
        out[name] = evaluate(y, raw, probability=probabilities(bundle, raw), population=pop)
    return out, {"since": since.isoformat(), "period": period, "as_of": as_of.isoformat(),
                 "decisions": int(len(y)), "confirmed": int(y.sum())}


def promote(data_dir: str | Path, as_of: str | datetime | None = None, *,
            workdir: str | Path = DEFAULT_WORKDIR, min_gain: float = 0.0,
            snapshot_days: int = 30, say: Say | None = None) -> PromoteResult:
    """Move ``champion`` to the ``challenger`` version if it wins on recent decisions.

    ``as_of`` defaults to just after the folder's latest decision.
    """
    from . import tracking

    say = say or (lambda message: None)
    versions = tracking.aliases()
    champion, challenger = versions[tracking.CHAMPION], versions[tracking.CHALLENGER]
    if challenger is None:
        raise TrainingError("no model has the 'challenger' alias yet; run `accountrisk train` "
                            "first")
    if champion == challenger:
        reason = f"version {challenger} is already the champion; nothing to promote"
        return PromoteResult(False, reason, champion, challenger)
    if champion is None:
        tracking.log_promotion(champion="none", challenger=challenger, metrics={},
                               params={}, promoted=True, reason="there was no champion")
        return PromoteResult(True, "there was no champion", None, challenger)
    say(f"loading champion v{champion} and challenger v{challenger}")
    bundles = {"champion": tracking.load_version(champion),
               "challenger": tracking.load_version(challenger)}
    with open_database(workdir) as engine:
        require_usable(ensure_loaded(engine, data_dir), data_dir)
        overlay_decisions(engine, workdir)
        if as_of is None:
            latest = engine.scalar("SELECT max(decided_at) FROM labels") \
                if "labels" in engine.tables() else None
            if latest is None:
                raise TrainingError(f"{shown(data_dir)} has no labels: nothing to compare on")
            moment = cast(datetime, latest) + timedelta(seconds=1)  # a TIMESTAMP column
        else:
            moment = parse_as_of(as_of)
        metrics, period = head_to_head(bundles, engine, moment, snapshot_days=snapshot_days,
                                       say=say)
    old, new = metrics["champion"]["pr_auc"], metrics["challenger"]["pr_auc"]
    if np.isnan(old) or np.isnan(new):
        promoted = False
        reason = "the evaluation period has no confirmed account; PR-AUC is undefined"
    elif new > old + min_gain:
        promoted = True
        reason = (f"challenger v{challenger} beats champion v{champion}: PR-AUC {new:.4f} vs "
                  f"{old:.4f} on {period['decisions']} decisions ({period['confirmed']} "
                  f"confirmed), {period['period']}")
    else:
        promoted = False
        reason = (f"challenger v{challenger} does not beat champion v{champion}: PR-AUC "
                  f"{new:.4f} vs {old:.4f} (needs more than {old + min_gain:.4f}) on "
                  f"{period['decisions']} decisions ({period['confirmed']} confirmed), "
                  f"{period['period']}")
    flat = {f"{who}_{k}": v for who, values in metrics.items() for k, v in values.items()}
    params = {**period, "min_gain": min_gain, "champion_kind": bundles["champion"].kind,
              "challenger_kind": bundles["challenger"].kind}
    run_id = tracking.log_promotion(champion=champion, challenger=challenger, metrics=flat,
                                    params=params, promoted=promoted, reason=reason)
    return PromoteResult(promoted, reason, champion, challenger, metrics, run_id)
