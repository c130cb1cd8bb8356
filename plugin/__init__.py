"""accountrisk's public API for marketplace backends.

A handful of documented names; everything else in the package is internal.

>>> from accountrisk.plugin import compute_features
>>> table = compute_features("marketplace/", "2026-06-01")   # doctest: +SKIP
"""

from __future__ import annotations

from ..features.api import compute_features
from ..features.errors import (
    AccountRiskError,
    BundleError,
    ContractError,
    FeatureError,
    FeatureSetMismatch,
    ModelLoadError,
    SparkMemoryError,
    TrackingError,
    TrainingError,
    UsageError,
)
from ..scoring.facilitators import Facilitator, ServedAccount, rank_facilitators
from ..scoring.models import AccountScore, Evidence, Reason
from ..scoring.scorer import RiskScorer, ScoreBatch

__all__ = ["AccountRiskError", "AccountScore", "BundleError", "ContractError", "Evidence",
           "Facilitator", "FeatureError", "FeatureSetMismatch", "ModelLoadError", "Reason",
           "RiskScorer", "ScoreBatch", "ServedAccount", "SparkMemoryError", "TrackingError",
           "TrainingError", "UsageError", "compute_features", "rank_facilitators"]
