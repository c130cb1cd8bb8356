"""The browser clock against the claimed zone and the IP's country (``clock_place``)."""

from datetime import datetime

import pytest

from accountrisk.features.signals.working_hours.clock_place import (
    country_clock_offsets,
    country_zones,
)
from tests.conftest import compute, make_tables

JUNE = datetime(2025, 6, 1, 15)  # New York is on -240 (EDT)


def sess(account, offset, country, started_at=JUNE):
    return {"account_id": account, "started_at": started_at,
            "browser_utc_offset_min": offset, "ip_country": country}


def test_country_offsets_cover_every_zone_of_the_country_summer_and_winter():
    table = country_clock_offsets(["US", "TH", "XX", "USA"], 20089, 20454)  # 2025
    rows = {(r["country"], r["offset_minutes"]) for r in table.to_pylist()}
    assert {("US", -300), ("US", -240), ("US", -420), ("US", -600)} <= rows
    assert ("TH", 420) in rows and ("TH", 480) not in rows
    assert ("US", 480) not in rows
    assert {c for c, _ in rows} == {"US", "TH"}  # unknown codes are left out
    assert "Asia/Pyongyang" in country_zones()["KP"]


def test_a_nomad_clock_fits_its_connection_and_an_operator_clock_fits_nowhere():
    # A country a fifth of the sessions come from explains its clock on the other sessions.
    tables = make_tables(sessions=[
        # A nomad on a New York profile, living in Bangkok: Thai address, Thai clock.
        sess("nomad", 420, "TH"), sess("nomad", 420, "TH"), sess("nomad", -240, "US"),
        # The same nomad tunnelling home through a US VPN on some days: the Thai clock fits
        # the place most of its sessions show, not a hidden one.
        sess("nomad_vpn", 420, "TH"), sess("nomad_vpn", 420, "TH"), sess("nomad_vpn", 420, "US"),
        # An operator behind a US laptop farm keeping a Shanghai clock.
        *[sess("front", 480, "US")] * 4, sess("front", -240, "US"), sess("front", -240, "US"),
        sess("front", 480, "CN"),  # a slip (a seventh): the real address, the real clock
        # At home, and moved to the west coast (another US zone): nothing unusual.
        sess("home", -240, "US"), sess("moved", -420, "US"),
        # A VPN user: a Dutch exit, the claimed clock.
        sess("vpn", -240, "NL"),
    ])
    f = compute(tables)
    assert f["nomad"]["abroad_clock_fits_ip_session_ratio"] == pytest.approx(2 / 3)
    assert f["nomad"]["browser_clock_fits_nowhere_session_ratio"] == 0
    assert f["nomad_vpn"]["browser_clock_fits_nowhere_session_ratio"] == 0
    assert f["nomad_vpn"]["abroad_clock_fits_ip_session_ratio"] == pytest.approx(2 / 3)
    assert f["front"]["browser_clock_fits_nowhere_session_ratio"] == pytest.approx(4 / 7)
    assert f["front"]["abroad_clock_fits_ip_session_ratio"] == pytest.approx(1 / 7)
    for account in ("home", "moved", "vpn"):
        assert f[account]["browser_clock_fits_nowhere_session_ratio"] == 0, account
        assert f[account]["abroad_clock_fits_ip_session_ratio"] == 0, account


def test_unknown_clocks_and_countries_are_left_out_not_counted_as_mismatches():
    tables = make_tables(sessions=[
        sess("a", 480, "US"), sess("a", None, "US"), sess("a", 480, None),
        sess("a", 480, "USA"),  # not an ISO 3166 alpha-2 code
        sess("unknown", 480, "USA"), sess("unknown", None, "US"),
    ])
    f = compute(tables)
    assert f["a"]["browser_clock_fits_nowhere_session_ratio"] == 1
    assert f["unknown"]["browser_clock_fits_nowhere_session_ratio"] is None
    assert f["unknown"]["abroad_clock_fits_ip_session_ratio"] is None


def test_the_claimed_zone_is_judged_at_the_session_time_and_rows_from_t_on_are_ignored():
    tables = make_tables(sessions=[
        # -300 is New York's winter clock: in January it is the claimed zone's own.
        sess("a", -300, "NL", started_at=datetime(2025, 1, 15, 15)),
        # -300 in July is not New York's clock then, but it is a US zone's (Chicago):
        # from a Dutch address it fits neither.
        sess("a", -300, "NL", started_at=datetime(2025, 7, 15, 15)),
        sess("a", 480, "US", started_at=datetime(2025, 12, 1)),  # at T: not yet
    ])
    f = compute(tables, as_of="2025-12-01")
    assert f["a"]["browser_clock_fits_nowhere_session_ratio"] == pytest.approx(1 / 2)
