"""Load a contract folder (or in-memory Arrow tables) into DuckDB, validating once.

Every problem is found in one pass and reported together (see :mod:`.validate` for what is
rejected and what is quarantined). Clean rows land in tables named as the contract's, with
explicit types and every contract column present (a missing optional column is NULL);
quarantined rows are kept, with their reasons, in the ``quarantine`` table.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from . import contract
from .engine import DuckDBEngine, quote_identifier
from .reference import COUNTRY_CODES, iana_zone_names
from .validate import (FIXES, Problem, ValidationReport, attribute_fits, describe_type,
                       row_checks, type_fits, ATTRIBUTE_NAME)

EXAMPLES_PER_KIND = 5
Progress = Callable[[str, int, int], None]
_WIDE = {"int64": "BIGINT", "int32": "BIGINT", "int8": "BIGINT", "float64": "DOUBLE"}


def load_folder(data_dir: str | Path, engine: DuckDBEngine, **options) -> ValidationReport:
    """Validate the contract folder ``data_dir`` and load its clean rows into ``engine``."""
    folder = Path(data_dir)
    report = ValidationReport()
    if not folder.is_dir():
        report.add(Problem("reject", "accounts", None, "no_folder",
                           f"data folder {str(folder)!r} does not exist",
                           "pass the folder holding accounts.parquet and the other tables"))
        return report
    sources: dict[str, tuple[pa.Schema, str, str | None]] = {}
    for t in contract.TABLES:
        path = folder / t.file_name
        if not path.exists():
            continue
        try:
            schema = pq.read_schema(path)
        except Exception as exc:  # pyarrow raises several types for unreadable files
            report.add(Problem("reject", t.name, None, "unreadable",
                               f"{t.file_name} is not a readable Parquet file ({exc})",
                               f"write {t.file_name} as Parquet"))
            continue
        sources[t.name] = (schema, "read_parquet($path, file_row_number = true)", str(path))
    known = {t.file_name for t in contract.TABLES}
    for extra in sorted(p.name for p in folder.glob("*.parquet") if p.name not in known):
        report.add(Problem("note", extra.removesuffix(".parquet"), None, "extra_file",
                           f"{extra} is not a contract table and is ignored",
                           "nothing to do, or rename it if it was meant as a contract table"))
    return _load(sources, engine, report, **options)


def load_tables(tables: Mapping[str, pa.Table], engine: DuckDBEngine,
                **options) -> ValidationReport:
    """Validate in-memory Arrow tables named as the contract's and load their clean rows."""
    report = ValidationReport()
    sources: dict[str, tuple[pa.Schema, str, str | None]] = {}
    for name, data in tables.items():
        if name not in contract.TABLE_BY_NAME:
            report.add(Problem("note", name, None, "extra_file",
                               f"{name!r} is not a contract table and is ignored",
                               "use the contract's table names"))
            continue
        numbered = data.append_column("file_row_number", pa.array(range(data.num_rows),
                                                                  pa.int64()))
        engine.con.register(f"_arrow_{name}", numbered)
        sources[name] = (data.schema, f"_arrow_{name}", None)
    return _load(sources, engine, report, **options)


def _check_schema(t: contract.Table, schema: pa.Schema, report: ValidationReport) -> list[str]:
    """Schema problems of one table; returns the extra columns usable as attributes."""
    names = set(schema.names)
    for c in t.columns:
        if c.name not in names:
            if c.required:
                report.add(Problem("reject", t.name, c.name, "missing_column",
                                   "required column is missing",
                                   f"add column {c.name} ({describe_type(c)})"))
            continue
        found = schema.field(c.name).type
        if not type_fits(c, found):
            report.add(Problem("reject", t.name, c.name, "wrong_type",
                               f"column has type {found}, the contract needs {describe_type(c)}",
                               f"write {c.name} as {describe_type(c)}"))
    extras = [n for n in schema.names if n not in t.column_by_name]
    attributes = []
    for name in extras:
        if not t.open_columns:
            report.add(Problem("note", t.name, name, "extra_column",
                               "column is not in the contract and is ignored", "nothing to do"))
        elif not ATTRIBUTE_NAME.match(name):
            report.add(Problem("warning", t.name, name, "bad_attribute_name",
                               "attribute column name is not a plain identifier; ignored",
                               "rename it to letters, digits and _ (at most 63)"))
        elif not attribute_fits(schema.field(name).type):
            report.add(Problem("warning", t.name, name, "bad_attribute_type",
                               f"attribute column has type {schema.field(name).type}; ignored",
                               "give attributes as numbers, booleans or short strings"))
        else:
            attributes.append(name)
    return attributes


