"""Feature values are exactly the golden ones (see :mod:`tests.features.golden`): the
guard of refactorings that must not change what any signal computes."""

from __future__ import annotations

import json

import pytest

from tests.features import golden

EXPECTED = json.loads(golden.GOLDEN.read_text())


def test_golden_file_is_for_the_same_time_and_marketplaces():
    assert EXPECTED["as_of"] == golden.AS_OF
    assert set(EXPECTED["marketplaces"]) == set(golden.MARKETPLACES)


@pytest.mark.parametrize("name", sorted(golden.MARKETPLACES))
def test_feature_values_are_the_golden_ones(name, tmp_path):
    table = golden.features_of(golden.generate_marketplace(tmp_path, name))
    got = golden.digest(table)
    expected = EXPECTED["marketplaces"][name]
    assert golden.differences(expected, got) == []
