"""Decisions by CLI and CSV become labels of the next training set and show on case
reports and ``explain --json``; CSV errors are reported by row with nothing recorded; the
merge with the marketplace's labels is point in time; the queue skips decided accounts."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from accountrisk.features.engines import open_engine
from accountrisk.plugin.cli import app
from accountrisk.training.api import prepare, train
from accountrisk.training.dataset import latest_decisions
from accountrisk.training.review import open_store
from tests.training.market import AS_OF, small_market, write_folder

runner = CliRunner()
T = AS_OF.strftime("%Y-%m-%d")


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("review")
    tables = small_market(seed=4, accounts=240)
    data = write_folder(tables, root / "data")
    labelled = set(tables["labels"].column("account_id").to_pylist())
    free = [a for a in tables["accounts"].column("account_id").to_pylist()
            if a not in labelled]
    train(data, AS_OF, model_dir=root / "model", workdir=root / "work", register=False,
          plots=False, snapshot_days=60)
    return data, root / "model", root / "work", root, free, tables


def _run(*args: object):
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result


def _labels(data, work, as_of) -> dict[str, float]:
    with open_engine("duckdb", data_dir=data, workdir=work) as engine:
        found = latest_decisions(engine, as_of)
    return dict(zip(found["account_id"].tolist(), found["label"].tolist()))


def test_cli_and_csv_decisions_become_labels_and_show_on_reports(setup):
    data, model, work, root, free, _ = setup
    confirmed, cleared = free[0], free[1]
    _run("review", confirmed, "--decision", "confirmed_fronting", "--reviewer", "r.lee",
         "--note", "same payout as a ring", "--decided-at", "2025-06-01T10:00:00Z",
         "--workdir", work, "--data", data)
    sheet = root / "filled.csv"
    sheet.write_text("account_id,score,decision,reviewer,decided_at\n"
                     f"{cleared},0.2,cleared,r.kim,2025-07-01T09:00:00Z\n"
                     f"{free[2]},0.1,,,\n", encoding="utf-8")
    done = _run("review", "--import", sheet, "--workdir", work)
    assert "recorded 1 decisions" in done.stdout and "1 rows without a decision" in done.stdout
    again = _run("review", "--import", sheet, "--workdir", work)
    assert "imported before" in again.stdout
    assert len(open_store(work).read()) == 2

    ts = prepare(data, AS_OF, workdir=work, snapshot_days=60)
    rows = ts.labelled()
    label_of = dict(zip(rows.column("account_id").to_pylist(),
                        rows.column("_label").to_pylist()))
    assert label_of[confirmed] == 1.0 and label_of[cleared] == 0.0

    shown = _run("explain", data, confirmed, "--model", model, "--as-of", T, "--json",
                 "--workdir", work, "--html", root / "case.html")
    out = json.loads(shown.stdout)
    assert [(d["decision"], d["reviewer"]) for d in out["decisions"]] == \
        [("confirmed_fronting", "r.lee")]
    assert out["decisions"][0]["decided_at"].startswith("2025-06-01T10:00")
    page = (root / "case.html").read_text()
    assert f"{confirmed} was confirmed on 2025-06-01 by r.lee" in page


def test_csv_errors_are_reported_by_row_and_nothing_is_recorded(setup):
    data, _, work, root, free, _ = setup
    before = len(open_store(work).read())
    sheet = root / "bad.csv"
    sheet.write_text("account_id,decision,reviewer\n"
                     f"{free[5]},cleared,r.lee\n"
                     "nobody,cleared,r.lee\n"
                     f"{free[6]},fraud,r.lee\n"
                     f"{free[7]},cleared,\n"
                     f"{free[8]},cleared,r.lee\n"
                     f"{free[8]},confirmed_fronting,r.lee\n", encoding="utf-8")
    bad = runner.invoke(app, ["review", "--import", str(sheet), "--workdir", str(work),
                              "--data", str(data)])
    assert bad.exit_code == 1
    text = " ".join(bad.output.split())
    assert "4 problem(s); nothing was recorded" in text
    assert "row 3: account 'nobody' is not in the loaded work directory" in text
    assert "row 4: decision 'fraud' is unknown" in text
    assert "row 5: no reviewer" in text
    assert "row 7: account" in text and "conflicts with row 6" in text
    assert "row 2" not in text
    assert len(open_store(work).read()) == before
    unknown = runner.invoke(app, ["review", "nobody", "--decision", "cleared", "--reviewer",
                                  "r.lee", "--workdir", str(work)])
    assert unknown.exit_code == 1 and "not in the loaded work directory" in unknown.output
    wrong = runner.invoke(app, ["review", free[5], "--decision", "fraud", "--reviewer",
                                "r.lee", "--workdir", str(work)])
    assert wrong.exit_code == 1 and "unknown decision 'fraud'" in wrong.output
    assert len(open_store(work).read()) == before


def test_decision_labels_are_point_in_time_and_the_latest_wins(setup):
    data, _, work, _, free, tables = setup
    labels = tables["labels"].to_pylist()
    marked = next(r for r in labels if r["label"] == 1)
    who, when = marked["account_id"], marked["decided_at"]
    cleared_at = when.replace(microsecond=0) + timedelta(days=10)
    _run("review", who, "--decision", "cleared", "--reviewer", "r.lee", "--decided-at",
         cleared_at.isoformat(), "--workdir", work)
    fresh = free[10]
    _run("review", fresh, "--decision", "confirmed_fronting", "--reviewer", "r.lee",
         "--decided-at", "2025-11-15", "--workdir", work)
    _run("review", fresh, "--decision", "escalated", "--reviewer", "r.kim",
         "--decided-at", "2025-11-20", "--workdir", work)
    # the marketplace's confirmation stands until the reviewer's later clearing
    assert _labels(data, work, when + timedelta(days=5))[who] == 1.0
    assert _labels(data, work, cleared_at + timedelta(seconds=1))[who] == 0.0
    # a decision counts only from its time on; "escalated" is not a label
    assert fresh not in _labels(data, work, datetime(2025, 11, 15))
    assert _labels(data, work, AS_OF)[fresh] == 1.0


def test_queue_skips_decided_accounts_until_the_score_changes(setup):
    data, model, work, root, _, _ = setup
    out = root / "queue1"
    _run("queue", data, "--model", model, "--as-of", T, "--top", 3, "--out", out,
         "--workdir", work)
    queue = pcsv.read_csv(out / "queue.csv")
    assert {"decision", "reviewer", "note"} <= set(queue.column_names)
    first = queue.column("account_id").to_pylist()[0]
    rows = queue.to_pylist()
    lines = ["account_id,score,band,decision,reviewer"]
    lines += [f"{r['account_id']},{r['score']},{r['band'] or ''},"
              f"{'cleared' if r['account_id'] == first else ''},r.lee" for r in rows]
    (root / "q.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    _run("review", "--import", root / "q.csv", "--workdir", work)
    stored = [d for d in open_store(work).read() if d.account_id == first][-1]
    assert stored.score == pytest.approx(rows[0]["score"]) and stored.model_version
    # decided now, i.e. after T: the queue as of T still shows it; a later as-of skips it
    later = "2027-01-01"
    out2 = root / "queue2"
    _run("queue", data, "--model", model, "--as-of", later, "--top", 3, "--out", out2,
         "--workdir", work)
    again = pq.read_table(out2 / "queue.parquet").column("account_id").to_pylist()
    assert first not in again
    assert len(again) == 3  # the next account takes the freed place


def test_reopened_by_score_band_and_new_evidence():
    from types import SimpleNamespace as NS

    from accountrisk.training.review.queue_rule import reopened_by
    from accountrisk.training.review.store import Decision

    bands = ["high", "elevated"]
    d = Decision("a", "cleared", "r", datetime(2025, 1, 1), score=0.30, band="elevated",
                 reason_features=("f1",))
    reason = NS(feature="f1", direction="raises")
    assert reopened_by(d, NS(score=0.34, band="elevated", reasons=[reason]), bands) is None
    assert "score rose" in reopened_by(d, NS(score=0.36, band="elevated", reasons=[]), bands)
    assert "band rose" in reopened_by(d, NS(score=0.31, band="high", reasons=[]), bands)
    new = NS(feature="f2", direction="raises")
    assert "new evidence: f2" in reopened_by(d, NS(score=0.3, band="elevated",
                                                   reasons=[reason, new]), bands)
    open_case = Decision("a", "escalated", "r", datetime(2025, 1, 1))
    assert reopened_by(open_case, NS(score=0.1, band="", reasons=[]), bands)


def test_history_names_linked_accounts():
    from accountrisk.training.review.history import history_of
    from accountrisk.training.review.store import Decision

    rows = [Decision("u0000042", "confirmed_fronting", "r.lee", datetime(2026, 9, 12)),
            Decision("u1", "cleared", "r.kim", datetime(2026, 9, 1)),
            Decision("u9", "cleared", "r.kim", datetime(2026, 9, 1))]
    found = history_of(rows, "u1", ["u0000042"], before=datetime(2026, 10, 1))
    assert [d["sentence"] for d in found["linked"]] == \
        ["u0000042 was confirmed on 2026-09-12 by r.lee"]
    assert [d["reviewer"] for d in found["account"]] == ["r.kim"]
    assert history_of(rows, "u1", ["u0000042"], before=datetime(2026, 9, 5))["linked"] == []
