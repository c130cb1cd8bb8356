"""From a point-in-time training set to everything a model directory holds.

:func:`fit_bundle` fits the model (or, with too few labels, takes the red-flag rule score),
calibrates it on the late validation half, compares it with the rules on the same rows,
derives the review bands from the final snapshot, and returns the metadata and booster.
No files are written here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow.compute as pc

from ..features.pipeline import ATTRIBUTE_PREFIX
from ..features.registry import FEATURE_SET_VERSION
from . import evaluation as ev
from . import model as lgbm
from .calibration import apply_calibration, fit_calibration
from .dataset import EARLY, LATE, TRAIN, TrainingSet
from .matrix import category_levels, column, feature_matrix, is_category_column
from .rules import RULES, rule_score, rules_to_json, usable_rules
from .unlabelled import DEFAULT as DEFAULT_UNLABELLED
from .unlabelled import design

MIN_POSITIVES = 20
MIN_NEGATIVES = 20
Say = Callable[[str], None]


@dataclass
class Built:
    """Metadata of a model directory, its booster (None for rules), and report arrays."""

    metadata: dict[str, Any]
    booster: Any = None
    arrays: dict[str, Any] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return str(self.metadata["kind"])


def cold_start_reason(ts: TrainingSet) -> str | None:
    """Why there are too few labels to train a model, or None when there are enough."""
    c = ts.counts
    if c["labelled_accounts"] == 0:
        return "the folder has no decisions (labels) before the as-of time"
    if c[f"{TRAIN}_positives"] < MIN_POSITIVES or c[f"{TRAIN}_negatives"] < MIN_NEGATIVES:
        return (f"the training period has {c[f'{TRAIN}_positives']} confirmed and "
                f"{c[f'{TRAIN}_negatives']} cleared accounts; a model needs at least "
                f"{MIN_POSITIVES} of each")
    for part in (EARLY, LATE):
        if c[f"{part}_positives"] == 0 or c[f"{part}_negatives"] == 0:
            return (f"the {part} validation half has {c[f'{part}_positives']} confirmed and "
                    f"{c[f'{part}_negatives']} cleared accounts; validation needs both")
    return None


def reason_templates(features: Sequence[str]) -> dict[str, str]:
    """Reason template per feature from the registry, run-time names (neighbour
    aggregates) included (``attr_*``: "<name> is <value>")."""
    out = {}
    for name in features:
        known = lgbm.described(name)
        out[name] = known.reason if known else \
            f"{name.removeprefix(ATTRIBUTE_PREFIX)} is {{value}}"
    return out


def _labels(table: Any) -> np.ndarray:
    return np.nan_to_num(column(table, "_label"), nan=0.0)


def _rings(table: Any, truth: dict | None) -> list[object] | None:
    if truth is None:
        return None
    return [truth.get(a, (False, None))[1] for a in column(table, "account_id")]


@dataclass
class Matrices:
    """The fit's inputs: training design, early-validation set, feature layout."""

    features: list[str]
    categories: dict[str, list[str]]
    x: np.ndarray
    y: np.ndarray
    w: np.ndarray
    valid: tuple[np.ndarray, np.ndarray]
    notes: dict[str, Any]


def matrices(ts: TrainingSet, *, unlabelled: str = DEFAULT_UNLABELLED,
             unlabelled_weight: float = 1.0, seed: int = 0) -> Matrices:
    """Training rows after the unlabelled strategy, and the early-validation rows.

    Category codes come from the training part only, so they are stable and known at fit.
    """
    features = ts.features
    train_rows = ts.part(TRAIN)
    categories = {f: category_levels(column(train_rows, f)) for f in features
                  if is_category_column(train_rows, f)}
    x = feature_matrix(train_rows, features, categories)
    d = design(unlabelled, x, column(train_rows, "_label"), column(train_rows, "_labelled"),
               features=features, categorical=list(categories), seed=seed,
               weight=unlabelled_weight)
    # Model size is chosen on the early decisions alone: unlabelled rows would count the
    # fronted accounts nobody has caught yet as negatives and drown the signal.
    early = ts.part(EARLY, labelled=True)
    valid = (feature_matrix(early, features, categories), _labels(early))
    return Matrices(features, categories, d.x, d.y, d.w, valid, d.notes)


def _fit_model(ts: TrainingSet, *, unlabelled: str, unlabelled_weight: float, seed: int,
               threads: int, shapes: Sequence[tuple[int, int]], say: Say) -> Built:
    """Fit, choose the tree shape and calibrate."""
    mx = matrices(ts, unlabelled=unlabelled, unlabelled_weight=unlabelled_weight, seed=seed)
    features, categories, valid = mx.features, mx.categories, mx.valid
    say(f"fitting LightGBM on {len(mx.y):,} rows ({unlabelled} unlabelled handling), "
        f"choosing tree shape on {int(valid[1].sum())} early-validation confirmations")
    fit, choices = lgbm.choose_and_fit(mx.x, mx.y, mx.w, features, list(categories), valid,
                                       seed=seed, threads=threads, shapes=shapes)
    late = ts.part(LATE, labelled=True)
    raw_late = lgbm.raw_margin(fit.booster, feature_matrix(late, features, categories),
                               threads)
    calibration = fit_calibration(raw_late, _labels(late))
    metadata = {"kind": "model", "features": features, "categories": categories,
                "monotone_constraints": lgbm.monotone_constraints(features),
                "calibration": calibration, "params": fit.params, "trees": fit.best_iteration,
                "model_choice": choices["candidates"],
                "unlabelled_notes": mx.notes}
    return Built(metadata, fit.booster, {"choices": choices, "raw_late": raw_late})


