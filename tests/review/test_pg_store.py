"""The decision store in PostgreSQL (a real server the test run starts): the same rows and
the same labels as the embedded store."""

from __future__ import annotations

from datetime import datetime

import pytest

from accountrisk.features.engine import DuckDBEngine
from accountrisk.features.load import load_tables
from accountrisk.training.review.labels import overlay_decisions
from accountrisk.training.review.store import (
    Decision,
    DecisionError,
    DuckDBDecisionStore,
    open_store,
    record_decision,
)
from tests.conftest import NOW, make_tables

pytest.importorskip("adbc_driver_postgresql", reason='needs pip install ".[postgres]"')


def _decisions() -> list[Decision]:
    return [Decision(account_id="a1", decision="confirmed_fronting", reviewer="r.lee",
                     decided_at=datetime(2025, 9, 12), note="shares a payout 'account'",
                     model_version="3", score=0.91, band="high",
                     reason_features=("payout_shared_account_count", "a,b"), source="cli"),
            Decision(account_id="a2", decision="needs_info", reviewer="k.o",
                     decided_at=datetime(2025, 9, 13)),
            Decision(account_id="a1", decision="cleared", reviewer="r.lee",
                     decided_at=datetime(2025, 9, 14), batch="file-digest")]


def test_postgres_store_keeps_what_the_embedded_store_keeps(postgres, tmp_path, monkeypatch):
    monkeypatch.setenv("ACCOUNTRISK_DECISION_STORE", postgres.uri(schema="review_test"))
    store = open_store(tmp_path)
    assert type(store).__name__ == "PostgresDecisionStore"
    embedded = DuckDBDecisionStore(tmp_path / "decisions.duckdb")
    given = _decisions()
    for s in (store, embedded):
        assert s.append(given) == 3
    assert store.read() == embedded.read()
    assert store.read(["a2"]) == embedded.read(["a2"])
    assert store.read(before=datetime(2025, 9, 13)) == embedded.read(before=datetime(2025, 9, 13))
    assert store.has_batch("file-digest") and not store.has_batch("other")
    # record_decision (the CLI's, CSV import's and the service's way in) writes there too
    made = record_decision("a2", "cleared", "k.o", workdir=tmp_path,
                           decided_at=datetime(2025, 9, 20))
    assert store.read(["a2"])[-1] == made
    with DuckDBEngine() as engine:
        assert load_tables(make_tables(accounts=[{"account_id": "a1"}, {"account_id": "a2"}]),
                           engine, now=NOW).usable
        assert overlay_decisions(engine, tmp_path) == 3  # a1 twice, a2 once: labels only
        latest = engine.con.execute(
            "SELECT account_id, label FROM labels QUALIFY row_number() OVER "
            "(PARTITION BY account_id ORDER BY decided_at DESC) = 1 ORDER BY 1").fetchall()
    assert latest == [("a1", 0), ("a2", 0)]


def test_an_unreachable_store_names_itself_without_the_password(monkeypatch, tmp_path):
    monkeypatch.setenv("ACCOUNTRISK_DECISION_STORE",
                       "postgresql://u:hunter2@127.0.0.1:1/none")
    with pytest.raises(DecisionError, match="cannot be opened") as caught:
        open_store(tmp_path).read()
    assert "hunter2" not in str(caught.value)
