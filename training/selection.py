"""Choose a model's settings on temporal validation: unlabelled strategy, prior, shape, trees.

Candidates are fit on each validation fold's training rows and score that fold's validation
decisions (:mod:`.validation`); the out-of-fold scores are pooled and compared by PR-AUC of
the confirmed against the cleared accounts.

Why a default that validation must clearly beat, rather than the best validation score:
validation can only see the fronted accounts that were caught, and many are not. Treating
the unlabelled population as negatives (``negatives``, ``pu``), or starting from the red
flags (the prior), raises the caught kind and lowers the kind that evades; validation
rewards that and cannot see the cost. Measured on generated marketplaces of every mode
against their ground truth (docs/training.md), the best validation score often picked a
model that found far fewer fronts, while one setting was close to the best everywhere:
decisions only (``ignore``), no prior, shallow trees (depth 2), 100 trees.

So: with enough cleared decisions to learn from, the strategy is ``ignore`` and validation
does not choose it (it would choose with a bias); without them (a marketplace exporting
only its bans) validation chooses between ``negatives`` (the default) and ``pu``. Where
fewer than ``MIN_JUDGED_CLEARED`` cleared decisions validate (an export of bans alone), any
score would validate at PR-AUC 1: the confirmed accounts are ranked against the held-out
unlabelled accounts instead. That judge is biased against settings that find the uncaught
fronts among them, so it chooses no settings and only judges the red flags and the rules;
the defaults stay, larger with at least ``MANY_POSITIVES`` confirmed accounts (a platform
exporting thousands of bans: depth 2 and 100 trees underfit them). With few confirmed
accounts (under ``PRIOR_BELOW_POSITIVES``) the rule prior is a candidate too.
A strategy or the prior replaces the default only when it wins by more than two bootstrap
standard errors; then tree shape and count are chosen, another one replacing the default
when it wins by more than two (one from ``MANY_POSITIVES`` confirmed accounts:
:func:`.margins.size_margin_se`) on the score that ships (its trees plus the red flags below)
without trailing the default on its trees alone: on the trees alone, a size that barely
fits can win on tens of decisions by luck and ship as little more than the flags, and on
the shipped score alone, one whose trees are worse can win by leaving the ranking to the
flags; last, trees that may not split on the neighbour aggregates
(``nbr_*``: hundreds of columns on a platform with many attributes and relations, noise
where its signal lies in the accounts' own attributes) replace the chosen ones when they
win by more than two.
The red-flag rule score is judged on the same decisions, so a run knows whether its model
beats the rules it would otherwise fall back to.

A model without the prior ships with the red flags added on top of its trees: each capped
red-flag point adds :data:`RULE_POINT_LOG_ODDS` to the raw score (a prior fitted to
nothing, applied after the trees). Trees learnt from tens of decisions rank the kind of
front those decisions caught; the flags keep the kinds they missed in view. Measured on
development marketplaces of every generator mode (docs/training-log.md) this never
cost more than 0.01 PR-AUC and gained up to 0.11 at realistic prevalence, where the model
alone lost to the rules. The pooled out-of-fold scores include the added points, so the
comparison with the rules and the calibration see the score that ships. Trees learnt
from fewer than :data:`PRIOR_BELOW_POSITIVES` confirmed accounts get the flags at twice
that weight (:data:`FEW_LABELS_RULE_POINT_LOG_ODDS`): on every development marketplace at
realistic prevalence (29 to 42 confirmed) 1 log-odds a point ranked the ground truth at
least as well as 0.5, and better on most; with 90 and more confirmed it cost up to 0.02
(docs/training-log.md). The flags are left off only where validation shows that
the marketplace's decisions do not follow them (a crowd-work platform banning for work
quality, where a banned co-worker is everyday): adding them costs more than two standard
errors of PR-AUC, or they rank the decisions no better than chance (their ROC AUC stays
under :data:`CHANCE_ROC_AUC` even two standard errors up; a sure verdict that needs
hundreds of decisions, so tens of them keep the flags). Against held-out unlabelled
accounts (an export of bans alone) only chance is judged: the fronts nobody caught count
as cleared there, and the flags that find them would look like a cost.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..features.errors import TrainingError
from ..features.signals.neighbours.naming import PREFIX as NEIGHBOUR_PREFIX
from . import model as lgbm
from .dataset import TrainingSet, times_of
from .decision_sample import as_scored
from .judge import MIN_JUDGED_CLEARED, Judge
from .margins import (
    MANY_POSITIVES,
    SETTING_MARGIN_SE,
    rules_beat_model,
    size_margin_se,
)
from .matrix import column, feature_matrix
from .metrics import average_precision
from .prior import RulePrior, fit_prior
from .rules import Rule, rule_points
from .unlabelled import SELECTION_ROWS, STRATEGIES, design, thinned
from .validation import Plan

DEFAULT_SHAPE = (2, 3)
DEFAULT_TREES = 100
MANY_POSITIVES_SIZE = ((3, 7), 200)  # where validation cannot choose the size
MIN_CLEARED = 20  # cleared decisions needed to train on decisions alone
PRIOR_BELOW_POSITIVES = 50  # the rule prior is a candidate with fewer confirmed accounts
RULE_POINT_LOG_ODDS = 0.5  # log-odds a red-flag point adds to a model without the prior
# Flags whose ROC AUC on the validation decisions stays below this even two standard errors
# up rank them no better than chance: the marketplace does not decide by them.
CHANCE_ROC_AUC = 0.55
FEW_LABELS_RULE_POINT_LOG_ODDS = 1.0  # ... trained on fewer than PRIOR_BELOW_POSITIVES
Say = Callable[[str], None]


@dataclass(frozen=True)
class Candidate:
    """One combination of settings."""

    strategy: str
    prior: bool
    shape: tuple[int, int]
    trees: int
    neighbours: bool = True  # whether the trees may split on the neighbour aggregates

    def to_json(self) -> dict[str, Any]:
        return {"unlabelled": self.strategy, "prior": self.prior, "max_depth": self.shape[0],
                "num_leaves": self.shape[1], "trees": self.trees,
                "neighbour_aggregates": self.neighbours}

    def muted(self, features: Sequence[str]) -> list[str]:
        """The features its trees may not split on."""
        return [] if self.neighbours else neighbour_aggregates(features)


def neighbour_aggregates(features: Sequence[str]) -> list[str]:
    """The ``nbr_*`` columns among ``features``."""
    return [f for f in features if f.startswith(NEIGHBOUR_PREFIX)]


@dataclass
class Selection:
    """What validation found: the chosen candidate, every candidate's score, the rules' score
    on the same decisions, and the pooled out-of-fold scores (for calibration and reports)."""

    chosen: Candidate
    table: list[dict[str, Any]]
    valid_mask: np.ndarray  # validation decisions every candidate compared scored
    oof: np.ndarray  # chosen candidate's out-of-fold raw score (NaN where not validated)
    population_mask: np.ndarray  # held-out unlabelled rows the chosen candidate scored
    rules_raw: np.ndarray  # rule points of every row
    model_pr_auc: float
    rules_pr_auc: float
    rules_win: bool = False  # the rules beat the model (:func:`rules_beat_model`)
    rules_gain_se: float = float("nan")  # the standard error of the rules' gain over it
    rules_added: float = 0.0  # log-odds per red-flag point added to the trees' score
    curves: list[dict[str, Any]] = field(default_factory=list)


def candidate_settings(ts: TrainingSet, strategies: Sequence[str]
                       ) -> tuple[list[tuple[str, bool]], tuple[str, bool], str]:
    """The (strategy, prior) pairs validation compares, the default among them, and why."""
    positives, cleared = ts.counts.get("positives", 0), ts.counts.get("negatives", 0)
    priors = (False, True) if positives < PRIOR_BELOW_POSITIVES else (False,)
    if len(strategies) == 1:
        chosen, why = list(strategies), f"the unlabelled strategy {strategies[0]} was given"
    elif "ignore" in strategies and cleared >= max(MIN_CLEARED, positives / 4):
        chosen, why = ["ignore"], (f"{cleared:,} cleared decisions are enough to learn from "
                                   "decisions alone (ignore)")
    else:
        chosen = [s for s in strategies if s != "ignore"] or list(strategies)
        why = (f"only {cleared:,} cleared decisions: validation chooses how the unlabelled "
               f"accounts stand in for them ({', '.join(chosen)})")
    pairs = [(s, p) for s in chosen for p in priors]
    return pairs, (chosen[0], False), why


def rule_point_weight(ts: TrainingSet, given: float | None) -> tuple[float, str]:
    """Log-odds a red-flag point adds to a model without the prior, and why (for the run's
    message): ``given`` when set, else by the number of confirmed accounts (module doc)."""
    if given is not None:
        return given, ""
    positives = ts.counts.get("positives", 0)
    if positives < PRIOR_BELOW_POSITIVES:
        return FEW_LABELS_RULE_POINT_LOG_ODDS, (f": trees from {positives} confirmed "
                                                f"accounts, under {PRIOR_BELOW_POSITIVES}")
    return RULE_POINT_LOG_ODDS, ""


@dataclass
class _Fold:
    """One fold's designs (per unlabelled strategy), priors and validation matrix."""

    designs: dict[str, Any]
    priors: dict[str, RulePrior | None]
    x: np.ndarray  # every row's; the validation rows are taken when scored, not held
    valid: np.ndarray


