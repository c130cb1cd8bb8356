"""Where contract tables are read from: a local folder, a folder of Parquet datasets, an
S3 prefix or a PostgreSQL database (see ``docs/sources.md``).

:func:`open_source` turns the text a user gives (a path or a URI) into a :class:`Source`;
both engines load through it and the work directory fingerprints through it.
"""

from __future__ import annotations

from pathlib import Path

from .base import Fingerprint, FoundTable, Source
from .uri import SourceURI, mask_password, parse_source


def open_source(source: str | Path) -> Source:
    """The :class:`Source` named by ``source`` (nothing is read yet)."""
    uri = parse_source(source)
    if uri.scheme == "postgresql":
        from .postgres import PostgresSource

        return PostgresSource(uri)
    from .parquet import ParquetSource

    return ParquetSource(uri)


def close_source(source: Source) -> None:
    """Release what ``source`` holds open (a database connection)."""
    close = getattr(source, "close", None)
    if close is not None:
        close()


def shown(source: str | Path) -> str:
    """``source`` as messages may show it (a URI's password masked)."""
    return mask_password(str(source))


__all__ = ["Fingerprint", "FoundTable", "Source", "SourceURI", "close_source", "open_source",
           "parse_source", "shown"]
