"""Who a review budget takes: the fronts and each look-alike group, budget by budget.

The look-alike goal is read at one budget (the top 1%); a curve over budgets shows whether
a group outranks the fronts or only takes the slots left once they are found (at 0.3%
prevalence the top 1% has about three slots per front). `quality.py --plots DIR` draws one
figure per run and scorer.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from accountrisk.training.metrics import budget_threshold, flag_probability
from accountrisk.training.plots import _pyplot  # headless, as the training run's plots

# Budgets as shares of the judged accounts, 0.1% to 5% (log-spaced).
BUDGETS = np.geomspace(0.001, 0.05, 40)
TICKS = (0.1, 0.2, 0.5, 1, 2, 5)  # % of judged accounts
GOAL_SHARE = 0.005  # the ceiling for a look-alike group at the 1% budget


def budget_curves(y: np.ndarray, score: np.ndarray, lookalike: np.ndarray
                  ) -> dict[str, np.ndarray]:
    """Share of each population flagged at each of :data:`BUDGETS` (ties split evenly): ``fronts``
    (recall), every look-alike group by name, and ``ordinary`` (legitimate accounts in no
    group)."""
    groups = {"fronts": y == 1, "ordinary": (y == 0) & (lookalike == "")}
    groups |= {g: (y == 0) & (lookalike == g) for g in sorted(set(lookalike) - {""})}
    groups = {name: mask for name, mask in groups.items() if mask.any()}
    out = {name: np.empty(len(BUDGETS)) for name in groups}
    for i, budget in enumerate(BUDGETS):
        flagged = flag_probability(score, *budget_threshold(score, float(budget)))
        for name, mask in groups.items():
            out[name][i] = flagged[mask].mean()
    return out


def plot_budget(y: np.ndarray, score: np.ndarray, lookalike: np.ndarray, path: Path,
                title: str) -> Path:
    """A PNG of :func:`budget_curves`: recall of the fronts on the left axis, each group's
    members flagged on the right, with the fronts' prevalence, the 1% budget and the
    goal's 0.5% marked; the numbers drawn go beside it as CSV (same name)."""
    plt = _pyplot()
    curves = budget_curves(y, score, lookalike)
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["budget_pct," + ",".join(curves)]
    lines += [f"{100 * b:.4f}," + ",".join(f"{c[i]:.5f}" for c in curves.values())
              for i, b in enumerate(BUDGETS)]
    path.with_suffix(".csv").write_text("\n".join(lines) + "\n")
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    for ax in (left, right):
        ax.axvline(100 * y.mean(), color="grey", linestyle=":", label="fronts' prevalence")
        ax.axvline(1.0, color="black", linestyle="--", linewidth=0.8, label="1% budget")
        ax.set_xscale("log")
        ax.set_xticks(TICKS, [f"{t:g}" for t in TICKS])
        ax.set_xlabel("review budget (% of judged accounts, top-ranked first)")
    left.plot(100 * BUDGETS, curves.pop("fronts"), color="tab:red", linewidth=2)
    left.set(ylabel="fronts found (recall)", ylim=(0, 1.02), title="Fronts")
    for name, share in curves.items():
        style = {"color": "black", "linewidth": 2} if name == "ordinary" else {}
        right.plot(100 * BUDGETS, 100 * share, label=name, **style)
    right.axhline(100 * GOAL_SHARE, color="tab:red", linestyle="--", linewidth=0.8,
                  label="goal at 1%: 0.5%")
    # Linear below 1% (where the goal lies), logarithmic above: the groups reach tens.
    right.set_yscale("symlog", linthresh=1.0, linscale=1.0)
    top = max(1.5, 1.3 * 100 * max(float(c.max()) for c in curves.values()))
    right.set_ylim(0, top)
    shown = [t for t in (0, 0.5, 1, 2, 5, 10, 20, 50, 100) if t <= top]
    right.set_yticks(shown, [f"{t:g}" for t in shown])
    right.set(ylabel="members flagged (%)", title="Legitimate accounts by look-alike group")
    right.legend(fontsize=7, ncol=2)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