def _prepare_fold(ts: TrainingSet, x: np.ndarray, train: np.ndarray, valid: np.ndarray, *,
                  strategies: Sequence[str], categorical: list[str], rules: Sequence[Rule],
                  seed: int, unlabelled_weight: float) -> _Fold:
    label = column(ts.rows, "_label")
    labelled = column(ts.rows, "_labelled").astype(bool)
    snapshot = times_of(ts.rows)
    designs, priors = {}, {}
    for strategy in strategies:
        if strategy == "ignore" and len(set(label[train & labelled].tolist())) < 2:
            continue  # decisions of one kind only: nothing to learn without the population
        rows = train & labelled if strategy == "ignore" else train  # all `ignore` reads
        d = thinned(design(strategy, x[rows], label[rows], labelled[rows],
                           features=ts.features, categorical=categorical, seed=seed,
                           weight=unlabelled_weight, snapshot=snapshot[rows]),
                    SELECTION_ROWS, seed)
        if 0 < d.y.sum() < len(d.y):
            designs[strategy] = d
            priors[strategy] = fit_prior(d.x, d.y, d.w, ts.features, rules)
    return _Fold(designs, priors, x, valid)


def _grow(fold: _Fold, strategy: str, use_prior: bool, shape: tuple[int, int],
          trees: Sequence[int], features: Sequence[str], categorical: list[str], seed: int,
          threads: int, neighbours: bool = True) -> dict[Candidate, np.ndarray]:
    """Validation raw scores of one (strategy, prior, shape) at every tree count."""
    d, prior = fold.designs[strategy], fold.priors[strategy] if use_prior else None
    muted = Candidate(strategy, use_prior, shape, 0, neighbours).muted(features)
    fit = lgbm.fit_one(d.x, d.y, d.w, features, categorical,
                       lgbm.params_for(features, shape, seed, threads, muted=muted),
                       rounds=max(trees),
                       init_score=prior.margin(d.x, features) if prior is not None else None)
    xv = fold.x[fold.valid]  # on millions of rows the folds' copies weigh as much as x
    start = prior.margin(xv, features) if prior is not None else 0.0
    return {Candidate(strategy, use_prior, shape, t, neighbours):
            lgbm.raw_margin(fit.booster, xv, threads, trees=t) + start for t in trees}


