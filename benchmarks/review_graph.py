"""A review platform built apart from the generator: many attributes, three relations.

    python benchmarks/review_graph.py --seeds 1 2 [--bans-only] [--hidden-pair] [--wide N]

`crowd_tasks.py` is one dense relation and a handful of attributes, with the banned
clustered on it. This one has the other shape of the public fraud graphs (a review site's
users): 25 numeric attributes carrying most of the signal, some of it not monotone (a
banned user's value is extreme on either side) or in a pair of attributes together (half
the banned are high on both; with `--hidden-pair` the banned mostly share the pair's sign,
which no single split sees), and three relations of very different density and use:
`same_product` (reviewed the same product; campaigns of banned users share products),
`same_rating_week` (gave the same rating in the same week; mean degree in the hundreds,
nearly blind to the label) and `similar_text` (near-duplicate review text; banned users
reuse templates, but most of their links go to ordinary users). About 9.5% of the users
are banned; 60% carry their decision, all on one date (no time in the export); with
`--bans-only` the export lists the bans alone. The rest are judged. No sessions, payouts
or portfolios. `--wide N` adds N float32 columns shaped like a text embedding (the public
graphs of posts and users carry 300-400): each is weak alone, the banned shifted a little
along one direction spread over all of them, so their signal lies past any first columns.

Scorers, on the judged accounts against the truth: LightGBM on the attributes alone; a
quick reference (attributes plus, per relation, the neighbours' mean and maximum of each
attribute, degree and the share of decided neighbours banned) at 500 trees of 31 leaves
and at 200 of 7; the product through its API (`crowd_tasks.product_scores`); the
red-flag rule score. PR-AUC and ROC AUC.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from crowd_tasks import export_views, print_scores, product_scores, table_references

ACCOUNTS = 11_944
ATTRIBUTES = 25
BANNED_SHARE = 0.095
DECIDED_SHARE = 0.6
RELATIONS = ("same_product", "same_rating_week", "similar_text")


def _cliques(groups: list[np.ndarray]) -> set[tuple[int, int]]:
    pairs: set[tuple[int, int]] = set()
    for members in groups:
        members = np.unique(members)
        a, b = np.triu_indices(len(members), 1)
        pairs.update(zip(members[a].tolist(), members[b].tolist(), strict=True))
    return pairs


def _attributes(rng: np.random.Generator, banned: np.ndarray,
                hidden_pair: bool) -> dict[str, np.ndarray]:
    n = len(banned)
    b = banned.astype(float)
    columns: dict[str, np.ndarray] = {}
    for k in range(ATTRIBUTES):
        columns[f"f{k:02d}"] = rng.normal(0, 1, n)
    for k, shift in enumerate((0.6, -0.5, 0.4, -0.35, 0.3)):  # shifted means
        columns[f"f{k:02d}"] += shift * b
    for k in (5, 6, 7):  # the banned sit at either extreme
        columns[f"f{k:02d}"] *= np.where(banned, 1.9, 1.0)
    if hidden_pair:  # the banned mostly share the pair's sign: no single split sees it
        sign = np.where(rng.random(n) < 0.5, -1.0, 1.0)
        columns["f08"] = np.abs(columns["f08"]) * sign
        columns["f09"] = np.abs(columns["f09"]) * np.where(banned & (rng.random(n) < 0.7),
                                                           sign, -sign)
    else:  # half the banned are high on both
        together = banned & (rng.random(n) < 0.5)
        columns["f08"] += 0.9 * together
        columns["f09"] += 0.9 * together
    columns["f10"] = np.round(np.exp(columns["f10"] + 0.5 * b) * 3)  # a count
    columns["f11"] = np.clip(np.round(rng.normal(3.8 - 0.4 * b, 1.1)), 1, 5)  # a mean rating
    out = {name: values.round(4) for name, values in columns.items()}
    missing = rng.random(n) < 0.05  # profiles that never filled some fields
    out["f12"] = np.where(missing, np.nan, out["f12"])
    return out


def _embedding(rng: np.random.Generator, banned: np.ndarray, width: int) -> dict[str, np.ndarray]:
    """``width`` columns like a text embedding: the banned shifted by 1.5 standard deviations
    along a random direction, so each column alone shows 1.5 / sqrt(width) of it."""
    direction = rng.normal(0, 1, width)
    direction /= np.linalg.norm(direction)
    values = rng.normal(0, 1, (len(banned), width)) + 1.5 * np.outer(banned, direction)
    return {f"e{k:03d}": values[:, k].astype(np.float32) for k in range(width)}


def build(folder: Path, seed: int, n: int = ACCOUNTS, bans_only: bool = False,
          hidden_pair: bool = False, wide: int = 0) -> np.ndarray:
    """Write the platform's contract folder; return who is banned (the truth)."""
    rng = np.random.default_rng(seed)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    ids = np.array([f"r{i:05d}" for i in range(n)])
    banned = rng.random(n) < BANNED_SHARE
    bad, good = np.flatnonzero(banned), np.flatnonzero(~banned)
    attributes = {"account_id": ids, **_attributes(rng, banned, hidden_pair),
                  **_embedding(np.random.default_rng([seed, 1]), banned, wide)}
    pq.write_table(pa.table(attributes), folder / "account_attributes.parquet")
    created = [datetime(2022, 1, 1) + timedelta(days=int(d)) for d in rng.integers(0, 900, n)]
    pq.write_table(pa.table({"account_id": ids, "created_at": created,
                             "claimed_country": ["US"] * n,
                             "claimed_timezone": ["America/Chicago"] * n}),
                   folder / "accounts.parquet")
    products = [rng.choice(n, rng.integers(3, 12), replace=False) for _ in range(n // 2)]
    campaigns = [np.concatenate([rng.choice(bad, rng.integers(3, 9)), rng.choice(good, 2)])
                 for _ in range(len(bad) // 4)]
    weeks = [rng.choice(n, rng.integers(100, 250), replace=False) for _ in range(n // 120)]
    templates = [np.concatenate([rng.choice(bad, 2), rng.choice(good, rng.integers(8, 30))])
                 for _ in range(len(bad) // 2)]
    ordinary = [rng.choice(n, rng.integers(5, 40), replace=False) for _ in range(n // 12)]
    links = {"same_product": _cliques(products + campaigns),
             "same_rating_week": _cliques(weeks),
             "similar_text": _cliques(templates + ordinary)}
    left, right, kinds = [], [], []
    for kind, pairs in links.items():
        a, b = np.array(sorted(pairs)).T
        left.append(ids[a])
        right.append(ids[b])
        kinds += [kind] * len(a)
        print(f"  {kind}: mean degree {2 * len(a) / n:.0f}", file=sys.stderr)
    pq.write_table(pa.table({"account_id": np.concatenate(left),
                             "other_account_id": np.concatenate(right), "kind": kinds}),
                   folder / "account_links.parquet")
    decided = rng.random(n) < DECIDED_SHARE
    if bans_only:
        decided &= banned
    pq.write_table(pa.table({"account_id": ids[decided],
                             "label": pa.array(banned[decided].astype(np.int8)),
                             "decided_at": [datetime(2025, 6, 1)] * int(decided.sum())}),
                   folder / "labels.parquet")
    print(f"seed {seed}: {n:,} accounts, {len(kinds):,} links, {banned.mean():.1%} banned, "
          f"{decided.sum():,} decided", file=sys.stderr, flush=True)
    return banned


def reference_scores(folder: Path, judged: list[str]) -> dict[str, np.ndarray]:
    """LightGBM on the attributes alone and with per-relation neighbour aggregates."""
    con = export_views(folder)
    own = [c for c in con.table("account_attributes").columns if c != "account_id"]
    selects, joins = [], []
    for r, kind in enumerate(RELATIONS):
        aggregates = ", ".join(f"{f}(n.{c}) AS r{r}_{f}_{c}" for c in own for f in ("avg", "max"))
        selects.append(f"r{r}.* EXCLUDE (a)")
        joins.append(f"""LEFT JOIN (
            SELECT e.a, {aggregates}, count(*) AS r{r}_degree, avg(l.label) AS r{r}_banned_share
            FROM (SELECT account_id AS a, other_account_id AS b FROM account_links
                  WHERE kind = '{kind}' UNION ALL
                  SELECT other_account_id, account_id FROM account_links WHERE kind = '{kind}')
                 AS e JOIN account_attributes AS n ON n.account_id = e.b
            LEFT JOIN labels AS l ON l.account_id = e.b GROUP BY e.a
        ) AS r{r} ON r{r}.a = t.account_id""")
    table = con.sql(f"SELECT t.*, {', '.join(selects)} FROM account_attributes AS t "
                    f"{' '.join(joins)} ORDER BY t.account_id").to_arrow_table()
    return table_references(folder, table, own, judged)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("bench-data/review_graph"))
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--bans-only", action="store_true",
                        help="export the bans only (no cleared decisions)")
    parser.add_argument("--hidden-pair", action="store_true",
                        help="the pair's signal in the sign they share (no single split sees it)")
    parser.add_argument("--wide", type=int, default=0, metavar="N",
                        help="add N embedding-like attribute columns")
    parser.add_argument("--accounts", type=int, default=ACCOUNTS)
    args = parser.parse_args()
    print("| seed | export | scorer | PR-AUC | ROC AUC |")
    print("|---|---|---|---|---|")
    for seed in args.seeds:
        folder = args.data / (f"s{seed}{'-bans' if args.bans_only else ''}"
                              f"{'-hidden' if args.hidden_pair else ''}"
                              f"{f'-wide{args.wide}' if args.wide else ''}")
        banned = build(folder, seed, args.accounts, args.bans_only, args.hidden_pair, args.wide)
        decided = set(pq.read_table(folder / "labels.parquet").column("account_id").to_pylist())
        judged = [f"r{i:05d}" for i in range(args.accounts) if f"r{i:05d}" not in decided]
        y = np.array([banned[int(a[1:])] for a in judged], dtype=float)
        scores = reference_scores(folder, judged)
        product, choice = product_scores(folder, folder.with_name(folder.name + "-work"), judged)
        print(f"  seed {seed}: {choice}", file=sys.stderr, flush=True)
        export = ("bans only" if args.bans_only else "decisions") + (
            ", hidden pair" if args.hidden_pair else "") + (
            f", {args.wide} wide" if args.wide else "")
        print_scores(seed, export, y, {**scores, **product})


if __name__ == "__main__":
    main()
