"""Fronted accounts on a marketplace built apart from the generator: product vs references.

    python benchmarks/stranger_fronts.py --scenarios tokens nothing realistic --seeds 1 2

`synthetic/` writes the marketplaces the project was tuned on, so its numbers flatter the
product. `_stranger.py` was written from the data contract and the public advisories alone,
by someone who had not read the generator or the features: honest freelancers, look-alike
groups (VPN users, travellers, night workers, families, studios sharing a payout account,
IT support, expats, crypto earners) and fronts run from UTC+3/+8/+9 in cells, which share
farms, payouts and portfolios (`tokens`, ~3% fronted), share nothing (`nothing`, ~2%) or
mix both at 0.3% (`realistic`); `--thin` keeps accounts, sessions and labels only,
`--bans-only` the confirmed decisions only.
Decisions are dated over 2025; the model is trained as of 2026-01-01 and judged on every
undecided account created before then.

Scorers: the product as `accountrisk train` ships it (no MLflow) and its trees alone where
it adds the red flags on top, its red-flag rule score (as weighed on this marketplace), the
plain one-point checklist (`_checklist.py`), and a quick reference: LightGBM (200 trees of 7
leaves) on an hour's worth of raw-table aggregates (shared tokens, session and payout
shares, night work in the claimed zone), trained on the same decisions, read at T. Metrics as in
`quality.py`: PR-AUC, ROC AUC, recall in the top 1%, the worst look-alike group's share of
its members in the top 1%.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import duckdb
import numpy as np
import pyarrow.parquet as pq

from _checklist import checklist_score  # benchmarks/ is on sys.path when run as a script
from _stranger import build
from quality import _metrics, keep_bans_only, trees_alone

T = "2026-01-01"
THIN = ("accounts", "sessions", "labels")  # what a thin export keeps
EMPTY = {
    "activity": "NULL::VARCHAR AS account_id, NULL::TIMESTAMP AS ts",
    "payout_methods": "NULL::VARCHAR AS account_id, NULL::VARCHAR AS payout_token, "
                      "NULL::VARCHAR AS method, NULL::VARCHAR AS destination_country, "
                      "NULL::TIMESTAMP AS added_at",
    "portfolio_items": "NULL::VARCHAR AS account_id, NULL::VARCHAR AS image_phash, "
                       "NULL::VARCHAR AS url, NULL::TIMESTAMP AS added_at",
    "proposals": "NULL::VARCHAR AS account_id, NULL::VARCHAR AS cover_text, "
                 "NULL::TIMESTAMP AS submitted_at",
}


def _shared(table: str, key: str, time: str) -> str:
    """Per account: other accounts that used one of its ``key`` values before T."""
    return f"""
        (WITH u AS (SELECT DISTINCT account_id, {key} AS k FROM {table}
                    WHERE {key} IS NOT NULL AND {time} < TIMESTAMP '{T}')
         SELECT a.account_id, count(DISTINCT b.account_id) AS n
         FROM u AS a JOIN u AS b ON a.k = b.k AND a.account_id <> b.account_id
         GROUP BY a.account_id)"""


def _reference_matrix(folder: Path) -> tuple[list[str], np.ndarray, list[str]]:
    """An hour's work of features from the raw tables as of T."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    for f in folder.glob("*.parquet"):
        con.execute(f"CREATE VIEW {f.stem} AS SELECT * FROM read_parquet('{f}')")
    for name, columns in EMPTY.items():  # a thin export: what is missing is empty
        if not (folder / f"{name}.parquet").exists():
            con.execute(f"CREATE VIEW {name} AS SELECT {columns} WHERE FALSE")
    local = "timezone(a.claimed_timezone, CAST({ts} AS TIMESTAMPTZ))"
    s_local = local.format(ts="s.started_at")
    w_local = local.format(ts="w.ts")
    table = con.sql(f"""
        WITH s AS (
            SELECT s.account_id, count(*) AS sessions,
                   avg(CAST(s.ip_type IN ('vpn', 'proxy', 'tor') AS DOUBLE)) AS anon_share,
                   avg(CAST(s.ip_type = 'hosting' AS DOUBLE)) AS hosting_share,
                   avg(CAST(s.remote_access_tool IS NOT NULL AS DOUBLE)) AS remote_share,
                   avg(CAST(s.ip_country <> a.claimed_country AS DOUBLE)) AS abroad_share,
                   avg(CAST(s.browser_utc_offset_min <>
                       epoch({s_local} - s.started_at) / 60 AS DOUBLE)) AS offset_share,
                   count(DISTINCT s.device_token) AS devices
            FROM sessions AS s JOIN accounts AS a USING (account_id)
            WHERE s.started_at < TIMESTAMP '{T}' GROUP BY s.account_id),
        w AS (
            SELECT w.account_id, count(*) AS actions,
                   avg(CAST(hour({w_local}) < 6 AS DOUBLE)) AS night_share,
                   avg(CAST(hour({w_local}) BETWEEN 9 AND 17 AS DOUBLE)) AS office_share
            FROM activity AS w JOIN accounts AS a USING (account_id)
            WHERE w.ts < TIMESTAMP '{T}' GROUP BY w.account_id),
        p AS (
            SELECT p.account_id, count(*) AS methods,
                   avg(CAST(p.method = 'crypto' AS DOUBLE)) AS crypto_share,
                   avg(CAST(p.destination_country <> a.claimed_country AS DOUBLE))
                       AS payout_abroad_share
            FROM payout_methods AS p JOIN accounts AS a USING (account_id)
            WHERE p.added_at < TIMESTAMP '{T}' GROUP BY p.account_id)
        SELECT a.account_id, s.* EXCLUDE (account_id), w.* EXCLUDE (account_id),
               p.* EXCLUDE (account_id),
               pay.n AS payout_mates, ip.n AS ip_mates, dev.n AS device_mates,
               img.n AS image_mates, url.n AS link_mates, txt.n AS text_mates,
               photo.n AS photo_mates
        FROM accounts AS a
        LEFT JOIN s USING (account_id) LEFT JOIN w USING (account_id)
        LEFT JOIN p USING (account_id)
        LEFT JOIN {_shared('payout_methods', 'payout_token', 'added_at')} AS pay
            USING (account_id)
        LEFT JOIN {_shared('sessions', 'ip_token', 'started_at')} AS ip USING (account_id)
        LEFT JOIN {_shared('sessions', 'device_token', 'started_at')} AS dev
            USING (account_id)
        LEFT JOIN {_shared('portfolio_items', 'image_phash', 'added_at')} AS img
            USING (account_id)
        LEFT JOIN {_shared('portfolio_items', 'url', 'added_at')} AS url USING (account_id)
        LEFT JOIN {_shared('proposals', 'cover_text', 'submitted_at')} AS txt
            USING (account_id)
        LEFT JOIN {_shared('accounts', 'profile_photo_phash', 'created_at')} AS photo
            USING (account_id)
        WHERE a.created_at < TIMESTAMP '{T}'
        ORDER BY a.account_id""").to_arrow_table()
    names = [c for c in table.column_names if c != "account_id"]
    matrix = np.column_stack([np.asarray(table.column(c).to_numpy(zero_copy_only=False),
                                         dtype=float) for c in names])
    return table.column("account_id").to_pylist(), matrix, names


