"""From a point-in-time training set to everything a model directory holds.

:func:`fit_bundle` plans validation by label counts (:mod:`.validation`), chooses the
model's settings on it (:mod:`.selection`), decides model or red-flag rules by the same
validation, refits the chosen model on every decision before T, calibrates it on the
out-of-fold scores of the validation decisions, compares it with the rules, and derives the
review bands from the final snapshot. No files are written here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..features.pipeline import ATTRIBUTE_PREFIX
from ..features.registry import FEATURE_SET_VERSION
from . import evaluation as ev
from . import model as lgbm
from .calibration import apply_calibration, fit_calibration
from .dataset import TrainingSet, times_of
from .decision_effect import final_fit_rows
from .margins import RULES_MARGIN_SE, RULES_MIN_GAIN
from .matrix import category_levels, column, feature_matrix, is_category_column
from .prior import RulePrior, fit_prior
from .rules import (
    RULES,
    CommonFlag,
    Rule,
    rule_points,
    rule_score,
    rules_to_json,
    usable_rules,
    weighed_by_rarity,
)
from .selection import Selection, select
from .unlabelled import AUTO, STRATEGIES, design
from .validation import plan_validation

Say = Callable[[str], None]


@dataclass
class Built:
    """Metadata of a model directory, its booster (None for rules), and report arrays."""

    metadata: dict[str, Any]
    booster: Any = None
    arrays: dict[str, Any] = field(default_factory=dict)
    prior: RulePrior | None = None

    @property
    def kind(self) -> str:
        return str(self.metadata["kind"])


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


def categories_of(ts: TrainingSet) -> dict[str, list[str]]:
    """Category codes of the string ``attr_*`` columns, from every training row."""
    return {f: category_levels(column(ts.rows, f)) for f in ts.features
            if is_category_column(ts.rows, f)}


def _final_fit(ts: TrainingSet, selection: Selection, categories: dict[str, list[str]],
               rules: Sequence[Rule], *, seed: int, threads: int, unlabelled_weight: float
               ) -> tuple[Any, RulePrior | None, dict[str, Any]]:
    """The chosen settings refit on every training row (all decisions before T; read at T
    where the decisions did not stop the accounts, :mod:`.decision_effect`)."""
    chosen, features = selection.chosen, ts.features
    rows = final_fit_rows(ts.rows, ts.rows_at_t)
    labelled = column(rows, "_labelled").astype(bool)
    label = _labels(rows)
    # `ignore` reads the decisions alone: the matrix is built of their rows only.
    ignore = chosen.strategy == "ignore"
    read = np.flatnonzero(labelled) if ignore else np.arange(len(label))
    x = feature_matrix(rows, features, categories, rows=read if ignore else None)
    d = design(chosen.strategy, x, column(rows, "_label")[read], labelled[read],
               features=features, categorical=list(categories), seed=seed,
               weight=unlabelled_weight, snapshot=times_of(rows)[read])
    del x  # the design holds these rows or a matrix of its own: not both through the fit
    prior = fit_prior(d.x, d.y, d.w, features, rules) if chosen.prior else None
    init = prior.margin(d.x, features) if prior is not None else None
    fit = lgbm.fit_one(d.x, d.y, d.w, features, list(categories),
                       lgbm.params_for(features, chosen.shape, seed, threads,
                                       muted=chosen.muted(features)),
                       rounds=chosen.trees, init_score=init)
    if prior is None and selection.rules_added:
        # The red flags on top of trees fit without them (selection's module doc): a prior
        # of fixed weight, so scores and explanations go through the same code.
        prior = RulePrior.over(rules, features, selection.rules_added)
    used = {"positives": int(np.sum(labelled & (label == 1))),
            "negatives": int(np.sum(labelled & (label == 0))),
            "unlabelled_rows": int(len(d.y) - labelled.sum()) if chosen.strategy != "ignore"
            else 0, **chosen.to_json(), "rule_point_log_odds": selection.rules_added,
            "decided_read_at_t": ts.rows_at_t is not None, "notes": d.notes}
    return fit, prior, used


def _rules_bundle(ts: TrainingSet, rules: list[Rule], reason: str, truth: dict | None,
                  say: Say) -> tuple[Built, np.ndarray]:
    say(f"Using the red-flag rule score, not a trained model: {reason}. Retrain once there "
        "are enough decisions it can read.")
    read = sorted({c for r in rules for c in r.columns(ts.features)})
    built = Built({"kind": "rules", "features": read, "categories": {},
                   "calibration": {"method": "identity"}, "cold_start_reason": reason})
    labelled, population = ts.labelled(True), ts.labelled(False)
    y = _labels(labelled)
    metrics: dict[str, Any] = {}
    if len(y) and 0 < y.sum() < len(y):
        metrics["validation"] = ev.compare(
            y, {"rules": ev.Scored(rule_score(labelled, rules))},
            population={"rules": rule_score(population, rules)}
            if population.num_rows else None, rings=_rings(labelled, truth))
    final_raw = rule_score(ts.final, rules)
    if truth is not None:
        yt, rings_t = ev.truth_labels(ts.final, truth)
        metrics["ground_truth"] = ev.compare(yt, {"rules": ev.Scored(final_raw)},
                                             rings=rings_t)
    built.metadata["metrics"] = metrics
    return built, final_raw


def _model_bundle(ts: TrainingSet, selection: Selection, categories: dict[str, list[str]],
                  rules: list[Rule], truth: dict | None, *, seed: int, threads: int,
                  unlabelled_weight: float, plan_json: dict[str, Any], say: Say
                  ) -> tuple[Built, np.ndarray]:
    fit, prior, used = _final_fit(ts, selection, categories, rules, seed=seed,
                                  threads=threads, unlabelled_weight=unlabelled_weight)
    say(f"final model: {used['positives']:,} confirmed and {used['negatives']:,} cleared "
        f"decisions{' read at T' if used['decided_read_at_t'] else ''}, "
        f"{used['unlabelled_rows']:,} unlabelled rows ({used['unlabelled']})")
    features = ts.features
    decided, unlabelled = selection.valid_mask, selection.population_mask
    y = _labels(ts.rows)[decided]
    raw_valid, rule_valid = selection.oof[decided], selection.rules_raw[decided]
    calibration = fit_calibration(raw_valid, y)
    rules_calibration = fit_calibration(rule_valid, y)
    valid_rows = ts.rows.filter(decided)
    metrics: dict[str, Any] = {"validation": ev.compare(
        y, {"model": ev.Scored(raw_valid, ev.honest_probabilities(raw_valid, y, calibration)),
            "rules": ev.Scored(rule_valid, ev.honest_probabilities(rule_valid, y,
                                                                   rules_calibration))},
        population={"model": selection.oof[unlabelled],
                    "rules": selection.rules_raw[unlabelled]} if unlabelled.any() else None,
        rings=_rings(valid_rows, truth))}
    x_final = feature_matrix(ts.final, features, categories)
    final_raw = lgbm.margin(fit.booster, prior, x_final, features, threads)
    if truth is not None:
        yt, rings_t = ev.truth_labels(ts.final, truth)
        rule_final = rule_points(ts.final, rules)
        metrics["ground_truth"] = ev.compare(yt, {
            "model": ev.Scored(final_raw, apply_calibration(calibration, final_raw)),
            "rules": ev.Scored(rule_final, apply_calibration(rules_calibration, rule_final))},
            rings=rings_t)
    metadata = {"kind": "model", "features": features, "categories": categories,
                "monotone_constraints": lgbm.monotone_constraints(features),
                "calibration": calibration, "params": fit.params, "trees": used["trees"],
                "prior": prior.to_json() if prior is not None else None,
                "final_fit": used, "metrics": metrics,
                "selection": {**plan_json, "chosen": selection.chosen.to_json(),
                              "model_pr_auc": selection.model_pr_auc,
                              "rules_pr_auc": selection.rules_pr_auc,
                              "candidates": selection.table}}
    built = Built(metadata, fit.booster, {"curves": selection.curves, "raw_valid": raw_valid,
                                          "rule_valid": rule_valid, "y": y}, prior)
    return built, final_raw


def rules_win_reason(selection: Selection) -> str:
    """Why the rules ship instead of the model validation chose: both scores, the gain and
    its standard error (four decimals: a gain past its standard error can hide at three)."""
    gain = selection.rules_pr_auc - selection.model_pr_auc
    return (f"on validation the rules rank the decisions better than the chosen model "
            f"(PR-AUC {selection.rules_pr_auc:.4f} against {selection.model_pr_auc:.4f}, a "
            f"gain of {gain:.4f}, more than {RULES_MARGIN_SE:g} standard errors "
            f"({selection.rules_gain_se:.4f} each) and at least {RULES_MIN_GAIN})")


def marketplace_rules(ts: TrainingSet) -> tuple[list[Rule], list[CommonFlag]]:
    """The red flags ``ts`` can raise, weighed by how common each is among its accounts at
    T (:func:`.rules.weighed_by_rarity`), and the flags weighed down."""
    return weighed_by_rarity(ts.final, usable_rules(ts.features, RULES))


def fit_bundle(ts: TrainingSet, *, truth: dict | None = None, unlabelled: str = AUTO,
               unlabelled_weight: float = 1.0, seed: int = 0, threads: int = lgbm.THREADS,
               shapes: Sequence[tuple[int, int]] = lgbm.SHAPES,
               bands: Sequence[tuple[str, float]] = ev.DEFAULT_BANDS,
               rule_point_log_odds: float | None = None,
               say: Say | None = None) -> Built:
    """The model (or the rules, when validation says so or labels are too few) for ``ts``,
    with metrics, bands and reasons.

    ``unlabelled`` is a strategy of :mod:`.unlabelled` or "auto" (validation chooses).
    ``rule_point_log_odds``: what each red-flag point adds to a model chosen without the
    rule prior (0: trees alone; None: by the number of confirmed accounts; see
    :mod:`.selection`).
    ``truth`` (account -> (is_fronted, ring)) adds ground-truth metrics for generated data;
    it is used for reporting only.
    """
    say = say or (lambda message: None)
    rules, common = marketplace_rules(ts)
    if common:
        say("red flags common on this marketplace count less (share of active accounts "
            "they fire on, weight kept): " + ", ".join(
                f"{c.name} {c.rate:.0%} x{c.kept:.2f}" for c in common))
    plan = plan_validation(ts, seed)
    say(plan.describe() + (f" ({plan.reason})" if plan.kind == "random" else ""))
    plan_json = {"validation": plan.kind, "windows": [f.label for f in plan.folds],
                 "validation_note": plan.reason}
    if plan.kind == "none":
        built, final_raw = _rules_bundle(ts, rules, plan.reason, truth, say)
    else:
        categories = categories_of(ts)
        strategies = STRATEGIES if unlabelled == AUTO else (unlabelled,)
        selection = select(ts, plan, categories=categories, rules=rules, seed=seed,
                           threads=threads, strategies=strategies, shapes=shapes,
                           unlabelled_weight=unlabelled_weight,
                           rule_point_log_odds=rule_point_log_odds, say=say)
        if selection.rules_win:
            built, final_raw = _rules_bundle(ts, rules, rules_win_reason(selection), truth,
                                             say)
            built.metadata["selection"] = {**plan_json, "candidates": selection.table}
        else:
            built, final_raw = _model_bundle(ts, selection, categories, rules, truth,
                                             seed=seed, threads=threads,
                                             unlabelled_weight=unlabelled_weight,
                                             plan_json=plan_json, say=say)
    m = built.metadata
    m.update(feature_set_version=FEATURE_SET_VERSION, threads=threads,
             rules=rules_to_json(rules),
             common_flags=[{"name": c.name, "rate": c.rate, "weight_kept": c.kept}
                           for c in common],
             bands=ev.band_thresholds(final_raw, bands, ts.final_weight),
             reasons=reason_templates(m["features"]),
             descriptions={f: known.description for f in m["features"]
                           if (known := lgbm.described(f)) is not None})
    for scope, by_scorer in m["metrics"].items():
        for scorer, values in by_scorer.items():
            say(f"{scope} {scorer}: PR-AUC {values['pr_auc']:.3f}, ROC-AUC "
                f"{values['roc_auc']:.3f}, recall at 1% "
                f"{values.get('recall_at_1pct', float('nan')):.3f}")
    return built

