"""Engines the feature pipeline runs on. DuckDB is the embedded default.

An engine executes SQL written in its :class:`~.dialect.Dialect`; it knows which tables are
loaded and hands results back as Arrow. Marketplace values never enter SQL text: data
arrives through Arrow scans or Parquet reads with bound parameters.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import duckdb
import pyarrow as pa

from .dialect import DUCKDB, Dialect
from .load_steps import DuckDBSteps, LoadSteps
from .table_files import file_format


class Engine(Protocol):
    """What the pipeline needs from a SQL engine."""

    dialect: Dialect

    def tables(self) -> set[str]: ...

    def columns(self, table: str) -> list[tuple[str, str]]: ...

    def create_table(self, name: str, sql: str) -> None: ...

    def create_view(self, name: str, sql: str) -> None: ...

    def create_table_from_arrow(self, name: str, table: pa.Table) -> None:
        """Materialize a small Arrow table (naive timestamps are UTC) as the table ``name``."""
        ...

    def drop(self, names: list[str]) -> None: ...

    def arrow(self, sql: str) -> pa.Table: ...

    def write_file(self, sql: str, path: Path) -> None:
        """Write the rows of ``sql`` to ``path``, Parquet or CSV by its extension; an engine
        that can write them itself does, so they are never collected in Python."""
        ...

    def scalar(self, sql: str) -> object:
        """The first column of the first row of ``sql`` (None when no row)."""
        ...

    def quote(self, identifier: str) -> str: ...

    def load_steps(self) -> LoadSteps:
        """Fresh steps for one validated load into this engine (:func:`.load.load_sources`)."""
        ...


def quote_identifier(identifier: str) -> str:
    """A double-quoted SQL identifier, safe for any text."""
    return DUCKDB.quote(identifier)


class DuckDBEngine:
    """The embedded default: one DuckDB database (a file, or in memory)."""

    dialect: Dialect = DUCKDB

    def __init__(self, database: str | Path | duckdb.DuckDBPyConnection = ":memory:", *,
                 memory_limit: str | None = None, threads: int | None = None,
                 read_only: bool = False) -> None:
        if isinstance(database, duckdb.DuckDBPyConnection):
            self.con = database
        else:
            if str(database) != ":memory:":
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            self.con = duckdb.connect(str(database), read_only=read_only)
        if memory_limit:
            self.con.execute("SET memory_limit = $limit", {"limit": memory_limit})
        if threads:
            self.con.execute("SET threads = $n", {"n": int(threads)})
        self.con.execute("SET TimeZone = 'UTC'")
        # Contract tables a temporary table of the same name stands in for on this
        # connection (reviewer decisions merged into ``labels``).
        self.overlaid: set[str] = set()

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> DuckDBEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def tables(self) -> set[str]:
        rows = self.con.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = 'main' AND table_catalog <> 'temp'"
        ).fetchall()
        return {r[0] for r in rows} | self.overlaid

    def columns(self, table: str) -> list[tuple[str, str]]:
        rows = self.con.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name = $t ORDER BY ordinal_position", {"t": table}).fetchall()
        return [(r[0], r[1]) for r in rows]

    def execute(self, sql: str, params: dict | list | None = None) -> None:
        self.con.execute(sql, params or {})

    def create_table(self, name: str, sql: str) -> None:
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {sql}")

    def create_view(self, name: str, sql: str) -> None:
        self.con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS {sql}")

    def create_table_from_arrow(self, name: str, table: pa.Table) -> None:
        source = f"_arrow_{name}"
        self.con.register(source, table)
        try:
            self.create_table(name, f"SELECT * FROM {source}")
        finally:
            self.con.unregister(source)

    def drop(self, names: list[str]) -> None:
        for name in names:
            kinds = self.con.execute(
                "SELECT table_type FROM information_schema.tables WHERE table_name = $n",
                {"n": name}).fetchall()
            for (kind,) in kinds:
                word = "VIEW" if kind == "VIEW" else "TABLE"
                self.con.execute(f"DROP {word} IF EXISTS {name}")

    def arrow(self, sql: str) -> pa.Table:
        return self.con.sql(sql).to_arrow_table()

    def write_file(self, sql: str, path: Path) -> None:
        # COPY streams the rows to the file within DuckDB's memory limit; a million accounts'
        # features collected as Arrow first would add their whole size on top of it.
        options = "FORMAT parquet" if file_format(path) == "parquet" else "FORMAT csv, HEADER"
        path.parent.mkdir(parents=True, exist_ok=True)
        target = str(path).replace("'", "''")
        self.con.execute(f"COPY ({sql}) TO '{target}' ({options})")

    def scalar(self, sql: str, params: dict | list | None = None) -> object:
        rows = self.con.execute(sql, params or {}).fetchall()
        return rows[0][0] if rows else None

    def quote(self, identifier: str) -> str:
        return self.dialect.quote(identifier)

    def load_steps(self) -> LoadSteps:
        return DuckDBSteps(self)
