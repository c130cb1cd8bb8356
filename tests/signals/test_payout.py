from datetime import datetime

from tests.conftest import compute, make_tables


def test_shared_payout_counts_other_accounts_and_confirmed_ones():
    tables = make_tables(
        payout_methods=[
            {"account_id": "a", "payout_token": "p1"},
            {"account_id": "b", "payout_token": "p1"},
            {"account_id": "c", "payout_token": "p1"},
            {"account_id": "c", "payout_token": "p2"},
            {"account_id": "d", "payout_token": "p2"},
            {"account_id": "e", "payout_token": "p9"},
        ],
        labels=[{"account_id": "b", "label": 1, "decided_at": datetime(2025, 5, 1)},
                {"account_id": "d", "label": 1, "decided_at": datetime(2025, 12, 5)}],
    )
    f = compute(tables, "2025-12-01")
    assert f["a"]["payout_shared_account_count"] == 2
    assert f["c"]["payout_shared_account_count"] == 3
    assert f["e"]["payout_shared_account_count"] == 0
    # b was confirmed before T; d only after T, so it does not count yet.
    assert f["a"]["payout_shared_confirmed_account_count"] == 1
    assert f["c"]["payout_shared_confirmed_account_count"] == 1
    # An account's own label never feeds its own features.
    assert f["b"]["payout_shared_confirmed_account_count"] == 0


def test_payouts_table_tokens_count_as_shared_too():
    tables = make_tables(
        payout_methods=[{"account_id": "a", "payout_token": "p1"}],
        payouts=[{"account_id": "b", "payout_token": "p1"}],
    )
    f = compute(tables)
    assert f["a"]["payout_shared_account_count"] == 1
    assert f["b"]["payout_shared_account_count"] == 1


def test_crypto_destination_mismatch_and_churn():
    tables = make_tables(
        accounts=[{"account_id": "a", "claimed_country": "US"}],
        payout_methods=[
            {"account_id": "a", "payout_token": "p1", "method": "crypto",
             "destination_country": "CN", "added_at": datetime(2025, 11, 1)},
            {"account_id": "a", "payout_token": "p2", "method": "bank",
             "destination_country": "US", "added_at": datetime(2025, 1, 10)},
            {"account_id": "a", "payout_token": "p3", "method": "wise",
             "added_at": datetime(2025, 10, 1)},
        ],
    )
    f = compute(tables, "2025-12-01")["a"]
    assert f["payout_method_count"] == 3
    assert f["payout_crypto_method_ratio"] == 1 / 3
    assert f["payout_destination_mismatch_ratio"] == 0.5  # unknown country not counted
    assert f["payout_method_added_90d_count"] == 2


def test_without_payout_tables_signals_are_missing_not_zero():
    f = compute(make_tables(accounts=[{"account_id": "a"}]))["a"]
    assert f["payout_shared_account_count"] is None


def test_widely_shared_destination_counts_without_pairing(monkeypatch):
    from accountrisk.features.signals import payout

    monkeypatch.setattr(payout, "PAIRED_TOKEN_MAX_ACCOUNTS", 3)
    rows = [{"account_id": f"w{i}", "payout_token": "wide"} for i in range(6)]
    rows += [{"account_id": "w0", "payout_token": "p1"}, {"account_id": "x", "payout_token": "p1"}]
    tables = make_tables(payout_methods=rows, labels=[
        {"account_id": "w1", "label": 1}, {"account_id": "w2", "label": 1}])
    f = compute(tables)
    assert f["w0"]["payout_shared_account_count"] == 5
    assert f["w3"]["payout_shared_account_count"] == 5
    assert f["x"]["payout_shared_account_count"] == 1
    assert f["w0"]["payout_shared_confirmed_account_count"] == 2
    assert f["w1"]["payout_shared_confirmed_account_count"] == 1  # never itself
