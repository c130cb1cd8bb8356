"""Watching a model in use: how far today's population has moved from the one it was
trained on, and what reviewers decided since.

:func:`monitor` bins today's active accounts as the model directory's reference was binned
(:mod:`.drift`), computes PSI per feature and for the score, band shares, the label rate
among decisions since training and the precision of the queue as reviewers decided it
(confirmed among final decisions on accounts the queue showed), and flags a PSI above the
threshold on one of the model's top features or on the score.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..features.engines import open_engine
from ..features.pipeline import build_features, parse_as_of
from ..features.workspace import DEFAULT_WORKDIR
from . import drift
from .matrix import column
from .review.store import LABEL_OF, open_store
from .snapshots import active_accounts

DEFAULT_PSI_THRESHOLD = 0.25
DEFAULT_TOP_FEATURES = 10
ACTIVE_DAYS = 30  # as the training set's final snapshot
Say = Callable[[str], None]


@dataclass
class MonitorReport:
    """What :func:`monitor` found; ``drifted`` lists what crossed the threshold."""

    as_of: datetime
    model_version: str
    comparable: bool
    reason: str = ""
    trained_as_of: datetime | None = None
    population: int = 0
    psi: dict[str, float] = field(default_factory=dict)
    score_psi: float = 0.0
    top: list[str] = field(default_factory=list)
    bins: dict[str, tuple[list[float], list[float]]] = field(default_factory=dict)
    band_shares: dict[str, tuple[float, float]] = field(default_factory=dict)
    label_decisions: int = 0
    label_rate: float | None = None
    queue_decisions: int = 0
    queue_precision: float | None = None
    threshold: float = DEFAULT_PSI_THRESHOLD
    drifted: list[str] = field(default_factory=list)

    def metrics(self) -> dict[str, float]:
        """Flat numbers for MLflow."""
        out = {f"psi_{k}": v for k, v in self.psi.items()}
        out.update(psi_score=self.score_psi, population=float(self.population),
                   drifted_count=float(len(self.drifted)),
                   label_decisions=float(self.label_decisions),
                   queue_decisions=float(self.queue_decisions))
        out.update({f"band_share_{b or 'none'}": now for b, (_, now) in
                    self.band_shares.items()})
        if self.label_rate is not None:
            out["label_rate"] = self.label_rate
        if self.queue_precision is not None:
            out["queue_precision"] = self.queue_precision
        return out


def _decisions_since(engine: Any, workdir: str | Path, since: datetime, until: datetime
                     ) -> tuple[int, float | None, int, float | None]:
    t0, t1 = engine.dialect.timestamp_literal(since), engine.dialect.timestamp_literal(until)
    labels = engine.arrow(f"SELECT label FROM labels WHERE decided_at >= {t0} AND "
                          f"decided_at < {t1}") if "labels" in engine.tables() else None
    values = column(labels, "label") if labels is not None else np.array([])
    rate = float(np.mean(values == 1)) if len(values) else None
    shown = [d for d in open_store(workdir).read(before=until)
             if d.decided_at >= since and d.score is not None and d.decision in LABEL_OF]
    precision = (sum(d.decision == "confirmed_fronting" for d in shown) / len(shown)
                 if shown else None)
    return len(values), rate, len(shown), precision


def monitor(data_dir: str | Path, as_of: str | datetime, *, model: str,
            workdir: str | Path = DEFAULT_WORKDIR,
            psi_threshold: float = DEFAULT_PSI_THRESHOLD,
            top_features: int = DEFAULT_TOP_FEATURES, say: Say | None = None
            ) -> MonitorReport:
    """Compare the population of ``data_dir`` as of ``as_of`` with ``model``'s training
    reference (see the module doc). A model directory without a reference (trained
    before references were kept) gives ``comparable=False`` and says why."""
    from ..scoring.scorer import RiskScorer

    say = say or (lambda message: None)
    moment = parse_as_of(as_of)
    scorer = RiskScorer.load(model)
    meta = scorer.bundle.metadata
    reference = meta.get("reference")
    report = MonitorReport(as_of=moment, model_version=scorer.model_version,
                           comparable=reference is not None, threshold=psi_threshold)
    if reference is None:
        report.reason = (f"model {scorer.model_version} has no reference distributions (it "
                         "was trained before they were kept); retrain it to monitor drift")
        return report
    trained = parse_as_of(meta["training"]["as_of"])
    report.trained_as_of = trained
    with open_engine("duckdb", data_dir=data_dir, workdir=workdir) as engine:
        say(f"computing features as of {moment:%Y-%m-%d}")
        table = build_features(engine, moment)
        active = pa.array(sorted(active_accounts(engine, moment, ACTIVE_DAYS)), pa.string())
        table = table.filter(pc.is_in(table.column("account_id"), value_set=active))
        (report.label_decisions, report.label_rate, report.queue_decisions,
         report.queue_precision) = _decisions_since(engine, workdir, trained, moment)
    batch = scorer.score_features(table, as_of=moment, explain=False)
    report.population = table.num_rows
    for name, entry in reference["features"].items():
        if name in table.column_names:
            now = drift.shares(column(table, name), entry)
            report.psi[name] = drift.psi(entry["shares"], now)
            report.bins[name] = (list(entry["shares"]), now.tolist())
    now_scores = drift.shares(column(batch.frame, "raw_score"), reference["raw_score"])
    report.score_psi = drift.psi(reference["raw_score"]["shares"], now_scores)
    report.bins["score"] = (list(reference["raw_score"]["shares"]), now_scores.tolist())
    bands = batch.frame.column("band").to_pylist()
    for b in sorted(set(reference["band_shares"]) | set(bands)):
        report.band_shares[b] = (float(reference["band_shares"].get(b, 0.0)),
                                 bands.count(b) / max(1, len(bands)))
    report.top = drift.top_features(reference, top_features)
    report.drifted = [f for f in report.top if report.psi.get(f, 0.0) > psi_threshold]
    if report.score_psi > psi_threshold:
        report.drifted.append("score")
    return report


def log_monitor_run(report: MonitorReport, page: Path | None) -> str:
    """An MLflow run ``monitor <as-of>`` with the report's numbers (and its HTML page)."""
    from .tracking import _client

    mlflow, _ = _client()
    with mlflow.start_run(run_name=f"monitor {report.as_of:%Y-%m-%d}") as run:
        mlflow.log_metrics(report.metrics())
        mlflow.log_params({"as_of": report.as_of.isoformat(), "model": report.model_version,
                           "psi_threshold": report.threshold})
        mlflow.set_tags({"monitor": "drift" if report.drifted else "stable"})
        if page is not None:
            mlflow.log_artifact(str(page))
    return str(run.info.run_id)
