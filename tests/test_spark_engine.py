"""The same signal definitions on DuckDB and on Spark give the same features.

One Spark session serves every test (the ``spark_engine`` fixture); without Java or pyspark
these tests are skipped with the reason.
"""

from __future__ import annotations

import math
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from accountrisk.features.api import compute_features
from accountrisk.features.engine import DuckDBEngine
from accountrisk.features.errors import ContractError
from accountrisk.features.load import load_folder, load_tables
from accountrisk.features.pipeline import build_features
from accountrisk.features.signals.access import HUB_ACCOUNTS
from accountrisk.synthetic import generate
from tests.conftest import NOW, make_tables

pytestmark = pytest.mark.spark

REL = 1e-9


def mismatches(duck: pa.Table, spark: pa.Table, limit: int = 12) -> list[str]:
    """Differences between two feature tables: integer-valued columns exactly, other
    numbers to ``REL`` relative, NULL only equal to NULL; the first ``limit`` as text."""
    assert spark.column_names == duck.column_names
    ids = duck.column("account_id").to_pylist()
    assert spark.column("account_id").to_pylist() == ids
    found: list[str] = []
    for name in duck.column_names[1:]:
        want, got = duck.column(name).to_pylist(), spark.column(name).to_pylist()
        exact = all(not isinstance(v, float) or v.is_integer() for v in want if v is not None)
        for account, a, b in zip(ids, want, got):
            if a is None or b is None:
                same = a is None and b is None
            elif isinstance(a, float) and not exact:
                same = (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=REL)
            else:
                same = a == b
            if not same:
                found.append(f"{name} account {account}: duckdb {a!r}, spark {b!r}")
    return found[:limit] + ([f"... {len(found) - limit} more"] if len(found) > limit else [])


def problem_keys(report) -> list[tuple]:
    """Each problem without its rendered value (engines print NaN and times differently)."""
    return sorted((p.severity, p.table, p.column or "", p.reason, p.row or -1,
                   p.account_id or "") for p in report.problems)


def plant_bad_rows(folder: Path) -> dict[tuple[str, str, str], int]:
    """Break a few rows of a generated folder; the quarantine each must cause (at least)."""
    accounts = pq.read_table(folder / "accounts.parquet").to_pylist()
    accounts[1]["claimed_timezone"] = "Mars/Olympus_Mons"
    accounts[2]["claimed_country"] = "XX"
    accounts[3]["profile_photo_phash"] = "0123456789abcdeG"
    accounts[4]["profile_photo_phash"] = "0123456789abcdef\n"
    accounts[5]["created_at"] = datetime(2099, 1, 1)
    accounts.append(dict(accounts[6]))  # duplicate key: both rows go
    pq.write_table(pa.Table.from_pylist(accounts, pq.read_schema(folder / "accounts.parquet")),
                   folder / "accounts.parquet")
    sessions = pq.read_table(folder / "sessions.parquet")
    ghost = sessions.slice(0, 1).to_pylist()[0] | {"account_id": "no-such-account"}
    sessions = pa.concat_tables([sessions, pa.Table.from_pylist([ghost], sessions.schema)])
    pq.write_table(sessions, folder / "sessions.parquet")
    payouts = pq.read_table(folder / "payouts.parquet").to_pylist()
    payouts[0]["amount_usd"] = float("nan")
    payouts[1]["amount_usd"] = float("inf")
    pq.write_table(pa.Table.from_pylist(payouts, pq.read_schema(folder / "payouts.parquet")),
                   folder / "payouts.parquet")
    return {("accounts", "claimed_timezone", "bad_timezone"): 1,
            ("accounts", "claimed_country", "bad_country"): 1,
            ("accounts", "profile_photo_phash", "bad_phash"): 2,
            ("accounts", "created_at", "bad_timestamp"): 1,
            ("accounts", "account_id", "duplicate_key"): 2,
            ("sessions", "account_id", "unknown_account"): 1,
            ("payouts", "amount_usd", "not_finite"): 2}


@pytest.fixture(scope="module")
def marketplace(tmp_path_factory) -> tuple[Path, datetime]:
    folder = tmp_path_factory.mktemp("market")
    summary = generate(folder, accounts=1500, seed=11)
    return folder, datetime.fromisoformat(summary["suggested_as_of"]) - timedelta(days=45)


