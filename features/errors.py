"""The one exception family of accountrisk, in one place.

Every error the package raises on purpose derives from :class:`AccountRiskError`, so a
backend can catch one type, or tell the kinds apart:

- :class:`ContractError`: the input does not meet the data contract (a folder, or feature
  rows missing or mistyping the model's columns); ``problems`` lists every one found.
- :class:`UsageError`: an argument is wrong (an unknown engine, band or output format).
- :class:`FeatureError`: a feature could not be computed on the loaded data;
  :class:`SparkMemoryError` is the case of a Spark JVM out of memory.
- :class:`ModelLoadError`: a model could not be loaded (missing, corrupt, changed, of another
  feature set, or its registry unreachable); :class:`BundleError` and
  :class:`FeatureSetMismatch` are the model-directory cases.
- :class:`TrainingError`: a model could not be trained.
- :class:`TrackingError`: the MLflow tracking store or registry refused an operation.

Messages say what is wrong and how to fix it. :mod:`accountrisk.plugin` exports them all.
"""

from __future__ import annotations


class AccountRiskError(Exception):
    """Base class of every error accountrisk raises on purpose."""


class ContractError(AccountRiskError):
    """The input does not meet the data contract (``validate`` lists why), or feature rows
    lack or mistype the columns a model needs."""

    def __init__(self, message: str, problems: list | None = None) -> None:
        super().__init__(message)
        self.problems = list(problems or [])


class UsageError(AccountRiskError):
    """An argument is wrong: an unknown engine, band, strategy or output format."""


class FeatureError(AccountRiskError):
    """A feature could not be computed (a missing table in the database, a graph that does
    not settle)."""


class SparkMemoryError(FeatureError):
    """The Spark JVM ran out of memory (or stopped, as it does after an OutOfMemoryError);
    the message names the setting to raise and how to pass it."""


class ModelLoadError(AccountRiskError):
    """A model could not be loaded: missing, corrupt, incompatible, or its registry
    unreachable. Never answered with a default score."""


class BundleError(ModelLoadError):
    """A model directory is missing, incomplete or was changed after it was written."""


class FeatureSetMismatch(BundleError):
    """A model directory was trained on another version of the feature set."""


class TrainingError(AccountRiskError):
    """A model could not be trained (bad arguments, unusable data folder)."""


class TrackingError(AccountRiskError):
    """The MLflow tracking store or model registry refused an operation."""
