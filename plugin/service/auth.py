"""The API key: where it comes from, and the check of each request's bearer token.

The key is read once at start-up (``--api-key-file`` or ``ACCOUNTRISK_API_KEY``); it is
never logged or echoed. Requests compare in constant time (:func:`hmac.compare_digest`).
"""

from __future__ import annotations

import hmac
import os
from pathlib import Path
from typing import Any

from accountrisk.features.errors import UsageError

from .errors import Unauthorized

ENV_KEY = "ACCOUNTRISK_API_KEY"
_FIX = ("send the header 'Authorization: Bearer <key>' with the key the service was started "
        f"with ({ENV_KEY} or --api-key-file)")


def resolve_key(key_file: Path | None, *, no_auth: bool = False) -> str | None:
    """The API key from ``key_file`` (first) or ``ACCOUNTRISK_API_KEY``; None with
    ``no_auth``. Without either a :class:`UsageError` says how to give one."""
    if no_auth:
        if key_file is not None:
            raise UsageError("--no-auth and --api-key-file contradict each other: drop one")
        return None
    if key_file is not None:
        try:
            key = key_file.read_text(encoding="utf-8").strip()
        except OSError as error:
            raise UsageError(f"the API key file {key_file} cannot be read "
                             f"({error.strerror}); give a readable file holding the "
                             "key") from None
        if not key:
            raise UsageError(f"the API key file {key_file} is empty; write the key into it")
        return key
    key = os.environ.get(ENV_KEY, "").strip()
    if key:
        return key
    raise UsageError(f"no API key: set {ENV_KEY} or give --api-key-file FILE (a file holding "
                     "the key) so that only callers with the key are answered; for a trial "
                     "on this machine alone, --no-auth serves without one")


class KeyCheck:
    """Checks a request's ``Authorization`` header against the key (None: no check)."""

    def __init__(self, key: str | None) -> None:
        self._key = key.encode("utf-8") if key is not None else None

    @property
    def enabled(self) -> bool:
        return self._key is not None

    def check(self, credentials: Any) -> None:
        """Raise :class:`Unauthorized` unless ``credentials`` (FastAPI's bearer
        credentials, or None when the header is missing or not Bearer) carry the key."""
        if self._key is None:
            return
        if credentials is None:
            raise Unauthorized("this endpoint needs an API key and the request sent none",
                               _FIX)
        given = str(credentials.credentials).encode("utf-8")
        if not hmac.compare_digest(given, self._key):
            raise Unauthorized("the API key sent is not the service's key", _FIX)
