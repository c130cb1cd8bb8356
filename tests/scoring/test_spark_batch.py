"""Batch scoring on Spark equals RiskScorer.score_features (the `accountrisk score` frame
without evidence tails), account by account, over several partitions."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from accountrisk.features.errors import AccountRiskError, BundleError, UsageError
from accountrisk.scoring.scorer import RiskScorer
from accountrisk.scoring.spark_batch import (
    OUTPUT_SCHEMA,
    WrittenScores,
    model_text,
    score_spark,
    scorer_from_text,
    write_scores,
)
from accountrisk.training.bundle import write_bundle
from tests.training.market import AS_OF

PARTITIONS = 3
SPARK_TYPES = {pa.string(): "string", pa.float64(): "double"}


@pytest.fixture(scope="module")
def session(spark_engine):
    """The suite's one Spark session (tests/conftest.py)."""
    return spark_engine.spark


@pytest.fixture(scope="module")
def rows(session, features):
    """The feature rows in Spark, spread over several partitions (round robin: each
    partition's rows are out of account order, and batches differ from one big one)."""
    return session.createDataFrame(features).repartition(PARTITIONS)


def _by_account(table: pa.Table) -> dict[str, dict]:
    return {r["account_id"]: r for r in table.to_pylist()}


def _assert_same(got: pa.Table, want: pa.Table) -> None:
    got_rows, want_rows = _by_account(got), _by_account(want)
    assert got.num_rows == want.num_rows and got_rows.keys() == want_rows.keys()
    for account, w in want_rows.items():
        g = got_rows[account]
        assert g["score"] == pytest.approx(w["score"], abs=1e-12, rel=0), account
        assert g["raw_score"] == w["raw_score"], account
        assert (g["band"], g["reasons"]) == (w["band"], w["reasons"]), account


def _tied_k(frame: pa.Table) -> int:
    """A k whose cut falls inside a group of equal scores (ties broken by account_id)."""
    ordered = frame.sort_by([("score", "descending"), ("account_id", "ascending")])
    scores = ordered.column("score").to_pylist()
    ties = [k for k in range(5, len(scores)) if scores[k - 1] == scores[k]]
    assert ties, "the isotonic calibration of the test model gives tied scores"
    return ties[0]


@pytest.mark.spark
def test_columns_and_types_are_the_cli_frame(session, rows, trained, features):
    want = RiskScorer.load(trained[1]).score_features(features, as_of=AS_OF,
                                                      explain="elevated").frame
    got = score_spark(rows, trained[1], as_of=AS_OF)
    assert [(f.name, f.dataType.simpleString()) for f in got.schema.fields] == \
        [(f.name, SPARK_TYPES[f.type]) for f in want.schema]
    assert want.schema.equals(OUTPUT_SCHEMA)
    assert got.rdd.getNumPartitions() == PARTITIONS


@pytest.mark.spark
@pytest.mark.parametrize("choice", ["elevated", "banded", "all", "none", "top-tied",
                                    "top-1", "top-more-than-rows", "ids"])
def test_scores_bands_and_reasons_equal_score_features(session, rows, trained,
                                                       features, choice):
    scorer = RiskScorer.load(trained[1])
    plain = scorer.score_features(features, as_of=AS_OF, explain=False).frame
    ids = features.column("account_id").to_pylist()
    reasons_for = {"top-tied": _tied_k(plain), "top-1": 1, "top-more-than-rows": len(ids) + 5,
                   "ids": False}.get(choice, choice)
    named = [ids[3], ids[150], ids[-1]] if choice == "ids" else None
    want = scorer.score_features(features, as_of=AS_OF, explain=reasons_for,
                                 explain_accounts=named).frame
    got = score_spark(rows, trained[1], as_of=AS_OF, reasons_for=reasons_for,
                      explain_accounts=named).toArrow()
    _assert_same(got, want)
    explained = sum(1 for t in want.column("reasons").to_pylist() if t)
    if named:
        assert explained == len(named)
    elif isinstance(reasons_for, int) and not isinstance(reasons_for, bool):
        assert explained == min(reasons_for, len(ids))
    if choice == "elevated":
        assert 0 < explained < len(ids)


@pytest.mark.spark
def test_the_cli_string_for_top_k_and_a_typo(session, rows, trained, features):
    want = RiskScorer.load(trained[1]).score_features(features, as_of=AS_OF, explain=7).frame
    _assert_same(score_spark(rows, trained[1], as_of=AS_OF, reasons_for="7").toArrow(), want)
    with pytest.raises(UsageError, match="band name"):
        score_spark(rows, trained[1], as_of=AS_OF, reasons_for="elevatde")


