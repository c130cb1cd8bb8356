"""Platform graphs at the size of the public financial fraud graphs, built apart from the
generator: does training finish, how long, how much memory, and how well it ranks.

    python benchmarks/graph_scale.py --shapes dense millions [--seeds 1]

Two shapes, attributes and one relation each, every decision on one date (no time in the
export), 40% of the accounts decided, the rest judged against the truth:
- ``dense``: T-Finance's size (39,357 accounts, ~10.6 million undirected transaction links,
  mean degree ~540, heavy-tailed: the busiest accounts link to nearly twenty thousand).
- ``millions``: DGraph-Fin's size (3.7 million accounts, ~4.3 million links, mean degree
  ~2: one giant sparse graph where most accounts are never decided).
Both: 10 numeric attributes (four shifted for the banned), 4.6% banned, the banned more
linked (1.1 and 1.5 times) and some of their links redirected to other banned accounts (1%
of ~540, a fifth of ~2). No sessions, payouts or portfolios.

Scorers: the product through its API (`crowd_tasks.product_scores`) and a quick reference
(LightGBM 200 trees of 7 leaves on the attributes plus the neighbours' mean and maximum of
each, degree and the share of decided neighbours banned). Prints PR-AUC and ROC AUC, the
product's training time and the process's peak RSS (the generator's arrays included).
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from crowd_tasks import print_scores, product_scores, with_neighbour_aggregates

# accounts, links, the banned's link propensity and the share of their links redirected
# to banned accounts: with ~540 links an account, even 1% of them redirected shows.
SHAPES = {"dense": (39_357, 10_600_000, 1.1, 0.01), "millions": (3_700_000, 4_300_000, 1.5, 0.2)}
ATTRIBUTES, SHIFTED, BANNED_SHARE, DECIDED_SHARE = 10, 4, 0.046, 0.4


def build(folder: Path, seed: int, accounts: int, pairs: int, propensity: float,
          redirected: float) -> np.ndarray:
    """Write the platform's contract folder (once per shape and seed); return who is
    banned."""
    rng = np.random.default_rng(seed)
    banned = rng.random(accounts) < BANNED_SHARE
    if folder.exists():
        return banned
    ids = np.array([f"g{i:07d}" for i in range(accounts)])
    columns = {"account_id": ids}
    for j in range(ATTRIBUTES):
        shift = banned * rng.normal(0.8, 0.5, accounts) if j < SHIFTED else 0.0
        columns[f"f{j}"] = (rng.normal(size=accounts) + shift).astype(np.float32)
    tmp = folder.with_name(folder.name + ".tmp")
    tmp.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table(columns), tmp / "account_attributes.parquet")
    created = [datetime(2022, 1, 1) + timedelta(days=int(d))
               for d in rng.integers(0, 900, accounts)]
    pq.write_table(pa.table({"account_id": ids, "created_at": created,
                             "claimed_country": pa.array(["US"] * accounts).dictionary_encode(),
                             "claimed_timezone": pa.array(["America/Chicago"] * accounts)
                             .dictionary_encode()}), tmp / "accounts.parquet")
    # Chung-Lu: endpoints drawn by a heavy-tailed propensity, the banned's higher.
    weight = rng.lognormal(0.0, 1.3, accounts) * np.where(banned, propensity, 1.0)
    drawn = int(pairs * 1.15)
    a = rng.choice(accounts, drawn, p=weight / weight.sum())
    b = rng.choice(accounts, drawn, p=weight / weight.sum())
    redirect = banned[a] & (rng.random(drawn) < redirected)
    b[redirect] = rng.choice(np.flatnonzero(banned), int(redirect.sum()))
    key = np.unique(np.minimum(a, b).astype(np.int64) * accounts + np.maximum(a, b))
    key = key[key // accounts != key % accounts][:pairs]
    pq.write_table(pa.table({"account_id": ids[key // accounts],
                             "other_account_id": ids[key % accounts],
                             "kind": pa.array(["transfer"] * len(key)).dictionary_encode()}),
                   tmp / "account_links.parquet")
    decided = rng.random(accounts) < DECIDED_SHARE
    pq.write_table(pa.table({"account_id": ids[decided],
                             "label": pa.array(banned[decided].astype(np.int8)),
                             "decided_at": [datetime(2025, 6, 1)] * int(decided.sum())}),
                   tmp / "labels.parquet")
    tmp.rename(folder)
    return banned


def reference_score(folder: Path, judged: list[str]) -> np.ndarray:
    """LightGBM 200 x 7 leaves on the attributes and one-hop neighbour aggregates."""
    import lightgbm as lgb

    table = with_neighbour_aggregates(folder, [f"f{j}" for j in range(ATTRIBUTES)])
    names = [c for c in table.column_names if c != "account_id"]
    x = np.column_stack([np.asarray(table.column(c).to_numpy(zero_copy_only=False), dtype=float)
                         for c in names])
    at = {a: i for i, a in enumerate(table.column("account_id").to_pylist())}
    labels = pq.read_table(folder / "labels.parquet")
    train = np.array([at[a] for a in labels.column("account_id").to_pylist()])
    params = {"objective": "binary", "learning_rate": 0.05, "num_leaves": 7, "verbose": -1,
              "seed": 0, "num_threads": 2}
    booster = lgb.train(params, lgb.Dataset(x[train], labels.column("label").to_numpy()),
                        num_boost_round=200)
    return booster.predict(x[[at[a] for a in judged]])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("bench-data/graph_scale"))
    parser.add_argument("--shapes", nargs="+", choices=list(SHAPES), default=list(SHAPES))
    parser.add_argument("--seeds", type=int, nargs="+", default=[1])
    args = parser.parse_args()
    print("| seed | shape | scorer | PR-AUC | ROC AUC |")
    print("|---|---|---|---|---|")
    for shape in args.shapes:
        accounts, pairs, propensity, redirected = SHAPES[shape]
        for seed in args.seeds:
            folder = args.data / f"{shape}-s{seed}"
            banned = build(folder, seed, accounts, pairs, propensity, redirected)
            decided = set(pq.read_table(folder / "labels.parquet").column("account_id")
                          .to_pylist())
            judged = [f"g{i:07d}" for i in np.flatnonzero(~np.isin(
                np.arange(accounts), [int(a[1:]) for a in decided]))]
            y = banned[[int(a[1:]) for a in judged]].astype(float)
            started = time.perf_counter()
            product, choice = product_scores(folder, folder.with_name(folder.name + "-work"),
                                             judged)
            took = time.perf_counter() - started
            print(f"  {shape} seed {seed}: product {took:.0f} s (train and score); {choice}",
                  file=sys.stderr, flush=True)
            print_scores(seed, shape, y, {**product,
                                          "reference 200 x 7 leaves": reference_score(folder,
                                                                                      judged)})
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
            print(f"  {shape} seed {seed}: peak RSS so far {peak:.1f} GB", file=sys.stderr,
                  flush=True)


if __name__ == "__main__":
    main()
