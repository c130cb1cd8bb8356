"""The one exception family of accountrisk.

Every error the package raises on purpose derives from :class:`AccountRiskError`, so a
backend can catch one type. Messages say what is wrong and how to fix it.
"""

from __future__ import annotations


class AccountRiskError(Exception):
    """Base class of every error accountrisk raises on purpose."""


class ContractError(AccountRiskError):
    """The input folder does not meet the data contract (``validate`` lists why)."""

    def __init__(self, message: str, problems: list | None = None) -> None:
        super().__init__(message)
        self.problems = list(problems or [])


class FeatureError(AccountRiskError):
    """A feature could not be computed (bad argument, missing table in the database)."""
