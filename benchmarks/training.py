"""Benchmarks and evidence for `accountrisk train`.

    python benchmarks/training.py time --sizes 100000 1000000
        Training time and peak memory per size, each in a fresh process: load + validate,
        point-in-time training set (one feature snapshot per 30 days), fit + calibrate +
        evaluate, MLflow logging and registration. Data is generated once into --data.
    python benchmarks/training.py settings --modes classic realistic thin --seeds 7101
        Every setting validation may choose (unlabelled strategy, rule prior, tree shape)
        fit on all decisions before T and judged against the ground truth of the accounts a
        reviewer would see: the evidence for the default validation must beat.
    python benchmarks/training.py quality --seed 424242
        Model against rules on a freshly generated marketplace: every metric, validation
        decisions and ground truth over all accounts active at T.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _data import ensure_data  # benchmarks/ is on sys.path when run as a script

CHILD = r"""
import json, os, resource, sys, time
from accountrisk.features.workspace import ensure_loaded, open_database
from accountrisk.training.api import train
data, work, as_of, db, limit = sys.argv[1:6]
os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{db}"
out, marks = {}, {}
t = time.perf_counter()
with open_database(work, memory_limit=limit or None) as engine:
    assert ensure_loaded(engine, data, force=True).usable
out["load_s"] = time.perf_counter() - t
def say(message):
    marks.setdefault(message.split(" ")[0], time.perf_counter())
    print(f"[{time.perf_counter() - t:7.1f}s] {message}", file=sys.stderr, flush=True)
