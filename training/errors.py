"""Errors of the training layer; each says what is wrong and how to fix it."""

from __future__ import annotations

from ..features.errors import AccountRiskError


class TrainingError(AccountRiskError):
    """A model could not be trained (bad arguments, unusable data folder)."""


class BundleError(AccountRiskError):
    """A model directory is missing, incomplete or was changed after it was written."""


class FeatureSetMismatch(BundleError):
    """A model directory was trained on another version of the feature set."""


class TrackingError(AccountRiskError):
    """The MLflow tracking store or model registry refused an operation."""
