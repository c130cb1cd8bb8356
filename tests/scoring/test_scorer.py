"""RiskScorer: loading (directory and registry), scoring, reasons, threads, imports."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pyarrow as pa
import pytest

from accountrisk.features.errors import (
    AccountRiskError,
    BundleError,
    ContractError,
    FeatureSetMismatch,
    UsageError,
)
from accountrisk.scoring import scorer as scorer_module
from accountrisk.scoring.evidence_tools import MAX_LISTED_ACCOUNTS
from accountrisk.scoring.models import Evidence, LinkedAccount, Reason
from accountrisk.scoring.scorer import ModelLoadError, RiskScorer, reason_text
from accountrisk.training.model import contributions, margin, model_contributions
from tests.training.market import AS_OF


def test_load_directory_and_score_features(trained, features):
    _, model, _ = trained
    scorer = RiskScorer.load(model)
    batch = scorer.score_features(features, as_of=AS_OF, explain=5)
    frame = batch.frame
    assert frame.num_rows == features.num_rows
    assert {"account_id", "score", "band", "reasons"} <= set(frame.column_names)
    scores = np.array(frame.column("score").to_pylist())
    assert ((scores >= 0) & (scores <= 1)).all()
    assert len(batch.explained) == 5
    top5 = set(frame.sort_by([("score", "descending")]).column("account_id")
               .to_pylist()[:5])
    assert set(batch.explained) == top5 or \
        min(batch.explained[a].score for a in batch.explained) >= sorted(scores)[-5]
    result = next(iter(batch.explained.values()))
    assert result.feature_set_version == scorer.feature_set_version
    assert result.model_version and result.as_of.year == AS_OF.year
    assert result.reasons and all(r.sentence for r in result.reasons)
    # An unexplained account is still a full result, without reasons.
    other = next(a for a in frame.column("account_id").to_pylist() if a not in batch.explained)
    assert batch.score(other).reasons == []


def test_waterfall_adds_up_and_reasons_are_the_largest(trained, features):
    scorer = RiskScorer.load(trained[1])
    batch = scorer.score_features(features, as_of=AS_OF, explain=True)
    x = scorer_module.feature_matrix(features, scorer.features, scorer.categories)
    bundle = scorer.bundle
    assert bundle.prior is not None  # the red flags added on top of the trees
    contrib = model_contributions(bundle.booster, bundle.prior, x, scorer.features, 1)
    raw = margin(bundle.booster, bundle.prior, x, scorer.features, 1)
    assert np.allclose(contrib.sum(axis=1), raw)
    assert not np.allclose(raw, bundle.booster.predict(x, raw_score=True))
    ids = features.column("account_id").to_pylist()
    for i in range(0, len(ids), 37):
        result = batch.explained[ids[i]]
        assert result.raw_log_odds == pytest.approx(raw[i], abs=1e-9)
        ups = [r for r in result.reasons if r.direction == "raises"]
        expected = sorted((c for c in contrib[i, :-1] if c > 0), reverse=True)[:3]
        assert [r.contribution_log_odds for r in ups] == pytest.approx(expected)
        for r in ups:
            assert r.contribution_probability >= 0


def test_input_frames_and_column_order_do_not_matter(trained, features):
    import polars as pl

    scorer = RiskScorer.load(trained[1])
    base = scorer.score_features(features, as_of=AS_OF, explain=False).frame
    shuffled = features.select(list(reversed(features.column_names)))
    for table in (shuffled, features.to_pandas(), pl.from_arrow(features)):
        frame = scorer.score_features(table, as_of=AS_OF, explain=False).frame
        assert frame.column("score").to_pylist() == base.column("score").to_pylist()
        assert frame.column("band").to_pylist() == base.column("band").to_pylist()
    as_polars = scorer.score_features(pl.from_arrow(features), as_of=AS_OF,
                                      explain=False).to_polars()
    assert isinstance(as_polars, pl.DataFrame)
    assert as_polars["score"].to_list() == base.column("score").to_pylist()


def test_fast_matrix_equals_the_training_matrix(trained, features):
    scorer = RiskScorer.load(trained[1])
    assert scorer.categories  # the small market has a category attribute
    ours = scorer._matrix(features)
    theirs = scorer_module.feature_matrix(features, scorer.features, scorer.categories)
    assert np.array_equal(ours, theirs, equal_nan=True)


def test_a_handful_of_rows_scores_as_in_a_large_batch(trained, features):
    # Up to FEW_ROWS rows take a shortcut (one conversion of every numeric column); it must
    # give the full path's matrix, scores and reasons, with NULLs, an integer column and
    # an unknown category among the rows, and reject a NaN the same way.
    from accountrisk.scoring._feature_rows import FEW_ROWS, few_rows

    scorer = RiskScorer.load(trained[1])
    numeric = [f for f in scorer.features if f not in scorer.categories]
    category = next(iter(scorer.categories))
    rows = features.slice(0, FEW_ROWS + 20)
    nulls = rows.column(numeric[0]).to_pylist()
    nulls[1] = nulls[3] = None
    rows = rows.set_column(rows.column_names.index(numeric[0]), numeric[0],
                           pa.array(nulls, pa.float64()))
    flags = rows.column(numeric[1]).cast(pa.float64()).fill_null(0).to_numpy()
    rows = rows.set_column(rows.column_names.index(numeric[1]), numeric[1],
                           pa.array(np.round(flags).astype(np.int64)))
    texts = rows.column(category).to_pylist()
    texts[2] = "never seen in training"
    rows = rows.set_column(rows.column_names.index(category), category,
                           pa.array(texts, pa.string()))
    few = rows.slice(0, 10)
    assert np.array_equal(scorer._matrix(few, few_rows(few, scorer.features, scorer._codes)),
                          scorer_module.feature_matrix(few, scorer.features,
                                                       scorer.categories), equal_nan=True)
    alone = scorer.score_features(few, as_of=AS_OF)
    among = scorer.score_features(rows, as_of=AS_OF)
    assert alone.frame.equals(among.frame.slice(0, 10))
    for account in few.column("account_id").to_pylist():
        assert alone.explained[account] == among.explained[account]
    values = few.column(numeric[2]).cast(pa.float64()).to_pylist()
    values[4] = float("inf")
    bad = few.set_column(few.column_names.index(numeric[2]), numeric[2],
                         pa.array(values, pa.float64()))
    with pytest.raises(ContractError, match=f"column {numeric[2]}: 1 values are not a "
                                            "finite number .* in rows 4"):
        scorer.score_features(bad, as_of=AS_OF)


def test_missing_feature_column_is_an_error(trained, features):
    scorer = RiskScorer.load(trained[1])
    with pytest.raises(AccountRiskError, match="lack"):
        scorer.score_features(features.drop([scorer.features[0]]), as_of=AS_OF)


def test_non_finite_features_and_missing_ids_are_rejected_together(trained, features):
    scorer = RiskScorer.load(trained[1])
    numeric = next(f for f in scorer.features if f not in scorer.categories)
    values = features.column(numeric).cast(pa.float64()).to_pylist()
    values[2], values[7] = float("nan"), float("-inf")
    bad = features.set_column(features.column_names.index(numeric), numeric,
                              pa.array(values, pa.float64())).drop(["account_id"])
    with pytest.raises(ContractError) as raised:
        scorer.score_features(bad, as_of=AS_OF)
    message = str(raised.value)
    assert "account_id is missing" in message
    assert f"column {numeric}: 2 values are not a finite number" in message
    assert "rows 2, 7" in message and "nothing was scored" in message
    # NULL is a missing value the model handles, not an error.
    values[2] = values[7] = None
    nulls = features.set_column(features.column_names.index(numeric), numeric,
                                pa.array(values, pa.float64()))
    assert scorer.score_features(nulls, as_of=AS_OF, explain=False).frame.num_rows == len(values)


def test_lowering_reasons_are_shown_when_large(trained, features, monkeypatch):
    monkeypatch.setattr(scorer_module, "LOWERS_THRESHOLD", 1e-9)
    scorer = RiskScorer.load(trained[1])
    batch = scorer.score_features(features, as_of=AS_OF, explain=True)
    lows = [r for s in batch.explained.values() for r in s.reasons if r.direction == "lowers"]
    assert lows and all(r.contribution_log_odds < 0 for r in lows)
    assert all(r.contribution_probability <= 0 for r in lows)


def test_band_and_id_selection(trained, features):
    scorer = RiskScorer.load(trained[1])
    batch = scorer.score_features(features, as_of=AS_OF, explain="elevated")
    bands = dict(zip(batch.frame.column("account_id").to_pylist(),
                     batch.frame.column("band").to_pylist()))
    assert {a for a, b in bands.items() if b in ("high", "elevated")} == set(batch.explained)
    one = features.column("account_id")[7].as_py()
    batch = scorer.score_features(features, as_of=AS_OF, explain=False, explain_accounts=[one])
    assert list(batch.explained) == [one]
    both = scorer.score_features(features, as_of=AS_OF, explain=3, explain_accounts=[one])
    assert set(both.explained) == set(scorer.score_features(
        features, as_of=AS_OF, explain=3).explained) | {one}


@pytest.mark.parametrize("wrong", ["hgih", "Elevated", "u0000042", ["u1"], -1])
def test_an_unknown_band_is_an_error_that_lists_the_bands(trained, features, wrong):
    scorer = RiskScorer.load(trained[1])
    with pytest.raises(UsageError) as error:
        scorer.score_features(features, as_of=AS_OF, explain=wrong)
    if isinstance(wrong, str):
        assert "high, elevated, watch" in str(error.value)


@pytest.mark.parametrize("damage", ["missing", "changed", "feature_set"])
def test_bad_model_directories_fail_clearly(trained, tmp_path, damage):
    import shutil

    model = tmp_path / "model"
    shutil.copytree(trained[1], model)
    if damage == "missing":
        with pytest.raises(ModelLoadError, match="no model"):
            RiskScorer.load(tmp_path / "nowhere")
        return
    meta_path = model / "metadata.json"
    meta = json.loads(meta_path.read_text())
    if damage == "changed":
        meta["bands"] = []
        meta_path.write_text(json.dumps(meta))
        with pytest.raises(BundleError, match="changed"):
            RiskScorer.load(model)
    else:
        from accountrisk.training.bundle import write_bundle

        meta["feature_set_version"] = "0-old"
        write_bundle(model, meta, (model / "model.txt").read_text())
        with pytest.raises(FeatureSetMismatch):
            RiskScorer.load(model)


def test_unknown_registry_model_fails_clearly(tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/mlflow.db")
    with pytest.raises(ModelLoadError, match="could not load"):
        RiskScorer.load("models:/nosuchmodel@champion")


def test_an_unreachable_tracking_server_fails_in_seconds(monkeypatch):
    import socket
    import time

    with socket.socket() as probe:  # a loopback port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("ACCOUNTRISK_REGISTRY_TIMEOUT", "2")
    started = time.monotonic()
    with pytest.raises(ModelLoadError) as raised:
        RiskScorer.load("models:/accountrisk@champion", registry=f"http://127.0.0.1:{port}")
    assert time.monotonic() - started < 10
    message = str(raised.value)
    assert f"http://127.0.0.1:{port}" in message and "did not accept a connection" in message
    assert "MLFLOW_TRACKING_URI" in message


def test_a_tracking_server_that_never_answers_fails_within_the_timeout(monkeypatch):
    import os
    import socket
    import time

    with socket.socket() as silent:  # accepts connections (the backlog), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        store = f"http://127.0.0.1:{silent.getsockname()[1]}"
        monkeypatch.setenv("ACCOUNTRISK_REGISTRY_TIMEOUT", "1")
        monkeypatch.delenv("MLFLOW_HTTP_REQUEST_TIMEOUT", raising=False)
        monkeypatch.delenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", raising=False)
        started = time.monotonic()
        with pytest.raises(ModelLoadError, match="could not load models:/accountrisk@champion"):
            RiskScorer.load("models:/accountrisk@champion", registry=store)
        assert time.monotonic() - started < 30  # MLflow alone: minutes of retries
    # the host's MLflow environment is as it was
    assert "MLFLOW_HTTP_REQUEST_TIMEOUT" not in os.environ
    assert "MLFLOW_HTTP_REQUEST_MAX_RETRIES" not in os.environ


def test_load_from_registry(trained, tmp_path, monkeypatch, features):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/mlflow.db")
    from accountrisk.training.tracking import log_training_run

    meta = json.loads((trained[1] / "metadata.json").read_text())
    log_training_run(trained[1], meta, params={"kind": "model"}, metrics={"x": 1.0})
    scorer = RiskScorer.load("models:/accountrisk@champion")
    assert scorer.model_version == "accountrisk/1"
    local = RiskScorer.load(trained[1])
    a = scorer.score_features(features, as_of=AS_OF, explain=False).frame
    b = local.score_features(features, as_of=AS_OF, explain=False).frame
    assert a.column("score").to_pylist() == b.column("score").to_pylist()


def test_pred_contrib_equals_shap_tree_explainer():
    import lightgbm as lgb
    import shap

    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 5))
    x[rng.random(x.shape) < 0.1] = np.nan
    y = (np.nan_to_num(x[:, 0]) + 0.5 * np.nan_to_num(x[:, 1]) * np.nan_to_num(x[:, 2])
         + rng.normal(scale=0.5, size=400) > 0).astype(float)
    booster = lgb.train({"objective": "binary", "num_leaves": 7, "verbosity": -1,
                         "deterministic": True, "num_threads": 1},
                        lgb.Dataset(x, y), num_boost_round=30)
    ours = contributions(booster, x[:50], 1)
    theirs = shap.TreeExplainer(booster).shap_values(x[:50])
    theirs = theirs[1] if isinstance(theirs, list) else theirs
    assert np.allclose(ours[:, :-1], theirs, atol=1e-6)
    assert np.allclose(ours[:, -1], shap.TreeExplainer(booster).expected_value, atol=1e-6)


def _rounded(value):
    # DuckDB's parallel aggregation may sum floats in another order on each run: feature
    # values (not the scorer) can differ in the last bits between runs.
    if isinstance(value, float):
        return float(f"{value:.9g}")
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value


def test_eight_threads_give_the_same_results_as_one(trained, features):
    data, model, work = trained
    scorer = RiskScorer.load(model)
    from accountrisk.features.workspace import open_database

    with open_database(work) as engine:
        built = scorer.score_database(engine, AS_OF, reasons_for=10)
        want_db = _rounded({a: s.model_dump() for a, s in built.explained.items()})

        def db_call(_):
            got = scorer.score_database(engine, AS_OF, reasons_for=10)
            return _rounded({a: s.model_dump() for a, s in got.explained.items()})

        with ThreadPoolExecutor(8) as pool:
            assert all(r == want_db for r in pool.map(db_call, range(8)))
    want = scorer.score_features(features, as_of=AS_OF, explain=True)

    def call(_):
        return scorer.score_features(features, as_of=AS_OF, explain=True)

    with ThreadPoolExecutor(8) as pool:
        for got in pool.map(call, range(16)):
            assert got.frame.equals(want.frame)
            assert {a: s.model_dump() for a, s in got.explained.items()} == \
                {a: s.model_dump() for a, s in want.explained.items()}


def test_plain_scoring_imports_neither_mlflow_nor_shap(trained, features, tmp_path):
    import pyarrow.parquet as pq

    pq.write_table(features, tmp_path / "f.parquet")
    code = f"""
