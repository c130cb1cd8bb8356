"""account_attributes columns become features attr_<column>: numbers and booleans as
numbers, strings as categories, accounts without a row as missing."""

import pyarrow as pa
import pytest

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


def test_nan_and_infinite_attributes_load_as_missing_with_a_note_and_aggregate_as_missing():
    from accountrisk.features.engine import DuckDBEngine
    from accountrisk.features.load import load_tables
    from accountrisk.features.pipeline import build_features
    from tests.conftest import NOW

    tables = make_tables(accounts=[{"account_id": a} for a in "hab"],
                         account_links=[{"account_id": "h", "other_account_id": o,
                                         "kind": "co_worked"} for o in "ab"])
    tables["account_attributes"] = pa.table({
        "account_id": ["h", "a", "b"], "rating": [1.0, float("nan"), 4.0],
        "speed": pa.array([float("inf"), 2.0, float("-inf")], pa.float32())})
    with DuckDBEngine() as engine:
        report = load_tables(tables, engine, now=NOW)
        rows = {r["account_id"]: r for r in build_features(engine, "2025-12-01").to_pylist()}
    notes = {p.column: p.message for p in report.problems if p.reason == "attribute_not_finite"}
    assert set(notes) == {"rating", "speed"} and notes["speed"].startswith("2 values")
    assert rows["a"]["attr_rating"] is None and rows["h"]["attr_speed"] is None
    assert rows["h"]["nbr_co_worked_mean_attr_rating"] == 4.0  # a's NaN is unknown, not 0
    assert rows["h"]["nbr_co_worked_max_attr_speed"] == 2.0


def test_attributes_near_the_largest_double_aggregate_without_overflow():
    tables = make_tables(accounts=[{"account_id": a} for a in "habc"],
                         account_links=[{"account_id": "h", "other_account_id": o,
                                         "kind": "co_worked"} for o in "abc"])
    tables["account_attributes"] = pa.table({"account_id": list("habc"),
                                             "x": [1e308, -1e308, -1e308, 2.0]})
    h = compute(tables)["h"]
    assert h["nbr_co_worked_mean_attr_x"] == pytest.approx(-2 * (1e308 / 3))
    assert h["nbr_co_worked_max_attr_x"] == 2.0
    assert h["nbr_co_worked_std_attr_x"] == pytest.approx(1e308 * 2 ** 0.5 / 3)
