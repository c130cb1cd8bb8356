"""accountrisk's public API for marketplace backends.

A handful of documented names; everything else in the package is internal.

>>> from accountrisk.plugin import compute_features
>>> table = compute_features("marketplace/", "2026-06-01")   # doctest: +SKIP
"""

from __future__ import annotations

from ..features.api import compute_features
from ..features.errors import AccountRiskError, ContractError, FeatureError
from ..scoring.models import AccountScore, Evidence, Reason
from ..scoring.scorer import ModelLoadError, RiskScorer, ScoreBatch

__all__ = ["AccountRiskError", "AccountScore", "ContractError", "Evidence", "FeatureError",
           "ModelLoadError", "Reason", "RiskScorer", "ScoreBatch", "compute_features"]
