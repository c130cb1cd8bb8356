"""The decision store in PostgreSQL, for a marketplace whose reviewers work across machines:
the same columns and the same rules as the embedded store (append-only, all rows of an
append or none), in table ``decisions`` of the configured database and schema.

Configured by ``ACCOUNTRISK_DECISION_STORE=postgresql://user:password@host:port/db[?schema=s]``
(see :func:`~.store.open_store`); read and written through ADBC (the ``postgres`` extra),
with bound parameters only. ``reason_features`` is a ``TEXT[]`` column, written as JSON text
and cast, so no driver list binding is needed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from ...features.sources.postgres import _dbapi, quote_identifier
from ...features.sources.uri import libpq_uri, mask_password, parse_source
from .store import COLUMNS, Decision, DecisionError, _decision, check_decision

_TYPES = ("TEXT PRIMARY KEY", "TEXT NOT NULL", "TEXT NOT NULL", "TEXT NOT NULL", "TEXT",
          "TIMESTAMP NOT NULL", "TIMESTAMP NOT NULL", "TEXT", "DOUBLE PRECISION", "TEXT",
          "TEXT[]", "TEXT NOT NULL", "TEXT")


class PostgresDecisionStore:
    """Decisions in ``<schema>.decisions`` of a PostgreSQL database."""

    def __init__(self, uri: str) -> None:
        self.uri = parse_source(uri)
        if self.uri.scheme != "postgresql":
            raise DecisionError(f"{mask_password(uri)} is not a postgresql:// URI")
        self.table = f"{quote_identifier(self.uri.schema)}.{quote_identifier('decisions')}"

    @contextmanager
    def _connect(self) -> Iterator[Any]:
        dbapi = _dbapi()
        try:
            con = dbapi.connect(libpq_uri(self.uri), autocommit=False)
        except dbapi.Error as error:
            first = str(error).strip().splitlines()[0] if str(error).strip() else "error"
            raise DecisionError(f"the decision store {self.uri.shown} cannot be opened: "
                                f"{mask_password(first)}") from None
        try:
            with con.cursor() as cur:
                columns = ", ".join(f"{c} {t}" for c, t in zip(COLUMNS, _TYPES))
                cur.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_identifier(self.uri.schema)}")
                cur.execute(f"CREATE TABLE IF NOT EXISTS {self.table} ({columns})")
            con.commit()
            yield con
        finally:
            con.close()

    def append(self, decisions: Sequence[Decision]) -> int:
        """Write every decision in one transaction; return how many."""
        for d in decisions:
            check_decision(d.decision)
        if not decisions:
            return 0
        marks = ", ".join(f"${i + 1}" + ("::TEXT[]" if c == "reason_features" else "")
                          for i, c in enumerate(COLUMNS))
        rows = [(d.decision_id, d.account_id, d.decision, d.reviewer, d.note, d.decided_at,
                 d.recorded_at, d.model_version, d.score, d.band,
                 "{" + ",".join(json.dumps(f) for f in d.reason_features) + "}", d.source,
                 d.batch) for d in decisions]
        with self._connect() as con:
            try:
                with con.cursor() as cur:
                    for row in rows:
                        cur.execute(f"INSERT INTO {self.table} ({', '.join(COLUMNS)}) "
                                    f"VALUES ({marks})", row)
                con.commit()
            except BaseException:
                con.rollback()
                raise
        return len(rows)

    def read(self, account_ids: Iterable[str] | None = None,
             before: datetime | None = None) -> list[Decision]:
        """Decisions (of ``account_ids`` when given, decided before ``before`` when given),
        oldest first."""
        # The ids travel as one JSON text parameter: no driver list binding, no SQL text.
        where: list[str] = ["TRUE"]
        params: list[Any] = []
        if account_ids is not None:
            params.append(json.dumps(sorted(set(account_ids))))
            where.append(f"account_id IN (SELECT json_array_elements_text(${len(params)}::json))")
        if before is not None:
            params.append(before)
            where.append(f"decided_at < ${len(params)}")
        with self._connect() as con, con.cursor() as cur:
            cur.execute(f"SELECT {', '.join(COLUMNS)} FROM {self.table} "
                        f"WHERE {' AND '.join(where)} ORDER BY decided_at, recorded_at",
                        tuple(params) or None)
            return [_decision(dict(zip(COLUMNS, r))) for r in cur.fetchall()]

    def has_batch(self, batch: str) -> bool:
        """Whether a file with this digest was imported already."""
        with self._connect() as con, con.cursor() as cur:
            cur.execute(f"SELECT count(*) FROM {self.table} WHERE batch = $1", (batch,))
            return bool(cur.fetchall()[0][0])
