"""Shared plumbing of the evidence collectors: connections, bound queries, tokens, labels.

Each signal family's collector (``features/signals/<family>``) and the scoring layer use
these. Evidence queries run on DuckDB only (they serve the embedded scorer, not the
portable feature SQL). Account ids, tokens and times are always bound parameters; the only
text formatted into SQL is our own table and column names and constants.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import duckdb

from accountrisk.features.errors import UsageError
from accountrisk.features.pipeline import parse_as_of
from accountrisk.scoring.models import LinkedAccount

# At most this many other accounts are listed behind one reason; the rest are counted.
MAX_LISTED_ACCOUNTS = 25
# At most this many matched portfolio items are listed per account.
MAX_LISTED_ITEMS = 40
TOKEN_SHOWN_CHARS = 4

# Helper tables of the feature pipeline that evidence and rings read when they are kept
# (each family lists its own: Family.kept_tables) live on under their own names
# (``evidence__<name>``), so a later pipeline run cannot replace them.
HELPER_PREFIX = "evidence__"
_MARKER = HELPER_PREFIX + "as_of"
_PARAMETER = re.compile(r"\$([A-Za-z_]\w*)")
_TOKEN_PREFIX = re.compile(r"^[A-Za-z]{1,8}[-_:.]")


def connection(engine: Any) -> duckdb.DuckDBPyConnection:
    """The DuckDB connection of an engine (``DuckDBEngine``) or a connection/cursor itself."""
    con = getattr(engine, "con", engine)
    if not isinstance(con, duckdb.DuckDBPyConnection):
        raise UsageError("evidence needs a DuckDBEngine or a DuckDB connection, "
                        f"not {type(engine).__name__}")
    return con


def bound(sql: str, params: dict[str, Any] | None) -> dict[str, Any]:
    """The parameters ``sql`` uses (DuckDB refuses unused ones)."""
    used = set(_PARAMETER.findall(sql))
    return {k: v for k, v in (params or {}).items() if k in used}


def rows(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any] | None = None
         ) -> list[dict[str, Any]]:
    """All rows of a bound query as dicts (the result is fully fetched, so it is closed).

    ``params`` may hold more names than ``sql`` uses (DuckDB refuses unused ones)."""
    cursor = con.execute(sql, bound(sql, params))
    names = [c[0] for c in cursor.description]
    return [dict(zip(names, r)) for r in cursor.fetchall()]


def tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Names of the tables and views this connection sees (temporary ones included)."""
    return {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() "
                                      "UNION SELECT view_name FROM duckdb_views()").fetchall()}


