"""Feature rows given as records (a list of mappings, as JSON rows arrive): the same
scores and reasons as the same rows in a table, and the same rejections."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from accountrisk.features.errors import AccountRiskError, ContractError
from accountrisk.scoring._feature_rows import FEW_ROWS
from accountrisk.scoring._records import few_records, records_table
from accountrisk.scoring.scorer import RiskScorer
from accountrisk.training.matrix import feature_matrix
from tests.training.market import AS_OF


def _records(scorer: RiskScorer, features: pa.Table, n: int) -> list[dict]:
    """``n`` feature rows as plain Python records, with the kinds JSON gives: a NULL, an
    integer and a boolean for numbers, an unknown category, a row without context."""
    keep = ["account_id", *scorer.features, "claimed_country", "claimed_timezone"]
    rows = features.select([c for c in keep if c in features.column_names]).slice(0, n)
    records = [{**r, "claimed_country": "US", "claimed_timezone": "America/Chicago"}
               for r in rows.to_pylist()]
    numeric = [f for f in scorer.features if f not in scorer.categories]
    category = next(iter(scorer.categories))
    records[1][numeric[0]] = None
    records[2][numeric[1]] = int(round(records[2][numeric[1]] or 0))
    records[3][numeric[2]] = True
    records[4][category] = "never seen in training"
    records[5].pop("claimed_timezone", None)
    del records[6][numeric[3]]  # absent from one record: unknown, like null
    return records


def test_records_score_as_the_same_rows_in_a_table(trained, features):
    scorer = RiskScorer.load(trained[1])
    for n in (8, FEW_ROWS + 6):  # the handful's shortcut, then the general path
        records = _records(scorer, features, n)
        table = records_table(records, scorer.features, scorer.categories)
        from_records = scorer.score_features(records, as_of=AS_OF)
        from_table = scorer.score_features(table, as_of=AS_OF)
        assert from_records.frame.equals(from_table.frame)
        assert from_records.explained == from_table.explained
        assert [s.account_id for s in from_records.scores] == [r["account_id"]
                                                               for r in records]


def test_a_handful_of_records_takes_the_shortcut_with_the_tables_matrix(trained, features):
    scorer = RiskScorer.load(trained[1])
    records = _records(scorer, features, 8)
    quick = few_records(records, scorer.features, scorer._codes)
    assert quick is not None, "the shortcut must take ordinary JSON values"
    table, few = quick
    full = records_table(records, scorer.features, scorer.categories)
    assert np.array_equal(few.matrix, feature_matrix(full, scorer.features, scorer.categories),
                          equal_nan=True)
    assert table.column("account_id").to_pylist() == [r["account_id"] for r in records]
    assert table.column("claimed_timezone").to_pylist()[5] is None


@pytest.mark.parametrize("count", [8, FEW_ROWS + 6])
def test_bad_records_are_rejected_with_column_and_row(trained, features, count):
    scorer = RiskScorer.load(trained[1])
    numeric = [f for f in scorer.features if f not in scorer.categories]
    records = _records(scorer, features, count)
    records[2][numeric[4]] = float("inf")
    with pytest.raises(ContractError, match=f"column {numeric[4]}: 1 values are not a finite "
                                            "number .* in rows 2"):
        scorer.score_features(records, as_of=AS_OF)
    records = _records(scorer, features, count)
    records[3][numeric[5]] = "12"
    with pytest.raises(ContractError, match=f"column {numeric[5]}: 1 values are not a number "
                                            "in rows 3"):
        scorer.score_features(records, as_of=AS_OF)
    records = _records(scorer, features, count)
    for record in records:
        del record[numeric[6]]
    with pytest.raises(AccountRiskError, match=numeric[6]):
        scorer.score_features(records, as_of=AS_OF)


def test_no_records_score_nothing(trained):
    scorer = RiskScorer.load(trained[1])
    assert scorer.score_features([], as_of=AS_OF).frame.num_rows == 0
