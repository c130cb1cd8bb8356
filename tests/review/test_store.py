"""The decision store is its own file: two processes append at once and lose nothing, and
a decision on a queued account is recorded while a writer holds the features database."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import datetime

import duckdb
from typer.testing import CliRunner

from accountrisk.features.workspace import DATABASE_NAME
from accountrisk.plugin.cli import app
from accountrisk.training.review import open_store
from accountrisk.training.review.shown import Shown, remember_shown

APPEND = textwrap.dedent("""
    import sys
    from accountrisk.training.review import record_decision
    for i in range(25):
        record_decision(f"{sys.argv[2]}{i}", "cleared", "r.lee", workdir=sys.argv[1])
""")


def test_two_processes_append_at_once_and_lose_nothing(tmp_path):
    runs = [subprocess.Popen([sys.executable, "-c", APPEND, str(tmp_path), prefix])
            for prefix in ("a", "b")]
    assert [p.wait(timeout=120) for p in runs] == [0, 0]
    rows = open_store(tmp_path).read()
    assert len(rows) == 50 and len({d.decision_id for d in rows}) == 50


HOLD = textwrap.dedent("""
    import sys, time, duckdb
    con = duckdb.connect(sys.argv[1])
    print("holding", flush=True)
    sys.stdin.readline()
""")


def test_a_queued_account_is_decided_while_a_writer_holds_the_features_database(tmp_path):
    database = tmp_path / DATABASE_NAME
    with duckdb.connect(str(database)) as con:
        con.execute("CREATE TABLE accounts AS SELECT 'u1' AS account_id")
    remember_shown(tmp_path, [Shown("u1", 0.42, "elevated", "7", ("f1",),
                                    datetime(2026, 10, 1))])
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(database)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        runner = CliRunner()
        done = runner.invoke(app, ["review", "u1", "--decision", "cleared", "--reviewer",
                                   "r.lee", "--workdir", str(tmp_path)])
        assert done.exit_code == 0, done.output
        assert "shown score 0.420, band elevated, model 7" in done.stdout
        other = runner.invoke(app, ["review", "u2", "--decision", "cleared", "--reviewer",
                                    "r.lee", "--workdir", str(tmp_path)])
        assert other.exit_code == 1 and "cannot be read now" in other.output
    finally:
        holder.communicate("\n", timeout=30)
    assert [(d.account_id, d.score, d.model_version) for d in open_store(tmp_path).read()] \
        == [("u1", 0.42, "7")]


def test_label_rate_and_queue_precision_count_decisions_since_training(tmp_path):
    from accountrisk.features.engine import DuckDBEngine
    from accountrisk.training.monitor import _decisions_since
    from accountrisk.training.review import Decision
    from accountrisk.training.review.labels import overlay_decisions

    when = datetime(2026, 9, 1)
    store = open_store(tmp_path)
    store.append([Decision("q1", "confirmed_fronting", "r", when, score=0.9, band="high"),
                  Decision("q2", "cleared", "r", when, score=0.5, band="elevated"),
                  Decision("q3", "cleared", "r", when, score=0.4, band="elevated"),
                  Decision("q4", "escalated", "r", when, score=0.4, band="elevated"),
                  Decision("n1", "confirmed_fronting", "r", when),  # not from a queue
                  Decision("old", "cleared", "r", datetime(2026, 1, 1), score=0.3)])
    with DuckDBEngine() as engine:
        engine.execute("CREATE TABLE labels AS SELECT 'm1' AS account_id, 1::TINYINT AS label, "
                       "TIMESTAMP '2026-09-02' AS decided_at, 'enforcement' AS source")
        assert overlay_decisions(engine, tmp_path) == 5
        labels, rate, queued, precision = _decisions_since(
            engine, tmp_path, datetime(2026, 6, 1), datetime(2026, 10, 1))
    assert (labels, queued) == (5, 3)  # m1, q1, q2, q3, n1; queued: q1, q2, q3
    assert rate == 3 / 5 and precision == 1 / 3
