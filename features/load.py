"""Load a contract source (a folder, dataset folders, ``s3://``, ``postgresql://``; see
:mod:`.sources`) or in-memory Arrow tables into DuckDB, validating once.

Every problem is found in one pass and reported together (see :mod:`.validate` for what is
rejected and what is quarantined). Clean rows land in tables named as the contract's, with
explicit types and every contract column present (a missing optional column is NULL);
quarantined rows are kept, with their reasons, in the ``quarantine`` table.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa

from . import contract
from .dialect import DUCKDB, Dialect
from .engine import DuckDBEngine
from .load_steps import (
    DuckDBSteps,  # noqa: F401  (it lived here; importers keep working)
    LoadSteps,
    Sources,
)
from .reference import COUNTRY_CODES, iana_zone_names
from .signals.neighbours.naming import MAX_ATTRIBUTE_SIGNALS
from .sources import FoundTable, close_source, open_source
from .validate import (
    ATTRIBUTE_NAME,
    FIXES,
    Problem,
    ValidationReport,
    attribute_fits,
    attribute_is_number,
    describe_type,
    is_wide_float,
    row_checks,
    type_fits,
)

EXAMPLES_PER_KIND = 5
Progress = Callable[[str, float, float], None]  # step, done, total (fractions allowed)
_WIDE = {"int64": "BIGINT", "int32": "BIGINT", "int8": "BIGINT", "float64": "DOUBLE"}


def load_folder(data_dir: str | Path, engine: DuckDBEngine, **options) -> ValidationReport:
    """Validate the contract source ``data_dir`` and load its clean rows into ``engine``.

    ``data_dir`` is a folder (a ``<table>.parquet`` file or a ``<table>/`` dataset folder
    per table), an ``s3://bucket/prefix/`` or a ``postgresql://`` URI (see
    :mod:`.sources`). A single local file is read by DuckDB itself; every other table is
    streamed into DuckDB as Arrow batches. The same validation either way."""
    report = ValidationReport()
    source = open_source(data_dir)
    try:
        found = source.tables(report)
        if found is None:
            return report
        sources: Sources = {}
        for name, table in found.items():
            if table.local_file is not None:
                sources[name] = (table.schema, "read_parquet($path, file_row_number = true)",
                                 str(table.local_file))
            else:
                engine.con.register(f"_arrow_{name}", table.read())
                sources[name] = (table.schema, f"_arrow_{name}", None)
        labels = {name: table.label for name, table in found.items()}
        return _load(sources, engine, report, labels=labels, **options)
    finally:
        close_source(source)


def folder_schemas(data_dir: str | Path, report: ValidationReport
                   ) -> dict[str, FoundTable] | None:
    """The contract tables the source ``data_dir`` supplies (schema, label, reader); a
    missing source (None), unreadable or ambiguous tables and extra files are added to
    ``report``."""
    return open_source(data_dir).tables(report)


def load_tables(tables: Mapping[str, pa.Table], engine: DuckDBEngine,
                **options) -> ValidationReport:
    """Validate in-memory Arrow tables named as the contract's and load their clean rows."""
    report = ValidationReport()
    sources: Sources = {}
    for name, numbered in numbered_tables(tables, report).items():
        engine.con.register(f"_arrow_{name}", numbered)
        sources[name] = (tables[name].schema, f"_arrow_{name}", None)
    return _load(sources, engine, report, **options)


def numbered_tables(tables: Mapping[str, pa.Table], report: ValidationReport
                    ) -> dict[str, pa.Table]:
    """The contract tables among ``tables``, each with a ``file_row_number`` column; other
    names are added to ``report`` as notes."""
    out = {}
    for name, data in tables.items():
        if name not in contract.TABLE_BY_NAME:
            report.add(Problem("note", name, None, "extra_file",
                               f"{name!r} is not a contract table and is ignored",
                               "use the contract's table names"))
            continue
        # A half-precision column stops DuckDB scanning the whole table; it is reported
        # from the schema (a wrong type, or an attribute ignored) and never read.
        data = data.drop_columns([f.name for f in data.schema if pa.types.is_float16(f.type)])
        out[name] = data.append_column("file_row_number", pa.array(range(data.num_rows),
                                                                   pa.int64()))
    return out


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
            found = schema.field(name).type
            report.add(Problem("warning", t.name, name, "bad_attribute_type",
                               f"attribute column has type {found}; ignored",
                               "write it as float32 or float64" if pa.types.is_float16(found)
                               else "give attributes as numbers, booleans or short strings"))
        else:
            attributes.append(name)
    _note_attributes_not_aggregated(t, schema, attributes, report)
    return attributes


