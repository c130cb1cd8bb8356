"""A crowd-work platform built apart from the generator: the product against a reference.

    python benchmarks/crowd_tasks.py --seeds 2 3 [--one-date | --waves] [--bans-only]

`synthetic/` writes every other benchmark's marketplaces, and the project was tuned on them.
This one is built here, on purpose unlike them, after the shape of a real crowd-work
platform's export: ~12,000 accounts with rates, age, education and English-test attributes
only (no sessions, payouts or portfolios), one dense relation `same_task` made of task
cliques (mean degree about 90), 22% of the accounts banned. Banned workers lean to
low-quality tasks, and a task's quality moves its workers' rates, so the signal is partly
in the attributes and partly in the co-workers'. 60% of the accounts carry their decision
(dated over 2025; all stamped 2025-06-01 with `--one-date`; with `--waves` most bans come
in two waves, clearances over the year); with `--bans-only` the export lists the bans
alone. The rest are judged.

Scorers, on the judged accounts against the truth: LightGBM on the attributes alone; a
quick reference (attributes plus co-workers' mean, max, min and spread of each numeric
attribute, degree and the share of decided co-workers banned), at 500 trees of 31 leaves
and at 200 of 7; the product trained through its API as `accountrisk train` would (no
MLflow), its trees alone and with the red flags added at 0.5 log-odds a point (what it
ships is one of them: the run says which); the red-flag rule score. PR-AUC and ROC AUC.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

ACCOUNTS = 11_758
TASKS = 700
BANNED_SHARE = 0.218
DECIDED_SHARE = 0.6
T = datetime(2026, 1, 1)
NUMERIC = ("approved_rate", "rejected_rate", "skipped_rate", "expired_rate", "age")
EDUCATION = ("basic", "middle", "high", "bachelor", "master", "phd")


def _logistic(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def build(folder: Path, seed: int, one_date: bool, n: int = ACCOUNTS,
          bans_only: bool = False, waves: bool = False) -> np.ndarray:
    """Write the platform's contract folder; return who is banned (the truth)."""
    rng = np.random.default_rng(seed)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    ids = np.array([f"t{i:05d}" for i in range(n)])
    banned = rng.random(n) < BANNED_SHARE
    bad_task = rng.random(TASKS) < 0.25
    quality = np.where(bad_task, rng.normal(-1, 0.5, TASKS), rng.normal(0.5, 0.5, TASKS))
    size = np.maximum(5, rng.lognormal(3.3, 0.6, TASKS))
    p_all, bad = size / size.sum(), np.flatnonzero(bad_task)
    p_bad = p_all[bad] / p_all[bad].sum()
    members: list[set[int]] = [set() for _ in range(TASKS)]
    for i in range(n):
        for _ in range(rng.poisson(0.8) + 1):
            leans_bad = rng.random() < (0.6 if banned[i] else 0.15)
            members[rng.choice(bad, p=p_bad) if leans_bad else rng.choice(TASKS, p=p_all)].add(i)
    exposure, count = np.zeros(n), np.zeros(n)
    for task, workers in enumerate(members):
        for i in workers:
            exposure[i] += quality[task]
            count[i] += 1
    exposure /= np.maximum(count, 1)
    z = rng.normal(0, 1, n)
    columns = {
        "approved_rate": _logistic(2.2 + exposure - 0.35 * banned + 0.8 * z),
        "rejected_rate": _logistic(-3 - 0.8 * exposure + 0.3 * banned - 0.6 * z
                                   + rng.normal(0, 0.7, n)),
        "skipped_rate": _logistic(-1.5 + 0.2 * banned + rng.normal(0, 1, n)),
        "expired_rate": _logistic(-2.5 + 0.2 * banned + rng.normal(0, 1, n)),
    }
    education = np.where(banned, rng.choice(EDUCATION, n, p=[.1, .25, .35, .2, .08, .02]),
                         rng.choice(EDUCATION, n, p=[.05, .15, .3, .3, .17, .03]))
    attributes = {"account_id": ids, **{k: v.round(4) for k, v in columns.items()},
                  "education": education,
                  "age": np.clip(rng.normal(np.where(banned, 29, 34), 9), 18, 75).astype(int),
                  "english_tested": rng.random(n) < np.where(banned, 0.25, 0.35),
                  "english_profile": rng.random(n) < 0.6}
    pq.write_table(pa.table(attributes), folder / "account_attributes.parquet")
    created = [datetime(2023, 1, 1) + timedelta(days=int(d)) for d in rng.integers(0, 700, n)]
    pq.write_table(pa.table({"account_id": ids, "created_at": created,
                             "claimed_country": ["US"] * n,
                             "claimed_timezone": ["America/New_York"] * n}),
                   folder / "accounts.parquet")
    pairs = {(a, b) for workers in members for a in workers for b in workers if a < b}
    left, right = np.array(sorted(pairs)).T
    pq.write_table(pa.table({"account_id": ids[left], "other_account_id": ids[right],
                             "kind": ["same_task"] * len(left)}), folder / "account_links.parquet")
    decided = rng.random(n) < DECIDED_SHARE
    hours = rng.integers(0, 360 * 24, n)
    if waves:  # mass bans: a fifth spread over the year, the rest in two fortnights
        wave = rng.choice([-1, 60 * 24, 300 * 24], n, p=[0.2, 0.3, 0.5])
        hours = np.where((wave < 0) | ~banned, hours, wave + rng.integers(0, 14 * 24, n))
    if bans_only:  # the export lists the bans only: cleared accounts look undecided
        decided &= banned
    when = [datetime(2025, 6, 1) if one_date else datetime(2025, 1, 1) + timedelta(hours=int(h))
            for h in hours[decided]]
    pq.write_table(pa.table({"account_id": ids[decided],
                             "label": pa.array(banned[decided].astype(np.int8)),
                             "decided_at": when}), folder / "labels.parquet")
    print(f"seed {seed}: {n:,} accounts, {len(left):,} links (mean degree "
          f"{2 * len(left) / n:.0f}), {banned.mean():.1%} banned, {decided.sum():,} decided",
          file=sys.stderr, flush=True)
    return banned


