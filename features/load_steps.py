"""The steps a load runs on an engine, declared once.

:func:`.load.load_sources` validates and loads contract tables with the same rules on every
engine; it runs SQL only through a :class:`LoadSteps`, which an engine hands out with
``engine.load_steps()``. :class:`DuckDBSteps` is DuckDB's; :class:`~.spark.SparkSteps` is
Spark's (in :mod:`.spark`, with the rest of the optional Spark code).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import pyarrow as pa

from .dialect import Dialect

if TYPE_CHECKING:  # engine.py imports this module
    from .engine import DuckDBEngine

Sources = dict[str, tuple[pa.Schema, str, str | None]]
"""Tables to load: contract name -> (Arrow schema, SELECT-able source, ``$path`` value or
None). The source is a table function or a registered table; see :func:`.load.load_folder`."""


class LoadSteps(Protocol):
    """What :func:`.load.load_sources` needs from an engine to validate and load tables.

    Every SQL text is in the dialect ``d``; ``params`` are bound by name
    (``d.param(name)`` in the text). Tables named here live as long as the engine does.
    """

    d: Dialect

    def reference(self, name: str, column: str, values: list[str]) -> None:
        """Make ``name`` a one-column (``column``) table of the strings ``values``."""
        ...

    def new_quarantine(self) -> None:
        """Start an empty ``quarantine`` table (table_name, row_number, account_id,
        column_name, value, reason), replacing an earlier load's."""
        ...

    def add_quarantine(self, table_name: str, select: str, params: dict) -> None:
        """Add the rows of ``select`` (row_number .. reason) to ``quarantine`` as rows of
        the contract table ``table_name``."""
        ...

    def temp_table(self, name: str, select: str, params: dict | None = None) -> None:
        """Materialize ``select`` as the helper table ``name`` (replacing it)."""
        ...

    def clean_table(self, name: str, select: str, params: dict | None = None, *,
                    every_row_of: str | None = None) -> None:
        """Materialize ``select`` as the loaded contract table ``name`` (replacing it).
        ``every_row_of``: the helper table ``select`` reads when it keeps every one of its
        rows (nothing quarantined, only casts); an engine may then make ``name`` a view of
        that table's rows instead of a copy, kept when the helper is dropped."""
        ...

    def drop_temp(self, name: str) -> None:
        """Drop the helper table ``name`` if it exists."""
        ...

    def rows(self, sql: str, params: dict | None = None) -> list[tuple]:
        """Every row of ``sql``, as tuples."""
        ...

    def scalar(self, sql: str, params: dict | None = None) -> object:
        """The first column of the first row of ``sql`` (None when no row)."""
        ...

    def release(self, sources: Sources) -> None:
        """Let go of what the engine registered to read ``sources``."""
        ...


class DuckDBSteps:
    """How the shared load steps run on DuckDB (:class:`~.spark.SparkSteps` is the Spark
    twin). Tables here are DuckDB tables; ``params`` are bound by name (``$name``)."""

    def __init__(self, engine: DuckDBEngine) -> None:
        self.engine, self.con, self.d = engine, engine.con, engine.dialect

    def reference(self, name: str, column: str, values: list[str]) -> None:
        self.con.register(f"{name}_arrow", pa.table({column: values}))
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT {column} "
                         f"FROM {name}_arrow")

    def new_quarantine(self) -> None:
        self.con.execute("CREATE OR REPLACE TABLE quarantine (table_name VARCHAR, "
                         "row_number BIGINT, account_id VARCHAR, column_name VARCHAR, "
                         "value VARCHAR, reason VARCHAR)")

    def add_quarantine(self, table_name: str, select: str, params: dict) -> None:
        self.con.execute(f"INSERT INTO quarantine SELECT '{table_name}', * FROM ({select})",
                         params)

    def temp_table(self, name: str, select: str, params: dict | None = None) -> None:
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {select}", params or {})

    def clean_table(self, name: str, select: str, params: dict | None = None, *,
                    every_row_of: str | None = None) -> None:
        # Always a table: the workspace file keeps the clean rows across runs, and the
        # helper is a temporary table.
        self.con.execute(f"CREATE OR REPLACE TABLE {name} AS {select}", params or {})

    def drop_temp(self, name: str) -> None:
        self.con.execute(f"DROP TABLE IF EXISTS {name}")

    def rows(self, sql: str, params: dict | None = None) -> list[tuple]:
        return self.con.execute(sql, params or {}).fetchall()

    def scalar(self, sql: str, params: dict | None = None) -> object:
        return self.engine.scalar(sql, params)

    def release(self, sources: Sources) -> None:
        # Folder sources are read_parquet calls; only in-memory tables were registered.
        for name, (_, _, path) in sources.items():
            if path is None:
                self.con.unregister(f"_arrow_{name}")