def reference_score(folder: Path, judged: list[str]) -> np.ndarray:
    """The quick reference's scores of the judged accounts."""
    import lightgbm as lgb

    ids, x, _ = _reference_matrix(folder)
    at = {a: i for i, a in enumerate(ids)}
    labels = [r for r in pq.read_table(folder / "labels.parquet").to_pylist()
              if r["account_id"] in at]
    train = np.array([at[r["account_id"]] for r in labels])
    y = np.array([r["label"] for r in labels])
    if y.min() == 1:  # bans only: every other account stands for a negative
        train, y = np.arange(len(ids)), np.isin(np.arange(len(ids)), train).astype(int)
    params = {"objective": "binary", "learning_rate": 0.05, "num_leaves": 7,
              "min_data_in_leaf": 5, "verbose": -1, "seed": 0, "num_threads": 2}
    booster = lgb.train(params, lgb.Dataset(x[train], y), num_boost_round=200)
    return booster.predict(x[[at[a] for a in judged]])


def product_scores(folder: Path, work: Path) -> tuple[list[str], dict[str, np.ndarray], str]:
    """Judged accounts (undecided before T) and the product's, rules' and checklist's
    scores of them."""
    from accountrisk.features.pipeline import build_features, parse_as_of
    from accountrisk.features.workspace import ensure_loaded, open_database
    from accountrisk.training.api import train
    from accountrisk.training.bundle import read_bundle
    from accountrisk.training.dataset import latest_decisions
    from accountrisk.training.predict import raw_scores
    from accountrisk.training.rules import rule_score, rules_from_json

    shutil.rmtree(work, ignore_errors=True)
    result = train(folder, T, workdir=work, seed=0, register=False, plots=False,
                   say=lambda m: print(f"  {m}", file=sys.stderr, flush=True))
    moment = parse_as_of(T)
    with open_database(work) as engine:
        ensure_loaded(engine, folder)
        features = build_features(engine, moment)
        decided = set(latest_decisions(engine, moment)["account_id"].tolist())
    ids = features.column("account_id").to_pylist()
    rows = features.take([i for i, a in enumerate(ids) if a not in decided])
    bundle = read_bundle(result.model_dir)
    fit = result.metadata.get("final_fit") or {}
    used = (f"{fit.get('positives', 0)}+/{fit.get('negatives', 0)}-" if fit
            else "rules: " + result.metadata.get("cold_start_reason", ""))
    rules = rules_from_json(bundle.metadata["rules"])  # as weighed on this marketplace
    shipped = np.asarray(raw_scores(bundle, rows), dtype=float)
    scores = {f"product ({bundle.kind})": shipped,
              **trees_alone(bundle, rows, shipped, "product's")}
    scores.update({"product's rules": rule_score(rows, rules),
                   "checklist": checklist_score(rows)})
    return rows.column("account_id").to_pylist(), scores, used


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("bench-data/stranger"))
    parser.add_argument("--scenarios", nargs="+", default=["tokens", "nothing", "realistic"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--accounts", type=int, default=15_000)
    parser.add_argument("--thin", action="store_true",
                        help="keep accounts, sessions and labels only (a thin export)")
    parser.add_argument("--bans-only", action="store_true",
                        help="export the bans only (no cleared decisions)")
    args = parser.parse_args()
    print("| scenario | seed | scorer | PR-AUC | ROC AUC | R@1% "
          "| worst look-alike: members in top 1% | labels used |")
    print("|---|---|---|---|---|---|---|---|")
    for scenario in args.scenarios:
        for seed in args.seeds:
            variant = f"{'-thin' if args.thin else ''}{'-bans' if args.bans_only else ''}"
            folder = args.data / f"{scenario}-s{seed}{variant}"
            truth = build(folder, seed, scenario, args.accounts)
            for table in folder.glob("*.parquet"):
                if args.thin and table.stem not in THIN:
                    table.unlink()
            if args.bans_only:
                keep_bans_only(folder)
            judged, scores, used = product_scores(folder, folder.with_name(folder.name + "-work"))
            scores["reference 200 x 7 leaves"] = reference_score(folder, judged)
            at = {a: i for i, a in enumerate(truth["account_id"].tolist())}
            pick = np.array([at[a] for a in judged])
            y = truth["fronted"][pick].astype(float)
            groups = np.asarray(truth["group"][pick], dtype=object)
            print(f"  {scenario} {seed}: {len(judged):,} judged, {int(y.sum())} fronts",
                  file=sys.stderr, flush=True)
            for name, score in scores.items():
                m = _metrics(y, score, [None] * len(y), groups)
                worst = (f"{m['lookalike_max_share']:.1%} {m['lookalike_worst']}"
                         if m["lookalike_worst"] else "-")
                shown = (f"{scenario}{' (thin)' if args.thin else ''}"
                         f"{' (bans only)' if args.bans_only else ''}")
                print(f"| {shown} | {seed} | {name} | {m['pr_auc']:.3f} | {m['roc_auc']:.3f} "
                      f"| {m['recall_at_1pct']:.3f} | {worst} | "
                      f"{used if name.startswith('product (') else ''} |", flush=True)


if __name__ == "__main__":
    main()
