"""Object storage (S3 and S3-compatible servers) through pyarrow's filesystem.

The endpoint and credentials come from the standard AWS variables: ``AWS_ENDPOINT_URL``
(``http://host:port`` for a server other than AWS), ``AWS_ACCESS_KEY_ID``,
``AWS_SECRET_ACCESS_KEY`` (and ``AWS_SESSION_TOKEN``), ``AWS_REGION``. Unset, pyarrow's
own AWS credential chain applies.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import urlsplit

import pyarrow.fs as pafs


@dataclass(frozen=True)
class S3Settings:
    """Where and as whom to reach object storage, as the AWS variables say."""

    endpoint: str | None  # host:port, without the scheme
    scheme: str  # "http" or "https"
    access_key: str | None
    secret_key: str | None
    session_token: str | None
    region: str | None

    @classmethod
    def from_environment(cls) -> S3Settings:
        """The settings of the current environment's AWS variables."""
        url = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
        endpoint, scheme = None, "https"
        if url:
            parts = urlsplit(url if "://" in url else f"https://{url}")
            endpoint, scheme = parts.netloc, parts.scheme or "https"
        return cls(endpoint=endpoint, scheme=scheme,
                   access_key=os.environ.get("AWS_ACCESS_KEY_ID"),
                   secret_key=os.environ.get("AWS_SECRET_ACCESS_KEY"),
                   session_token=os.environ.get("AWS_SESSION_TOKEN"),
                   region=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION"))


def s3_filesystem(settings: S3Settings | None = None) -> pafs.S3FileSystem:
    """pyarrow's S3 filesystem for ``settings`` (default: the environment's). A custom
    endpoint is addressed by path (``http://host:port/bucket/key``), as MinIO, moto and
    most S3-compatible servers expect."""
    s = settings or S3Settings.from_environment()
    options: dict[str, object] = {"scheme": s.scheme}
    if s.endpoint:
        options.update(endpoint_override=s.endpoint, force_virtual_addressing=False)
    if s.access_key and s.secret_key:
        options.update(access_key=s.access_key, secret_key=s.secret_key,
                       session_token=s.session_token)
    if s.region:
        options["region"] = s.region
    return pafs.S3FileSystem(**options)


def object_etag(filesystem: pafs.FileSystem, path: str) -> str:
    """The object's ETag (from its metadata; a HEAD request), or '' when none is given."""
    with filesystem.open_input_stream(path) as stream:
        metadata = stream.metadata()
    value = metadata.get("ETag", metadata.get(b"ETag", b""))
    return value.decode() if isinstance(value, bytes) else str(value or "")
