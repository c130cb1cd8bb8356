"""A PostgreSQL database as a contract source, read through ADBC into Arrow, in batches.

Each contract table is a table or view of the same name in one schema (``?schema=``,
default ``public``); a missing one is "not supplied", as a missing file is. Rows are
numbered in the order the server returns them. Identifiers are quoted (never a value in
SQL text); the fingerprint is, per table, the row count, the latest value of the table's
time column and, for a base table, the newest row version (``xmin``). A view without a
time column cannot be fingerprinted: the load then says so and reloads.
Install with ``pip install "accountrisk[postgres]"``.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pyarrow as pa

from .. import contract
from ..errors import UsageError
from ..validate import Problem, ValidationReport
from .base import Fingerprint, FoundTable, lazy_reader, numbered
from .uri import SourceURI, libpq_uri

BASE_TABLE_TYPES = ("table", "partitioned table", "base table")


def quote_identifier(name: str) -> str:
    """``name`` as a PostgreSQL quoted identifier (embedded quotes doubled), whatever its
    text; a NUL character, which PostgreSQL cannot hold, is refused."""
    if "\x00" in name:
        raise UsageError(f"{name!r} cannot be a PostgreSQL identifier (it holds a NUL)")
    return '"' + name.replace('"', '""') + '"'


def _dbapi() -> Any:
    try:
        import adbc_driver_postgresql.dbapi as dbapi
    except ImportError:
        raise UsageError('reading PostgreSQL needs the ADBC driver: pip install '
                         '"accountrisk[postgres]"') from None
    return dbapi


class PostgresSource:
    """Contract tables as tables or views of one PostgreSQL schema."""

    def __init__(self, uri: SourceURI) -> None:
        self.uri = uri
        self._conn: Any = None
        self._kinds: dict[str, str] | None = None

    def connection(self) -> Any:
        """The open ADBC connection (opened on first use)."""
        if self._conn is None:
            dbapi = _dbapi()
            try:
                self._conn = dbapi.connect(libpq_uri(self.uri), autocommit=True)
            except dbapi.Error as error:
                raise UsageError(f"cannot connect to {self.uri.shown}: "
                                 f"{_masked_first_line(error, self.uri)}") from None
        return self._conn

    def close(self) -> None:
        """Close the connection, if one was opened."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def table_kinds(self) -> dict[str, str]:
        """Relation name -> kind ("table", "view", ...) of every relation in the schema."""
        if self._kinds is None:
            objects = self.connection().adbc_get_objects(
                depth="tables", db_schema_filter=self.uri.schema).read_all().to_pylist()
            kinds: dict[str, str] = {}
            for catalog in objects:
                for schema in catalog["catalog_db_schemas"] or []:
                    if schema["db_schema_name"] != self.uri.schema:
                        continue
                    for t in schema["db_schema_tables"] or []:
                        kinds[t["table_name"]] = str(t["table_type"]).lower()
            self._kinds = kinds
        return self._kinds

    def _relation(self, name: str) -> str:
        return f"{quote_identifier(self.uri.schema)}.{quote_identifier(name)}"

    def tables(self, report: ValidationReport) -> dict[str, FoundTable] | None:
        kinds = self.table_kinds()
        if "accounts" not in kinds:
            report.add(Problem("reject", "accounts", None, "missing_table",
                               f"{self.uri.schema}.accounts is missing (no table or view of "
                               "that name); it is the one required table",
                               "create the table or view accounts with account_id, "
                               "created_at, claimed_country, claimed_timezone, or name the "
                               "schema holding the tables with ?schema="))
        found: dict[str, FoundTable] = {}
        for t in contract.TABLES:
            if t.name not in kinds:
                continue
            schema = self.connection().adbc_get_table_schema(t.name,
                                                             db_schema_filter=self.uri.schema)
            found[t.name] = FoundTable(
                t.name, schema, f"{self.uri.schema}.{t.name}",
                _reader(self, t.name, schema))
        return found

    def fingerprint(self) -> Fingerprint:
        digest = hashlib.sha256(f"{self.uri.shown}\n".encode())
        kinds = self.table_kinds()
        for t in contract.TABLES:
            kind = kinds.get(t.name)
            if kind is None:
                continue
            names = set(self.connection().adbc_get_table_schema(
                t.name, db_schema_filter=self.uri.schema).names)
            parts = ["count(*)"]
            if t.time_column and t.time_column in names:
                parts.append(f"max({quote_identifier(t.time_column)})::text")
            if kind in BASE_TABLE_TYPES:
                parts.append("max(xmin::text::bigint)")
            elif len(parts) == 1:
                return Fingerprint(None, f"the {kind} {self.uri.schema}.{t.name} has no "
                                         "timestamp column and no row versions to compare")
            with self.connection().cursor() as cursor:
                cursor.execute(f"SELECT {', '.join(parts)} FROM {self._relation(t.name)}")
                row = cursor.fetchone()
            digest.update(f"{t.name}\0{kind}\0{row!r}\n".encode())
        return Fingerprint(digest.hexdigest())


def _reader(source: PostgresSource, name: str, schema: pa.Schema):  # noqa: ANN202
    """A function that streams the table ``name`` (numbered) when the load reads it."""
    sql = f"SELECT * FROM {source._relation(name)}"

    def open_stream() -> pa.RecordBatchReader:
        cursor = source.connection().cursor()
        cursor.execute(sql)
        return _closing(cursor, cursor.fetch_record_batch())

    def read() -> pa.RecordBatchReader:
        return numbered(lazy_reader(schema, open_stream))

    return read


def _closing(cursor: Any, reader: pa.RecordBatchReader) -> pa.RecordBatchReader:
    """``reader``, closing ``cursor`` once it was read to its end (or given up)."""

    def batches():  # noqa: ANN202
        try:
            yield from reader
        finally:
            cursor.close()

    return pa.RecordBatchReader.from_batches(reader.schema, batches())


def _masked_first_line(error: Exception, uri: SourceURI) -> str:
    from .uri import mask_password

    text = (str(error).strip().splitlines() or [type(error).__name__])[0]
    return mask_password(text)
