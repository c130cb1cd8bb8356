"""Decisions on an account's linked accounts (its ring) show on its case report and in
``explain --json``."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
from typer.testing import CliRunner

from accountrisk.plugin.cli import app
from tests.review.conftest import GENERATED_AS_OF

runner = CliRunner()


def test_linked_decisions_show_in_explain_json_and_the_case_report(generated, tmp_path):
    root, data = generated
    rings: dict[str, list[str]] = {}
    for row in pq.read_table(data / "ground_truth.parquet").to_pylist():
        if row["ring_id"]:
            rings.setdefault(row["ring_id"], []).append(row["account_id"])
    members = max(rings.values(), key=len)
    subject, others = members[0], members[1:]
    sheet = tmp_path / "decided.csv"
    sheet.write_text("account_id,decision,decided_at\n" + "".join(
        f"{a},confirmed_fronting,2026-09-12T08:00:00Z\n" for a in others), encoding="utf-8")
    work = tmp_path / "work"
    done = runner.invoke(app, ["review", "--import", str(sheet), "--reviewer", "r.lee",
                               "--workdir", str(work), "--data", str(data)])
    assert done.exit_code == 0, done.output
    shown = runner.invoke(app, ["explain", str(data), subject, "--as-of", GENERATED_AS_OF,
                                "--model", str(root / "model"), "--json", "--workdir",
                                str(work), "--html", str(tmp_path / "case.html")])
    assert shown.exit_code == 0, shown.output
    out = json.loads(shown.stdout)
    assert out["decisions"] == []
    linked = {d["account_id"]: d for d in out["linked_decisions"]}
    assert linked and set(linked) <= set(others)
    one = next(iter(linked.values()))
    assert (one["decision"], one["reviewer"]) == ("confirmed_fronting", "r.lee")
    assert one["decided_at"].startswith("2026-09-12T08:00")
    page = (tmp_path / "case.html").read_text()
    assert f"{one['account_id']} was confirmed on 2026-09-12 by r.lee" in page