def test_generated_marketplace_with_bad_rows_same_report_and_features(
        marketplace, spark_engine, tmp_path):
    from accountrisk.features.spark import load_folder_spark

    source, as_of = marketplace
    folder = tmp_path / "bad"
    shutil.copytree(source, folder)
    planted = plant_bad_rows(folder)
    with DuckDBEngine() as duck:
        want_report = load_folder(folder, duck, now=NOW + timedelta(days=3650))
        want = build_features(duck, as_of)
        want_quarantine = duck.arrow("SELECT table_name, reason, count(*) AS n FROM quarantine "
                                     "GROUP BY ALL ORDER BY ALL").to_pylist()
        want_columns = {t: duck.columns(t) for t in ("accounts", "payouts",
                                                      "account_attributes")}
    got_report = load_folder_spark(folder, spark_engine, now=NOW + timedelta(days=3650))
    got_quarantine = spark_engine.arrow("SELECT table_name, reason, count(*) AS n FROM "
                                        "quarantine GROUP BY ALL ORDER BY ALL").to_pylist()
    for key, count in planted.items():  # other tables' rows of quarantined accounts go too
        assert want_report.quarantined.get(key, 0) >= count, key
    assert {k: v for k, v in want_report.quarantined.items() if k[0] == "accounts"} == {
        k: v for k, v in planted.items() if k[0] == "accounts"}
    assert got_report.quarantined == want_report.quarantined
    assert got_report.loaded_rows == want_report.loaded_rows
    assert problem_keys(got_report) == problem_keys(want_report)
    assert got_quarantine == want_quarantine
    assert {t: spark_engine.columns(t) for t in want_columns} == want_columns
    got = build_features(spark_engine, as_of)
    assert want.num_rows > 1000
    assert not (diff := mismatches(want, got)), "features differ:\n" + "\n".join(diff)
    # Every neighbour aggregate is among the compared columns, and they carry values.
    neighbours = [c for c in want.column_names if c.startswith("nbr_")]
    relations = {c.split("_account_count")[0] for c in neighbours if c.endswith("_account_count")
                 and "_mean_" not in c and "_max_" not in c and "_std_" not in c}
    assert relations == {f"nbr_{r}" for r in ("same_client", "co_worked", "messaged", "payout",
                                              "access", "portfolio")}
    assert sum(want.column(c).null_count < want.num_rows for c in neighbours) > 150


def test_compute_features_on_spark_matches_duckdb_and_rejects_like_it(
        marketplace, spark_engine, tmp_path):
    source, as_of = marketplace
    bad = tmp_path / "no_accounts"
    bad.mkdir()
    pq.write_table(pq.read_table(source / "labels.parquet"), bad / "labels.parquet")
    with pytest.raises(ContractError) as duck_error:
        compute_features(bad, as_of, workdir=tmp_path / "work")
    with pytest.raises(ContractError) as spark_error:
        compute_features(bad, as_of, engine="spark")
    assert str(spark_error.value) == str(duck_error.value)
    assert spark_error.value.problems == duck_error.value.problems


# -- hand-written edge cases -------------------------------------------------------------
def acts(account, times):
    return [{"account_id": account, "ts": t} for t in times]


def flip_bits(hex_hash: str, bits: int) -> str:
    """``hex_hash`` with ``bits`` bits flipped: 5 in the low byte, 6 higher up (so the two
    copies are 11 bits apart, and each is a copy of the original or not on its own)."""
    shift = 0 if bits <= 5 else 32
    return f"{int(hex_hash, 16) ^ (((1 << bits) - 1) << shift):016x}"


def week_shape_moments() -> list[datetime]:
    """Lord Howe (+10:30 in July) work on 14 local days with a break, each at the instants
    either side of local midnight (13:30 UTC) and of a Friday/Saturday turn."""
    moments = []
    for day in [*range(1, 11), 21, 22, 26, 27]:
        moments += [datetime(2025, 7, day, 13, 29, 59, 500000), datetime(2025, 7, day, 13, 30),
                    datetime(2025, 7, day, 20, 15)]
    return moments


