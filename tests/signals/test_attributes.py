"""account_attributes columns become features attr_<column>: numbers and booleans as
numbers, strings as categories, accounts without a row as missing."""

import pyarrow as pa

from tests.conftest import compute, make_tables


def test_attributes_become_attr_features():
    tables = make_tables(accounts=[{"account_id": "a"}, {"account_id": "b"},
                                   {"account_id": "c"}])
    tables["account_attributes"] = pa.table({
        "account_id": ["a", "b"], "rating": [4.5, None], "id_check": ["passed", "failed"],
        "is_phone_verified": [True, False], "tests_passed": pa.array([3, 0], pa.int16())})
    f = compute(tables)
    assert (f["a"]["attr_rating"], f["a"]["attr_id_check"], f["a"]["attr_is_phone_verified"],
            f["a"]["attr_tests_passed"]) == (4.5, "passed", 1.0, 3.0)
    assert f["b"]["attr_rating"] is None and f["b"]["attr_id_check"] == "failed"
    assert f["c"]["attr_id_check"] is None and f["c"]["attr_tests_passed"] is None


def test_without_attributes_table_there_are_no_attr_columns():
    f = compute(make_tables(accounts=[{"account_id": "a"}]))
    assert not [k for k in f["a"] if k.startswith("attr_")]