def columns(con: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    found = con.execute("SELECT column_name FROM duckdb_columns() WHERE table_name = $t",
                        {"t": table}).fetchall()
    return {r[0] for r in found}


def plural(n: int, word: str) -> str:
    """``1 session``, ``3 sessions``."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def shorten_token(token: str | None, kind: str) -> str:
    """A token as a reviewer sees it: ``pay_3f9a…``; never the whole token.

    A marketplace's own prefix (``pay-``, ``ip:``) is dropped first; short tokens show at
    most half their characters.
    """
    if not token:
        return f"{kind}_?"
    body = token
    stripped = _TOKEN_PREFIX.sub("", token)
    if len(stripped) >= 2 * TOKEN_SHOWN_CHARS:
        body = stripped
    shown = min(TOKEN_SHOWN_CHARS, len(body) // 2)
    return f"{kind}_{body[:shown]}…"


def as_of_moment(as_of: str | datetime) -> datetime:
    """The as-of time as naive UTC (the contract's timestamps are naive UTC)."""
    return parse_as_of(as_of)


def id_list(account_ids: Iterable[str]) -> list[str]:
    """Distinct account ids in first-seen order."""
    return list(dict.fromkeys(str(a) for a in account_ids))


def confirmed_before(con: duckdb.DuckDBPyConnection, as_of: datetime,
                     account_ids: Sequence[str]) -> set[str]:
    """Which of ``account_ids`` were confirmed fraudulent before ``as_of``: their latest
    decision before it is label 1 (the same rule as the ``confirmed_accounts`` helper)."""
    if not account_ids or "labels" not in tables(con):
        return set()
    found = rows(con, """
        SELECT account_id FROM (
            SELECT account_id, label,
                   row_number() OVER (PARTITION BY account_id
                                      ORDER BY decided_at DESC, label DESC) AS pick
            FROM labels
            WHERE decided_at < $t AND account_id IN (SELECT unnest($ids::VARCHAR[]))
        ) AS latest WHERE pick = 1 AND label = 1""", {"t": as_of, "ids": list(account_ids)})
    return {r["account_id"] for r in found}


def decisions_before(con: duckdb.DuckDBPyConnection, as_of: datetime,
                     account_ids: Sequence[str]) -> dict[str, int]:
    """The latest decision before ``as_of`` (label 1 confirmed, 0 cleared) of each of
    ``account_ids`` that has one (the ``confirmed_accounts`` rule for ties)."""
    if not account_ids or "labels" not in tables(con):
        return {}
    found = rows(con, """
        SELECT account_id, label FROM (
            SELECT account_id, label,
                   row_number() OVER (PARTITION BY account_id
                                      ORDER BY decided_at DESC, label DESC) AS pick
            FROM labels
            WHERE decided_at < $t AND account_id IN (SELECT unnest($ids::VARCHAR[]))
        ) AS latest WHERE pick = 1""", {"t": as_of, "ids": list(account_ids)})
    return {r["account_id"]: int(r["label"]) for r in found}


def confirmed_sql(present: set[str]) -> str:
    """Accounts whose latest decision before $t is label 1 (the ``confirmed_accounts``
    rule), as a subquery reading the ``labels`` table when there is one."""
    if "labels" not in present:
        return "SELECT account_id FROM accounts WHERE 1 = 0"
    return """SELECT account_id FROM (
            SELECT account_id, label,
                   row_number() OVER (PARTITION BY account_id
                                      ORDER BY decided_at DESC, label DESC) AS pick
            FROM labels WHERE decided_at < $t) AS latest
        WHERE pick = 1 AND label = 1"""


def helper(name: str) -> str:
    """The kept name of a pipeline helper table."""
    return HELPER_PREFIX + name


def helpers_as_of(con: duckdb.DuckDBPyConnection) -> datetime | None:
    """The as-of time of the helper tables kept on this connection, or None."""
    if _MARKER not in tables(con):
        return None
    found = con.execute(f"SELECT as_of FROM {_MARKER}").fetchall()
    return found[0][0] if found else None


def helpers_ready(con: duckdb.DuckDBPyConnection, as_of: datetime, *names: str) -> bool:
    """Whether helper tables kept for exactly ``as_of`` exist (all of ``names``)."""
    if helpers_as_of(con) != as_of:
        return False
    present = tables(con)
    return all(helper(n) in present for n in names)


def keep_helper_tables(con: duckdb.DuckDBPyConnection, names: Sequence[str],
                       as_of: datetime) -> None:
    """Rename the pipeline's helper tables ``names`` that exist to their kept names and
    record ``as_of`` as their time (see :func:`helpers_ready`)."""
    present = tables(con)
    for name in names:
        con.execute(f"DROP TABLE IF EXISTS {helper(name)}")
        if name in present:
            con.execute(f"ALTER TABLE {name} RENAME TO {helper(name)}")
    con.execute(f"CREATE OR REPLACE TEMP TABLE {_MARKER} (as_of TIMESTAMP)")
    con.execute(f"INSERT INTO {_MARKER} VALUES ($t)", {"t": as_of})


def listed_accounts(others: dict[str, set[str]], kind: str, confirmed: set[str]
                    ) -> tuple[list[LinkedAccount], int]:
    """LinkedAccounts of ``others`` (account -> shortened tokens shared), confirmed ones
    first, then by id, at most MAX_LISTED_ACCOUNTS; and how many were left out."""
    order = sorted(others, key=lambda a: (a not in confirmed, a))
    shown = [LinkedAccount(account_id=a, shared=sorted(others[a]), link_kind=kind,
                           is_confirmed_fraud=a in confirmed)
             for a in order[:MAX_LISTED_ACCOUNTS]]
    return shown, max(0, len(order) - MAX_LISTED_ACCOUNTS)


def more_note(left_out: int, what: str) -> list[str]:
    """``["3 more <what> not listed"]``, or no note when nothing was left out."""
    return [f"{left_out} more {what} not listed"] if left_out else []
