"""Benchmark: the same signals and batch scoring on DuckDB and on Spark ``local[N]``.

For each engine, in a fresh process (peak memory is its own, the Spark JVM included):
  1. validate and load the contract folder,
  2. compute every signal as of the generation end (kept on the engine),
  3. score every account with a model directory (reasons for the elevated band) and write
     the scores file, as ``accountrisk score`` does.
The marketplace and the model are the scoring benchmark's (cached under --data). A second
table gives each pipeline stage's seconds on each engine (``--profile``'s stages).

    python benchmarks/engines.py --accounts 100000 --master "local[2]"
    python benchmarks/engines.py --accounts 100000 --history-copies 5   # 5x the events
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from _data import ensure_data, heavier_histories, print_table, save_json

CHILD = r"""
import json, os, resource, sys, threading, time
peak = [0]
def tree_rss():
    # RSS of this process and all its descendants (the Spark JVM and Python workers).
    parents, rss = {}, {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
            parents[int(pid)], rss[int(pid)] = int(fields[1]), int(fields[21])
        except (OSError, IndexError):
            continue
    tree, grew = {os.getpid()}, True
    while grew:
        grew = False
        for pid, parent in parents.items():
            if parent in tree and pid not in tree:
                tree.add(pid); grew = True
    return sum(rss.get(p, 0) for p in tree) * os.sysconf("SC_PAGE_SIZE")
def sample():
    while True:
        peak[0] = max(peak[0], tree_rss()); time.sleep(0.5)
threading.Thread(target=sample, daemon=True).start()
engine_name, data, work, as_of, model, out, master = sys.argv[1:8]
from accountrisk.features.pipeline import build_features_table
from accountrisk.features.profile import StageProfile
from accountrisk.scoring.scorer import RiskScorer
times = {}
profile = StageProfile()
def features_timed(engine):
    started = time.perf_counter()
    name = build_features_table(engine, as_of, progress=profile)
    engine.scalar(f"SELECT count(*) FROM {name}")
    profile.stop()
    times["features_s"] = time.perf_counter() - started
    times["stages"] = profile.seconds
    if os.environ.get("ENGINES_FEATURES_OUT"):  # --compare: the rows, outside the timings
        out = os.environ["ENGINES_FEATURES_OUT"]
        if hasattr(engine, "spark"):  # the JVM writes the files: 1M rows collected overflow 4 GB
            engine.spark.table(name).write.mode("overwrite").parquet(out)
        else:
            import pyarrow.parquet as pq
            pq.write_table(engine.arrow(f"SELECT * FROM {name}"), out)
    return name
t = time.perf_counter()
if engine_name == "duckdb":
    from accountrisk.features.workspace import ensure_loaded, open_database
    with open_database(work) as engine:
        report = ensure_loaded(engine, data, force=True)
        times["load_s"] = time.perf_counter() - t
        name = features_timed(engine)
        t = time.perf_counter()
        table = engine.arrow(f"SELECT * FROM {name}")
        accounts = engine.arrow("SELECT account_id, claimed_timezone, claimed_country "
                                "FROM accounts")
        table = table.join(accounts, "account_id")
        batch = RiskScorer.load(model).score_features(table, as_of=as_of, explain="elevated")
        import pyarrow.parquet as pq
        pq.write_table(batch.frame.sort_by([("score", "descending"),
                                            ("account_id", "ascending")]), out)
        times["score_s"] = time.perf_counter() - t
        rows = batch.frame.num_rows
else:
    from accountrisk.features.spark import SparkEngine, load_folder_spark
    from accountrisk.scoring.spark_batch import score_spark, write_scores
    with SparkEngine(master=master) as engine:
        times["start_s"] = time.perf_counter() - t
        t = time.perf_counter()
        report = load_folder_spark(data, engine)
        times["load_s"] = time.perf_counter() - t
        name = features_timed(engine)
        t = time.perf_counter()
        scores = score_spark(engine.spark.table(name), model, as_of=as_of,
                             reasons_for="elevated", contexts=engine.spark.table("accounts"))
        rows = write_scores(scores, out, overwrite=True).accounts
        times["score_s"] = time.perf_counter() - t
assert report.usable
own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
times.update(rows=rows, peak_rss_gb=max(peak[0] / 1024 ** 3, own / 1024 ** 2))
print(json.dumps(times))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=101)
    parser.add_argument("--data", type=Path, default=Path("bench-data"))
    parser.add_argument("--model", type=Path, default=None,
                        help="model directory (default: the scoring benchmark's 20k model)")
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--engines", nargs="+", default=["duckdb", "spark"])
    parser.add_argument("--compare", action="store_true",
                        help="also write each engine's features and count the values that "
                             "differ (1e-9 relative)")
    parser.add_argument("--history-copies", type=int, default=1,
                        help="repeat every session and activity row this many times "
                             "(heavier histories on the same accounts; see _data.py)")
    parser.add_argument("--json", type=Path, default=None, help="also write the rows here")
    args = parser.parse_args()

    folder, summary, _ = ensure_data(args.data, args.accounts, args.seed)
    if args.history_copies > 1:
        folder = heavier_histories(folder, args.history_copies)
    model = args.model or args.data / f"model-n20000-s{args.seed}"
    if not (Path(model) / "checksums.json").exists():
        sys.exit(f"no model at {model}: run `python benchmarks/scoring.py --accounts "
                 f"{args.accounts}` once (it trains one), or pass --model DIR")
    rows = []
    for engine in args.engines:
        work = args.data / f"engines-work-{engine}"
        shutil.rmtree(work, ignore_errors=True)
        out = work / "scores.parquet"
        work.mkdir(parents=True)
        env = dict(os.environ)
        if args.compare:
            env["ENGINES_FEATURES_OUT"] = str(args.data / f"engines-features-{engine}.parquet")
        done = subprocess.run([sys.executable, "-c", CHILD, engine, str(folder), str(work),
                               summary["end"], str(model), str(out), args.master],
                              capture_output=True, text=True, env=env)
        if done.returncode:
            sys.exit(f"{engine} run failed:\n{done.stderr[-4000:]}")
        result = json.loads(done.stdout.strip().splitlines()[-1])
        shutil.rmtree(work, ignore_errors=True)
        rows.append((engine if engine == "duckdb" else f"spark {args.master}", result))
        print(f"# {engine}: {result}", flush=True)

    head = ("engine", "accounts", "start_s", "load_s", "features_s", "score_s", "total_s",
            "peak_rss_gb")
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for name, r in rows:
        total = sum(r.get(k, 0.0) for k in ("start_s", "load_s", "features_s", "score_s"))
        print(f"| {name} | {r['rows']:,} | {r.get('start_s', 0.0):.1f} | {r['load_s']:.1f} | "
              f"{r['features_s']:.1f} | {r['score_s']:.1f} | {total:.1f} | "
              f"{r['peak_rss_gb']:.2f} |")
    print("(score = every account scored, reasons for the elevated band, scores file written;"
          " peak RSS = the process tree's, sampled every 0.5 s: Python, the JVM and its workers)")
    print_stages(rows)
    save_json(args.json, [{"engine": name, "accounts": args.accounts, **r} for name, r in rows])
    if args.compare and len(args.engines) > 1:
        files = [args.data / f"engines-features-{engine}.parquet" for engine in args.engines]
        differing = differing_values(*files)
        print(f"\nfeatures compared ({files[0].name} vs {files[1].name}): "
              + (", ".join(f"{c}: {n} accounts" for c, n in differing) or "no value differs"))


