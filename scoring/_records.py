"""Feature rows as the scorer reads them: an Arrow table, from Arrow, Polars, pandas or
records (a list of mappings, one per account, as JSON rows arrive).

Records are checked here for what JSON can get wrong and Arrow cannot say (text where the
model expects a number, a number where it expects text); everything else is the scorer's
own boundary check (:func:`~accountrisk.scoring._feature_rows.check_feature_rows`), so
records and a table are rejected with the same messages.

A handful of records (up to ``FEW_ROWS``) whose values all fit skips Arrow for the model's
numeric features: the matrix is built from the Python values at once
(:func:`few_records`), since a 300-column Arrow table of one row costs milliseconds to
build and take apart, the values microseconds.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from accountrisk.features.errors import ContractError
from accountrisk.scoring._feature_rows import FEW_ROWS, ROWS_NAMED, FewRows, few_rows
from accountrisk.training.predict import CONTEXT_COLUMNS

_NUMBER_KINDS = frozenset({float, int, bool, type(None)})
_TEXT_KINDS = frozenset({str, type(None)})


def is_records(table: Any) -> bool:
    """Whether ``table`` is a sequence of mappings (one per row) rather than a table."""
    return (isinstance(table, Sequence) and not isinstance(table, (str, bytes))
            and all(isinstance(row, Mapping) for row in table[:1]))


def to_arrow(table: Any) -> pa.Table:
    """Arrow, Polars or pandas feature rows as an Arrow table (mappings pass as columns)."""
    if isinstance(table, pa.Table):
        return table
    if hasattr(table, "to_arrow"):  # polars
        return table.to_arrow()
    if isinstance(table, Mapping):
        return pa.table(dict(table))
    return pa.Table.from_pandas(table, preserve_index=False)


def feature_rows(table: Any, features: Sequence[str], categories: Mapping[str, Any],
                 codes: Mapping[str, Mapping[str, float]] | None
                 ) -> tuple[pa.Table, FewRows | None]:
    """``table`` as Arrow, with the model matrix of a handful of rows when made on the way
    (``codes`` None: no matrix, e.g. for a rules bundle)."""
    if is_records(table):
        if codes is not None:
            quick = few_records(table, features, codes)
            if quick is not None:
                return quick
        data = records_table(table, features, categories)
    else:
        data = to_arrow(table)
    return data, (few_rows(data, features, codes) if codes is not None else None)


def few_records(rows: Sequence[Mapping[str, Any]], features: Sequence[str],
                codes: Mapping[str, Mapping[str, float]]) -> tuple[pa.Table, FewRows] | None:
    """The model matrix of up to ``FEW_ROWS`` records (the values of
    :func:`~accountrisk.training.matrix.feature_matrix` of :func:`records_table`), with a
    table of their text columns (ids, context, categories); None when a value does not fit
    its column, a feature is in no row, or a number is NaN or infinite, all of which
    :func:`records_table` and the boundary check name."""
    if not rows or len(rows) > FEW_ROWS:
        return None
    given = set().union(*rows)
    if any(name not in given for name in features):
        return None
    numeric = [j for j, name in enumerate(features) if name not in codes]
    values = [row.get(features[j]) for j in numeric for row in rows]
    if not all(type(v) in _NUMBER_KINDS for v in values):
        return None
    flat = np.array(values, dtype=np.float64)  # None reads as NaN
    finite = np.isfinite(flat)
    if not finite.all():
        nulls = np.fromiter((v is None for v in values), dtype=bool, count=len(values))
        if (~finite & ~nulls).any():
            return None
    n = len(rows)
    matrix = np.empty((n, len(features)), dtype=np.float64)
    matrix[:, numeric] = flat.reshape(len(numeric), n).T
    text = [name for name in dict.fromkeys(["account_id", *CONTEXT_COLUMNS, *codes])
            if name in given]
    columns: dict[str, list[Any]] = {name: [row.get(name) for row in rows] for name in text}
    if not all(type(v) in _TEXT_KINDS for column in columns.values() for v in column):
        return None
    nan = float("nan")
    for j, name in enumerate(features):
        if name in codes:
            lookup = codes[name]
            matrix[:, j] = [nan if v is None else lookup.get(v, nan) for v in columns[name]]
    table = pa.table({name: pa.array(values, pa.string())
                      for name, values in columns.items()})
    return table, FewRows(matrix=matrix, has_non_finite=False)


def records_table(rows: Sequence[Mapping[str, Any]], features: Sequence[str],
                  categories: Mapping[str, Any]) -> pa.Table:
    """Records as the Arrow table the scorer reads: ``account_id`` and context columns as
    text, categorical features as text, the other features as float64 (a flag as
    1.0/0.0); columns the model does not read are dropped. A value of the wrong kind is a
    :class:`ContractError` naming its column and rows."""
    wanted = [*dict.fromkeys(["account_id", *features, *CONTEXT_COLUMNS])]
    text = {"account_id", *CONTEXT_COLUMNS, *categories}
    given = set().union(*rows) if rows else set(wanted)
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
        elif kinds <= _NUMBER_KINDS:
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
