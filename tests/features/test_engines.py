"""Choosing an engine by name, and the load steps every engine hands out."""

from __future__ import annotations

import inspect

import pytest

from accountrisk.features.dialect import DIALECTS, DUCKDB, SPARK
from accountrisk.features.engine import DuckDBEngine, Engine
from accountrisk.features.engines import _OPENERS, ENGINES, check_engine, open_engine
from accountrisk.features.errors import UsageError
from accountrisk.features.load import load_tables
from accountrisk.features.load_steps import DuckDBSteps, LoadSteps
from accountrisk.features.spark import SparkEngine, SparkSteps  # no pyspark needed to import
from tests.conftest import NOW, make_tables

STEP_NAMES = [name for name, member in vars(LoadSteps).items()
              if callable(member) and not name.startswith("_")]


def test_every_engine_has_an_opener_and_a_dialect():
    assert ENGINES == ("duckdb", "spark") == tuple(DIALECTS) == tuple(_OPENERS)


def test_unknown_engine_is_a_usage_error_listing_the_engines(tmp_path):
    with pytest.raises(UsageError, match="unknown engine 'flink'; use one of duckdb, spark"):
        check_engine("flink")
    with pytest.raises(UsageError, match="unknown engine 'flink'; use one of duckdb, spark"):
        with open_engine("flink", workdir=tmp_path / "work"):
            pass
    assert not (tmp_path / "work").exists()


def test_a_master_needs_spark():
    check_engine("spark", "local[1]")
    with pytest.raises(UsageError, match="engine is not spark"):
        check_engine("duckdb", "local[1]")


def test_load_steps_declare_what_load_sources_calls():
    assert {"reference", "new_quarantine", "add_quarantine", "temp_table", "clean_table",
            "drop_temp", "rows", "scalar", "release"} == set(STEP_NAMES)
    assert "d" in LoadSteps.__annotations__


@pytest.mark.parametrize("steps", [DuckDBSteps, SparkSteps])
def test_each_engines_steps_implement_the_protocol(steps):
    for name in STEP_NAMES:
        declared = inspect.signature(getattr(LoadSteps, name)).parameters
        assert inspect.signature(getattr(steps, name)).parameters.keys() == declared.keys()


@pytest.mark.parametrize("engine_class", [DuckDBEngine, SparkEngine])
def test_each_engine_implements_the_engine_protocol(engine_class):
    declared = {name for name, member in vars(Engine).items()
                if callable(member) and not name.startswith("_")}
    assert "load_steps" in declared
    assert declared <= set(dir(engine_class))


def test_duckdb_engine_hands_out_its_load_steps(engine):
    steps = engine.load_steps()
    assert isinstance(steps, DuckDBSteps) and steps.d is DUCKDB and steps.engine is engine
    report = load_tables(make_tables(accounts=[{"account_id": "a1"}]), engine, now=NOW)
    assert report.usable and report.loaded_rows == {"accounts": 1}


def test_spark_engine_hands_out_its_load_steps():
    class NoSession:  # SparkSteps only lists and drops views when it starts: no JVM needed
        dialect = SPARK
        dropped: list[str] = []

        def tables(self) -> set[str]:
            return {"accounts", "quarantine", "features"}

        def drop(self, names: list[str]) -> None:
            self.dropped += names

    engine = NoSession()
    steps = SparkEngine.load_steps(engine)  # type: ignore[arg-type]
    assert isinstance(steps, SparkSteps) and steps.d is SPARK and steps.engine is engine
    # A new load replaces the previous one's contract tables and quarantine.
    assert sorted(engine.dropped) == ["accounts", "quarantine"]
