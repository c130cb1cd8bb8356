"""Result tables written to files: Parquet or CSV, chosen by the file's extension."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from .errors import UsageError

FORMATS = {".parquet": "parquet", ".csv": "csv"}


def file_format(path: Path) -> str:
    """``parquet`` or ``csv`` by ``path``'s extension; :class:`UsageError` otherwise."""
    try:
        return FORMATS[path.suffix.lower()]
    except KeyError:
        raise UsageError(f"{path}: the output must end in .parquet or .csv") from None


def write_arrow(table: pa.Table, path: Path) -> None:
    """``table`` as Parquet or CSV, chosen by the file's extension."""
    kind = file_format(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "parquet":
        import pyarrow.parquet as pq

        pq.write_table(table, path)
    else:
        import pyarrow.csv as pcsv

        pcsv.write_csv(table, path)
