"""Every stage emits exactly its declared features: its SQL names its columns as the
features, in declaration order, after ``account_id``."""

from __future__ import annotations

from dataclasses import replace

from accountrisk.features.registry import build_registry
from accountrisk.features.signals import FAMILIES
from tests.features import golden


def test_each_stage_emits_its_features_by_name(tmp_path):
    registry = build_registry(FAMILIES)
    emitted: dict[str, list[str]] = {}

    def recording(stage):
        def build(ctx):
            sql = stage.build(ctx)
            if sql:
                emitted[stage.name] = ctx.arrow(f"SELECT * FROM ({sql}) AS s LIMIT 0").column_names
            return sql
        return build

    for name, stage in list(registry.stages.items()):
        registry.stages[name] = replace(stage, build=recording(stage))
    golden.features_of(golden.generate_marketplace(tmp_path, "classic"), registry=registry)

    first_phase = {s.name: s for s in registry.stages.values() if not s.reads_base_features}
    assert set(emitted) - {"neighbour_aggregates"} == {n for n, s in first_phase.items()
                                                        if s.features}
    for name, columns in emitted.items():
        if name in first_phase:
            assert columns == ["account_id", *(f.name for f in first_phase[name].features)], name
