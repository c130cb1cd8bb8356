"""Bad input gives the same rejection from every source: a wrong column type in
PostgreSQL as in a file, a damaged object on S3 or in a dataset folder as a damaged file;
and what only folders can get wrong (a table given twice) is refused clearly."""

from __future__ import annotations

import shutil
from datetime import datetime

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from accountrisk.features import contract
from accountrisk.features.engine import DuckDBEngine
from accountrisk.features.errors import UsageError
from accountrisk.features.load import load_folder
from accountrisk.features.workspace import source_fingerprint
from tests.servers import PG_PASSWORD, free_port
from tests.sources.market import execute, ingest, upload, write_local

NOW = datetime(2026, 12, 1)


def load(uri):  # noqa: ANN001, ANN201
    with DuckDBEngine() as engine:
        return load_folder(str(uri), engine, now=NOW)


def rejected(report) -> list[tuple[str, str | None, str]]:  # noqa: ANN001
    return sorted((p.table, p.column, p.reason) for p in report.rejections())


def damage(path) -> None:  # noqa: ANN001
    """Corrupt the first data page of a Parquet file, its footer left intact."""
    pq.write_table(pq.read_table(path), path, compression="zstd", use_dictionary=False)
    start = pq.ParquetFile(path).metadata.row_group(0).column(0).data_page_offset
    data = bytearray(path.read_bytes())
    for i in range(start + 40, start + 140):
        data[i] ^= 0x5A
    path.write_bytes(bytes(data))
    pq.read_metadata(path)


@pytest.fixture(scope="module")
def local(tmp_path_factory):
    return write_local(tmp_path_factory.mktemp("bad") / "local", accounts=120, seed=8)


def test_a_wrong_column_type_in_postgres_is_rejected_as_in_a_file(local, postgres, tmp_path):
    folder = shutil.copytree(local, tmp_path / "typed")
    sessions = pq.read_table(folder / "sessions.parquet")
    index = sessions.schema.get_field_index("started_at")
    pq.write_table(sessions.set_column(index, "started_at",
                                       sessions.column("started_at").cast(pa.string())),
                   folder / "sessions.parquet")
    ingest(local, postgres.uri(), schema="badtype")
    execute(postgres.uri(),
            "ALTER TABLE badtype.sessions ALTER COLUMN started_at TYPE text")
    want, got = load(folder), load(postgres.uri(schema="badtype"))
    assert rejected(want) == [("sessions", "started_at", "wrong_type")]
    assert rejected(got) == rejected(want)
    assert [p.message for p in got.rejections()] == [p.message for p in want.rejections()]


def test_a_damaged_object_on_s3_is_rejected_as_a_damaged_file(local, aws, tmp_path):
    folder = shutil.copytree(local, tmp_path / "damaged")
    damage(folder / "sessions.parquet")
    uri = upload(folder, aws.client(), "damaged")
    want, got = load(folder), load(uri)
    assert rejected(want) == [("sessions", None, "unreadable_file")]
    assert rejected(got) == rejected(want)
    assert got.loaded_rows == want.loaded_rows
    assert "sessions.parquet could not be read" in got.rejections()[0].message


def test_a_damaged_file_in_a_dataset_folder_rejects_its_table(local, tmp_path):
    folder = shutil.copytree(local, tmp_path / "dataset")
    payouts = pq.read_table(folder / "payouts.parquet")
    (folder / "payouts.parquet").unlink()
    (folder / "payouts").mkdir()
    pq.write_table(payouts.slice(0, 100), folder / "payouts" / "part-0.parquet")
    pq.write_table(payouts.slice(100), folder / "payouts" / "part-1.parquet")
    damage(folder / "payouts" / "part-1.parquet")
    report = load(folder)
    assert rejected(report) == [("payouts", None, "unreadable_file")]
    assert "payouts/ could not be read" in report.rejections()[0].message
    assert report.loaded_rows["sessions"] > 0


def test_a_table_given_as_a_file_and_a_folder_is_refused(local, tmp_path):
    folder = shutil.copytree(local, tmp_path / "both")
    (folder / "labels").mkdir()
    shutil.copy(folder / "labels.parquet", folder / "labels" / "part-0.parquet")
    report = load(folder)
    assert rejected(report) == [("labels", None, "ambiguous_table")]
    assert "labels.parquet" in report.rejections()[0].message
    assert "labels/" in report.rejections()[0].message


def test_a_partition_value_is_checked_as_the_contract_column(local, tmp_path):
    folder = shutil.copytree(local, tmp_path / "kinds")
    activity = pq.read_table(folder / "activity.parquet")
    (folder / "activity.parquet").unlink()
    good = activity.slice(0, activity.num_rows - 3).drop_columns(["kind"])
    bad = activity.slice(activity.num_rows - 3).drop_columns(["kind"])
    (folder / "activity" / "kind=message").mkdir(parents=True)
    (folder / "activity" / "kind=telepathy").mkdir(parents=True)
    pq.write_table(good, folder / "activity" / "kind=message" / "part-0.parquet")
    pq.write_table(bad, folder / "activity" / "kind=telepathy" / "part-0.parquet")
    report = load(folder)
    assert report.usable
    assert report.quarantined[("activity", "kind", "unknown_value")] == 3
    rows = sorted(p.row for p in report.problems if p.reason == "unknown_value"
                  and p.table == "activity")
    assert rows == [good.num_rows, good.num_rows + 1, good.num_rows + 2]


def test_a_schema_with_only_accounts_loads_the_rest_as_not_supplied(local, postgres):
    ingest(local, postgres.uri(), schema="thin")
    execute(postgres.uri(), *[f"DROP TABLE IF EXISTS thin.{t.name}"
                              for t in contract.TABLES if t.name != "accounts"])
    report = load(postgres.uri(schema="thin"))
    assert report.usable and list(report.loaded_rows) == ["accounts"]


def test_an_unreachable_database_is_a_usage_error_without_the_password(postgres):
    closed = postgres.uri().replace(f":{postgres.port}/", f":{free_port()}/")
    with pytest.raises(UsageError) as caught:
        source_fingerprint(closed)
    assert "cannot connect to postgresql://accountrisk:***@127.0.0.1" in str(caught.value)
    assert PG_PASSWORD not in str(caught.value) and "s3cret" not in str(caught.value)


def test_a_missing_s3_prefix_is_a_missing_folder(aws):
    report = load("s3://marketplace-data/no-such-prefix/")
    assert rejected(report) == [("accounts", None, "no_folder")]


def test_a_schema_without_accounts_names_the_missing_table(postgres):
    report = load(postgres.uri(schema="no_such_schema"))
    assert rejected(report) == [("accounts", None, "missing_table")]
    assert "no_such_schema.accounts is missing" in report.rejections()[0].message