def _reference_matrix(folder: Path) -> tuple[list[str], np.ndarray, list[str]]:
    """Account ids, the reference's feature matrix and its column names."""
    con = export_views(folder)
    aggregates = ", ".join(f"{f}(n.{c}) AS {f}_{c}" for c in NUMERIC
                           for f in ("avg", "max", "min", "stddev_samp"))
    table = con.sql(f"""
        WITH edges AS (SELECT account_id AS a, other_account_id AS b FROM account_links
                       UNION ALL SELECT other_account_id, account_id FROM account_links),
        agg AS (SELECT e.a, {aggregates}, count(*) AS degree,
                       avg(l.label) AS decided_banned_share
                FROM edges AS e JOIN account_attributes AS n ON n.account_id = e.b
                LEFT JOIN labels AS l ON l.account_id = e.b GROUP BY e.a)
        SELECT t.*, CAST(list_position({list(EDUCATION)}, t.education) AS DOUBLE)
                        AS education_code, agg.* EXCLUDE (a)
        FROM account_attributes AS t LEFT JOIN agg ON agg.a = t.account_id
        ORDER BY t.account_id""").to_arrow_table()
    names = [c for c in table.column_names if c not in ("account_id", "education")]
    matrix = np.column_stack([np.asarray(table.column(c).to_numpy(zero_copy_only=False),
                                         dtype=float) for c in names])
    return table.column("account_id").to_pylist(), matrix, names


