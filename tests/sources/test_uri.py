"""Reading the text of a source: which kind it is, and that no form of it shows a password."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from accountrisk.features.errors import UsageError
from accountrisk.features.sources import parse_source, shown
from accountrisk.features.sources.postgres import quote_identifier
from accountrisk.features.sources.uri import libpq_uri, mask_password
from accountrisk.plugin.cli import app


@pytest.mark.parametrize("text, scheme", [
    ("data/market", "file"), ("/abs/market/", "file"), ("file:///abs/market", "file"),
    ("s3://bucket/market/", "s3"), ("s3a://bucket", "s3"),
    ("postgresql://u:p@h:5432/db", "postgresql"), ("postgres://u@h/db?schema=x", "postgresql"),
])
def test_the_scheme_decides_the_kind(text, scheme):
    assert parse_source(text).scheme == scheme


def test_the_parts_are_read():
    s3 = parse_source("s3://bucket/deep/market/")
    assert (s3.bucket, s3.prefix) == ("bucket", "deep/market")
    assert parse_source("s3://bucket").prefix == ""
    assert parse_source(Path("x/y")).path == Path("x/y")
    assert parse_source("file:///abs/my%20market").path == Path("/abs/my market")
    pg = parse_source("postgresql://u:p@h:5432/db?schema=market&sslmode=disable")
    assert pg.schema == "market"
    assert libpq_uri(pg) == "postgresql://u:p@h:5432/db?sslmode=disable"
    assert parse_source("postgresql://u@h/db").schema == "public"


def test_other_schemes_and_bucketless_s3_are_usage_errors():
    with pytest.raises(UsageError, match="unknown source scheme 'mysql'"):
        parse_source("mysql://root:hunter2@h/db")
    with pytest.raises(UsageError) as caught:
        parse_source("mysql://root:hunter2@h/db")
    assert "hunter2" not in str(caught.value)
    with pytest.raises(UsageError, match="needs a bucket"):
        parse_source("s3:///market")


@pytest.mark.parametrize("text", [
    "postgresql://user:hunter2@host:5432/db",
    "postgresql://user:hun%40ter2@host/db?schema=x",
    "postgresql://user@host/db?password=hunter2",
    "postgresql://user@host/db?sslmode=require&password=hunter2&schema=x",
])
def test_passwords_are_masked(text):
    assert "hunter2" not in mask_password(text)
    assert "hun%40ter2" not in shown(text)
    assert "***" in shown(text)
    assert parse_source(text).shown == mask_password(text)


def test_text_without_a_password_is_unchanged():
    for text in ("postgresql://user@host/db", "s3://b/p/", "/data/market", "a:b@c"):
        assert mask_password(text) == text


def test_identifiers_are_quoted_not_formatted():
    assert quote_identifier("sessions") == '"sessions"'
    assert quote_identifier('x"; DROP TABLE accounts; --') == '"x""; DROP TABLE accounts; --"'
    with pytest.raises(UsageError):
        quote_identifier("a\x00b")


def test_the_cli_keeps_the_double_slash_of_a_uri(tmp_path):
    result = CliRunner().invoke(app, ["validate", "postgresql://u:hunter2@127.0.0.1:1/db",
                                      "--workdir", str(tmp_path)])
    assert result.exit_code != 0
    text = f"{result.output} {result.exception}"
    assert "postgresql://u:***@127.0.0.1:1/db" in text and "hunter2" not in text
