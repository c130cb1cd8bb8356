"""A contract source given as text: a local folder, an ``s3://`` prefix or a PostgreSQL URI.

:func:`parse_source` only reads the text (no file, bucket or server is touched); the
parsed :class:`SourceURI` knows how to name itself without a password (:attr:`shown`),
which is the only form any message, log line or stored fingerprint may carry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qs, unquote, urlsplit

from ..errors import UsageError

Scheme = Literal["file", "s3", "postgresql"]
POSTGRES_SCHEMES = ("postgresql", "postgres")
DEFAULT_POSTGRES_SCHEMA = "public"
_URI = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_PASSWORD = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://[^:/?#@]*):[^@/?#]*@")


@dataclass(frozen=True)
class SourceURI:
    """Where a contract source lives.

    ``scheme`` is ``file`` (``path`` is the folder), ``s3`` (``bucket`` and ``prefix``,
    the prefix without a trailing slash) or ``postgresql`` (``text`` is the libpq URI
    as given, ``schema`` the database schema holding the tables)."""

    scheme: Scheme
    text: str
    path: Path | None = None
    bucket: str = ""
    prefix: str = ""
    schema: str = DEFAULT_POSTGRES_SCHEMA

    @property
    def shown(self) -> str:
        """The source as messages and stored fingerprints show it: never a password."""
        return mask_password(self.text)

    @property
    def is_local(self) -> bool:
        return self.scheme == "file"


def mask_password(text: str) -> str:
    """``text`` with the password of a ``scheme://user:password@host`` URI replaced by
    ``***`` (the password keyword of the query string too); other text unchanged."""
    masked = _PASSWORD.sub(r"\1:***@", text)
    return re.sub(r"([?&]password=)[^&#]*", r"\1***", masked)


def parse_source(source: str | Path) -> SourceURI:
    """The :class:`SourceURI` of ``source``: a path (or ``file://`` URI) is a local folder;
    ``s3://bucket/prefix/`` an object-storage prefix; ``postgresql://...`` a database.

    Raises :class:`UsageError` for another scheme or an S3 URI without a bucket."""
    if isinstance(source, Path):
        return SourceURI("file", str(source), path=source)
    text = str(source)
    match = _URI.match(text)
    if match is None:
        return SourceURI("file", text, path=Path(text))
    scheme = match.group(1).lower()
    if scheme == "file":
        path = Path(unquote(urlsplit(text).path))
        return SourceURI("file", text, path=path)
    if scheme in ("s3", "s3a"):
        parts = urlsplit(text)
        if not parts.netloc:
            raise UsageError(f"{mask_password(text)}: an S3 source needs a bucket, as in "
                             "s3://bucket/marketplace/")
        return SourceURI("s3", text, bucket=parts.netloc, prefix=parts.path.strip("/"))
    if scheme in POSTGRES_SCHEMES:
        query = parse_qs(urlsplit(text).query)
        schema = (query.get("schema") or [DEFAULT_POSTGRES_SCHEMA])[0]
        return SourceURI("postgresql", text, schema=schema)
    raise UsageError(f"{mask_password(text)}: unknown source scheme {scheme!r}; give a "
                     "folder, s3://bucket/prefix/ or postgresql://user@host:port/database")


def libpq_uri(uri: SourceURI) -> str:
    """The PostgreSQL URI for libpq: the ``schema`` query parameter is ours, not libpq's."""
    parts = urlsplit(uri.text)
    kept = [p for p in parts.query.split("&") if p and not p.startswith("schema=")]
    return parts._replace(scheme="postgresql", query="&".join(kept)).geturl()
