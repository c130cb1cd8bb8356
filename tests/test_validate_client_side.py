"""Contract 1.1's client-side tables (contracts, proposals, reviews) are validated like the
others: bad rows quarantined with table, column, row and value; a 1.0 folder stays valid."""

from __future__ import annotations

from datetime import datetime

from accountrisk.features import contract
from accountrisk.features.engine import DuckDBEngine
from accountrisk.features.load import load_tables
from tests.conftest import NOW, make_table, make_tables


def load(**tables):
    arrow = make_tables(**tables)
    if "accounts" in tables:  # exactly these accounts, so unknown ones stay unknown
        arrow["accounts"] = make_table("accounts", tables["accounts"])
    with DuckDBEngine() as engine:
        report = load_tables(arrow, engine, now=NOW)
        loaded = {t: engine.con.sql(f"SELECT count(*) FROM {t}").fetchall()[0][0]
                  for t in ("contracts", "proposals", "reviews") if t in engine.tables()}
        quarantine = engine.con.sql(
            "SELECT table_name, row_number, account_id, column_name, reason FROM quarantine "
            "ORDER BY ALL").fetchall()
    return report, loaded, quarantine


def test_the_contract_is_version_1_1_with_three_optional_client_side_tables():
    assert contract.CONTRACT_VERSION == "1.1"
    for name in ("contracts", "proposals", "reviews"):
        assert not contract.table(name).required
    assert contract.table("contracts").account_columns == (
        "freelancer_account_id", "client_account_id")
    assert contract.table("reviews").account_columns == (
        "subject_account_id", "author_account_id")


def test_clean_client_side_rows_load():
    report, loaded, quarantine = load(
        contracts=[{"contract_id": "k1", "client_account_id": "c1",
                    "freelancer_account_id": "f1"}],
        proposals=[{"proposal_id": "p1", "account_id": "f1", "cover_text": "Hello"}],
        reviews=[{"review_id": "r1", "author_account_id": "c1", "subject_account_id": "f1",
                  "contract_id": "k1"}])
    assert report.usable and not quarantine, [p.render() for p in report.problems]
    assert loaded == {"contracts": 1, "proposals": 1, "reviews": 1}


def test_bad_client_side_rows_are_quarantined_by_table_column_and_row():
    accounts = [{"account_id": a} for a in ("c1", "f1", "f2")]
    report, loaded, quarantine = load(
        accounts=accounts,
        contracts=[
            {"contract_id": "k1", "client_account_id": "c1", "freelancer_account_id": "f1"},
            {"contract_id": "k2", "client_account_id": "ghost", "freelancer_account_id": "f1"},
            {"contract_id": "k3", "client_account_id": "c1", "freelancer_account_id": "f2",
             "billed_usd": -5.0},
            {"contract_id": "k4", "client_account_id": "c1", "freelancer_account_id": "f2",
             "started_at": datetime(2030, 1, 1)},
            {"contract_id": "k5", "client_account_id": "c1", "freelancer_account_id": "f2"},
            {"contract_id": "k6", "client_account_id": "c1", "freelancer_account_id": "f1"},
        ],
        proposals=[{"proposal_id": "p1", "account_id": "f1"},
                   {"proposal_id": "p1", "account_id": "f2"},
                   {"proposal_id": "p3", "account_id": "f2", "bid_usd": float("nan")}]
        + [{"proposal_id": f"ok{i}", "account_id": "f1"} for i in range(4)],
        reviews=[{"review_id": "r1", "author_account_id": "c1", "subject_account_id": "f1",
                  "rating": 6.0},
                 {"review_id": "r2", "author_account_id": "c1", "subject_account_id": "f1",
                  "rating": 4.0},
                 {"review_id": "r3", "author_account_id": "c1", "subject_account_id": "f1",
                  "rating": 5.0}])
    found = {(t, row, column, reason) for t, row, _, column, reason in quarantine}
    assert found == {
        ("contracts", 1, "client_account_id", "unknown_account"),
        ("contracts", 2, "billed_usd", "out_of_range"),
        ("contracts", 3, "started_at", "bad_timestamp"),
        ("proposals", 0, "proposal_id", "duplicate_key"),
        ("proposals", 1, "proposal_id", "duplicate_key"),
        ("proposals", 2, "bid_usd", "not_finite"),
        ("reviews", 0, "rating", "out_of_range"),
    }
    # A contract's problem is reported under its freelancer, so the row is findable.
    assert ("contracts", 1, "f1") in {(t, r, a) for t, r, a, _, _ in quarantine}
    assert loaded == {"contracts": 3, "proposals": 4, "reviews": 2}
    assert report.usable
    messages = [p.render() for p in report.problems]
    assert any("contracts" in m and "client_account_id" in m and "ghost" in m
               for m in messages), messages


def test_a_version_1_folder_without_client_side_tables_is_unchanged():
    report, loaded, quarantine = load(sessions=[{"account_id": "a1"}])
    assert report.usable and not quarantine and loaded == {}
