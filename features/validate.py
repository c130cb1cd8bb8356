"""Validation rules of the data contract: what is rejected and what is quarantined.

Policy (documented in ``docs/data-contract.md``):

* The folder is **rejected** (nothing is loaded) when it cannot be read as the contract
  says: ``accounts.parquet`` missing, a file that is not Parquet, a required column missing,
  a column whose type cannot hold the contract's values, no usable account, or a table with
  more than ``max_quarantine_ratio`` of its rows quarantined (a broken export, not bad rows).
* A **row is quarantined** (kept aside in the ``quarantine`` table, counted per reason, its
  row number and account id reported) when one of its values breaks a rule: a null in a
  required column, an unknown enumeration value, an invalid IANA zone, a malformed or
  unassigned country code, a malformed pHash, a number out of range (negative amount), a
  duplicate key, a timestamp before 2000 or in the future, an account id the accounts table
  does not have (or quarantined), a link from an account to itself.
* Extra columns and extra files are ignored and listed as notes; attribute columns of a
  type that cannot be a feature are ignored with a warning; NaN or infinity in a float
  attribute column is read as missing, counted in a note (``load._note_not_finite``).

Nothing is coerced: a value is loaded as it is or its row is quarantined (an attribute's
NaN or infinity aside: pandas writes an unknown float as NaN).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pyarrow as pa

from .contract import Column, Table
from .dialect import DUCKDB, Dialect
from .errors import ContractError

Severity = Literal["reject", "quarantine", "warning", "note"]

EARLIEST_TIMESTAMP = "2000-01-01"
ATTRIBUTE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,62}$")

FIXES: dict[str, str] = {
    "null_required": "fill the column for every row, or leave the row out",
    "empty_id": "give every row a non-empty id",
    "unknown_value": "use one of the allowed lower-case values",
    "bad_timezone": "use an IANA zone name such as America/New_York or Asia/Kathmandu",
    "bad_country": "use an ISO 3166-1 alpha-2 code in upper case, such as US or NP",
    "bad_phash": "write the 64-bit hash as 16 lower-case hex characters",
    "out_of_range": "keep the value inside the contract's range",
    "not_finite": "write a finite number, or NULL where the value is unknown",
    "duplicate_key": "keep one row per key",
    "bad_timestamp": "write UTC instants between 2000 and now",
    "unknown_account": "add the account to accounts.parquet, or leave its rows out",
    "self_link": "a link needs two different accounts",
}


@dataclass(frozen=True)
class Problem:
    """One finding. Row-level findings carry the row number and the account id."""

    severity: Severity
    table: str
    column: str | None
    reason: str
    message: str
    fix: str
    row: int | None = None
    account_id: str | None = None
    value: str | None = None

    def render(self) -> str:
        where = self.table + (f".{self.column}" if self.column else "")
        if self.row is not None:
            where += f" row {self.row}"
            if self.account_id is not None:
                where += f" (account_id {printable(self.account_id)})"
        value = f" value {printable(self.value)}:" if self.value is not None else ""
        return f"[{self.severity}] {where}:{value} {self.message}. Fix: {self.fix}."


@dataclass
class ValidationReport:
    """Everything validation found, plus what was loaded."""

    problems: list[Problem] = field(default_factory=list)
    loaded_rows: dict[str, int] = field(default_factory=dict)
    quarantined: dict[tuple[str, str, str], int] = field(default_factory=dict)

    @property
    def usable(self) -> bool:
        return not any(p.severity == "reject" for p in self.problems)

    @property
    def quarantined_total(self) -> int:
        return sum(self.quarantined.values())

    def add(self, problem: Problem) -> None:
        self.problems.append(problem)

    def rejections(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "reject"]


def printable(value: object, limit: int = 60) -> str:
    """A value as safe, short, single-line text: control characters escaped, long cut."""
    text = str(value)
    cut = len(text) > limit
    text = text[:limit].encode("unicode_escape").decode("ascii")
    return repr(text + ("..." if cut else ""))


def type_fits(column: Column, arrow_type: pa.DataType) -> bool:
    """Whether a Parquet column of ``arrow_type`` can hold the contract column's values."""
    if pa.types.is_dictionary(arrow_type):
        arrow_type = arrow_type.value_type
    kind = column.kind
    if kind == "timestamp":
        return pa.types.is_timestamp(arrow_type)
    if kind in ("int64", "int32", "int8"):
        return pa.types.is_integer(arrow_type)
    if kind == "float64":
        return pa.types.is_integer(arrow_type) or is_wide_float(arrow_type)
    return pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type) \
        or pa.types.is_string_view(arrow_type)


def is_wide_float(arrow_type: pa.DataType) -> bool:
    """A 32- or 64-bit float: the engines read no half-precision column."""
    return pa.types.is_floating(arrow_type) and not pa.types.is_float16(arrow_type)


