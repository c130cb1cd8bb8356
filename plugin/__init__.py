"""accountrisk's public API for marketplace backends.

A handful of documented names; everything else in the package is internal.

>>> from accountrisk.plugin import compute_features
>>> table = compute_features("marketplace/", "2026-06-01")   # doctest: +SKIP
"""

from __future__ import annotations

from ..features.api import compute_features
from ..features.errors import AccountRiskError, ContractError, FeatureError

__all__ = ["AccountRiskError", "ContractError", "FeatureError", "compute_features"]
