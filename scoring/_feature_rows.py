"""The boundary check of feature rows handed to :meth:`RiskScorer.score_features`, and the
matrix of a handful of rows.

Rows come from a backend, not from the pipeline, so they are checked once here and every
problem is reported together: a missing ``account_id`` (scores must say whose they are) and
non-finite numbers (NaN or infinity) in the model's numeric features. NULL stays allowed:
the model treats it as missing, as the pipeline's own NULLs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from accountrisk.features.errors import ContractError

ROWS_NAMED = 5  # rows listed per problem; the count says how many there are
# Up to this many rows the matrix is made in one conversion (few_rows; records:
# _records.few_records) instead of a few Arrow calls per column: a single account's 300+
# features cost milliseconds that way, where scoring it costs a fraction of one.
FEW_ROWS = 64
_FLOAT64 = pa.float64()


def check_feature_rows(data: pa.Table, features: Sequence[str],
                       few: FewRows | None = None) -> None:
    """Raise :class:`ContractError` listing every problem of ``data`` (see the module doc).
    ``few``: the matrix of ``data``'s rows (:func:`few_rows`), if made."""
    problems: list[str] = []
    if "account_id" not in data.column_names:
        problems.append("column account_id is missing: give each row the id of the account "
                        "it describes (scores are returned per account_id)")
        ids = None
    else:
        ids = data.column("account_id").cast(pa.string())
        missing = np.flatnonzero(ids.is_null().to_numpy(zero_copy_only=False))
        if len(missing):
            problems.append(f"account_id is NULL in {len(missing):,} rows (rows "
                            f"{_rows(missing)}): every row needs its account's id")
    kinds = dict(zip(data.schema.names, data.schema.types))
    numeric = [name for name in features  # the matrix builder reports missing features
               if name in kinds and _is_numeric(kinds[name])]
    # The quick look (``few`` made it already) before the per-column search naming rows.
    suspect = few.has_non_finite if few is not None else _any_non_finite(data, numeric)
    for name in numeric if suspect else ():
        column = data.column(name)
        values = column.cast(pa.float64()).fill_null(0.0).to_numpy(zero_copy_only=False)
        bad = np.flatnonzero(~np.isfinite(values))
        if len(bad):
            shown = _rows(bad)
            accounts = ("" if ids is None else
                        " (accounts " + ", ".join(str(a) for a in
                                                  pc.take(ids, pa.array(bad[:ROWS_NAMED]))
                                                  .to_pylist()) + ")")
            problems.append(f"column {name}: {len(bad):,} values are not a finite number "
                            f"(NaN or infinity) in rows {shown}{accounts}; send NULL for an "
                            "unknown value")
    if problems:
        raise ContractError("feature rows rejected, nothing was scored:\n- "
                            + "\n- ".join(problems))


def _is_numeric(kind: pa.DataType) -> bool:
    return bool(pa.types.is_floating(kind) or pa.types.is_decimal(kind))


def _any_non_finite(data: pa.Table, names: Sequence[str]) -> bool:
    """Whether a NaN or infinity is in any of the columns ``names`` (NULL is not); the
    quick look before the per-column search that names the rows."""
    for name in names:
        column = data.column(name)
        if not pa.types.is_floating(column.type):
            return True  # decimals: let the full check decide
        values = column.to_numpy(zero_copy_only=False)  # NULL reads as NaN here
        if np.count_nonzero(~np.isfinite(values)) > column.null_count:
            return True
    return False


def _rows(positions: np.ndarray) -> str:
    shown = ", ".join(str(int(p)) for p in positions[:ROWS_NAMED])
    return shown + (f" and {len(positions) - ROWS_NAMED:,} more"
                    if len(positions) > ROWS_NAMED else "")


def category_codes(categories: Mapping[str, Sequence[str]]) -> dict[str, dict[str, float]]:
    """Per categorical feature, each category's code (its position, as LightGBM reads it)."""
    return {name: {value: float(k) for k, value in enumerate(values)}
            for name, values in categories.items()}


@dataclass(frozen=True)
class FewRows:
    """The model matrix of a handful of rows, made in one conversion (see :func:`few_rows`)."""

    matrix: np.ndarray
    has_non_finite: bool  # a NaN or infinity (not a NULL) among the numeric features


def few_rows(data: pa.Table, features: Sequence[str],
             codes: Mapping[str, Mapping[str, float]]) -> FewRows | None:
    """The model matrix of up to ``FEW_ROWS`` rows (the same values as
    :func:`~accountrisk.training.matrix.feature_matrix`: NULL and an unknown category are
    NaN); None for more rows, or when a feature is missing or of the wrong kind (text where
    a number is expected or the reverse), which the full path reports.

    The numeric columns are joined into one Arrow array and converted at once: for one
    account of a wide model, two Arrow calls per column cost milliseconds, the values
    microseconds."""
    if data.num_rows > FEW_ROWS:
        return None
    kinds = dict(zip(data.schema.names, data.schema.types))
    chunks: list[pa.Array] = []
    numeric: list[int] = []
    for j, name in enumerate(features):
        kind = kinds.get(name)
        if kind is None or pa.types.is_string(kind) != (name in codes):
            return None
        if name not in codes:
            column = data.column(name)
            if kind != _FLOAT64:
                try:
                    column = column.cast(_FLOAT64)
                except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                    return None  # e.g. large_string: the full path says what is wrong
            chunks.extend(column.chunks)
            numeric.append(j)
    n = data.num_rows
    matrix = np.empty((n, len(features)), dtype=np.float64)
    flat = pa.chunked_array(chunks, _FLOAT64)
    values = flat.to_numpy().reshape(len(numeric), n)  # NULL reads as NaN
    nulls = flat.is_null().to_numpy().reshape(len(numeric), n)
    matrix[:, numeric] = values.T
    nan = float("nan")
    for j, name in enumerate(features):
        if name in codes:
            lookup = codes[name]
            matrix[:, j] = [nan if v is None else lookup.get(v, nan)
                            for v in data.column(name).to_pylist()]
    return FewRows(matrix=matrix, has_non_finite=bool((~np.isfinite(values) & ~nulls).any()))
