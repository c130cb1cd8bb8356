"""Writing contract tables: numpy columns to Arrow arrays with the exact contract schemas.

Files are written with fixed Parquet settings (zstd, statistics, dictionary pages), so the
same data gives byte-identical files. Large tables are written chunk by chunk
(:class:`TableWriter`), one or more row groups per chunk.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ..features.contract import arrow_schema

_WRITE_OPTIONS = dict(
    compression="zstd",
    compression_level=3,
    use_dictionary=True,
    write_statistics=True,
    data_page_size=1 << 20,
)
ROW_GROUP_ROWS = 1 << 20


def account_ids(n: int) -> pa.Array:
    """Account ids ``u0000001``... in account order (sequential, like sign-up order ids)."""
    width = max(7, len(str(n)))
    return pa.array([f"u{i + 1:0{width}d}" for i in range(n)], type=pa.string())


def timestamps(sec: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """int64 epoch seconds as naive-UTC ``timestamp[us]`` (nulls where not valid)."""
    us = np.asarray(sec, dtype=np.int64) * 1_000_000
    return pa.array(us, type=pa.timestamp("us"), mask=None if valid is None else ~np.asarray(valid, bool))


def strings(values, codes: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """Strings ``values[codes]`` (nulls where a code is negative or not valid)."""
    codes = np.asarray(codes, dtype=np.int64)
    ok = codes >= 0
    if valid is not None:
        ok &= np.asarray(valid, bool)
    dictionary = values if isinstance(values, pa.Array) else pa.array(list(values), type=pa.string())
    idx = pa.array(np.where(ok, codes, 0), type=pa.int64(), mask=~ok)
    return dictionary.take(idx)


def numbers(values: np.ndarray, arrow_type: pa.DataType, valid: np.ndarray | None = None) -> pa.Array:
    """A numeric column (nulls where not valid)."""
    mask = None if valid is None else ~np.asarray(valid, bool)
    return pa.array(np.asarray(values), type=arrow_type, mask=mask)


def make_table(name: str, columns: dict[str, pa.Array], schema: pa.Schema | None = None) -> pa.Table:
    """A table with exactly the contract schema of ``name`` (or ``schema``), columns in order."""
    schema = schema if schema is not None else arrow_schema(name)
    arrays = [columns[f.name] for f in schema]
    return pa.Table.from_arrays(arrays, schema=schema)


class TableWriter:
    """Append-only Parquet writer of one contract table."""

    def __init__(self, out_dir: Path, name: str, schema: pa.Schema | None = None) -> None:
        self.name = name
        self.schema = schema if schema is not None else arrow_schema(name)
        self.path = Path(out_dir) / f"{name}.parquet"
        self.rows = 0
        self._writer = pq.ParquetWriter(self.path, self.schema, **_WRITE_OPTIONS)

    def write(self, columns: dict[str, pa.Array]) -> None:
        """Append rows given as Arrow arrays by column name."""
        table = make_table(self.name, columns, self.schema)
        self._writer.write_table(table, row_group_size=ROW_GROUP_ROWS)
        self.rows += table.num_rows

    def close(self) -> int:
        """Finish the file; returns the number of rows written."""
        self._writer.close()
        return self.rows


def write_whole(
    out_dir: Path, name: str, columns: dict[str, pa.Array], schema: pa.Schema | None = None
) -> int:
    """Write a whole table at once; returns its row count."""
    writer = TableWriter(out_dir, name, schema)
    writer.write(columns)
    return writer.close()
