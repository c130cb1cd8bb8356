"""The order in which signal families are registered, or their modules imported, changes
nothing: not the stage order, not the columns, not a value."""

from __future__ import annotations

import json
import random
import subprocess
import sys

import pytest

from accountrisk.features.registry import build_registry, default_registry
from accountrisk.features.signals import FAMILIES
from tests.features import golden

SEEDS = (1, 2, 3)


def _shuffled(seed: int) -> list:
    families = list(FAMILIES)
    random.Random(seed).shuffle(families)
    return families


def _shape(registry) -> dict[str, list[str]]:
    return {"stages": [s.name for s in registry.ordered_stages()],
            "features": list(registry.features),
            "patterns": [p.pattern for p in registry.patterns]}


def test_registries_of_shuffled_families_are_the_same():
    expected = _shape(default_registry())
    orders = [_shuffled(seed) for seed in SEEDS] + [list(reversed(FAMILIES))]
    assert len({tuple(f.name for f in order) for order in orders}) == len(orders)
    for order in orders:
        assert _shape(build_registry(order)) == expected


@pytest.fixture(scope="module")
def marketplaces(tmp_path_factory):
    """Classic (every table) and platform (attributes and neighbour patterns)."""
    root = tmp_path_factory.mktemp("order")
    return {name: golden.generate_marketplace(root / name, name)
            for name in ("classic", "platform")}


@pytest.mark.parametrize("name", ["classic", "platform"])
def test_shuffled_registration_gives_the_same_feature_table(marketplaces, name):
    expected = golden.digest(golden.features_of(marketplaces[name]))
    for seed in SEEDS:
        registry = build_registry(_shuffled(seed))
        got = golden.digest(golden.features_of(marketplaces[name], registry=registry))
        assert got["column_order"] == expected["column_order"], seed
        assert golden.differences(expected, got) == [], seed


# Imports the family modules in the given order before the package's own __init__ runs
# (as if its import lines were written in that order), then describes the registry.
_IMPORT_IN_ORDER = """
import importlib, importlib.util, json, sys
spec = importlib.util.find_spec("accountrisk.features.signals")
package = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = package
for name in json.loads(sys.argv[1]):
    importlib.import_module(f"accountrisk.features.signals.{name}")
spec.loader.exec_module(package)
from accountrisk.features.registry import STAGES, default_registry
registry = default_registry()
print(json.dumps({
    "after": {n: sorted(b.name for b in s.after) for n, s in STAGES.items()},
    "stages": [s.name for s in registry.ordered_stages()],
    "features": list(registry.features),
}))
"""


def test_import_order_of_the_family_modules_does_not_matter():
    modules = sorted(f.name for f in FAMILIES)  # what isort makes of the import lines
    registry = default_registry()
    expected = {"after": {n: sorted(b.name for b in s.after)
                          for n, s in registry.stages.items()},
                "stages": [s.name for s in registry.ordered_stages()],
                "features": list(registry.features)}
    assert "portfolio_pair_edges" in expected["after"]["identity_links"]
    assert "portfolio_pair_edges" in expected["after"]["neighbour_edges"]
    for order in (modules, list(reversed(modules))):
        done = subprocess.run([sys.executable, "-c", _IMPORT_IN_ORDER, json.dumps(order)],
                              capture_output=True, text=True, check=True)
        assert json.loads(done.stdout) == expected, order