def _note_attributes_not_aggregated(t: contract.Table, schema: pa.Schema, attributes: list[str],
                                    report: ValidationReport) -> None:
    """A note when numeric attributes lie beyond the neighbour aggregates' cap: each stays a
    feature of its own, but its neighbours' values are not read."""
    cap = MAX_ATTRIBUTE_SIGNALS
    numeric = [n for n in attributes if attribute_is_number(schema.field(n).type)]
    beyond = numeric[cap:]
    if not beyond:
        return
    shown = ", ".join(beyond[:5]) + (", ..." if len(beyond) > 5 else "")
    report.add(Problem("note", t.name, beyond[0], "attribute_not_aggregated",
                       f"{len(beyond)} numeric attribute column(s) after the first {cap} "
                       f"({shown}) are features of their own, but their neighbours' values "
                       "are not aggregated",
                       f"put the attributes whose neighbours' values matter most among the "
                       f"first {cap} numeric columns"))


def _raw_select(t: contract.Table, schema: pa.Schema, attributes: list[str], source: str,
                d: Dialect = DUCKDB) -> str:
    names = set(schema.names)
    parts = ["file_row_number AS _row"]
    for c in t.columns:
        wide = d.sql_type(_WIDE.get(c.kind, c.duckdb_type))
        parts.append(f"CAST({c.name} AS {wide}) AS {c.name}" if c.name in names
                     else f"CAST(NULL AS {wide}) AS {c.name}")
    parts += [d.quote(a) for a in attributes]
    return f"SELECT {', '.join(parts)} FROM {source}"


def _load(sources: Sources, engine: DuckDBEngine, report: ValidationReport,
          **options) -> ValidationReport:
    return load_sources(sources, engine.load_steps(), report, **options)


def load_sources(sources: Sources, steps: LoadSteps, report: ValidationReport, *,
                 now: datetime | None = None, max_quarantine_ratio: float = 0.5,
                 progress: Progress | None = None,
                 labels: Mapping[str, str] | None = None) -> ValidationReport:
    """Validate and load ``sources`` (name: (schema, SELECT-able source, path parameter))
    through ``steps``, the engine's load steps (``engine.load_steps()``); the same rules on
    every engine. ``labels`` name each table's data in messages (default
    ``<table>.parquet``)."""
    d = steps.d
    if "accounts" not in sources and not report.rejections():
        report.add(Problem("reject", "accounts", None, "missing_table",
                           "accounts.parquet is missing; it is the one required table",
                           "write accounts.parquet with account_id, created_at, "
                           "claimed_country, claimed_timezone"))
    moment = now or datetime.now(UTC)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    params = {"now": moment + timedelta(days=1)}
    # A zone is valid when Python's tz database knows it: no engine converts zones, every
    # engine reads the offsets built from it (zone_offsets.py).
    steps.reference("_zones", "name", sorted(iana_zone_names()))
    steps.reference("_countries", "code", sorted(COUNTRY_CODES))
    steps.new_quarantine()

    steps.temp_table("accounts_valid_ids",
                     f"SELECT CAST(NULL AS {d.string_type}) AS account_id WHERE 1 = 0")
    order = [t for t in contract.TABLES if t.name in sources]  # accounts first
    readable: list[tuple[contract.Table, list[str]]] = []
    for t in order:
        schema = sources[t.name][0]
        before = len(report.rejections())
        attributes = _check_schema(t, schema, report)
        if len(report.rejections()) == before:
            readable.append((t, attributes))
    read: list[tuple[contract.Table, list[str]]] = []
    for i, (t, attributes) in enumerate(readable):
        if progress:
            progress(f"validate {t.name}", i, len(readable))
        schema, source, path = sources[t.name]
        try:
            steps.temp_table(f"_raw_{t.name}", _raw_select(t, schema, attributes, source, d),
                             {"path": path} if path else {})
        except Exception as error:  # noqa: BLE001 (any engine's read error is the file's)
            # A damaged file (a corrupt page behind an intact footer) fails only when its
            # rows are read: a rejection of that table, the others still checked.
            label = (labels or {}).get(t.name, t.file_name)
            report.add(Problem("reject", t.name, None, "unreadable_file",
                               f"{label} could not be read: {first_line(error)}",
                               f"re-export {label} (a file is damaged or truncated), then "
                               "validate again"))
            continue
        read.append((t, attributes))
        _quarantine_rows(t, attributes, steps, params, report, max_quarantine_ratio,
                         check_accounts=read[0][0].name == "accounts")
        _note_not_finite(t, _floating(schema, attributes), steps, report)
    if {"accounts", "labels"} <= {t.name for t, _ in read}:
        _note_decided_before_created(steps, report)
    if progress:
        progress("write the clean tables", len(readable), len(readable))

    if report.usable:
        for t, attributes in read:
            _create_clean(t, attributes, steps, _floating(sources[t.name][0], attributes))
    for t, _ in read:
        steps.drop_temp(f"_raw_{t.name}")
    steps.release(sources)
    return report


