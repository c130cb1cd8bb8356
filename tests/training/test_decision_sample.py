"""Rows read before an instant are matched to their rows read just after it by account and
snapshot (training/decision_sample.py)."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pyarrow as pa

from accountrisk.training.decision_sample import as_scored, positions_in, trained_after_instant

MAY, JUNE = datetime(2025, 5, 1), datetime(2025, 6, 1)


def _rows(accounts, snapshots, score, label=None):
    table = pa.table({"account_id": accounts,
                      "_snapshot": pa.array(snapshots, pa.timestamp("us")),
                      "score": pa.array(score, pa.float64())})
    return table if label is None else table.append_column("_label", pa.array(label))


def test_rows_are_matched_on_account_and_snapshot_together():
    rows = _rows(["a", "a", "b", "c"], [MAY, JUNE, MAY, MAY], [1.0, 2.0, 3.0, 4.0])
    # after the instant: a in June only, b in May, c never; listed in another order
    after = _rows(["b", "a", "d"], [MAY, JUNE, MAY], [30.0, 20.0, 99.0])
    assert positions_in(rows, after).tolist() == [-1, 1, 0, -1]
    as_large = after.set_column(0, "account_id", after.column("account_id").cast(pa.large_string()))
    assert positions_in(rows, as_large).tolist() == [-1, 1, 0, -1]
    scored = as_scored(rows, after, lambda t: t.column("score").to_numpy())
    assert scored.tolist() == [1.0, 20.0, 30.0, 4.0]
    assert as_scored(rows, None, lambda t: t.column("score").to_numpy()).tolist() == [
        1.0, 2.0, 3.0, 4.0]


def test_features_are_swapped_where_read_after_and_meta_columns_stay():
    rows = _rows(["a", "b"], [MAY, MAY], [1.0, 2.0], label=[1.0, 0.0])
    after = _rows(["b"], [MAY], [5.0], label=[np.nan])
    swapped = trained_after_instant(rows, after)
    assert swapped.column("score").to_pylist() == [1.0, 5.0]
    assert swapped.column("_label").to_pylist() == [1.0, 0.0]
    assert swapped.column("account_id").to_pylist() == ["a", "b"]
