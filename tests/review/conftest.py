"""A small generated marketplace (rings, links, realistic working hours) and a model
trained on it, shared by the monitor and linked-decision tests."""

from __future__ import annotations

import pytest

from accountrisk.synthetic import generate
from accountrisk.training.api import train

GENERATED_AS_OF = "2026-10-01"


@pytest.fixture(scope="session")
def generated(tmp_path_factory):
    """(root, data folder): ``root/model`` is a model directory trained as of
    GENERATED_AS_OF with ``root/work`` as work directory."""
    root = tmp_path_factory.mktemp("generated")
    data = root / "data"
    generate(data, accounts=1500, seed=5, mode="classic", fronted_share=0.05)
    train(data, GENERATED_AS_OF, model_dir=root / "model", workdir=root / "work",
          register=False, plots=False, snapshot_days=90)
    return root, data
