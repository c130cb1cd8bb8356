"""Model quality on marketplaces nobody tuned on: model vs rules vs a one-point checklist.

    python benchmarks/quality.py --seeds 7001 7002 [--modes classic realistic ...]

For each generator mode and fresh seed: generate a marketplace, train as of its end (the
whole `accountrisk train` path: training set, validation, final fit, no MLflow), score every
account active at T that had no decision before T, and compare three scorers against the
ground truth: the trained model (or the rules, if training fell back to them), the product's
red-flag rule score, and a plain checklist written from the advisories, one point per flag
(`_checklist.py`). Metrics: PR-AUC, ROC AUC, precision and recall in the top 1%, ring recall
in the top 1% (rings with a member flagged), the largest share of any look-alike group's
members in the top 1% (and which group), the same at a budget of as many accounts as there
are fronts (at 0.3% prevalence the top 1% has three slots per front, and the rest go to
someone), and the labels the final fit used. Ties count as ties (expected values over random
tie-breaking); `--plots DIR` draws, per run and scorer, the fronts found and each group's
members flagged at every budget from 0.1% to 5%. `--bans-only` exports each marketplace's
bans alone (the cleared decisions left out, those accounts judged with the rest), as some
platforms export their decisions.

Generated folders are cached under --data; work directories are rebuilt per run.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from _budget_plot import plot_budget
from _checklist import checklist_score  # benchmarks/ is on sys.path when run as a script
from _data import ensure_data

DEFAULT_ACCOUNTS = {"classic": 20_000, "realistic": 50_000, "behaviour": 20_000,
                    "platform": 12_000, "thin": 20_000}
BUDGET = 0.01


def _population(folder: Path, work: Path, as_of: str):
    """Feature rows of the accounts to judge, their truth, rings and look-alike groups."""
    from accountrisk.features.pipeline import build_features, parse_as_of
    from accountrisk.features.workspace import ensure_loaded, open_database
    from accountrisk.training.dataset import latest_decisions
    from accountrisk.training.snapshots import active_accounts

    moment = parse_as_of(as_of)
    with open_database(work) as engine:
        ensure_loaded(engine, folder)
        features = build_features(engine, moment)
        decided = set(latest_decisions(engine, moment)["account_id"].tolist())
        active = active_accounts(engine, moment, 30)
    ids = features.column("account_id").to_pylist()
    keep = [i for i, a in enumerate(ids) if a in active and a not in decided]
    rows = features.take(keep)
    truth = pq.read_table(folder / "ground_truth.parquet").to_pylist()
    by_id = {t["account_id"]: t for t in truth}
    chosen = [by_id[a] for a in rows.column("account_id").to_pylist()]
    y = np.array([1.0 if t["is_fronted"] else 0.0 for t in chosen])
    rings = [t["ring_id"] if t["is_fronted"] else None for t in chosen]
    lookalike = np.array([t["lookalike"] or "" for t in chosen], dtype=object)
    return rows, y, rings, lookalike


def _worst(shares: dict[str, float]) -> tuple[str, float]:
    """The group with the largest share, and that share ("", NaN without groups)."""
    worst = max(shares, key=shares.get) if shares else ""
    return worst, shares.get(worst, float("nan"))


def _metrics(y, score, rings, lookalike) -> dict[str, float | str]:
    from accountrisk.training.metrics import budget_threshold, evaluate, flag_probability

    out: dict[str, float | str] = dict(evaluate(y, score, rings=rings, budgets=(BUDGET,)))
    flagged = flag_probability(score, *budget_threshold(score, BUDGET))
    groups = sorted(set(lookalike) - {""})
    # Two readings of "a look-alike group in the top 1%": the share of the group's members
    # flagged, and the share of the flagged slots the group takes.
    shares = {g: float(flagged[lookalike == g].mean()) for g in groups}
    slots = {g: float(flagged[lookalike == g].sum() / flagged.sum()) for g in groups}
    out["lookalike_worst"], out["lookalike_max_share"] = _worst(shares)
    out["lookalike_worst_slot"], out["lookalike_max_slot_share"] = _worst(slots)
    out["lookalike_shares"] = json.dumps({k: round(v, 4) for k, v in shares.items()})
    out["lookalike_slot_shares"] = json.dumps({k: round(v, 4) for k, v in slots.items()})
    # The floor the look-alike shares are read against: legitimate accounts in no group.
    # When fewer fronts than top-1% slots are left to find, the rest of the slots go to
    # someone, and a group at the ordinary rate is ranked no worse than anyone else.
    ordinary = (y == 0) & (lookalike == "")
    out["ordinary_share"] = float(flagged[ordinary].mean()) if ordinary.any() else float("nan")
    # The members' share again at a budget of as many accounts as there are fronts to find:
    # where the top 1% holds more slots than fronts, this says whether a group ranks above
    # fronts or only fills the slots left over.
    at_fronts = flag_probability(score, *budget_threshold(score, max(y.sum(), 1) / len(y)))
    out["lookalike_worst_at_fronts"], out["lookalike_max_share_at_fronts"] = _worst(
        {g: float(at_fronts[lookalike == g].mean()) for g in groups})
    return out


def keep_bans_only(folder: Path) -> None:
    """Rewrite ``folder``'s labels as an export of bans alone: the cleared decisions are
    left out, so the accounts cleared look undecided (as some platforms export)."""
    import pyarrow.compute as pc

    labels = pq.read_table(folder / "labels.parquet")
    pq.write_table(labels.filter(pc.equal(labels.column("label"), 1)), folder / "labels.parquet")


def bans_alone(folder: Path) -> Path:
    """A copy of a generated marketplace exported as its bans alone (:func:`keep_bans_only`)."""
    copy = folder.with_name(folder.name + "-bans")
    if not copy.exists():
        shutil.copytree(folder, copy)
        keep_bans_only(copy)
    return copy


def run_one(mode: str, seed: int, accounts: int, root: Path, *,
            bans_only: bool = False, plots: Path | None = None) -> list[dict]:
    from accountrisk.training.api import train
    from accountrisk.training.bundle import read_bundle
    from accountrisk.training.predict import raw_scores
    from accountrisk.training.rules import rule_score, rules_from_json

    folder, summary, _ = ensure_data(root, accounts, seed, mode=mode)
    as_of = summary.get("end") or summary["parameters"]["end"]
    if bans_only:
        folder = bans_alone(folder)
    work = root / f"quality-work-{mode}-{accounts}-{seed}"
    shutil.rmtree(work, ignore_errors=True)
    started = time.perf_counter()
    result = train(folder, as_of, workdir=work, seed=0, register=False, plots=False,
                   say=lambda m: print(f"  {m}", file=sys.stderr, flush=True))
    train_s = time.perf_counter() - started
    rows, y, rings, lookalike = _population(folder, work, as_of)
    bundle = read_bundle(result.model_dir)
    shutil.rmtree(work, ignore_errors=True)
    fit = result.metadata.get("final_fit") or {}
    counts = result.metadata["training"]["counts"]
    used = (f"{fit.get('positives', 0)}+/{fit.get('negatives', 0)}-"
            + (f"/{fit['unlabelled_rows']}u" if fit.get("unlabelled_rows") else "")
            if fit else "rules: " + result.metadata.get("cold_start_reason", ""))
    shipped = np.asarray(raw_scores(bundle, rows), dtype=float)
    rules = rules_from_json(bundle.metadata["rules"])  # as weighed on this marketplace
    scorers = {f"model ({bundle.kind})": shipped, **trees_alone(bundle, rows, shipped),
               "rules": rule_score(rows, rules), "checklist": checklist_score(rows)}
    out = []
    for name, score in scorers.items():
        if plots is not None and (lookalike != "").any():
            tag = f"{mode}{'-bans' if bans_only else ''}-{seed}-{name.split(' (')[0]}"
            plot_budget(y, score, lookalike, plots / f"budget-{tag.replace(' ', '_')}.png",
                        f"{mode}{' (bans only)' if bans_only else ''}, seed {seed}: {name}")
        m = _metrics(y, score, rings, lookalike)
        m.update(mode=mode, export="bans only" if bans_only else "decisions", seed=seed,
                 scorer=name, accounts=accounts,
                 judged=len(y), fronted=int(y.sum()), labels_used=used, train_s=train_s,
                 confirmed_before_t=counts.get("positives", 0),
                 top_features=_top_features(bundle, rows) if name.startswith("model") else "")
        out.append(m)
    return out


def trees_alone(bundle, rows, shipped: np.ndarray, whose: str = "its"
                ) -> dict[str, np.ndarray]:
    """The shipped model's trees without the red-flag points it adds on top (none where it
    adds none): whether the flags help on this marketplace's truth."""
    from accountrisk.training.rules import rule_points, rules_from_json

    added = (bundle.metadata.get("final_fit") or {}).get("rule_point_log_odds", 0.0)
    if bundle.kind != "model" or not added:
        return {}
    rules = rules_from_json(bundle.metadata["rules"])
    return {f"{whose} trees alone (shipped adds {added:g} a flag point)":
            shipped - added * rule_points(rows, rules)}


