"""A transaction graph labelled per time step, built apart from the generator.

    python benchmarks/transaction_graph.py --seeds 2 [--accounts 200000]

The shape of the public transaction graphs (Elliptic: ~200k nodes in 49 two-week time
steps, 166 anonymous numeric features, ~1.2 links a node, within a step; about a quarter
of the nodes labelled, a tenth of those illicit). Each account is created in its step and,
when labelled (steps before 35 only), decided ten days later: inside one 30-day snapshot
interval, so no regular snapshot sees it before its decision. The illicit (10%) shift a
few latent factors that the 166 columns mix with noise; the first 94 drift with time; a
third of an illicit account's links go to illicit accounts of its step. Accounts of steps
35-48, never labelled, are judged against the truth, as the graph's usual temporal split
does. No sessions, payouts or portfolios.

Scorers: LightGBM on the attributes alone and a quick reference (attributes plus the
neighbours' mean and maximum of the first 32, degree and the share of decided neighbours
illicit) at 500 trees of 31 leaves and 200 of 7, trained on every decision; the product
through its API as `accountrisk train` would (`crowd_tasks.product_scores`). PR-AUC and
ROC AUC.
"""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from crowd_tasks import (
    T,
    print_scores,
    product_scores,
    table_references,
    with_neighbour_aggregates,
)

ACCOUNTS = 200_000
STEPS, LABELLED_STEPS, STEP = 49, 35, timedelta(days=14)
COLUMNS, DRIFTING, AGGREGATED = 166, 94, 32


def build(folder: Path, seed: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Write the export into ``folder`` (once); return each account's truth and step."""
    rng = np.random.default_rng(seed)
    step = np.sort(rng.integers(0, STEPS, n))
    bad = rng.random(n) < 0.1
    if (folder / "labels.parquet").exists():  # written before: truth and steps suffice
        return bad, step
    shift = np.array([1.2, -0.8, 0.6, 0, 0, 0.5, -0.4, 0])
    latent = rng.normal(0, 1, (n, 8)) + bad[:, None] * shift
    mix = rng.normal(0, 1, (8, COLUMNS)) * (rng.random((8, COLUMNS)) < 0.3)
    x = latent @ mix + rng.normal(0, 1, (n, COLUMNS))
    x[:, :DRIFTING] += (step[:, None] - STEPS / 2) * 0.02
    folder.mkdir(parents=True, exist_ok=True)
    ids = np.array([f"x{i:07d}" for i in range(n)])
    pq.write_table(pa.table({"account_id": ids, **{f"f{j:03d}": x[:, j].astype(np.float32)
                                                   for j in range(COLUMNS)}}),
                   folder / "account_attributes.parquet")
    start = T - (STEPS + 1) * STEP
    created = [start + int(s) * STEP + timedelta(hours=int(h))
               for s, h in zip(step, rng.integers(0, 300, n), strict=True)]
    pq.write_table(pa.table({"account_id": ids, "created_at": created,
                             "claimed_country": ["US"] * n,
                             "claimed_timezone": ["America/New_York"] * n}),
                   folder / "accounts.parquet")
    m = int(n * 1.17)
    left = rng.integers(0, n, m)
    low = np.searchsorted(step, step[left], "left")
    high = np.searchsorted(step, step[left], "right")
    right = low + (rng.random(m) * (high - low)).astype(int)
    # A third of an illicit account's links go to an illicit account of its own step.
    illicit = np.flatnonzero(bad)
    first = np.searchsorted(step[illicit], step[left], "left")
    count = np.searchsorted(step[illicit], step[left], "right") - first
    pick = illicit[np.minimum(first + (rng.random(m) * count).astype(int), len(illicit) - 1)]
    right = np.where(bad[left] & (count > 0) & (rng.random(m) < 0.3), pick, right)
    keep = left != right
    pq.write_table(pa.table({"account_id": ids[left[keep]], "other_account_id": ids[right[keep]],
                             "kind": ["paid"] * int(keep.sum())}),
                   folder / "account_links.parquet")
    labelled = (step < LABELLED_STEPS) & (rng.random(n) < np.where(bad, 0.25, 0.21))
    pq.write_table(pa.table({
        "account_id": ids[labelled], "label": pa.array(bad[labelled].astype(np.int8)),
        "decided_at": [c + timedelta(days=10) for c, lab in zip(created, labelled, strict=True)
                       if lab]}), folder / "labels.parquet")
    print(f"seed {seed}: {n:,} accounts, {int(keep.sum()):,} links, {labelled.sum():,} "
          f"labelled ({bad[labelled].mean():.1%} illicit)", file=sys.stderr, flush=True)
    return bad, step


def reference_scores(folder: Path, judged: list[str]) -> dict[str, np.ndarray]:
    """LightGBM on the attributes alone and with neighbour aggregates."""
    own = [c for c in pq.read_schema(folder / "account_attributes.parquet").names
           if c != "account_id"]
    return table_references(folder, with_neighbour_aggregates(folder, own[:AGGREGATED]), own,
                            judged)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("bench-data/transaction_graph"))
    parser.add_argument("--seeds", type=int, nargs="+", default=[1])
    parser.add_argument("--accounts", type=int, default=ACCOUNTS)
    args = parser.parse_args()
    print("| seed | export | scorer | PR-AUC | ROC AUC |")
    print("|---|---|---|---|---|")
    for seed in args.seeds:
        folder = args.data / f"s{seed}-n{args.accounts}"
        bad, step = build(folder, seed, args.accounts)
        judged_at = np.flatnonzero(step >= LABELLED_STEPS)
        judged = [f"x{i:07d}" for i in judged_at]
        scores = reference_scores(folder, judged)
        product, choice = product_scores(folder, folder.with_name(folder.name + "-work"), judged)
        print(f"  seed {seed}: {choice}", file=sys.stderr, flush=True)
        print_scores(seed, "labelled per step", bad[judged_at].astype(float),
                     {**scores, **product})


if __name__ == "__main__":
    main()