def _raw_select(t: contract.Table, schema: pa.Schema, attributes: list[str], source: str) -> str:
    names = set(schema.names)
    parts = ["file_row_number AS _row"]
    for c in t.columns:
        wide = _WIDE.get(c.kind, c.duckdb_type)
        parts.append(f"CAST({c.name} AS {wide}) AS {c.name}" if c.name in names
                     else f"CAST(NULL AS {wide}) AS {c.name}")
    parts += [quote_identifier(a) for a in attributes]
    return f"SELECT {', '.join(parts)} FROM {source}"


def _load(sources: dict[str, tuple[pa.Schema, str, str | None]], engine: DuckDBEngine,
          report: ValidationReport, *, now: datetime | None = None,
          max_quarantine_ratio: float = 0.5, progress: Progress | None = None
          ) -> ValidationReport:
    con = engine.con
    if "accounts" not in sources and not report.rejections():
        report.add(Problem("reject", "accounts", None, "missing_table",
                           "accounts.parquet is missing; it is the one required table",
                           "write accounts.parquet with account_id, created_at, "
                           "claimed_country, claimed_timezone"))
    moment = now or datetime.now(timezone.utc)
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    params = {"now": moment + timedelta(days=1)}
    engine_zones = {r[0] for r in con.execute("SELECT name FROM pg_timezone_names()").fetchall()}
    zones = sorted(iana_zone_names() & engine_zones)
    con.register("_zones_arrow", pa.table({"name": zones}))
    con.execute("CREATE OR REPLACE TEMP TABLE _zones AS SELECT name FROM _zones_arrow")
    con.register("_countries_arrow", pa.table({"code": sorted(COUNTRY_CODES)}))
    con.execute("CREATE OR REPLACE TEMP TABLE _countries AS SELECT code FROM _countries_arrow")
    con.execute("CREATE OR REPLACE TABLE quarantine (table_name VARCHAR, row_number BIGINT, "
                "account_id VARCHAR, column_name VARCHAR, value VARCHAR, reason VARCHAR)")

    con.execute("CREATE OR REPLACE TEMP TABLE accounts_valid_ids (account_id VARCHAR)")
    order = [t for t in contract.TABLES if t.name in sources]  # accounts first
    readable: list[tuple[contract.Table, list[str]]] = []
    for t in order:
        schema = sources[t.name][0]
        before = len(report.rejections())
        attributes = _check_schema(t, schema, report)
        if len(report.rejections()) == before:
            readable.append((t, attributes))
    for i, (t, attributes) in enumerate(readable):
        if progress:
            progress(f"validate {t.name}", i, len(readable))
        schema, source, path = sources[t.name]
        con.execute(f"CREATE OR REPLACE TEMP TABLE _raw_{t.name} AS "
                    f"{_raw_select(t, schema, attributes, source)}",
                    {"path": path} if path else {})
        _quarantine_rows(t, attributes, engine, params, report, max_quarantine_ratio,
                         check_accounts=readable[0][0].name == "accounts")
    if progress:
        progress("validate", len(readable), len(readable))

    if report.usable:
        for t, attributes in readable:
            _create_clean(t, attributes, engine)
    for t, _ in readable:
        con.execute(f"DROP TABLE IF EXISTS _raw_{t.name}")
    for name, (_, _, path) in sources.items():
        if path is None:
            con.unregister(f"_arrow_{name}")
    return report


