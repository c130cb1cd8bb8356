"""Tests of the synthetic marketplace generator (accountrisk.synthetic)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zoneinfo
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from accountrisk.features.contract import (
    ACTIVITY_KINDS,
    IP_TYPES,
    LABEL_SOURCES,
    PAYOUT_METHODS,
    TABLES,
    arrow_schema,
)
from accountrisk.synthetic import generate

END = datetime(2026, 10, 1)
CONTRACT_FILES = [t.file_name for t in TABLES]
ALL_FILES = CONTRACT_FILES + ["ground_truth.parquet", "generation.json"]
PHASH = re.compile(r"^[0-9a-f]{16}$")
COUNTRY = re.compile(r"^[A-Z]{2}$")
LOOKALIKES = {
    "vpn_user",
    "household",
    "coworking",
    "agency",
    "it_support",
    "crypto",
    "traveler",
    "night_owl",
    "nomad",
}
# Tables of an account's own dated events (table, time column).
ACCOUNT_EVENT_TABLES = (
    ("sessions", "started_at"),
    ("activity", "ts"),
    ("payouts", "paid_at"),
    ("payout_methods", "added_at"),
    ("portfolio_items", "added_at"),
)
EVASIONS = {"us_hours", "browser_spoof", "own_payout", "fresh_portfolio", "residential_proxy"}


@pytest.fixture(scope="module")
def world5k(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("synthetic5k")
    calls: list[tuple[str, float]] = []
    summary = generate(out, accounts=5000, seed=7, progress=lambda step, f: calls.append((step, f)))
    (out / "_calls.json").write_text(json.dumps(calls))
    assert summary["accounts"]["total"] == 5000
    return out


@pytest.fixture(scope="module")
def small_pair(tmp_path_factory) -> tuple[Path, Path, Path]:
    a, b, c = (tmp_path_factory.mktemp(name) for name in ("a", "b", "c"))
    generate(a, accounts=2000, seed=3)
    generate(b, accounts=2000, seed=3)
    generate(c, accounts=2000, seed=4)
    return a, b, c


def read(folder: Path, name: str):
    return pq.read_table(folder / f"{name}.parquet")


def col(folder: Path, name: str, column: str) -> list:
    return read(folder, name).column(column).to_pylist()


def test_same_seed_gives_identical_files(small_pair):
    a, b, _ = small_pair
    for name in ALL_FILES:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_different_seed_gives_different_data(small_pair):
    a, _, c = small_pair
    for name in ("accounts.parquet", "sessions.parquet", "activity.parquet", "ground_truth.parquet"):
        assert (a / name).read_bytes() != (c / name).read_bytes(), name
    assert col(a, "sessions", "ip_token")[:50] != col(c, "sessions", "ip_token")[:50]


def test_determinism_does_not_depend_on_python_hash_seed(small_pair, tmp_path):
    a, _, _ = small_pair
    code = (
        "import sys; from accountrisk.synthetic import generate; "
        "generate(sys.argv[1], accounts=2000, seed=3)"
    )
    env = dict(os.environ, PYTHONHASHSEED="12345")
    subprocess.run([sys.executable, "-c", code, str(tmp_path)], check=True, env=env)
    for name in ALL_FILES:
        assert (a / name).read_bytes() == (tmp_path / name).read_bytes(), name


def test_every_table_has_the_contract_schema(world5k):
    for t in TABLES:
        schema = pq.read_schema(world5k / t.file_name).remove_metadata()
        expected = arrow_schema(t.name)
        if t.open_columns:
            assert schema.field(0).equals(expected.field(0))
            assert len(schema) > 1
            for field in list(schema)[1:]:
                assert str(field.type) in {"string", "double", "int64", "bool"}, field
        else:
            assert schema.equals(expected), (t.name, schema, expected)
        assert pq.read_metadata(world5k / t.file_name).num_rows > 0, t.name


def test_row_counts_match_the_summary(world5k):
    summary = json.loads((world5k / "generation.json").read_text())
    for name, rows in summary["rows"].items():
        assert pq.read_metadata(world5k / f"{name}.parquet").num_rows == rows, name
    n = summary["accounts"]["total"]
    per_account = {
        k: summary["rows"][k] / n
        for k in ("sessions", "activity", "payout_methods", "payouts", "portfolio_items", "account_links")
    }
    assert 15 <= per_account["sessions"] <= 25, per_account
    assert 40 <= per_account["activity"] <= 80, per_account
    assert 0.9 <= per_account["payout_methods"] <= 1.5, per_account
    assert 3 <= per_account["payouts"] <= 7, per_account
    assert 1.1 <= per_account["portfolio_items"] <= 2.0, per_account
    assert 0.3 <= per_account["account_links"] <= 0.8, per_account


def test_enumerations_and_formats(world5k):
    zones = zoneinfo.available_timezones()
    acc = read(world5k, "accounts")
    assert set(acc.column("claimed_timezone").to_pylist()) <= zones
    assert all(COUNTRY.match(c) for c in acc.column("claimed_country").to_pylist())
    assert len(set(acc.column("account_id").to_pylist())) == acc.num_rows
    photos = [p for p in acc.column("profile_photo_phash").to_pylist() if p is not None]
    assert photos and all(PHASH.match(p) for p in photos)
    s = read(world5k, "sessions")
    assert set(s.column("ip_type").drop_null().to_pylist()) <= set(IP_TYPES)
    assert all(COUNTRY.match(c) for c in s.column("ip_country").drop_null().to_pylist())
    offsets = np.array(s.column("browser_utc_offset_min").drop_null().to_pylist())
    assert offsets.min() >= -720 and offsets.max() <= 840
    assert min(s.column("asn").drop_null().to_pylist()) >= 0
    assert all(t for t in s.column("ip_token").to_pylist())
    assert set(col(world5k, "activity", "kind")) <= set(ACTIVITY_KINDS)
    pm = read(world5k, "payout_methods")
    assert set(pm.column("method").to_pylist()) <= set(PAYOUT_METHODS)
    assert all(COUNTRY.match(c) for c in pm.column("destination_country").drop_null().to_pylist())
    assert min(col(world5k, "payouts", "amount_usd")) >= 0
    items = read(world5k, "portfolio_items")
    assert len(set(items.column("item_id").to_pylist())) == items.num_rows
    assert all(PHASH.match(p) for p in items.column("image_phash").drop_null().to_pylist())
    labels = read(world5k, "labels")
    assert set(labels.column("label").to_pylist()) <= {0, 1}
    assert set(labels.column("source").drop_null().to_pylist()) <= set(LABEL_SOURCES)
    assert len(set(labels.column("account_id").to_pylist())) == labels.num_rows
    links = read(world5k, "account_links")
    assert set(links.column("kind").to_pylist()) <= {"same_client", "co_worked", "messaged"}
    pairs = {
        tuple(sorted(p))
        for p in zip(links.column("account_id").to_pylist(), links.column("other_account_id").to_pylist())
    }
    assert len(pairs) == links.num_rows and all(a != b for a, b in pairs)


def test_time_window_and_sorting(world5k):
    import duckdb

    con = duckdb.connect()
    created = con.execute(
        f"select min(created_at), max(created_at) from '{world5k}/accounts.parquet'"
    ).fetchone()
    assert created[0] >= END - timedelta(days=900) and created[1] <= END - timedelta(days=14)
    for table, ts in ACCOUNT_EVENT_TABLES:
        path = f"{world5k}/{table}.parquet"
        assert con.execute(f"select max({ts}) from '{path}'").fetchone()[0] <= END, table
        before_signup = con.execute(
            f"select count(*) from '{path}' t join '{world5k}/accounts.parquet' a "
            f"using (account_id) where t.{ts} < a.created_at"
        ).fetchone()[0]
        assert before_signup == 0, table
        unsorted = con.execute(f"""select count(*) from (select account_id, {ts},
            lag(account_id) over () as pa, lag({ts}) over () as pt from '{path}')
            where pa > account_id or (pa = account_id and pt > {ts})""").fetchone()[0]
        assert unsorted == 0, table


def test_no_rows_after_a_ban(world5k):
    import duckdb

    con = duckdb.connect()
    banned = con.execute(f"select count(*) from '{world5k}/labels.parquet' where label = 1").fetchone()[0]
    assert banned > 0
    for table, ts in ACCOUNT_EVENT_TABLES:
        late = con.execute(
            f"select count(*) from '{world5k}/{table}.parquet' t join '{world5k}/labels.parquet' l "
            f"using (account_id) where l.label = 1 and t.{ts} >= l.decided_at"
        ).fetchone()[0]
        assert late == 0, table


def test_ground_truth_rings_and_labels(world5k):
    gt = read(world5k, "ground_truth").to_pylist()
    ids = set(col(world5k, "accounts", "account_id"))
    fronted = [r for r in gt if r["is_fronted"]]
    assert {r["account_id"] for r in gt} == ids
    assert 0.007 <= len(fronted) / len(gt) <= 0.013
    rings: dict[str, int] = {}
    for r in fronted:
        assert (
            r["account_id"] in ids and r["ring_id"] and r["scheme"] in {"laptop_farm", "proxy_ring", "rented"}
        )
        assert r["lookalike"] is None
        assert (r["takeover_at"] is not None) == (r["scheme"] == "rented")
        rings[r["ring_id"]] = rings.get(r["ring_id"], 0) + 1
    assert all(size >= 3 for size in rings.values())
    assert all(
        r["scheme"] is None and r["ring_id"] is None and r["evasions"] == ""
        for r in gt
        if not r["is_fronted"]
    )
    labels = {r["account_id"]: r for r in read(world5k, "labels").to_pylist()}
    assert 0.03 <= len(labels) / len(gt) <= 0.06
    confirmed = sum(1 for r in fronted if labels.get(r["account_id"], {}).get("label") == 1)
    assert 0.2 <= confirmed / len(fronted) <= 0.9
    decided = [r["decided_at"] for r in labels.values()]
    assert min(decided) >= END - timedelta(days=560) and max(decided) <= END


def test_lookalikes_and_evasions_all_present(world5k):
    gt = read(world5k, "ground_truth").to_pylist()
    assert {r["lookalike"] for r in gt if r["lookalike"]} == LOOKALIKES
    seen = {e for r in gt for e in r["evasions"].split(",") if e}
    assert seen == EVASIONS
    summary = json.loads((world5k / "generation.json").read_text())
    assert 0.25 <= summary["lookalike_share"] <= 0.4


def _canonical(url: str) -> str:
    url = url.lower().rstrip("/")
    url = re.sub(r"^https?://", "", url)
    return url[4:] if url.startswith("www.") else url


def test_recycled_portfolio_is_near_duplicate_and_newer(world5k):
    """Ring copies of honest items: same link typed differently, image 1-4 bits away, newer."""
    gt = {r["account_id"]: r for r in read(world5k, "ground_truth").to_pylist()}
    items = [i for i in read(world5k, "portfolio_items").to_pylist() if i["url"] and i["image_phash"]]
    honest: dict[str, list] = {}
    for i in items:
        if not gt[i["account_id"]]["is_fronted"]:
            honest.setdefault(_canonical(i["url"]), []).append(i)
    copies = 0
    for item in items:
        originals = honest.get(_canonical(item["url"]), []) if gt[item["account_id"]]["is_fronted"] else []
        if originals:
            dist = [
                bin(int(item["image_phash"], 16) ^ int(o["image_phash"], 16)).count("1") for o in originals
            ]
            assert any(1 <= d <= 4 and o["added_at"] < item["added_at"] for d, o in zip(dist, originals))
            assert 0 not in dist  # never an exact copy of the image
            copies += 1
    assert copies > 0


def test_dst_offsets_for_new_york(world5k):
    import duckdb

    both = (
        duckdb.connect()
        .execute(f"""
        select count(*) from (select account_id, count(distinct browser_utc_offset_min) filter
            (where browser_utc_offset_min in (-300, -240)) as n
        from '{world5k}/sessions.parquet' s join '{world5k}/accounts.parquet' a using (account_id)
        where a.claimed_timezone = 'America/New_York' group by account_id) where n = 2""")
        .fetchone()[0]
    )
    assert both > 0


def test_progress_reports_fractions(world5k):
    calls = json.loads((world5k / "_calls.json").read_text())
    assert calls and all(0.0 <= f <= 1.0 for _, f in calls)
    assert calls[-1] == ["done", 1.0]
    fractions = [f for _, f in calls]
    assert fractions == sorted(fractions)
    assert any(step == "sessions" for step, _ in calls)
