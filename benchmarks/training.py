"""Benchmarks and evidence for `accountrisk train`.

    python benchmarks/training.py time --sizes 100000 1000000
        Training time and peak memory per size, each in a fresh process: load + validate,
        point-in-time training set (one feature snapshot per 30 days), fit + calibrate +
        evaluate, MLflow logging and registration. Data is generated once into --data.
    python benchmarks/training.py compare --seeds 11 12
        The unlabelled-account strategies (ignore, negatives at several weights, pu) on
        the same training sets: validation PR-AUC / recall at 1%, and against ground truth.
    python benchmarks/training.py shapes --seeds 11 12
        Early-validation PR-AUC against tree count for several depths, held-out PR-AUC,
        and the cost of exact TreeSHAP per row: the evidence for the model size.
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
out["training_set_s"] = marks.get("fitting", end) - t
out["fit_s"] = marks.get("wrote", end) - marks.get("fitting", end)
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


def run_compare(args: argparse.Namespace) -> None:
    import numpy as np

    from accountrisk.training.api import prepare
    from accountrisk.training.evaluation import load_ground_truth
    from accountrisk.training.fitting import fit_bundle

    variants = [("ignore", 1.0), *(("negatives", w) for w in args.weights), ("pu", 1.0)]
    table = []
    for seed in args.seeds:
        folder, summary, _ = ensure_data(args.data, args.accounts, seed)
        work = args.data / f"compare-work-{args.accounts}-{seed}"
        ts = prepare(folder, _end(summary), workdir=work, seed=0)
        print(f"# seed {seed}: " + json.dumps(ts.counts), flush=True)
        truth = load_ground_truth(folder)
        for strategy, weight in variants:
            started = time.perf_counter()
            built = fit_bundle(ts, truth=truth, unlabelled=strategy, unlabelled_weight=weight)
            v = built.metadata["metrics"]["validation"]["model"]
            g = built.metadata["metrics"]["ground_truth"]["model"]
            name = strategy if strategy != "negatives" else f"negatives w={weight:g}"
            m = built.metadata
            table.append((seed, name, v["pr_auc"], v["recall_at_1pct"], g["pr_auc"],
                          g["recall_at_1pct"], g["ring_recall_at_1pct"],
                          time.perf_counter() - started,
                          f"{m['params']['max_depth']}/{m['params']['num_leaves']}/{m['trees']}"))
            print(table[-1], flush=True)
    head = ("seed", "unlabelled", "valid PR-AUC", "valid recall@1%", "truth PR-AUC",
            "truth recall@1%", "truth ring recall@1%", "fit_s", "depth/leaves/trees")
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for r in table:
        print(f"| {r[0]} | {r[1]} | " + " | ".join(f"{x:.3f}" for x in r[2:7]) +
              f" | {r[7]:.1f} | {r[8]} |")
    print("\nmean (sd) over seeds:")
    for name in dict.fromkeys(r[1] for r in table):
        values = np.array([r[2:7] for r in table if r[1] == name], dtype=float)
        print(f"| {name} | " + " | ".join(f"{m:.3f} ({s:.3f})" for m, s in
                                         zip(values.mean(0), values.std(0))) + " |")


def run_shapes(args: argparse.Namespace) -> None:
    """PR-AUC against tree count and depth (early decisions, late decisions, ground
    truth), the cost of exact TreeSHAP, and what the 1-SE choice picks, per seed."""
    import numpy as np

    from accountrisk.training import model as lgbm
    from accountrisk.training.api import prepare
    from accountrisk.training.dataset import LATE
    from accountrisk.training.evaluation import load_ground_truth, truth_labels
    from accountrisk.training.fitting import matrices
    from accountrisk.training.matrix import column, feature_matrix
    from accountrisk.training.metrics import average_precision, evaluate

    grid = [(2, 3), (3, 7), (4, 15), (6, 31), (8, 63)]
    counts = (25, 50, 100, 200, 400)
    table = []
    for seed in args.seeds:
        folder, summary, _ = ensure_data(args.data, args.accounts, seed)
        ts = prepare(folder, _end(summary), workdir=args.data / f"compare-work-{args.accounts}-"
                     f"{seed}", seed=0)
        mx = matrices(ts)
        late = ts.part(LATE, labelled=True)
        x_late = feature_matrix(late, mx.features, mx.categories)
        y_late = np.nan_to_num(column(late, "_label"))
        x_final = feature_matrix(ts.final, mx.features, mx.categories)
        y_truth, _ = truth_labels(ts.final, load_ground_truth(folder))
        chosen, _ = lgbm.choose_and_fit(mx.x, mx.y, mx.w, mx.features, list(mx.categories),
                                        mx.valid, seed=0)
        print(f"# seed {seed}: 1-SE choice depth {chosen.params['max_depth']}, "
              f"{chosen.params['num_leaves']} leaves, {chosen.best_iteration} trees",
              flush=True)
        for shape in grid:
            fit = lgbm.fit_one(mx.x, mx.y, mx.w, mx.features, list(mx.categories),
                               lgbm.params_for(mx.features, shape, 0), rounds=max(counts))
            for t in counts:
                booster = lgbm.truncate(fit.booster, t)
                started = time.perf_counter()
                lgbm.contributions(booster, x_final[:1000], threads=1)
                per_row_ms = (time.perf_counter() - started) * 1000 / min(1000, len(x_final))
                truth = evaluate(y_truth, lgbm.raw_margin(booster, x_final))
                table.append((seed, *shape, t,
                              average_precision(mx.valid[1], lgbm.raw_margin(booster,
                                                                             mx.valid[0])),
                              average_precision(y_late, lgbm.raw_margin(booster, x_late)),
                              truth["pr_auc"], truth["recall_at_1pct"], per_row_ms))
                print(table[-1], flush=True)
    head = ("seed", "depth", "leaves", "trees", "early PR-AUC", "late PR-AUC",
            "truth PR-AUC", "truth recall@1%", "TreeSHAP ms/row")
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for r in table:
        print(f"| {r[0]} | {r[1]} | {r[2]} | {r[3]} | "
              + " | ".join(f"{x:.3f}" for x in r[4:8]) + f" | {r[8]:.3f} |")


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
    compare = commands.add_parser("compare", help="unlabelled-account strategies")
    compare.add_argument("--seeds", type=int, nargs="+", default=[11, 12])
    compare.add_argument("--accounts", type=int, default=20_000)
    compare.add_argument("--weights", type=float, nargs="+", default=[0.25, 1.0, 4.0])
    shapes = commands.add_parser("shapes", help="PR-AUC against trees and depth")
    shapes.add_argument("--seeds", type=int, nargs="+", default=[11, 12])
    shapes.add_argument("--accounts", type=int, default=20_000)
    quality = commands.add_parser("quality", help="model vs rules on a fresh seed")
    quality.add_argument("--seed", type=int, default=424242)
    quality.add_argument("--accounts", type=int, default=20_000)
    args = parser.parse_args()
    {"time": run_time, "compare": run_compare, "shapes": run_shapes,
     "quality": run_quality}[args.command](args)


if __name__ == "__main__":
    main()
