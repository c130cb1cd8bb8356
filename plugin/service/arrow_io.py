"""Feature rows in and scores out as Arrow IPC streams, and the one check the service
adds to the scorer's own: each account once per request.

JSON rows go to the scorer as they are (records); it checks them like a table
(:mod:`accountrisk.scoring._records`), so a JSON and an Arrow request are rejected with
the same messages.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from accountrisk.features.errors import ContractError
from accountrisk.scoring._feature_rows import ROWS_NAMED


def check_unique_ids(rows: pa.Table | Sequence[Mapping[str, Any]]) -> None:
    """Raise :class:`ContractError` when an ``account_id`` appears in more than one row
    (of a table or of records): scores are returned per account, so a repeated id would
    hide one of its rows."""
    if isinstance(rows, pa.Table):
        if "account_id" not in rows.column_names or rows.num_rows < 2:
            return
        column = rows.column("account_id").cast(pa.string())
        if pc.count_distinct(column, mode="all").as_py() == rows.num_rows:
            return
        ids = column.to_pylist()
    else:
        ids = [row.get("account_id") for row in rows]
        if not all(isinstance(a, (str, type(None))) for a in ids) or len(set(ids)) == len(ids):
            return  # ids that are not text: the scorer's check names them
    seen: dict[Any, list[int]] = {}
    for i, value in enumerate(ids):
        seen.setdefault(value, []).append(i)
    repeated = [(a, rows) for a, rows in seen.items() if len(rows) > 1]
    listed = "; ".join(f"account_id {a!r} in rows {', '.join(map(str, rows[:ROWS_NAMED]))}"
                       for a, rows in repeated[:ROWS_NAMED])
    raise ContractError(f"feature rows rejected, nothing was scored:\n- {len(repeated):,} "
                        f"account ids appear in more than one row ({listed}): send each "
                        "account once")


def read_stream(body: bytes) -> pa.Table:
    """An Arrow IPC stream body as a table; anything else is a :class:`ContractError`."""
    try:
        with pa.ipc.open_stream(pa.BufferReader(body)) as reader:
            return reader.read_all()
    except (pa.ArrowInvalid, pa.ArrowTypeError, OSError) as error:
        raise ContractError(
            f"the request body is not an Arrow IPC stream ({error}); write it with "
            "pyarrow.ipc.new_stream (the stream format, not the file format), or send "
            "JSON with Content-Type: application/json") from None


def write_stream(table: pa.Table, metadata: Mapping[str, str]) -> bytes:
    """``table`` as an Arrow IPC stream, ``metadata`` on its schema."""
    table = table.replace_schema_metadata({**(table.schema.metadata or {}),
                                           **{k.encode(): v.encode()
                                              for k, v in metadata.items()}})
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()
