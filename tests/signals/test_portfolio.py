from datetime import datetime

from accountrisk.features.engine import DuckDBEngine
from accountrisk.features.load import load_tables
from accountrisk.features.neardup import COMMON_IMAGE_ACCOUNTS
from accountrisk.features.pipeline import build_features
from tests.conftest import NOW, compute, make_tables

BASE = "0123456789abcdef"
STORE = ("Built a full stack online store with React, Node and Postgres for a furniture "
         "retailer, including payments and an admin dashboard.")
STORE_EDIT = ("Built a full-stack online shop with React, Node and Postgres for a furniture "
              "retailer; including payments and an admin dashboard!")
SIX_AWAY = f"{int(BASE, 16) ^ 0x3f00:016x}"  # BASE with bits 8-13 flipped
BOILER = "Feel free to contact me about this project anytime. "


def flipped(bits: int) -> str:
    """BASE with its lowest ``bits`` bits flipped."""
    return f"{int(BASE, 16) ^ ((1 << bits) - 1):016x}"


def item(account, item_id, **columns):
    return {"account_id": account, "item_id": item_id, **columns}


def test_image_distance_zero_and_five_match_six_does_not():
    tables = make_tables(portfolio_items=[
        item("a", "a1", image_phash=BASE),
        item("b", "b1", image_phash=BASE),  # same hash
        item("c", "c1", image_phash=flipped(5)),  # at the threshold
        item("d", "d1", image_phash=SIX_AWAY),
    ])
    f = compute(tables)
    # a, b and c match one another; d is 6 bits from a and b, 11 bits from c.
    assert f["a"]["portfolio_image_near_duplicate_account_count"] == 2
    assert f["c"]["portfolio_image_near_duplicate_account_count"] == 2
    assert f["d"]["portfolio_image_near_duplicate_account_count"] == 0
    assert f["a"]["portfolio_item_count"] == 1


def test_links_are_compared_normalized():
    tables = make_tables(portfolio_items=[
        item("a", "a1", url="HTTPS://www.GitHub.com/x/"),
        item("b", "b1", url="github.com/x"),
        item("c", "c1", url="http://github.com/x?tab=repositories#readme"),
        item("d", "d1", url="github.com/xy"),
        item("a", "a2", url="github.com/x/"),  # the account's own second copy counts once
    ])
    f = compute(tables)
    assert f["a"]["portfolio_link_shared_account_count"] == 2
    assert f["b"]["portfolio_link_shared_account_count"] == 2
    assert f["d"]["portfolio_link_shared_account_count"] == 0
    assert f["a"]["portfolio_item_count"] == 2


def test_edited_description_matches_and_shared_boilerplate_does_not():
    rows = [item("a", "a1", description=STORE), item("b", "b1", description=STORE_EDIT),
            item("c", "c1", description="Logo design."),
            item("d", "d1", description="Logo design.")]
    for i in range(60):  # unrelated texts around the same boilerplate sentence
        rows.append(item(f"u{i}", f"u{i}", description=BOILER +
                         f"Project {i} was a mobile app about topic {i * 7}."))
    f = compute(make_tables(portfolio_items=rows))
    assert f["a"]["portfolio_text_near_duplicate_account_count"] == 1
    assert f["b"]["portfolio_text_near_duplicate_account_count"] == 1
    assert f["c"]["portfolio_text_near_duplicate_account_count"] == 0  # too short to judge
    assert f["u0"]["portfolio_text_near_duplicate_account_count"] == 0


def test_stock_image_used_by_many_accounts_is_not_evidence():
    cap = COMMON_IMAGE_ACCOUNTS
    stock = [item(f"s{i}", f"s{i}", image_phash=BASE) for i in range(cap + 1)]
    ring = [item(f"r{i}", f"r{i}", image_phash="ffff0000ffff0000") for i in range(cap)]
    f = compute(make_tables(portfolio_items=stock + ring))
    assert f["s0"]["portfolio_image_near_duplicate_account_count"] == 0
    assert f["r0"]["portfolio_image_near_duplicate_account_count"] == cap - 1


def test_copy_newer_ratio_marks_the_later_copy():
    tables = make_tables(portfolio_items=[
        item("orig", "o1", image_phash=BASE, added_at=datetime(2025, 1, 1)),
        item("orig", "o2", url="behance.net/p/1", added_at=datetime(2025, 3, 1)),
        item("orig", "o3", url="unrelated.dev", added_at=datetime(2025, 3, 1)),
        item("copier", "c1", image_phash=flipped(2), added_at=datetime(2025, 2, 1)),
        item("copier", "c2", url="https://behance.net/p/1/", added_at=datetime(2025, 2, 1)),
        item("alone", "x1", url="someone.dev"),
    ])
    f = compute(tables)
    # orig: its image is older, its link newer (copier showed it first): 1 of 2 matched items.
    assert f["orig"]["portfolio_copy_newer_ratio"] == 0.5
    assert f["copier"]["portfolio_copy_newer_ratio"] == 0.5
    assert f["alone"]["portfolio_copy_newer_ratio"] is None

    later = make_tables(portfolio_items=[
        item("orig", "o1", description=STORE, added_at=datetime(2025, 1, 1)),
        item("copier", "c1", description=STORE_EDIT, added_at=datetime(2025, 6, 1)),
    ])
    f = compute(later)
    assert f["orig"]["portfolio_copy_newer_ratio"] == 0.0
    assert f["copier"]["portfolio_copy_newer_ratio"] == 1.0


