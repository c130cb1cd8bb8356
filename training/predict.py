"""Score feature rows with a model directory: probability, review band, top reasons.

Needs only numpy, pyarrow and (for kind "model") LightGBM: no MLflow, SHAP or matplotlib.
Reasons come from LightGBM's exact TreeSHAP (``pred_contrib``), plus the rule prior's flags
when the model has one: the features that pushed this account's score up the most, in the
registry's own words.
"""

from __future__ import annotations

import math
import re
import string
from collections.abc import Mapping
from typing import Any

import numpy as np

from .bundle import Bundle
from .calibration import apply_calibration
from .matrix import column, column_names, feature_matrix
from .model import margin, model_contributions
from .rules import flag_points, rule_score, rule_values, rules_from_json

TOP_REASONS = 3
CONTEXT_COLUMNS = ("claimed_country", "claimed_timezone")
# Templates are written in the plural ("with {value:.0f} other accounts"); a count of one
# reads "1 other account". Up to two words may stand between the count and its noun.
_ONE_OF_PLURAL = re.compile(
    r"(?<![\d.,])1 ((?:[A-Za-z-]+ ){0,2}?)"
    r"(account|destination|item|session|countr|day|hour|kind|action|address|time)"
    r"(s|ies|es)\b")
_SINGULAR_ENDING = {"countr": "y"}


class _Context(dict):
    """Template fields; an absent context field reads as a neutral phrase."""

    def __missing__(self, key: str) -> str:
        return {"claimed_country": "on the profile",
                "claimed_timezone": "on the profile"}.get(key, "?")


def render_reason(template: str, value: Any, context: Mapping[str, Any] | None = None,
                  name: str = "") -> str:
    """A reason sentence from a registry template (``{value}`` plus context fields)."""
    missing = value is None or (isinstance(value, float) and math.isnan(value))
    if missing:
        return f"{name or 'a signal'} is unknown for this account"
    try:
        text = string.Formatter().vformat(template, (), _Context(context or {}, value=value))
    except (ValueError, TypeError):
        return f"{name} = {value}"
    return _ONE_OF_PLURAL.sub(
        lambda m: f"1 {m.group(1)}{m.group(2)}{_SINGULAR_ENDING.get(m.group(2), '')}", text)


def raw_scores(bundle: Bundle, data: Any) -> np.ndarray:
    """Log-odds for a model bundle; the rule score for a rules bundle."""
    if bundle.kind == "rules":
        return rule_score(data, rules_from_json(bundle.metadata["rules"]))
    x = feature_matrix(data, bundle.features, bundle.metadata.get("categories"))
    return margin(bundle.booster, bundle.prior, x, bundle.features,
                  bundle.metadata.get("threads", 2))


def probabilities(bundle: Bundle, raw: np.ndarray) -> np.ndarray:
    """Calibrated probabilities of raw scores (a rules bundle's score passes unchanged)."""
    return apply_calibration(bundle.metadata.get("calibration"), raw)


def bands(bundle: Bundle, raw: np.ndarray) -> list[str]:
    """Each row's review band: the narrowest band whose raw threshold it reaches, or ""."""
    order = sorted(bundle.metadata.get("bands", []), key=lambda b: b["share"])
    out = [""] * len(raw)
    for i, value in enumerate(raw):
        for band in order:
            if band["raw_threshold"] is not None and value >= band["raw_threshold"]:
                out[i] = band["name"]
                break
    return out


def _contexts(data: Any) -> list[dict[str, Any]]:
    names = set(column_names(data))
    present = [c for c in CONTEXT_COLUMNS if c in names]
    rows = len(column(data, column_names(data)[0]))
    values = {c: column(data, c) for c in present}
    return [{c: values[c][i] for c in present} for i in range(rows)]


def top_reasons(bundle: Bundle, data: Any, top: int = TOP_REASONS) -> list[list[dict]]:
    """Per row, up to ``top`` reasons: feature, value, contribution (log-odds), text.

    Only features that raised the score are reasons; a rules bundle gives its fired rules,
    strongest first.
    """
    templates = bundle.metadata.get("reasons", {})
    contexts = _contexts(data)
    out: list[list[dict]] = []
    if bundle.kind == "rules":
        rules = rules_from_json(bundle.metadata["rules"])
        read = [rule_values(data, rule) for rule in rules]
        points = flag_points(np.column_stack([r.fires(v) for r, (v, _, _) in zip(rules, read)])
                             if rules else np.zeros((len(contexts), 0)), rules)
        for i in range(points.shape[0]):
            reasons = []
            for j in np.argsort(-points[i], kind="stable")[:top]:
                if points[i, j] <= 0:
                    break
                value, columns, where = read[j]
                name = columns[where[i]]
                reasons.append({"feature": name, "value": float(value[i]),
                                "contribution": float(points[i, j]),
                                "text": render_reason(templates.get(name, ""), float(value[i]),
                                                      contexts[i], name)})
            out.append(reasons)
        return out
    features = bundle.features
    categories = bundle.metadata.get("categories") or {}
    x = feature_matrix(data, features, categories)
    contrib = model_contributions(bundle.booster, bundle.prior, x, features,
                                  bundle.metadata.get("threads", 2))[:, :-1]
    originals = {f: column(data, f) for f in categories}
    for i in range(x.shape[0]):
        reasons = []
        for j in np.argsort(-contrib[i], kind="stable")[:top]:
            if contrib[i, j] <= 0:
                break
            name = features[j]
            value = originals[name][i] if name in originals else float(x[i, j])
            template = templates.get(name) or f"{name} is {{value}}"
            reasons.append({"feature": name, "value": value,
                            "contribution": float(contrib[i, j]),
                            "text": render_reason(template, value, contexts[i], name)})
        out.append(reasons)
    return out


def score_rows(bundle: Bundle, data: Any, *, top: int = TOP_REASONS,
               explain: bool = True) -> dict[str, list]:
    """Columns account_id (if given), score, raw_score, band, reasons (texts joined by
    "; "), and top_features, for each feature row."""
    raw = raw_scores(bundle, data)
    result: dict[str, list] = {}
    if "account_id" in column_names(data):
        result["account_id"] = [str(a) for a in column(data, "account_id")]
    result["score"] = probabilities(bundle, raw).tolist()
    result["raw_score"] = raw.tolist()
    result["band"] = bands(bundle, raw)
    if explain:
        reasons = top_reasons(bundle, data, top)
        result["reasons"] = ["; ".join(r["text"] for r in row) for row in reasons]
        result["top_features"] = [",".join(r["feature"] for r in row) for row in reasons]
    return result
