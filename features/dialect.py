"""The one place where SQL differs between engines.

Feature SQL is written in the subset DuckDB and Spark SQL share. The few functions that
differ (epochs, bit operations, lists, hex parsing) are produced here, so a signal module
never names an engine (no engine converts time zones: see :mod:`.zone_offsets`). See
``../shared/stack-notes.md`` for what breaks when SQL is translated blindly.

:class:`Dialect` holds the SQL both engines share and declares, as abstract methods, what
each engine writes its own way; :class:`DuckDBDialect` and :class:`SparkDialect` write it.
Code takes a dialect from its engine (``engine.dialect``) or by name (:func:`dialect_for`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import UTC, datetime
from typing import ClassVar

from .errors import UsageError


class Dialect(ABC):
    """SQL snippets for one engine. Arguments are SQL expressions, never data values.

    A dialect has no state: every instance of a subclass writes the same SQL, and equal
    dialects are instances of the same class.
    """

    name: ClassVar[str]
    """The engine's name (``"duckdb"``, ``"spark"``), as ``--engine`` takes it."""

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self)

    def __hash__(self) -> int:
        return hash(type(self))

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    # -- time ------------------------------------------------------------------------------
    def timestamp_literal(self, moment: datetime) -> str:
        """A TIMESTAMP literal for a validated UTC datetime (not marketplace data)."""
        if moment.tzinfo is not None:
            moment = moment.astimezone(UTC).replace(tzinfo=None)
        return f"TIMESTAMP '{moment.isoformat(sep=' ', timespec='microseconds')}'"

    @abstractmethod
    def epoch_seconds(self, ts: str) -> str:
        """Seconds since 1970 of a naive timestamp, as a whole number, rounded half to even
        (sub-second timestamps then give the same days, hours and spans on both engines)."""

    def hour_of_day(self, ts: str) -> str:
        return f"hour({ts})"

    def day_number(self, ts: str) -> str:
        """Whole days since 1970 of a naive timestamp (for per-day grouping)."""
        return f"CAST(floor({self.epoch_seconds(ts)} / 86400) AS BIGINT)"

    @abstractmethod
    def utc_day(self, ts: str) -> str:
        """The UTC day (days since 1970) a naive UTC timestamp falls in, sub-seconds exact
        (unlike :meth:`day_number`, which rounds to the second first); the key of the
        ``zone_day_offsets`` table (:mod:`.zone_offsets`). Timestamps are after 1970."""

    @abstractmethod
    def days_between(self, earlier: str, later: str) -> str:
        """Fractional days from ``earlier`` to ``later``."""

    # -- numbers that stay DOUBLE --------------------------------------------------------------
    # Spark reads a literal such as 1.0 as a DECIMAL and averages DECIMALs as a DECIMAL
    # rounded to a few places, where DuckDB returns a DOUBLE: a ratio would differ between
    # engines in the last digits. These helpers keep every fraction a DOUBLE on both.
    @staticmethod
    def double(expr: str) -> str:
        """``expr`` as DOUBLE (write ``double("1")``, never a ``1.0`` literal, in SQL that
        is averaged or divided: Spark keeps a decimal literal DECIMAL and rounds)."""
        return f"CAST({expr} AS DOUBLE)"

    @property
    def one(self) -> str:
        """The number 1 as DOUBLE, for shares taken with ``avg`` (see :meth:`double`)."""
        return self.double("1")

    @property
    def zero(self) -> str:
        """The number 0 as DOUBLE, for shares taken with ``avg`` (see :meth:`double`)."""
        return self.double("0")

    @staticmethod
    def flag(condition: str) -> str:
        """1 where ``condition`` holds, else 0 (also when it is NULL), as an integer: sum
        it for an exact count, max it for "any". For a share taken with ``avg``, write
        ``CASE WHEN condition THEN {d.one} ELSE {d.zero} END`` so it stays DOUBLE."""
        return f"CASE WHEN {condition} THEN 1 ELSE 0 END"

    @staticmethod
    def exact_sum(expr: str) -> str:
        """``sum(expr)`` as DOUBLE, the same whatever order the rows are added in: each
        value is rounded to 9 decimals and added as a whole number of billionths (a BIGINT
        sum, exact), where a DOUBLE sum of fractions varies in its last bits with the
        threads' split of the rows. For sums of non-integer values (angles, weighted
        means), so that features are bit-identical from run to run and between thread
        counts. The sum must stay below 9e9 in magnitude (Spark's BIGINT): give it bounded
        terms (sines, values scaled into [-1, 1]) times counts.

        Why not a DECIMAL sum (this helper's first form, rounding to 18 decimals): Spark
        adds DECIMAL(38, 18) through Java big decimals, 5x slower than a BIGINT sum over the
        97M activity rows at 1M accounts (76.3 s against 14.8 s for two sums)."""
        # floor(x + 0.5), not round(): Spark's round() goes through big decimals too, and
        # its CAST truncates where DuckDB's rounds; 1e9 and 5e-1 are DOUBLE on both.
        return f"CAST(sum(CAST(floor(({expr}) * 1e9 + 5e-1) AS BIGINT)) AS DOUBLE) / 1e9"

    @staticmethod
    def ratio(part: str, whole: str) -> str:
        """``part / whole`` as DOUBLE, NULL when ``whole`` is not positive (unknown, not
        zero). The DOUBLE cast comes first so integer counts never divide as integers or
        DECIMALs (see :meth:`double`); ``whole`` may be any expression."""
        return f"CASE WHEN ({whole}) > 0 THEN {Dialect.double(part)} / ({whole}) END"

    # -- parameters, types and identifiers ---------------------------------------------------
    @abstractmethod
    def param(self, name: str) -> str:
        """A named bound parameter (its value travels beside the SQL text, never in it)."""

    @property
    @abstractmethod
    def string_type(self) -> str:
        """The unbounded string type (Spark rejects a VARCHAR without a length)."""

    def sql_type(self, duckdb_type: str) -> str:
        """The engine's name of a contract column's DuckDB type (``Column.duckdb_type``)."""
        return self.string_type if duckdb_type == "VARCHAR" else duckdb_type

    @abstractmethod
    def quote(self, identifier: str) -> str:
        """A quoted identifier, safe for any text."""

    # -- validation predicates ---------------------------------------------------------------
    def text_prefix(self, value: str, length: int) -> str:
        """The first ``length`` characters of any value rendered as text."""
        return f"left(CAST({value} AS {self.string_type}), {int(length)})"

    @abstractmethod
    def full_match(self, text: str, pattern: str) -> str:
        """Whether the whole of ``text`` matches the constant regex ``pattern`` (no quotes)."""

    @abstractmethod
    def is_infinite(self, number: str) -> str:
        """Whether a DOUBLE is plus or minus infinity."""

    # -- bits and hashes ----------------------------------------------------------------------
    @abstractmethod
    def hex_to_int(self, hex_text: str) -> str:
        """A hex string of at most 15 characters as a non-negative BIGINT."""

    @abstractmethod
    def xor(self, a: str, b: str) -> str:
        """Bitwise exclusive or of two integers."""

    @abstractmethod
    def shift_left_one(self, bits: str) -> str:
        """``1 << bits`` as BIGINT."""

    def bit_count(self, a: str) -> str:
        return f"bit_count({a})"

    def stable_hash(self, text: str) -> str:
        """A 60-bit hash of a string that every engine computes identically (md5 based)."""
        return self.hex_to_int(f"substr(md5({text}), 1, 15)")

    @abstractmethod
    def fast_hash(self, text: str) -> str:
        """A non-negative 60-bit hash of a string, ~10x cheaper than :meth:`stable_hash`.

        The value differs between engines: use it only for keys that are joined and
        counted within one engine (shingles), where results match up to 60-bit collisions.
        """

    # -- text and lists --------------------------------------------------------------------
    @abstractmethod
    def regexp_replace_all(self, text: str, pattern: str, replacement: str = "") -> str:
        """Replace every match of a constant regex ``pattern`` (given without quotes)."""

    @abstractmethod
    def split(self, text: str, separator: str) -> str:
        """Split on a constant one-character separator into a list."""

    @abstractmethod
    def word_shingles(self, words: str, width: int, *, hashed: bool = False) -> str:
        """List of ``width``-word shingles (space joined) of a list of words; ``hashed``:
        each shingle's :meth:`fast_hash` instead (cheaper to deduplicate and unnest)."""

    @abstractmethod
    def list_size(self, items: str) -> str:
        """The number of elements of a list."""

    @abstractmethod
    def list_distinct(self, items: str) -> str:
        """The list without repeated elements (and without NULLs), in any order."""

    @abstractmethod
    def list_head(self, items: str, count: int) -> str:
        """The first ``count`` elements of a list (all of a shorter one)."""

    @abstractmethod
    def explode(self, items: str) -> str:
        """Table-generating: one row per element (use in a SELECT list)."""

    @abstractmethod
    def integer_range(self, start: int, stop: int) -> str:
        """A table expression of one BIGINT column ``k`` holding start..stop-1."""