@pytest.mark.spark
def test_claimed_zone_and_country_from_contexts(session, rows, trained, features,
                                                tmp_path):
    """A joined contexts DataFrame fills the sentences like score_database's accounts
    lookup: null values are left out (the sentence says "on the profile")."""
    model = tmp_path / "model"
    meta = json.loads((trained[1] / "metadata.json").read_text())
    # Make every reason name the claimed zone and country, so the test sees them used.
    meta["reasons"] = {f: f"{f} is {{value}} ({{claimed_timezone}}, {{claimed_country}})"
                       for f in meta["features"]}
    write_bundle(model, meta, (trained[1] / "model.txt").read_text())
    accounts = pq.read_table(trained[0] / "accounts.parquet",
                             columns=["account_id", "claimed_timezone", "claimed_country"])
    zones = [None if i % 4 == 0 else z for i, z in
             enumerate(accounts.column("claimed_timezone").to_pylist())]
    countries = [None if i % 5 == 0 else c for i, c in
                 enumerate(accounts.column("claimed_country").to_pylist())]
    accounts = pa.table({"account_id": accounts.column("account_id"),
                         "claimed_timezone": pa.array(zones, pa.string()),
                         "claimed_country": pa.array(countries, pa.string())})
    claimed = {r["account_id"]: {k: v for k, v in r.items() if k != "account_id" and v}
               for r in accounts.to_pylist()}
    want = RiskScorer.load(model).score_features(features, as_of=AS_OF, explain="all",
                                                 contexts=claimed).frame
    got = score_spark(rows, model, as_of=AS_OF, reasons_for="all",
                      contexts=session.createDataFrame(accounts).repartition(2)).toArrow()
    _assert_same(got, want)
    texts = " ".join(want.column("reasons").to_pylist())
    assert "America/New_York" in texts and "on the profile" in texts


@pytest.mark.spark
def test_a_corrupt_model_fails_on_the_driver_before_any_job(session, rows, trained,  # noqa
                                                             tmp_path):
    model = tmp_path / "model"
    shutil.copytree(trained[1], model)
    meta = json.loads((model / "metadata.json").read_text())
    meta["bands"] = []
    (model / "metadata.json").write_text(json.dumps(meta))
    context = session.sparkContext
    context.setJobGroup("corrupt-model", "a model that fails to load")
    try:
        with pytest.raises(BundleError, match="changed"):
            score_spark(rows, model, as_of=AS_OF, reasons_for=5)
        assert context.statusTracker().getJobIdsForGroup("corrupt-model") == []
    finally:
        context.setJobGroup(None, None)  # type: ignore[arg-type]


@pytest.mark.spark
def test_write_scores_like_the_cli(session, rows, trained, features, tmp_path):
    import pyarrow.csv as pcsv

    scores = score_spark(rows, trained[1], as_of=AS_OF, reasons_for=10)
    want = RiskScorer.load(trained[1]).score_features(features, as_of=AS_OF, explain=10) \
        .frame.sort_by([("score", "descending"), ("account_id", "ascending")])
    written = write_scores(scores, tmp_path / "out" / "scores.parquet")
    banded = sum(1 for b in want.column("band").to_pylist() if b)
    assert (written.accounts, written.banded, written.with_reasons) == \
        (want.num_rows, banded, 10)
    single = pq.read_table(written.path)
    assert single.schema.equals(want.schema)
    assert single.column("account_id").equals(want.column("account_id"))
    _assert_same(single, want)
    text = pcsv.read_csv(write_scores(scores, tmp_path / "scores.csv").path)
    assert text.column("account_id").to_pylist() == want.column("account_id").to_pylist()
    folder = write_scores(scores, tmp_path / "scores")
    assert folder == WrittenScores(tmp_path / "scores", written.accounts, written.banded, 10)
    parts = pq.read_table(folder.path)
    assert parts.column("account_id").to_pylist() == want.column("account_id").to_pylist()
    with pytest.raises(Exception, match="exists"):
        write_scores(scores, folder.path)
    with pytest.raises(AccountRiskError, match="must end"):
        write_scores(scores, tmp_path / "scores.json")
    write_scores(scores, folder.path, overwrite=True)


def test_model_text_rebuilds_the_same_scorer(trained, features):
    """From the directory's bytes or (registry: the files are gone) from the booster."""
    scorer = RiskScorer.load(trained[1])
    from_files = model_text(scorer)
    assert from_files.model_text == (trained[1] / "model.txt").read_text()
    scorer.bundle.path = Path("/nonexistent/registry-download")
    from_booster = model_text(scorer)
    assert from_booster.model_text == from_files.model_text
    want = scorer.score_features(features, as_of=AS_OF, explain=True).frame
    for text in (from_files, from_booster):
        got = scorer_from_text(text).score_features(features, as_of=AS_OF, explain=True)
        assert got.frame.equals(want)
