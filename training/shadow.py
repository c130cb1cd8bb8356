"""Shadow comparison of a challenger with the champion: both score the same accounts, on
the decisions taken since the champion was trained and on today's population; the result
is the retrain's one-page report (metrics, accounts whose band changed, top feature
shifts)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from ..features.pipeline import parse_as_of
from .bundle import Bundle
from .dataset import build_training_set
from .matrix import column
from .metrics import evaluate
from .predict import bands, probabilities, raw_scores

SHOWN_BAND_CHANGES = 50


@dataclass
class Shadow:
    """Both models on the same rows."""

    since: datetime
    decisions: int = 0
    confirmed: int = 0
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)
    band_changes: list[tuple[str, str, str]] = field(default_factory=list)
    band_change_count: int = 0  # estimated for the whole population when sampled
    population_accounts: int = 0
    sampled_accounts: int = 0
    importance_shifts: list[tuple[str, int | None, int | None]] = field(default_factory=list)


def _ranks(bundle: Bundle, top: int = 10) -> dict[str, int]:
    importance = (bundle.metadata.get("reference") or {}).get("importance") or {}
    ranked = sorted((f for f in importance if importance[f] > 0), key=lambda f: -importance[f])
    return {f: i + 1 for i, f in enumerate(ranked[:top])}


def shadow_compare(champion: Bundle, challenger: Bundle, engine: Any, as_of: datetime, *,
                   snapshot_days: int = 30, seed: int = 0) -> Shadow:
    """Score the decisions since ``champion`` was trained, and the active population at
    ``as_of``, with both bundles."""
    since = parse_as_of(champion.metadata["training"]["as_of"])
    ts = build_training_set(engine, as_of, snapshot_days=snapshot_days, since=since,
                            unlabelled_sample=0, seed=seed)
    out = Shadow(since=since)
    labelled = ts.labelled()
    if labelled.num_rows:
        y = np.nan_to_num(column(labelled, "_label"))
        out.decisions, out.confirmed = int(len(y)), int(y.sum())
        for name, bundle in (("champion", champion), ("challenger", challenger)):
            raw = raw_scores(bundle, labelled)
            out.metrics[name] = evaluate(y, raw, probability=probabilities(bundle, raw))
    ids = column(ts.final, "account_id")
    old = bands(champion, raw_scores(champion, ts.final))
    new = bands(challenger, raw_scores(challenger, ts.final))
    changed = [(str(a), o, n) for a, o, n in zip(ids, old, new) if o != n]
    out.band_change_count = int(round(len(changed) * ts.final_weight))
    out.population_accounts = ts.counts["final_active_accounts"]
    out.sampled_accounts = ts.final.num_rows
    out.band_changes = changed[:SHOWN_BAND_CHANGES]
    before, after = _ranks(champion), _ranks(challenger)
    out.importance_shifts = [(f, before.get(f), after.get(f))
                             for f in sorted(set(before) | set(after),
                                             key=lambda f: after.get(f, 99))
                             if before.get(f) != after.get(f)]
    return out


def _metric_rows(metrics: Mapping[str, Mapping[str, float]]) -> list[str]:
    keys = ("pr_auc", "precision_at_1pct", "recall_at_1pct", "brier")
    rows = ["| model | " + " | ".join(keys) + " |", "|---" * (len(keys) + 1) + "|"]
    for name, values in metrics.items():
        rows.append(f"| {name} | " + " | ".join(
            "n/a" if values.get(k) is None or values[k] != values[k] else f"{values[k]:.3f}"
            for k in keys) + " |")
    return rows


def render_comparison(shadow: Shadow, *, as_of: datetime, champion: str, challenger: str,
                      verdict: str) -> str:
    """The one-page Markdown report."""
    lines = [f"# Retrain as of {as_of:%Y-%m-%d %H:%M} UTC: v{challenger} against champion "
             f"v{champion}", "", f"**{verdict}**", "",
             f"## On decisions since the champion was trained ({shadow.since:%Y-%m-%d})", ""]
    if shadow.metrics:
        lines += [f"{shadow.decisions} decisions, {shadow.confirmed} confirmed "
                  "(the challenger was trained on them; the champion was not).", ""]
        lines += _metric_rows(shadow.metrics)
    else:
        lines.append("No decisions since the champion was trained.")
    lines += ["", f"## Accounts whose band changed ({shadow.band_change_count})", ""]
    sampled = shadow.sampled_accounts < shadow.population_accounts
    if sampled:
        lines += [f"Estimated from a uniform sample of {shadow.sampled_accounts:,} of the "
                  f"{shadow.population_accounts:,} active accounts; the accounts listed are "
                  "the sample's.", ""]
    lines += [f"- {a}: {o or 'none'} -> {n or 'none'}" for a, o, n in shadow.band_changes]
    shown = len(shadow.band_changes)
    if not sampled and shadow.band_change_count > shown:
        lines.append(f"- ... and {shadow.band_change_count - shown} more")
    lines += ["", "## Top feature shifts (importance rank, champion -> challenger)", ""]
    lines += [f"- {f}: {b or '-'} -> {a or '-'}" for f, b, a in shadow.importance_shifts] \
        or ["- none"]
    return "\n".join(lines) + "\n"