def attribute_is_number(arrow_type: pa.DataType) -> bool:
    """Whether an account_attributes column is a number or a boolean (not a category)."""
    if pa.types.is_dictionary(arrow_type):
        arrow_type = arrow_type.value_type
    return (pa.types.is_integer(arrow_type) or is_wide_float(arrow_type)
            or pa.types.is_boolean(arrow_type))


def attribute_fits(arrow_type: pa.DataType) -> bool:
    """Whether an account_attributes column can be a feature (number, boolean, string)."""
    text = arrow_type.value_type if pa.types.is_dictionary(arrow_type) else arrow_type
    return (attribute_is_number(arrow_type) or pa.types.is_string(text)
            or pa.types.is_large_string(text) or pa.types.is_string_view(text))


def describe_type(column: Column) -> str:
    return {
        "timestamp": "a Parquet timestamp (UTC; naive means UTC)",
        "int64": "an integer", "int32": "an integer", "int8": "an integer",
        "float64": "a number",
    }.get(column.kind, "a string")


def row_checks(table: Table, columns: set[str], d: Dialect = DUCKDB
               ) -> list[tuple[str, str, str, str]]:
    """(column, reason, SQL predicate that is true for a bad row, message) per value rule.

    Predicates read the raw table, in dialect ``d``; ``_zones`` and ``_countries`` are
    reference tables and ``now`` is the load time (a bound parameter, ``d.param("now")``).
    Values never enter the SQL text.
    """
    checks: list[tuple[str, str, str, str]] = []
    for c in table.columns:
        if c.name not in columns:
            continue
        q = c.name
        if c.required:
            checks.append((q, "null_required", f"{q} IS NULL", "required value is missing"))
        if c.kind == "id":
            checks.append((q, "empty_id", f"trim({q}) = ''", "id is empty"))
        elif c.kind == "enum":
            allowed = ", ".join(f"'{v}'" for v in c.values)
            checks.append((q, "unknown_value", f"{q} NOT IN ({allowed})",
                           f"unknown value; allowed: {', '.join(c.values)}"))
        elif c.kind == "timezone":
            checks.append((q, "bad_timezone",
                           f"{q} IS NOT NULL AND {q} NOT IN (SELECT name FROM _zones)",
                           "not an IANA time zone name"))
        elif c.kind == "country":
            checks.append((q, "bad_country",
                           f"{q} IS NOT NULL AND {q} NOT IN (SELECT code FROM _countries)",
                           "not an ISO 3166-1 alpha-2 country code"))
        elif c.kind == "phash":
            checks.append((q, "bad_phash",
                           f"{q} IS NOT NULL AND NOT {d.full_match(q, '[0-9a-f]{16}')}",
                           "not a 16-character lower-case hex pHash"))
        elif c.kind == "timestamp":
            checks.append((q, "bad_timestamp",
                           f"{q} < TIMESTAMP '{EARLIEST_TIMESTAMP}' OR {q} > {d.param('now')}",
                           "timestamp before 2000 or in the future"))
        finite = "TRUE"
        if c.kind == "float64":
            non_finite = f"isnan({q}) OR {d.is_infinite(q)}"
            checks.append((q, "not_finite", non_finite, "not a finite number (NaN or infinity)"))
            finite = f"NOT ({non_finite})"  # a non-finite value is reported once, as such
        bounds = [f"{q} < {c.min_value!r}"] if c.min_value is not None else []
        bounds += [f"{q} > {c.max_value!r}"] if c.max_value is not None else []
        if bounds:
            allowed = (f"{c.min_value:g} to {c.max_value:g}"
                       if c.min_value is not None and c.max_value is not None
                       else f"at least {c.min_value:g}" if c.min_value is not None
                       else f"at most {c.max_value:g}")
            checks.append((q, "out_of_range", f"({' OR '.join(bounds)}) AND {finite}",
                           f"outside the contract's range ({allowed})"))
    if table.name == "account_links" and {"account_id", "other_account_id"} <= columns:
        checks.append(("other_account_id", "self_link", "other_account_id = account_id",
                       "links an account to itself"))
    return checks


def require_usable(report: ValidationReport, data_dir: str | Path) -> None:
    """Raise :class:`ContractError` listing every rejection when ``report`` is unusable."""
    if not report.usable:
        from .sources.uri import mask_password  # a URI's password never reaches a message

        data_dir = mask_password(str(data_dir))
        lines = "\n".join(p.render() for p in report.rejections())
        raise ContractError(f"{data_dir} does not meet the data contract; run "
                            f"`accountrisk validate {data_dir}` for the full list.\n{lines}",
                            report.problems)
