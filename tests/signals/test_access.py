from datetime import datetime, timedelta

import pytest

from accountrisk.features.engine import DuckDBEngine
from accountrisk.features.load import load_tables
from accountrisk.features.pipeline import _Context, parse_as_of
from accountrisk.features.signals.access import HUB_ACCOUNTS, access_links
from tests.conftest import NOW, compute, make_tables


def _session(account, ip="ip-x", **extra):
    return {"account_id": account, "ip_token": ip, **extra}


def test_household_pair_links_but_hub_ip_does_not():
    crowd = [_session(f"c{i:02d}", "ip-crowd", ip_type="residential")
             for i in range(HUB_ACCOUNTS + 1)]
    tables = make_tables(sessions=[
        _session("a", "ip-home", ip_type="residential"),
        _session("b", "ip-home", ip_type="residential"),
        _session("a", "ip-crowd", ip_type="residential"),
        *crowd,
    ])
    f = compute(tables)
    assert f["a"]["residential_ip_shared_account_count"] == 1
    assert f["b"]["residential_ip_shared_account_count"] == 1
    # 22 accounts on ip-crowd: a hub, it links nobody.
    assert f["c00"]["residential_ip_shared_account_count"] == 0
    assert f["c00"]["hub_ip_session_ratio"] == 1.0
    assert f["a"]["hub_ip_session_ratio"] == 0.5
    assert f["b"]["hub_ip_session_ratio"] == 0.0


def test_twenty_accounts_on_one_home_ip_still_link():
    tables = make_tables(sessions=[_session(f"c{i:02d}", "ip-farm", ip_type="residential")
                                   for i in range(HUB_ACCOUNTS)])
    assert compute(tables)["c00"]["residential_ip_shared_account_count"] == HUB_ACCOUNTS - 1


def test_vpn_and_business_ips_never_link():
    tables = make_tables(sessions=[
        _session("a", "ip-vpn", ip_type="vpn"), _session("b", "ip-vpn", ip_type="vpn"),
        _session("c", "ip-office", ip_type="business"),
        _session("d", "ip-office", ip_type="business"),
        # One vpn-typed session is enough to make the token a hub.
        _session("e", "ip-mixed", ip_type="residential"),
        _session("f", "ip-mixed", ip_type="proxy"),
    ])
    f = compute(tables)
    for account in "abcdef":
        assert f[account]["residential_ip_shared_account_count"] == 0, account
    assert f["a"]["hub_ip_session_ratio"] == 1.0
    assert f["c"]["hub_ip_session_ratio"] == 0.0  # small office: not a hub, just no link


def test_reassigned_ip_months_apart_does_not_link():
    tables = make_tables(sessions=[
        _session("a", "ip-dyn", ip_type="residential", started_at=datetime(2025, 1, 5)),
        _session("b", "ip-dyn", ip_type="residential", started_at=datetime(2025, 6, 5)),
        _session("c", "ip-dyn", ip_type="residential", started_at=datetime(2025, 6, 20)),
    ])
    f = compute(tables)
    assert f["a"]["residential_ip_shared_account_count"] == 0
    assert f["b"]["residential_ip_shared_account_count"] == 1


def test_device_sharing_and_kiosk_hub():
    kiosk = [_session(f"k{i:02d}", f"ip-k{i}", device_token="dev-kiosk")
             for i in range(HUB_ACCOUNTS + 1)]
    tables = make_tables(sessions=[
        _session("a", "ip-1", device_token="dev-laptop"),
        _session("b", "ip-2", device_token="dev-laptop"),
        _session("c", "ip-3", device_token="dev-laptop"),
        _session("a", "ip-1"),  # no device known
        *kiosk,
    ])
    f = compute(tables)
    assert f["a"]["device_shared_account_count"] == 2
    assert f["a"]["residential_ip_shared_account_count"] == 0
    assert f["k00"]["device_shared_account_count"] == 0


def test_shared_access_with_confirmed_accounts_counts_only_decisions_before_t():
    tables = make_tables(
        sessions=[_session("a", "ip-home"), _session("b", "ip-home"),
                  _session("c", "ip-other", device_token="dev"),
                  _session("a", "ip-a2", device_token="dev"),
                  _session("d", "ip-home")],
        labels=[{"account_id": "b", "label": 1, "decided_at": datetime(2025, 5, 1)},
                {"account_id": "c", "label": 1, "decided_at": datetime(2025, 5, 1)},
                {"account_id": "d", "label": 1, "decided_at": datetime(2025, 12, 5)},
                {"account_id": "a", "label": 1, "decided_at": datetime(2025, 5, 1)}],
    )
    f = compute(tables, "2025-12-01")
    assert f["a"]["shared_access_confirmed_account_count"] == 2  # b by IP, c by device
    assert f["b"]["shared_access_confirmed_account_count"] == 1  # a; never itself
    assert f["d"]["shared_access_confirmed_account_count"] == 2  # a and b


