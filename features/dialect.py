"""The one place where SQL differs between engines.

Feature SQL is written in the subset DuckDB and Spark SQL share. The few functions that
differ (epochs, bit operations, lists, hex parsing) are produced here, so a signal module
never names an engine (no engine converts time zones: see :mod:`.zone_offsets`). See
``../shared/stack-notes.md`` for what breaks when SQL is translated blindly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone


@dataclass(frozen=True)
class Dialect:
    """SQL snippets for one engine. Arguments are SQL expressions, never data values."""

    name: str

    # -- time ------------------------------------------------------------------------------
    def timestamp_literal(self, moment: datetime) -> str:
        """A TIMESTAMP literal for a validated UTC datetime (not marketplace data)."""
        if moment.tzinfo is not None:
            moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
        return f"TIMESTAMP '{moment.isoformat(sep=' ', timespec='microseconds')}'"

    def epoch_seconds(self, ts: str) -> str:
        """Seconds since 1970 of a naive timestamp, as a whole number.

        DuckDB's ``epoch`` keeps the fraction and its cast to BIGINT rounds half to even;
        Spark's ``unix_timestamp`` would truncate, so Spark rounds the same way explicitly
        (sub-second timestamps then give the same days, hours and spans on both engines).
        """
        if self.name == "spark":
            return (f"CAST(bround(CAST(unix_micros(CAST({ts} AS TIMESTAMP)) AS DOUBLE) "
                    f"/ 1000000, 0) AS BIGINT)")
        return f"CAST(epoch({ts}) AS BIGINT)"

    def hour_of_day(self, ts: str) -> str:
        return f"hour({ts})"

    def day_number(self, ts: str) -> str:
        """Whole days since 1970 of a naive timestamp (for per-day grouping)."""
        return f"CAST(floor({self.epoch_seconds(ts)} / 86400) AS BIGINT)"

    def utc_day(self, ts: str) -> str:
        """The UTC day (days since 1970) a naive UTC timestamp falls in, sub-seconds exact
        (unlike :meth:`day_number`, which rounds to the second first); the key of the
        ``zone_day_offsets`` table (:mod:`.zone_offsets`). Timestamps are after 1970."""
        if self.name == "spark":
            return f"(unix_micros(CAST({ts} AS TIMESTAMP)) div 86400000000)"
        return f"(epoch_us({ts}) // 86400000000)"

    def days_between(self, earlier: str, later: str) -> str:
        """Fractional days from ``earlier`` to ``later``."""
        if self.name == "spark":  # 86400.0 is a DECIMAL literal in Spark: a rounded quotient
            return (f"(CAST({self.epoch_seconds(later)} - {self.epoch_seconds(earlier)} "
                    f"AS DOUBLE) / 86400)")
        return f"(({self.epoch_seconds(later)} - {self.epoch_seconds(earlier)}) / 86400.0)"

    # -- parameters, types and identifiers ---------------------------------------------------
    def param(self, name: str) -> str:
        """A named bound parameter (its value travels beside the SQL text, never in it)."""
        return f":{name}" if self.name == "spark" else f"${name}"

    @property
    def string_type(self) -> str:
        """The unbounded string type (Spark rejects a VARCHAR without a length)."""
        return "STRING" if self.name == "spark" else "VARCHAR"

    def sql_type(self, duckdb_type: str) -> str:
        """The engine's name of a contract column's DuckDB type (``Column.duckdb_type``)."""
        return self.string_type if duckdb_type == "VARCHAR" else duckdb_type

    def quote(self, identifier: str) -> str:
        """A quoted identifier, safe for any text."""
        if self.name == "spark":
            return "`" + identifier.replace("`", "``") + "`"
        return '"' + identifier.replace('"', '""') + '"'

    # -- validation predicates ---------------------------------------------------------------
    def text_prefix(self, value: str, length: int) -> str:
        """The first ``length`` characters of any value rendered as text."""
        return f"left(CAST({value} AS {self.string_type}), {int(length)})"

    def full_match(self, text: str, pattern: str) -> str:
        """Whether the whole of ``text`` matches the constant regex ``pattern`` (no quotes)."""
        if self.name == "spark":
            # Java's ``$`` also matches before a final line break; ``\z`` is the true end.
            return f"({text} RLIKE '^(?:{pattern})\\\\z')"
        return f"regexp_full_match({text}, '{pattern}')"

    def is_infinite(self, number: str) -> str:
        if self.name == "spark":
            return f"(abs({number}) = CAST('Infinity' AS DOUBLE))"
        return f"isinf({number})"

    # -- bits and hashes ----------------------------------------------------------------------
    def hex_to_int(self, hex_text: str) -> str:
        """A hex string of at most 15 characters as a non-negative BIGINT."""
        if self.name == "spark":
            return f"CAST(conv({hex_text}, 16, 10) AS BIGINT)"
        return f"CAST(('0x' || {hex_text}) AS BIGINT)"

    def xor(self, a: str, b: str) -> str:
        if self.name == "spark":
            return f"(({a}) ^ ({b}))"
        return f"xor({a}, {b})"

    def shift_left_one(self, bits: str) -> str:
        """``1 << bits`` as BIGINT."""
        if self.name == "spark":
            return f"shiftleft(CAST(1 AS BIGINT), {bits})"
        return f"(CAST(1 AS BIGINT) << {bits})"

    def bit_count(self, a: str) -> str:
        return f"bit_count({a})"

    def stable_hash(self, text: str) -> str:
        """A 60-bit hash of a string that every engine computes identically (md5 based)."""
        return self.hex_to_int(f"substr(md5({text}), 1, 15)")

    def fast_hash(self, text: str) -> str:
        """A non-negative 60-bit hash of a string, ~10x cheaper than :meth:`stable_hash`.

        The value differs between engines: use it only for keys that are joined and
        counted within one engine (shingles), where results match up to 60-bit collisions.
        """
        if self.name == "spark":
            return f"(xxhash64({text}) & 1152921504606846975)"
        return f"CAST(hash({text}) >> 4 AS BIGINT)"

    # -- text and lists --------------------------------------------------------------------
    def regexp_replace_all(self, text: str, pattern: str, replacement: str = "") -> str:
        """Replace every match of a constant regex ``pattern`` (given without quotes)."""
        if self.name == "spark":
            return f"regexp_replace({text}, '{pattern}', '{replacement}')"
        return f"regexp_replace({text}, '{pattern}', '{replacement}', 'g')"

    def split(self, text: str, separator: str) -> str:
        """Split on a constant one-character separator into a list."""
        if self.name == "spark":
            return f"split({text}, '{separator}')"
        return f"string_split({text}, '{separator}')"

    def word_shingles(self, words: str, width: int) -> str:
        """List of ``width``-word shingles (space joined) of a list of words."""
        if self.name == "spark":
            parts = ", ".join(f"{words}[i + {k}]" for k in range(width))
            return (f"transform(sequence(0, size({words}) - {width}), "
                    f"i -> concat_ws(' ', {parts}))")
        parts = " || ' ' || ".join(f"{words}[i + {k}]" for k in range(width))
        return f"list_transform(range(1, len({words}) - {width - 2}), lambda i: {parts})"

    def list_size(self, items: str) -> str:
        return f"size({items})" if self.name == "spark" else f"len({items})"

    def list_distinct(self, items: str) -> str:
        """The list without repeated elements (and without NULLs), in any order."""
        return f"array_distinct({items})" if self.name == "spark" else f"list_distinct({items})"

    def list_head(self, items: str, count: int) -> str:
        """The first ``count`` elements of a list (all of a shorter one)."""
        if self.name == "spark":
            return f"slice({items}, 1, {int(count)})"
        return f"list_slice({items}, 1, {int(count)})"

    def explode(self, items: str) -> str:
        """Table-generating: one row per element (use in a SELECT list)."""
        return f"explode({items})" if self.name == "spark" else f"unnest({items})"

    def integer_range(self, start: int, stop: int) -> str:
        """A table expression of one BIGINT column ``k`` holding start..stop-1."""
        if self.name == "spark":
            return f"(SELECT id AS k FROM range({start}, {stop}))"
        return f"(SELECT range AS k FROM range({start}, {stop}))"


DUCKDB = Dialect("duckdb")
SPARK = Dialect("spark")