def _flags_for_sizes(judge: Judge[Candidate], pair: Candidate, points: np.ndarray,
                     weight: float, rule_point_log_odds: float | None) -> np.ndarray:
    """The red flags (weight times points) the sizes are judged with: those the chosen
    strategy and prior would ship with at the default size (module doc)."""
    if pair.prior or not weight:
        return np.zeros_like(points)
    if rule_point_log_odds is None:
        rows = judge.rows([pair])
        trees = average_precision(judge.y[rows], judge.oof[pair][rows])
        weight, _ = _flags_that_pay(judge, pair, rows, weight * points, weight, "", trees)
    return weight * points


def _flags_that_pay(judge: Judge[Candidate], chosen: Candidate, rows: np.ndarray, flags: np.ndarray,
                    weight: float, why: str, trees_pr_auc: float) -> tuple[float, str]:
    """The red-flag weight to add, and why: ``weight`` unless adding the flags (``flags``:
    the points times the weight) costs the validation decisions more than
    ``SETTING_MARGIN_SE`` standard errors of PR-AUC (not judged against held-out unlabelled
    accounts), or the flags surely rank them no better than chance
    (:data:`CHANCE_ROC_AUC`). A marketplace whose decisions do not follow the advisories'
    flags (a crowd-work platform banning for task quality, where a link to a banned
    co-worker is everyday) would otherwise rank below its own trees; where the flags merely
    fail to help, they stay for the kinds of front the decisions missed."""
    # Against held-out unlabelled accounts (bans alone) the fronts nobody caught count as
    # cleared: the flags that find them look like a cost there, so only chance is judged.
    if not judge.against_unlabelled:
        with_flags = judge.oof[chosen] + flags
        cost = trees_pr_auc - average_precision(judge.y[rows], with_flags[rows])
        se = judge.gain_se(rows, with_flags, {"trees": judge.oof[chosen]}).get("trees", np.inf)
        if cost > SETTING_MARGIN_SE * se:
            return 0.0, (f"; the red flags are left off: adding them ({weight:g} log-odds a "
                         f"point) cost {cost:.3f} on these decisions, more than "
                         f"{SETTING_MARGIN_SE:g} standard errors ({se:.3f})")
    auc, auc_se = judge.roc_auc_se(rows, flags)
    if auc + SETTING_MARGIN_SE * auc_se < CHANCE_ROC_AUC:
        how = ("give every one of these decisions the same points"
               if np.ptp(flags[rows]) == 0 else
               f"rank these decisions no better than chance (ROC AUC {auc:.3f}, standard "
               f"error {auc_se:.3f})")
        return 0.0, (f"; the red flags are left off: this marketplace does not decide by "
                     f"them (they {how})")
    return weight, why