def first_line(error: Exception) -> str:
    """An engine error's first line, without the engine's exception class."""
    text = (str(error).strip().splitlines() or [type(error).__name__])[0]
    return text[:300]


def _quarantine_rows(t: contract.Table, attributes: list[str], steps: LoadSteps,
                     params: dict, report: ValidationReport, max_ratio: float, *,
                     check_accounts: bool) -> None:
    d = steps.d
    raw = f"_raw_{t.name}"
    present = {c.name for c in t.columns}
    owner = t.account_columns[0] if t.account_columns else f"CAST(NULL AS {d.string_type})"
    selects = []
    messages: dict[tuple[str, str], str] = {}
    checks = row_checks(t, present, d)
    # The checks on a row's own values read the rows failing any of them, found in one scan
    # (Spark scans a table once per branch of a union: seven scans of the activity table
    # took most of its load); checks that look values up in another table read the table.
    plain = [predicate for _, _, predicate, _ in checks if "SELECT" not in predicate]
    suspects = f"_suspect_{t.name}"
    if plain:
        anywhere = " OR ".join(f"({predicate})" for predicate in plain)
        steps.temp_table(suspects, f"SELECT * FROM {raw} WHERE {anywhere}",
                         params if d.param("now") in anywhere else {})
    for column, reason, predicate, message in checks:
        messages[(column, reason)] = message
        source = raw if "SELECT" in predicate else suspects
        selects.append(f"SELECT _row, {owner} AS account_id, '{column}' AS column_name, "
                       f"{d.text_prefix(column, 200)} AS value, '{reason}' AS reason "
                       f"FROM {source} WHERE {predicate}")
    if t.unique_key:
        key = ", ".join(t.unique_key)
        selects.append(
            f"SELECT _row, {owner}, '{t.unique_key[0]}', "
            f"{d.text_prefix(t.unique_key[0], 200)}, 'duplicate_key' FROM {raw} "
            f"WHERE ({key}) IN (SELECT {key} FROM {raw} GROUP BY {key} HAVING count(*) > 1)")
        messages[(t.unique_key[0], "duplicate_key")] = "key appears on more than one row"
    if t.name != "accounts" and check_accounts:  # else accounts is the problem to report
        for column in t.account_columns:
            selects.append(
                f"SELECT _row, {owner}, '{column}', left({column}, 200), 'unknown_account' "
                f"FROM {raw} WHERE {column} IS NOT NULL AND {column} NOT IN "
                f"(SELECT account_id FROM accounts_valid_ids)")
            messages[(column, "unknown_account")] = \
                "account is not in accounts.parquet (or was quarantined there)"
    union = " UNION ALL ".join(selects)
    steps.add_quarantine(t.name, union, params if d.param("now") in union else {})
    if plain:
        steps.drop_temp(suspects)
    by_table = {"t": t.name}
    in_table = f"table_name = {d.param('t')}"
    total = int(steps.scalar(f"SELECT count(*) FROM {raw}"))  # type: ignore[call-overload]
    bad_rows = int(steps.scalar(  # type: ignore[call-overload]
        f"SELECT count(DISTINCT row_number) FROM quarantine WHERE {in_table}", by_table))
    report.loaded_rows[t.name] = total - bad_rows
    if t.name == "accounts":
        steps.temp_table("accounts_valid_ids",
                         "SELECT account_id FROM _raw_accounts WHERE _row NOT IN "
                         "(SELECT row_number FROM quarantine WHERE table_name = 'accounts')")
    counts = steps.rows(
        f"SELECT column_name, reason, count(*) FROM quarantine WHERE {in_table} "
        "GROUP BY ALL ORDER BY ALL", by_table)
    for column, reason, count in counts:
        report.quarantined[(t.name, column, reason)] = int(count)
        examples = steps.rows(
            f"SELECT row_number, account_id, value FROM quarantine WHERE {in_table} "
            f"AND column_name = {d.param('c')} AND reason = {d.param('r')} "
            f"ORDER BY row_number LIMIT {d.param('n')}",
            {"t": t.name, "c": column, "r": reason, "n": EXAMPLES_PER_KIND})
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