def _quarantine_rows(t: contract.Table, attributes: list[str], engine: DuckDBEngine,
                     params: dict, report: ValidationReport, max_ratio: float, *,
                     check_accounts: bool) -> None:
    con = engine.con
    raw = f"_raw_{t.name}"
    present = {c.name for c in t.columns}
    selects = []
    messages: dict[tuple[str, str], str] = {}
    for column, reason, predicate, message in row_checks(t, present):
        messages[(column, reason)] = message
        selects.append(f"SELECT _row, account_id, '{column}' AS column_name, "
                       f"left(CAST({column} AS VARCHAR), 200) AS value, '{reason}' AS reason "
                       f"FROM {raw} WHERE {predicate}")
    if t.unique_key:
        key = ", ".join(t.unique_key)
        selects.append(
            f"SELECT _row, account_id, '{t.unique_key[0]}', "
            f"left(CAST({t.unique_key[0]} AS VARCHAR), 200), 'duplicate_key' FROM {raw} "
            f"WHERE ({key}) IN (SELECT {key} FROM {raw} GROUP BY {key} HAVING count(*) > 1)")
        messages[(t.unique_key[0], "duplicate_key")] = "key appears on more than one row"
    if t.name != "accounts" and check_accounts:  # else accounts is the problem to report
        for column in ("account_id", "other_account_id"):
            if column not in present:
                continue
            selects.append(
                f"SELECT _row, account_id, '{column}', left({column}, 200), 'unknown_account' "
                f"FROM {raw} WHERE {column} IS NOT NULL AND {column} NOT IN "
                f"(SELECT account_id FROM accounts_valid_ids)")
            messages[(column, "unknown_account")] = \
                "account is not in accounts.parquet (or was quarantined there)"
    union = " UNION ALL ".join(selects)
    con.execute(f"INSERT INTO quarantine SELECT '{t.name}', * FROM ({union})",
                params if "$now" in union else {})
    total = engine.scalar(f"SELECT count(*) FROM {raw}")
    bad_rows = engine.scalar("SELECT count(DISTINCT row_number) FROM quarantine "
                             "WHERE table_name = $t", {"t": t.name})
    report.loaded_rows[t.name] = int(total) - int(bad_rows)
    if t.name == "accounts":
        con.execute("CREATE OR REPLACE TEMP TABLE accounts_valid_ids AS SELECT account_id "
                    "FROM _raw_accounts WHERE _row NOT IN (SELECT row_number FROM quarantine "
                    "WHERE table_name = 'accounts')")
    counts = con.execute(
        "SELECT column_name, reason, count(*) FROM quarantine WHERE table_name = $t "
        "GROUP BY ALL ORDER BY ALL", {"t": t.name}).fetchall()
    for column, reason, count in counts:
        report.quarantined[(t.name, column, reason)] = int(count)
        examples = con.execute(
            "SELECT row_number, account_id, value FROM quarantine WHERE table_name = $t "
            "AND column_name = $c AND reason = $r ORDER BY row_number LIMIT $n",
            {"t": t.name, "c": column, "r": reason, "n": EXAMPLES_PER_KIND}).fetchall()
        for row, account_id, value in examples:
            report.add(Problem("quarantine", t.name, column, reason,
                               messages[(column, reason)], FIXES[reason], row=int(row),
                               account_id=account_id, value=value))
    if total and bad_rows / total > max_ratio:
        report.add(Problem("reject", t.name, None, "too_many_quarantined",
                           f"{bad_rows} of {total} rows ({bad_rows / total:.0%}) are "
                           f"quarantined, more than the allowed {max_ratio:.0%}",
                           "fix the export (see the reasons above), or raise "
                           "--max-quarantine-ratio if this is expected"))
    if t.name == "accounts" and total == bad_rows:
        report.add(Problem("reject", "accounts", None, "no_accounts",
                           "no usable account rows", "export at least one valid account"))


def _create_clean(t: contract.Table, attributes: list[str], engine: DuckDBEngine) -> None:
    columns = [f"CAST({c.name} AS {c.duckdb_type}) AS {c.name}" for c in t.columns]
    columns += [quote_identifier(a) for a in attributes]
    # The raw table is in file order and DuckDB keeps insertion order, so no ORDER BY (a
    # sort of 70M rows cost more than the rest of the load).
    bad = engine.scalar("SELECT count(*) FROM quarantine WHERE table_name = $t", {"t": t.name})
    where = (" WHERE _row NOT IN (SELECT row_number FROM quarantine WHERE table_name = $t)"
             if bad else "")
    engine.con.execute(
        f"CREATE OR REPLACE TABLE {t.name} AS SELECT {', '.join(columns)} "
        f"FROM _raw_{t.name}{where}", {"t": t.name} if bad else {})
