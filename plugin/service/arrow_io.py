"""Feature rows in and scores out as Arrow: JSON rows checked column by column into an
Arrow table, Arrow IPC streams read and written.

JSON rows are checked here for what JSON can get wrong and Arrow cannot say (text where the
model expects a number, a number where it expects text); everything else is the scorer's
own boundary check (:func:`~accountrisk.scoring._feature_rows.check_feature_rows`), so a
JSON and an Arrow request are rejected with the same messages.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from accountrisk.features.errors import ContractError
from accountrisk.scoring._feature_rows import ROWS_NAMED
from accountrisk.training.predict import CONTEXT_COLUMNS

_NUMBER_KINDS = frozenset({float, int, type(None)})
_TEXT_KINDS = frozenset({str, type(None)})


def rows_table(rows: Sequence[Mapping[str, Any]], features: Sequence[str],
               categories: Mapping[str, Any]) -> pa.Table:
    """JSON feature rows as the Arrow table :meth:`RiskScorer.score_features` reads:
    ``account_id`` and context columns as text, categorical features as text, the other
    features as float64 (a flag as 1.0/0.0); columns the model does not read are dropped.
    A value of the wrong kind is a :class:`ContractError` naming its column and rows."""
    wanted = [*dict.fromkeys(["account_id", *features, *CONTEXT_COLUMNS])]
    text = {"account_id", *CONTEXT_COLUMNS, *categories}
    given = set().union(*rows)
    names = [n for n in wanted if n in given]
    try:  # in one conversion when every value fits; else column by column, naming rows
        return _quick_table(rows, names, text)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        pass
    columns: dict[str, pa.Array] = {}
    problems: list[str] = []
    for name in names:
        values = [row.get(name) for row in rows]
        kinds = {type(v) for v in values}
        if name in text:
            if kinds <= _TEXT_KINDS:
                columns[name] = pa.array(values, pa.string())
            else:
                problems.append(_wrong(name, values, rows, _is_text, "text"))
        elif kinds <= _NUMBER_KINDS | {bool}:
            columns[name] = pa.array([None if v is None else float(v) for v in values],
                                     pa.float64())
        else:
            problems.append(_wrong(name, values, rows, _is_number, "a number"))
    if problems:
        raise ContractError("feature rows rejected, nothing was scored:\n- "
                            + "\n- ".join(problems))
    return pa.table(columns)


def _quick_table(rows: Sequence[Mapping[str, Any]], names: list[str], text: set[str]
                 ) -> pa.Table:
    """The table of ``rows`` when every value fits its column: the numeric columns as one
    float64 array, sliced per column (Arrow's per-column conversion costs more than the
    values for one account of a wide model). Raises Arrow's error when a value does not."""
    numbers = [n for n in names if n not in text]
    flat = pa.array([row.get(n) for n in numbers for row in rows], pa.float64())
    k = len(rows)
    at = {n: j * k for j, n in enumerate(numbers)}
    return pa.table({n: pa.array([row.get(n) for row in rows], pa.string()) if n in text
                     else flat.slice(at[n], k) for n in names})


def _is_text(value: Any) -> bool:
    return value is None or isinstance(value, str)


def _is_number(value: Any) -> bool:
    return value is None or isinstance(value, (float, int))  # a bool is an int


def _wrong(name: str, values: list[Any], rows: Sequence[Mapping[str, Any]],
           ok: Callable[[Any], bool], expected: str) -> str:
    bad = [i for i, v in enumerate(values) if not ok(v)]
    shown = ", ".join(str(i) for i in bad[:ROWS_NAMED])
    more = f" and {len(bad) - ROWS_NAMED:,} more" if len(bad) > ROWS_NAMED else ""
    accounts = ", ".join(str(rows[i].get("account_id")) for i in bad[:ROWS_NAMED])
    return (f"column {name}: {len(bad):,} values are not {expected} in rows {shown}{more} "
            f"(accounts {accounts}; first value {values[bad[0]]!r}); send {expected}, or "
            "null for an unknown value")


def check_unique_ids(table: pa.Table) -> None:
    """Raise :class:`ContractError` when an ``account_id`` appears in more than one row:
    scores are returned per account, so a repeated id would hide one of its rows."""
    if "account_id" not in table.column_names or table.num_rows < 2:
        return
    ids = table.column("account_id").cast(pa.string())
    if pc.count_distinct(ids, mode="all").as_py() == table.num_rows:
        return
    seen: dict[Any, list[int]] = {}
    for i, value in enumerate(ids.to_pylist()):
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