def route_sessions() -> list[dict]:
    """Sessions of one account over tunnels and several countries (a tie for the most
    common one), with browser clocks near and far from the claimed zone."""
    kinds = [("vpn", "DE", 120), ("hosting", "FR", 60), ("residential", "DE", -300),
             ("residential", "FR", -240), ("proxy", "KP", 540), (None, None, None),
             ("mobile", "US", -420)]
    return [{"account_id": "router", "ip_token": f"route-{i % 5}", "ip_type": t,
             "ip_country": c, "browser_utc_offset_min": off,
             "started_at": datetime(2025, 7, 4 + i, 3 + 3 * i)}
            for i, (t, c, off) in enumerate(kinds)]


def edge_tables() -> dict[str, pa.Table]:
    base = "9f3a5c7e1b2d4f60"
    text = ("built a realtime logistics dashboard with kafka streams postgres and react for a "
            "freight broker handling twelve thousand shipments a day")
    zones = [("chicago", "US", "America/Chicago"), ("lordhowe", "AU", "Australia/Lord_Howe"),
             ("kathmandu", "NP", "Asia/Kathmandu")]
    accounts = [{"account_id": a, "claimed_country": c, "claimed_timezone": z,
                 "created_at": datetime(2024, 1, 1, 0, 0, 0, 500000)} for a, c, z in zones]
    accounts += [{"account_id": "photo5", "profile_photo_phash": flip_bits(base, 5)},
                 {"account_id": "photo6", "profile_photo_phash": flip_bits(base, 6)},
                 {"account_id": "photo0", "profile_photo_phash": base}]
    # Around each zone's 2025 DST changes (Chicago 9 Mar / 2 Nov, Lord Howe half an hour on
    # 6 Apr / 5 Oct), plus Kathmandu's +05:45 all year; some at half-second instants.
    moments = [datetime(2025, 3, 9, 7, 59, 59), datetime(2025, 3, 9, 8, 0, 0, 500000),
               datetime(2025, 11, 2, 6, 30), datetime(2025, 11, 2, 7, 30),
               datetime(2025, 4, 5, 14, 45), datetime(2025, 4, 5, 15, 15),
               datetime(2025, 10, 4, 15, 45), datetime(2025, 10, 4, 16, 15),
               datetime(2025, 6, 1, 18, 14, 59, 500000), datetime(2025, 6, 1, 18, 15)]
    activity = [row for a, _, _ in zones for row in acts(a, moments * 2)]
    sessions = [{"account_id": a, "started_at": m, "browser_utc_offset_min": off,
                 "ip_country": c, "ip_token": f"home-{a}"}
                for (a, c, _), off in zip(zones, (-300, 630, 345)) for m in moments]
    # A hub: more accounts than HUB_ACCOUNTS on one IP; a household of three on another.
    sessions += [{"account_id": f"hub{i:02d}", "ip_token": "crowd", "ip_type": "mobile",
                  "started_at": datetime(2025, 7, 1, i)} for i in range(HUB_ACCOUNTS + 2)]
    sessions += [{"account_id": f"home{i}", "ip_token": "house", "ip_type": "residential",
                  "device_token": "shared-laptop", "started_at": datetime(2025, 7, 2, i)}
                 for i in range(3)]
    items = [{"account_id": "img0", "item_id": "i0", "image_phash": base,
              "added_at": datetime(2025, 2, 1)},
             {"account_id": "img5", "item_id": "i5", "image_phash": flip_bits(base, 5),
              "added_at": datetime(2025, 3, 1)},
             {"account_id": "img6", "item_id": "i6", "image_phash": flip_bits(base, 6)},
             {"account_id": "txt0", "item_id": "t0", "description": text,
              "url": "https://www.GitHub.com/acme/dash/?utm=1"},
             {"account_id": "txt1", "item_id": "t1", "description": text.upper() + "!!",
              "url": "http://github.com/acme/dash#top"},
             {"account_id": "txt2", "item_id": "t2", "added_at": datetime(2025, 4, 1),
              "description": text.replace("twelve", "eleven").replace("kafka", "pulsar")}]
    payout_methods = [{"account_id": f"hub{i:02d}", "payout_token": "p-shared",
                       "method": "crypto" if i % 3 else "bank",
                       "destination_country": "KP" if i % 2 else "US"} for i in range(3)]
    activity += acts("lordhowe", week_shape_moments())
    sessions += route_sessions()
    return make_tables(accounts=accounts, activity=activity, sessions=sessions,
                       portfolio_items=items, payout_methods=payout_methods,
                       account_links=[{"account_id": "home0", "other_account_id": "txt0"}],
                       labels=[{"account_id": "img0", "label": 1}])


