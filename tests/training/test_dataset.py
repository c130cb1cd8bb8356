"""Point-in-time training sets: a decided account's features stop at its decision."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute  # noqa: F401  (pa.compute)
import pytest

from accountrisk.features.engine import DuckDBEngine
from accountrisk.features.load import load_tables
from accountrisk.training.dataset import (
    build_training_set,
    fingerprint,
    is_holdout,
    snapshot_times,
)
from accountrisk.training.snapshots import decision_snapshots
from tests.conftest import NOW, compute, make_tables

T = datetime(2025, 8, 1)


def _sessions(account: str, start: datetime, count: int, every_days: float, **extra):
    return [{"account_id": account, "started_at": start + timedelta(days=i * every_days),
             "ip_token": f"ip-{account}", "ip_type": "residential", **extra}
            for i in range(count)]


def _market():
    """b: confirmed 2025-05-10, yet (against the rules of a ban) still has sessions after
    it, through a VPN and a remote-desktop tool; e: created and decided between two
    snapshots; c: cleared later; d and fillers: never decided."""
    sessions = (_sessions("b", datetime(2025, 2, 1), 6, 14)
                + _sessions("b", datetime(2025, 5, 20), 10, 5, ip_type="vpn",
                            remote_access_tool="anydesk")
                + _sessions("c", datetime(2025, 2, 1), 20, 8)
                + _sessions("d", datetime(2025, 2, 1), 20, 8)
                + _sessions("e", datetime(2025, 5, 6), 2, 1))
    for i in range(6):
        sessions += _sessions(f"f{i}", datetime(2025, 3, 1), 15, 9)
    accounts = [{"account_id": "e", "created_at": datetime(2025, 5, 5)}]
    labels = [{"account_id": "b", "label": 1, "decided_at": datetime(2025, 5, 10)},
              {"account_id": "e", "label": 1, "decided_at": datetime(2025, 5, 9)},
              {"account_id": "c", "label": 0, "decided_at": datetime(2025, 6, 20)},
              {"account_id": "c", "label": 1, "decided_at": datetime(2025, 9, 1)}]  # after T
    return make_tables(accounts=accounts, sessions=sessions, labels=labels)


@pytest.fixture(scope="module")
def training_set():
    with DuckDBEngine() as engine:
        assert load_tables(_market(), engine, now=NOW).usable
        yield build_training_set(engine, T, snapshot_days=30, unlabelled_sample=1000, seed=3)


def _rows(ts, account, labelled=True):
    rows = [r for r in ts.rows.to_pylist() if r["account_id"] == account
            and r["_labelled"] == labelled]
    return rows


def test_snapshots_step_back_from_t_to_the_first_decision():
    snaps = snapshot_times(datetime(2025, 5, 9), T, 30)
    assert snaps[-1] == T
    assert snaps[0] <= datetime(2025, 5, 9) < snaps[1]
    assert all(b - a == timedelta(days=30) for a, b in zip(snaps, snaps[1:]))


def test_banned_account_features_stop_at_its_decision(training_set):
    ts = training_set
    (row,) = _rows(ts, "b")
    snapshot = row["_snapshot"]
    assert snapshot <= datetime(2025, 5, 10) < snapshot + timedelta(days=30)
    assert row["_label"] == 1.0
    expected = compute(_market(), as_of=snapshot)["b"]
    for name in ts.features:
        got, want = row[name], expected[name]
        if isinstance(want, float) and math.isnan(want) or want is None:
            assert got is None or (isinstance(got, float) and math.isnan(got)), name
        else:
            assert got == pytest.approx(want), name
    # Nothing from after the decision: only the six early residential sessions count.
    assert row["session_count"] == 6
    assert row["remote_access_session_ratio"] == 0
    assert row["anonymizer_session_ratio"] == 0


def test_no_row_is_dated_after_its_decision(training_set):
    for row in training_set.rows.to_pylist():
        if row["_labelled"]:
            assert row["_snapshot"] <= row["_decided_at"]


def test_decided_before_existing_at_any_snapshot_is_read_at_its_decision(training_set):
    """e was created and decided between two snapshots: it is read at its decision time,
    with the sessions before it, rather than dropped."""
    ts = training_set
    (row,) = _rows(ts, "e")
    assert row["_snapshot"] == row["_decided_at"] == datetime(2025, 5, 9)
    assert row["session_count"] == 2
    expected = compute(_market(), as_of=datetime(2025, 5, 9))["e"]
    assert row["account_age_days"] == pytest.approx(expected["account_age_days"])
    assert ts.counts["read_at_decision"] == ts.counts["read_confirmed_at_decision"] == 1
    assert ts.counts["dropped_decided_before_first_snapshot"] == 0
    assert ts.counts["dropped_confirmed"] == 0


def test_extra_snapshots_are_the_fewest_decision_times_that_read_every_account():
    day = np.datetime64("2025-01-01", "us")
    created = day + np.array([0, 1, 5, 6, 20, 30], "timedelta64[D]")
    decided = day + np.array([3, 4, 8, 9, 21, 30], "timedelta64[D]")
    missing = np.array([True, True, True, True, True, True])
    read = decision_snapshots(created, decided, missing, limit=10)
    assert list(read[:5]) == list(day + np.array([3, 3, 8, 8, 21], "timedelta64[D]"))
    assert np.isnat(read[5])  # decided when created: it never existed before its decision
    assert np.all(read[:5] <= decided[:5]) and np.all(created[:5] < read[:5])
    kept = decision_snapshots(created, decided, missing, limit=2)  # the two fullest
    assert list(np.isnat(kept)) == [False, False, False, False, True, True]
    none = decision_snapshots(created, decided, ~missing, limit=10)
    assert np.isnat(none).all()


def test_latest_decision_before_t_is_the_label_and_rows_carry_their_time(training_set):
    ts = training_set
    (c,) = _rows(ts, "c")
    assert c["_label"] == 0.0  # the later label 1 is dated after T
    assert c["_time"] == c["_decided_at"] == datetime(2025, 6, 20)
    for row in ts.labelled(False).to_pylist():
        assert row["_time"] == row["_snapshot"]


def test_unlabelled_rows_never_include_accounts_decided_before_t(training_set):
    ts = training_set
    unlabelled = ts.labelled(False).to_pylist()
    assert unlabelled, "the unlabelled sample is empty"
    assert not {"b", "c", "e"} & {r["account_id"] for r in unlabelled}
    assert all(math.isnan(r["_label"]) and r["_weight"] >= 1 for r in unlabelled)
    final_ids = set(ts.final.column("account_id").to_pylist())
    assert "b" not in final_ids  # confirmed before T: not part of the active population
    assert np.all(np.isin(["d"], list(final_ids)))


def test_an_unlabelled_account_is_held_out_at_every_snapshot_or_at_none(training_set):
    rows = training_set.labelled(False).to_pylist()
    held: dict[str, set[bool]] = {}
    for r in rows:
        held.setdefault(r["account_id"], set()).add(r["_holdout"])
        assert r["_holdout"] == is_holdout(r["account_id"], 3)
    assert all(len(flags) == 1 for flags in held.values())
    share = np.mean([is_holdout(f"acct{i}", 3) for i in range(4000)])
    assert 0.45 < share < 0.55


def test_lean_training_set_equals_the_reference_row_for_row(tmp_path):
    """Only the needed accounts' rows leave the engine and per-row derivations are shared
    between snapshots: the rows must be those of every account's features at every
    snapshot, column for column and bit for bit (a generated 1.1 marketplace: texts,
    working hours, graphs and neighbours included)."""
    from accountrisk.features.workspace import open_database
    from accountrisk.synthetic import generate

    summary = generate(tmp_path / "m", accounts=1500, seed=11)
    with open_database(tmp_path / "w") as engine:
        from accountrisk.features.workspace import ensure_loaded
        assert ensure_loaded(engine, tmp_path / "m").usable
        # Off midnight: each snapshot adds its own day's rows to the shared daily counts.
        as_of = datetime.fromisoformat(summary["end"]) - timedelta(hours=5, minutes=30)
        # The population at T is sampled too (250 of about 1,300 active accounts).
        sets = [build_training_set(engine, as_of, snapshot_days=45,
                                   unlabelled_sample=600, seed=5, lean=lean,
                                   population_sample=250)
                for lean in (True, False)]
        leftover = {t for t in engine.tables() if "text_rows" in t or "shingles" in t}
    lean, reference = sets
    assert lean.rows.num_rows > 300 and lean.counts == reference.counts
    assert lean.final.num_rows == 250 < lean.counts["final_active_accounts"]
    assert lean.rows.column_names == reference.rows.column_names
    for mine, theirs in ((lean.rows, reference.rows), (lean.final, reference.final)):
        for name in mine.column_names:
            x, y = mine.column(name), theirs.column(name)
            assert x.is_null().equals(y.is_null()), name
            if pa.types.is_floating(x.type):  # NaN labels: Arrow's equals says NaN != NaN
                assert np.array_equal(x.to_numpy(), y.to_numpy(), equal_nan=True), name
            else:
                assert x.equals(y), name
    columns = lean.rows.column_names
    assert fingerprint(lean.rows, columns) == fingerprint(reference.rows, columns)
    assert not leftover


def test_the_population_at_t_is_a_seeded_sample_when_more_are_active_than_asked():
    with DuckDBEngine() as engine:
        assert load_tables(_market(), engine, now=NOW).usable
        whole = build_training_set(engine, T, unlabelled_sample=1000, seed=3)
        few = [build_training_set(engine, T, unlabelled_sample=1000, seed=3,
                                  population_sample=3) for _ in range(2)]
    everyone = whole.final.column("account_id").to_pylist()
    ids = few[0].final.column("account_id").to_pylist()
    assert len(everyone) > 3 and whole.final_weight == 1.0
    assert len(ids) == 3 and set(ids) <= set(everyone) and ids == sorted(ids)
    assert ids == few[1].final.column("account_id").to_pylist()  # seeded
    assert few[0].final_weight == len(everyone) / 3
    assert few[0].counts["final_active_accounts"] == len(everyone)
    assert few[0].counts["final_sampled_accounts"] == 3
    assert whole.counts["final_sampled_accounts"] == whole.counts["final_active_accounts"]
    # The sample's rows are the accounts' rows, and the training rows do not move.
    picked = whole.final.filter(pa.compute.is_in(whole.final.column("account_id"),
                                                 pa.array(ids)))
    assert few[0].final.equals(picked)
    columns = whole.rows.column_names  # (NaN labels: Arrow's equals says NaN != NaN)
    assert fingerprint(few[0].rows, columns) == fingerprint(whole.rows, columns)


def test_an_empty_population_sample_is_refused_before_any_work(tmp_path):
    from accountrisk.features.errors import UsageError
    from accountrisk.training.api import train

    with pytest.raises(UsageError, match="--population-sample.*at least 1 account"):
        train(tmp_path / "missing", "2025-08-01", population_sample=0, register=False,
              workdir=tmp_path / "w")


def test_decisions_at_one_instant_are_also_read_just_after_it_for_the_flags():
    """An export stamped with one date: 12 confirmed co-workers and 12 cleared ones, all
    decided at one instant. The trees' rows stay before it (no co-worker decided yet), and
    the unlabelled accounts are sampled at that same snapshot. Each of them is also read 1
    microsecond after the instant (``after_instant``): its confirmed co-workers count, its
    own decision does not, and nothing later does (a session after the instant).
    Temporal decisions get no such rows."""
    wave = datetime(2025, 6, 1)
    bad, good = [f"b{i}" for i in range(12)], [f"g{i}" for i in range(12)]
    links = [{"account_id": a, "other_account_id": b, "kind": "co_worked"}
             for group in (bad, good) for a, b in zip(group, group[1:] + group[:1])]
    links.append({"account_id": "b0", "other_account_id": "g0", "kind": "co_worked"})
    others = [f"u{i}" for i in range(6)]
    sessions = [s for a in bad + good + others
                for s in _sessions(a, datetime(2025, 3, 1), 10, 9)]
    sessions += _sessions("b1", wave + timedelta(days=2), 3, 1, ip_type="vpn")
    labels = [{"account_id": a, "label": int(a in bad), "decided_at": wave} for a in bad + good]

    def built(labels):
        with DuckDBEngine() as engine:
            tables = make_tables(sessions=sessions, account_links=links, labels=labels)
            assert load_tables(tables, engine, now=NOW).usable
            return build_training_set(engine, T, snapshot_days=30, unlabelled_sample=50)

    ts = built(labels)
    rows = {r["account_id"]: r for r in ts.labelled().to_pylist()}
    assert set(rows) == set(bad + good)
    (before,) = {r["_snapshot"] for r in rows.values()}
    assert before < wave and rows["b1"]["nbr_co_worked_confirmed_ratio"] == 0
    # The unlabelled accounts are sampled where the decided ones are read, nowhere else.
    unlabelled = ts.labelled(False).to_pylist()
    assert {r["account_id"] for r in unlabelled} == set(others)
    assert all(r["_snapshot"] == before for r in unlabelled)
    assert ts.after_instant is not None
    after = {r["account_id"]: r for r in ts.after_instant.to_pylist()}
    assert set(after) == set(bad + good + others)  # with the unlabelled sampled with them
    assert all(r["_snapshot"] == before for r in after.values())
    ratio = "nbr_co_worked_decided_confirmed_ratio"  # what the red flag reads
    assert after["b1"][ratio] == 1  # b0 and b2, decided with it
    assert after["g0"][ratio] == pytest.approx(1 / 3)  # b0
    assert after["g1"][ratio] == 0
    assert after["b1"]["anonymizer_session_ratio"] == 0  # not the VPN sessions after the wave
    expected = compute(make_tables(sessions=sessions, account_links=links, labels=labels),
                       as_of=wave + timedelta(microseconds=1))
    assert after["b1"][ratio] == expected["b1"][ratio]
    # Only what the flags read is kept of them (an export of millions holds 1.5 million).
    assert "session_count" not in ts.after_instant.column_names
    spread = [{**d, "decided_at": wave - timedelta(days=7 * i)} for i, d in enumerate(labels)]
    temporal = built(spread)
    assert temporal.after_instant is None
    assert all(r["_snapshot"] <= r["_decided_at"] for r in temporal.labelled().to_pylist())


@pytest.mark.parametrize("random_half", [True, False])
def test_trees_read_one_dates_decisions_only_where_they_are_a_random_sample(random_half):
    """240 co-workers in a ring, each tied to its four nearest; half of them decided at one
    instant (confirmed or cleared at random). Decided at random, a decided account sees its
    co-workers decided as often as an undecided one: the trees learn from the rows just
    after the instant, where each sees the others' decisions. Decided as one contiguous
    half (an investigation that took a cluster), they see far more: the rows before it."""
    wave = datetime(2025, 6, 1)
    rng = np.random.default_rng(8)
    ids = [f"a{i:03d}" for i in range(240)]
    links = [{"account_id": ids[i], "other_account_id": ids[(i + k) % 240], "kind": "co_worked"}
             for i in range(240) for k in (1, 2)]
    sessions = [s for a in ids for s in _sessions(a, datetime(2025, 3, 1), 4, 20)]
    chosen = rng.permutation(240)[:120] if random_half else np.arange(120)
    labels = [{"account_id": ids[i], "label": int(rng.random() < 0.3), "decided_at": wave}
              for i in chosen]
    with DuckDBEngine() as engine:
        tables = make_tables(sessions=sessions, account_links=links, labels=labels)
        assert load_tables(tables, engine, now=NOW).usable
        said: list[str] = []
        ts = build_training_set(engine, T, unlabelled_sample=500, say=said.append)
    assert ts.counts["trees_read_after_instant"] == int(random_half)
    assert ts.after_instant is not None
    after = {r["account_id"]: r for r in ts.after_instant.to_pylist()}
    rows = ts.rows.to_pylist()
    assert {r["account_id"] for r in rows} == set(ids)  # every account, decided or sampled
    ratio = "nbr_co_worked_decided_confirmed_ratio"  # what the red flag reads
    seen = [r[ratio] for r in rows]
    if random_half:
        assert seen == [after[r["account_id"]][ratio] for r in rows]
        assert any(seen) and any("random sample" in s for s in said)
    else:
        assert not any(seen)  # before the instant nobody is decided yet
        assert any("rows before the instant" in s for s in said)


def test_too_few_accounts_with_neighbours_never_look_like_a_random_sample():
    from accountrisk.training.decision_sample import MIN_COMPARED, decisions_look_random

    n = MIN_COMPARED - 1
    after = pa.table({"account_id": [f"a{i}" for i in range(2 * n)],
                      "nbr_x_account_count": [1.0] * (2 * n),
                      "nbr_x_confirmed_ratio": [0.5] * (2 * n),
                      "nbr_x_cleared_ratio": [0.0] * (2 * n)})
    random, why = decisions_look_random(after, np.arange(2 * n) < n)
    assert not random and "no relation has enough" in why


def test_decisions_made_at_sign_up_are_dropped_and_the_plan_says_why():
    from accountrisk.training.validation import plan_validation

    tables = make_tables(accounts=[{"account_id": a} for a in "abc"],
                         sessions=_sessions("c", datetime(2025, 2, 1), 5, 5),
                         labels=[{"account_id": a, "decided_at": datetime(2025, 1, 1)}
                                 for a in "ab"])  # the accounts' own created_at
    with DuckDBEngine() as engine:
        assert load_tables(tables, engine, now=NOW).usable
        ts = build_training_set(engine, T, snapshot_days=30, unlabelled_sample=100)
    assert ts.counts["dropped_decided_before_first_snapshot"] == 2
    assert ts.counts.get("read_at_decision", 0) == 0
    plan = plan_validation(ts)
    assert plan.kind == "none" and plan.reason.startswith("none of the 2 decisions")
