"""What every kind of contract source hands to the load: its tables and its fingerprint."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import pyarrow as pa

from .uri import SourceURI

if TYPE_CHECKING:
    from ..validate import ValidationReport

ROW_NUMBER = "file_row_number"


@dataclass
class FoundTable:
    """One contract table a source supplies.

    ``schema`` is what validation checks (partition columns that are contract columns carry
    the contract's type). ``label`` names the table's data in messages (``sessions.parquet``,
    ``sessions/``, a database table). ``local_file`` is set for a single local Parquet file,
    which DuckDB reads itself; ``read`` streams the rows (with their 0-based
    ``file_row_number``) for every other case. ``files`` lists a Parquet table's files (as
    the filesystem names them), for Spark."""

    name: str
    schema: pa.Schema
    label: str
    read: Callable[[], pa.RecordBatchReader]
    local_file: Path | None = None
    files: tuple[str, ...] = ()
    base_dir: str | None = None  # a dataset's folder (where its Hive partitions start)


@dataclass(frozen=True)
class Fingerprint:
    """What a source says about its current content: ``value`` changes when the data does;
    None when the source cannot tell (``unknown_because`` says why)."""

    value: str | None
    unknown_because: str = ""


class Source(Protocol):
    """A place contract tables are read from (see :func:`.open_source`)."""

    uri: SourceURI

    def tables(self, report: ValidationReport) -> dict[str, FoundTable] | None:
        """The contract tables found; problems (unreadable or ambiguous tables, extra files)
        go to ``report``. None when the source itself is missing (a reject is reported)."""
        ...

    def fingerprint(self) -> Fingerprint:
        """The content's fingerprint, to tell whether a work directory holds it already."""
        ...


def numbered(reader: pa.RecordBatchReader) -> pa.RecordBatchReader:
    """``reader``'s batches with the running 0-based row number appended as
    ``file_row_number`` (rows of a dataset are numbered across its files, in file order)."""
    schema = reader.schema.append(pa.field(ROW_NUMBER, pa.int64()))

    def batches() -> Iterator[pa.RecordBatch]:
        start = 0
        for batch in reader:
            rows = pa.array(range(start, start + batch.num_rows), pa.int64())
            start += batch.num_rows
            yield pa.RecordBatch.from_arrays([*batch.columns, rows], schema=schema)

    return pa.RecordBatchReader.from_batches(schema, batches())


def lazy_reader(schema: pa.Schema, open_reader: Callable[[], pa.RecordBatchReader]
                ) -> pa.RecordBatchReader:
    """A reader of ``schema`` that calls ``open_reader`` only when its first batch is
    pulled (a database connection serves one query at a time; the load reads tables one
    after the other)."""

    def batches() -> Iterator[pa.RecordBatch]:
        with open_reader() as reader:
            yield from reader

    return pa.RecordBatchReader.from_batches(schema, batches())
