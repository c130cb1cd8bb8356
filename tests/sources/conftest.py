"""The marketplace of tests/sources/market.py, written as a folder, as partitioned dataset
folders, under an S3 prefix (moto's server) and into PostgreSQL (a real server), all on
127.0.0.1 and started by the test run."""

from __future__ import annotations

import pytest

from tests.sources.market import ingest, upload, write_local, write_partitioned


@pytest.fixture(scope="module")
def aws(s3):
    """The S3 test server, with the standard AWS variables pointing at it."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in s3.environment.items():
            patch.setenv(name, value)
        patch.delenv("AWS_ENDPOINT_URL_S3", raising=False)
        yield s3


@pytest.fixture(scope="module")
def market(tmp_path_factory, aws, postgres) -> dict[str, str]:
    """Source kind -> the text a user gives for it, all holding the same marketplace."""
    pytest.importorskip("adbc_driver_postgresql",
                        reason='PostgreSQL sources need pip install ".[postgres]"')
    root = tmp_path_factory.mktemp("sources")
    local = write_local(root / "local")
    partitioned = write_partitioned(local, root / "partitioned")
    ingest(local, postgres.uri(), schema="market")
    return {"local": str(local), "partitioned": str(partitioned),
            "s3": upload(partitioned, aws.client(), "same"),
            "postgres": postgres.uri(schema="market")}
