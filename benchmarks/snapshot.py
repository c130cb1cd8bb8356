"""Benchmark: one older snapshot of a training set, with and without targeted stages.

A training set's older snapshot wants the features of a few accounts: the decided ones
and a sample of the others (about 1,100 per snapshot for the default 20,000 unlabelled rows
over 18 snapshots, plus the decisions). For each size the marketplace is loaded once; then,
each in a fresh process, the features of ``--wanted`` random accounts are computed as of
``--days-back`` days before the generation end:
  - targeted: stages that can compute the wanted accounts' rows alone do (the default);
  - whole: every stage computes every account's rows (before the targeted stages).
Both must give the same rows (fingerprints compared). Prints each path's per-stage table
(what `accountrisk features --profile` prints) and one summary table.

    python benchmarks/snapshot.py --sizes 100000 1000000
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

# benchmarks/ is on sys.path when run as a script
from _data import ensure_data, print_table, run_child
from accountrisk.features.profile import StageProfile

CHILD = r"""
import json, resource, sys, time
from datetime import datetime, timedelta
import numpy as np, pyarrow as pa
from accountrisk.features import pipeline
from accountrisk.features.profile import StageProfile
from accountrisk.features.workspace import ensure_loaded, open_database
from accountrisk.training.dataset import fingerprint
data, work, end, path, wanted, days_back = sys.argv[1:7]
with open_database(work) as engine:
    if path == "load":
        assert ensure_loaded(engine, data, force=True).usable
        print(json.dumps({}))
        raise SystemExit
    if path == "whole":
        pipeline.TARGETED_MAX_SHARE = 0.0
    as_of = datetime.fromisoformat(end) - timedelta(days=int(days_back))
    ids = engine.arrow("SELECT account_id FROM accounts WHERE created_at < "
                       + engine.dialect.timestamp_literal(as_of) + " ORDER BY account_id")
    pick = np.random.default_rng(7).choice(ids.num_rows, size=int(wanted), replace=False)
    engine.create_table_from_arrow("bench_wanted", ids.take(pa.array(np.sort(pick))))
    profile = StageProfile()
    started = time.perf_counter()
    rows = pipeline.build_features(engine, as_of, accounts="bench_wanted", progress=profile)
    profile.stop()
    seconds = time.perf_counter() - started
print(json.dumps({"seconds": seconds, "rows": rows.num_rows, "existing": ids.num_rows,
                  "stages": profile.seconds,
                  "fingerprint": fingerprint(rows, rows.column_names)[:12],
                  "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000])
    parser.add_argument("--paths", nargs="+", default=["targeted", "whole"],
                        choices=["targeted", "whole"])
    parser.add_argument("--wanted", type=int, default=3_400,
                        help="accounts the snapshot wants (1M accounts: ~2,300 decided "
                             "+ ~1,100 sampled per snapshot)")
    parser.add_argument("--days-back", type=int, default=90)
    parser.add_argument("--seed", type=int, default=101)
    parser.add_argument("--data", type=Path, default=Path("bench-data"))
    args = parser.parse_args()

    rows = []
    for n in args.sizes:
        folder, summary, _ = ensure_data(args.data, n, args.seed)
        work = args.data / f"snapshot-work-{n}"
        shutil.rmtree(work, ignore_errors=True)
        run_child(CHILD, str(folder), str(work), summary["end"], "load", "0", "0")
        for path in args.paths:
            out = run_child(CHILD, str(folder), str(work), summary["end"], path, str(args.wanted),
                            str(args.days_back))
            profile = StageProfile(seconds=out.pop("stages"))
            print(f"\n{n:,} accounts, {path}: where the time went\n{profile.markdown(12)}",
                  flush=True)
            rows.append((n, path, out))
        shutil.rmtree(work, ignore_errors=True)
    print_table(("accounts", "existing at T", "wanted", "path", "seconds", "peak_rss_gb",
                 "rows fingerprint"),
                [[f"{n:,}", f"{out['existing']:,}", f"{out['rows']:,}", path,
                  f"{out['seconds']:.1f}", f"{out['peak_rss_gb']:.2f}", out["fingerprint"]]
                 for n, path, out in rows])

if __name__ == "__main__":
    main()