class DuckDBDialect(Dialect):
    """DuckDB's SQL: the embedded default engine."""

    name = "duckdb"
    string_type = "VARCHAR"

    def epoch_seconds(self, ts: str) -> str:
        # ``epoch`` keeps the fraction; the cast to BIGINT rounds half to even.
        return f"CAST(epoch({ts}) AS BIGINT)"

    def utc_day(self, ts: str) -> str:
        return f"(epoch_us({ts}) // 86400000000)"

    def days_between(self, earlier: str, later: str) -> str:
        return f"(({self.epoch_seconds(later)} - {self.epoch_seconds(earlier)}) / 86400.0)"

    def param(self, name: str) -> str:
        return f"${name}"

    def quote(self, identifier: str) -> str:
        return '"' + identifier.replace('"', '""') + '"'

    def full_match(self, text: str, pattern: str) -> str:
        return f"regexp_full_match({text}, '{pattern}')"

    def is_infinite(self, number: str) -> str:
        return f"isinf({number})"

    def hex_to_int(self, hex_text: str) -> str:
        return f"CAST(('0x' || {hex_text}) AS BIGINT)"

    def xor(self, a: str, b: str) -> str:
        return f"xor({a}, {b})"

    def shift_left_one(self, bits: str) -> str:
        return f"(CAST(1 AS BIGINT) << {bits})"

    def fast_hash(self, text: str) -> str:
        return f"CAST(hash({text}) >> 4 AS BIGINT)"

    def regexp_replace_all(self, text: str, pattern: str, replacement: str = "") -> str:
        return f"regexp_replace({text}, '{pattern}', '{replacement}', 'g')"

    def split(self, text: str, separator: str) -> str:
        return f"string_split({text}, '{separator}')"

    def word_shingles(self, words: str, width: int, *, hashed: bool = False) -> str:
        parts = " || ' ' || ".join(f"{words}[i + {k}]" for k in range(width))
        each = self.fast_hash(parts) if hashed else parts
        return f"list_transform(range(1, len({words}) - {width - 2}), lambda i: {each})"

    def list_size(self, items: str) -> str:
        return f"len({items})"

    def list_distinct(self, items: str) -> str:
        return f"list_distinct({items})"

    def list_head(self, items: str, count: int) -> str:
        return f"list_slice({items}, 1, {int(count)})"

    def explode(self, items: str) -> str:
        return f"unnest({items})"

    def integer_range(self, start: int, stop: int) -> str:
        return f"(SELECT range AS k FROM range({start}, {stop}))"


