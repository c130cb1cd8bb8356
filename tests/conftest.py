"""Shared test helpers: small hand-written contract tables and their features."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pyarrow as pa
import pytest

from accountrisk.features import contract
from accountrisk.features.contract import arrow_schema
from accountrisk.features.engine import DuckDBEngine
from accountrisk.features.load import load_tables
from accountrisk.features.pipeline import build_features

# Defaults that make a row valid, so a test writes only the columns it is about.
DEFAULTS: dict[str, dict[str, Any]] = {
    "accounts": {"created_at": datetime(2025, 1, 1), "claimed_country": "US",
                 "claimed_timezone": "America/New_York"},
    "sessions": {"started_at": datetime(2025, 6, 1, 15), "ip_token": "ip-default"},
    "activity": {"ts": datetime(2025, 6, 1, 15), "kind": "message"},
    "payout_methods": {"payout_token": "pay-default", "method": "bank",
                       "added_at": datetime(2025, 2, 1)},
    "payouts": {"payout_token": "pay-default", "amount_usd": 100.0,
                "paid_at": datetime(2025, 3, 1)},
    "portfolio_items": {"added_at": datetime(2025, 2, 1)},
    "account_links": {"kind": "messaged"},
    "labels": {"label": 1, "decided_at": datetime(2025, 5, 1), "source": "review"},
    "contracts": {"started_at": datetime(2025, 4, 1), "billed_usd": 500.0},
    "proposals": {"job_id": "job-default", "submitted_at": datetime(2025, 3, 15)},
    "reviews": {"rating": 5.0, "created_at": datetime(2025, 5, 15)},
}

NOW = datetime(2026, 1, 1)


def make_table(name: str, rows: list[dict[str, Any]]) -> pa.Table:
    """A contract table from partial rows; missing columns take valid defaults."""
    if name == "account_attributes":
        return pa.Table.from_pylist(rows)
    schema = arrow_schema(name)
    filled = [{**DEFAULTS.get(name, {}), **row} for row in rows]
    return pa.Table.from_pylist(filled, schema=schema)


def make_tables(**tables: list[dict[str, Any]]) -> dict[str, pa.Table]:
    """Contract tables from partial rows; accounts named in other tables are added."""
    tables = dict(tables)
    named = {r[column] for name, rows in tables.items() for r in rows
             for column in contract.table(name).account_columns if r.get(column) is not None}
    have = {r["account_id"] for r in tables.get("accounts", [])}
    tables["accounts"] = list(tables.get("accounts", [])) + [
        {"account_id": a} for a in sorted(named - have)]
    return {name: make_table(name, rows) for name, rows in tables.items()}


def compute(tables: dict[str, pa.Table], as_of: str | datetime = "2025-12-01",
            only: list[str] | None = None) -> dict[str, dict[str, Any]]:
    """Features as of ``as_of`` by account id, through the real load and pipeline;
    ``only``: a pass that wants these accounts' rows alone (a training set's snapshot)."""
    with DuckDBEngine() as engine:
        report = load_tables(tables, engine, now=NOW)
        assert report.usable, [p.render() for p in report.problems]
        wanted = None
        if only is not None:
            wanted = "wanted_accounts"
            engine.create_table_from_arrow(wanted, pa.table({"account_id": only}))
        result = build_features(engine, as_of, accounts=wanted)
    return {row["account_id"]: row for row in result.to_pylist()}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under pytest-xdist, every Spark test runs on one worker: one JVM per test run (the
    session's Spark fixture starts it once), and the other worker takes everything else."""
    if not config.pluginmanager.hasplugin("xdist"):
        return
    for item in items:
        if item.get_closest_marker("spark") or "spark" in item.nodeid.lower():
            item.add_marker(pytest.mark.xdist_group("spark"))


@pytest.fixture
def engine():
    with DuckDBEngine() as e:
        yield e


@pytest.fixture(scope="session")
def spark_engine():
    """One Spark session (local[2]) for the whole test run: the JVM starts once."""
    import shutil

    if shutil.which("java") is None:
        pytest.skip("Spark tests need Java: no `java` on PATH")
    pytest.importorskip("pyspark", reason='Spark tests need pyspark: pip install '
                                          '"accountrisk[spark]"')
    from accountrisk.features.spark import SparkEngine

    with SparkEngine(master="local[2]", config={"spark.sql.shuffle.partitions": "2"}) as e:
        yield e


@pytest.fixture(autouse=True)
def _registry_order_restored():
    """Tests that swap signals in and out of the registry leave it exactly as found
    (monkeypatch re-inserts deleted keys at the end, which would reorder the output)."""
    from accountrisk.features.registry import FEATURES, STAGES, default_registry

    families = default_registry().families
    saved = [(d, dict(d)) for d in (families, FEATURES, STAGES)]
    yield
    for registered, before in saved:
        registered.clear()
        registered.update(before)


@pytest.fixture(scope="session")
def postgres():
    """A PostgreSQL server on 127.0.0.1 for the whole run (tests/servers.py); skipped only
    when the server binaries are not installed (.ci/run installs them)."""
    from tests.servers import postgres_bin_dir, postgres_server

    if postgres_bin_dir() is None:
        pytest.skip("PostgreSQL server binaries not installed (apt-get install postgresql)")
    with postgres_server() as server:
        yield server


@pytest.fixture(scope="session")
def s3():
    """moto's S3 server on 127.0.0.1 for the whole run (tests/servers.py)."""
    pytest.importorskip("moto", reason='the S3 tests need moto: pip install ".[test]"')
    from tests.servers import s3_server

    with s3_server() as server:
        yield server