def test_confirmed_match_counts_other_accounts_confirmed_before_t():
    tables = make_tables(
        portfolio_items=[
            item("a", "a1", image_phash=BASE),
            item("bad", "b1", image_phash=flipped(1)),
            item("late", "l1", url="github.com/x"),
            item("a", "a2", url="github.com/x"),
        ],
        labels=[{"account_id": "bad", "label": 1, "decided_at": datetime(2025, 5, 1)},
                {"account_id": "late", "label": 1, "decided_at": datetime(2025, 12, 5)}],
    )
    f = compute(tables, "2025-12-01")
    assert f["a"]["portfolio_confirmed_match_account_count"] == 1
    assert f["bad"]["portfolio_confirmed_match_account_count"] == 0  # never its own label


def test_the_author_of_copied_work_is_no_ring_mate(monkeypatch):
    day = lambda m, d=1: datetime(2025, m, d)  # noqa: E731
    tables = make_tables(
        portfolio_items=[
            item("victim", "v1", image_phash=BASE, added_at=day(1)),
            item("bad", "b1", image_phash=flipped(1), added_at=day(6)),
            item("copy", "c1", image_phash=flipped(2), added_at=day(8)),
            # first on one item, but it copied another: no author
            item("front", "f1", image_phash=flipped(2), added_at=day(6, 15)),
            item("front", "f2", url="github.com/ring", added_at=day(3)),
            item("mate", "m1", url="github.com/ring", added_at=day(4)),
        ],
        labels=[{"account_id": "bad", "label": 1, "decided_at": day(7)}],
    )
    with DuckDBEngine() as engine:
        assert load_tables(tables, engine, now=NOW).usable
        monkeypatch.setattr(engine, "drop", lambda names: None)
        f = {r["account_id"]: r for r in build_features(engine, "2025-12-01").to_pylist()}
        pairs = engine.con.sql("SELECT DISTINCT account_id, other_account_id "
                               "FROM portfolio_account_pairs").fetchall()
        authors = engine.con.sql("SELECT account_id FROM portfolio_item_authors").fetchall()
    assert authors == [("victim",)]
    assert f["victim"]["portfolio_image_near_duplicate_account_count"] == 3  # still shown
    assert f["victim"]["portfolio_confirmed_match_account_count"] == 0
    assert f["victim"]["direct_link_confirmed_account_count"] == 0
    assert f["copy"]["portfolio_confirmed_match_account_count"] == 1
    assert f["copy"]["direct_link_confirmed_account_count"] == 1
    assert f["front"]["portfolio_confirmed_match_account_count"] == 1
    assert not any("victim" in pair for pair in pairs)
    assert {("copy", "bad"), ("front", "mate"), ("mate", "front")} <= set(pairs)


def test_copy_added_after_t_is_ignored():
    tables = make_tables(portfolio_items=[
        item("a", "a1", image_phash=BASE, url="github.com/x", description=STORE,
             added_at=datetime(2025, 3, 1)),
        item("b", "b1", image_phash=BASE, url="github.com/x", description=STORE,
             added_at=datetime(2025, 12, 2)),
    ])
    before = compute(tables, "2025-12-01")
    assert before["a"]["portfolio_image_near_duplicate_account_count"] == 0
    assert before["a"]["portfolio_link_shared_account_count"] == 0
    assert before["a"]["portfolio_text_near_duplicate_account_count"] == 0
    assert before["b"]["portfolio_item_count"] == 0
    after = compute(tables, "2025-12-03")
    assert after["a"]["portfolio_image_near_duplicate_account_count"] == 1
    assert after["a"]["portfolio_text_near_duplicate_account_count"] == 1


def test_profile_photos_near_duplicates_and_unknown_photo():
    tables = make_tables(accounts=[
        {"account_id": "a", "profile_photo_phash": BASE},
        {"account_id": "b", "profile_photo_phash": flipped(5)},
        {"account_id": "c", "profile_photo_phash": SIX_AWAY},
        {"account_id": "d"},
        {"account_id": "new", "profile_photo_phash": BASE, "created_at": datetime(2025, 12, 2)},
    ])
    f = compute(tables, "2025-12-01")
    assert f["a"]["profile_photo_near_duplicate_account_count"] == 1  # new did not exist yet
    assert f["b"]["profile_photo_near_duplicate_account_count"] == 1
    assert f["c"]["profile_photo_near_duplicate_account_count"] == 0
    assert f["d"]["profile_photo_near_duplicate_account_count"] is None
    # Without a portfolio table the portfolio signals are unknown, not zero.
    assert f["a"]["portfolio_item_count"] is None
    assert f["a"]["portfolio_link_shared_account_count"] is None
    assert f["a"]["portfolio_copy_newer_ratio"] is None


def test_pair_table_for_the_identity_graph(monkeypatch):
    tables = make_tables(
        accounts=[{"account_id": "a", "profile_photo_phash": BASE},
                  {"account_id": "b", "profile_photo_phash": BASE}],
        portfolio_items=[item("a", "a1", url="github.com/x", image_phash=flipped(3)),
                         item("b", "b1", url="github.com/x/"),
                         item("c", "c1", image_phash=flipped(4))],
    )
    with DuckDBEngine() as engine:
        assert load_tables(tables, engine, now=NOW).usable
        monkeypatch.setattr(engine, "drop", lambda names: None)
        build_features(engine, "2025-12-01")
        rows = engine.con.sql("SELECT account_id, other_account_id, link_kind "
                              "FROM portfolio_account_pairs").fetchall()
    assert sorted(rows) == sorted([
        ("a", "b", "profile_photo"), ("b", "a", "profile_photo"),
        ("a", "b", "portfolio_link"), ("b", "a", "portfolio_link"),
        ("a", "c", "portfolio_image"), ("c", "a", "portfolio_image"),
    ])