def _score(table: Any, built: Built, threads: int) -> np.ndarray:
    x = feature_matrix(table, built.metadata["features"], built.metadata["categories"])
    return lgbm.raw_margin(built.booster, x, threads)


def fit_bundle(ts: TrainingSet, *, truth: dict | None = None,
               unlabelled: str = DEFAULT_UNLABELLED, unlabelled_weight: float = 1.0,
               seed: int = 0, threads: int = lgbm.THREADS,
               shapes: Sequence[tuple[int, int]] = lgbm.SHAPES,
               bands: Sequence[tuple[str, float]] = ev.DEFAULT_BANDS,
               say: Say | None = None) -> Built:
    """The model (or rules fallback) for ``ts``, with metrics, bands and reasons.

    ``truth`` (account -> (is_fronted, ring)) adds ground-truth metrics for generated data;
    it is used for reporting only.
    """
    say = say or (lambda message: None)
    rules = usable_rules(ts.features, RULES)
    rule_final = rule_score(ts.final, rules)
    metrics: dict[str, dict[str, dict[str, float]]] = {}
    cold = cold_start_reason(ts)
    if cold:
        say(f"Not enough labels to train a model: {cold}. Falling back to the red-flag "
            "rule score (kind 'rules'); retrain when more decisions exist.")
        built = Built({"kind": "rules", "features": [r.feature for r in rules],
                       "categories": {}, "calibration": {"method": "identity"},
                       "cold_start_reason": cold})
        final_raw = rule_final
        labelled = ts.rows.filter(ts.rows.column("_labelled"))
        population = ts.rows.filter(pc.invert(ts.rows.column("_labelled")))
        y = _labels(labelled)
        if len(y) and 0 < y.sum() < len(y):
            metrics["validation"] = ev.compare(
                y, {"rules": ev.Scored(rule_score(labelled, rules))},
                population={"rules": rule_score(population, rules)}
                if population.num_rows else None, rings=_rings(labelled, truth))
        if truth is not None:
            yt, rings_t = ev.truth_labels(ts.final, truth)
            metrics["ground_truth"] = ev.compare(yt, {"rules": ev.Scored(rule_final)},
                                                 rings=rings_t)
    else:
        built = _fit_model(ts, unlabelled=unlabelled, unlabelled_weight=unlabelled_weight,
                           seed=seed, threads=threads, shapes=shapes, say=say)
        calibration = built.metadata["calibration"]
        late = ts.part(LATE, labelled=True)
        late_pop = ts.part(LATE, labelled=False)
        y = _labels(late)
        raw_late = built.arrays["raw_late"]
        rule_late = rule_score(late, rules)
        rules_calibration = fit_calibration(rule_late, y)
        metrics["validation"] = ev.compare(
            y, {"model": ev.Scored(raw_late, ev.honest_probabilities(raw_late, y, calibration)),
                "rules": ev.Scored(rule_late, ev.honest_probabilities(rule_late, y,
                                                                      rules_calibration))},
            population={"model": _score(late_pop, built, threads),
                        "rules": rule_score(late_pop, rules)} if late_pop.num_rows else None,
            rings=_rings(late, truth))
        final_raw = _score(ts.final, built, threads)
        if truth is not None:
            yt, rings_t = ev.truth_labels(ts.final, truth)
            metrics["ground_truth"] = ev.compare(yt, {
                "model": ev.Scored(final_raw, apply_calibration(calibration, final_raw)),
                "rules": ev.Scored(rule_final, apply_calibration(rules_calibration,
                                                                 rule_final))},
                rings=rings_t)
        built.arrays.update(y=y, rule_late=rule_late)
    m = built.metadata
    m.update(feature_set_version=FEATURE_SET_VERSION, threads=threads,
             rules=rules_to_json(rules), metrics=metrics,
             bands=ev.band_thresholds(final_raw, bands),
             reasons=reason_templates(m["features"]),
             descriptions={f: known.description for f in m["features"]
                           if (known := lgbm.described(f)) is not None})
    for scope, by_scorer in metrics.items():
        for scorer, values in by_scorer.items():
            say(f"{scope} {scorer}: PR-AUC {values['pr_auc']:.3f}, ROC-AUC "
                f"{values['roc_auc']:.3f}, recall at 1% "
                f"{values.get('recall_at_1pct', float('nan')):.3f}")
    return built