def differing_values(first: Path, second: Path) -> list[tuple[str, int]]:
    """(column, accounts whose values differ beyond 1e-9 relative) of two feature files."""
    import numpy as np
    import pyarrow.parquet as pq

    a, b = (pq.read_table(f).sort_by("account_id") for f in (first, second))
    if a.column_names != b.column_names or not a["account_id"].equals(b["account_id"]):
        return [("columns or accounts", max(a.num_rows, b.num_rows))]
    out = []
    for column in a.column_names[1:]:
        x = a[column].to_numpy(zero_copy_only=False)
        y = b[column].to_numpy(zero_copy_only=False)
        if x.dtype.kind in "fiub" and y.dtype.kind in "fiub":
            x, y = x.astype(float), y.astype(float)
            same = (np.isnan(x) & np.isnan(y)) | np.isclose(x, y, rtol=1e-9, atol=1e-12)
        else:
            same = np.array([p == q for p, q in zip(x, y, strict=True)])
        if not same.all():
            out.append((column, int((~same).sum())))
    return out


def print_stages(rows: list[tuple[str, dict]]) -> None:
    """Seconds per pipeline stage on each engine, slowest on the last engine first, with
    the ratio of the last engine to the first."""
    names = [name for name, _ in rows]
    stages = [r["stages"] for _, r in rows]
    order = sorted(set().union(*stages), key=lambda s: -stages[-1].get(s, 0.0))
    table = []
    for stage in order:
        seconds = [s.get(stage, 0.0) for s in stages]
        ratio = f"{seconds[-1] / seconds[0]:.1f}x" if len(rows) > 1 and seconds[0] else ""
        table.append([stage, *(f"{x:.1f}" for x in seconds), ratio])
    totals = [sum(s.values()) for s in stages]
    ratio = f"{totals[-1] / totals[0]:.1f}x" if len(rows) > 1 and totals[0] else ""
    table.append(["total", *(f"{x:.1f}" for x in totals), ratio])
    print_table(("stage", *(f"{n} s" for n in names), "ratio"), table)


if __name__ == "__main__":
    main()
