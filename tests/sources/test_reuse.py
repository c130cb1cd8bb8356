"""The work directory's "already loaded" check, per source: a second run does not load
again; a changed row does; a source that cannot tell says so and loads again."""

from __future__ import annotations

import shutil

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from accountrisk.features.engines import open_engine
from accountrisk.features.workspace import source_fingerprint
from tests.sources.market import execute, ingest, upload, write_local, write_partitioned


def loads(uri: str, workdir) -> bool:  # noqa: ANN001
    """Whether opening ``uri`` in ``workdir`` (as every command does) loaded it."""
    steps: list[str] = []
    with open_engine("duckdb", data_dir=uri, workdir=workdir,
                     progress=lambda step, done, total: steps.append(step)):
        pass
    return bool(steps)


def change_one_row(path) -> None:  # noqa: ANN001
    """Rewrite one Parquet file with one value of ``ip_country``/``method`` changed."""
    table = pq.read_table(path)
    name = "ip_country" if "ip_country" in table.column_names else "method"
    values = table.column(name).cast(pa.string()).to_pylist()
    values[0] = "DE" if name == "ip_country" else "wise"
    index = table.schema.get_field_index(name)
    pq.write_table(table.set_column(index, pa.field(name, pa.string()),
                                    pa.array(values, pa.string())), path)


@pytest.fixture(scope="module")
def copies(tmp_path_factory, aws, postgres):
    pytest.importorskip("adbc_driver_postgresql")
    root = tmp_path_factory.mktemp("reuse")
    local = write_local(root / "local", accounts=120, seed=4)
    partitioned = write_partitioned(local, root / "partitioned")
    ingest(local, postgres.uri(), schema="reuse")
    return {"local": local, "partitioned": partitioned, "root": root,
            "s3": upload(partitioned, aws.client(), "reuse")}


def test_a_local_folder_is_reused_until_a_file_changes(copies, tmp_path):
    for kind in ("local", "partitioned"):
        uri = str(copies[kind])
        work = tmp_path / kind
        assert loads(uri, work)
        assert not loads(uri, work)
        target = (copies[kind] / "payout_methods.parquet" if kind == "local" else
                  sorted((copies[kind] / "sessions").rglob("*.parquet"))[-1])
        change_one_row(target)
        assert loads(uri, work), kind
        assert not loads(uri, work)


def test_an_s3_prefix_is_reused_until_an_object_changes(copies, aws, tmp_path):
    uri = copies["s3"]
    assert loads(uri, tmp_path)
    assert not loads(uri, tmp_path)
    before = source_fingerprint(uri).value
    changed = copies["root"] / "changed.parquet"
    shutil.copy(copies["partitioned"] / "payout_methods.parquet", changed)
    change_one_row(changed)
    aws.client().upload_file(str(changed), "marketplace-data",
                             "reuse/payout_methods.parquet")
    assert source_fingerprint(uri).value != before
    assert loads(uri, tmp_path)
    assert not loads(uri, tmp_path)


def test_a_database_is_reused_until_a_row_changes(postgres, copies, tmp_path):
    uri = postgres.uri(schema="reuse")
    assert loads(uri, tmp_path)
    assert not loads(uri, tmp_path)
    # Neither the row count nor the latest time moves: the row version does.
    execute(postgres.uri(), "UPDATE reuse.sessions SET ip_country = 'DE' "
                            "WHERE started_at = (SELECT min(started_at) FROM reuse.sessions)")
    assert loads(uri, tmp_path)
    assert not loads(uri, tmp_path)
    execute(postgres.uri(), "DELETE FROM reuse.labels WHERE decided_at = "
                            "(SELECT max(decided_at) FROM reuse.labels)")
    assert loads(uri, tmp_path)


def test_views_are_fingerprinted_by_count_and_time_or_said_to_be_unknown(
        postgres, copies, tmp_path, capfd):
    ingest(copies["local"], postgres.uri(), schema="viewed")
    execute(postgres.uri(),
            "ALTER TABLE viewed.sessions RENAME TO sessions_base",
            "CREATE VIEW viewed.sessions AS SELECT * FROM viewed.sessions_base")
    uri = postgres.uri(schema="viewed")
    assert source_fingerprint(uri).value is not None  # a view with a time column
    assert loads(uri, tmp_path)
    assert not loads(uri, tmp_path)
    execute(postgres.uri(),
            "ALTER TABLE viewed.account_attributes RENAME TO attributes_base",
            "CREATE VIEW viewed.account_attributes AS SELECT * FROM viewed.attributes_base")
    found = source_fingerprint(uri)
    assert found.value is None
    assert "viewed.account_attributes has no timestamp column" in found.unknown_because
    capfd.readouterr()
    assert loads(uri, tmp_path)
    assert loads(uri, tmp_path)  # every time: it cannot tell
    said = capfd.readouterr().err
    assert "cannot tell whether" in said and "loading it again" in said
    assert "s3cret" not in said and "***" in said
