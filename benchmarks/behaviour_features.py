"""Benchmark: do the behavioural signals separate fronted accounts from honest look-alikes?

For each development seed it generates a marketplace (cached under --data), computes every
feature as of the generation end and joins the ground truth. Then:

1. per feature, ROC AUC of fronted accounts against all honest accounts, against *busy*
   honest accounts (at least as many sessions as the 10th percentile of fronted ones, so
   volume alone cannot separate them) and against each look-alike group;
2. a quick LightGBM on the ground truth (the project's parameters and monotone
   constraints), trained on half of the seeds and tested on the other half and back, with
   and without the behaviour features, and without each of them in turn: ROC AUC,
   average precision, recall in the top 1% and the AUC against each look-alike group.

Models are fitted on feature *views*: the hour family, the network family, and every
feature but links to other accounts (shared IPs, devices, payouts, portfolio items, link
groups: what is left when a fronted account shares nothing).
``--thin`` keeps only accounts, sessions and labels (a thin export).

    python benchmarks/behaviour_features.py --seeds 101 110 --drop-one
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import numpy as np
import polars as pl

from _data import ensure_data  # benchmarks/ is on sys.path when run as a script

# The features this benchmark judges (the rest are the baseline they must add to).
BEHAVIOUR_FEATURES = (
    "activity_claimed_weekend_ratio",
    "activity_claimed_morning_ratio",
    "activity_claimed_evening_ratio",
    "activity_longest_break_days",
    "activity_active_week_ratio",
    "session_claimed_night_ratio",
    "session_claimed_business_hours_ratio",
    "session_implied_offset_gap_hours",
    "session_claimed_weekend_ratio",
    "session_claimed_morning_ratio",
    "session_active_days_per_week",
    "session_longest_break_days",
    "session_active_week_ratio",
    "browser_offset_gap_distinct_count",
    "routed_session_ratio",
    "is_usual_ip_country_abroad",
)
# Features about links to other accounts: a fronted cell that shares nothing has none.
LINK_WORDS = ("shared", "confirmed", "near_duplicate", "link_", "copy_newer")
THIN_TABLES = ("accounts", "sessions", "labels")
GROUPS = ("vpn_user", "household", "coworking", "agency", "it_support", "crypto",
          "traveler", "night_owl", "nomad")
FOLDS = 2
PLAIN_KEEP_ONE_IN = 5  # models train on a fifth of the plain honest accounts, weighted 5
TREES = 200
SHAPE = (4, 15)


def thin_copy(folder: Path, root: Path) -> Path:
    """A copy of ``folder`` with only the thin export's tables (and the ground truth)."""
    out = root / (folder.name + "-thin")
    if not out.exists():
        tmp = root / (folder.name + "-thin.tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        for name in (*THIN_TABLES, "ground_truth"):
            shutil.copy(folder / f"{name}.parquet", tmp / f"{name}.parquet")
        tmp.rename(out)
    return out


def code_version() -> str:
    """A hash of the feature code, so cached feature tables are recomputed when it changes."""
    import hashlib

    import accountrisk.features as package

    digest = hashlib.sha256()
    for path in sorted(Path(package.__file__).parent.rglob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def load_seed(root: Path, accounts: int, seed: int, mode: str, thin: bool) -> pl.DataFrame:
    from accountrisk.features.api import compute_features

    folder, summary, _ = ensure_data(root, accounts, seed, mode)
    if thin:
        folder = thin_copy(folder, root)
    cached = root / f"features-{folder.name}-{code_version()}.parquet"
    if cached.exists():
        features = pl.read_parquet(cached)
    else:
        work = root / f"work-{folder.name}"
        shutil.rmtree(work, ignore_errors=True)
        features = pl.from_arrow(compute_features(folder, summary["end"], workdir=work))
        shutil.rmtree(work, ignore_errors=True)
        features.write_parquet(cached)
    truth = pl.read_parquet(folder / "ground_truth.parquet").select(
        "account_id", "is_fronted", "lookalike")
    return features.join(truth, on="account_id").with_columns(seed=pl.lit(seed))


def auc(y: np.ndarray, score: np.ndarray) -> float:
    """ROC AUC with ties counted half; NaN scores rank lowest (unknown, not risky)."""
    from sklearn.metrics import roc_auc_score

    score = np.where(np.isnan(score), -np.inf, score)
    finite = score[np.isfinite(score)]
    low = (finite.min() - 1.0) if len(finite) else 0.0
    return float(roc_auc_score(y, np.where(np.isfinite(score), score, low)))


def groups(frame: pl.DataFrame) -> dict[str, pl.Expr]:
    """Honest comparison groups as filters: all, busy and each look-alike category."""
    busy = frame.filter(pl.col("is_fronted"))["session_count"].quantile(0.1) or 0.0
    out = {"all": ~pl.col("is_fronted"),
           "busy": ~pl.col("is_fronted") & (pl.col("session_count") >= busy)}
    out |= {g: pl.col("lookalike") == g for g in GROUPS}
    return out


def separation(frame: pl.DataFrame, score: np.ndarray) -> dict[str, float]:
    """AUC of ``score`` (one value per row of ``frame``): fronted against each group."""
    fronted = frame["is_fronted"].to_numpy()
    out = {}
    for name, expr in groups(frame).items():
        honest = frame.select(expr.fill_null(False)).to_series().to_numpy()
        keep = fronted | honest
        if honest.sum() and fronted.sum():
            out[name] = auc(fronted[keep].astype(int), score[keep])
    return out


def feature_table(frame: pl.DataFrame, names: list[str]) -> None:
    heads = ["all", "busy", *GROUPS]
    print("| feature | known fronted | known honest | " + " | ".join(h[:8] for h in heads)
          + " |")
    print("|---|---|---|" + "---|" * len(heads))
    fronted = frame.filter(pl.col("is_fronted"))
    honest = frame.filter(~pl.col("is_fronted"))
    for name in names:
        score = frame[name].cast(pl.Float64).fill_null(np.nan).to_numpy()
        got = separation(frame, score)
        known = [1 - part[name].is_null().mean() for part in (fronted, honest)]
        print(f"| `{name}` | {known[0]:.2f} | {known[1]:.2f} | "
              + " | ".join(f"{got.get(h, float('nan')):.3f}" for h in heads) + " |")


def fit_predict(train: pl.DataFrame, test: pl.DataFrame, names: list[str]) -> np.ndarray:
    """Raw scores of ``test`` from a model fitted on ``train`` (plain honest accounts, the
    easy bulk, subsampled and weighted back up)."""
    from accountrisk.training.model import fit_one, params_for

    def matrix(part: pl.DataFrame) -> np.ndarray:
        return part.select(names).cast(pl.Float64).fill_null(np.nan).to_numpy()

    plain = ~pl.col("is_fronted") & pl.col("lookalike").is_null()
    keep = pl.int_range(pl.len()).shuffle(seed=5) % PLAIN_KEEP_ONE_IN == 0
    train = train.filter(~plain | keep)
    weight = train.select(pl.when(plain).then(PLAIN_KEEP_ONE_IN).otherwise(1)).to_series()
    y = train["is_fronted"].to_numpy().astype(float)
    fit = fit_one(matrix(train), y, weight.to_numpy().astype(float), names, [],
                  params_for(names, SHAPE, seed=1), rounds=TREES)
    return fit.booster.predict(matrix(test), raw_score=True)


def model_scores(frame: pl.DataFrame, names: list[str]) -> dict[str, float]:
    """Mean over the folds (seed halves) of the test metrics of a model on ``names``."""
    from sklearn.metrics import average_precision_score

    seeds = sorted(frame["seed"].unique().to_list())
    results: list[dict[str, float]] = []
    for fold in range(FOLDS):
        test_seeds = seeds[fold::FOLDS]
        test = frame.filter(pl.col("seed").is_in(test_seeds))
        train = frame.filter(~pl.col("seed").is_in(test_seeds))
        score = fit_predict(train, test, names)
        y = test["is_fronted"].to_numpy()
        top = np.argsort(-score)[: max(1, len(score) // 100)]
        got = {"roc_auc": auc(y.astype(int), score),
               "avg_precision": float(average_precision_score(y, score)),
               "recall_top1pct": float(y[top].sum() / max(y.sum(), 1))}
        got |= {f"auc_{k}": v for k, v in separation(test, score).items() if k != "all"}
        results.append(got)
    return {k: float(np.mean([r[k] for r in results])) for k in results[0]}


def views(columns: list[str]) -> dict[str, list[str]]:
    """Feature sets the models are compared on: the hour family, the network family and
    every feature that is not a link to another account."""
    from accountrisk.features import signals  # noqa: F401  (registers every family)
    from accountrisk.features.registry import FEATURES

    def family(name: str) -> str:
        return FEATURES[name].family if name in FEATURES else ""

    unlinked = [c for c in columns if not any(w in c for w in LINK_WORDS)]
    return {"hours": [c for c in unlinked if family(c) == "working_hours"],
            "network": [c for c in unlinked if family(c) == "access"],
            "behaviour": unlinked,
            "all": columns}


def model_table(frame: pl.DataFrame, view: str, names: list[str], new: list[str],
                drop_one: bool, add_one: bool) -> None:
    added = [n for n in names if n in new]
    base = [n for n in names if n not in new]
    rows = [("baseline", base), ("baseline + new", base + added)]
    if drop_one:
        rows += [(f"without {n}", [c for c in base + added if c != n]) for n in added]
    if add_one:
        rows += [(f"baseline + {n}", base + [n]) for n in added]
    print(f"\n# {view}: {len(base)} baseline features, {len(added)} new\n")
    heads: list[str] = []
    for label, chosen in rows:
        got = model_scores(frame, chosen)
        if not heads:
            heads = list(got)
            print("| model | " + " | ".join(h.replace("auc_", "") for h in heads) + " |")
            print("|---|" + "---|" * len(heads))
        print(f"| {label} | " + " | ".join(f"{got[h]:.4f}" for h in heads) + " |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs=2, default=[101, 110],
                        help="first and last seed (development seeds only)")
    parser.add_argument("--accounts", type=int, default=20_000)
    parser.add_argument("--data", type=Path, default=Path("bench-data"))
    parser.add_argument("--mode", default="behaviour",
                        help="generator mode (behaviour: fronted cells share nothing)")
    parser.add_argument("--thin", action="store_true",
                        help="keep only accounts, sessions and labels (a thin export)")
    parser.add_argument("--views", nargs="*", default=["hours", "network", "all"],
                        choices=["hours", "network", "behaviour", "all"],
                        help="feature sets to fit models on (none: feature AUCs only)")
    parser.add_argument("--drop-one", action="store_true",
                        help="also fit each view without each of its new features")
    parser.add_argument("--add-one", action="store_true",
                        help="also fit each view's baseline with each new feature alone")
    args = parser.parse_args()
    first, last = args.seeds
    if any(7000 <= s <= 7999 or 9000 <= s <= 9999 for s in range(first, last + 1)):
        sys.exit("seeds 7000-7999 and 9000-9999 are reserved for final reporting")

    frame = pl.concat([load_seed(args.data, args.accounts, s, args.mode, args.thin)
                       for s in range(first, last + 1)], how="diagonal_relaxed")
    columns = [c for c in frame.columns if c not in ("account_id", "is_fronted", "lookalike",
                                                      "seed")
               and frame[c].dtype.is_numeric()]
    new = [c for c in BEHAVIOUR_FEATURES if c in columns]
    print(f"# {args.mode} mode, {frame.height:,} accounts, {int(frame['is_fronted'].sum())} "
          f"fronted, seeds {first}-{last}{', thin export' if args.thin else ''}\n")
    feature_table(frame, new)
    for view, names in views(columns).items():
        if view in args.views:
            model_table(frame, view, names, new, args.drop_one and view != "behaviour",
                        args.add_one and view != "behaviour")


if __name__ == "__main__":
    main()
