"""Every kind of bad input is rejected or quarantined with a message naming table, column,
row and value; nothing is dropped silently."""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from accountrisk.features.engine import DuckDBEngine
from accountrisk.features.load import load_folder, load_tables
from tests.conftest import NOW, make_table, make_tables

GOOD = [{"account_id": f"g{i}"} for i in range(6)]


def load(**tables):
    with DuckDBEngine() as engine:
        report = load_tables(make_tables(**tables), engine, now=NOW)
        quarantine = engine.con.sql("SELECT * FROM quarantine").fetchall()
    return report, quarantine


def only(report, reason):
    found = [p for p in report.problems if p.reason == reason]
    assert found, [p.render() for p in report.problems]
    return found


@pytest.mark.parametrize("table,row,column,value,reason", [
    ("accounts", {"claimed_timezone": "Mars/Olympus"}, "claimed_timezone", "Mars/Olympus",
     "bad_timezone"),
    ("accounts", {"claimed_timezone": "america/new_york"}, "claimed_timezone",
     "america/new_york", "bad_timezone"),
    ("accounts", {"claimed_timezone": "+05:45"}, "claimed_timezone", "+05:45", "bad_timezone"),
    ("accounts", {"claimed_country": "us"}, "claimed_country", "us", "bad_country"),
    ("accounts", {"claimed_country": "XX"}, "claimed_country", "XX", "bad_country"),
    ("accounts", {"claimed_country": "USA"}, "claimed_country", "USA", "bad_country"),
    ("accounts", {"profile_photo_phash": "ABCDEF0123456789"}, "profile_photo_phash",
     "ABCDEF0123456789", "bad_phash"),
    ("accounts", {"profile_photo_phash": "abc"}, "profile_photo_phash", "abc", "bad_phash"),
    ("accounts", {"created_at": datetime(1999, 12, 31)}, "created_at", "1999-12-31",
     "bad_timestamp"),
    ("accounts", {"created_at": datetime(2030, 1, 1)}, "created_at", "2030-01-01",
     "bad_timestamp"),
    ("accounts", {"claimed_country": None}, "claimed_country", None, "null_required"),
])
def test_bad_account_values_are_quarantined_with_table_column_row_and_value(
        table, row, column, value, reason):
    report, quarantine = load(accounts=GOOD + [{"account_id": "bad", **row}])
    assert report.usable
    [problem] = only(report, reason)
    assert (problem.table, problem.column, problem.row, problem.account_id) == \
        (table, column, 6, "bad")
    if value is not None:
        assert value in problem.value
    text = problem.render()
    assert f"{table}.{column} row 6" in text and "Fix:" in text
    assert report.loaded_rows["accounts"] == 6
    assert len(quarantine) == 1


@pytest.mark.parametrize("table,row,column,reason", [
    ("sessions", {"ip_type": "satellite"}, "ip_type", "unknown_value"),
    ("sessions", {"browser_utc_offset_min": 900}, "browser_utc_offset_min", "out_of_range"),
    ("sessions", {"ip_token": None}, "ip_token", "null_required"),
    ("activity", {"kind": "Message"}, "kind", "unknown_value"),
    ("payouts", {"amount_usd": -5.0}, "amount_usd", "out_of_range"),
    ("payouts", {"amount_usd": float("nan")}, "amount_usd", "not_finite"),
    ("payouts", {"amount_usd": float("-inf")}, "amount_usd", "not_finite"),
    ("payouts", {"amount_usd": float("inf")}, "amount_usd", "not_finite"),
    ("payout_methods", {"method": "cash"}, "method", "unknown_value"),
    ("labels", {"label": 2}, "label", "out_of_range"),
    ("labels", {"source": "rumour"}, "source", "unknown_value"),
    ("portfolio_items", {"item_id": "i1", "image_phash": "zz" * 8}, "image_phash", "bad_phash"),
])
def test_bad_values_in_other_tables_are_quarantined(table, row, column, reason):
    report, _ = load(accounts=GOOD, **{table: [{"account_id": "g0", **row}]})
    [problem] = only(report, reason)
    assert (problem.table, problem.column, problem.account_id) == (table, column, "g0")
    assert report.loaded_rows[table] == 0
    # one bad row is one problem, counted once: loaded + quarantined = the file's rows
    assert [p for p in report.problems if p.severity == "quarantine"] == [problem]
    assert report.quarantined_total == 1
    if reason == "not_finite":
        assert "not a finite number" in problem.message


