"""Benchmark: the neighbour stage against the whole feature pass on a dense graph.

A crowd-work platform's shape: per-account attributes and one dense relation
(``account_links`` kind ``co_worked``, average degree --degree, one giant component), a few
labels. For each size it writes the folder (cached under --data), then in fresh processes
(so peak memory is each run's own):
  1. load + validate into a new DuckDB work directory, then every signal as of T, with
     each stage's seconds and peak RSS (sampled every 20 ms);
  2. the same without the neighbour stage (the first phase alone).
It prints one table: seconds and peak RSS of the neighbour stage, of the whole feature pass,
and of the pass without it. ``--generated`` runs the same comparison on generated
marketplaces (``accountrisk generate``: sessions, activity, payouts, portfolios, three
sparse link kinds) instead. ``--attributes N`` adds N numeric attribute columns (noise) to
the dense graphs' four, for exports as wide as the public fraud graphs'.

    python benchmarks/neighbours.py --sizes 12000 100000 --degree 90
    python benchmarks/neighbours.py --sizes 12000 100000 --attributes 28
    python benchmarks/neighbours.py --generated 100000
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from _data import ensure_data  # benchmarks/ is on sys.path when run as a script

AS_OF = "2026-06-01"
STAGE = "neighbour_aggregates"

CHILD = r"""
import json, os, sys, threading, time
from accountrisk.features.workspace import open_database, ensure_loaded
from accountrisk.features.pipeline import build_features
from accountrisk.features.registry import STAGES
from accountrisk.features import signals
mode, data, work, as_of = sys.argv[1:5]
if mode == "base":
    del STAGES["neighbour_aggregates"]
page = os.sysconf("SC_PAGE_SIZE")
state = {"step": "load", "peaks": {}, "run": True}
def sample():
    while state["run"]:
        with open("/proc/self/statm") as f:
            rss = int(f.read().split()[1]) * page
        step = state["step"]
        state["peaks"][step] = max(state["peaks"].get(step, 0), rss)
        time.sleep(0.02)
sampler = threading.Thread(target=sample, daemon=True)
sampler.start()
out = {}
with open_database(work) as engine:
    t = time.perf_counter()
    report = ensure_loaded(engine, data, force=True)
    out["load_s"] = time.perf_counter() - t
    assert report.usable
    times, last = {}, [time.perf_counter(), None]
    def progress(step, done, total):
        now = time.perf_counter()
        if last[1] is not None:
            times[last[1]] = times.get(last[1], 0) + now - last[0]
        last[0], last[1] = now, step
        state["step"] = step
    t = time.perf_counter()
    table = build_features(engine, as_of, progress=progress)
    progress("end", 1, 1)
    out["features_s"] = time.perf_counter() - t
    out["columns"] = table.num_columns - 1
    out["neighbour_columns"] = sum(c.startswith("nbr_") for c in table.column_names)