def same_on_both(spark_engine, tables, as_of, now) -> dict[str, dict]:
    """Load ``tables`` on DuckDB and Spark, build every feature on both, assert they are
    equal; the DuckDB rows by account id."""
    from accountrisk.features.spark import load_tables_spark

    with DuckDBEngine() as duck:
        assert load_tables(tables, duck, now=now).usable
        want = build_features(duck, as_of)
    assert load_tables_spark(tables, spark_engine, now=now).usable
    got = build_features(spark_engine, as_of)
    assert not (diff := mismatches(want, got)), "features differ:\n" + "\n".join(diff)
    return {r["account_id"]: r for r in want.to_pylist()}


def test_edge_cases_same_features(spark_engine):
    f = same_on_both(spark_engine, edge_tables(), datetime(2025, 12, 1), NOW)
    # The edge cases are exercised, not just equal.
    assert f["photo5"]["profile_photo_near_duplicate_account_count"] == 1  # 5 bits: a copy
    assert f["photo6"]["profile_photo_near_duplicate_account_count"] == 0  # 6 bits: not
    assert f["img5"]["portfolio_image_near_duplicate_account_count"] == 1
    assert f["img6"]["portfolio_image_near_duplicate_account_count"] == 0
    assert f["txt0"]["portfolio_text_near_duplicate_account_count"] == 2
    assert f["txt0"]["portfolio_link_shared_account_count"] == 1
    assert f["hub00"]["hub_ip_session_ratio"] == 1
    assert f["hub00"]["residential_ip_shared_account_count"] == 0
    assert f["home0"]["residential_ip_shared_account_count"] == 2
    assert f["chicago"]["activity_count"] == 20
    lordhowe = f["lordhowe"]
    assert lordhowe["activity_longest_break_days"] is not None
    assert lordhowe["activity_claimed_weekend_ratio"] > 0
    assert lordhowe["session_claimed_night_ratio"] is not None
    router = f["router"]
    assert router["routed_session_ratio"] == pytest.approx(3 / 6)
    assert router["is_usual_ip_country_abroad"] == 1  # DE and FR tie: DE
    assert router["browser_offset_gap_distinct_count"] == 6


def test_thin_export_same_features(spark_engine):
    """Only accounts, sessions and labels: the login-hour signals on both engines."""
    tables = {name: table for name, table in edge_tables().items()
              if name in ("accounts", "sessions", "labels")}
    f = same_on_both(spark_engine, tables, datetime(2025, 12, 1), NOW)
    assert f["chicago"]["activity_claimed_night_ratio"] is None
    assert f["chicago"]["session_claimed_night_ratio"] is not None
    assert f["kathmandu"]["session_implied_offset_gap_hours"] is not None


def zone_edge_tables() -> dict[str, pa.Table]:
    """Zones where the engines' own tz databases disagreed with tzdata 2026f (Casablanca
    from 20 Sep 2026, Vancouver and Havana from 1 Nov 2026, Chisinau at its changes)."""
    zones = [("casablanca", "MA", "Africa/Casablanca"), ("vancouver", "CA", "America/Vancouver"),
             ("havana", "CU", "America/Havana"), ("chisinau", "MD", "Europe/Chisinau")]
    accounts = [{"account_id": a, "claimed_country": c, "claimed_timezone": z}
                for a, c, z in zones]
    moments = [datetime(2026, 9, 25, 23, 30), datetime(2026, 10, 1, 5, 30),
               datetime(2026, 10, 25, 0, 59, 59), datetime(2026, 10, 25, 1, 0, 0, 500000),
               datetime(2026, 11, 1, 8, 59), datetime(2026, 11, 1, 9, 1),
               datetime(2026, 11, 15, 5, 30), datetime(2026, 11, 20, 13, 30)]
    sessions = [{"account_id": a, "started_at": m, "browser_utc_offset_min": off}
                for (a, _, _), off in zip(zones, (60, -420, -240, 120)) for m in moments]
    return make_tables(accounts=accounts,
                       activity=[row for a, _, _ in zones for row in acts(a, moments)],
                       sessions=sessions)


