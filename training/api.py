"""Training entry points: from a contract folder to a registered, verifiable model.

:func:`train` loads the folder, builds the point-in-time training set, fits the model (or,
with too few labels, falls back to the red-flag rule score, and says so), writes the model
directory and logs and registers it in MLflow. :func:`promote` (from :mod:`.promotion`)
moves the ``champion`` alias when the challenger wins on recent decisions.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from ..features.engines import check_engine, open_engine
from ..features.errors import UsageError
from ..features.pipeline import parse_as_of
from ..features.sources import shown
from ..features.workspace import DEFAULT_WORKDIR, folder_fingerprint
from . import evaluation as ev
from . import model as lgbm
from .bundle import write_bundle
from .dataset import TrainingSet, build_training_set, describe, fingerprint
from .drift import training_reference
from .fitting import Built, fit_bundle
from .matrix import feature_matrix
from .promotion import PromoteResult, promote  # noqa: F401  (re-exported)
from .snapshots import POPULATION_SAMPLE
from .unlabelled import AUTO, STRATEGIES
from .unlabelled import DEFAULT as DEFAULT_UNLABELLED

Say = Callable[[str], None]


@dataclass
class TrainResult:
    """What :func:`train` made: kind ("model" or "rules"), directory, registry URI."""

    kind: str
    model_dir: Path
    metadata: dict[str, Any]
    uri: str | None = None
    version: str | None = None
    run_id: str | None = None
    notes: list[str] = field(default_factory=list)


def prepare(data_dir: str | Path, as_of: str | datetime, *,
            workdir: str | Path = DEFAULT_WORKDIR, snapshot_days: int = 30,
            unlabelled_sample: int = 20_000, seed: int = 0,
            memory_limit: str | None = None, say: Say | None = None,
            engine: str = "duckdb", master: str | None = None,
            population_sample: int = POPULATION_SAMPLE) -> TrainingSet:
    """Validate and load ``data_dir`` (reusing the work directory) and build its
    point-in-time training set as of ``as_of``. ``memory_limit`` caps DuckDB (e.g. "4GB";
    larger work spills to disk). ``engine="spark"`` computes the snapshot features on Spark
    (``master``, default ``local[2]``); fitting stays on this machine.
    ``population_sample``: at most this many accounts active at T (a seeded uniform
    sample) stand for the population the review bands and drift reference are read from."""
    say = say or (lambda message: None)
    moment = parse_as_of(as_of)
    say(f"loading {shown(data_dir)}" + (" on Spark" if engine == "spark" else ""))
    with open_engine(engine, data_dir=data_dir, workdir=workdir, memory_limit=memory_limit,
                     master=master) as opened:
        return build_training_set(opened, moment, snapshot_days=snapshot_days,
                                  unlabelled_sample=unlabelled_sample, seed=seed, say=say,
                                  population_sample=population_sample)


def train(data_dir: str | Path, as_of: str | datetime, *, model_dir: str | Path | None = None,
          seed: int = 0, workdir: str | Path = DEFAULT_WORKDIR,
          unlabelled: str = DEFAULT_UNLABELLED, unlabelled_weight: float = 1.0,
          snapshot_days: int = 30, unlabelled_sample: int = 20_000,
          bands: Sequence[tuple[str, float]] = ev.DEFAULT_BANDS,
          threads: int = lgbm.THREADS, memory_limit: str | None = None,
          register: bool = True, plots: bool = True, say: Say | None = None,
          engine: str = "duckdb", master: str | None = None,
          rule_point_log_odds: float | None = None,
          population_sample: int = POPULATION_SAMPLE) -> TrainResult:
    """Train on decisions made before ``as_of``; write the model directory; log and
    register it in MLflow (skipped with ``register=False``).

    ``engine="spark"`` builds the snapshot features on Spark (see :func:`prepare`).
    ``rule_point_log_odds`` is what each red-flag point adds to the trees' log-odds (0: the
    trees alone; None, the default: 1 with fewer than 50 confirmed accounts, else 0.5; see
    :mod:`.selection`).
    ``unlabelled`` is "auto" (see :mod:`.selection`) or one of
    :data:`~.unlabelled.STRATEGIES`. Settings are chosen on temporal validation and the
    final model is refit on every decision before T; a rules-only bundle (kind "rules") is
    written when labels are too few or the rules validate better.
    A folder with ``ground_truth.parquet`` (generated data) also gets ground-truth metrics,
    for reporting only. ``population_sample``: see :func:`prepare`.
    """
    say = say or (lambda message: None)
    moment = parse_as_of(as_of)
    check_engine(engine, master)  # fail before the slow part, not after it
    if snapshot_days < 1:
        raise UsageError(f"snapshot_days must be at least 1 (got {snapshot_days})")
    if population_sample < 1:
        raise UsageError("the population sample (population_sample, --population-sample) "
                         f"must be at least 1 account (got {population_sample})")
    if rule_point_log_odds is not None and not 0 <= rule_point_log_odds < float("inf"):
        raise UsageError("the red flags' weight (rule_point_log_odds, --rule-weight) must "
                         f"be 0 or more (got {rule_point_log_odds})")
    if unlabelled != AUTO and unlabelled not in STRATEGIES:
        raise UsageError(f"unknown unlabelled strategy {unlabelled!r}; choose one of "
                         f"{', '.join((AUTO, *STRATEGIES))}")
    started = time.perf_counter()
    ts = prepare(data_dir, moment, workdir=workdir, snapshot_days=snapshot_days,
                 unlabelled_sample=unlabelled_sample, seed=seed, memory_limit=memory_limit,
                 say=say, engine=engine, master=master, population_sample=population_sample)
    seconds_features = time.perf_counter() - started
    notes = describe(ts)
    for line in notes:
        say(line)
    fit_started = time.perf_counter()
    built = fit_bundle(ts, truth=ev.load_ground_truth(data_dir), unlabelled=unlabelled,
                       unlabelled_weight=unlabelled_weight, seed=seed, threads=threads,
                       rule_point_log_odds=rule_point_log_odds,
                       bands=bands, say=say)
    seconds_fit = time.perf_counter() - fit_started
    if built.kind == "rules":
        notes.append(f"rules-only: {built.metadata['cold_start_reason']}")
    metadata = built.metadata
    metadata["training"] = {
        "as_of": moment.isoformat(), "periods": ts.periods, "counts": ts.counts,
        "snapshots": [s.isoformat() for s in ts.snapshots],
        "snapshot_days": snapshot_days, "seed": seed,
        "unlabelled": unlabelled, "unlabelled_weight": unlabelled_weight,
        "folder": shown(data_dir), "folder_fingerprint": folder_fingerprint(data_dir),
        "data_fingerprint": fingerprint(ts.rows, ["account_id", *ts.features, "_snapshot",
                                                  "_label", "_holdout", "_weight"])}
    metadata["reference"] = training_reference(ts.final, metadata, built.booster)
    directory = Path(model_dir) if model_dir else (
        Path(workdir) / "models" / f"{moment:%Y%m%dT%H%M%S}-seed{seed}")
    write_bundle(directory, metadata,
                 built.booster.model_to_string() if built.booster is not None else None)
    say(f"wrote model directory {directory} (kind {built.kind})")
    result = TrainResult(kind=built.kind, model_dir=directory, metadata=metadata, notes=notes)
    if not register:
        return result
    from .tracking import log_training_run

    with tempfile.TemporaryDirectory() as tmp:
        files = _plots(Path(tmp), ts, built, seed) if plots else []
        flat = {f"{scope}_{scorer}_{k}": v for scope, by in metadata["metrics"].items()
                for scorer, values in by.items() for k, v in values.items()}
        flat.update({f"count_{k}": float(v) for k, v in ts.counts.items()})
        flat.update(seconds_features=seconds_features, seconds_fit=seconds_fit)
        registered = log_training_run(directory, metadata, params=_params(metadata),
                                      metrics=flat, plots=files,
                                      run_name=f"train {moment:%Y-%m-%d} seed {seed}")
    result.uri, result.version = registered.uri, registered.version
    result.run_id = registered.run_id
    say(f"registered {registered.uri} (MLflow run {registered.run_id}, aliases: challenger"
        f"{', champion' if registered.champion else ''})")
    return result


def _params(metadata: dict[str, Any]) -> dict[str, Any]:
    training = metadata["training"]
    params = {"kind": metadata["kind"], "as_of": training["as_of"], "seed": training["seed"],
              "unlabelled": training["unlabelled"],
              "unlabelled_weight": training["unlabelled_weight"],
              "snapshot_days": training["snapshot_days"],
              "feature_count": len(metadata["features"]),
              "data_fingerprint": training["data_fingerprint"],
              "calibration": metadata["calibration"]["method"],
              "bands": {b["name"]: b["share"] for b in metadata["bands"]},
              "common_flags": {c["name"]: round(c["weight_kept"], 3)
                               for c in metadata.get("common_flags", [])}}
    selection = metadata.get("selection") or {}
    params["validation"] = selection.get("validation", "none")
    if metadata["kind"] == "model":
        fit = metadata["final_fit"]
        params.update(max_depth=metadata["params"]["max_depth"],
                      num_leaves=metadata["params"]["num_leaves"], trees=metadata["trees"],
                      learning_rate=metadata["params"]["learning_rate"],
                      chosen_unlabelled=fit["unlabelled"], rule_prior=fit["prior"],
                      rule_point_log_odds=fit.get("rule_point_log_odds", 0.0),
                      final_fit_positives=fit["positives"],
                      final_fit_negatives=fit["negatives"],
                      final_fit_unlabelled_rows=fit["unlabelled_rows"],
                      final_fit_read_at_as_of=fit.get("decided_read_at_t", False))
    return params


def _plots(folder: Path, ts: TrainingSet, built: Built, seed: int) -> list[Path]:
    """The run's PNG plots (model runs only; a rules fallback has nothing to compare)."""
    from . import plots

    if built.booster is None:
        return []
    a, m = built.arrays, built.metadata
    files = [plots.pr_curves(a["y"], {"model": a["raw_valid"], "rules": a["rule_valid"]},
                             folder / "pr_curves.png"),
             plots.calibration_curve(a["raw_valid"], a["y"], m["calibration"],
                                     folder / "calibration.png"),
             plots.model_size(a["curves"], folder / "model_size.png")]
    final = ts.final.take(plots.sample_rows(ts.final.num_rows, seed))
    x = feature_matrix(final, m["features"], m["categories"])
    contrib = lgbm.model_contributions(built.booster, built.prior, x, m["features"],
                                       m["threads"])
    files.append(plots.importance(contrib, m["features"], folder / "importance.png"))
    swarm = plots.beeswarm(contrib, x, m["features"], folder / "shap_beeswarm.png")
    if swarm is not None:
        files.append(swarm)
    return files