def test_rows_for_unknown_or_quarantined_accounts_are_quarantined():
    tables = make_tables(accounts=GOOD + [{"account_id": "bad", "claimed_country": "ZZ"}],
                         sessions=[{"account_id": "g1"}])
    tables["sessions"] = make_table("sessions", [
        {"account_id": "g1"}, {"account_id": "ghost"}, {"account_id": "bad"},
        {"account_id": "g2"}, {"account_id": "g3"}])
    with DuckDBEngine() as engine:
        report = load_tables(tables, engine, now=NOW)
        assert engine.scalar("SELECT count(*) FROM sessions") == 3
    problems = only(report, "unknown_account")
    assert {(p.table, p.account_id, p.row) for p in problems} == \
        {("sessions", "ghost", 1), ("sessions", "bad", 2)}


def test_duplicate_keys_quarantine_every_copy():
    report, _ = load(accounts=GOOD + [{"account_id": "g0"}],
                     portfolio_items=[{"account_id": "g1", "item_id": "x"},
                                      {"account_id": "g2", "item_id": "x"},
                                      {"account_id": "g2", "item_id": "y"}])
    dup = only(report, "duplicate_key")
    assert {(p.table, p.row) for p in dup} == {("accounts", 0), ("accounts", 6),
                                               ("portfolio_items", 0), ("portfolio_items", 1)}
    assert report.loaded_rows == {"accounts": 5, "portfolio_items": 1}


def test_self_links_are_quarantined():
    report, _ = load(accounts=GOOD, account_links=[
        {"account_id": "g0", "other_account_id": "g0"},
        {"account_id": "g0", "other_account_id": "g1"}])
    [problem] = only(report, "self_link")
    assert problem.row == 0 and report.loaded_rows["account_links"] == 1


def test_hostile_text_is_ordinary_data():
    hostile = ["<script>alert(1)</script>", "'; DROP TABLE accounts; --", "x" * 200_000,
               "tab\tnew\nline\x00nul\x1b[31m", "Robert'); DELETE FROM sessions;--"]
    tables = make_tables(
        accounts=[{"account_id": f"h{i}", "display_name": s} for i, s in enumerate(hostile)],
        portfolio_items=[{"account_id": "h0", "item_id": s[:50], "title": s, "url": s,
                          "description": s} for s in hostile])
    with DuckDBEngine() as engine:
        report = load_tables(tables, engine, now=NOW)
        names = [r[0] for r in engine.con.sql(
            "SELECT display_name FROM accounts ORDER BY account_id").fetchall()]
        assert engine.scalar("SELECT count(*) FROM portfolio_items") == len(hostile)
    assert report.usable and not report.problems
    assert names == hostile


def test_hostile_bad_values_print_escaped_and_short():
    report, _ = load(accounts=GOOD + [{"account_id": "evil\n\x1b[2J",
                                       "claimed_country": "Z" * 5000}])
    text = only(report, "bad_country")[0].render()
    assert "\n" not in text and "\x1b" not in text and len(text) < 600


def test_timezone_aware_timestamps_are_converted_to_utc():
    moment = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
    tables = make_tables(accounts=GOOD)
    tables["activity"] = pa.table({
        "account_id": ["g0"], "ts": pa.array([moment], pa.timestamp("us", tz="Asia/Tokyo")),
        "kind": ["message"]})
    with DuckDBEngine() as engine:
        load_tables(tables, engine, now=NOW)
        assert engine.scalar("SELECT ts FROM activity") == datetime(2025, 6, 1, 12, 0)


def test_too_many_bad_rows_reject_the_folder():
    report, _ = load(accounts=GOOD, activity=[{"account_id": "g0", "kind": "nap"}] * 3
                     + [{"account_id": "g0"}])
    [reject] = report.rejections()
    assert reject.table == "activity" and "75%" in reject.message
    assert not report.usable


# -- folder-level problems: the whole folder is rejected ----------------------------------

def write(folder, name, table):
    folder.mkdir(exist_ok=True)
    pq.write_table(table, folder / f"{name}.parquet")


def load_dir(folder):
    with DuckDBEngine() as engine:
        report = load_folder(folder, engine, now=NOW)
        loaded = engine.tables()
    return report, loaded


def test_missing_accounts_file_rejects(tmp_path):
    write(tmp_path, "sessions", make_table("sessions", [{"account_id": "a"}]))
    report, loaded = load_dir(tmp_path)
    [reject] = report.rejections()
    assert reject.reason == "missing_table" and "accounts.parquet" in reject.message
    assert "sessions" not in loaded


