"""Contract 1.1 on fresh seeds: the client side's gain, and the facilitators' ranking.

    python benchmarks/client_side.py --seeds 7101 7102 [--accounts 20000]

For each seed: generate a classic marketplace (it has the 1.1 tables), and a copy of it
without `contracts`, `proposals` and `reviews` (a 1.0 export of the same world). Train on
each as of its end (`train`, no MLflow) and judge the accounts active at T with no decision
before T against the ground truth (as `quality.py` does): the gain from the client side.

Then rank the entities (`accountrisk facilitators`, top 50) with the 1.1 model and judge
them against the generator's truth: an entity is a planted collaborator when most of the
accounts it serves before T are fronted. Precision at 10 and 50, by the product's ranking
(excess risk x risky share) and, as the baseline it must beat, by size (accounts served).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

import numpy as np

from _data import ensure_data
from quality import _metrics, _population  # benchmarks/ is on sys.path as a script

CLIENT_TABLES = ("contracts", "proposals", "reviews")


def _version_1_copy(folder: Path) -> Path:
    """The same marketplace without the 1.1 tables (files linked, not copied)."""
    out = folder.with_name(folder.name + "-v1")
    if not (out / "generation.json").exists():
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True)
        for f in folder.iterdir():
            if f.stem not in CLIENT_TABLES:
                (out / f.name).symlink_to(f.resolve())
    return out


def _judge(folder: Path, work: Path, as_of: str) -> tuple[dict, Path, float]:
    from accountrisk.training.api import train
    from accountrisk.training.bundle import read_bundle
    from accountrisk.training.predict import raw_scores

    shutil.rmtree(work, ignore_errors=True)
    started = time.perf_counter()
    result = train(folder, as_of, workdir=work, seed=0, register=False, plots=False,
                   say=lambda m: print(f"  {m}", file=sys.stderr, flush=True))
    seconds = time.perf_counter() - started
    rows, y, rings, lookalike = _population(folder, work, as_of)
    bundle = read_bundle(result.model_dir)
    m = _metrics(y, raw_scores(bundle, rows), rings, lookalike)
    m["kind"] = bundle.kind
    return m, result.model_dir, seconds


def _entity_truth(con, as_of, truth_path: Path) -> dict[tuple[str, str], float]:
    """Share of fronted accounts among those each entity serves before T."""
    from accountrisk.scoring.evidence_tools import rows, tables
    from accountrisk.scoring.facilitators import KINDS, _usage_sql

    usage = _usage_sql(tables(con), KINDS)
    found = rows(con, f"""
        SELECT u.kind, u.entity_key, avg(CASE WHEN g.is_fronted THEN 1.0 ELSE 0.0 END) AS share
        FROM ({usage}) AS u JOIN read_parquet($truth) AS g USING (account_id)
        GROUP BY ALL HAVING count(*) >= 2""", {"t": as_of, "truth": str(truth_path)})
    return {(r["kind"], str(r["entity_key"])): float(r["share"]) for r in found}


def _facilitator_precision(folder: Path, work: Path, model_dir: Path, as_of: str
                           ) -> dict[str, float | str]:
    from accountrisk.features.engines import open_engine
    from accountrisk.scoring.evidence_tools import as_of_moment, rows, tables
    from accountrisk.scoring.facilitators import KINDS, _usage_sql, rank_entities
    from accountrisk.scoring.scorer import RiskScorer

    moment = as_of_moment(as_of)
    scorer = RiskScorer.load(model_dir)
    with open_engine("duckdb", data_dir=folder, workdir=work) as engine:
        batch = scorer.score_database(engine, moment, reasons_for=False, evidence=False)
        ranked = rank_entities(engine.con, batch.frame, moment, top=50)
        truth = _entity_truth(engine.con, moment, folder / "ground_truth.parquet")
        sizes = rows(engine.con, f"""
            SELECT kind, entity_key, count(*) AS n
            FROM ({_usage_sql(tables(engine.con), KINDS)}) AS u
            GROUP BY ALL HAVING count(*) >= 2 ORDER BY n DESC, kind, entity_key LIMIT 50""",
                     {"t": moment})
    by_size = [(r["kind"], str(r["entity_key"])) for r in sizes]
    planted = [truth.get((f.kind, f.entity_key), 0.0) > 0.5 for f in ranked]
    sized = [truth.get(k, 0.0) > 0.5 for k in by_size]
    kinds: dict[str, int] = {}
    for f in ranked[:10]:
        kinds[f.kind] = kinds.get(f.kind, 0) + 1
    return {"p@10": float(np.mean(planted[:10])) if planted else float("nan"),
            "p@50": float(np.mean(planted[:50])) if planted else float("nan"),
            "size p@10": float(np.mean(sized[:10])) if sized else float("nan"),
            "size p@50": float(np.mean(sized[:50])) if sized else float("nan"),
            "planted_entities": sum(v > 0.5 for v in truth.values()),
            "top10_kinds": ", ".join(f"{k} {n}" for k, n in sorted(kinds.items()))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("bench-data/client-side"))
    parser.add_argument("--seeds", type=int, nargs="+", default=[7101, 7102])
    parser.add_argument("--accounts", type=int, default=20_000)
    args = parser.parse_args()
    quality, ranking = [], []
    for seed in args.seeds:
        folder, summary, _ = ensure_data(args.data, args.accounts, seed)
        as_of = summary["end"]
        v1 = _version_1_copy(folder)
        model_dir = None
        for name, data in (("1.1 (client side)", folder), ("1.0 (no client side)", v1)):
            work = args.data / f"work-{seed}-{'v1' if data == v1 else 'v11'}"
            m, trained, seconds = _judge(data, work, as_of)
            quality.append((seed, name, m, seconds))
            if data == folder:
                model_dir = trained
                ranking.append((seed, _facilitator_precision(folder, work, model_dir, as_of)))
            shutil.rmtree(work, ignore_errors=True)
            print(f"# seed {seed} {name}: PR-AUC {m['pr_auc']:.3f}", file=sys.stderr, flush=True)
    print("| seed | export | model | PR-AUC | ROC AUC | P@1% | R@1% | ring R@1% | worst "
          "look-alike: members in top 1% | train s |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for seed, name, m, seconds in quality:
        print(f"| {seed} | {name} | {m['kind']} | {m['pr_auc']:.3f} | {m['roc_auc']:.3f} | "
              f"{m['precision_at_1pct']:.3f} | {m['recall_at_1pct']:.3f} | "
              f"{m['ring_recall_at_1pct']:.3f} | {m['lookalike_max_share']:.1%} "
              f"{m['lookalike_worst']} | {seconds:.0f} |")
    print("\n| seed | planted entities | P@10 | P@50 | by size P@10 | by size P@50 | "
          "top 10 by kind |")
    print("|---|---|---|---|---|---|---|")
    for seed, r in ranking:
        print(f"| {seed} | {r['planted_entities']} | {r['p@10']:.2f} | {r['p@50']:.2f} | "
              f"{r['size p@10']:.2f} | {r['size p@50']:.2f} | {r['top10_kinds']} |")


if __name__ == "__main__":
    main()