def reference_scores(folder: Path, judged: list[str]) -> dict[str, np.ndarray]:
    """The attribute-only and the neighbour-aggregate LightGBM references' scores."""
    ids, x, names = _reference_matrix(folder)
    own = [i for i, c in enumerate(names) if not any(c.startswith(f"{f}_") for f in
                                                     ("avg", "max", "min", "stddev_samp"))
           and c not in ("degree", "decided_banned_share")]
    return fit_references(folder, ids, x, own, judged)


def fit_references(folder: Path, ids: list[str], x: np.ndarray, own: list[int],
                   judged: list[str]) -> dict[str, np.ndarray]:
    """LightGBM on the columns ``own`` of ``x`` (the attributes; rows in ``ids`` order) and
    on every column, at 500 trees of 31 leaves and 200 of 7, trained on the folder's
    decisions (bans alone: every other account stands for a negative); ``judged``'s
    scores."""
    import lightgbm as lgb

    at = {a: i for i, a in enumerate(ids)}
    labels = pq.read_table(folder / "labels.parquet").to_pylist()
    train = np.array([at[r["account_id"]] for r in labels])
    y = np.array([r["label"] for r in labels])
    if y.min() == 1:  # bans only: every other account stands for a negative
        train, y = np.arange(len(ids)), np.isin(np.arange(len(ids)), train).astype(int)
    test = np.array([at[a] for a in judged])
    out = {}
    for label, columns, trees, leaves in (("attributes only", own, 500, 31),
                                          ("reference 500 x 31 leaves", None, 500, 31),
                                          ("reference 200 x 7 leaves", None, 200, 7)):
        cols = columns if columns is not None else list(range(x.shape[1]))
        params = {"objective": "binary", "learning_rate": 0.05, "num_leaves": leaves,
                  "verbose": -1, "seed": 0, "num_threads": 2}
        booster = lgb.train(params, lgb.Dataset(x[train][:, cols], y), num_boost_round=trees)
        out[label] = booster.predict(x[test][:, cols])
    return out


def export_views(folder: Path) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with the export's attributes, links and labels as views."""
    con = duckdb.connect()
    for name in ("account_attributes", "account_links", "labels"):
        con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{folder / name}.parquet')")
    return con


def with_neighbour_aggregates(folder: Path, aggregated: list[str]) -> pa.Table:
    """The export's attributes, by account, with over its links (either direction) the
    neighbours' mean and maximum of ``aggregated`` (``avg_<c>``, ``max_<c>``), the degree
    and the share of decided neighbours banned (``banned_share``)."""
    aggregates = ", ".join(f"{f}(n.{c}) AS {f}_{c}" for c in aggregated for f in ("avg", "max"))
    return export_views(folder).sql(f"""
        WITH edges AS (SELECT account_id AS a, other_account_id AS b FROM account_links
                       UNION ALL SELECT other_account_id, account_id FROM account_links),
        agg AS (SELECT e.a, {aggregates}, count(*) AS degree, avg(l.label) AS banned_share
                FROM edges AS e JOIN account_attributes AS n ON n.account_id = e.b
                LEFT JOIN labels AS l ON l.account_id = e.b GROUP BY e.a)
        SELECT t.*, agg.* EXCLUDE (a) FROM account_attributes AS t
        LEFT JOIN agg ON agg.a = t.account_id ORDER BY t.account_id""").to_arrow_table()


def table_references(folder: Path, table: pa.Table, own: list[str],
                     judged: list[str]) -> dict[str, np.ndarray]:
    """:func:`fit_references` on ``table`` (``account_id`` and numeric columns; ``own``:
    the accounts' own attributes among them)."""
    names = [c for c in table.column_names if c != "account_id"]
    x = np.column_stack([np.asarray(table.column(c).to_numpy(zero_copy_only=False), dtype=float)
                         for c in names])
    return fit_references(folder, table.column("account_id").to_pylist(), x,
                          [names.index(c) for c in own], judged)


