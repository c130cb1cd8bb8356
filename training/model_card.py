"""The model card each registered version carries in its registry description: data
window, label counts, metrics against the rules, known limits and the look-alike checks,
all from what the training run already computed (its metadata)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

SHOWN_METRICS = ("pr_auc", "precision_at_1pct", "recall_at_1pct", "brier")


def _metrics(by: Mapping[str, Mapping[str, float]]) -> list[str]:
    lines = []
    for scorer, values in by.items():
        shown = ", ".join(f"{k} {values[k]:.3f}" for k in SHOWN_METRICS
                          if values.get(k) is not None)
        lines.append(f"  - {scorer}: {shown or 'no metrics'}")
    return lines


def model_card(metadata: Mapping[str, Any], version: str | None = None) -> str:
    """The card as Markdown text."""
    training = metadata.get("training", {})
    periods, counts = training.get("periods", {}), training.get("counts", {})
    metrics = metadata.get("metrics", {})
    lines = [f"# accountrisk model{' v' + version if version else ''} ({metadata['kind']})",
             "", "## Data window",
             f"Decisions from {periods.get('first_decision') or 'none'} to "
             f"{periods.get('last_decision') or 'none'}; features as of snapshots every "
             f"{training.get('snapshot_days')} days up to {training.get('as_of')} (folder "
             f"{training.get('folder')}, data fingerprint "
             f"{str(training.get('data_fingerprint', ''))[:12]}).",
             "", "## Labels",
             f"{counts.get('positives', 0)} confirmed and {counts.get('negatives', 0)} "
             f"cleared accounts with features ({counts.get('labelled_accounts', 0)} decided "
             f"before as-of, {counts.get('read_at_decision', 0)} of them read at extra "
             "snapshots at decision times, "
             f"{counts.get('dropped_decided_before_first_snapshot', 0)} dropped as decided "
             f"before any snapshot); {counts.get('unlabelled_rows', 0)} unlabelled "
             "rows sampled. Reviewer decisions of the work directory are included."
             + (f" The final fit read the {counts.get('decided_read_at_t', 0)} decided "
                "accounts and its unlabelled ones at as-of: the decisions did not stop the "
                "accounts (confirmed ones went on working after them), and validation kept "
                "the rows before each decision."
                if (metadata.get("final_fit") or {}).get("decided_read_at_t") else ""),
             "", "## Metrics against the rules (temporal validation)"]
    lines += _metrics(metrics.get("validation", {})) or ["  - no validation (too few labels)"]
    lines += ["", "## Look-alike checks"]
    if "ground_truth" in metrics:
        lines.append("On the generated folder's ground truth (fronted accounts and honest "
                     "look-alikes, never used for training):")
        lines += _metrics(metrics["ground_truth"])
    else:
        lines.append("Not available: the folder has no ground truth (a real marketplace); "
                     "judge look-alikes on reviewed cases.")
    lines += ["", "## Known limits"]
    if metadata["kind"] == "rules":
        lines.append(f"- Rules only, not a trained model: {metadata.get('cold_start_reason')}.")
    selection = metadata.get("selection") or {}
    if selection.get("validation_note"):
        lines.append(f"- {selection['validation_note']}")
    lines += ["- Labels are decisions, not ground truth: accounts nobody reviewed are "
              "unlabelled, and fronted accounts that evaded review count as unknowns.",
              "- Scores are for review priority; a score is never a decision by itself."]
    return "\n".join(lines) + "\n"