def test_remote_tool_anonymizer_and_hosting_ratios():
    tables = make_tables(sessions=[
        _session("a", remote_access_tool="anydesk", ip_type="residential"),
        _session("a", remote_access_tool="teamviewer", ip_type="vpn"),
        _session("a", ip_type="hosting"),
        _session("a"),  # ip_type unknown: not in the anonymizer denominator
        _session("b"),
    ])
    f = compute(tables)
    assert f["a"]["remote_access_session_ratio"] == 0.5
    assert f["a"]["anonymizer_session_ratio"] == pytest.approx(1 / 3)
    assert f["a"]["hosting_session_ratio"] == pytest.approx(1 / 3)
    assert f["a"]["session_count"] == 4
    assert f["b"]["remote_access_session_ratio"] == 0.0
    assert f["b"]["anonymizer_session_ratio"] is None


def test_ip_country_churn():
    start = datetime(2025, 9, 1)
    countries = ["US", "KP", "US", "US", "CN", None]
    rows = [_session("a", f"ip-{i}", ip_country=c, started_at=start + timedelta(days=6 * i))
            for i, c in enumerate(countries)]
    rows.append(_session("b", "ip-b", ip_country="US", started_at=start))
    f = compute(make_tables(sessions=rows), "2025-12-01")
    assert f["a"]["ip_country_distinct_count"] == 3
    # US>KP>US>US>CN: 3 changes over 24 days (counted as 30).
    assert f["a"]["ip_country_change_per_30d_ratio"] == pytest.approx(3.0)
    assert f["b"]["ip_country_change_per_30d_ratio"] == 0.0


def test_ip_country_churn_scales_with_span_and_ignores_sessions_after_t():
    rows = [_session("a", "ip", ip_country=c, started_at=datetime(2025, 1, 1) + timedelta(days=d))
            for d, c in [(0, "US"), (30, "RU"), (60, "US"), (400, "CN")]]
    f = compute(make_tables(sessions=rows), "2025-12-01")["a"]
    assert f["ip_country_change_per_30d_ratio"] == pytest.approx(1.0)  # 2 changes, 60 days
    assert f["ip_country_distinct_count"] == 2


def test_pairs_table_lists_both_directions_of_non_hub_links():
    tables = make_tables(sessions=[
        _session("a", "ip-home", ip_type="residential", device_token="dev"),
        _session("b", "ip-home", ip_type="mobile", device_token="dev"),
        _session("c", "ip-vpn", ip_type="vpn"), _session("a", "ip-vpn", ip_type="vpn"),
    ])
    with DuckDBEngine() as engine:
        assert load_tables(tables, engine, now=NOW).usable
        for name in ("accounts", "sessions"):
            engine.create_view(f"pit_{name}", f"SELECT * FROM {name}")
        engine.create_table("confirmed_accounts", "SELECT account_id FROM accounts WHERE 1 = 0")
        ctx = _Context(engine=engine, d=engine.dialect, as_of=parse_as_of("2025-12-01"),
                       available=frozenset({"accounts", "sessions"}))
        access_links.build(ctx)
        rows = engine.con.sql("SELECT * FROM access_account_pairs ORDER BY ALL").fetchall()
    assert rows == [("a", "b", "device"), ("a", "b", "ip"),
                    ("b", "a", "device"), ("b", "a", "ip")]


def test_without_sessions_access_signals_are_missing():
    f = compute(make_tables(accounts=[{"account_id": "a"}]))["a"]
    assert f["session_count"] is None
    assert f["residential_ip_shared_account_count"] is None
    assert f["remote_access_session_ratio"] is None


def test_account_without_sessions_gets_zero_counts_and_null_ratios():
    f = compute(make_tables(accounts=[{"account_id": "z"}], sessions=[_session("a")]))["z"]
    assert f["session_count"] == 0
    assert f["residential_ip_shared_account_count"] == 0
    assert f["remote_access_session_ratio"] is None
    assert f["ip_country_change_per_30d_ratio"] is None
