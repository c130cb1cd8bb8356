"""A small trained model and its feature rows, shared by the scorer's tests."""

from __future__ import annotations

import pytest

from accountrisk.training.api import train
from tests.training.market import AS_OF, small_market, write_folder


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A small marketplace, its model directory and work directory (trained once)."""
    root = tmp_path_factory.mktemp("scorer")
    data = write_folder(small_market(seed=0, accounts=300), root / "data")
    result = train(data, AS_OF, model_dir=root / "model", workdir=root / "work",
                   register=False, plots=False, snapshot_days=60)
    assert result.kind == "model"
    return data, root / "model", root / "work"


@pytest.fixture(scope="module")
def features(trained):
    """Every account's feature rows as of ``AS_OF``."""
    from accountrisk.features.api import compute_features

    data, _, work = trained
    return compute_features(data, AS_OF, workdir=work)
