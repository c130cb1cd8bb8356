"""The collaborators' ranking: risk concentrated in an entity, not its size."""

from __future__ import annotations

import json
from datetime import datetime

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from accountrisk.features.engine import DuckDBEngine
from accountrisk.features.errors import UsageError
from accountrisk.features.load import load_tables
from accountrisk.plugin import Facilitator, RiskScorer, rank_facilitators
from accountrisk.plugin.cli import app
from accountrisk.scoring.facilitators import rank_entities
from tests.conftest import NOW, make_tables

AS_OF = datetime(2025, 12, 1)
FRONTS = [f"f{i}" for i in range(4)]
AGENCY = [f"g{i:02d}" for i in range(40)]
OTHERS = [f"o{i:03d}" for i in range(200)]


def _market():
    tables = make_tables(
        accounts=[{"account_id": a} for a in FRONTS + AGENCY + OTHERS + ["boss"]],
        payout_methods=(
            [{"account_id": a, "payout_token": "farm-pay"} for a in FRONTS]
            + [{"account_id": a, "payout_token": "agency-pay"} for a in AGENCY]
            # added after T: not yet shared
            + [{"account_id": "o000", "payout_token": "farm-pay",
                "added_at": datetime(2026, 1, 5)}]),
        payouts=[{"account_id": a, "payout_token": "farm-pay", "amount_usd": 250.0}
                 for a in FRONTS],
        contracts=[{"contract_id": f"k{i}", "client_account_id": "boss",
                    "freelancer_account_id": a, "billed_usd": 40.0}
                   for i, a in enumerate(FRONTS[:3])],
        labels=[{"account_id": "f0", "label": 1, "decided_at": datetime(2025, 6, 1)},
                {"account_id": "g00", "label": 0, "decided_at": datetime(2025, 6, 1)}])
    scores = {a: 0.9 for a in FRONTS} | {a: 0.02 for a in AGENCY + OTHERS} | {"boss": 0.3}
    bands = {a: ("high" if s > 0.5 else "") for a, s in scores.items()}
    frame = pa.table({"account_id": list(scores), "score": list(scores.values()),
                      "band": [bands[a] for a in scores]})
    return tables, frame


def test_a_facilitator_outranks_a_bigger_honest_hub():
    tables, frame = _market()
    with DuckDBEngine() as engine:
        assert load_tables(tables, engine, now=NOW).usable
        found = rank_entities(engine.con, frame, AS_OF, top=10)
    by_key = {(f.kind, f.entity_key): f for f in found}
    farm = by_key[("payout", "farm-pay")]
    assert found[0] is farm
    assert farm.account_count == 4  # o000 added the destination after T
    assert (farm.confirmed_count, farm.banded_account_count, farm.honest_share) == (1, 4, 0.0)
    assert farm.money_usd == 1000.0
    assert [a.account_id for a in farm.accounts][0] == "f0"  # confirmed: risk 1, first
    assert farm.accounts[0].is_confirmed
    assert farm.entity.startswith("pay_") and "farm-pay" not in farm.entity
    hub = by_key[("payout", "agency-pay")]
    assert hub.account_count == 40 and hub.honest_share == 1.0 and hub.cleared_count == 1
    assert hub.risk_mass < 0 < farm.risk_mass and hub.rank_score <= 0
    client = by_key[("client", "boss")]
    assert client.account_count == 3 and client.money_usd == 120.0
    assert [f.rank_score for f in found] == sorted((f.rank_score for f in found), reverse=True)


def test_kinds_and_top_are_checked(tmp_path):
    with pytest.raises(UsageError, match="unknown entity kind"):
        rank_facilitators(None, tmp_path, AS_OF, kinds=("wallet",))
    with pytest.raises(UsageError, match="top must be at least 1"):
        rank_facilitators(None, tmp_path, AS_OF, top=0)


def test_facilitators_command_and_api_agree(tmp_path):
    from accountrisk.synthetic import generate
    from accountrisk.training.api import train

    data, T = tmp_path / "data", datetime(2026, 9, 1)
    generate(data, accounts=2000, seed=5)
    train(data, T, model_dir=tmp_path / "model", workdir=tmp_path / "work", register=False,
          plots=False, snapshot_days=90)
    scorer = RiskScorer.load(tmp_path / "model")
    found = rank_facilitators(scorer, data, T, workdir=tmp_path / "work", top=5)
    assert len(found) == 5 and all(isinstance(f, Facilitator) for f in found)
    assert found[0].banded_account_count > 0 and found[0].honest_share < 0.5
    out = tmp_path / "f.json"
    result = CliRunner().invoke(app, ["facilitators", str(data), "--as-of", T.isoformat(),
                                      "--model", str(tmp_path / "model"), "--top", "5",
                                      "--out", str(out), "--workdir", str(tmp_path / "work")])
    assert result.exit_code == 0, result.output
    written = json.loads(out.read_text())
    assert [f["entity_key"] for f in written] == [f.entity_key for f in found]
    assert "ranked by excess risk" in result.stdout
    bad = CliRunner().invoke(app, ["facilitators", str(data), "--as-of", T.isoformat(),
                                   "--model", str(tmp_path / "model"), "--out",
                                   str(tmp_path / "f.txt")])
    assert bad.exit_code != 0


def test_the_case_report_says_whom_its_entities_serve():
    from accountrisk.plugin.report_html import render_case_report
    from accountrisk.scoring.facilitators import entities_of_accounts
    from accountrisk.scoring.models import AccountScore

    tables, _ = _market()
    with DuckDBEngine() as engine:
        assert load_tables(tables, engine, now=NOW).usable
        found = entities_of_accounts(engine.con, AS_OF, ["f1", "o001"])
    assert "o001" not in found  # it shares nothing
    payout = next(e for e in found["f1"] if e["kind"] == "payout")
    assert (payout["account_count"], payout["confirmed_count"]) == (4, 1)
    client = next(e for e in found["f1"] if e["kind"] == "client")
    assert client["entity"] == "boss" and client["money_usd"] == 120.0
    score = AccountScore(account_id="f1", score=0.9, band="high", model_version="1",
                         feature_set_version="1", as_of=AS_OF)
    page = render_case_report(score, account=None, timeline=None, ring=None,
                              expected_log_odds=None, entities=found["f1"])
    assert "serves 4 accounts (this one included), 1 of them confirmed fraudulent" in page
    assert "farm-pay" not in page  # tokens are shortened