class SparkDialect(Dialect):
    """Spark SQL (Spark 4, ANSI mode), as :class:`~.spark.SparkEngine` runs it."""

    name = "spark"
    string_type = "STRING"

    def epoch_seconds(self, ts: str) -> str:
        # ``unix_timestamp`` would truncate; round half to even as DuckDB's cast does.
        return (f"CAST(bround(CAST(unix_micros(CAST({ts} AS TIMESTAMP)) AS DOUBLE) "
                f"/ 1000000, 0) AS BIGINT)")

    def utc_day(self, ts: str) -> str:
        return f"(unix_micros(CAST({ts} AS TIMESTAMP)) div 86400000000)"

    def days_between(self, earlier: str, later: str) -> str:
        # 86400.0 is a DECIMAL literal in Spark: a rounded quotient.
        return (f"(CAST({self.epoch_seconds(later)} - {self.epoch_seconds(earlier)} "
                f"AS DOUBLE) / 86400)")

    def param(self, name: str) -> str:
        return f":{name}"

    def quote(self, identifier: str) -> str:
        return "`" + identifier.replace("`", "``") + "`"

    def full_match(self, text: str, pattern: str) -> str:
        # Java's ``$`` also matches before a final line break; ``\z`` is the true end.
        return f"({text} RLIKE '^(?:{pattern})\\\\z')"

    def is_infinite(self, number: str) -> str:
        return f"(abs({number}) = CAST('Infinity' AS DOUBLE))"

    def hex_to_int(self, hex_text: str) -> str:
        return f"CAST(conv({hex_text}, 16, 10) AS BIGINT)"

    def xor(self, a: str, b: str) -> str:
        return f"(({a}) ^ ({b}))"

    def shift_left_one(self, bits: str) -> str:
        return f"shiftleft(CAST(1 AS BIGINT), {bits})"

    def fast_hash(self, text: str) -> str:
        return f"(xxhash64({text}) & 1152921504606846975)"

    def regexp_replace_all(self, text: str, pattern: str, replacement: str = "") -> str:
        return f"regexp_replace({text}, '{pattern}', '{replacement}')"

    def split(self, text: str, separator: str) -> str:
        return f"split({text}, '{separator}')"

    def word_shingles(self, words: str, width: int, *, hashed: bool = False) -> str:
        parts = ", ".join(f"{words}[i + {k}]" for k in range(width))
        shingle = f"concat_ws(' ', {parts})"
        each = self.fast_hash(shingle) if hashed else shingle
        return f"transform(sequence(0, size({words}) - {width}), i -> {each})"

    def list_size(self, items: str) -> str:
        return f"size({items})"

    def list_distinct(self, items: str) -> str:
        return f"array_distinct({items})"

    def list_head(self, items: str, count: int) -> str:
        return f"slice({items}, 1, {int(count)})"

    def explode(self, items: str) -> str:
        return f"explode({items})"

    def integer_range(self, start: int, stop: int) -> str:
        return f"(SELECT id AS k FROM range({start}, {stop}))"


DUCKDB = DuckDBDialect()
SPARK = SparkDialect()
DIALECTS: dict[str, Dialect] = {d.name: d for d in (DUCKDB, SPARK)}
"""Every engine's dialect by engine name, the default (DuckDB) first."""


def dialect_for(kind: str) -> Dialect:
    """The dialect of the engine named ``kind``; :class:`~.errors.UsageError` listing the
    known engines for any other name."""
    try:
        return DIALECTS[kind]
    except (KeyError, TypeError):
        raise UsageError(f"unknown engine {kind!r}; use one of {', '.join(DIALECTS)}"
                         ) from None
