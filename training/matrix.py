"""Feature rows -> the numeric matrix a model reads, always in the model's feature order.

LightGBM takes columns by position: a reordered frame scores silently wrong. Every matrix in
training and scoring is built here, from column names, in the order stored with the model.
Category columns (``attr_*`` strings) become stable integer codes; an unseen or missing
category is NaN, which LightGBM treats as missing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from ..features.errors import ContractError
from ..features.pipeline import ATTRIBUTE_PREFIX


def column_names(data: Any) -> list[str]:
    """Column names of an Arrow table, a pandas DataFrame or a mapping of columns."""
    if isinstance(data, pa.Table):
        return list(data.column_names)
    if isinstance(data, Mapping):
        return list(data.keys())
    return [str(c) for c in data.columns]


def column(data: Any, name: str) -> np.ndarray:
    """One column as a numpy array (numbers as float64 with NaN for null; else objects)."""
    if isinstance(data, pa.Table):
        values = data.column(name)
        if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
            return np.asarray(values.to_pylist(), dtype=object)
        return np.asarray(values.cast(pa.float64()).to_numpy(zero_copy_only=False),
                          dtype=np.float64)
    values = data[name]
    array = np.asarray(values.to_numpy() if hasattr(values, "to_numpy") else values)
    if array.dtype.kind in "biuf":
        return array.astype(np.float64)
    if array.dtype.kind == "O" and all(v is None or isinstance(v, (int, float))
                                       for v in array):
        return np.array([np.nan if v is None else float(v) for v in array], dtype=np.float64)
    return array.astype(object)


def is_category_column(data: Any, name: str) -> bool:
    """Whether an ``attr_*`` column holds strings (categories)."""
    if not name.startswith(ATTRIBUTE_PREFIX):
        return False
    if isinstance(data, pa.Table):
        kind = data.schema.field(name).type
        return pa.types.is_string(kind) or pa.types.is_large_string(kind)
    return column(data, name).dtype == object


def category_levels(values: np.ndarray) -> list[str]:
    """The sorted distinct non-null values: their positions are the stable codes."""
    return sorted({str(v) for v in values if v is not None and v == v})


def encode_categories(values: np.ndarray, levels: Sequence[str]) -> np.ndarray:
    """Codes of ``values`` in ``levels``; unseen or missing values are NaN."""
    index = {level: float(i) for i, level in enumerate(levels)}
    return np.array([index.get(str(v), np.nan) if v is not None and v == v else np.nan
                     for v in values], dtype=np.float64)


def feature_matrix(data: Any, features: Sequence[str],
                   categories: Mapping[str, Sequence[str]] | None = None, *,
                   rows: np.ndarray | None = None) -> np.ndarray:
    """Rows x ``features`` float64 matrix, in exactly the order of ``features``; only the
    rows at positions ``rows`` when given (taken column by column, so a large table's
    matrix is never built whole to be cut).

    A feature missing from ``data`` is an error (a silently NaN column would change scores).
    """
    categories = categories or {}
    present = set(column_names(data))
    missing = [f for f in features if f not in present]
    if missing:
        raise ContractError(f"the feature rows lack {len(missing)} column(s) the model "
                            f"needs: {', '.join(missing[:8])}; compute them with the same "
                            "feature-set version as the model (`accountrisk features`)",
                            [f"missing column {name}" for name in missing])
    count = len(rows) if rows is not None else (
        len(column(data, features[0])) if features else 0)
    out = np.empty((count, len(features)), dtype=np.float64)
    for j, name in enumerate(features):
        values = column(data, name) if rows is None else column(data, name)[rows]
        if name in categories:
            out[:, j] = encode_categories(values, categories[name])
        elif values.dtype == object:
            raise ContractError(f"feature column {name!r} holds text but the model expects "
                                "numbers; pass it as a number column",
                                [f"column {name} is text"])
        else:
            out[:, j] = values
    return out