def _top_features(bundle, rows, top: int = 5) -> str:
    """The features with the largest mean |contribution| over (a sample of) the judged rows:
    what the model ranks by."""
    from accountrisk.training.matrix import feature_matrix
    from accountrisk.training.model import model_contributions

    if bundle.kind != "model":
        return ""
    sample = rows.take(np.arange(0, rows.num_rows, max(1, rows.num_rows // 3000)))
    x = feature_matrix(sample, bundle.features, bundle.metadata.get("categories"))
    contrib = np.abs(model_contributions(bundle.booster, bundle.prior, x,
                                         bundle.features)[:, :-1]).mean(axis=0)
    return ", ".join(bundle.features[j] for j in np.argsort(-contrib)[:top])


HEAD = ("mode", "seed", "scorer", "PR-AUC", "ROC AUC", "P@1%", "R@1%", "ring R@1%",
        "worst look-alike: members in top 1%", "worst look-alike: share of top 1%",
        "ordinary legit: members in top 1%",
        "worst look-alike: members in the top k (k = fronts)", "labels used")


def _row(m: dict) -> str:
    shown = m["mode"] + (" (bans only)" if m.get("export") == "bans only" else "")
    cells = [shown, str(m["seed"]), m["scorer"]]
    cells += [f"{m[k]:.3f}" for k in ("pr_auc", "roc_auc", "precision_at_1pct",
                                      "recall_at_1pct", "ring_recall_at_1pct")]
    cells.append(f"{m['lookalike_max_share']:.1%} {m['lookalike_worst']}"
                 if m["lookalike_worst"] else "-")
    cells.append(f"{m['lookalike_max_slot_share']:.1%} {m['lookalike_worst_slot']}"
                 if m["lookalike_worst_slot"] else "-")
    cells.append(f"{m['ordinary_share']:.2%}")
    cells.append(f"{m['lookalike_max_share_at_fronts']:.1%} {m['lookalike_worst_at_fronts']}"
                 if m["lookalike_worst_at_fronts"] else "-")
    cells.append(m["labels_used"] if m["scorer"].startswith("model") else "")
    return "| " + " | ".join(cells) + " |"


def marketplace_parser(doc: str | None, seeds: list[int]) -> argparse.ArgumentParser:
    """The options every quality benchmark takes: where generated marketplaces are cached,
    which generator modes, which fresh seeds, and how many accounts."""
    parser = argparse.ArgumentParser(description=doc,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("bench-data/quality"))
    parser.add_argument("--modes", nargs="+", default=list(DEFAULT_ACCOUNTS))
    parser.add_argument("--seeds", type=int, nargs="+", default=seeds)
    parser.add_argument("--accounts", type=int, default=None,
                        help="accounts per marketplace (default: per mode)")
    return parser


def main() -> None:
    parser = marketplace_parser(__doc__, [7001, 7002])
    parser.add_argument("--json", type=Path, default=None, help="also write every metric here")
    parser.add_argument("--bans-only", action="store_true",
                        help="export each marketplace's bans alone (no cleared decisions)")
    parser.add_argument("--plots", type=Path, default=None,
                        help="draw who each review budget takes (fronts, each look-alike "
                             "group) per run and scorer into this folder")
    args = parser.parse_args()
    results = []
    for mode in args.modes:
        for seed in args.seeds:
            accounts = args.accounts or DEFAULT_ACCOUNTS[mode]
            print(f"# {mode} seed {seed}, {accounts:,} accounts", file=sys.stderr, flush=True)
            for m in run_one(mode, seed, accounts, args.data, bans_only=args.bans_only,
                             plots=args.plots):
                results.append(m)
                print(_row(m), file=sys.stderr, flush=True)
    print("| " + " | ".join(HEAD) + " |")
    print("|" + "---|" * len(HEAD))
    for m in results:
        print(_row(m))
    print("\nmean over seeds:")
    print("| mode | scorer | PR-AUC | ROC AUC | R@1% | worst look-alike: members in top 1% "
          "| worst look-alike: share of top 1% | ordinary legit: members in top 1% "
          "| worst look-alike: members in the top k (k = fronts) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for mode in args.modes:
        for scorer in dict.fromkeys(m["scorer"].split(" (")[0] for m in results
                                    if m["mode"] == mode):
            ms = [m for m in results if m["mode"] == mode and m["scorer"].startswith(scorer)]
            mean = {k: np.nanmean([m[k] for m in ms]) for k in
                    ("pr_auc", "roc_auc", "recall_at_1pct", "lookalike_max_share",
                     "lookalike_max_slot_share", "ordinary_share",
                     "lookalike_max_share_at_fronts")}
            print(f"| {mode} | {scorer} | {mean['pr_auc']:.3f} | {mean['roc_auc']:.3f} | "
                  f"{mean['recall_at_1pct']:.3f} | {mean['lookalike_max_share']:.1%} | "
                  f"{mean['lookalike_max_slot_share']:.1%} | {mean['ordinary_share']:.2%} | "
                  f"{mean['lookalike_max_share_at_fronts']:.1%} |")
    print("\nwhat each model ranks by (largest mean |contribution|):")
    for m in results:
        if m["top_features"]:
            print(f"- {m['mode']} {m['seed']}: {m['top_features']}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=float))


if __name__ == "__main__":
    main()
