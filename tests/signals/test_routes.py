import pytest

from tests.conftest import compute, make_tables


def session(account, ip="ip-x", **extra):
    return {"account_id": account, "ip_token": ip, **extra}


def test_addresses_per_session_need_five_sessions():
    tables = make_tables(sessions=[session("rotating", f"ip-{i}") for i in range(5)]
                         + [session("home", "ip-home") for _ in range(4)]
                         + [session("home", "ip-phone")]
                         + [session("few", f"ip-f{i}") for i in range(4)])
    f = compute(tables)
    assert f["rotating"]["ip_address_per_session_ratio"] == 1
    assert f["home"]["ip_address_per_session_ratio"] == pytest.approx(2 / 5)
    assert f["few"]["ip_address_per_session_ratio"] is None


def test_routed_sessions_count_tunnels_and_data_centers_of_known_type():
    tables = make_tables(sessions=[session("a", "v", ip_type="vpn"),
                                   session("a", "h", ip_type="hosting"),
                                   session("a", "t", ip_type="tor"),
                                   session("a", "r", ip_type="residential"),
                                   session("a", "b", ip_type="business"),
                                   session("a", "u", ip_type=None),
                                   session("n", "u", ip_type=None)])
    f = compute(tables)
    assert f["a"]["routed_session_ratio"] == pytest.approx(3 / 5)
    assert f["n"]["routed_session_ratio"] is None


def test_slips_are_sessions_from_a_third_country():
    tables = make_tables(
        accounts=[{"account_id": "nomad", "claimed_country": "US"},
                  {"account_id": "home", "claimed_country": "US"},
                  {"account_id": "tie", "claimed_country": "US"},
                  {"account_id": "unknown", "claimed_country": "US"}],
        sessions=[session("nomad", ip_country=c) for c in ("DE", "DE", "DE", "US", "FR", None)]
        + [session("home", ip_country=c) for c in ("US", "US", "US", "GB")]
        # A tie between the most common countries goes to the first code, DE.
        + [session("tie", ip_country=c) for c in ("FR", "DE", "FR", "DE")]
        + [session("unknown", ip_country=None)])
    f = compute(tables)
    assert f["nomad"]["ip_country_slip_session_ratio"] == pytest.approx(1 / 5)
    assert f["nomad"]["is_usual_ip_country_abroad"] == 1
    assert f["home"]["ip_country_slip_session_ratio"] == pytest.approx(1 / 4)
    assert f["home"]["is_usual_ip_country_abroad"] == 0
    assert f["tie"]["ip_country_slip_session_ratio"] == pytest.approx(1 / 2)
    assert f["tie"]["is_usual_ip_country_abroad"] == 1
    assert f["unknown"]["ip_country_slip_session_ratio"] is None
    assert f["unknown"]["is_usual_ip_country_abroad"] is None


def test_no_sessions_no_routes():
    f = compute(make_tables(accounts=[{"account_id": "a"}], sessions=[session("b")]))["a"]
    assert f["routed_session_ratio"] is None
    assert f["ip_country_slip_session_ratio"] is None
