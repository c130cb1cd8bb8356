"""Benchmark: the three speed goals in one run, on the same generated marketplaces.

For each size (seed 101, cached under --data), each step the script of its own, run as a
child process whose tables are printed as they come:
  1. the training set (``training_sets.py``; the lean path, and the reference path, the
     one before the redesign, with ``--reference``: about an hour at 1M),
  2. one feature pass with its per-stage table against the plain pass (``features.py``),
  3. DuckDB against Spark ``local[2]``: load, every signal, scoring (``engines.py``; a
     quick 20k model is trained once when none is cached, as ``scoring.py`` does).
Then one summary table against the goals of 2 cores and 24 GiB: the training set at 1M
within 3 minutes and 8 GB (the training set is nearly all of ``train``; ``training.py
time`` measures ``train`` end to end), the feature pass at most 15x the plain pass, Spark
at most 4x DuckDB (load and features).

    python benchmarks/speed.py --sizes 100000 1000000      # about 1.5 hours at 1M
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from _data import print_table
from scoring import _model as quick_model

HERE = Path(__file__).parent
GOALS = {"training_s": 180.0, "training_gb": 8.0, "features_ratio": 15.0, "spark_ratio": 4.0}


def _run(script: str, *args: str, json_out: Path) -> list[dict]:
    """Run a benchmark script (its output passes through); returns its ``--json`` rows."""
    print(f"\n## {script} {' '.join(args)}\n", flush=True)
    subprocess.run([sys.executable, str(HERE / script), *args, "--json", str(json_out)],
                   check=True)
    return json.loads(json_out.read_text())


def _within(value: float, goal: float, unit: str = "") -> str:
    return f"{value:.1f}{unit} ({'met' if value <= goal else 'not met'}: {goal:g}{unit})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--seed", type=int, default=101)
    parser.add_argument("--data", type=Path, default=Path("bench-data"))
    parser.add_argument("--reference", action="store_true",
                        help="also time the training set's reference path")
    parser.add_argument("--engines", nargs="+", default=["duckdb", "spark"])
    args = parser.parse_args()

    common = ["--data", str(args.data), "--seed", str(args.seed)]
    model = quick_model(args.data, args.seed, None)
    rows = []
    for n in args.sizes:
        paths = ["lean", "reference"] if args.reference else ["lean"]
        sets = _run("training_sets.py", "--sizes", str(n), "--paths", *paths, *common,
                    json_out=args.data / f"speed-sets-{n}.json")
        [feature_pass] = _run("features.py", "--sizes", str(n), *common,
                              json_out=args.data / f"speed-features-{n}.json")
        engines = {r["engine"].split()[0]: r for r in _run(
            "engines.py", "--accounts", str(n), "--model", model, "--engines", *args.engines,
            *common, json_out=args.data / f"speed-engines-{n}.json")}
        lean = next(r for r in sets if r["path"] == "lean")
        old = next((r for r in sets if r["path"] == "reference"), None)
        ratio = feature_pass["features_s"] / feature_pass["plain_s"]
        spent = {k: r["load_s"] + r["features_s"] for k, r in engines.items()}
        spark = (_within(spent["spark"] / spent["duckdb"], GOALS["spark_ratio"], "x")
                 if {"spark", "duckdb"} <= set(spent) else "-")
        rows.append([f"{n:,}", _within(lean["seconds"], GOALS["training_s"]),
                     f"{old['seconds']:.1f}" if old else "-",
                     _within(lean["peak_rss_gb"], GOALS["training_gb"]),
                     f"{feature_pass['features_s']:.1f}", f"{feature_pass['plain_s']:.2f}",
                     _within(ratio, GOALS["features_ratio"], "x"),
                     *(f"{spent[k]:.1f}" if k in spent else "-" for k in ("duckdb", "spark")),
                     spark])
    print("\n## Summary (goals apply at 1M)")
    print_table(("accounts", "training set s (lean)", "reference s", "peak GB",
                 "feature pass s", "plain pass s", "features / plain", "DuckDB load + features s",
                 "Spark load + features s", "Spark / DuckDB"), rows)


if __name__ == "__main__":
    main()
