"""Benchmark: `accountrisk features` against one plain DuckDB aggregate pass.

For each size it generates a marketplace (cached under --data), then in fresh processes
(so peak memory is each step's own):
  1. load + validate the folder into a new DuckDB work directory,
  2. compute every signal as of the generation end (per-stage times recorded, as
     `accountrisk features --profile` prints them),
  3. `accountrisk features --out` on the database step 1 loaded: the same pass, its rows
     written to Parquet by DuckDB (`export_features`) instead of collected as Arrow,
  4. one plain pass: GROUP BY account over sessions and activity, straight from Parquet.
It prints, per size, the per-stage table, then one summary table with the ratios
features / plain pass and (load + features) / plain pass.

    python benchmarks/features.py --sizes 100000 1000000
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

from _data import ensure_data, save_json  # benchmarks/ is on sys.path when run as a script
from accountrisk.features.profile import StageProfile
from accountrisk.features.workspace import DEFAULT_MEMORY_LIMIT

CHILD = r"""
import json, sys, time
from accountrisk.features.workspace import open_database, ensure_loaded
from accountrisk.features.pipeline import build_features
from accountrisk.features.profile import StageProfile
mode, data, work, as_of, limit = sys.argv[1:6]
out = {}
if mode == "features":
    with open_database(work, memory_limit=limit or None) as engine:
        profile = StageProfile()
        t = time.perf_counter()
        report = ensure_loaded(engine, data, force=True,
                               progress=lambda step, done, total: profile("load: " + step))
        out["load_s"] = time.perf_counter() - t
        assert report.usable, [p.render() for p in report.rejections()]
        t = time.perf_counter()
        table = build_features(engine, as_of, progress=profile)
        profile.stop()
        out["features_s"] = time.perf_counter() - t
        out["stages"] = profile.seconds
        out["rows"] = table.num_rows
        out["columns"] = table.num_columns - 1
        out["table_gb"] = table.nbytes / 1024 ** 3
elif mode == "export":
    from pathlib import Path
    from accountrisk.features.api import export_features
    t = time.perf_counter()
    export_features(data, as_of, Path(work) / "features.parquet", workdir=work,
                    memory_limit=limit or None)
    out["export_s"] = time.perf_counter() - t
else:
    import duckdb
    con = duckdb.connect()
    if limit:
        con.execute("SET memory_limit = $l", {"l": limit})
    t = time.perf_counter()
    for name, column in (("sessions", "started_at"), ("activity", "ts")):
        con.sql(f"SELECT account_id, count(*), min({column}), max({column}) "
                f"FROM read_parquet($p) GROUP BY account_id",
                params={"p": f"{data}/{name}.parquet"}).fetchall()
    out["plain_s"] = time.perf_counter() - t
import resource
out["peak_rss_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2
print(json.dumps(out))
"""


def run_child(*args: str) -> dict:
    """Run a measured step in a fresh process (its own peak RSS); returns its JSON."""
    done = subprocess.run([sys.executable, "-c", CHILD, *args], check=True,
                          capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--seed", type=int, default=101)
    parser.add_argument("--data", type=Path, default=Path("bench-data"))
    parser.add_argument("--memory-limit", default="", help="DuckDB memory limit, e.g. 2GB")
    parser.add_argument("--json", type=Path, default=None, help="also write the rows here")
    args = parser.parse_args()

    rows = []
    results = []
    for n in args.sizes:
        folder, summary, gen_s = ensure_data(args.data, n, args.seed)
        as_of = summary["end"]
        work = args.data / f"work-{n}"
        shutil.rmtree(work, ignore_errors=True)
        feat = run_child("features", str(folder), str(work), as_of, args.memory_limit)
        export = run_child("export", str(folder), str(work), as_of, args.memory_limit)
        plain = run_child("plain", str(folder), "", as_of, args.memory_limit)
        shutil.rmtree(work, ignore_errors=True)
        counts = summary.get("rows", {})
        total = feat["load_s"] + feat["features_s"]
        rows.append((n, counts.get("sessions", 0), counts.get("activity", 0),
                     counts.get("portfolio_items", 0), gen_s, feat["load_s"],
                     feat["features_s"], feat["peak_rss_gb"], feat["table_gb"],
                     export["export_s"], export["peak_rss_gb"], plain["plain_s"],
                     feat["features_s"] / plain["plain_s"], total / plain["plain_s"]))
        results.append({"accounts": n, **feat, "export_s": export["export_s"],
                        "export_peak_rss_gb": export["peak_rss_gb"],
                        "plain_s": plain["plain_s"]})
        profile = StageProfile(seconds=feat["stages"])
        print(f"### {n:,} accounts: where the time went\n\n{profile.markdown()}\n",
              flush=True)

    head = ("accounts", "sessions", "activity", "items", "generate_s", "load_s",
            "features_s", "peak_rss_gb", "arrow_table_gb", "export_s", "export_peak_rss_gb",
            "plain_pass_s", "features / plain",
            "(load + features) / plain")
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for r in rows:
        print(f"| {r[0]:,} | {r[1]:,} | {r[2]:,} | {r[3]:,} | {r[4]:.1f} | {r[5]:.1f} | "
              f"{r[6]:.1f} | {r[7]:.2f} | {r[8]:.2f} | {r[9]:.1f} | {r[10]:.2f} | "
              f"{r[11]:.2f} | {r[12]:.1f}x | {r[13]:.1f}x |")
    limit = args.memory_limit or "accountrisk default " + DEFAULT_MEMORY_LIMIT
    print(f"(memory limit: {limit}; peak_rss_gb: the load + features process, which "
          "collects the table as Arrow (arrow_table_gb); export: a process that writes it "
          "to Parquet from DuckDB on the loaded database)")
    save_json(args.json, results)


if __name__ == "__main__":
    main()