def test_missing_required_column_and_wrong_type_reported_together(tmp_path):
    accounts = make_table("accounts", GOOD).drop_columns(["claimed_timezone"])
    write(tmp_path, "accounts", accounts)
    write(tmp_path, "payouts", pa.table({"account_id": ["g0"], "payout_token": ["p"],
                                         "amount_usd": ["12.50"],
                                         "paid_at": [datetime(2025, 1, 1)]}))
    report, loaded = load_dir(tmp_path)
    found = {(p.table, p.column, p.reason) for p in report.rejections()}
    assert found == {("accounts", "claimed_timezone", "missing_column"),
                     ("payouts", "amount_usd", "wrong_type")}
    wrong = [p for p in report.rejections() if p.reason == "wrong_type"][0]
    assert "string" in wrong.message and "a number" in wrong.fix
    assert "accounts" not in loaded


def test_unreadable_file_rejects(tmp_path):
    write(tmp_path, "accounts", make_table("accounts", GOOD))
    (tmp_path / "sessions.parquet").write_text("account_id,started_at\n")
    report, _ = load_dir(tmp_path)
    assert [p.reason for p in report.rejections()] == ["unreadable"]


def test_extras_are_noted_and_optional_parts_may_be_missing(tmp_path):
    accounts = make_table("accounts", GOOD).drop_columns(["profile_photo_phash", "display_name"])
    write(tmp_path, "accounts", accounts.append_column("favourite_color",
                                                       pa.array(["red"] * 6)))
    write(tmp_path, "notes", pa.table({"x": [1]}))
    write(tmp_path, "account_attributes", pa.table({
        "account_id": ["g0", "g1"], "rating": [4.5, None], "id_check": ["passed", "failed"],
        "bad name!": [1, 2], "tags": pa.array([[1], [2]])}))
    report, loaded = load_dir(tmp_path)
    assert report.usable
    reasons = {(p.table, p.column, p.reason) for p in report.problems}
    assert ("accounts", "favourite_color", "extra_column") in reasons
    assert ("notes", None, "extra_file") in reasons
    assert ("account_attributes", "bad name!", "bad_attribute_name") in reasons
    assert ("account_attributes", "tags", "bad_attribute_type") in reasons
    assert {"accounts", "account_attributes"} <= loaded


def test_numeric_attributes_beyond_the_neighbour_cap_are_noted_once(tmp_path):
    from accountrisk.features.signals.neighbours.naming import MAX_ATTRIBUTE_SIGNALS as cap

    write(tmp_path, "accounts", make_table("accounts", GOOD))
    columns = {"account_id": ["g0", "g1"], "level": ["a", "b"]}
    columns |= {f"v{i:02d}": [float(i), 1.0] for i in range(cap + 2)}
    write(tmp_path, "account_attributes", pa.table(columns))
    report, _ = load_dir(tmp_path)
    notes = [p for p in report.problems if p.reason == "attribute_not_aggregated"]
    assert [(p.column, p.severity) for p in notes] == [(f"v{cap:02d}", "note")]
    assert f"2 numeric attribute column(s) after the first {cap}" in notes[0].message


def test_half_precision_columns_are_reported_not_a_crash(tmp_path):
    accounts = make_table("accounts", GOOD)
    attributes = pa.table({"account_id": ["g0", "g1"],
                           "score": pa.array([1.5, 2.5], pa.float16()), "rating": [4.0, 5.0]})
    write(tmp_path, "accounts", accounts)
    write(tmp_path, "account_attributes", attributes)
    with DuckDBEngine() as engine:
        in_memory = load_tables({"accounts": accounts, "account_attributes": attributes},
                                engine, now=NOW)
    for report in (load_dir(tmp_path)[0], in_memory):
        assert report.usable
        [warning] = [p for p in report.problems if p.reason == "bad_attribute_type"]
        assert warning.column == "score" and "float32 or float64" in warning.fix


def test_decisions_dated_at_or_before_sign_up_are_noted_with_the_first_row():
    from datetime import datetime as dt

    report, _ = load(accounts=GOOD, labels=[
        {"account_id": "g0", "decided_at": dt(2025, 3, 1)},  # after sign-up (2025-01-01)
        {"account_id": "g1", "decided_at": dt(2025, 1, 1)},  # at sign-up
        {"account_id": "g2", "decided_at": dt(2024, 6, 1)}])  # before it
    [note] = only(report, "decided_before_created")
    assert (note.severity, note.table, note.column, note.row, note.account_id) == \
        ("note", "labels", "decided_at", 1, "g1")
    assert note.message.startswith("2 of 3 decisions") and report.usable
    report, _ = load(accounts=GOOD, labels=[{"account_id": "g0"}])
    assert not [p for p in report.problems if p.reason == "decided_before_created"]