def test_zone_edge_cases_same_features_as_tzdata(spark_engine):
    as_of = datetime(2026, 11, 29)
    f = same_on_both(spark_engine, zone_edge_tables(), as_of, as_of)
    # Casablanca stays on +01:00 (tzdata): 23:30, 00:59 and 01:00 UTC are local night.
    assert f["casablanca"]["activity_claimed_night_ratio"] == pytest.approx(3 / 8)
    assert f["casablanca"]["browser_offset_mismatch_session_ratio"] == 0
    assert f["vancouver"]["browser_offset_mismatch_session_ratio"] == pytest.approx(3 / 8)


def dense_tables() -> dict[str, pa.Table]:
    """A small dense graph: 80 accounts, each tied to ~25 others by three marketplace kinds
    (some pairs repeated, six rare kinds merged), a hub tied to everyone, shared payout
    destinations, IPs and devices, labels before and after T, and attributes with equal,
    missing (null or NaN) and boolean values."""
    import random

    rng = random.Random(5)
    ids = [f"u{i:02d}" for i in range(80)]
    kinds = ["co_worked"] * 6 + ["messaged"] * 3 + ["same_client"] * 2 + ["k1", "k2", "k3"]
    links = [{"account_id": a, "other_account_id": b, "kind": rng.choice(kinds),
              "linked_at": rng.choice([None, datetime(2025, 3, 1), datetime(2025, 12, 20)])}
             for a in ids for b in rng.sample(ids, 13) if a != b]
    links += [{"account_id": "hub", "other_account_id": a, "kind": "co_worked"} for a in ids]
    sessions = [{"account_id": a, "ip_token": f"ip{rng.randrange(12)}",
                 "ip_type": rng.choice(["residential", "vpn", "mobile"]),
                 "device_token": f"d{rng.randrange(30)}", "ip_country": rng.choice(["US", "KP"]),
                 "remote_access_tool": rng.choice([None, None, "anydesk"]),
                 "started_at": datetime(2025, rng.randrange(1, 12), rng.randrange(1, 28),
                                        rng.randrange(24))}
                for a in ids for _ in range(3)]
    payouts = [{"account_id": a, "payout_token": f"p{rng.randrange(25)}"} for a in ids]
    labels = [{"account_id": a, "label": rng.randrange(2),
               "decided_at": rng.choice([datetime(2025, 4, 1), datetime(2025, 12, 15)])}
              for a in rng.sample(ids, 30)]
    activity = [{"account_id": a, "ts": datetime(2025, 6, rng.randrange(1, 28),
                                                 rng.randrange(24))}
                for a in ids for _ in range(4)]
    tables = make_tables(account_links=links, sessions=sessions, payout_methods=payouts,
                         labels=labels, activity=activity)
    every = [r["account_id"] for r in tables["accounts"].to_pylist()]
    tables["account_attributes"] = pa.table({
        "account_id": every,
        "rating": [rng.choice([None, 3.3, 4.1, 4.7, math.nan]) for _ in every],
        "same": [0.1] * len(every),  # equal values: spread exactly 0 on both engines
        "is_verified": [rng.random() < 0.7 for _ in every],
        "jobs": pa.array([rng.randrange(200) for _ in every], pa.int64()),
        "tier": [rng.choice(["a", "b"]) for _ in every]})
    return tables


def test_dense_neighbour_aggregates_same_features(spark_engine):
    f = same_on_both(spark_engine, dense_tables(), datetime(2025, 12, 1), NOW)
    hub = f["hub"]
    assert hub["nbr_co_worked_account_count"] >= 80
    assert f["u00"]["nbr_other_link_account_count"] > 0  # k1..k3 merged
    assert 0 < hub["nbr_co_worked_confirmed_ratio"] < 1
    assert hub["nbr_co_worked_std_attr_same"] == 0
    assert hub["nbr_co_worked_std_attr_rating"] > 0
    assert f["u00"]["nbr_payout_account_count"] + f["u00"]["nbr_access_account_count"] > 0
    assert any(r["nbr_co_worked_two_hop_confirmed_ratio"] for r in f.values())
