"""A pass that wants a few accounts' rows (a training set's older snapshot) lets stages
compute those rows alone; they must equal the rows of a pass over every account, column for
column and bit for bit, on every engine."""

from __future__ import annotations

import inspect
from datetime import datetime, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute  # noqa: F401  (pa.compute)
import pytest

from accountrisk.features import pass_context
from accountrisk.features.engine import DuckDBEngine
from accountrisk.features.load import load_folder
from accountrisk.features.pipeline import TARGETED_MAX_SHARE, build_features
from accountrisk.synthetic import generate
from tests.conftest import NOW

WANTED = "wanted_accounts"
# A table only the targeted proposal search makes: kept to show that path ran.
TARGETED_TABLE = "proposal_text_pairs_near"


@pytest.fixture(scope="module")
def marketplace(tmp_path_factory):
    folder = tmp_path_factory.mktemp("market")
    summary = generate(folder, accounts=1000, seed=11, fronted_share=0.1)
    return folder, datetime.fromisoformat(summary["suggested_as_of"]) - timedelta(days=30)


def _loaded(name: str, folder, request):
    if name == "duckdb":
        engine = DuckDBEngine()
        load_folder(folder, engine, now=NOW + timedelta(days=3650))
        return engine
    from accountrisk.features.spark import load_folder_spark

    engine = request.getfixturevalue("spark_engine")
    load_folder_spark(folder, engine, now=NOW + timedelta(days=3650))
    return engine


@pytest.mark.parametrize("engine_name", ["duckdb", pytest.param("spark", marks=pytest.mark.spark)])
def test_a_few_accounts_rows_equal_those_of_the_whole_pass(engine_name, marketplace, request,
                                                          monkeypatch):
    folder, as_of = marketplace
    # Here the wanted accounts' reach holds about half of the accounts, where the pass
    # would read every row: the test makes it filter whatever the share.
    monkeypatch.setattr(pass_context, "REACH_MAX_SHARE", 1.0)
    engine = _loaded(engine_name, folder, request)
    try:
        whole = build_features(engine, as_of)
        ids = np.array(whole.column("account_id").to_pylist(), dtype=object)
        shared = whole.column("proposal_template_shared_account_count").to_numpy()
        copying = ids[shared > 0]
        assert len(copying) >= 10  # the comparison covers accounts whose texts match
        rest = np.random.default_rng(3).choice(ids[shared == 0], size=80, replace=False)
        wanted = sorted({*copying[:30].tolist(), *rest.tolist()})
        assert len(wanted) <= TARGETED_MAX_SHARE * len(ids)
        engine.create_table_from_arrow(WANTED, pa.table({"account_id": wanted}))
        few = build_features(engine, as_of, accounts=WANTED,
                             keep=(TARGETED_TABLE, pass_context.REACH_TABLE))
        assert int(engine.scalar(f"SELECT count(*) FROM {TARGETED_TABLE}")) > 0
        # The key signals are computed for the wanted accounts and their neighbours only.
        reach = int(engine.scalar(f"SELECT count(*) FROM {pass_context.REACH_TABLE}"))
        assert len(wanted) < reach < len(ids)
        expected = whole.take(pa.array(np.flatnonzero(np.isin(ids, wanted))))
        assert few.column_names == expected.column_names and few.num_rows == len(wanted)
        two_hop = [c for c in few.column_names if c.endswith("_two_hop_confirmed_ratio")]
        assert two_hop and max(pa.compute.max(expected.column(c)).as_py() or 0
                               for c in two_hop) > 0  # neighbours' neighbours are compared
        for name in few.column_names:
            assert few.column(name).equals(expected.column(name)), name
    finally:
        engine.drop([WANTED, TARGETED_TABLE, pass_context.REACH_TABLE])
        if engine_name == "duckdb":
            engine.close()


def test_no_targeted_stage_feeds_the_neighbour_aggregates():
    """Neighbour aggregates read the key signals of every account's neighbours, so a stage
    that computes only the wanted accounts' rows must not emit one."""
    from accountrisk.features.registry import default_registry
    from accountrisk.features.signals.neighbours.naming import KEY_SIGNALS

    registry = default_registry()
    targeted = [s for s in registry.ordered_stages()
                if any(word in inspect.getsource(s.build)
                       for word in ("own_rows(", "targeted=True", "ctx.targets"))]
    assert {s.name for s in targeted} >= {"proposal_templates", "takeover_changes",
                                          "login_hours", "activity_rhythm",
                                          "session_clock_place", "session_routes"}
    emitted = {f.name for f in registry.features.values()
               if f.stage in {s.name for s in targeted}}
    assert not emitted & set(KEY_SIGNALS)


def test_key_signals_computed_for_the_reach_only_have_a_fixed_scale():
    """The neighbour means scale a key signal by its largest value over all accounts unless
    it has a bound; a stage reading reach rows computes it for a few accounts only, so its
    key signals need one (or the targeted and whole passes would scale differently)."""
    from accountrisk.features.registry import default_registry
    from accountrisk.features.signals.neighbours.naming import KEY_SIGNALS, SIGNAL_BOUNDS

    registry = default_registry()
    reach = {s.name for s in registry.ordered_stages()
             if s.reads_reach or "reach_rows(" in inspect.getsource(s.build)}
    assert {"activity_hours", "session_hours", "session_zone_mismatch"} <= reach
    assert all(registry.stages[name].reads_reach for name in reach)
    emitted = {f.name for f in registry.features.values() if f.stage in reach}
    assert emitted & set(KEY_SIGNALS) and emitted & set(KEY_SIGNALS) <= set(SIGNAL_BOUNDS)