def select(ts: TrainingSet, plan: Plan, *, categories: dict[str, list[str]],
           rules: Sequence[Rule], seed: int = 0, threads: int = lgbm.THREADS,
           strategies: Sequence[str] = STRATEGIES,
           shapes: Sequence[tuple[int, int]] = lgbm.SHAPES,
           trees: Sequence[int] = lgbm.TREE_COUNTS, unlabelled_weight: float = 1.0,
           rule_point_log_odds: float | None = None,
           say: Say | None = None) -> Selection:
    """Choose settings on the folds of ``plan`` (see the module doc): strategy and prior at
    the default size first, then tree shape and count for the chosen pair.
    ``rule_point_log_odds`` (0 turns it off; None: :func:`rule_point_weight`) is what each
    red-flag point adds to a model chosen without the prior."""
    say = say or (lambda message: None)
    features, categorical = ts.features, list(categories)
    x = feature_matrix(ts.rows, features, categories)
    settings, (strategy0, prior0), why = candidate_settings(ts, strategies)
    judge = Judge[Candidate](ts, [f.valid for f in plan.folds], seed)
    shape0 = DEFAULT_SHAPE if DEFAULT_SHAPE in shapes else shapes[0]
    trees0 = DEFAULT_TREES if DEFAULT_TREES in trees else trees[len(trees) // 2]
    if judge.against_unlabelled:
        # Ranking the confirmed above unlabelled accounts, some of them fronts nobody
        # caught, is a biased judge of settings: the defaults stay (module doc).
        many_shape, many_trees = MANY_POSITIVES_SIZE
        if (ts.counts.get("positives", 0) >= MANY_POSITIVES and many_shape in shapes
                and many_trees in trees):
            (shape0, trees0), why = MANY_POSITIVES_SIZE, why + (
                f"; {ts.counts['positives']:,} confirmed accounts, at least {MANY_POSITIVES:,}:"
                " the larger default size")
        settings, shapes, trees = [(strategy0, prior0)], [shape0], [trees0]
        why += ("; too few cleared decisions to choose settings on: the defaults stay, "
                "and the held-out unlabelled accounts stand in for the cleared only to "
                "judge the red flags and the rules")
    # Only the strategies compared get a design per fold: Elkan-Noto fits two models each.
    compared = [s for s in strategies if any(s == chosen for chosen, _ in settings)]
    folds = []
    for k, fold in enumerate(plan.folds):
        folds.append(_prepare_fold(ts, x, fold.train, fold.valid, strategies=compared,
                                   categorical=categorical, rules=rules, seed=seed,
                                   unlabelled_weight=unlabelled_weight))
        sampled = max((d.notes.get("sampled_from_rows", 0)
                       for d in folds[-1].designs.values()), default=0)
        say(f"validation {k + 1} of {len(plan.folds)} ({fold.label}): "
            f"{int(fold.train.sum()):,} training rows, {int(fold.valid.sum()):,} judged"
            + (f" (its fits sample {SELECTION_ROWS:,} of up to {sampled:,} design rows, "
               "weighted for the rest)" if sampled else ""))

    def grow(strategy: str, use_prior: bool, shape_list, tree_list,
             neighbours: bool = True) -> list[Candidate]:
        made = set()
        say(f"fitting {strategy}{' with the rule prior' if use_prior else ''}"
            f"{'' if neighbours else ', trees blind to the neighbour aggregates'}: "
            f"{len(shape_list)} tree shape(s) up to {max(tree_list)} trees on each fold")
        for f in folds:
            if strategy in f.designs and (not use_prior or f.priors[strategy] is not None):
                for shape in shape_list:
                    found = _grow(f, strategy, use_prior, shape, tree_list, features,
                                  categorical, seed, threads, neighbours)
                    judge.add(f.valid, found)
                    made |= set(found)
        return sorted(made, key=lambda c: (c.shape, c.trees))

    say(why)
    pairs = [Candidate(s, p, shape0, trees0) for s, p in settings]
    for c in pairs:
        grow(c.strategy, c.prior, [shape0], [trees0])
    pairs = [c for c in pairs if c in judge.oof]
    if not pairs:
        raise TrainingError("no candidate model could be fit on the validation folds: "
                            "check that the decisions hold both confirmed and cleared "
                            "accounts, or give unlabelled accounts (--unlabelled negatives)")
    wanted = Candidate(strategy0, prior0, shape0, trees0)
    default = wanted if wanted in judge.oof else pairs[0]
    pair, first, first_se, _ = judge.pick(default, pairs, SETTING_MARGIN_SE)
    # The red-flag points as the flags will see each account when it is scored: in an
    # export stamped with one date, from its row just after the instant where it has one.
    points = as_scored(ts.rows, ts.after_instant, lambda t: rule_points(t, rules))
    weight, weight_why = rule_point_weight(ts, rule_point_log_odds)
    # Sizes are judged on the score that ships: the trees plus the flags they will carry.
    shipped_flags = _flags_for_sizes(judge, pair, points, weight, rule_point_log_odds)
    sizes = grow(pair.strategy, pair.prior, shapes, trees)
    chosen, judged, se, rows = judge.pick(pair, sizes,
                                          size_margin_se(ts.counts.get("positives", 0)),
                                          offset=shipped_flags)
    scores = judge.scores(sizes, rows)
    with_neighbours = chosen
    aggregates = [features.index(f) for f in neighbour_aggregates(features)]
    if (not judge.against_unlabelled and not chosen.prior
            and np.isfinite(x[:, aggregates]).any()):
        alone = grow(chosen.strategy, False, [chosen.shape], trees, neighbours=False)
        chosen, own_judged, own_se, own_rows = judge.pick(
            chosen, [chosen, *alone], SETTING_MARGIN_SE, offset=shipped_flags)
        scores |= judge.scores(alone, own_rows)
        judged |= own_judged
        sizes += alone
        se |= {c: own_se[c] for c in alone if c in own_se}
    added = 0.0 if chosen.prior else weight
    if added and rule_point_log_odds is None:
        added, weight_why = _flags_that_pay(judge, chosen, rows, added * points, added,
                                            weight_why, scores[chosen])
    oof = judge.oof[chosen] + added * points
    model_pr_auc = average_precision(judge.y[rows], oof[rows])
    rules_pr_auc = average_precision(judge.y[rows], points[rows])
    rules_se = judge.gain_se(rows, oof, {"rules": points}).get("rules", np.inf)
    rules_win = rules_beat_model(rules_pr_auc, model_pr_auc, rules_se)
    table = ([{**c.to_json(), "stage": "strategy and prior", "pr_auc": first[c],
               "gain_se": first_se.get(c), "chosen": c == pair} for c in pairs]
             + [{**c.to_json(), "stage": "size" if c.neighbours else "neighbour aggregates",
                 "pr_auc": scores[c], "pr_auc_with_flags": judged[c], "gain_se": se.get(c),
                 "chosen": c == chosen} for c in sizes])
    curves = [{"max_depth": s[0], "num_leaves": s[1], "trees": list(trees),
               "curve": [scores.get(Candidate(pair.strategy, pair.prior, s, t), float("nan"))
                         for t in trees], "chosen": s == chosen.shape} for s in shapes]
    say(f"chose {chosen.strategy} unlabelled handling, "
        f"{'rule prior, ' if chosen.prior else ''}depth {chosen.shape[0]}, "
        f"{chosen.trees} trees"
        + ("" if chosen.neighbours else
           f", the trees without the neighbour aggregates (with them "
           f"{scores[with_neighbours]:.3f})")
        + f" (default {default.strategy}, depth {shape0[0]}, {trees0} "
        f"trees): validation PR-AUC {scores[chosen]:.3f} on {int(rows.sum()):,} "
        + ("decisions and held-out unlabelled accounts (standing in for the cleared: "
           f"under {MIN_JUDGED_CLEARED} cleared decisions validate)"
           if judge.against_unlabelled
           else "decisions")
        + (f", {model_pr_auc:.3f} with the red flags added ({added:g} log-odds a point"
           f"{weight_why})" if added else weight_why) + f"; red-flag rules {rules_pr_auc:.3f}")
    population = ~judge.labelled & ~np.isnan(oof)
    return Selection(chosen=chosen, table=table, valid_mask=rows & judge.labelled, oof=oof,
                     population_mask=population, rules_raw=points, model_pr_auc=model_pr_auc,
                     rules_pr_auc=rules_pr_auc, rules_win=bool(rules_win),
                     rules_gain_se=float(rules_se), rules_added=added,
                     curves=curves)
