"""Benchmark: the point-in-time training set, lean path against the reference path.

For each size the marketplace is loaded once into a work directory; then, each in a fresh
process (peak memory is its own), the training set is built as `accountrisk train` builds
it (one snapshot per 30 days back to the first decision, 20,000 unlabelled rows):
  - reference: every account's features at every snapshot, nothing shared;
  - lean: snapshots share the per-row text derivations, only the accounts the set takes
    leave the engine, and an older snapshot's stages that can compute those accounts'
    rows alone do (the proposal search; the default);
  - lean-whole: lean, but every stage computes every account's rows (before the
    targeted stages).
All must give the same rows (their fingerprints are compared and printed). Each path also
prints where its snapshots' feature passes spent their time, by stage, summed.

    python benchmarks/training_sets.py --sizes 100000 --paths lean lean-whole reference
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

# benchmarks/ is on sys.path when run as a script
from _data import ensure_data, print_table, run_child, save_json
from accountrisk.features.profile import StageProfile

CHILD = r"""
import json, resource, sys, time
from accountrisk.features.workspace import ensure_loaded, open_database
from accountrisk.features import pipeline
from accountrisk.training.dataset import build_training_set, fingerprint
data, work, as_of, path = sys.argv[1:5]
if path == "lean-whole":
    pipeline.TARGETED_MAX_SHARE = 0.0
with open_database(work) as engine:
    if path == "load":
        assert ensure_loaded(engine, data, force=True).usable
        print(json.dumps({}))
        raise SystemExit
    # Every snapshot's feature pass reports its stages to one profile (summed).
    from accountrisk.features.profile import StageProfile
    from accountrisk.training import snapshots as snapshot_module
    profile, plain = StageProfile(), snapshot_module.build_features
    def profiled(*args, **kwargs):
        try:
            return plain(*args, progress=profile, **kwargs)
        finally:
            profile.stop()
    snapshot_module.build_features = profiled
    started = time.perf_counter()
    ts = build_training_set(engine, as_of, lean=path != "reference")
    seconds = time.perf_counter() - started
print(json.dumps({"seconds": seconds, "snapshots": len(ts.snapshots), "stages": profile.seconds,
                  "rows": ts.rows.num_rows, "final": ts.final.num_rows,
                  "fingerprint": fingerprint(ts.rows, ts.rows.column_names)[:12],
                  "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000])
    parser.add_argument("--paths", nargs="+", default=["lean", "reference"],
                        choices=["lean", "lean-whole", "reference"])
    parser.add_argument("--seed", type=int, default=101)
    parser.add_argument("--data", type=Path, default=Path("bench-data"))
    parser.add_argument("--json", type=Path, default=None, help="also write the rows here")
    args = parser.parse_args()

    rows = []
    for n in args.sizes:
        folder, summary, _ = ensure_data(args.data, n, args.seed)
        work = args.data / f"sets-work-{n}"
        shutil.rmtree(work, ignore_errors=True)
        run_child(CHILD, str(folder), str(work), summary["end"], "load")
        for path in args.paths:
            out = run_child(CHILD, str(folder), str(work), summary["end"], path)
            profile = StageProfile(seconds=out.pop("stages"))
            print(json.dumps({"accounts": n, "path": path, **out}), flush=True)
            print(f"\n{n:,} accounts, {path}: the snapshots' feature passes, by stage "
                  f"(summed)\n{profile.markdown(14)}\n", flush=True)
            rows.append((n, path, out))
        shutil.rmtree(work, ignore_errors=True)
    print_table(("accounts", "path", "snapshots", "training_rows", "seconds", "peak_rss_gb",
                 "rows fingerprint"),
                [[f"{n:,}", path, str(out["snapshots"]), f"{out['rows']:,}",
                  f"{out['seconds']:.1f}", f"{out['peak_rss_gb']:.2f}", out["fingerprint"]]
                 for n, path, out in rows])
    save_json(args.json, [{"accounts": n, "path": path, **out} for n, path, out in rows])

if __name__ == "__main__":
    main()
