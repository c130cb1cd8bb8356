"""Behaviour mode: fronted accounts are isolated cells that share nothing with anyone, yet
still show the behavioural tells, each only in part of them."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from accountrisk.synthetic import generate

FRONTED_SHARE = 0.03


@pytest.fixture(scope="module")
def cells(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("behaviour")
    generate(out, accounts=4000, seed=5, mode="behaviour", fronted_share=FRONTED_SHARE)
    return out


@pytest.fixture(scope="module")
def truth(cells) -> dict[str, dict]:
    return {r["account_id"]: r for r in pq.read_table(cells / "ground_truth.parquet").to_pylist()}


@pytest.fixture(scope="module")
def signals(cells, tmp_path_factory):
    """The project's own signals of every account, as of the end of the data."""
    from accountrisk.features.api import compute_features

    table = compute_features(cells, "2026-10-01", workdir=tmp_path_factory.mktemp("work"))
    return {r["account_id"]: r for r in table.to_pylist()}


def rows(folder: Path, name: str) -> list[dict]:
    return pq.read_table(folder / f"{name}.parquet").to_pylist()


def fronted_ids(truth) -> set[str]:
    return {a for a, r in truth.items() if r["is_fronted"]}


def _canonical(url: str) -> str:
    url = re.sub(r"^https?://", "", url.lower().rstrip("/"))
    return url[4:] if url.startswith("www.") else url


def _owners(values: list[tuple[str, object]]) -> dict[object, set[str]]:
    owners: dict[object, set[str]] = {}
    for account, value in values:
        if value is not None:
            owners.setdefault(value, set()).add(account)
    return owners


@pytest.mark.parametrize(
    "table,column",
    [
        ("payout_methods", "payout_token"),
        ("payouts", "payout_token"),
        ("sessions", "device_token"),
        ("sessions", "ip_token"),
        ("accounts", "profile_photo_phash"),
        ("portfolio_items", "image_phash"),
        ("portfolio_items", "url"),
    ],
)
def test_fronted_accounts_share_no_token_photo_image_or_link(cells, truth, table, column):
    fronted = fronted_ids(truth)
    norm = _canonical if column == "url" else (lambda v: v)
    values = [(r["account_id"], norm(r[column]) if r[column] else None) for r in rows(cells, table)]
    owners = _owners(values)
    used = [v for v, accounts in owners.items() if accounts & fronted]
    assert used, "fronted accounts have values to compare"
    assert [v for v in used if len(owners[v]) > 1] == []


@pytest.mark.parametrize(
    "table,column", [("accounts", "profile_photo_phash"), ("portfolio_items", "image_phash")]
)
def test_fronted_images_are_not_near_copies_either(cells, truth, table, column):
    fronted = fronted_ids(truth)
    pairs = [(r["account_id"], int(r[column], 16)) for r in rows(cells, table) if r[column]]
    mine = np.array([h for a, h in pairs if a in fronted], np.uint64)
    others = np.array([h for a, h in pairs if a not in fronted], np.uint64)
    xor = mine[:, None] ^ others[None, :]
    bits = np.unpackbits(xor.view(np.uint8).reshape(len(mine), len(others), 8), axis=2).sum(axis=2)
    assert len(mine) > 50 and bits.min() > 4  # honest re-encoded copies differ by 1-4 bits


def test_no_links_between_fronted_accounts(cells, truth):
    fronted = fronted_ids(truth)
    links = rows(cells, "account_links")
    touching = [r for r in links if r["account_id"] in fronted or r["other_account_id"] in fronted]
    assert touching, "fronted accounts keep some ordinary links"
    assert [r for r in touching if r["account_id"] in fronted and r["other_account_id"] in fronted] == []


def test_every_fronted_account_is_a_ring_of_one_without_takeovers(truth):
    fronted = [r for r in truth.values() if r["is_fronted"]]
    assert len(fronted) == round(4000 * FRONTED_SHARE)
    assert len({r["ring_id"] for r in fronted}) == len(fronted)
    assert len({r["facilitator_id"] for r in fronted}) == len(fronted)
    assert all(r["scheme"] in {"laptop_farm", "proxy_ring"} and r["takeover_at"] is None for r in fronted)
    assert all({"own_payout", "fresh_portfolio"} <= set(r["evasions"].split(",")) for r in fronted)


def test_fronted_accounts_are_caught_one_by_one(cells, truth):
    bans = [
        r["decided_at"]
        for r in rows(cells, "labels")
        if r["label"] == 1 and truth[r["account_id"]]["is_fronted"]
    ]
    share = len(bans) / len(fronted_ids(truth))
    assert 0.35 <= share <= 0.65
    per_hour = Counter(t.replace(minute=0, second=0) for t in bans)
    assert max(per_hour.values()) <= 2  # no enforcement wave bans several together
    assert (max(bans) - min(bans)).days > 180


def _values(signals, truth, name, fronted=True, evasion=None, without=None):
    out = []
    for account, row in signals.items():
        t = truth[account]
        if t["is_fronted"] != fronted or row[name] is None:
            continue
        evasions = set(t["evasions"].split(","))
        if (evasion and evasion not in evasions) or (without and without in evasions):
            continue
        out.append(row[name])
    return np.array(out, float)


def test_tells_show_in_aggregate(signals, truth):
    night = "activity_claimed_night_ratio"
    median = lambda name, fronted=True: np.median(_values(signals, truth, name, fronted))  # noqa: E731
    assert median(night) > median(night, False) + 0.25
    assert median("activity_active_days_per_week") > 1.5 * median("activity_active_days_per_week", False)
    share = lambda name, fronted=True: np.mean(_values(signals, truth, name, fronted) > 0)  # noqa: E731
    browser = "browser_offset_mismatch_session_ratio"
    assert share(browser) > 4 * share(browser, False)


@pytest.mark.parametrize(
    "name",
    [
        "browser_offset_mismatch_session_ratio",
        "remote_access_session_ratio",
        "anonymizer_session_ratio",
        "hosting_session_ratio",
        "ip_country_mismatch_session_ratio",
    ],
)
def test_each_session_tell_marks_some_fronted_accounts_but_not_all(signals, truth, name):
    fronted_share = np.mean(_values(signals, truth, name) > 0)
    legit_share = np.mean(_values(signals, truth, name, False) > 0)
    assert 0.3 <= fronted_share <= 0.9
    assert fronted_share > 2.5 * legit_share


def test_evaders_lack_the_tell_they_evade(signals, truth):
    night = "activity_claimed_night_ratio"
    us_hours = _values(signals, truth, night, evasion="us_hours")
    operator_hours = _values(signals, truth, night, without="us_hours")
    assert len(us_hours) >= 5 and np.median(us_hours) < 0.2 < np.median(operator_hours)
    browser = "browser_offset_mismatch_session_ratio"
    assert np.all(_values(signals, truth, browser, evasion="browser_spoof") == 0)
    assert np.mean(_values(signals, truth, browser, without="browser_spoof") > 0) > 0.7


def test_nothing_is_shared_in_the_signals_either(signals, truth):
    for name in ("payout_shared_account_count", "residential_ip_shared_account_count",
                 "device_shared_account_count", "portfolio_link_shared_account_count",
                 "portfolio_image_near_duplicate_account_count",
                 "profile_photo_near_duplicate_account_count"):
        assert np.all(_values(signals, truth, name) == 0), name
        assert np.any(_values(signals, truth, name, False) > 0), name  # it fires on honest sharing
