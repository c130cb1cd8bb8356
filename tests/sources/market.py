"""One small generated marketplace, written four ways: a folder of files, the same as
Hive-partitioned dataset folders, objects under an S3 prefix, and PostgreSQL tables.

Rows keep one order in all four (partitioned tables are sorted by their partition key
first), so row numbers, and with them every report, agree.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from accountrisk.synthetic import generate

AS_OF = "2026-10-01"
BUCKET = "marketplace-data"


def month_of(table: pa.Table, column: str) -> pa.Array:
    return pc.strftime(table.column(column), "%Y-%m").combine_chunks()


def _sorted_by(table: pa.Table, keys: pa.Array) -> pa.Table:
    """``table`` ordered by ``keys``, ties kept in their order."""
    order = pc.sort_indices(pa.table({"k": keys, "i": pa.array(range(len(keys)))}),
                            sort_keys=[("k", "ascending"), ("i", "ascending")])
    return table.take(order)


def write_local(folder: Path, accounts: int = 300, seed: int = 11) -> Path:
    """The reference folder: one file per table, sessions ordered by month and activity
    by kind (the partition keys of :func:`write_partitioned`)."""
    generate(folder, accounts=accounts, seed=seed, fronted_share=0.08)
    (folder / "ground_truth.parquet").unlink()
    (folder / "collaborators.parquet").unlink(missing_ok=True)  # the generator's truth, too
    (folder / "generation.json").unlink()
    sessions = pq.read_table(folder / "sessions.parquet")
    pq.write_table(_sorted_by(sessions, month_of(sessions, "started_at")),
                   folder / "sessions.parquet")
    activity = pq.read_table(folder / "activity.parquet")
    pq.write_table(_sorted_by(activity, activity.column("kind").cast(pa.string())),
                   folder / "activity.parquet")
    _plant_bad_rows(folder)
    return folder


PLANTED = {("payouts", "amount_usd", "out_of_range"): 2,
           ("sessions", "ip_type", "unknown_value"): 1}


def _plant_bad_rows(folder: Path) -> None:
    """A few rows to quarantine (see :data:`PLANTED`), so reports have rows to compare."""
    payouts = pq.read_table(folder / "payouts.parquet")
    amounts = payouts.column("amount_usd").to_pylist()
    amounts[3] = amounts[-3] = -5.0  # one in each half: partitioned copies split it in two
    payouts = payouts.set_column(payouts.schema.get_field_index("amount_usd"),
                                 payouts.schema.field("amount_usd"),
                                 pa.array(amounts, payouts.schema.field("amount_usd").type))
    pq.write_table(payouts, folder / "payouts.parquet")
    sessions = pq.read_table(folder / "sessions.parquet")
    field = sessions.schema.field("ip_type")
    kinds = sessions.column("ip_type").cast(pa.string()).to_pylist()
    kinds[10] = "satellite"
    sessions = sessions.set_column(sessions.schema.get_field_index("ip_type"),
                                   pa.field("ip_type", pa.string(), field.nullable),
                                   pa.array(kinds, pa.string()))
    pq.write_table(sessions, folder / "sessions.parquet")


def write_partitioned(local: Path, folder: Path) -> Path:
    """``local`` re-written with dataset folders: ``sessions/dt=<month>/`` (a partition
    key outside the contract), ``activity/kind=<kind>/`` (a contract column held only in
    the folder names) and ``payouts/`` as two plain files; the rest stay single files."""
    shutil.copytree(local, folder)
    sessions = pq.read_table(folder / "sessions.parquet")
    (folder / "sessions.parquet").unlink()
    months = month_of(sessions, "started_at")
    for month in sorted(set(months.to_pylist())):
        part = folder / "sessions" / f"dt={month}"
        part.mkdir(parents=True)
        pq.write_table(sessions.filter(pc.equal(months, month)), part / "part-0.parquet")
    activity = pq.read_table(folder / "activity.parquet")
    (folder / "activity.parquet").unlink()
    kinds = activity.column("kind").cast(pa.string())
    for kind in sorted(set(kinds.to_pylist())):
        part = folder / "activity" / f"kind={kind}"
        part.mkdir(parents=True)
        pq.write_table(activity.filter(pc.equal(kinds, kind)).drop_columns(["kind"]),
                       part / "part-0.parquet")
    payouts = pq.read_table(folder / "payouts.parquet")
    (folder / "payouts.parquet").unlink()
    (folder / "payouts").mkdir()
    half = payouts.num_rows // 2
    pq.write_table(payouts.slice(0, half), folder / "payouts" / "part-0.parquet")
    pq.write_table(payouts.slice(half), folder / "payouts" / "part-1.parquet")
    (folder / "payouts" / "_SUCCESS").write_text("")  # as Spark leaves it; not data
    return folder


def report_keys(report) -> list[tuple]:  # noqa: ANN001 (a ValidationReport)
    """Each finding as (severity, table, column, reason, row, account); notes apart (a
    partition folder's extra key is a note of its own)."""
    return sorted((p.severity, p.table, p.column or "", p.reason, p.row or -1,
                   p.account_id or "") for p in report.problems if p.severity != "note")


def upload(folder: Path, client, prefix: str) -> str:  # noqa: ANN001 (a boto3 client)
    """Every file under ``folder`` as objects under ``prefix``; the ``s3://`` URI."""
    buckets = {b["Name"] for b in client.list_buckets()["Buckets"]}
    if BUCKET not in buckets:
        client.create_bucket(Bucket=BUCKET)
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            client.upload_file(str(path), BUCKET, f"{prefix}/{path.relative_to(folder)}")
    return f"s3://{BUCKET}/{prefix}/"


def plain(table: pa.Table) -> pa.Table:
    """Dictionary columns decoded (a database column holds plain values) and NUL characters
    dropped from strings (PostgreSQL text cannot hold them; the generator's hostile names
    have some in large marketplaces)."""
    columns = []
    for column in table.columns:
        if pa.types.is_dictionary(column.type):
            column = column.dictionary_decode()
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            column = pc.replace_substring(column, "\x00", "")
        columns.append(column)
    return pa.table(columns, names=table.column_names)


def ingest(folder: Path, uri: str, schema: str = "public") -> None:
    """Every ``<table>.parquet`` of ``folder`` as a PostgreSQL table of ``schema`` (created,
    replacing any), rows in file order."""
    import adbc_driver_postgresql.dbapi as dbapi

    with dbapi.connect(uri) as conn, conn.cursor() as cursor:
        cursor.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        for path in sorted(folder.glob("*.parquet")):
            cursor.execute(f'DROP TABLE IF EXISTS "{schema}"."{path.stem}" CASCADE')
            cursor.adbc_ingest(path.stem, plain(pq.read_table(path)), mode="create",
                               db_schema_name=schema)
        conn.commit()


def execute(uri: str, *statements: str) -> None:
    """Run SQL statements (test set-up only: fixed text, no values from outside)."""
    import adbc_driver_postgresql.dbapi as dbapi

    with dbapi.connect(uri) as conn, conn.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)
        conn.commit()