state["run"] = False
sampler.join()
peaks = state["peaks"]
out["stages"] = times
out["stage_peak_gb"] = {k: v / 1024 ** 3 for k, v in peaks.items()}
out["features_peak_gb"] = max(v for k, v in peaks.items() if k != "load") / 1024 ** 3
print(json.dumps(out))
"""


def write_folder(folder: Path, accounts: int, degree: int, seed: int, extra: int = 0) -> dict:
    """A dense marketplace: accounts, attributes (``extra`` more numeric ones), co_worked
    links and a few labels."""
    rng = np.random.default_rng(seed)
    ids = np.array([f"u{i:07d}" for i in range(accounts)], dtype=object)
    start = datetime(2024, 1, 1)
    created = [start + timedelta(days=int(d)) for d in rng.integers(0, 700, accounts)]
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({
        "account_id": pa.array(ids, pa.string()),
        "created_at": pa.array(created, pa.timestamp("us")),
        "claimed_country": pa.array(["US"] * accounts, pa.string()),
        "claimed_timezone": pa.array(["America/New_York"] * accounts, pa.string())}),
        folder / "accounts.parquet")
    pq.write_table(pa.table({
        "account_id": pa.array(ids, pa.string()),
        "rating": np.round(5 - rng.exponential(0.3, accounts), 1),
        "hourly_rate_usd": np.round(rng.lognormal(3.3, 0.5, accounts), 1),
        "jobs_completed": rng.integers(0, 300, accounts),
        "is_phone_verified": rng.random(accounts) < 0.8,
        "id_verification": pa.array(rng.choice(["passed", "pending", "none"], accounts),
                                    pa.string()),
        **{f"extra_{k:02d}": rng.normal(size=accounts) for k in range(extra)}}),
        folder / "account_attributes.parquet")
    pairs = accounts * degree // 2
    a = rng.integers(0, accounts, pairs)
    b = rng.integers(0, accounts, pairs)
    keep = a != b
    a, b = a[keep], b[keep]
    linked = [start + timedelta(days=int(d)) for d in rng.integers(0, 880, len(a))]
    pq.write_table(pa.table({
        "account_id": pa.array(ids[a], pa.string()),
        "other_account_id": pa.array(ids[b], pa.string()),
        "kind": pa.array(["co_worked"] * len(a), pa.string()),
        "linked_at": pa.array(linked, pa.timestamp("us"))}), folder / "account_links.parquet")
    decided = rng.choice(accounts, accounts // 20, replace=False)
    pq.write_table(pa.table({
        "account_id": pa.array(ids[decided], pa.string()),
        "label": pa.array((rng.random(len(decided)) < 0.3).astype(np.int8), pa.int8()),
        "decided_at": pa.array([start + timedelta(days=int(d))
                                for d in rng.integers(300, 880, len(decided))],
                               pa.timestamp("us"))}), folder / "labels.parquet")
    return {"accounts": accounts, "link_rows": int(len(a))}


def run_child(*args: str) -> dict:
    """Run a measured step in a fresh process; returns its JSON."""
    done = subprocess.run([sys.executable, "-c", CHILD, *args], check=True,
                          capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[12_000, 100_000])
    parser.add_argument("--degree", type=int, default=90)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--data", type=Path, default=Path("bench-data"))
    parser.add_argument("--attributes", type=int, default=0,
                        help="numeric attribute columns to add to the dense graphs' four")
    parser.add_argument("--generated", type=int, nargs="+", default=[],
                        help="generated marketplaces of these sizes instead of dense graphs")
    args = parser.parse_args()

    rows = []
    cases = [(n, True) for n in args.generated] or [(n, False) for n in args.sizes]
    for n, generated in cases:
        if generated:
            folder, summary, _ = ensure_data(args.data, n, 101)
            shape = {"link_rows": summary.get("rows", {}).get("account_links", 0)}
            as_of = summary["end"]
        else:
            folder = args.data / (f"dense-n{n}-d{args.degree}-s{args.seed}"
                                  + (f"-a{args.attributes}" if args.attributes else ""))
            meta = folder / "shape.json"
            if meta.exists():
                shape = json.loads(meta.read_text())
            else:
                shutil.rmtree(folder, ignore_errors=True)
                shape = write_folder(folder, n, args.degree, args.seed, args.attributes)
                meta.write_text(json.dumps(shape))
            as_of = AS_OF
        results = {}
        for mode in ("full", "base"):
            work = args.data / f"work-nbr-{n}-{mode}"
            shutil.rmtree(work, ignore_errors=True)
            results[mode] = run_child(mode, str(folder), str(work), as_of)
            shutil.rmtree(work, ignore_errors=True)
        full, base = results["full"], results["base"]
        slow = sorted(full["stages"].items(), key=lambda kv: -kv[1])[:5]
        print(f"# {n:,} accounts, slowest stages: "
              + ", ".join(f"{k} {v:.1f}s" for k, v in slow), flush=True)
        rows.append((n, shape["link_rows"], full["neighbour_columns"],
                     full["stages"].get(STAGE, float("nan")),
                     full["stage_peak_gb"].get(STAGE, float("nan")),
                     full["features_s"], full["features_peak_gb"],
                     base["features_s"], base["features_peak_gb"], full["load_s"]))

    head = ("accounts", "link_rows", "nbr_columns", "neighbour_s", "neighbour_peak_rss_gb",
            "features_s", "features_peak_rss_gb", "without_nbr_s",
            "without_nbr_peak_rss_gb", "load_s")
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for r in rows:
        print(f"| {r[0]:,} | {r[1]:,} | {r[2]} | {r[3]:.1f} | {r[4]:.2f} | {r[5]:.1f} | "
              f"{r[6]:.2f} | {r[7]:.1f} | {r[8]:.2f} | {r[9]:.1f} |")
    print("(features_s: the whole feature pass with the neighbour stage; peak RSS of the "
          "process while the stage / the pass ran, DuckDB default memory limit)")


if __name__ == "__main__":
    main()