def _floating(schema: pa.Schema, attributes: list[str]) -> list[str]:
    return [a for a in attributes if is_wide_float(schema.field(a).type)]


def _not_finite(d: Dialect, column: str) -> str:
    return f"(isnan({column}) OR {d.is_infinite(column)})"


def _note_not_finite(t: contract.Table, floating: list[str], steps: LoadSteps,
                     report: ValidationReport) -> None:
    """A note per float attribute column holding NaN or infinity, which load as missing:
    an attribute may be unknown, and pandas writes an unknown float as NaN."""
    if not floating:
        return
    d = steps.d
    counts = steps.rows("SELECT " + ", ".join(
        f"sum(CASE WHEN {_not_finite(d, d.quote(a))} THEN 1 ELSE 0 END)" for a in floating)
        + f" FROM _raw_{t.name}")[0]
    for column, count in zip(floating, counts, strict=True):
        if count:
            report.add(Problem("note", t.name, column, "attribute_not_finite",
                               f"{int(count):,} values are NaN or infinite; they are read as "
                               "missing (unknown for those accounts)",
                               "nothing to do if they mean unknown; else export the values"))


def _note_decided_before_created(steps: LoadSteps, report: ValidationReport) -> None:
    """A note when decisions are dated at or before their account's sign-up: training reads
    an account only once it exists and before its decision, so it cannot use them (an
    export that stamps one date on every row does this)."""
    where = ("FROM _raw_labels AS l JOIN _raw_accounts AS a ON a.account_id = l.account_id "
             "WHERE l.decided_at <= a.created_at")
    count = int(steps.scalar(f"SELECT count(*) {where}"))  # type: ignore[call-overload]
    if not count:
        return
    row, account_id = steps.rows(f"SELECT l._row, l.account_id {where} ORDER BY l._row LIMIT 1")[0]
    total = int(steps.scalar("SELECT count(*) FROM _raw_labels"))  # type: ignore[call-overload]
    report.add(Problem("note", "labels", "decided_at", "decided_before_created",
                       f"{count:,} of {total:,} decisions are dated at or before their "
                       "account's accounts.created_at; training cannot read such an account "
                       "before its decision and leaves it out",
                       "export accounts.created_at as the sign-up time and decided_at as the "
                       "time of the decision (after sign-up)", row=int(row), account_id=account_id))


def _create_clean(t: contract.Table, attributes: list[str], steps: LoadSteps,
                  floating: list[str]) -> None:
    d = steps.d
    columns = [f"CAST({c.name} AS {d.sql_type(c.duckdb_type)}) AS {c.name}" for c in t.columns]
    columns += [f"CASE WHEN {_not_finite(d, d.quote(a))} THEN NULL ELSE {d.quote(a)} END "
                f"AS {d.quote(a)}" if a in floating else d.quote(a) for a in attributes]
    # The raw table is in file order and DuckDB keeps insertion order, so no ORDER BY (a
    # sort of 70M rows cost more than the rest of the load).
    in_table = f"table_name = {d.param('t')}"
    bad = steps.scalar(f"SELECT count(*) FROM quarantine WHERE {in_table}", {"t": t.name})
    where = (f" WHERE _row NOT IN (SELECT row_number FROM quarantine WHERE {in_table})"
             if bad else "")
    steps.clean_table(t.name, f"SELECT {', '.join(columns)} FROM _raw_{t.name}{where}",
                      {"t": t.name} if bad else {},
                      every_row_of=None if bad else f"_raw_{t.name}")
