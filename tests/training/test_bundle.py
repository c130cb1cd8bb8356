"""The model directory: round trip, tamper detection, feature-set check, no pickle."""

from __future__ import annotations

import json

import numpy as np
import pytest

from accountrisk.features.errors import BundleError, FeatureSetMismatch
from accountrisk.features.registry import FEATURE_SET_VERSION
from accountrisk.training.bundle import (
    CHECKSUMS_FILE,
    METADATA_FILE,
    MODEL_FILE,
    read_bundle,
    write_bundle,
)
from accountrisk.training.predict import score_rows
from accountrisk.training.rules import RULES, rules_to_json


def _model_text() -> tuple[str, list[str]]:
    import lightgbm as lgb

    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 2))
    y = (x[:, 0] > 0).astype(float)
    names = ["payout_shared_account_count", "session_count"]
    params = {"objective": "binary", "verbosity": -1, "num_threads": 1, "seed": 0,
              "deterministic": True, "force_row_wise": True, "num_leaves": 4}
    booster = lgb.train(params, lgb.Dataset(x, y, feature_name=names), num_boost_round=5)
    return booster.model_to_string(), names


def _metadata(features: list[str], kind: str = "model", version: str = FEATURE_SET_VERSION):
    return {"kind": kind, "features": features, "categories": {},
            "feature_set_version": version, "calibration": {"method": "platt", "a": 1.0,
                                                            "b": 0.0},
            "bands": [{"name": "high", "share": 0.01, "raw_threshold": 1.0}],
            "reasons": {f: f"{f} is {{value}}" for f in features}, "rules": rules_to_json(),
            "metrics": {"validation": {"model": {"pr_auc": float("nan")}}}, "threads": 1}


def test_round_trip_and_files(tmp_path):
    text, names = _model_text()
    write_bundle(tmp_path / "m", _metadata(names), text)
    files = sorted(p.name for p in (tmp_path / "m").iterdir())
    assert files == sorted([MODEL_FILE, METADATA_FILE, CHECKSUMS_FILE])  # no pickle
    bundle = read_bundle(tmp_path / "m")
    assert bundle.kind == "model" and bundle.features == names
    # NaN metrics are written as JSON null: strict JSON.
    meta = json.loads((tmp_path / "m" / METADATA_FILE).read_text())
    assert meta["metrics"]["validation"]["model"]["pr_auc"] is None
    rows = {"account_id": ["a", "b"], "session_count": [1.0, 2.0],
            "payout_shared_account_count": [3.0, -3.0]}
    out = score_rows(bundle, rows)
    assert out["account_id"] == ["a", "b"] and len(out["score"]) == 2


@pytest.mark.parametrize("victim", [MODEL_FILE, METADATA_FILE])
def test_tampering_is_detected(tmp_path, victim):
    text, names = _model_text()
    path = write_bundle(tmp_path / "m", _metadata(names), text)
    with (path / victim).open("a", encoding="utf-8") as handle:
        handle.write(" ")
    with pytest.raises(BundleError, match="changed after the model was written"):
        read_bundle(path)


def test_missing_files_are_reported(tmp_path):
    text, names = _model_text()
    path = write_bundle(tmp_path / "m", _metadata(names), text)
    (path / MODEL_FILE).unlink()
    with pytest.raises(BundleError, match="missing"):
        read_bundle(path)
    with pytest.raises(BundleError, match="not a model directory"):
        read_bundle(tmp_path)


def test_other_feature_set_version_is_refused(tmp_path):
    text, names = _model_text()
    path = write_bundle(tmp_path / "m", _metadata(names, version="0-old"), text)
    with pytest.raises(FeatureSetMismatch, match="feature-set version 0-old"):
        read_bundle(path)
    assert read_bundle(path, check_feature_set=False).kind == "model"


def test_rules_bundle_has_no_model_file(tmp_path):
    features = [r.feature for r in RULES]
    path = write_bundle(tmp_path / "r", {**_metadata(features, kind="rules"),
                                         "calibration": {"method": "identity"}})
    assert not (path / MODEL_FILE).exists()
    bundle = read_bundle(path)
    assert bundle.booster is None
    rows = {f: [0.0, 5.0] for f in features}
    out = score_rows(bundle, rows)
    assert out["score"][0] == 0.0 and out["score"][1] > 0.9
    assert out["reasons"][0] == "" and out["reasons"][1].count(";") == 2  # top three rules
    with pytest.raises(BundleError):
        write_bundle(tmp_path / "bad", _metadata(features, kind="rules"), "text")