t = time.perf_counter()
result = train(data, as_of, workdir=work, memory_limit=limit or None, say=say)
end = time.perf_counter()
out["total_s"] = end - t
out["training_set_s"] = marks.get("temporal", end) - t
out["fit_s"] = marks.get("wrote", end) - marks.get("temporal", end)
out["register_s"] = end - marks.get("wrote", end)
out["snapshots"] = len(result.metadata["training"]["snapshots"])
out["counts"] = result.metadata["training"]["counts"]
out["trees"] = result.metadata.get("trees")
out["shape"] = [result.metadata.get("params", {}).get(k) for k in ("max_depth", "num_leaves")]
out["uri"] = result.uri
out["peak_rss_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2
print(json.dumps(out))
"""

PRINTED = ("pr_auc", "roc_auc", "precision_at_0.5pct", "recall_at_0.5pct",
           "precision_at_1pct", "recall_at_1pct", "precision_at_2pct", "recall_at_2pct",
           "ring_recall_at_0.5pct", "ring_recall_at_1pct", "ring_recall_at_2pct", "brier")


def _end(summary: dict) -> str:
    return summary.get("end") or summary["parameters"]["end"]


def run_time(args: argparse.Namespace) -> None:
    rows = []
    for n in args.sizes:
        folder, summary, gen_s = ensure_data(args.data, n, args.seed)
        work = args.data / f"train-work-{n}"
        shutil.rmtree(work, ignore_errors=True)
        with tempfile.TemporaryDirectory() as tmp:
            done = subprocess.run([sys.executable, "-c", CHILD, str(folder), str(work),
                                   _end(summary), f"{tmp}/mlflow.db", args.memory_limit],
                                  check=True,
                                  stdout=subprocess.PIPE, text=True)
        shutil.rmtree(work, ignore_errors=True)
        out = json.loads(done.stdout.strip().splitlines()[-1])
        c = out["counts"]
        rows.append((n, gen_s, out["load_s"], out["training_set_s"], out["snapshots"],
                     out["fit_s"], out["register_s"], out["total_s"], out["peak_rss_gb"],
                     c["training_rows"], c["labelled_accounts"], out["trees"], out["shape"]))
        print(json.dumps(out), flush=True)
    head = ("accounts", "generate_s", "load_s", "training_set_s", "snapshots", "fit_s",
            "mlflow_s",
            "train_total_s", "peak_rss_gb", "training_rows", "decisions", "trees",
            "depth/leaves")
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for r in rows:
        print(f"| {r[0]:,} | {r[1]:.1f} | {r[2]:.1f} | {r[3]:.1f} | {r[4]} | {r[5]:.1f} | "
              f"{r[6]:.1f} | {r[7]:.1f} | {r[8]:.2f} | {r[9]:,} | {r[10]:,} | {r[11]} | "
              f"{r[12]} |")
    print("(train_total_s excludes load_s; training_set_s = feature snapshots; peak RSS of "
          "the whole training process)")


def run_settings(args: argparse.Namespace) -> None:
    """Every setting validation may choose, fit on all decisions before T, judged against
    the ground truth of the accounts a reviewer would be shown (active at T, undecided):
    the evidence for the default that validation must beat (training/selection.py)."""
    import numpy as np

    from accountrisk.training import model as lgbm
    from accountrisk.training.api import prepare
    from accountrisk.training.fitting import _final_fit, categories_of, marketplace_rules
    from accountrisk.training.matrix import feature_matrix
    from accountrisk.training.metrics import evaluate
    from accountrisk.training.rules import rule_score
    from accountrisk.training.selection import Candidate, Selection
    from quality import _population

    shapes = [tuple(int(v) for v in s.split("/")) for s in args.shapes]
    table = []
    for mode in args.modes:
        for seed in args.seeds:
            folder, summary, _ = ensure_data(args.data, args.accounts, seed, mode=mode)
            work = args.data / f"settings-work-{mode}-{args.accounts}-{seed}"
            shutil.rmtree(work, ignore_errors=True)
            ts = prepare(folder, _end(summary), workdir=work, seed=0)
            rows, y, rings, _ = _population(folder, work, _end(summary))
            shutil.rmtree(work, ignore_errors=True)
            print(f"# {mode} seed {seed}: {ts.counts.get('positives', 0)} confirmed, "
                  f"{ts.counts.get('negatives', 0)} cleared before T; judged {len(y):,} "
                  f"accounts, {int(y.sum())} fronted", flush=True)
            categories = categories_of(ts)
            rules, _ = marketplace_rules(ts)
            x = feature_matrix(rows, ts.features, categories)
            truth = evaluate(y, rule_score(rows, rules), rings=rings)
            table.append((mode, seed, "rules", truth["pr_auc"], truth["recall_at_1pct"], 0.0))
            for strategy in args.strategies:
                for prior in (False, True):
                    for shape in shapes:
                        chosen = Candidate(strategy, prior, shape, args.trees)
                        started = time.perf_counter()
                        fit, fitted_prior, _ = _final_fit(
                            ts, Selection(chosen, [], *([None] * 4), 0.0, 0.0), categories,
                            rules, seed=0, threads=lgbm.THREADS, unlabelled_weight=1.0)
                        score = lgbm.margin(fit.booster, fitted_prior, x, ts.features)
                        truth = evaluate(y, score, rings=rings)
                        name = (f"{strategy}{' +prior' if prior else ''} depth {shape[0]}/"
                                f"{shape[1]} leaves, {args.trees} trees")
                        table.append((mode, seed, name, truth["pr_auc"],
                                      truth["recall_at_1pct"], time.perf_counter() - started))
                        print(table[-1], flush=True)
    head = ("mode", "seed", "setting", "truth PR-AUC", "truth recall@1%", "fit_s")
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for r in table:
        print(f"| {r[0]} | {r[1]} | {r[2]} | {r[3]:.3f} | {r[4]:.3f} | {r[5]:.1f} |")
    print("\nmean over seeds:")
    for mode in args.modes:
        for name in dict.fromkeys(r[2] for r in table if r[0] == mode):
            values = np.array([r[3:5] for r in table if r[0] == mode and r[2] == name])
            print(f"| {mode} | {name} | {values[:, 0].mean():.3f} | {values[:, 1].mean():.3f} |")


def run_quality(args: argparse.Namespace) -> None:
    from accountrisk.training.api import train

    folder, summary, _ = ensure_data(args.data, args.accounts, args.seed)
    work = args.data / f"quality-work-{args.accounts}-{args.seed}"
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{tmp}/mlflow.db"
        result = train(folder, _end(summary), workdir=work, seed=0,
                       say=lambda m: print(m, file=sys.stderr, flush=True))
    m = result.metadata
    print(f"# seed {args.seed}, {args.accounts:,} accounts, as of {_end(summary)}; "
          f"unlabelled={m['training']['unlabelled']}, depth {m['params']['max_depth']}, "
          f"{m['params']['num_leaves']} leaves, {m['trees']} trees, calibration "
          f"{m['calibration']['method']}")
    print("# counts: " + json.dumps(m["training"]["counts"]))
    for scope, title in (("validation", "late validation decisions (budgets from the "
                                        "population at the same snapshots)"),
                         ("ground_truth", "ground truth, every account active at T")):
        metrics = m["metrics"][scope]
        print(f"\n{title}: {int(metrics['model']['rows']):,} rows, "
              f"{int(metrics['model']['positives']):,} positive")
        print("| metric | model | rules |")
        print("|---|---|---|")
        for key in PRINTED:
            print(f"| {key} | {metrics['model'].get(key, float('nan')):.3f} | "
                  f"{metrics['rules'].get(key, float('nan')):.3f} |")
    print("\nbands: " + json.dumps(m["bands"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("bench-data"))
    commands = parser.add_subparsers(dest="command", required=True)
    timing = commands.add_parser("time", help="training time and peak memory")
    timing.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    timing.add_argument("--seed", type=int, default=101)
    timing.add_argument("--memory-limit", default="", help="DuckDB memory limit, e.g. 4GB")
    settings = commands.add_parser("settings", help="every setting against ground truth")
    settings.add_argument("--modes", nargs="+", default=["classic", "realistic", "thin"])
    settings.add_argument("--seeds", type=int, nargs="+", default=[7101])
    settings.add_argument("--accounts", type=int, default=20_000)
    settings.add_argument("--strategies", nargs="+", default=["ignore", "negatives", "pu"])
    settings.add_argument("--shapes", nargs="+", default=["2/3", "3/7", "4/15"],
                          help="depth/leaves pairs")
    settings.add_argument("--trees", type=int, default=100)
    quality = commands.add_parser("quality", help="model vs rules on a fresh seed")
    quality.add_argument("--seed", type=int, default=424242)
    quality.add_argument("--accounts", type=int, default=20_000)
    args = parser.parse_args()
    {"time": run_time, "settings": run_settings, "quality": run_quality}[args.command](args)


if __name__ == "__main__":
    main()
