"""The red-flag rule score against the one-point checklist, without training a model.

    python benchmarks/rules.py --seeds 7201 7202 7203 [--modes classic realistic ...]

The rule score is what a marketplace runs with no labels and what ships when validation
prefers it (docs/training.md, section 4); issue 9 asks it to beat a plain checklist
written from the advisories (`_checklist.py`) on fresh seeds of every generator mode. For
each mode and seed: generate a marketplace (cached under --data), build the features as of
its end, and judge every account active at T with no decision before T against the
generator's ground truth, exactly as `quality.py` does, but without the training run, so a
change to the rules can be measured on many marketplaces in minutes. Prints PR-AUC, recall
in the top 1%, the worst look-alike group's members in the top 1%, and, with
--flag-rates, how often each flag fires on fronted, look-alike and ordinary accounts.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np

from _checklist import checklist_score  # benchmarks/ is on sys.path when run as a script
from _data import ensure_data
from quality import DEFAULT_ACCOUNTS, _metrics, _population, marketplace_parser

HEAD = ["mode", "accounts", "seed", "fronted judged", "scorer", "PR-AUC", "R@1%",
        "worst look-alike: members in top 1%"]


def run_one(mode: str, seed: int, accounts: int, root: Path
            ) -> tuple[list[dict], np.ndarray, np.ndarray]:
    """Metrics of the rules and the checklist on one marketplace, plus which flags fired
    on which judged account and who each account is (fronted, look-alike group, '')."""
    from accountrisk.training.rules import RULES, fired, rule_score, weighed_by_rarity

    folder, summary, _ = ensure_data(root, accounts, seed, mode=mode)
    as_of = summary.get("end") or summary["parameters"]["end"]
    work = root / f"rules-work-{mode}-{accounts}-{seed}"
    shutil.rmtree(work, ignore_errors=True)
    rows, y, rings, lookalike = _population(folder, work, as_of)
    shutil.rmtree(work, ignore_errors=True)
    out = []
    # As training weighs them: flags common among the accounts ranked count less.
    weighed, _ = weighed_by_rarity(rows, RULES)
    for name, score in (("rules", rule_score(rows, weighed)),
                        ("checklist", checklist_score(rows))):
        m = _metrics(y, score, rings, lookalike)
        m.update(mode=mode, seed=seed, accounts=accounts, scorer=name, fronted=int(y.sum()))
        out.append(m)
    who = np.where(y == 1, "fronted", np.where(lookalike == "", "ordinary", "look-alike"))
    return out, fired(rows, RULES), who


def _row(m: dict) -> str:
    worst = (f"{m['lookalike_max_share']:.1%} {m['lookalike_worst']}"
             if m["lookalike_worst"] else "-")
    cells = [m["mode"], f"{m['accounts']:,}", str(m["seed"]), str(m["fronted"]), m["scorer"],
             f"{m['pr_auc']:.3f}", f"{m['recall_at_1pct']:.3f}", worst]
    return "| " + " | ".join(cells) + " |"


def main() -> None:
    parser = marketplace_parser(__doc__, [7201, 7202, 7203])
    parser.add_argument("--flag-rates", action="store_true",
                        help="also print each flag's firing rate by kind of account")
    args = parser.parse_args()
    from accountrisk.training.rules import RULES

    results, hits, whos = [], [], []
    for mode in args.modes:
        for seed in args.seeds:
            accounts = args.accounts or DEFAULT_ACCOUNTS[mode]
            print(f"# {mode} seed {seed}, {accounts:,} accounts", file=sys.stderr, flush=True)
            metrics, hit, who = run_one(mode, seed, accounts, args.data)
            results += metrics
            hits.append(hit)
            whos.append(who)
    print("| " + " | ".join(HEAD) + " |")
    print("|" + "---|" * len(HEAD))
    for m in results:
        print(_row(m))
    pairs = list(zip(results[::2], results[1::2], strict=True))
    lost = [f"{r['mode']} {r['seed']}" for r, c in pairs if r["pr_auc"] < c["pr_auc"]]
    print(f"\nrules below the checklist on PR-AUC: {len(lost)} of {len(pairs)} marketplaces"
          + (f" ({', '.join(lost)})" if lost else ""))
    if args.flag_rates:
        hit, who = np.vstack(hits), np.concatenate(whos)
        kinds = ("fronted", "look-alike", "ordinary")
        print("\n| flag | " + " | ".join(f"{k} ({(who == k).sum():,})" for k in kinds) + " |")
        print("|" + "---|" * (len(kinds) + 1))
        for j, rule in enumerate(RULES):
            rates = [f"{hit[who == k, j].mean():.2%}" if (who == k).any() else "-"
                     for k in kinds]
            print(f"| {rule.name} | " + " | ".join(rates) + " |")


if __name__ == "__main__":
    main()