def print_scores(seed: int, export: str, truth: np.ndarray,
                 scores: dict[str, np.ndarray]) -> None:
    """One table row per scorer: PR-AUC and ROC AUC of ``scores`` against ``truth``."""
    from accountrisk.training.metrics import evaluate

    for name, score in scores.items():
        m = evaluate(truth, score, budgets=(0.01,))
        print(f"| {seed} | {export} | {name} | {m['pr_auc']:.3f} | {m['roc_auc']:.3f} |",
              flush=True)


def product_scores(folder: Path, work: Path, judged: list[str]) -> tuple[dict, str]:
    """The product's shipped score, its trees alone, trees plus flags, and the rules."""
    from accountrisk.features.pipeline import build_features, parse_as_of
    from accountrisk.features.workspace import ensure_loaded, open_database
    from accountrisk.training.api import train
    from accountrisk.training.bundle import read_bundle
    from accountrisk.training.predict import raw_scores
    from accountrisk.training.rules import rule_points, rule_score, rules_from_json

    shutil.rmtree(work, ignore_errors=True)
    said: list[str] = []
    result = train(folder, T.isoformat(), workdir=work, seed=0, register=False, plots=False,
                   say=said.append)
    with open_database(work) as engine:
        ensure_loaded(engine, folder)
        features = build_features(engine, parse_as_of(T.isoformat()))
    at = {a: i for i, a in enumerate(features.column("account_id").to_pylist())}
    rows = features.take([at[a] for a in judged])
    bundle = read_bundle(result.model_dir)
    shipped = np.asarray(raw_scores(bundle, rows), dtype=float)
    rules = rules_from_json(bundle.metadata["rules"])  # as weighed on this marketplace
    points = rule_points(rows, rules)
    added = (bundle.metadata.get("final_fit") or {}).get("rule_point_log_odds", 0.0)
    trees = shipped - added * points if bundle.kind == "model" else shipped
    choice = next((s for s in said if s.startswith("chose")), "")
    return ({f"product, shipped ({bundle.kind}, flags {added:g} a point)": shipped,
             "product, trees alone": trees, "product, trees + flags at 0.5": trees + 0.5 * points,
             "product, red-flag rules": rule_score(rows, rules)}, choice)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("bench-data/crowd_tasks"))
    parser.add_argument("--seeds", type=int, nargs="+", default=[2, 3])
    dates = parser.add_mutually_exclusive_group()
    dates.add_argument("--one-date", action="store_true",
                       help="stamp every decision with one date (an export's date)")
    parser.add_argument("--bans-only", action="store_true",
                        help="export the bans only (no cleared decisions)")
    dates.add_argument("--waves", action="store_true",
                       help="date most bans in two waves (March, November 2025)")
    parser.add_argument("--accounts", type=int, default=ACCOUNTS)
    args = parser.parse_args()
    print("| seed | decisions dated | scorer | PR-AUC | ROC AUC |")
    print("|---|---|---|---|---|")
    for seed in args.seeds:
        folder = args.data / (f"s{seed}{'-one-date' if args.one_date else ''}"
                              f"{'-bans' if args.bans_only else ''}"
                              f"{'-waves' if args.waves else ''}")
        banned = build(folder, seed, args.one_date, args.accounts, args.bans_only, args.waves)
        decided = set(pq.read_table(folder / "labels.parquet").column("account_id").to_pylist())
        ids = [f"t{i:05d}" for i in range(args.accounts)]
        judged = [a for a in ids if a not in decided]
        y = np.array([banned[int(a[1:])] for a in judged], dtype=float)
        scores = reference_scores(folder, judged)
        product, choice = product_scores(folder, folder.with_name(folder.name + "-work"), judged)
        print(f"  seed {seed}: {choice}", file=sys.stderr, flush=True)
        dated = ("one date" if args.one_date else "in two waves" if args.waves
                 else "over 2025") + (", bans only" if args.bans_only else "")
        print_scores(seed, dated, y, {**scores, **product})


if __name__ == "__main__":
    main()
