"""Every failure as JSON ``{"error": ..., "fix": ...}`` with a fitting status; never a
traceback. The library's errors already name the table, column, row and fix; the service's
own (a missing key, an unknown account, no data configured) say theirs here."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from accountrisk.features.errors import (
    AccountRiskError,
    ContractError,
    FeatureError,
    ModelLoadError,
    UsageError,
)

LOG = logging.getLogger("accountrisk.service")


class ServiceError(AccountRiskError):
    """A request the service refuses, with its HTTP status and the fix."""

    status = 400

    def __init__(self, message: str, fix: str) -> None:
        super().__init__(message)
        self.fix = fix


class Unauthorized(ServiceError):
    """No API key, or a wrong one."""

    status = 401


class NotFound(ServiceError):
    """The account (or page) asked for does not exist."""

    status = 404


class NoData(ServiceError):
    """An endpoint that reads the contract data, on a service started without it."""

    status = 503


class BadRequest(ServiceError):
    """The request's shape is wrong (a field, a query parameter, the body's type)."""

    status = 422


# Status and fix of the library's errors, most specific class first.
_LIBRARY: Sequence[tuple[type[AccountRiskError], int, str]] = (
    (ContractError, 422, "correct the columns and rows named and send the request again"),
    (UsageError, 422, "correct the parameter named and send the request again"),
    (ModelLoadError, 503, "the model could not be used; see /readyz and the server log"),
    (FeatureError, 500, "the features could not be computed on the loaded data; see the "
                        "server log"),
)


def error_status(error: AccountRiskError) -> tuple[int, str]:
    """The HTTP status and the fix text for ``error``."""
    if isinstance(error, ServiceError):
        return error.status, error.fix
    for kind, status, fix in _LIBRARY:
        if isinstance(error, kind):
            return status, fix
    return 500, "see the server log"


def error_body(error: str, fix: str) -> dict[str, str]:
    """The JSON body of an error answer."""
    return {"error": error, "fix": fix}


def validation_message(errors: Sequence[Any]) -> str:
    """pydantic/FastAPI validation errors as one line per problem, naming the field, row
    and column (``rows[3].payout_count`` reads "row 3, column payout_count")."""
    found: dict[str, str] = {}
    for e in errors:
        loc = tuple(e.get("loc", ()))
        where = _where(loc)
        if where in found and loc[:1] == ("rows",):  # a value fails each member of the union
            found[where] = "must be a number, true/false, text or null"
        else:
            found.setdefault(where, str(e.get("msg", "invalid")))
    found_lines = [f"{where}: {message}" for where, message in found.items()]
    lines = found_lines[:10]
    more = len(found_lines) - len(lines)
    return "request rejected:\n- " + "\n- ".join(lines) + (f"\n- and {more} more" if more
                                                            > 0 else "")


def _where(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body",)]
    if len(parts) >= 3 and parts[0] == "rows":
        return f"row {parts[1]}, column {parts[2]}"
    if len(parts) == 2 and parts[0] == "rows":
        return f"row {parts[1]}"
    if parts and parts[0] in ("query", "path"):
        return f"{parts[0]} parameter {'.'.join(parts[1:])}"
    return ".".join(parts) or "body"
