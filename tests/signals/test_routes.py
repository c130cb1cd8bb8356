import pytest

from tests.conftest import compute, make_tables


def session(account, ip="ip-x", **extra):
    return {"account_id": account, "ip_token": ip, **extra}


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


def test_usual_country_is_the_most_common_session_country():
    tables = make_tables(
        accounts=[{"account_id": "nomad", "claimed_country": "US"},
                  {"account_id": "traveller", "claimed_country": "US"},
                  {"account_id": "tie", "claimed_country": "FR"},
                  {"account_id": "unknown", "claimed_country": "US"}],
        sessions=[session("nomad", ip_country=c) for c in ("DE", "DE", "US", "FR", None, None)]
        + [session("traveller", ip_country=c) for c in ("US", "US", "US", "GB")]
        # Ties go to the first country code: DE before FR.
        + [session("tie", ip_country=c) for c in ("FR", "DE", "FR", "DE")]
        + [session("unknown", ip_country=None)])
    f = compute(tables)
    assert f["nomad"]["is_usual_ip_country_abroad"] == 1
    assert f["traveller"]["is_usual_ip_country_abroad"] == 0
    assert f["tie"]["is_usual_ip_country_abroad"] == 1
    assert f["unknown"]["is_usual_ip_country_abroad"] is None


def test_no_sessions_no_routes():
    f = compute(make_tables(accounts=[{"account_id": "a"}], sessions=[session("b")]))["a"]
    assert f["routed_session_ratio"] is None
    assert f["is_usual_ip_country_abroad"] is None
