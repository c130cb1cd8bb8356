"""Shared fixtures: small hand-made marketplaces written as data folders, and one
prepared training set (feature snapshots are the slow part, so they are built once)."""

from __future__ import annotations

import pytest

from accountrisk.training.api import prepare
from tests.training.market import AS_OF, small_market, write_folder

SNAPSHOT_DAYS = 60  # fewer snapshots keep the tests fast


@pytest.fixture(scope="session")
def market(tmp_path_factory):
    """A labelled marketplace folder and its work directory."""
    root = tmp_path_factory.mktemp("market")
    return write_folder(small_market(seed=0, accounts=300), root / "data"), root / "work"


@pytest.fixture(scope="session")
def unlabelled_market(tmp_path_factory):
    """The same kind of marketplace with no labels at all (cold start)."""
    root = tmp_path_factory.mktemp("cold")
    return write_folder(small_market(seed=1, accounts=200, labels=False), root / "data"), \
        root / "work"


@pytest.fixture(scope="session")
def flipped_market(tmp_path_factory):
    """Labels whose score signal is reversed: a model trained on it ranks backwards."""
    root = tmp_path_factory.mktemp("flipped")
    return write_folder(small_market(seed=2, accounts=300, flip=True), root / "data"), \
        root / "work"


@pytest.fixture(scope="session")
def prepared(market):
    data, work = market
    return prepare(data, AS_OF, workdir=work, snapshot_days=SNAPSHOT_DAYS)
