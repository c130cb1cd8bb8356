"""A hostile-input corpus, on both engines: every fault is quarantined or rejected once, with
the table, column and row named; hostile text stays data; nothing valid is lost.

One set of tables carries every row-level fault at once (so Spark pays its fixed cost once):
bad zones and enums, NULLs, duplicate keys, far-future and pre-1970 instants, NaN and
infinite amounts, self links, rows of unknown accounts; and, in rows that are valid, SQL
injection in ids, HTML, NUL, right-to-left and emoji characters and a 1 MB string.
"""

from __future__ import annotations

from datetime import datetime

import pyarrow as pa
import pytest

from accountrisk.features.engine import DuckDBEngine
from accountrisk.features.load import load_tables
from tests.conftest import NOW, make_tables

INJECTION = "x'); DROP TABLE accounts; --"
HOSTILE_TEXT = ("<script>alert(1)</script> \u202eevil\u202c \U0001f600 nul\x00byte "
                + "a" * 1_000_000)

# (table, row, column, reason): each row has exactly one fault.
FAULTS = [
    ("accounts", {"account_id": "z1", "claimed_timezone": "Mars/Olympus"},
     "claimed_timezone", "bad_timezone"),
    ("accounts", {"account_id": "z2", "claimed_country": None}, "claimed_country",
     "null_required"),
    ("accounts", {"account_id": "z3", "created_at": datetime(1969, 7, 20)}, "created_at",
     "bad_timestamp"),
    ("accounts", {"account_id": "z4", "created_at": datetime(2999, 1, 1)}, "created_at",
     "bad_timestamp"),
    ("sessions", {"account_id": "ok1", "ip_type": "satellite"}, "ip_type", "unknown_value"),
    ("sessions", {"account_id": "ok1", "started_at": datetime(2999, 1, 1)}, "started_at",
     "bad_timestamp"),
    ("sessions", {"account_id": "ghost"}, "account_id", "unknown_account"),
    ("payouts", {"account_id": "ok1", "amount_usd": float("nan")}, "amount_usd", "not_finite"),
    ("payouts", {"account_id": "ok1", "amount_usd": float("inf")}, "amount_usd", "not_finite"),
    ("payouts", {"account_id": "ok1", "amount_usd": float("-inf")}, "amount_usd",
     "not_finite"),
    ("payouts", {"account_id": "ok1", "amount_usd": -5.0}, "amount_usd", "out_of_range"),
    ("account_links", {"account_id": "ok1", "other_account_id": "ok1"}, "other_account_id",
     "self_link"),
]


def _tables() -> tuple[dict[str, pa.Table], dict[str, int]]:
    valid = [f"ok{i}" for i in range(1, 9)]  # enough valid rows: faults stay under half
    rows: dict[str, list[dict]] = {"accounts": [{"account_id": a} for a in valid]
                                   + [{"account_id": INJECTION}],
                                   "sessions": [{"account_id": a} for a in valid]
                                   + [{"account_id": INJECTION}],
                                   "payouts": [{"account_id": a} for a in valid],
                                   "portfolio_items": [{"account_id": "ok2", "item_id": "i1",
                                                        "title": HOSTILE_TEXT,
                                                        "url": "javascript:alert(1)",
                                                        "description": HOSTILE_TEXT}],
                                   "account_links": [{"account_id": "ok1",
                                                      "other_account_id": "ok2"},
                                                     {"account_id": "ok3",
                                                      "other_account_id": INJECTION}]}
    for table, row, _, _ in FAULTS:
        rows.setdefault(table, []).append(row)
    # a duplicated key: both copies are quarantined
    rows["portfolio_items"] += [{"account_id": "ok1", "item_id": "dup"},
                                {"account_id": "ok1", "item_id": "dup"}] + [
        {"account_id": a, "item_id": f"item-{a}"} for a in valid]
    tables = make_tables(**rows)
    # make_tables adds the unknown account 'ghost' to accounts: take it out again
    accounts = tables["accounts"]
    keep = [i for i, a in enumerate(accounts.column("account_id").to_pylist()) if a != "ghost"]
    tables["accounts"] = accounts.take(keep)
    return tables, {name: t.num_rows for name, t in tables.items()}


def _check(report, sizes, text_of) -> None:
    found = {(p.table, p.column, p.reason) for p in report.problems if p.severity ==
             "quarantine"}
    for table, _, column, reason in FAULTS:
        assert (table, column, reason) in found, (table, column, reason)
    assert ("portfolio_items", "item_id", "duplicate_key") in found
    for p in report.problems:
        if p.severity == "quarantine":
            assert p.row is not None and p.table and p.column, p.render()
            assert f"{p.table}.{p.column} row {p.row}" in p.render()
    assert report.usable, [p.render() for p in report.rejections()]
    # every row is loaded or quarantined, once
    quarantined_rows: dict[str, int] = {}
    for table, _, _, _ in FAULTS:
        quarantined_rows[table] = quarantined_rows.get(table, 0) + 1
    quarantined_rows["portfolio_items"] = 2
    for table, rows in sizes.items():
        assert report.loaded_rows[table] == rows - quarantined_rows.get(table, 0), table
    # hostile text is data: loaded unchanged, and nothing was dropped or executed
    title, description = text_of("SELECT title, description FROM portfolio_items "
                                 "WHERE item_id = 'i1'")
    assert title == HOSTILE_TEXT and description == HOSTILE_TEXT
    assert text_of("SELECT count(*) FROM accounts WHERE account_id = "
                   "'x''); DROP TABLE accounts; --'") == (1,)


def test_the_corpus_on_duckdb():
    tables, sizes = _tables()
    with DuckDBEngine() as engine:
        report = load_tables(tables, engine, now=NOW)
        _check(report, sizes, lambda sql: engine.con.execute(sql).fetchone())


@pytest.mark.spark
def test_the_corpus_on_spark(spark_engine):
    from accountrisk.features.spark import load_tables_spark

    tables, sizes = _tables()
    report = load_tables_spark(tables, spark_engine, now=NOW)
    _check(report, sizes, lambda sql: tuple(spark_engine.sql(sql).collect()[0]))


def test_validate_on_the_corpus_folder_exits_0_and_names_every_fault(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    import pyarrow.parquet as pq

    tables, _ = _tables()
    folder = tmp_path / "corpus"
    folder.mkdir()
    for name, table in tables.items():  # as an export writes them: every column nullable
        nullable = pa.schema([f.with_nullable(True) for f in table.schema])
        pq.write_table(table.cast(nullable), folder / f"{name}.parquet")
    done = subprocess.run([str(Path(sys.executable).parent / "accountrisk"), "validate",
                           str(folder), "--workdir", str(tmp_path / "work")],
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "COLUMNS": "400"})
    assert done.returncode == 0, done.stdout + done.stderr  # usable: faults quarantined
    said = done.stdout + done.stderr
    assert "Traceback" not in said
    for table, _, column, _ in FAULTS:
        assert f"[quarantine] {table}.{column} row " in said, (table, column)
