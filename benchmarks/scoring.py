"""Scoring benchmark: batch throughput against raw ``booster.predict``, reasons for the top
1%, and single-account latency with reasons from precomputed features.

    python benchmarks/scoring.py [--accounts 1000000] [--model DIR] [--seed 101]

Generates the marketplace into ``bench-data/n<accounts>-s<seed>`` (reused when present);
without ``--model`` trains a quick model on a generated 20k marketplace (reused from
``bench-data/model-n20000-s<seed>``). Feature rows are cached as Parquet beside the data.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from _data import ensure_data  # benchmarks/ is on sys.path when run as a script

AS_OF = "2026-10-01"
GOALS = {"ratio": 0.7, "top1": 10.0, "p99_ms": 5.0}


def _data(root: Path, accounts: int, seed: int) -> Path:
    return ensure_data(root, accounts, seed)[0]


def _model(root: Path, seed: int, given: str | None) -> str:
    if given:
        return given
    from accountrisk.training.api import train

    target = root / f"model-n20000-s{seed}"
    if not (target / "checksums.json").exists():
        data = _data(root, 20_000, seed)
        print(f"training a quick model on {data}", file=sys.stderr, flush=True)
        train(data, AS_OF, model_dir=target, workdir=root / f"train-work-20000-s{seed}",
              register=False, plots=False)
    return str(target)


def _features(root: Path, data: Path, accounts: int, seed: int):
    import pyarrow.parquet as pq

    from accountrisk.features.api import compute_features

    cache = root / f"features-n{accounts}-s{seed}-{AS_OF}.parquet"
    if not cache.exists():
        print(f"computing features of {data}", file=sys.stderr, flush=True)
        started = time.perf_counter()
        table = compute_features(data, AS_OF, workdir=root / f"score-work-{accounts}-s{seed}")
        print(f"  {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
        pq.write_table(table, cache)
    return pq.read_table(cache)


def _best(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=101)
    parser.add_argument("--model", default=None, help="model directory (default: train one)")
    parser.add_argument("--root", default="bench-data")
    parser.add_argument("--single", type=int, default=1000, help="single-account calls timed")
    parser.add_argument("--evidence", type=int, default=100,
                        help="top accounts whose evidence and case reports are timed (0: skip)")
    args = parser.parse_args(argv)

    from accountrisk.scoring.scorer import RiskScorer
    from accountrisk.training.matrix import feature_matrix

    root = Path(args.root)
    root.mkdir(parents=True, exist_ok=True)
    model = _model(root, args.seed, args.model)
    data = _data(root, args.accounts, args.seed)
    table = _features(root, data, args.accounts, args.seed)
    scorer = RiskScorer.load(model)
    n = table.num_rows
    print(f"{n:,} accounts, {len(scorer.features)} features, model {model}", flush=True)

    x = feature_matrix(table, scorer.features, scorer.categories)
    booster = scorer.bundle.booster
    raw_s = _best(lambda: booster.predict(x, raw_score=True, num_threads=scorer.threads))
    ours_s = _best(lambda: scorer.score_features(table, as_of=AS_OF, explain=False))
    ratio = raw_s / ours_s

    k = max(1, n // 100)
    started = time.perf_counter()
    batch = scorer.score_features(table, as_of=AS_OF, explain=k)
    top1_s = time.perf_counter() - started
    assert len(batch.explained) == k

    rows = [table.slice(i, 1) for i in range(0, n, max(1, n // 200))][:200]
    for row in rows[:20]:  # warm-up
        scorer.score_features(row, as_of=AS_OF, explain=True)
    latencies = []
    for i in range(args.single):
        row = rows[i % len(rows)]
        started = time.perf_counter()
        scorer.score_features(row, as_of=AS_OF, explain=True)
        latencies.append((time.perf_counter() - started) * 1000)
    latencies.sort()
    p50 = statistics.median(latencies)
    p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]

    evidence_rows = _evidence(root, data, args, batch) if args.evidence else []

    def ok(good: bool) -> str:
        return "ok" if good else "MISSED"

    print(f"\n| measure ({n:,} accounts) | result | goal | |")
    print("|---|---|---|---|")
    print(f"| raw booster.predict | {raw_s:.2f} s ({n / raw_s:,.0f} rows/s) | | |")
    print(f"| RiskScorer.score_features (matrix, calibration, bands, frame) | {ours_s:.2f} s "
          f"({n / ours_s:,.0f} rows/s) | | |")
    print(f"| throughput ratio scorer / raw | {ratio:.2f}x | >= {GOALS['ratio']}x | "
          f"{ok(ratio >= GOALS['ratio'])} |")
    print(f"| reasons for the top 1% ({k:,} accounts, whole call) | {top1_s:.2f} s | "
          f"<= {GOALS['top1']:.0f} s | {ok(top1_s <= GOALS['top1'])} |")
    print(f"| single account with reasons, p50 | {p50:.2f} ms | | |")
    print(f"| single account with reasons, p99 | {p99:.2f} ms | <= {GOALS['p99_ms']:.0f} ms | "
          f"{ok(p99 <= GOALS['p99_ms'])} |")
    for label, seconds in evidence_rows:
        print(f"| {label} | {seconds:.2f} s | | |")


def _evidence(root: Path, data: Path, args: argparse.Namespace, batch) -> list[tuple[str, float]]:
    """Seconds to rebuild the features keeping the tables evidence reads, to collect the
    evidence of the top accounts at once and one at a time, and to write their reports."""
    import tempfile

    from accountrisk.features.workspace import ensure_loaded, open_database
    from accountrisk.plugin.report_files import write_reports
    from accountrisk.scoring.evidence import build_features_for_evidence, collect_evidence

    top = sorted(batch.explained.values(), key=lambda r: (-r.score, r.account_id))
    top = top[:args.evidence]
    ids = [r.account_id for r in top]
    names = sorted({reason.feature for r in top for reason in r.reasons})
    out = []
    with open_database(root / f"score-work-{args.accounts}-s{args.seed}") as engine:
        ensure_loaded(engine, data)
        started = time.perf_counter()
        build_features_for_evidence(engine, AS_OF)
        out.append(("features keeping the evidence tables (once per as-of)",
                    time.perf_counter() - started))
        started = time.perf_counter()
        collect_evidence(engine, AS_OF, ids, names)
        out.append((f"evidence of the top {len(ids)} accounts, one call",
                    time.perf_counter() - started))
        singles = []
        for account in ids[:20]:
            started = time.perf_counter()
            collect_evidence(engine, AS_OF, [account], names)
            singles.append(time.perf_counter() - started)
        out.append(("evidence of one account, median of 20", statistics.median(singles)))
        with tempfile.TemporaryDirectory() as folder:
            started = time.perf_counter()
            write_reports(folder, top, engine=engine)
            out.append((f"case reports of the top {len(ids)} accounts (profile, timeline and "
                        "ring reads)", time.perf_counter() - started))
    return out


if __name__ == "__main__":
    main()
