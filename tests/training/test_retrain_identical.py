"""Retraining from the raw folder is reproducible: two `train` runs with the same folder,
seed and as-of, each loading into its own work directory, write the same model file and the
same fingerprints."""

from __future__ import annotations

import json

from accountrisk.training.api import train
from tests.training.market import AS_OF, small_market, write_folder


def test_two_trainings_from_the_raw_folder_write_the_same_model(tmp_path):
    data = write_folder(small_market(seed=3, accounts=300), tmp_path / "data")
    runs = []
    for name in ("first", "second"):
        result = train(data, AS_OF, model_dir=tmp_path / name / "model",
                       workdir=tmp_path / name / "work", register=False, plots=False,
                       snapshot_days=60, seed=5)
        assert result.kind == "model"
        runs.append(tmp_path / name / "model")
    first, second = runs
    assert (first / "model.txt").read_bytes() == (second / "model.txt").read_bytes()
    meta = [json.loads((run / "metadata.json").read_text())["training"] for run in runs]
    assert meta[0]["data_fingerprint"] == meta[1]["data_fingerprint"]
    assert meta[0]["folder_fingerprint"] == meta[1]["folder_fingerprint"]
