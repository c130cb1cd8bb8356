"""One dialect class per engine: every engine writes every engine-specific snippet, each is
found by its engine's name, and the shared DOUBLE helpers give the same numbers on both."""

from __future__ import annotations

import inspect

import pyarrow as pa
import pytest

from accountrisk.features.dialect import (
    DIALECTS,
    DUCKDB,
    SPARK,
    Dialect,
    DuckDBDialect,
    SparkDialect,
    dialect_for,
)
from accountrisk.features.engine import DuckDBEngine
from accountrisk.features.errors import UsageError

SUBCLASSES = (DuckDBDialect, SparkDialect)


def test_base_is_abstract_and_declares_what_engines_differ_in():
    with pytest.raises(TypeError):
        Dialect()  # type: ignore[abstract]
    assert {"epoch_seconds", "param", "quote", "string_type", "fast_hash",
            "word_shingles"} <= Dialect.__abstractmethods__


@pytest.mark.parametrize("cls", SUBCLASSES)
def test_each_engine_writes_every_abstract_snippet_itself(cls):
    assert not cls.__abstractmethods__
    own = set(vars(cls))
    assert Dialect.__abstractmethods__ <= own, Dialect.__abstractmethods__ - own
    dialect = cls()
    for name in Dialect.__abstractmethods__:
        member = inspect.getattr_static(dialect, name)
        if callable(member):  # same parameters as declared, so callers need not care
            base = inspect.signature(getattr(Dialect, name))
            assert inspect.signature(member).parameters.keys() == base.parameters.keys()


def test_names_and_lookup_by_engine_name():
    assert (DuckDBDialect.name, SparkDialect.name) == ("duckdb", "spark")
    assert (DUCKDB.name, SPARK.name) == ("duckdb", "spark")
    assert type(dialect_for("duckdb")) is DuckDBDialect
    assert type(dialect_for("spark")) is SparkDialect
    assert dialect_for("duckdb") is DUCKDB and dialect_for("spark") is SPARK
    assert list(DIALECTS) == ["duckdb", "spark"]
    # Stateless: any instance is the same dialect (the old dataclass compared by name).
    assert DuckDBDialect() == DUCKDB and DUCKDB != SPARK
    assert hash(SparkDialect()) == hash(SPARK)
    assert DuckDBEngine.dialect is DUCKDB


@pytest.mark.parametrize("kind", ["oracle", "", "DuckDB", None, ["spark"]])
def test_unknown_engine_name_is_a_usage_error_naming_the_known_ones(kind):
    with pytest.raises(UsageError, match=r"unknown engine .*; use one of duckdb, spark$"):
        dialect_for(kind)  # type: ignore[arg-type]


def test_engine_specific_snippets_differ_where_engines_do():
    assert DUCKDB.param("t") == "$t" and SPARK.param("t") == ":t"
    assert DUCKDB.string_type == "VARCHAR" and SPARK.string_type == "STRING"
    assert DUCKDB.quote('a"b') == '"a""b"' and SPARK.quote("a`b") == "`a``b`"
    assert DUCKDB.sql_type("VARCHAR") == "VARCHAR" and SPARK.sql_type("VARCHAR") == "STRING"


# -- the DOUBLE helpers ----------------------------------------------------------------------
@pytest.mark.parametrize("d", [DUCKDB, SPARK])
def test_double_helpers_are_the_same_sql_on_both_engines(d):
    assert d.double("x") == "CAST(x AS DOUBLE)"
    assert (d.one, d.zero) == ("CAST(1 AS DOUBLE)", "CAST(0 AS DOUBLE)")
    assert d.flag("a > 1") == "CASE WHEN a > 1 THEN 1 ELSE 0 END"
    assert d.ratio("p", "w") == "CASE WHEN (w) > 0 THEN CAST(p AS DOUBLE) / (w) END"


def helpers_sql(d: Dialect) -> str:
    """Every DOUBLE helper on k = 0..8 (a third of them multiples of three)."""
    third = "k % 3 = 0"
    return f"""
        SELECT sum({d.flag(third)}) AS multiples,
               max({d.flag("k > 100")}) AS any_over_100,
               sum({d.flag("CAST(NULL AS BOOLEAN)")}) AS unknown_counts_as_no,
               avg(CASE WHEN {third} THEN {d.one} ELSE {d.zero} END) AS share,
               {d.ratio(f"sum({d.flag(third)})", "count(*)")} AS ratio,
               {d.ratio("count(*)", "sum(k) - sum(k)")} AS ratio_of_nothing,
               {d.ratio("1", "1 + 2")} AS ratio_of_sum,
               {d.double("7")} / 2 AS half
        FROM {d.integer_range(0, 9)}"""


EXPECTED = {"multiples": 3, "any_over_100": 0, "unknown_counts_as_no": 0, "share": 1 / 3,
            "ratio": 1 / 3, "ratio_of_nothing": None, "ratio_of_sum": 1 / 3, "half": 3.5}
DOUBLES = ("share", "ratio", "ratio_of_nothing", "ratio_of_sum", "half")


def check_helpers(result: pa.Table) -> None:
    row = result.to_pylist()[0]
    # Exactly 1/3, not a DECIMAL average rounded to a few places.
    assert {k: (v if v is None or isinstance(v, float) else int(v))
            for k, v in row.items()} == EXPECTED
    for name in DOUBLES:
        assert result.schema.field(name).type == pa.float64(), name


def test_double_helpers_on_duckdb(engine):
    check_helpers(engine.arrow(helpers_sql(engine.dialect)))


@pytest.mark.spark
def test_double_helpers_on_spark_give_duckdbs_numbers(spark_engine):
    check_helpers(spark_engine.arrow(helpers_sql(spark_engine.dialect)))