import sys, pyarrow.parquet as pq
from accountrisk.plugin import RiskScorer
s = RiskScorer.load({str(trained[1])!r})
b = s.score_features(pq.read_table({str(tmp_path / 'f.parquet')!r}), as_of="2025-12-01",
                     explain=True)
assert b.explained
print(sorted(m for m in ("mlflow", "shap") if m in sys.modules))
"""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_score_folder_attaches_evidence_and_names_accounts(trained):
    data, model, work = trained
    batch = RiskScorer.load(model).score_folder(data, AS_OF, workdir=work, reasons_for=3)
    assert len(batch.explained) == 3
    assert any(r.evidence != Evidence() for s in batch.explained.values() for r in s.reasons)
    reason = Reason(feature="shared_payout_account_count", value=6.0,
                    contribution_log_odds=1.2, contribution_probability=0.2,
                    sentence="shares payout destinations with 6 other accounts",
                    direction="raises", evidence=Evidence(accounts=[
                        LinkedAccount(account_id=f"u{i}", link_kind="payout",
                                      is_confirmed_fraud=i < 2) for i in range(6)]))
    assert reason_text(reason) == ("shares payout destinations with 6 other accounts "
                                   "(u0, u1, u2, …; 2 already confirmed)")
    twice = reason.model_copy(update={"evidence": Evidence(accounts=[
        LinkedAccount(account_id="u9", link_kind="portfolio_image", is_confirmed_fraud=True),
        LinkedAccount(account_id="u9", link_kind="portfolio_image", is_confirmed_fraud=True)])})
    assert reason_text(twice).endswith("(u9; 1 already confirmed)")
    # The listed accounts are cut at 25: the count comes from the evidence where it keeps
    # one (78 of 356 co-workers), and says "at least" where the list may have been cut.
    many = [LinkedAccount(account_id=f"c{i:03d}", link_kind="same_task",
                          is_confirmed_fraud=True) for i in range(MAX_LISTED_ACCOUNTS)]
    counted = reason.model_copy(update={"evidence": Evidence(accounts=many, counts={
        "same_task neighbours": 356, "same_task confirmed": 78, "same_task cleared": 40})})
    assert reason_text(counted).endswith("(c000, c001, c002, …; 78 already confirmed)")
    uncounted = reason.model_copy(update={"evidence": Evidence(accounts=many)})
    assert reason_text(uncounted).endswith("…; at least 25 already confirmed)")


def test_frame_reasons_are_text_for_explained_rows(trained, features):
    batch = RiskScorer.load(trained[1]).score_features(features, as_of=AS_OF, explain=2)
    texts = dict(zip(batch.frame.column("account_id").to_pylist(),
                     batch.frame.column("reasons").to_pylist()))
    for account in batch.explained:
        assert texts[account]
    assert sum(1 for t in texts.values() if t) == 2
    assert isinstance(batch.frame, pa.Table)
